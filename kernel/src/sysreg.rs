//! CP15 registers of the Security Extensions that `aarch32-cpu` lacks.
//!
//! Each type names its encoding through `aarch32_cpu::register::SysReg`, so
//! reads and writes are the crate's `mrc`/`mcr` (no-ops off target).
use aarch32_cpu::register::{SysReg, SysRegRead, SysRegWrite};

pub use aarch32_cpu::register::{Dfar, Ifar, Mpidr};
// aarch32-cpu defines these per architecture version, so not on the host.
#[cfg(target_arch = "arm")]
pub use aarch32_cpu::register::{Dfsr, Ifsr, Vbar};

/// SCR, Secure Configuration Register (Monitor mode only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scr(pub u32);

impl Scr {
    /// Non-secure: PL1 modes other than Monitor are Non-secure.
    pub const NS: u32 = 1 << 0;
    /// IRQs are taken to Monitor mode.
    pub const IRQ: u32 = 1 << 1;
    /// FIQs are taken to Monitor mode.
    pub const FIQ: u32 = 1 << 2;
    /// External aborts are taken to Monitor mode.
    pub const EA: u32 = 1 << 3;
    /// CPSR.F is writable in the Non-secure world.
    pub const FW: u32 = 1 << 4;
    /// CPSR.A is writable in the Non-secure world.
    pub const AW: u32 = 1 << 5;
    /// SMC is undefined (SMC disable).
    pub const SCD: u32 = 1 << 7;

    pub fn read() -> Self {
        Self(<Self as SysRegRead>::read_raw())
    }

    /// # Safety
    /// Monitor mode only; changing NS changes which CP15 copies later
    /// accesses reach and in which world exceptions from Monitor mode land.
    pub unsafe fn write(value: Self) {
        // SAFETY: the caller is in Monitor mode and accepts the new routing.
        unsafe { <Self as SysRegWrite>::write_raw(value.0) }
    }
}
impl SysReg for Scr {
    const CP: u32 = 15;
    const CRN: u32 = 1;
    const OP1: u32 = 0;
    const CRM: u32 = 1;
    const OP2: u32 = 0;
}
impl SysRegRead for Scr {}
impl SysRegWrite for Scr {}

/// NSACR, Non-Secure Access Control Register (writable in Secure PL1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Nsacr(pub u32);

impl Nsacr {
    /// Non-secure access to coprocessor 10 (VFP/NEON).
    pub const CP10: u32 = 1 << 10;
    /// Non-secure access to coprocessor 11 (VFP/NEON).
    pub const CP11: u32 = 1 << 11;
    /// Cortex-A9: Non-secure writes to ACTLR.SMP.
    pub const NS_SMP: u32 = 1 << 18;

    pub fn read() -> Self {
        Self(<Self as SysRegRead>::read_raw())
    }

    /// Writes NSACR (`aarch32-cpu` reads it but has no write), then an
    /// ISB so that the next instruction sees the new rights.
    ///
    /// # Safety
    /// Secure PL1 only; grants the Non-secure world the listed resources.
    pub unsafe fn write(value: Self) {
        // SAFETY: the caller is Secure PL1 and means to grant these rights.
        unsafe { <Self as SysRegWrite>::write_raw(value.0) }
        isb();
    }
}
impl SysReg for Nsacr {
    const CP: u32 = 15;
    const CRN: u32 = 1;
    const OP1: u32 = 0;
    const CRM: u32 = 1;
    const OP2: u32 = 2;
}
impl SysRegRead for Nsacr {}
impl SysRegWrite for Nsacr {}

/// MVBAR, Monitor Vector Base Address Register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mvbar(pub u32);

impl Mvbar {
    pub fn read() -> Self {
        Self(<Self as SysRegRead>::read_raw())
    }

    /// # Safety
    /// `value` is the 32-byte aligned address of a monitor vector table that
    /// stays valid for as long as the Non-secure world can execute `smc`.
    pub unsafe fn write(value: Self) {
        debug_assert!(value.0 & 0x1F == 0, "MVBAR must be 32-byte aligned");
        // SAFETY: the caller guarantees a valid, aligned vector table.
        unsafe { <Self as SysRegWrite>::write_raw(value.0) }
    }
}
impl SysReg for Mvbar {
    const CP: u32 = 15;
    const CRN: u32 = 12;
    const OP1: u32 = 0;
    const CRM: u32 = 0;
    const OP2: u32 = 1;
}
impl SysRegRead for Mvbar {}
impl SysRegWrite for Mvbar {}

/// An instruction synchronization barrier (no-op off target).
pub fn isb() {
    #[cfg(target_arch = "arm")]
    // SAFETY: a barrier has no other effect.
    unsafe {
        core::arch::asm!("isb", options(nomem, nostack, preserves_flags))
    };
}

/// This core's number: MPIDR.Aff0.
pub fn core_id() -> u32 {
    Mpidr::read().0 & 0xFF
}
