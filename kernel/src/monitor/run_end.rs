//! The end of a bounded run: every core's figures, then the board's exit.

use core::fmt::Write;
use core::sync::atomic::Ordering;

use super::{Monitor, Platform, SGI_SNAPSHOT, SNAPSHOT_WAIT_NS};
use crate::config::{Guest, Level};
use crate::plan::{self, CoreAction};
use crate::state::{CoreState, Role};
use crate::stats::{self, CoreStats, GuestStats, RunSummary};
use crate::{timing, MAX_CORES};

impl<P: Platform, const G: usize, const S: usize> Monitor<P, G, S> {
    /// The core that times the end of a bounded run.
    pub(super) fn run_timer_core(&self) -> u32 {
        plan::run_timer_core(self.system, Self::max_cores(), S)
    }

    /// Publishes this core's scheduler figures for the core that ends the
    /// run.
    pub(super) fn publish(&self, core: u32, st: &CoreState<S>) {
        if st.trace.on && st.role == Role::Shared {
            // SAFETY: `publish` runs on `core` itself, in a monitor entry.
            let ring = unsafe { super::ring(core) };
            self.with_console(|uart| {
                for e in ring.events() {
                    let _ = crate::trace::write_event(uart, core, e);
                }
                let _ = writeln!(
                    uart,
                    "mvm-trace core={core} events={} dropped={}",
                    ring.events().len(),
                    ring.dropped
                );
            });
        }
        let request = self.request.load(Ordering::Acquire);
        let figures = &self.cores[core as usize];
        if st.role == Role::Shared {
            let now_ticks = self.now_ticks();
            let now = Self::ticks_to_ns(now_ticks);
            for (server, gs) in st.guests.iter().enumerate() {
                self.figures[gs.guest.id as usize].publish(&st.edf.stats_at(server, now));
            }
            // A wait in progress (the run may end during one) counts too.
            let waiting = if st.idle_since != 0 {
                now_ticks.saturating_sub(st.idle_since)
            } else {
                0
            };
            figures
                .idle_ticks
                .store(st.idle_ticks + waiting, Ordering::Relaxed);
            figures.switches.store(st.switches, Ordering::Relaxed);
        }
        figures
            .late_max_ticks
            .store(st.late.max_ticks as u64, Ordering::Relaxed);
        figures
            .late_mean_ticks
            .store(st.late.mean_ticks(), Ordering::Relaxed);
        figures.answered.store(request, Ordering::Release);
    }

    /// The figures of `guest` as published (shared cores) or as counted.
    pub(super) fn guest_stats(&self, guest: &Guest, now: u64) -> GuestStats {
        let f = &self.figures[guest.id as usize];
        let mut s = GuestStats {
            smc: f.smc.load(Ordering::Relaxed) as u64,
            fiq: f.fiq.load(Ordering::Relaxed) as u64,
            switches_in: f.switches_in.load(Ordering::Relaxed) as u64,
            restarts: f.restarts.load(Ordering::Relaxed) as u64,
            ..GuestStats::default()
        };
        if guest.level == Level::Hrt {
            let entry = self.cores[guest.core as usize]
                .entry_ticks
                .load(Ordering::Relaxed);
            if entry != 0 {
                s.used_ns = Self::ticks_to_ns(now.saturating_sub(entry));
            }
        } else {
            s.set_server(&f.published());
        }
        s
    }

    /// The run is over: wait out its last fraction of a tick, collect every
    /// core's figures (another shared core publishes them on request: they
    /// may be a few microseconds older than this core's), print them and
    /// exit. `own` is this core's state, `None` if its monitor faulted.
    pub(super) fn finish_run(&self, core: u32, own: Option<&mut CoreState<S>>, now: u64) -> ! {
        let end = self.run_end_ticks.load(Ordering::Relaxed);
        let mut now = now;
        while now < end {
            now = self.now_ticks();
        }
        self.report_and_end(core, own, now)
    }

    /// The run ends at `now` (its end, or every guest halted): collect
    /// every core's figures, print them and the verdict, and exit.
    pub(super) fn report_and_end(&self, core: u32, own: Option<&mut CoreState<S>>, now: u64) -> ! {
        let request = self.request.load(Ordering::Relaxed).wrapping_add(1);
        self.request.store(request, Ordering::Release);
        let mut asked = 0u8;
        for other in 0..Self::max_cores() {
            if other != core
                && matches!(
                    plan::core_action(self.system, other, S),
                    CoreAction::Edf { .. }
                )
            {
                asked |= 1 << other;
            }
        }
        if asked != 0 {
            Self::GICD.send_secure_sgi(SGI_SNAPSHOT, asked);
        }
        let mut stale = 0u8;
        let own: Option<&mut CoreState<S>> = match own {
            Some(st) => {
                self.publish(core, st);
                Some(st)
            }
            None => {
                stale |= 1 << core;
                None
            }
        };
        let deadline = self.now_ticks() + timing::ns_to_ticks_ceil(SNAPSHOT_WAIT_NS, P::CLOCK);
        for other in 0..Self::max_cores() {
            if asked & (1 << other) == 0 {
                continue;
            }
            while self.cores[other as usize].answered.load(Ordering::Acquire) != request {
                if self.now_ticks() > deadline {
                    stale |= 1 << other;
                    break;
                }
                // Reading the timer is an I/O access, slow under emulation.
                for _ in 0..1000 {
                    core::hint::spin_loop();
                }
            }
        }
        // This core's figures are published: its scheduler may now be
        // driven for the benchmark (the run is over; a copy could be larger
        // than the monitor's stack).
        let bench = own.and_then(|st| self.decision_bench(st));
        for g in self.system.guests {
            self.guest_console(g, &[], true);
        }
        let mut summary = RunSummary {
            run_ns: Self::ticks_to_ns(now),
            silent: stale & !(1 << core),
            faults: self.faults.load(Ordering::Relaxed),
            refused: self
                .figures
                .iter()
                .filter(|f| f.refused.load(Ordering::Relaxed))
                .count() as u32,
            critical: self.critical.load(Ordering::Relaxed),
            ..RunSummary::default()
        };
        self.with_console(|uart| {
            let mut cores = [CoreStats::default(); MAX_CORES];
            for g in self.system.guests {
                let s = self.guest_stats(g, now);
                summary.misses += s.misses;
                summary.overruns += s.overruns;
                if let Some(cs) = cores.get_mut(g.core as usize) {
                    cs.entries += s.entries();
                }
                let _ = stats::write_guest_line(uart, g.name, g.core, &s);
                let _ = stats::write_guest_detail(uart, g.name, &s);
            }
            for (n, cs) in cores
                .iter_mut()
                .enumerate()
                .take(Self::max_cores() as usize)
            {
                let figures = &self.cores[n];
                cs.idle_ns = Self::ticks_to_ns(figures.idle_ticks.load(Ordering::Relaxed));
                cs.switches = figures.switches.load(Ordering::Relaxed);
                cs.run_end = figures.run_end_entries.load(Ordering::Relaxed) as u64;
                cs.late_max_ns = Self::ticks_to_ns(figures.late_max_ticks.load(Ordering::Relaxed));
                cs.late_mean_ns =
                    Self::ticks_to_ns(figures.late_mean_ticks.load(Ordering::Relaxed));
                let _ = stats::write_core_line(uart, n as u32, cs);
                let _ = stats::write_core_detail(uart, n as u32, cs);
                if stale & (1 << n) != 0 {
                    let _ = writeln!(uart, "mvm: core {n} did not answer: its figures are stale");
                }
            }
            if let Some((decisions, ticks)) = bench {
                let _ = writeln!(
                    uart,
                    "mvm-bench core={core} edf_decision_ns={} decisions={decisions}",
                    Self::ticks_to_ns(ticks) / decisions.max(1)
                );
            }
            let _ = write!(uart, "mvm: guest entry after reset:");
            for (n, figures) in self.cores.iter().enumerate() {
                let ticks = figures.entry_ticks.load(Ordering::Relaxed);
                if ticks != 0 {
                    let _ = write!(uart, " core {n} at {} ns", Self::ticks_to_ns(ticks));
                }
            }
            let _ = writeln!(uart);
            let _ = writeln!(uart, "mvm: run ended after {} ns", Self::ticks_to_ns(now));
            let _ = writeln!(uart, "{summary}");
        });
        self.end_run(summary.exit_status())
    }

    /// Ends the run with `status` as the board does, holding the console so
    /// that nothing is printed in between. Not for a core that may hold the
    /// console (panics, faults).
    pub(super) fn end_run(&self, status: u32) -> ! {
        let mut console = self.console.lock();
        match console.uart.as_mut() {
            Some(uart) => P::end_run(uart, status),
            None => {
                // SAFETY: the console was never set up, so no handle exists.
                let mut uart = unsafe { P::console() };
                P::end_run(&mut uart, status)
            }
        }
    }

    /// Times this core's EDF decision alone: its scheduler, driven from
    /// event to event after its figures were published (the run is over). Returns (decisions, global-timer ticks).
    fn decision_bench(&self, st: &mut CoreState<S>) -> Option<(u64, u64)> {
        if st.role != Role::Shared {
            return None;
        }
        let edf = &mut st.edf;
        let mut now = self.now_ns();
        let mut decisions = 0;
        let t0 = self.now_ticks();
        while decisions < 1000 {
            let d = edf.schedule(now);
            decisions += 1;
            if d.until == u64::MAX {
                break;
            }
            now = d.until;
        }
        let elapsed = self.now_ticks() - t0;
        if st.trace.on {
            self.trace_bench(st, now, decisions, elapsed);
        }
        Some((decisions, elapsed))
    }

    /// The trace's cost: the same decisions again with each one traced
    /// (into this core's ring, already printed), per event recorded.
    fn trace_bench(&self, st: &mut CoreState<S>, mut now: u64, decisions: u64, plain: u64) {
        // SAFETY: this core's own ring, in its monitor entry; its events
        // were printed by `publish`.
        let ring = unsafe { super::ring(crate::sysreg::core_id()) };
        ring.clear();
        let t0 = self.now_ticks();
        for _ in 0..decisions {
            let d = st.edf.schedule(now);
            Self::trace_decision(st, now, &d);
            if d.until == u64::MAX {
                break;
            }
            now = d.until;
        }
        let traced = self.now_ticks() - t0;
        // SAFETY: as above.
        let events = unsafe { super::ring(crate::sysreg::core_id()) }
            .events()
            .len() as u64;
        let extra = Self::ticks_to_ns(traced.saturating_sub(plain));
        let _ = self.with_console(|uart| {
            writeln!(
                uart,
                "mvm-bench core={} trace_event_ns={} events={events}",
                crate::sysreg::core_id(),
                extra / events.max(1)
            )
        });
    }
}
