//! Hypercall service: what [`crate::hypercall`] needs from the monitor.

use core::fmt::Write;
use core::sync::atomic::Ordering;

use super::boot::PhysicalTables;
use super::{say, Monitor, Platform};
use crate::config::Guest;
use crate::hypercall::{self, MmuOp, Outcome, Services};
use crate::state::{CoreState, Role};
use crate::stats::GuestStats;
use crate::{arch, sysreg};

/// One hypercall's view of the monitor: the calling core's state.
struct Service<'a, P: Platform, const G: usize, const S: usize> {
    monitor: &'a Monitor<P, G, S>,
    st: &'a mut CoreState<S>,
}

impl<P: Platform, const G: usize, const S: usize> Monitor<P, G, S> {
    /// Serves a hypercall; the null call without the core's state.
    #[inline(always)]
    pub(super) fn serve(&self, regs: &mut [u32; 4]) -> Outcome {
        let function = regs[0];
        hypercall::serve(regs, || {
            // SAFETY: this core's monitor entry (the SMC entry); it ends
            // when the call is served.
            let st = unsafe { self.state(sysreg::core_id()) };
            if st.trace.on {
                self.trace_hypercall(st, function);
            }
            Service { monitor: self, st }
        })
    }

    /// Records a hypercall (the slow path's: the null call is not
    /// traced) in the trace of a shared core.
    #[cold]
    #[inline(never)]
    fn trace_hypercall(&self, st: &mut CoreState<S>, function: u32) {
        if let Some(server) = st.current.filter(|_| st.role == Role::Shared) {
            // SAFETY: this core's own ring, within its monitor entry.
            let ring = unsafe { super::ring(sysreg::core_id()) };
            ring.record(crate::trace::Event {
                ns: self.now_ns(),
                kind: crate::trace::Kind::Hypercall,
                server: server as u16,
                arg: function,
            });
        }
    }

    /// Writes a guest's console bytes, a line at a time, prefixed with its
    /// name.
    pub(super) fn guest_console(&self, guest: &Guest, bytes: &[u8], flush: bool) {
        let mut console = self.console.lock();
        let super::Consoles { uart, lines } = &mut *console;
        let (Some(uart), Some(line)) = (uart.as_mut(), lines.get_mut(guest.id as usize)) else {
            return;
        };
        let emit = |text: &[u8]| {
            let _ = write!(uart, "[{}] ", guest.name);
            P::write_bytes(uart, text);
            P::write_bytes(uart, b"\n");
        };
        if flush {
            line.flush(emit);
        } else {
            line.push(bytes, emit);
        }
    }

    /// Stops `guest`, the one running on this core, for good.
    pub(super) fn halt(&self, st: &mut CoreState<S>, guest: &Guest) -> ! {
        // Its interrupts stay pending and disabled; nobody takes them now.
        self.figures[guest.id as usize]
            .stopped
            .store(true, Ordering::Relaxed);
        crate::switch::for_each_interrupt(guest, |irq| Self::GICD.disable_interrupt(irq.id));
        self.guest_console(guest, &[], true);
        say!(self, "mvm: guest `{}` halted", guest.name);
        if self.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            say!(self, "mvm: all guests halted");
            let now = self.now_ticks();
            self.report_and_end(crate::sysreg::core_id(), Some(st), now);
        }
        if let Some(slot) = st.current {
            st.guests[slot].watchdog_due = crate::health::NEVER;
            st.update_watchdog();
        }
        let halted = st.current.take();
        if st.role != Role::Shared {
            self.park(st)
        }
        st.edf.halt_running(self.now_ns());
        // Nothing of the halted guest is kept: its registers are
        // overwritten by the next guest's without being saved.
        if st.unit.vfp_owner == halted {
            st.unit.vfp_owner = None;
        }
        self.resume_next(st)
    }
}

impl<P: Platform, const G: usize, const S: usize> Services for Service<'_, P, G, S> {
    fn caller(&self) -> &'static Guest {
        self.st
            .running()
            .expect("an SMC comes only from the guest this core entered")
    }

    unsafe fn read_guest_bytes(&mut self, addr: u32, out: &mut [u8]) {
        // SAFETY: the caller checked the range lies in the calling guest's
        // own memory: physical (MMU off), always readable, and holding no
        // monitor data.
        unsafe {
            core::ptr::copy_nonoverlapping(addr as usize as *const u8, out.as_mut_ptr(), out.len())
        }
    }

    unsafe fn write_guest_bytes(&mut self, addr: u32, bytes: &[u8]) {
        // SAFETY: as for `read_guest_bytes`; the caller checked the whole
        // destination range.
        unsafe {
            core::ptr::copy_nonoverlapping(bytes.as_ptr(), addr as usize as *mut u8, bytes.len())
        }
    }

    fn console_write(&mut self, guest: &Guest, bytes: &[u8]) {
        self.monitor.guest_console(guest, bytes, false);
    }

    fn now_ns(&mut self) -> u64 {
        self.monitor.now_ns()
    }

    fn halt(&mut self, guest: &Guest) -> ! {
        self.monitor.halt(self.st, guest)
    }

    fn fail(&mut self, _guest: &Guest, failure: crate::health::Failure) -> ! {
        self.monitor.fail_current(self.st, failure)
    }

    fn power_off(&mut self, guest: &Guest) -> ! {
        let m = self.monitor;
        m.guest_console(guest, &[], true);
        say!(
            m,
            "mvm: guest `{}` powered off (PSCI SYSTEM_OFF)",
            guest.name
        );
        m.halt(self.st, guest)
    }

    fn heartbeat(&mut self, _guest: &Guest) {
        if let Some(slot) = self.st.current {
            let now = self.monitor.now_ticks();
            self.monitor.beat(self.st, slot, now);
        }
    }

    fn yield_now(&mut self, _guest: &Guest) -> bool {
        if self.st.role != Role::Shared {
            return false;
        }
        self.st.edf.yield_running(self.monitor.now_ns());
        true
    }

    fn mmu(&mut self, guest: &Guest, op: MmuOp) -> Result<u32, hypercall::Error> {
        let pool = guest.shadow.ok_or(hypercall::Error::NotSupported)?;
        let owned = Monitor::<P, G, S>::owned(guest);
        let slot = self.st.current.ok_or(hypercall::Error::NotSupported)?;
        let gs = &mut self.st.guests[slot];
        let mem = &mut PhysicalTables;
        let tlb = match op {
            MmuOp::Create => return Ok(gs.shadow.create(&pool, mem)?),
            MmuOp::Switch { space } => {
                let sw = gs.shadow.switch(&pool, space)?;
                gs.space = space;
                gs.asid = sw.asid;
                // SAFETY: this guest's live state, its own pool's table.
                unsafe { arch::set_ns_translation(sw.ttbr0, sw.asid.into()) };
                return Ok(0);
            }
            MmuOp::Destroy { space } if space == gs.space => {
                return Err(hypercall::Error::InvalidParameter)
            }
            MmuOp::Destroy { space } => gs.shadow.destroy(&pool, mem, space)?,
            MmuOp::Map {
                space,
                va,
                gpa,
                flags,
            } => gs.shadow.map(&pool, &owned, mem, space, va, gpa, flags)?,
            MmuOp::Unmap { space, va } => gs.shadow.unmap(&pool, mem, space, va)?,
            MmuOp::Flush { space } => gs.shadow.flush(&pool, space)?,
        };
        arch::ns_tlb(tlb);
        Ok(0)
    }

    fn stats(&mut self, guest: &Guest) -> GuestStats {
        let now = self.monitor.now_ticks();
        let mut s = self.monitor.guest_stats(guest, now);
        if let Some(server) = self
            .st
            .slot_of(guest.id)
            .filter(|_| self.st.role == Role::Shared)
        {
            let edf = &self.st.edf;
            s.set_server(&edf.stats_at(server, Monitor::<P, G, S>::ticks_to_ns(now)));
            let p = edf.params(server);
            s.period_ns = p.period;
            s.budget_ns = p.budget;
            s.release_ns = edf.job_release(server);
        }
        s
    }
}
