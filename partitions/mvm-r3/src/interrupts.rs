//! The interrupt controller R3 gets on MVM: the CPU interface only.
//!
//! - On the guest's own core its lines come as FIQ (Group 0): there is
//!   nothing to acknowledge; [`acknowledge`] reports the FIQ the vector
//!   took as the tick line, and its handlers ask their devices.
//! - Where the monitor keeps FIQs (a bounded run whose every core is
//!   dedicated) the same lines come as Group 1 IRQs: acknowledged through
//!   the Non-secure GICC_IAR, ended through GICC_EOIR.
//! - The distributor is the monitor's: enabling a line the monitor
//!   enabled succeeds, every other change is refused (`NotSupported`).

use core::sync::atomic::{AtomicU32, Ordering};

use crate::devices::GICC_BASE;
use crate::start::mvm_r3_fiq_taken;

const GICC_IAR: usize = 0x0C;
const GICC_EOIR: usize = 0x10;
/// IDs from 1020 up are special (spurious, none pending).
const SPECIAL: u32 = 1020;
const NONE: u32 = u32::MAX;

/// The IAR of the IRQ being handled (`NONE` when the line came as FIQ).
static IRQ_IAR: AtomicU32 = AtomicU32::new(NONE);

/// The line being signalled: the tick line for a FIQ, else the GIC's
/// acknowledged IRQ.
pub fn acknowledge(tick_line: u32) -> Option<usize> {
    if mvm_r3_fiq_taken.swap(0, Ordering::Relaxed) != 0 {
        return Some(tick_line as usize);
    }
    // SAFETY: the GIC CPU interface's Non-secure view, banked per core.
    let iar = unsafe { ((GICC_BASE + GICC_IAR) as *const u32).read_volatile() };
    if iar & 0x3FF >= SPECIAL {
        return None;
    }
    IRQ_IAR.store(iar, Ordering::Relaxed);
    Some((iar & 0x3FF) as usize)
}

/// Ends an acknowledged IRQ; a FIQ has nothing to end.
pub fn end() {
    let iar = IRQ_IAR.swap(NONE, Ordering::Relaxed);
    if iar != NONE {
        // SAFETY: as in `acknowledge`.
        unsafe { ((GICC_BASE + GICC_EOIR) as *mut u32).write_volatile(iar) };
    }
}

/// R3's CPU Lock: IRQ and FIQ masked.
#[inline(always)]
pub fn enter_cpu_lock() {
    // SAFETY: masking interrupts has no memory effect R3 relies on beyond
    // the compiler barrier asm implies.
    unsafe { core::arch::asm!("cpsid if") };
}

/// The end of R3's CPU Lock: in a task, IRQ and FIQ unmasked; in an
/// interrupt handler IRQ only (FIQ stays masked until the handler
/// returns, so a level line is not taken again before its device is
/// cleared).
#[inline(always)]
pub fn leave_cpu_lock() {
    let cpsr: u32;
    // SAFETY: reads CPSR.
    unsafe { core::arch::asm!("mrs {}, cpsr", out(reg) cpsr) };
    if cpsr & 0x1F == 0x1F {
        // SAFETY: System mode: a task, whose interrupts are unmasked.
        unsafe { core::arch::asm!("cpsie if") };
    } else {
        // SAFETY: an interrupt handler, nested IRQs allowed as the port
        // allows them.
        unsafe { core::arch::asm!("cpsie i") };
    }
}
