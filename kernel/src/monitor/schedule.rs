//! A core's timer, its waits and its EDF decisions.

use core::sync::atomic::Ordering;

use mpcore::gic::Gicc;

use super::{Monitor, Platform, SGI_SNAPSHOT};
use crate::context::TrapFrame;
use crate::state::{CoreState, Role};
use crate::timing;

/// GICC_PMR (Secure view) that lets only priorities 0x00–0x7F through:
/// the Secure half, where the monitor's own lines are (priority 0); every
/// Non-secure priority is 0x80 or more as the Secure side sees it.
const GROUP0_ONLY: u32 = 0x80;

impl<P: Platform, const G: usize, const S: usize> Monitor<P, G, S> {
    /// Asks EDF what runs from `now` on and makes it so: switches guests if
    /// that changed, waits in the monitor while nothing can run, and arms
    /// the timer for the next event. `frame` holds the running guest's
    /// registers on entry and the chosen guest's on return.
    #[inline(always)]
    pub(super) fn reschedule(&self, st: &mut CoreState<S>, frame: &mut TrapFrame, mut now: u64) {
        self.guard(crate::sysreg::core_id(), st);
        if now >= st.watchdog_due {
            self.watchdogs(st, now);
        }
        loop {
            let decision = st.edf.schedule(Self::ticks_to_ns(now));
            if st.trace.on {
                Self::trace_decision(st, Self::ticks_to_ns(now), &decision);
            }
            if let Some((server, _)) = decision.run {
                if st.current != Some(server) {
                    if st.guests[server].restore.is_some() {
                        now = self.restore_for(st, server);
                        continue;
                    }
                    self.switch_to(st, server, frame);
                }
                // The budget contract (docs/schedulability.md): the
                // server's time starts when its guest is about to run, not
                // at the decision. The monitor's path from here to the
                // guest and from the guest's next interruption to the
                // clock reading that charges it (`P::GUEST_EDGE_TICKS`) is
                // the guest's as well, so that it executes its whole budget
                // itself.
                let start = self.now_ticks();
                let until = st.edf.start(Self::ticks_to_ns(start + P::GUEST_EDGE_TICKS));
                self.arm_timer_at(st, until, start);
                return;
            }
            // The shot counts from its programming, not from `now`, which
            // was read before the guard and the decision: armed from that
            // reading it fired their length (hundreds of instructions with
            // guest lines and channels) after the event it was for.
            self.arm_timer(st, decision.until);
            st.idle_since = now;
            self.wait_for_timer(st);
            now = self.now_ticks();
            st.idle_ticks += now - st.idle_since;
            st.idle_since = 0;
        }
    }

    /// Records what the scheduler's counters say happened since the last
    /// decision (releases, misses, budget ends), then the decision.
    #[cold]
    #[inline(never)]
    pub(super) fn trace_decision(st: &mut CoreState<S>, ns: u64, decision: &crate::edf::Decision) {
        use crate::trace::{Event, Kind};
        // SAFETY: this core's own ring, within its monitor entry.
        let ring = unsafe { super::ring(crate::sysreg::core_id()) };
        for server in 0..st.edf.len() {
            let s = st.edf.stats(server);
            st.trace
                .counters(ring, ns, server, [s.jobs, s.misses, s.overruns]);
        }
        let (kind, server) = match decision.run {
            Some((i, crate::edf::Mode::Budget)) => (Kind::Run, i),
            Some((i, crate::edf::Mode::Slack)) => (Kind::Slack, i),
            None => (Kind::Idle, 0),
        };
        ring.record(Event {
            ns,
            kind,
            server: server as u16,
            arg: 0,
        });
    }

    /// EDF chose `server`, whose guest is being restored: its server's
    /// time goes to the restore job instead, until its budget (or slice)
    /// would end, or the run's. Returns the clock then, for the next
    /// decision (which charges the time to the server).
    #[cold]
    #[inline(never)]
    fn restore_for(&self, st: &mut CoreState<S>, server: usize) -> u64 {
        let start = self.now_ticks();
        let until_ns = st.edf.start(Self::ticks_to_ns(start));
        let mut until = match until_ns {
            u64::MAX => u64::MAX,
            ns => timing::ns_to_ticks_ceil(ns, P::CLOCK),
        };
        if st.run_end != 0 {
            until = until.min(st.run_end);
        }
        if !self.restore_slice(st, server, until) {
            self.stop_restoring(st, server);
        }
        let now = self.now_ticks();
        if self.run_end_due(st, now) {
            self.finish_run(crate::sysreg::core_id(), Some(st), now);
        }
        now
    }

    /// Arms this core's private timer for the earlier of the scheduler's
    /// next event (`until_ns`, `u64::MAX` for none) and, on the core that
    /// ends a bounded run, the run's end.
    pub(super) fn arm_timer(&self, st: &mut CoreState<S>, until_ns: u64) {
        self.arm_timer_at(st, until_ns, self.now_ticks());
    }

    /// [`Self::arm_timer`] with the global timer read at `now`.
    #[inline(always)]
    fn arm_timer_at(&self, st: &mut CoreState<S>, until_ns: u64, now: u64) {
        match timing::arm(until_ns, now, st.run_end, P::CLOCK) {
            Some((due, shot)) => {
                if shot.prescaler == 0 && st.timer_running {
                    // Every caller cleared the event flag since it fired.
                    Self::PRIVATE_TIMER.reload(shot.load);
                } else {
                    Self::PRIVATE_TIMER.one_shot_prescaled(shot.prescaler, shot.load);
                    st.timer_running = shot.prescaler == 0;
                }
                st.timer_due = due;
            }
            None => {
                Self::PRIVATE_TIMER.stop();
                st.timer_running = false;
                st.timer_due = 0;
            }
        }
    }

    /// Whether the run ends at `now` (within the last fraction of a
    /// prescaled tick, which is waited out).
    pub(super) fn run_end_due(&self, st: &CoreState<S>, now: u64) -> bool {
        st.run_end != 0 && now + 256 >= st.run_end
    }

    /// Waits in the monitor (WFI, interrupts masked: a pending one still
    /// wakes the core) until this core's private timer fires; answers
    /// figure requests meanwhile, and ends the run when it is due.
    ///
    /// The guest last in the processor keeps its lines enabled while the
    /// monitor waits, and one of them pending would end every WFI at once
    /// (a Secure read of GICC_IAR says 1022 for a Group 1 line, and the
    /// wait would spin until the timer). So the monitor waits with the
    /// priority mask at [`GROUP0_ONLY`]: only its own Group 0 lines
    /// (priority 0) wake it. The guest's mask is put back before the
    /// monitor goes on, and the pending line waits for its guest.
    pub(super) fn wait_for_timer(&self, st: &mut CoreState<S>) {
        let core = crate::sysreg::core_id();
        let guest_mask = Self::GICC.priority_mask();
        Self::GICC.set_priority_mask(GROUP0_ONLY);
        loop {
            crate::arch::wait_for_interrupt();
            let iar = Self::GICC.acknowledge();
            let id = Gicc::interrupt_id(iar);
            if id >= Gicc::SPECIAL_IDS {
                continue;
            }
            Self::GICC.end_of_interrupt(iar);
            if id == SGI_SNAPSHOT {
                self.publish(core, st);
            } else if id == mpcore::IRQ_PRIVATE_TIMER {
                Self::PRIVATE_TIMER.acknowledge();
                Self::GICC.set_priority_mask(guest_mask);
                let now = self.now_ticks();
                st.late.record(st.timer_due, now);
                if self.run_end_due(st, now) {
                    self.finish_run(core, Some(st), now);
                }
                return;
            }
        }
    }

    /// Stops this core for good. The core that times a bounded run keeps
    /// serving its timer, so that the run ends even if its guests halted;
    /// a shared core keeps answering figure requests.
    pub(super) fn park(&self, st: &mut CoreState<S>) -> ! {
        if !st.run_timer && st.role != Role::Shared {
            // A watchdog's timer may be armed: a pending interrupt would
            // keep the parked core's WFI from waiting.
            Self::PRIVATE_TIMER.stop();
            Self::PRIVATE_TIMER.acknowledge();
            Self::GICD.disable_interrupt(mpcore::IRQ_PRIVATE_TIMER);
            Self::GICD.clear_pending(mpcore::IRQ_PRIVATE_TIMER);
            crate::arch::park()
        }
        if st.run_timer {
            self.arm_timer(st, u64::MAX);
        }
        loop {
            self.wait_for_timer(st);
            self.arm_timer(st, u64::MAX);
        }
    }

    /// Stops a core whose monitor faulted: its state is not touched again;
    /// if it times a bounded run, it still ends it.
    pub(super) fn park_faulted(&self, core: u32) -> ! {
        let run_timer =
            self.run_end_ticks.load(Ordering::Relaxed) != 0 && core == self.run_timer_core();
        if !run_timer {
            crate::arch::park()
        }
        let end = self.run_end_ticks.load(Ordering::Relaxed);
        loop {
            let now = self.now_ticks();
            if now >= end {
                self.finish_run(core, None, now);
            }
            let shot = timing::shot_until(end, now);
            Self::PRIVATE_TIMER.one_shot_prescaled(shot.prescaler, shot.load);
            crate::arch::wait_for_interrupt();
            let iar = Self::GICC.acknowledge();
            if Gicc::interrupt_id(iar) < Gicc::SPECIAL_IDS {
                Self::GICC.end_of_interrupt(iar);
            }
            Self::PRIVATE_TIMER.acknowledge();
        }
    }
}
