//! Interrupt ownership on the target: lines set up as
//! [`crate::interrupts`] decides, each core's guest SCR, and the guard
//! that puts Group 1 lines back after a guest rewrote the distributor
//! (docs/interrupts.md).

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

    /// The guard, at every scheduling event of a shared core (and when a
    /// guest's line turns up at this core's FIQ, retargeted here): every
    /// guest line gets its target back (QEMU lets a Non-secure write
    /// retarget even a Group 0 line), every Group 1 line its priority and
    /// declared trigger, the lines of this core's guests are enabled exactly for the guest in the
    /// processor (an HRT guest's IRQ-delivered lines always), and the
    /// distributor forwards both groups again. Whatever another guest wrote
    /// to the distributor since lasts until here.
    pub(super) fn guard(&self, core: u32, st: &CoreState<S>) {
        let running = st.running().map(|g| g.id);
        interrupts::guarded(
            self.system.guests,
            |g| self.delivery(g),
            |g, line| {
                Self::GICD.set_targets(line.irq, line.targets);
                if line.group0 {
                    return;
                }
                Self::GICD.set_priority(line.irq, line.priority);
                Self::GICD.set_trigger(line.irq, line.edge);
                if line.always_enabled || (g.core == core && running == Some(g.id)) {
                    Self::GICD.enable_interrupt(line.irq);
                } else if g.core == core {
                    Self::GICD.disable_interrupt(line.irq);
                }
            },
        );
        Self::GICD.enable();
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
