//! Partition health on the target: a failed guest stopped, restarted from
//! a pristine image, or the system stopped, as [`crate::health`] decides
//! (docs/health.md).
//!
//! Everything happens on the failed guest's own core: a failure arrives
//! there (its hypercall, its core's watchdog check), and its memory,
//! tables, lines and context are its core's to reset.

use core::fmt::Write;
use core::sync::atomic::Ordering;

use super::boot::PhysicalTables;
use super::{say, Monitor, Platform};
use crate::config::Guest;
use crate::context::{GuestContext, TrapFrame};
use crate::health::{Action, Failure, NEVER};
use crate::state::{bump, CoreState, Role};
use crate::{arch, plan, timing, GuestEntry};

impl<P: Platform, const G: usize, const S: usize> Monitor<P, G, S> {
    /// Starts `slot`'s watchdog over at `now` (global-timer ticks).
    pub(super) fn beat(&self, st: &mut CoreState<S>, slot: usize, now: u64) {
        let gs = &mut st.guests[slot];
        gs.watchdog_due = match gs.guest.health.watchdog_ns {
            0 => NEVER,
            ns => now.saturating_add(timing::ns_to_ticks_ceil(ns, P::CLOCK)),
        };
        st.update_watchdog();
    }

    /// The guest in the processor failed (its hypercall, or its dedicated
    /// core's watchdog): it is restarted, stopped, or the system stops, as
    /// its `on_failure` says. Does not return.
    pub(super) fn fail_current(&self, st: &mut CoreState<S>, failure: Failure) -> ! {
        let slot = st
            .current
            .expect("a failure comes from the guest in the processor");
        let now = self.now_ticks();
        match self.judge(st, slot, failure, now) {
            Action::Restart if st.role == Role::Shared => self.resume_next(st),
            Action::Restart => self.reenter_dedicated(st),
            _ => self.halt(st, st.guests[slot].guest),
        }
    }

    /// A shared core's scheduling event at `now` found a watchdog expired:
    /// every guest of the core whose watchdog has expired fails. A guest in
    /// the processor loses its registers (`st.current` becomes `None`).
    #[cold]
    #[inline(never)]
    pub(super) fn watchdogs(&self, st: &mut CoreState<S>, now: u64) {
        for slot in 0..st.guests.len() {
            if st.guests[slot].watchdog_due > now {
                continue;
            }
            let interval_ns = st.guests[slot].guest.health.watchdog_ns;
            if self.judge(st, slot, Failure::Watchdog { interval_ns }, now) == Action::Stop {
                self.stop_shared(st, slot, now);
            }
        }
        st.update_watchdog();
    }

    /// A dedicated core's timer: its guest's watchdog (and the run's end,
    /// which the caller handled).
    pub(super) fn dedicated_timer(&self, st: &mut CoreState<S>, now: u64) {
        if now >= st.watchdog_due && st.current.is_some() {
            let interval_ns = st.guests[0].guest.health.watchdog_ns;
            self.fail_current(st, Failure::Watchdog { interval_ns });
        }
        let until = match st.watchdog_due {
            NEVER => u64::MAX,
            due => Self::ticks_to_ns(due),
        };
        self.arm_timer(st, until);
    }

    /// Decides on `failure` of the guest in `slot` at `now`, says so on the
    /// console, and carries out a restart (its image restored, its state
    /// reset) or the system's action (the run ends). A restart that cannot
    /// be done (the image no longer checks) is a stop.
    fn judge(&self, st: &mut CoreState<S>, slot: usize, failure: Failure, now: u64) -> Action {
        let g = st.guests[slot].guest;
        let verdict = st.guests[slot]
            .restarts
            .decide(&g.health, failure, Self::ticks_to_ns(now));
        self.guest_console(g, &[], true);
        say!(self, "mvm: guest `{}` {verdict}", g.name);
        match verdict.action {
            Action::System => {
                self.critical.store(true, Ordering::Relaxed);
                self.report_and_end(crate::sysreg::core_id(), Some(st), now)
            }
            Action::Restart if !self.restore(st, slot, now) => Action::Stop,
            action => action,
        }
    }

    /// Stops the guest in `slot` of a shared core for good, at a scheduling
    /// event (not from its own hypercall): its lines off, its server
    /// halted. Ends the run when it was the last guest.
    fn stop_shared(&self, st: &mut CoreState<S>, slot: usize, now: u64) {
        let g = st.guests[slot].guest;
        self.figures[g.id as usize]
            .stopped
            .store(true, Ordering::Relaxed);
        crate::switch::for_each_interrupt(g, |irq| Self::GICD.disable_interrupt(irq.id));
        say!(self, "mvm: guest `{}` halted", g.name);
        st.guests[slot].watchdog_due = NEVER;
        if self.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            say!(self, "mvm: all guests halted");
            self.report_and_end(crate::sysreg::core_id(), Some(st), now);
        }
        if st.current == Some(slot) {
            st.edf.halt_running(Self::ticks_to_ns(now));
            st.current = None;
            if st.unit.vfp_owner == Some(slot) {
                st.unit.vfp_owner = None;
            }
        } else {
            st.edf.halt(slot);
        }
    }

    /// Restarts the guest in `slot` from its pristine image: its lines
    /// disabled and cleared, its memory zeroed, its image copied and
    /// checked, its translation tables, pool and ASIDs reset, a fresh
    /// context, its lines set up as at boot; an SRT guest's server waits
    /// for its next period boundary. False if it cannot be restored.
    fn restore(&self, st: &mut CoreState<S>, slot: usize, now: u64) -> bool {
        let g = st.guests[slot].guest;
        crate::switch::for_each_interrupt(g, |irq| {
            Self::GICD.disable_interrupt(irq.id);
            Self::GICD.clear_pending(irq.id);
        });
        // A restarted Linux binds its notification lines anew.
        self.doorbells
            .reset_reader(self.system.channels, self.system.guests, g.id);
        let sliced = !g.image.in_place.is_empty();
        let (cleared, loaded) = if sliced {
            // Its memory is restored by its server, a slice at a time
            // (`restore_slice`), before its first instruction.
            let cap = match g.server {
                Some(p) => timing::ns_to_ticks_ceil(p.budget / 4, P::CLOCK),
                None => u64::MAX,
            };
            st.guests[slot].restore = Some(crate::restore::Job::new(cap));
            (now, now)
        } else {
            Self::clear_memory(g);
            let cleared = self.now_ticks();
            // The embedded image is copied from the monitor's own image
            // (Secure memory on the ZC702), checked at boot: the copy is
            // not hashed again (0.7 ms for 10 KiB with the compact
            // SHA-256).
            Self::load_image(g);
            (cleared, self.now_ticks())
        };
        let checked = loaded;
        Self::install_tables(g);
        let gs = &mut st.guests[slot];
        gs.shadow = crate::shadow::Shadow::new();
        gs.space = 0;
        gs.boot_space = None;
        gs.asid = g.translation.map_or(0, |t| t.asid);
        if let Some(pool) = g.shadow.filter(|p| p.spaces > 0) {
            // The pool's bookkeeping starts empty: every table of the
            // failed run is free, and the boot space is built again.
            if let Ok(space) =
                gs.shadow
                    .build_boot_space(&pool, &Self::owned(g), &mut PhysicalTables)
            {
                gs.asid = space.asid;
                gs.boot_space = Some(space);
            }
            for asid in pool.asid..pool.asid.saturating_add(pool.spaces as u8) {
                arch::ns_tlb(crate::shadow::Tlb::Asid(asid));
            }
        }
        if let Some(t) = g.translation {
            arch::ns_tlb(crate::shadow::Tlb::Asid(t.asid));
        }
        gs.context = GuestContext::fresh(
            GuestEntry {
                entry: g.image.entry,
                boot_arg: g.image.boot_arg,
            },
            plan::initial_cp15(st.reset_cp15, g, gs.boot_space),
            st.reset_gic,
        );
        self.reset_lines(g);
        if st.current == Some(slot) {
            // Its registers in the processor are dropped, not saved.
            st.current = None;
        }
        if st.role == Role::Shared {
            st.edf.restart_server(slot, Self::ticks_to_ns(now));
        }
        if st.unit.vfp_owner == Some(slot) {
            st.unit.vfp_owner = None;
        }
        bump(&self.figures[g.id as usize].restarts);
        let gs = &mut st.guests[slot];
        gs.restarting_since = now;
        gs.restore_ticks = [
            cleared - now,
            loaded - cleared,
            checked - loaded,
            self.now_ticks() - now,
        ];
        if sliced {
            // No watchdog while it is being restored: it starts at the end.
            st.guests[slot].watchdog_due = NEVER;
            st.update_watchdog();
            if st.role != Role::Shared {
                // Nobody to share the core with: the whole job at once.
                return self.restore_slice(st, slot, u64::MAX);
            }
        } else {
            self.beat(st, slot, now);
        }
        true
    }

    /// Works on the restore job of the guest in `slot` until it is done or
    /// the next step would pass `until` (global-timer ticks): its memory
    /// cleared, its pristine images copied in and checked, then its device
    /// tree copied and its watchdog started. False if an image did not
    /// check: the caller stops the guest.
    pub(super) fn restore_slice(&self, st: &mut CoreState<S>, slot: usize, until: u64) -> bool {
        let g = st.guests[slot].guest;
        let Some(job) = st.guests[slot].restore.as_mut() else {
            return true;
        };
        loop {
            let t0 = self.now_ticks();
            if !job.room(t0, until) {
                return true;
            }
            let step = job.next(g);
            match step {
                crate::restore::Step::Zero { base, len } => {
                    // SAFETY: part of one of the guest's own regions, which
                    // the generator keeps apart from the monitor's
                    // reservation and every other guest, 4 KiB aligned, a
                    // multiple of 64 bytes long; physical (the monitor's
                    // MMU is off); the guest does not run (it is being
                    // restored, on its own core).
                    unsafe { arch::zero(base, len) };
                    let t1 = self.now_ticks();
                    job.took(0, t1 - t0);
                    job.stepped(step, t1 - t0);
                }
                crate::restore::Step::Copy { from, to, len } => {
                    // SAFETY: `from` lies in the pristine copy the board's
                    // loader placed outside every guest's memory (the build
                    // checked it fits its area), `to` in the guest's own
                    // memory (`check_image`); physical; they do not overlap;
                    // the guest does not run.
                    let landed = unsafe {
                        core::ptr::copy_nonoverlapping(
                            from as usize as *const u8,
                            to as usize as *mut u8,
                            len as usize,
                        );
                        core::slice::from_raw_parts(to as usize as *const u8, len as usize)
                    };
                    let t1 = self.now_ticks();
                    job.absorb(landed);
                    let t2 = self.now_ticks();
                    job.took(1, t1 - t0);
                    job.took(2, t2 - t1);
                    job.stepped(step, t2 - t0);
                }
                crate::restore::Step::Check { index } => {
                    if !job.check(g, index) {
                        let p = g.image.in_place[index];
                        say!(
                            self,
                            "mvm: error: guest `{}`: the pristine copy of its {} at [{:#010x}, +{:#x}) is not the one it was built with (SHA-256 differs); it cannot be restarted",
                            g.name,
                            p.what,
                            p.pristine,
                            p.size
                        );
                        st.guests[slot].restore = None;
                        st.guests[slot].restarting_since = 0;
                        return false;
                    }
                }
                crate::restore::Step::Done => {
                    Self::load_image(g);
                    let now = self.now_ticks();
                    let [clear, copy, hash] = job.spent;
                    st.guests[slot].restore_ticks = [clear, copy, hash, clear + copy + hash];
                    st.guests[slot].restore = None;
                    self.beat(st, slot, now);
                    return true;
                }
            }
        }
    }

    /// A shared core's guest whose restore failed stops for good: its
    /// server, EDF's running one, halted; the run ended when it was the
    /// last guest.
    pub(super) fn stop_restoring(&self, st: &mut CoreState<S>, slot: usize) {
        let g = st.guests[slot].guest;
        let now = self.now_ticks();
        self.figures[g.id as usize]
            .stopped
            .store(true, Ordering::Relaxed);
        say!(self, "mvm: guest `{}` halted", g.name);
        st.edf.halt_running(Self::ticks_to_ns(now));
        if self.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            say!(self, "mvm: all guests halted");
            self.report_and_end(crate::sysreg::core_id(), Some(st), now);
        }
    }

    /// Zeroes every region of `guest`.
    fn clear_memory(guest: &Guest) {
        for r in guest.regions {
            // SAFETY: the guest's own regions, which the generator keeps
            // apart from the monitor's reservation and every other guest,
            // 4 KiB aligned; physical (the monitor's MMU is off); the
            // guest does not run (it failed, and this is its core).
            unsafe { arch::zero(r.base, r.size) };
        }
    }

    /// `guest`'s lines as core 0 set them at boot (its lines stay disabled
    /// while it is switched out; a dedicated core's are enabled).
    fn reset_lines(&self, guest: &Guest) {
        // SAFETY: the list is read-only once the cores are released.
        let lines = unsafe { &*self.guarded.0.get() };
        for l in lines.iter().filter(|l| l.guest == guest.id) {
            Self::set_line(&l.line);
            if l.line.always_enabled {
                Self::GICD.enable_interrupt(l.line.irq);
            }
        }
    }

    /// A dedicated core's guest, restored: its fresh context into the
    /// processor (every banked register, CP15, VFP, the GIC CPU interface
    /// as at boot), then its first instruction.
    fn reenter_dedicated(&self, st: &mut CoreState<S>) -> ! {
        let gs = &st.guests[0];
        let mut frame = TrapFrame::default();
        // SAFETY: the processor's Non-secure state is the failed guest's,
        // which is dropped; the fresh context replaces all of it, and the
        // whole Non-secure TLB is invalidated.
        unsafe {
            arch::switch(
                &mut frame,
                None,
                &gs.context,
                crate::switch::Tlb::InvalidateAll,
            )
        };
        if gs.fpu {
            // SAFETY: the VFP registers hold the failed run's values,
            // which are dropped; the monitor is soft-float.
            unsafe { arch::vfp_switch(None, &gs.context.vfp) };
        }
        Self::GICC.set_priority_mask(st.reset_gic.pmr);
        Self::GICC.set_aliased_binary_point(st.reset_gic.abpr);
        st.current = Some(0);
        self.first_instruction(st, 0);
        if st.run_timer || st.watchdog_due != NEVER {
            self.dedicated_timer(st, self.now_ticks());
        }
        // SAFETY: the guest's context was just loaded (banked, CP15, VFP);
        // its frame holds Non-secure SVC at its entry point.
        unsafe { arch::resume(crate::sysreg::core_id(), &frame) }
    }

    /// The guest in `slot`, restarted, is about to run its first
    /// instruction: how long that took since its failure.
    #[cold]
    #[inline(never)]
    pub(super) fn first_instruction(&self, st: &mut CoreState<S>, slot: usize) {
        let gs = &mut st.guests[slot];
        let since = core::mem::take(&mut gs.restarting_since);
        if since == 0 {
            return;
        }
        let ns = Self::ticks_to_ns(self.now_ticks() - since);
        let [clear, load, check, all] = gs.restore_ticks.map(Self::ticks_to_ns);
        say!(
            self,
            "mvm: guest `{}` restarted: its first instruction {ns} ns after its failure; restored in {all} ns (memory cleared in {clear} ns, images copied in {load} ns, checked in {check} ns)",
            gs.guest.name,
        );
    }
}
