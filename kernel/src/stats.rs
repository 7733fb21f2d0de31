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
    pub const BYTES: usize = 11 * 8;

    /// The STATS record: jobs, misses, used_ns, slack_ns, overruns, smc,
    /// fiq, switches_in, period_ns, budget_ns, release_ns, each a
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
        ];
        let mut out = [0; Self::BYTES];
        for (chunk, f) in out.chunks_exact_mut(8).zip(fields) {
            chunk.copy_from_slice(&f.to_le_bytes());
        }
        out
    }

    /// Reads a STATS record (missing trailing fields read as 0).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let mut f = [0u64; 11];
        for (field, chunk) in f.iter_mut().zip(bytes.chunks_exact(8)) {
            let mut b = [0; 8];
            b.copy_from_slice(chunk);
            *field = u64::from_le_bytes(b);
        }
        let [jobs, misses, used_ns, slack_ns, overruns, smc, fiq, switches_in, period_ns, budget_ns, release_ns] =
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

/// `mvm-detail guest=<name> overruns=<n> smc=<n> fiq=<n> switches_in=<n>`
pub fn write_guest_detail(w: &mut impl fmt::Write, name: &str, s: &GuestStats) -> fmt::Result {
    writeln!(
        w,
        "mvm-detail guest={name} overruns={} smc={} fiq={} switches_in={}",
        s.overruns, s.smc, s.fiq, s.switches_in
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

/// `mvm-detail core=<n> switches=<n> run_end_entries=<n>`
pub fn write_core_detail(w: &mut impl fmt::Write, core: u32, s: &CoreStats) -> fmt::Result {
    writeln!(
        w,
        "mvm-detail core={core} switches={} run_end_entries={}",
        s.switches, s.run_end
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
        };
        write_core_line(&mut s, 1, &c).unwrap();
        write_core_detail(&mut s, 1, &c).unwrap();
        assert_eq!(
            s,
            "mvm-stats guest=telemetry core=1 jobs=100 misses=0 used_ns=300000000 slack_ns=5 entries=203\n\
             mvm-detail guest=telemetry overruns=7 smc=3 fiq=200 switches_in=99\n\
             mvm-stats core=1 entries=203 idle_ns=42\n\
             mvm-detail core=1 switches=150 run_end_entries=1\n"
        );
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
        };
        let bytes = g.to_bytes();
        assert_eq!(&bytes[..8], &1u64.to_le_bytes());
        assert_eq!(&bytes[80..], &11u64.to_le_bytes(), "release_ns last");
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
                ..g
            },
            "the record of before the server's parameters were appended"
        );
        assert_eq!(g.entries(), u64::MAX, "saturates");
    }
}
