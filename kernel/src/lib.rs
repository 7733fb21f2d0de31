//! The MVM monitor: boot, world switch, EDF, hypercalls, memory, GIC.
//!
//! - `no_std`, no allocation; the kernel never parses configuration: it runs
//!   from the tables in [`config`], generated at build time.
//! - Nothing here names a physical address; board crates do, and the image
//!   crate wires a board's drivers to this crate's policy.
//! - Policy (hypercall decoding and argument checks, the guest console's line
//!   discipline, the boot plan, timer arithmetic, fault decoding) is plain
//!   Rust that `cargo test` runs on the host.
//! - The Arm shell ([`arch`]: reset entry, vectors, guest entry) is assembly
//!   plus a few `unsafe` wrappers, compiled only for `target_arch = "arm"`
//!   with the `monitor` feature.
//! - Monitor code runs with SCR.NS = 0; SCR.NS = 1 only while a guest runs.
//!   An exception taken from Monitor mode with SCR.NS = 1 would be handled in
//!   the Non-secure world, so every monitor entry clears NS first.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::missing_safety_doc)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod channels;
pub mod config;
pub mod console;
pub mod context;
pub mod edf;
pub mod fault;
pub mod health;
pub mod hypercall;
pub mod interrupts;
pub mod plan;
pub mod restore;
pub mod semihosting;
pub mod shadow;
pub mod state;
pub mod stats;
pub mod switch;
pub mod sysreg;
pub mod timing;
pub mod trace;
pub mod vmsa;

#[cfg(all(target_arch = "arm", feature = "monitor"))]
pub mod arch;
#[cfg(all(target_arch = "arm", feature = "monitor"))]
pub mod monitor;

/// Cores the monitor supports (Cortex-A9 MPCore: up to 4; both boards: 2).
/// Cores beyond this park at reset.
pub const MAX_CORES: usize = 2;

/// SCR value while monitor code runs: FIQ to Monitor mode, A bit writable by
/// the Non-secure world, F bit not (SCR.FW = 0: a guest cannot mask the
/// monitor's FIQ), IRQ and external aborts to the Non-secure world's own
/// vectors.
pub const SCR_MONITOR: u32 = sysreg::Scr::FIQ | sysreg::Scr::AW;
/// SCR value while a guest runs: as [`SCR_MONITOR`] plus NS.
pub const SCR_GUEST: u32 = SCR_MONITOR | sysreg::Scr::NS;

/// NSACR for a guest that uses VFP/NEON (`fpu = true`): the Non-secure
/// world may use CP10/CP11 and set ACTLR.SMP (Cortex-A9 NS_SMP).
pub const NSACR_VALUE: u32 = sysreg::Nsacr::CP10 | sysreg::Nsacr::CP11 | sysreg::Nsacr::NS_SMP;
/// NSACR for a guest without `fpu`: VFP/NEON instructions are undefined for
/// it, so it can neither use nor read another guest's VFP registers.
pub const NSACR_NO_FPU: u32 = sysreg::Nsacr::NS_SMP;

/// NSACR while `guest` runs.
pub fn nsacr_for(fpu: bool) -> u32 {
    if fpu {
        NSACR_VALUE
    } else {
        NSACR_NO_FPU
    }
}

/// CPSR mode field values.
pub mod mode {
    pub const USR: u32 = 0x10;
    pub const FIQ: u32 = 0x11;
    pub const IRQ: u32 = 0x12;
    pub const SVC: u32 = 0x13;
    pub const MON: u32 = 0x16;
    pub const ABT: u32 = 0x17;
    pub const UND: u32 = 0x1B;
    pub const SYS: u32 = 0x1F;
    /// CPSR.A, CPSR.I, CPSR.F.
    pub const A: u32 = 1 << 8;
    pub const I: u32 = 1 << 7;
    pub const F: u32 = 1 << 6;

    /// The Arm manual's name for a mode field.
    pub fn name(cpsr: u32) -> &'static str {
        match cpsr & 0x1F {
            USR => "usr",
            FIQ => "fiq",
            IRQ => "irq",
            SVC => "svc",
            MON => "mon",
            ABT => "abt",
            UND => "und",
            SYS => "sys",
            _ => "???",
        }
    }
}

/// SPSR_mon for entering a guest: Non-secure SVC, ARM state, IRQ and
/// asynchronous aborts masked (the guest unmasks them once its vectors are
/// set), FIQ unmasked (FIQ belongs to the monitor and SCR.FW = 0 keeps the
/// guest from masking it).
pub const GUEST_ENTRY_SPSR: u32 = mode::SVC | mode::A | mode::I;

/// A guest's first instructions and boot registers: r0 = 0, r1 = ~0 (no
/// machine type), r2 = `boot_arg` (Linux: the device tree; 0 for now).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestEntry {
    pub entry: u32,
    pub boot_arg: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scr_values() {
        assert_eq!(SCR_MONITOR, 0x24, "FIQ | AW");
        assert_eq!(SCR_GUEST, 0x25, "FIQ | AW | NS");
        assert_eq!(SCR_GUEST & sysreg::Scr::FW, 0, "the guest cannot mask FIQ");
        assert_eq!(SCR_GUEST & sysreg::Scr::IRQ, 0, "IRQs go to the guest");
        assert_eq!(NSACR_VALUE, 0x4_0C00);
    }

    #[test]
    fn guest_entry_is_nonsecure_svc_with_fiq_open() {
        assert_eq!(GUEST_ENTRY_SPSR & 0x1F, mode::SVC);
        assert_eq!(GUEST_ENTRY_SPSR & mode::F, 0);
        assert_eq!(mode::name(GUEST_ENTRY_SPSR), "svc");
        assert_eq!(mode::name(0x1D6), "mon");
        assert_eq!(mode::name(0x15), "???");
    }
}
