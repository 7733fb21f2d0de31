//! Cortex-A9 MPCore Snoop Control Unit: only the TrustZone access controls.
use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::{
    register_bitfields, register_structs, registers::ReadOnly, registers::ReadWrite,
};

register_bitfields![u32,
    /// SCU Non-secure Access Control Register (SNSAC).
    pub SNSAC [
        /// Non-secure access to the global timer, one bit per CPU.
        GlobalTimer OFFSET(8) NUMBITS(4) [],
        /// Non-secure access to the private timers, one bit per CPU.
        PrivateTimer OFFSET(4) NUMBITS(4) [],
        /// Non-secure access to the SCU registers, one bit per CPU.
        Component OFFSET(0) NUMBITS(4) []
    ]
];

register_structs! {
    /// SCU registers (Cortex-A9 MPCore TRM, DDI0407, 2.2).
    pub ScuRegisters {
        /// SCU Control Register.
        (0x00 => control: ReadWrite<u32>),
        /// SCU Configuration Register.
        (0x04 => configuration: ReadOnly<u32>),
        (0x08 => _reserved0),
        /// SCU Secure Access Control Register (SAC).
        (0x50 => sac: ReadWrite<u32>),
        /// SCU Non-secure Access Control Register (SNSAC).
        (0x54 => snsac: ReadWrite<u32, SNSAC::Register>),
        (0x58 => @END),
    }
}

pub struct Scu {
    regs: *const ScuRegisters,
}

impl Scu {
    /// # Safety
    /// `base` is the SCU block; it is driven from the Secure world.
    pub const unsafe fn new(base: usize) -> Self {
        Self {
            regs: base as *const ScuRegisters,
        }
    }

    fn regs(&self) -> &ScuRegisters {
        // SAFETY: `new`'s caller vouched that the pointer is the device's
        // register block, which lives for the whole run.
        unsafe { &*self.regs }
    }

    /// Number of cores, from SCU Configuration.
    pub fn cores(&self) -> u32 {
        (self.regs().configuration.get() & 3) + 1
    }

    /// Non-secure code may use the SCU registers and the global timer;
    /// the private timers stay the monitor's.
    pub fn grant_non_secure(&self) {
        self.regs()
            .snsac
            .write(SNSAC::Component.val(0xF) + SNSAC::GlobalTimer.val(0xF));
    }

    pub fn snsac(&self) -> u32 {
        self.regs().snsac.get()
    }
}

// SAFETY: a handle is only a pointer to the SCU's MMIO block;
// every access is a single volatile load or store. Read-modify-write
// sequences are serialised by the caller (boot code on one core, or a lock).
unsafe impl Send for Scu {}
// SAFETY: as for `Send`.
unsafe impl Sync for Scu {}
