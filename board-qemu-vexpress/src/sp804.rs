//! Arm Dual-Timer Module (SP804): the first timer of a pair, periodic mode.
//!
//! A passthrough device: guests drive it from the Non-secure world; the
//! monitor never touches it.
use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::{
    register_bitfields, register_structs, registers::ReadOnly, registers::ReadWrite,
    registers::WriteOnly,
};

register_bitfields![u32,
    /// TimerXControl: timer control register.
    pub TIMER_CONTROL [
        /// Enable bit.
        TimerEn OFFSET(7) NUMBITS(1) [],
        /// Mode bit: periodic (reloads from TimerXLoad).
        TimerMode OFFSET(6) NUMBITS(1) [FreeRunning = 0, Periodic = 1],
        /// Interrupt enable bit.
        IntEnable OFFSET(5) NUMBITS(1) [],
        /// Prescale bits: divide the clock by 1, 16 or 256.
        TimerPre OFFSET(2) NUMBITS(2) [Div1 = 0, Div16 = 1, Div256 = 2],
        /// Selects a 32-bit counter.
        TimerSize OFFSET(1) NUMBITS(1) [Bits16 = 0, Bits32 = 1],
        /// Selects one-shot mode.
        OneShot OFFSET(0) NUMBITS(1) []
    ]
];

register_structs! {
    /// SP804 register block (ARM DDI 0271), first timer of the pair.
    pub Sp804Registers {
        /// Timer1Load: load register.
        (0x00 => timer1_load: ReadWrite<u32>),
        /// Timer1Value: current value register.
        (0x04 => timer1_value: ReadOnly<u32>),
        /// Timer1Control: control register.
        (0x08 => timer1_control: ReadWrite<u32, TIMER_CONTROL::Register>),
        /// Timer1IntClr: interrupt clear register.
        (0x0C => timer1_intclr: WriteOnly<u32>),
        /// Timer1RIS: raw interrupt status register.
        (0x10 => timer1_ris: ReadOnly<u32>),
        /// Timer1MIS: masked interrupt status register.
        (0x14 => timer1_mis: ReadOnly<u32>),
        /// Timer1BGLoad: background load register.
        (0x18 => timer1_bgload: ReadWrite<u32>),
        (0x1C => @END),
    }
}

/// The first timer of an SP804 pair.
pub struct Sp804 {
    regs: *const Sp804Registers,
}

impl Sp804 {
    /// # Safety
    /// `base` is an SP804 (identity mapped or MMU off) that no other code
    /// drives concurrently.
    pub const unsafe fn new(base: usize) -> Self {
        Self {
            regs: base as *const Sp804Registers,
        }
    }

    fn regs(&self) -> &Sp804Registers {
        // SAFETY: `new`'s caller vouched that the pointer is the device's
        // register block, which lives for the whole run.
        unsafe { &*self.regs }
    }

    /// An interrupt every `ticks` ticks of the timer clock (32-bit counter,
    /// no prescaler).
    pub fn start_periodic(&self, ticks: u32) {
        self.regs().timer1_control.set(0);
        self.regs().timer1_intclr.set(1);
        self.regs().timer1_load.set(ticks);
        self.regs().timer1_control.write(
            TIMER_CONTROL::TimerEn::SET
                + TIMER_CONTROL::TimerMode::Periodic
                + TIMER_CONTROL::IntEnable::SET
                + TIMER_CONTROL::TimerSize::Bits32,
        );
    }

    pub fn stop(&self) {
        self.regs().timer1_control.set(0);
    }

    /// Whether this timer's interrupt is raised (masked status).
    pub fn is_pending(&self) -> bool {
        self.regs().timer1_mis.get() & 1 != 0
    }

    /// Clears the interrupt.
    pub fn clear_interrupt(&self) {
        self.regs().timer1_intclr.set(1);
    }

    /// The counter, counting down.
    pub fn value(&self) -> u32 {
        self.regs().timer1_value.get()
    }
}

// SAFETY: a handle is only a pointer to an SP804's MMIO block; every access
// is a single volatile load or store, and the owner serialises its use.
unsafe impl Send for Sp804 {}
// SAFETY: as for `Send`.
unsafe impl Sync for Sp804 {}
