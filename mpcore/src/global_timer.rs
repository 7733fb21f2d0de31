//! Cortex-A9 MPCore global timer: a 64-bit up counter shared by all cores.
use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::{register_bitfields, register_structs, registers::ReadWrite};

register_bitfields![u32,
    /// Global Timer Control Register.
    pub CONTROL [
        Prescaler OFFSET(8) NUMBITS(8) [],
        TimerEnable OFFSET(0) NUMBITS(1) []
    ]
];

register_structs! {
    /// Global timer block (Cortex-A9 MPCore TRM, DDI0407, 4.3).
    pub GlobalTimerRegisters {
        /// Global Timer Counter Register, bits [31:0].
        (0x00 => counter_lo: ReadWrite<u32>),
        /// Global Timer Counter Register, bits [63:32].
        (0x04 => counter_hi: ReadWrite<u32>),
        /// Global Timer Control Register.
        (0x08 => control: ReadWrite<u32, CONTROL::Register>),
        /// Global Timer Interrupt Status Register.
        (0x0C => interrupt_status: ReadWrite<u32>),
        /// Comparator Value Register, bits [31:0].
        (0x10 => comparator_lo: ReadWrite<u32>),
        /// Comparator Value Register, bits [63:32].
        (0x14 => comparator_hi: ReadWrite<u32>),
        /// Auto-increment Register.
        (0x18 => auto_increment: ReadWrite<u32>),
        (0x1C => @END),
    }
}

pub struct GlobalTimer {
    regs: *const GlobalTimerRegisters,
}

impl GlobalTimer {
    /// # Safety
    /// `base` is the global timer block.
    pub const unsafe fn new(base: usize) -> Self {
        Self {
            regs: base as *const GlobalTimerRegisters,
        }
    }

    fn regs(&self) -> &GlobalTimerRegisters {
        // SAFETY: `new`'s caller vouched that the pointer is the device's
        // register block, which lives for the whole run.
        unsafe { &*self.regs }
    }

    /// Start counting from the current value, prescaler 0.
    pub fn start(&self) {
        self.regs().control.write(CONTROL::TimerEnable::SET);
    }

    pub fn low(&self) -> u32 {
        self.regs().counter_lo.get()
    }

    /// The 64-bit count, read hi/lo/hi as the TRM prescribes.
    pub fn count(&self) -> u64 {
        loop {
            let hi = self.regs().counter_hi.get();
            let lo = self.regs().counter_lo.get();
            if self.regs().counter_hi.get() == hi {
                return ((hi as u64) << 32) | lo as u64;
            }
        }
    }
}

// SAFETY: a handle is only a pointer to the global timer's MMIO block;
// every access is a single volatile load or store. Read-modify-write
// sequences are serialised by the caller (boot code on one core, or a lock).
unsafe impl Send for GlobalTimer {}
// SAFETY: as for `Send`.
unsafe impl Sync for GlobalTimer {}
