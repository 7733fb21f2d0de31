//! Cortex-A9 MPCore private timer: one 32-bit down counter per core (PPI 29).
use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::{register_bitfields, register_structs, registers::ReadWrite};

register_bitfields![u32,
    /// Private Timer Control Register.
    pub CONTROL [
        Prescaler OFFSET(8) NUMBITS(8) [],
        IRQEnable OFFSET(2) NUMBITS(1) [],
        AutoReload OFFSET(1) NUMBITS(1) [],
        TimerEnable OFFSET(0) NUMBITS(1) []
    ]
];

register_structs! {
    /// Private timer block (Cortex-A9 MPCore TRM, DDI0407, 4.2), banked.
    pub PrivateTimerRegisters {
        /// Private Timer Load Register.
        (0x00 => load: ReadWrite<u32>),
        /// Private Timer Counter Register.
        (0x04 => counter: ReadWrite<u32>),
        /// Private Timer Control Register.
        (0x08 => control: ReadWrite<u32, CONTROL::Register>),
        /// Private Timer Interrupt Status Register (write 1 to clear).
        (0x0C => interrupt_status: ReadWrite<u32>),
        (0x10 => @END),
    }
}

pub struct PrivateTimer {
    regs: *const PrivateTimerRegisters,
}

impl PrivateTimer {
    /// # Safety
    /// `base` is the private timer block; it belongs to the monitor.
    pub const unsafe fn new(base: usize) -> Self {
        Self {
            regs: base as *const PrivateTimerRegisters,
        }
    }

    fn regs(&self) -> &PrivateTimerRegisters {
        // SAFETY: `new`'s caller vouched that the pointer is the device's
        // register block, which lives for the whole run.
        unsafe { &*self.regs }
    }

    /// One interrupt after `ticks` ticks (auto-reload off).
    pub fn one_shot(&self, ticks: u32) {
        self.regs().control.set(0);
        self.regs().interrupt_status.set(1);
        self.regs().load.set(ticks);
        self.regs()
            .control
            .write(CONTROL::TimerEnable::SET + CONTROL::IRQEnable::SET);
    }

    /// One interrupt after `(prescaler + 1) * (load + 1)` ticks.
    pub fn one_shot_prescaled(&self, prescaler: u8, load: u32) {
        self.regs().control.set(0);
        self.regs().interrupt_status.set(1);
        self.regs().load.set(load);
        self.regs().control.write(
            CONTROL::TimerEnable::SET
                + CONTROL::IRQEnable::SET
                + CONTROL::Prescaler.val(prescaler as u32),
        );
    }

    /// Restarts a one-shot that [`PrivateTimer::one_shot_prescaled`]
    /// started with prescaler 0 and that has not been stopped since: it
    /// fires after `load + 1` ticks. One store: writing the load register
    /// also writes the counter, and an expired one-shot keeps its enable
    /// bit. The event flag is left as it is (clear it first if it may be
    /// set, or the interrupt stays asserted).
    pub fn reload(&self, load: u32) {
        self.regs().load.set(load);
    }

    /// Whether the event flag is set (the count reached zero).
    pub fn event(&self) -> bool {
        self.regs().interrupt_status.get() & 1 != 0
    }

    /// Periodic interrupts every `ticks` ticks.
    pub fn periodic(&self, ticks: u32) {
        self.regs().control.set(0);
        self.regs().interrupt_status.set(1);
        self.regs().load.set(ticks);
        self.regs()
            .control
            .write(CONTROL::TimerEnable::SET + CONTROL::IRQEnable::SET + CONTROL::AutoReload::SET);
    }

    pub fn stop(&self) {
        self.regs().control.set(0);
    }

    /// Clear the event flag (one store).
    pub fn acknowledge(&self) {
        self.regs().interrupt_status.set(1);
    }

    /// Clear the event flag; returns whether it was set.
    pub fn clear_event(&self) -> bool {
        let was = self.regs().interrupt_status.get() & 1 != 0;
        self.regs().interrupt_status.set(1);
        was
    }
}

// SAFETY: a handle is only a pointer to the private timer's MMIO block (banked
// per core);
// every access is a single volatile load or store. Read-modify-write
// sequences are serialised by the caller (boot code on one core, or a lock).
unsafe impl Send for PrivateTimer {}
// SAFETY: as for `Send`.
unsafe impl Sync for PrivateTimer {}
