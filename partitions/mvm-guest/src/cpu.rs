//! The few CPU operations guests need: fault registers, interrupt masks,
//! alignment checking, WFI. All act on the Non-secure world's own copies.

macro_rules! cp15_read {
    ($(#[$doc:meta])* $name:ident, $crn:literal, $op1:literal, $crm:literal, $op2:literal) => {
        $(#[$doc])*
        pub fn $name() -> u32 {
            let value: u32;
            // SAFETY: reading this CP15 register has no side effects.
            unsafe {
                core::arch::asm!(
                    concat!("mrc p15, ", $op1, ", {}, ", $crn, ", ", $crm, ", ", $op2),
                    out(reg) value,
                    options(nomem, nostack, preserves_flags)
                )
            };
            value
        }
    };
}

cp15_read!(
    /// DFAR: the address of the last data abort.
    dfar, "c6", "0", "c0", "0"
);
cp15_read!(
    /// DFSR: the status of the last data abort.
    dfsr, "c5", "0", "c0", "0"
);
cp15_read!(
    /// IFAR: the address of the last prefetch abort.
    ifar, "c6", "0", "c0", "2"
);
cp15_read!(
    /// IFSR: the status of the last prefetch abort.
    ifsr, "c5", "0", "c0", "1"
);
cp15_read!(
    /// SCTLR: system control.
    sctlr, "c1", "0", "c0", "0"
);

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
    // SAFETY: SCTLR.A only changes which accesses fault; the caller accepts.
    unsafe {
        core::arch::asm!(
            "mcr p15, 0, {}, c1, c0, 0",
            "isb",
            in(reg) value,
            options(nostack, preserves_flags)
        )
    };
}

/// Unmasks IRQs (CPSR.I = 0). Install an IRQ handler first.
pub fn enable_irq() {
    // SAFETY: unmasking IRQs; the runtime's vectors take them.
    unsafe { core::arch::asm!("cpsie i", options(nomem, nostack, preserves_flags)) };
}

/// Masks IRQs (CPSR.I = 1).
pub fn disable_irq() {
    // SAFETY: masking IRQs has no memory effects.
    unsafe { core::arch::asm!("cpsid i", options(nomem, nostack, preserves_flags)) };
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
    let value: u32;
    // SAFETY: reading CPSR has no side effects.
    unsafe {
        core::arch::asm!("mrs {}, cpsr", out(reg) value, options(nomem, nostack, preserves_flags))
    };
    value
}

/// CPACR bits for CP10 and CP11 (VFP/NEON), full access.
pub const CPACR_VFP: u32 = 0xF << 20;

/// Tries to turn VFP/NEON on (CPACR.CP10/CP11 full access, FPEXC.EN);
/// whether it is available. The monitor grants VFP only to guests whose
/// description says `fpu = true`; for the others CPACR's VFP bits stay 0
/// and every VFP instruction is undefined.
pub fn try_enable_vfp() -> bool {
    let cpacr: u32;
    // SAFETY: CPACR is this world's to set; reading it back has no effect.
    unsafe {
        core::arch::asm!(
            "mrc p15, 0, {v}, c1, c0, 2",
            "orr {v}, {v}, #(0xF << 20)",
            "mcr p15, 0, {v}, c1, c0, 2",
            "isb",
            "mrc p15, 0, {v}, c1, c0, 2",
            v = out(reg) cpacr,
            options(nomem, nostack, preserves_flags)
        )
    };
    if cpacr & CPACR_VFP != CPACR_VFP {
        return false;
    }
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
    let par: u32;
    // SAFETY: ATS1CPR only writes PAR; nothing is accessed.
    unsafe {
        core::arch::asm!(
            "mcr p15, 0, {va}, c7, c8, 0",
            "isb",
            "mrc p15, 0, {par}, c7, c4, 0",
            va = in(reg) va,
            par = out(reg) par,
            options(nomem, nostack, preserves_flags)
        )
    };
    par
}
