//! Per-guest and per-core accounting: the STATS record and `mvm-stats` lines.
//!
//! - [`GuestStats`] is what the STATS hypercall copies to the caller (a
//!   fixed sequence of little-endian `u64`, [`GuestStats::BYTES`] long) and
//!   what the monitor prints at the end of a bounded run.
//! - The line formats are a contract for tools: one `mvm-stats` line per
//!   guest and per core, `key=value` pairs separated by single spaces, in a
//!   fixed order. Extra figures go on `mvm-detail` lines.
#![forbid(unsafe_code)]

use core::fmt;

/// What one guest received and cost, since boot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GuestStats {
    /// Jobs released (0 for HRT guests).
    pub jobs: u64,
    /// Jobs that had not received their budget by their deadline.
    pub misses: u64,
    /// Budget time received (HRT: time since the guest's entry).
    pub used_ns: u64,
    /// Idle time received beyond the budget.
    pub slack_ns: u64,
    /// Jobs stopped by budget enforcement while they still wanted to run.
    pub overruns: u64,
    /// Hypercalls (`smc`) the guest made.
    pub smc: u64,
    /// Monitor interrupts (FIQ) taken while the guest ran.
    pub fiq: u64,
    /// Times the guest was switched in after another guest.
    pub switches_in: u64,
    /// Its server's period (0 for HRT guests).
    pub period_ns: u64,
    /// Its server's budget per period (0 for HRT guests).
    pub budget_ns: u64,
    /// When its current job was released, in the TIME hypercall's clock
    /// (0 for HRT guests). Jobs are released every `period_ns` from it, in
    /// both directions: the first at the core's first entry into its
    /// guests.
    pub release_ns: u64,
    /// Times the monitor restarted the guest after a failure
    /// (docs/health.md).
    pub restarts: u64,
}

impl GuestStats {
    /// Sets the figures its EDF server keeps (jobs, misses, used, slack,
    /// overruns).
    pub fn set_server(&mut self, s: &crate::edf::Stats) {
        self.jobs = s.jobs;
        self.misses = s.misses;
        self.used_ns = s.used_ns;
        self.slack_ns = s.slack_ns;
        self.overruns = s.overruns;
    }

    /// Monitor entries attributable to the guest.
    pub fn entries(&self) -> u64 {
        self.smc.saturating_add(self.fiq)
    }

    /// Length of the STATS record.
    pub const BYTES: usize = 12 * 8;

    /// The STATS record: jobs, misses, used_ns, slack_ns, overruns, smc,
    /// fiq, switches_in, period_ns, budget_ns, release_ns, restarts, each a
    /// little-endian `u64`.
    pub fn to_bytes(&self) -> [u8; Self::BYTES] {
        let fields = [
            self.jobs,
            self.misses,
            self.used_ns,
            self.slack_ns,
            self.overruns,
            self.smc,
            self.fiq,
            self.switches_in,
            self.period_ns,
            self.budget_ns,
            self.release_ns,
            self.restarts,
        ];
        let mut out = [0; Self::BYTES];
        for (chunk, f) in out.chunks_exact_mut(8).zip(fields) {
            chunk.copy_from_slice(&f.to_le_bytes());
        }
        out
    }

    /// Reads a STATS record (missing trailing fields read as 0).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let mut f = [0u64; 12];
        for (field, chunk) in f.iter_mut().zip(bytes.chunks_exact(8)) {
            let mut b = [0; 8];
            b.copy_from_slice(chunk);
            *field = u64::from_le_bytes(b);
        }
        let [jobs, misses, used_ns, slack_ns, overruns, smc, fiq, switches_in, period_ns, budget_ns, release_ns, restarts] =
            f;
        GuestStats {
            jobs,
            misses,
            used_ns,
            slack_ns,
            overruns,
            smc,
            fiq,
            switches_in,
            period_ns,
            budget_ns,
            release_ns,
            restarts,
        }
    }
}

/// What one core spent, since boot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CoreStats {
    /// Monitor entries from the guests (SMC and FIQ), not counting the one
    /// that ends a bounded run.
    pub entries: u64,
    /// Time the core waited in the monitor with nothing to run.
    pub idle_ns: u64,
    /// World switches between two different guests.
    pub switches: u64,
    /// Timer interrupts that only ended a bounded run (0 or 1).
    pub run_end: u64,
    /// How late the core took its timer interrupts (expiry to monitor
    /// entry), the worst and the mean.
    pub late_max_ns: u64,
    pub late_mean_ns: u64,
}

/// How late a core takes its timer interrupts: from the global-timer tick
/// the private timer was armed for to the monitor's first reading of the
/// clock after the interrupt. On silicon this is the interrupt latency
/// (tens of cycles); under QEMU it also shows how long the emulator let
/// the other core run before this one (docs/world-switch.md).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lateness {
    pub max_ticks: u32,
    pub sum_ticks: u64,
    pub count: u32,
}

impl Lateness {
    pub const ZERO: Self = Self {
        max_ticks: 0,
        sum_ticks: 0,
        count: 0,
    };

    /// One timer interrupt, due at `due` (global-timer ticks; 0: the timer
    /// was not armed by the scheduler, nothing is recorded) and taken at
    /// `now`. An early one (a prescaled shot rounds down) counts as 0; 32
    /// bits of ticks (42 s at 100 MHz) are plenty for a lateness, and
    /// cheaper on the path every timer interrupt takes.
    #[inline(always)]
    pub fn record(&mut self, due: u64, now: u64) {
        if due == 0 {
            return;
        }
        let late = (now as u32).wrapping_sub(due as u32);
        let late = if late > u32::MAX / 2 { 0 } else { late };
        self.max_ticks = self.max_ticks.max(late);
        self.sum_ticks += late as u64;
        self.count = self.count.wrapping_add(1);
    }

    /// The mean, in ticks, rounded to nearest (0 without samples).
    pub fn mean_ticks(&self) -> u64 {
        if self.count == 0 {
            0
        } else {
            let count = self.count as u64;
            (self.sum_ticks + count / 2) / count
        }
    }
}

/// Exit status of a bounded run (QEMU's exit code): all well.
pub const EXIT_HEALTHY: u32 = 0;
/// Exit status: at least one deadline was missed.
pub const EXIT_DEADLINE_MISSED: u32 = 3;
/// Exit status: a shared core did not publish its figures in time (its
/// monitor is stuck, or the emulator starved it).
pub const EXIT_CORE_SILENT: u32 = 4;
/// Exit status: a fault in the monitor stopped a core.
pub const EXIT_MONITOR_FAULT: u32 = 5;
/// Exit status: a guest was not started, because an image in its memory
/// was not the one its build made.
pub const EXIT_GUEST_REFUSED: u32 = 7;
/// Exit status: a critical guest (`on_failure = "system"`) failed, and
/// the system stopped (docs/health.md).
pub const EXIT_CRITICAL_FAILURE: u32 = 8;
/// Exit status: the monitor panicked (a bug) or could not boot its tables.
pub const EXIT_MONITOR_PANIC: u32 = 101;

/// The verdict on a bounded run: its one summary line and exit status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Deadline misses over every guest.
    pub misses: u64,
    /// Jobs stopped by budget enforcement, over every guest (not a failure:
    /// a server that wants more than its budget is stopped by design).
    pub overruns: u64,
    /// The run's length.
    pub run_ns: u64,
    /// Cores that did not answer the figure request (bit per core).
    pub silent: u8,
    /// Monitor faults during the run.
    pub faults: u32,
    /// Guests not started: an image was not the build's.
    pub refused: u32,
    /// A critical guest failed: the system stopped (docs/health.md).
    pub critical: bool,
}

impl RunSummary {
    /// The worst thing that happened: a monitor fault, then a critical
    /// guest's failure, then a silent core, then a deadline miss.
    pub fn exit_status(&self) -> u32 {
        if self.faults != 0 {
            EXIT_MONITOR_FAULT
        } else if self.critical {
            EXIT_CRITICAL_FAILURE
        } else if self.silent != 0 {
            EXIT_CORE_SILENT
        } else if self.refused != 0 {
            EXIT_GUEST_REFUSED
        } else if self.misses != 0 {
            EXIT_DEADLINE_MISSED
        } else {
            EXIT_HEALTHY
        }
    }
}

/// `mvm: <n> deadline misses, <m> overruns in <time>`, then what else went
/// wrong (`; core 1 did not answer`, `; 1 monitor fault`).
impl fmt::Display for RunSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "mvm: {} deadline {}, {} {} in {}",
            self.misses,
            if self.misses == 1 { "miss" } else { "misses" },
            self.overruns,
            if self.overruns == 1 {
                "overrun"
            } else {
                "overruns"
            },
            Duration(self.run_ns)
        )?;
        for core in 0..8 {
            if self.silent & (1 << core) != 0 {
                write!(f, "; core {core} did not answer")?;
            }
        }
        match self.refused {
            0 => {}
            1 => write!(f, "; 1 guest not started")?,
            n => write!(f, "; {n} guests not started")?,
        }
        if self.critical {
            write!(f, "; a critical guest failed")?;
        }
        match self.faults {
            0 => Ok(()),
            1 => write!(f, "; 1 monitor fault"),
            n => write!(f, "; {n} monitor faults"),
        }
    }
}

/// A time in the largest unit that keeps it short: `2 s`, `1.5 s`,
/// `300 ms`, `12.345 us`, `70 ns` (at most three decimals, trailing zeros
/// dropped; finer parts are cut).
pub struct Duration(pub u64);

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        let (unit, scale) = match ns {
            1_000_000_000.. => ("s", 1_000_000_000),
            1_000_000.. => ("ms", 1_000_000),
            1_000.. => ("us", 1_000),
            _ => return write!(f, "{ns} ns"),
        };
        let whole = ns / scale;
        let mut milli = (ns % scale) / (scale / 1000);
        if milli == 0 {
            return write!(f, "{whole} {unit}");
        }
        let mut digits = 3;
        while milli.is_multiple_of(10) {
            milli /= 10;
            digits -= 1;
        }
        write!(f, "{whole}.{milli:0digits$} {unit}")
    }
}

/// `mvm-stats guest=<name> core=<n> jobs=<n> misses=<n> used_ns=<n>
/// slack_ns=<n> entries=<n>`
pub fn write_guest_line(
    w: &mut impl fmt::Write,
    name: &str,
    core: u32,
    s: &GuestStats,
) -> fmt::Result {
    writeln!(
        w,
        "mvm-stats guest={name} core={core} jobs={} misses={} used_ns={} slack_ns={} entries={}",
        s.jobs,
        s.misses,
        s.used_ns,
        s.slack_ns,
        s.entries()
    )
}

/// `mvm-detail guest=<name> overruns=<n> smc=<n> fiq=<n> switches_in=<n>
/// restarts=<n>`
pub fn write_guest_detail(w: &mut impl fmt::Write, name: &str, s: &GuestStats) -> fmt::Result {
    writeln!(
        w,
        "mvm-detail guest={name} overruns={} smc={} fiq={} switches_in={} restarts={}",
        s.overruns, s.smc, s.fiq, s.switches_in, s.restarts
    )
}

/// `mvm-stats core=<n> entries=<n> idle_ns=<n>`
pub fn write_core_line(w: &mut impl fmt::Write, core: u32, s: &CoreStats) -> fmt::Result {
    writeln!(
        w,
        "mvm-stats core={core} entries={} idle_ns={}",
        s.entries, s.idle_ns
    )
}

/// `mvm-detail core=<n> switches=<n> run_end_entries=<n> late_max_ns=<n>
/// late_mean_ns=<n>`
pub fn write_core_detail(w: &mut impl fmt::Write, core: u32, s: &CoreStats) -> fmt::Result {
    writeln!(
        w,
        "mvm-detail core={core} switches={} run_end_entries={} late_max_ns={} late_mean_ns={}",
        s.switches, s.run_end, s.late_max_ns, s.late_mean_ns
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_the_contract() {
        let g = GuestStats {
            jobs: 100,
            misses: 0,
            used_ns: 300_000_000,
            slack_ns: 5,
            overruns: 7,
            smc: 3,
            fiq: 200,
            switches_in: 99,
            ..GuestStats::default()
        };
        let mut s = String::new();
        write_guest_line(&mut s, "telemetry", 1, &g).unwrap();
        write_guest_detail(&mut s, "telemetry", &g).unwrap();
        let c = CoreStats {
            entries: 203,
            idle_ns: 42,
            switches: 150,
            run_end: 1,
            late_max_ns: 120,
            late_mean_ns: 31,
        };
        write_core_line(&mut s, 1, &c).unwrap();
        write_core_detail(&mut s, 1, &c).unwrap();
        assert_eq!(
            s,
            "mvm-stats guest=telemetry core=1 jobs=100 misses=0 used_ns=300000000 slack_ns=5 entries=203\n\
             mvm-detail guest=telemetry overruns=7 smc=3 fiq=200 switches_in=99 restarts=0\n\
             mvm-stats core=1 entries=203 idle_ns=42\n\
             mvm-detail core=1 switches=150 run_end_entries=1 late_max_ns=120 late_mean_ns=31\n"
        );
    }

    #[test]
    fn lateness_keeps_the_worst_and_the_mean() {
        let mut l = Lateness::ZERO;
        l.record(0, 500);
        assert_eq!(l, Lateness::ZERO, "a timer not armed by the scheduler");
        l.record(100, 103);
        l.record(200, 198);
        l.record(300, 304);
        assert_eq!((l.max_ticks, l.sum_ticks, l.count), (4, 7, 3));
        assert_eq!(l.mean_ticks(), 2, "7/3 rounds to 2");
        l.record(400, 402);
        assert_eq!(l.mean_ticks(), 2, "9/4 = 2.25 rounds to 2");
        l.record(500, 505);
        assert_eq!(l.mean_ticks(), 3, "14/5 = 2.8 rounds to 3, not down to 2");
    }

    #[test]
    fn the_summary_line_and_its_status() {
        let healthy = RunSummary {
            overruns: 1,
            run_ns: 1_000_000_000,
            ..RunSummary::default()
        };
        assert_eq!(
            healthy.to_string(),
            "mvm: 0 deadline misses, 1 overrun in 1 s"
        );
        assert_eq!(healthy.exit_status(), EXIT_HEALTHY);
        let missed = RunSummary {
            misses: 1,
            overruns: 2,
            run_ns: 2_500_000_000,
            ..RunSummary::default()
        };
        assert_eq!(
            missed.to_string(),
            "mvm: 1 deadline miss, 2 overruns in 2.5 s"
        );
        assert_eq!(missed.exit_status(), EXIT_DEADLINE_MISSED);
        let silent = RunSummary {
            silent: 0b10,
            ..missed
        };
        assert_eq!(
            silent.to_string(),
            "mvm: 1 deadline miss, 2 overruns in 2.5 s; core 1 did not answer"
        );
        assert_eq!(silent.exit_status(), EXIT_CORE_SILENT);
        let faulted = RunSummary {
            faults: 2,
            ..silent
        };
        assert!(faulted
            .to_string()
            .ends_with("; core 1 did not answer; 2 monitor faults"));
        assert_eq!(faulted.exit_status(), EXIT_MONITOR_FAULT);
        let refused = RunSummary {
            refused: 1,
            misses: 2,
            ..healthy
        };
        assert!(refused.to_string().ends_with("; 1 guest not started"));
        assert_eq!(refused.exit_status(), EXIT_GUEST_REFUSED);
        let critical = RunSummary {
            critical: true,
            ..missed
        };
        assert_eq!(
            critical.to_string(),
            "mvm: 1 deadline miss, 2 overruns in 2.5 s; a critical guest failed"
        );
        assert_eq!(critical.exit_status(), EXIT_CRITICAL_FAILURE);
    }

    #[test]
    fn durations_are_short() {
        let d = |ns| Duration(ns).to_string();
        assert_eq!(d(70), "70 ns");
        assert_eq!(d(12_345), "12.345 us");
        assert_eq!(d(300_000_000), "300 ms");
        assert_eq!(d(1_500_000_000), "1.5 s");
        assert_eq!(d(2_000_000_070), "2 s");
        assert_eq!(d(1_020_000_000), "1.02 s");
    }

    #[test]
    fn the_record_round_trips_and_truncates() {
        let g = GuestStats {
            jobs: 1,
            misses: 2,
            used_ns: 3,
            slack_ns: 4,
            overruns: 5,
            smc: 6,
            fiq: u64::MAX,
            switches_in: 8,
            period_ns: 9,
            budget_ns: 10,
            release_ns: 11,
            restarts: 12,
        };
        let bytes = g.to_bytes();
        assert_eq!(&bytes[..8], &1u64.to_le_bytes());
        assert_eq!(&bytes[80..88], &11u64.to_le_bytes());
        assert_eq!(&bytes[88..], &12u64.to_le_bytes(), "restarts last");
        assert_eq!(GuestStats::from_bytes(&bytes), g);
        assert_eq!(
            GuestStats::from_bytes(&bytes[..20]),
            GuestStats {
                jobs: 1,
                misses: 2,
                ..GuestStats::default()
            },
            "a short buffer holds whole leading fields only"
        );
        assert_eq!(
            GuestStats::from_bytes(&bytes[..64]),
            GuestStats {
                period_ns: 0,
                budget_ns: 0,
                release_ns: 0,
                restarts: 0,
                ..g
            },
            "the record of before the server's parameters were appended"
        );
        assert_eq!(g.entries(), u64::MAX, "saturates");
    }
}
