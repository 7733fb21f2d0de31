//! Interrupt ownership on the target: lines set up as
//! [`crate::interrupts`] decides, each core's guest SCR, and the guard
//! that puts Group 1 lines back after a guest rewrote the distributor
//! (docs/interrupts.md).

use core::fmt::Write;
use core::sync::atomic::Ordering;

use mpcore::gic::Group;

use super::{Monitor, Platform};
use crate::config::Guest;
use crate::interrupts::{self, Delivery, Line};
use crate::state::CoreState;

impl<P: Platform, const G: usize, const S: usize> Monitor<P, G, S> {
    /// How `guest`'s lines reach it.
    pub(super) fn delivery(&self, guest: &Guest) -> Delivery {
        let timer_core = self.monitor_timer_core.load(Ordering::Relaxed);
        interrupts::delivery(guest, guest.core == timer_core)
    }

    /// Sets a line's group, priority, target and trigger (not its enable).
    pub(super) fn set_line(line: &Line) {
        Self::GICD.set_group(
            line.irq,
            if line.group0 {
                Group::Secure
            } else {
                Group::NonSecure
            },
        );
        Self::GICD.set_priority(line.irq, line.priority);
        Self::GICD.set_targets(line.irq, line.targets);
        Self::GICD.set_trigger(line.irq, line.edge);
    }

    /// Core 0, once the guests are loaded: every loaded guest's lines set
    /// up as [`interrupts::guarded`] says (a dedicated core's guest owns
    /// its lines from now on, a shared core's guest only while it runs),
    /// each put on the guard's list, and each guest's lines printed as set,
    /// so that a run's log shows the description's priorities and
    /// triggers applied.
    pub(super) fn set_up_lines(&self) {
        let loaded = |g: &Guest| {
            self.cores
                .get(g.core as usize)
                .is_some_and(|c| c.loaded.load(Ordering::Relaxed))
                && !self.figures[g.id as usize].refused.load(Ordering::Relaxed)
        };
        interrupts::guarded(
            self.system.guests,
            |g| self.delivery(g),
            |g, line, channel| {
                if !loaded(g) {
                    return;
                }
                Self::set_line(&line);
                if line.always_enabled {
                    Self::GICD.enable_interrupt(line.irq);
                }
                // SAFETY: core 0 before the release; nothing reads the
                // list yet.
                unsafe { self.guard_line(g, line, channel) };
            },
        );
        // SAFETY: as above; only read here.
        let lines = unsafe { &*self.guarded.0.get() };
        for g in self.system.guests {
            let mut own = lines.iter().filter(|l| l.guest == g.id).peekable();
            if own.peek().is_none() {
                continue;
            }
            self.with_console(|uart| {
                let _ = write!(uart, "mvm: guest `{}` lines:", g.name);
                let mut separator = " ";
                for l in own {
                    let line = &l.line;
                    let _ = write!(
                        uart,
                        "{separator}{} (group {}, priority {:#04x}, {})",
                        line.irq,
                        if line.group0 { 0 } else { 1 },
                        line.priority,
                        if line.edge { "edge" } else { "level" }
                    );
                    separator = ", ";
                }
                let _ = writeln!(uart);
            });
        }
    }

    /// Adds `line` of `guest` to the guard's list (a system with more guest
    /// lines than the list holds is refused by the generator's own rule
    /// that a line has one owner: there are fewer GIC lines).
    ///
    /// # Safety
    /// Core 0, before it releases the other cores.
    unsafe fn guard_line(&self, guest: &Guest, line: Line, channel: Option<u32>) {
        // SAFETY: as the caller vouches, no other reference is alive.
        let lines = unsafe { &mut *self.guarded.0.get() };
        let entry = interrupts::GuardedLine {
            line,
            core: guest.core,
            guest: guest.id,
            channel,
        };
        if lines.push(entry).is_err() {
            panic!("more guest interrupt lines than the GIC has");
        }
    }

    /// The guard, at every scheduling event of a shared core (and when a
    /// guest's line turns up at this core's FIQ, retargeted here): every
    /// guest line gets its target back (QEMU lets a Non-secure write
    /// retarget even a Group 0 line), every Group 1 line its priority and
    /// declared trigger, the lines of this core's guests are enabled exactly for the
    /// guest in the processor (an HRT guest's IRQ-delivered lines always),
    /// and the distributor forwards both groups again. Whatever another
    /// guest wrote to the distributor since lasts until here. The list was
    /// made at boot: a system without guest lines pays one store. Then the
    /// doorbells of the channels this core's guests read (a system without
    /// channels pays one load and a branch).
    pub(super) fn guard(&self, core: u32, st: &CoreState<S>) {
        let running = st.running().map(|g| g.id);
        // SAFETY: the list is read-only once the cores are released, and
        // only shared cores, released, run the guard.
        let lines = unsafe { &*self.guarded.0.get() };
        for l in lines.iter() {
            let line = &l.line;
            Self::GICD.set_targets(line.irq, line.targets);
            if line.group0 {
                continue;
            }
            Self::GICD.set_priority(line.irq, line.priority);
            Self::GICD.set_trigger(line.irq, line.edge);
            let always = line.always_enabled
                && !self.figures[l.guest as usize]
                    .stopped
                    .load(Ordering::Relaxed);
            let runs = l.core == core && running == Some(l.guest);
            if let Some(c) = l.channel {
                // A notification line not yet armed is its reader's to
                // enable (crate::channels::Doorbells): leave it as the
                // running reader set it, and arm it once it did.
                let c = c as usize;
                let armed = self.doorbells.armed(c)
                    || (runs && self.doorbells.arm_if(c, Self::GICD.is_enabled(line.irq)));
                if !armed {
                    if !runs && l.core == core {
                        Self::GICD.disable_interrupt(line.irq);
                    }
                    continue;
                }
            }
            if always || runs {
                Self::GICD.enable_interrupt(line.irq);
            } else if l.core == core || line.always_enabled {
                Self::GICD.disable_interrupt(line.irq);
            }
        }
        Self::GICD.enable();
        if !self.system.channels.is_empty() {
            self.ring_doorbells(core, st);
        }
    }

    /// The channels whose reader runs on this core: each doorbell that
    /// changed since the last look sets its reader's line pending
    /// ([`crate::channels`]); the guard, above, enables the line while
    /// the reader runs.
    ///
    /// The monitor's MMU and caches are off, so the load is a
    /// Strongly-ordered access to memory: no line of the monitor's can
    /// hold a stale doorbell, and the guests map channels non-cacheable
    /// (`Memory::Shared`), so the writer's store is not held in its data
    /// cache either. A monitor with its caches on would need a clean and
    /// invalidate of the line by MVA (DCCIMVAC) before the load.
    #[inline(never)]
    fn ring_doorbells(&self, core: u32, st: &CoreState<S>) {
        self.doorbells.poll(
            self.system.channels,
            self.system.guests,
            core,
            |address| {
                // SAFETY: `address` is a channel's first word, placed by
                // the build in the channel area (Non-secure RAM, 4 KiB
                // aligned, apart from the monitor); the MMU is off, so it
                // is physical. A guest may write it at any time: the value
                // read is only compared.
                unsafe { (address as usize as *const u32).read_volatile() }
            },
            |line, reader| {
                Self::GICD.set_pending(line);
                if st.trace.on {
                    self.trace_line(st, crate::trace::Kind::Notify, reader, line);
                }
            },
        );
    }

    /// Records `kind` for line `line` of guest `guest` (by id) in this
    /// core's trace, under the guest's server on this core.
    #[cold]
    #[inline(never)]
    pub(super) fn trace_line(
        &self,
        st: &CoreState<S>,
        kind: crate::trace::Kind,
        guest: u32,
        line: u32,
    ) {
        let Some(server) = st.guests.iter().position(|g| g.guest.id == guest) else {
            return;
        };
        // SAFETY: this core's own ring, within its monitor entry.
        let ring = unsafe { super::ring(crate::sysreg::core_id()) };
        ring.record(crate::trace::Event {
            ns: self.now_ns(),
            kind,
            server: server as u16,
            arg: line,
        });
    }

    /// Records each line of `guest` that is pending as it is switched in
    /// (after [`Self::enable_lines`]): delivered as it resumes.
    #[cold]
    #[inline(never)]
    pub(super) fn trace_pending_lines(&self, st: &CoreState<S>, guest: &Guest) {
        crate::switch::for_each_interrupt(guest, |irq| {
            if Self::GICD.is_enabled(irq.id) && Self::GICD.is_pending(irq.id) {
                self.trace_line(st, crate::trace::Kind::Interrupt, guest.id, irq.id);
            }
        });
    }

    /// Enables `guest`'s lines as it is switched in: its devices' and its
    /// armed notification lines.
    pub(super) fn enable_lines(&self, guest: &Guest) {
        crate::switch::for_each_interrupt(guest, |irq| {
            if self.line_armed(guest, irq.id) {
                Self::GICD.enable_interrupt(irq.id);
            }
        });
    }

    /// Disables `guest`'s lines as it is switched out, first arming any
    /// notification line it enabled itself while it ran.
    pub(super) fn disable_lines(&self, guest: &Guest) {
        for end in guest.channels {
            if let Some(irq) = &end.notify {
                let c = end.channel as usize;
                if !self.doorbells.armed(c) {
                    self.doorbells.arm_if(c, Self::GICD.is_enabled(irq.id));
                }
            }
        }
        crate::switch::for_each_interrupt(guest, |irq| Self::GICD.disable_interrupt(irq.id));
    }

    /// Whether line `id` of `guest` is one the monitor enables: a device's,
    /// or an armed notification line.
    fn line_armed(&self, guest: &Guest, id: u32) -> bool {
        guest
            .channels
            .iter()
            .find(|e| e.notify.is_some_and(|n| n.id == id))
            .is_none_or(|e| self.doorbells.armed(e.channel as usize))
    }

    /// This core's guests' SCR: FIQ in the Non-secure world on an HRT
    /// guest's core whose lines come as FIQ, the monitor's elsewhere.
    /// Returns how this core's guest lines are delivered.
    pub(super) fn set_guest_scr(&self, st: &CoreState<S>) -> Delivery {
        let delivery = match st.guests.first() {
            Some(g) if st.role == crate::state::Role::Dedicated => self.delivery(g.guest),
            _ => Delivery::Irq,
        };
        crate::arch::set_guest_scr(interrupts::guest_scr(delivery));
        delivery
    }
}
