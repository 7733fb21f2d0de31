//! The few CPU operations guests need: fault registers, interrupt masks,
//! alignment checking, WFI. All act on the Non-secure world's own copies.
//! System registers through `aarch32-cpu`; raw instructions only for what
//! it lacks (ATS1CPR, FPEXC, the spin loop), each saying so.

use aarch32_cpu::register::{Cpacr, Cpsr, Dfar, Dfsr, Ifar, Ifsr, Par, Sctlr};

/// DFAR: the address of the last data abort.
pub fn dfar() -> u32 {
    Dfar::read().0
}

/// DFSR: the status of the last data abort.
pub fn dfsr() -> u32 {
    Dfsr::read().raw_value()
}

/// IFAR: the address of the last prefetch abort.
pub fn ifar() -> u32 {
    Ifar::read().0
}

/// IFSR: the status of the last prefetch abort.
pub fn ifsr() -> u32 {
    Ifsr::read().raw_value()
}

/// SCTLR: system control.
pub fn sctlr() -> u32 {
    Sctlr::read().raw_value()
}

/// SCTLR.A: alignment checking.
pub const SCTLR_A: u32 = 1 << 1;

/// Turns alignment checking on or off.
///
/// # Safety
/// With it on, every unaligned access faults, including the compiler's own
/// (it assumes unaligned accesses are allowed only where it emitted them).
pub unsafe fn set_alignment_check(on: bool) {
    let value = if on {
        sctlr() | SCTLR_A
    } else {
        sctlr() & !SCTLR_A
    };
    Sctlr::write(Sctlr::new_with_raw_value(value));
    // SAFETY: a barrier has no other effect; the next access sees SCTLR.A.
    unsafe { core::arch::asm!("isb", options(nomem, nostack, preserves_flags)) };
}

/// Unmasks IRQs (CPSR.I = 0). Install an IRQ handler first.
pub fn enable_irq() {
    // SAFETY: unmasking IRQs; the runtime's vectors take them, and the
    // guest runtime has no interrupt-based critical section.
    unsafe { aarch32_cpu::interrupt::enable() };
}

/// Unmasks FIQs (CPSR.F = 0): an HRT guest's device lines, on its own
/// core (docs/interrupts.md). Elsewhere the monitor keeps CPSR.F out of
/// the guest's reach (SCR.FW = 0) and this has no effect.
pub fn enable_fiq() {
    // SAFETY: unmasking FIQs; the runtime's vectors take them.
    unsafe { core::arch::asm!("cpsie f", options(nomem, nostack)) };
}

/// Masks IRQs (CPSR.I = 1).
pub fn disable_irq() {
    aarch32_cpu::interrupt::disable();
}

/// Sleeps until an interrupt is pending.
pub fn wait_for_interrupt() {
    // SAFETY: WFI has no memory effects.
    unsafe { core::arch::asm!("wfi", options(nomem, nostack, preserves_flags)) };
}

/// Busy-waits for about `2 * iterations` instructions without touching
/// memory or devices (emulators run such a loop at full speed, unlike a loop
/// that polls a device or calls the monitor).
pub fn spin(iterations: u32) {
    if iterations == 0 {
        return;
    }
    // SAFETY: a register-only countdown loop.
    unsafe {
        core::arch::asm!(
            "1:",
            "subs {n}, {n}, #1",
            "bne 1b",
            n = inout(reg) iterations => _,
            options(nomem, nostack)
        )
    };
}

/// CPSR, for reports.
pub fn cpsr() -> u32 {
    Cpsr::read().raw_value()
}

/// CPACR bits for CP10 and CP11 (VFP/NEON), full access.
pub const CPACR_VFP: u32 = 0xF << 20;

/// Tries to turn VFP/NEON on (CPACR.CP10/CP11 full access, FPEXC.EN);
/// whether it is available. The monitor grants VFP only to guests whose
/// description says `fpu = true`; for the others CPACR's VFP bits stay 0
/// and every VFP instruction is undefined.
pub fn try_enable_vfp() -> bool {
    // SAFETY: CPACR is this world's to set (bits the monitor's NSACR denies
    // read back as 0); the ISB makes the new access rights visible.
    unsafe {
        Cpacr::write(Cpacr(Cpacr::read().0 | CPACR_VFP));
        core::arch::asm!("isb", options(nomem, nostack, preserves_flags));
    }
    if Cpacr::read().0 & CPACR_VFP != CPACR_VFP {
        return false;
    }
    // FPEXC is raw: aarch32-cpu has no VFP registers.
    // SAFETY: CP10/CP11 are accessible now; FPEXC.EN turns the unit on. The
    // guest's Rust code is soft-float and never uses VFP itself.
    unsafe {
        core::arch::asm!(
            ".fpu neon",
            "mov {v}, #(1 << 30)",
            "vmsr fpexc, {v}",
            "isb",
            v = out(reg) _,
            options(nomem, nostack, preserves_flags)
        )
    };
    true
}

/// Translates `va` as a PL1 read would (ATS1CPR) and returns PAR: bit 0
/// set for a fault (FS in bits 6:1), else the physical page in bits 31:12
/// (bits 31:24 for a supersection, PAR.SS = bit 1) and PAR.NS in bit 9.
pub fn translate_pl1_read(va: u32) -> u32 {
    // ATS1CPR is raw: aarch32-cpu has no address-translation operations.
    // SAFETY: ATS1CPR only writes PAR; nothing is accessed.
    unsafe {
        core::arch::asm!(
            "mcr p15, 0, {va}, c7, c8, 0",
            "isb",
            va = in(reg) va,
            options(nomem, nostack, preserves_flags)
        )
    };
    Par::read().0
}
