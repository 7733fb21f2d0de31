//! Cadence triple timer counter (TTC0/TTC1, UG585 ch. 8.5): interval mode.
//!
//! - Each TTC has three independent 16-bit counters, each with its own
//!   interrupt (TTC0: IDs 42, 43, 44; TTC1: 69, 70, 71). Registers of the
//!   three sit side by side, 4 bytes apart, so the block holds 3-element
//!   arrays indexed by counter (0, 1, 2 for UG585's _1, _2, _3).
//! - Interval mode counts from 0 up to `Interval_Counter`, then wraps to 0
//!   and raises the `Iv` interrupt: one period is `interval + 1` counts, each
//!   count `2^(PS_V + 1)` clock cycles when the prescaler is on.
//! - `Interrupt_Register` clears on read: [`Ttc::take_interrupts`] is the
//!   acknowledgement, as the interrupt line is level-sensitive.
//! - Guests own the TTCs (passthrough); the monitor never touches them.
use tock_registers::interfaces::{ReadWriteable, Readable, Writeable};
use tock_registers::{
    register_bitfields, register_structs, registers::ReadOnly, registers::ReadWrite,
};

register_bitfields![u32,
    /// Clock_Control_n: clock control register.
    pub CLOCK_CONTROL [
        /// External clock edge: 1 = negative edge.
        Ex_E OFFSET(6) NUMBITS(1) [],
        /// Clock source: 0 = pclk (CPU_1x), 1 = external.
        C_Src OFFSET(5) NUMBITS(1) [Pclk = 0, External = 1],
        /// Prescale value: divide by 2^(PS_V + 1).
        PS_V OFFSET(1) NUMBITS(4) [],
        /// Prescale enable.
        PS_EN OFFSET(0) NUMBITS(1) []
    ],
    /// Counter_Control_n: operational mode and reset.
    pub COUNTER_CONTROL [
        /// Waveform polarity.
        Wave_pol OFFSET(6) NUMBITS(1) [],
        /// Output waveform enable, active low (1 = no waveform on the pin).
        Wave_en OFFSET(5) NUMBITS(1) [],
        /// Reset the counter (self-clearing).
        RST OFFSET(4) NUMBITS(1) [],
        /// Match mode.
        Match OFFSET(3) NUMBITS(1) [],
        /// Decrement (count down).
        DEC OFFSET(2) NUMBITS(1) [],
        /// Interval mode (0 = overflow mode).
        INT OFFSET(1) NUMBITS(1) [],
        /// Counter disable.
        DIS OFFSET(0) NUMBITS(1) []
    ],
    /// Interrupt_Register_n (clear on read) and Interrupt_Enable_n.
    pub INTERRUPT [
        /// Event timer overflow.
        Ev OFFSET(5) NUMBITS(1) [],
        /// Counter overflow.
        Ov OFFSET(4) NUMBITS(1) [],
        /// Match 3.
        M3 OFFSET(3) NUMBITS(1) [],
        /// Match 2.
        M2 OFFSET(2) NUMBITS(1) [],
        /// Match 1.
        M1 OFFSET(1) NUMBITS(1) [],
        /// Interval.
        Iv OFFSET(0) NUMBITS(1) []
    ]
];

register_structs! {
    /// TTC register block (UG585 appendix B, ttc), three counters.
    pub TtcRegisters {
        /// Clock_Control_1..3: clock control.
        (0x00 => clock_control: [ReadWrite<u32, CLOCK_CONTROL::Register>; 3]),
        /// Counter_Control_1..3: operational mode and reset.
        (0x0C => counter_control: [ReadWrite<u32, COUNTER_CONTROL::Register>; 3]),
        /// Counter_Value_1..3: current counter value.
        (0x18 => counter_value: [ReadOnly<u32>; 3]),
        /// Interval_Counter_1..3: interval value.
        (0x24 => interval_counter: [ReadWrite<u32>; 3]),
        /// Match_1_Counter_1..3: match value 1.
        (0x30 => match_1_counter: [ReadWrite<u32>; 3]),
        /// Match_2_Counter_1..3: match value 2.
        (0x3C => match_2_counter: [ReadWrite<u32>; 3]),
        /// Match_3_Counter_1..3: match value 3.
        (0x48 => match_3_counter: [ReadWrite<u32>; 3]),
        /// Interrupt_Register_1..3: interrupt status, cleared on read.
        (0x54 => interrupt_register: [ReadOnly<u32, INTERRUPT::Register>; 3]),
        /// Interrupt_Enable_1..3: interrupt enable.
        (0x60 => interrupt_enable: [ReadWrite<u32, INTERRUPT::Register>; 3]),
        /// Event_Control_Timer_1..3: event timer control.
        (0x6C => event_control_timer: [ReadWrite<u32>; 3]),
        /// Event_Register_1..3: event timer value.
        (0x78 => event_register: [ReadOnly<u32>; 3]),
        (0x84 => @END),
    }
}

/// An interval-mode programming: prescaler and interval value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval {
    /// `PS_V` with the prescaler on (divide by `2^(PS_V + 1)`), or None
    /// for the undivided clock.
    pub prescale: Option<u8>,
    /// `Interval_Counter`: the count wraps after this value.
    pub interval: u16,
}

impl Interval {
    /// The largest `PS_V` (divide by 65536).
    pub const PS_V_MAX: u8 = 15;
    /// The longest period: 65536 counts of 65536 cycles.
    pub const MAX_CYCLES: u64 = (1 << 16) * (1 << 16);

    /// Clock cycles per count.
    pub const fn divider(self) -> u64 {
        match self.prescale {
            None => 1,
            Some(ps_v) => 1 << (ps_v as u32 + 1),
        }
    }

    /// Clock cycles per period (one `Iv` interrupt).
    pub const fn period_cycles(self) -> u64 {
        self.divider() * (self.interval as u64 + 1)
    }

    /// The programming with the smallest prescaler (the finest resolution)
    /// whose period is as long as possible but no longer than `cycles`;
    /// None for 0 cycles or beyond [`Interval::MAX_CYCLES`].
    pub const fn at_most(cycles: u64) -> Option<Self> {
        if cycles == 0 || cycles > Self::MAX_CYCLES {
            return None;
        }
        // Divider 1, 2, 4, ... 65536; the counts needed shrink accordingly.
        let mut shift = 0u32;
        while shift <= 16 {
            let counts = cycles >> shift;
            if counts >= 1 && counts <= 1 << 16 {
                let prescale = if shift == 0 {
                    None
                } else {
                    Some((shift - 1) as u8)
                };
                return Some(Self {
                    prescale,
                    interval: (counts - 1) as u16,
                });
            }
            shift += 1;
        }
        None
    }
}

/// A TTC's three counters.
pub struct Ttc {
    regs: *const TtcRegisters,
}

impl Ttc {
    /// Counters per TTC.
    pub const COUNTERS: usize = 3;

    /// # Safety
    /// `base` is a TTC (identity mapped or MMU off), accessible in the
    /// current security state, that no other code drives concurrently.
    pub const unsafe fn new(base: usize) -> Self {
        Self {
            regs: base as *const TtcRegisters,
        }
    }

    fn regs(&self) -> &TtcRegisters {
        // SAFETY: `new`'s caller vouched that the pointer is the device's
        // register block, which lives for the whole run.
        unsafe { &*self.regs }
    }

    /// Counter `n` (0..3) counts up in interval mode from pclk, from 0, and
    /// raises `Iv` at every wrap; the interrupt is enabled, the waveform
    /// output is not.
    pub fn start_interval(&self, n: usize, setting: Interval) {
        let r = self.regs();
        r.counter_control[n].write(COUNTER_CONTROL::DIS::SET + COUNTER_CONTROL::Wave_en::SET);
        r.clock_control[n].write(match setting.prescale {
            None => CLOCK_CONTROL::C_Src::Pclk,
            Some(ps_v) => {
                CLOCK_CONTROL::C_Src::Pclk
                    + CLOCK_CONTROL::PS_EN::SET
                    + CLOCK_CONTROL::PS_V.val(ps_v as u32)
            }
        });
        r.interval_counter[n].set(setting.interval as u32);
        // Drop anything pending from before (clear on read).
        let _ = r.interrupt_register[n].get();
        r.interrupt_enable[n].write(INTERRUPT::Iv::SET);
        r.counter_control[n].write(
            COUNTER_CONTROL::INT::SET + COUNTER_CONTROL::RST::SET + COUNTER_CONTROL::Wave_en::SET,
        );
    }

    /// Stops counter `n` and masks its interrupts.
    pub fn stop(&self, n: usize) {
        self.regs().counter_control[n].modify(COUNTER_CONTROL::DIS::SET);
        self.regs().interrupt_enable[n].set(0);
    }

    /// Counter `n`'s current value.
    pub fn counter(&self, n: usize) -> u16 {
        self.regs().counter_value[n].get() as u16
    }

    /// Counter `n`'s pending interrupt bits (`INTERRUPT` layout); reading
    /// clears them and lowers the interrupt line.
    pub fn take_interrupts(&self, n: usize) -> u32 {
        self.regs().interrupt_register[n].get()
    }
}

/// The `Iv` (interval) bit of [`Ttc::take_interrupts`].
pub const INTERRUPT_INTERVAL: u32 = 1 << 0;

// SAFETY: a handle is only a pointer to a TTC's MMIO block; every access is
// a single volatile load or store. Sequences are serialised by the caller
// (one owner per TTC).
unsafe impl Send for Ttc {}
// SAFETY: as for `Send`.
unsafe impl Sync for Ttc {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clocks::CPU_1X;

    #[test]
    fn exact_fits_use_no_prescaler() {
        let i = Interval::at_most(1000).expect("fits");
        assert_eq!(
            i,
            Interval {
                prescale: None,
                interval: 999
            }
        );
        assert_eq!(i.period_cycles(), 1000);
        assert_eq!(Interval::at_most(1).expect("fits").period_cycles(), 1);
        assert_eq!(Interval::at_most(1 << 16).expect("fits").interval, 0xFFFF);
    }

    #[test]
    fn the_smallest_prescaler_that_reaches() {
        let i = Interval::at_most((1 << 16) + 1).expect("fits");
        assert_eq!(i.prescale, Some(0), "divide by 2");
        assert_eq!(i.period_cycles(), 1 << 16);
        let max = Interval::at_most(Interval::MAX_CYCLES).expect("fits");
        assert_eq!(
            max,
            Interval {
                prescale: Some(15),
                interval: 0xFFFF
            }
        );
        assert_eq!(max.period_cycles(), Interval::MAX_CYCLES);
        assert_eq!(Interval::at_most(0), None);
        assert_eq!(Interval::at_most(Interval::MAX_CYCLES + 1), None);
    }

    #[test]
    fn never_longer_and_within_one_count() {
        for cycles in [
            1u64,
            2,
            3,
            65_535,
            65_537,
            131_071,
            1_000_003,
            99_999_999,
            1 << 31,
        ] {
            let i = Interval::at_most(cycles).expect("fits");
            assert!(i.period_cycles() <= cycles, "{cycles}: {i:?}");
            assert!(cycles - i.period_cycles() < i.divider(), "{cycles}: {i:?}");
        }
    }

    #[test]
    fn a_millisecond_on_the_zc702() {
        // CPU_1x = 111.111 MHz: 1 ms is 111_111 cycles, beyond 16 bits.
        let cycles = CPU_1X.ticks_in_ns_floor(1_000_000);
        assert_eq!(cycles, 111_111);
        let i = Interval::at_most(cycles).expect("fits");
        assert_eq!(
            i,
            Interval {
                prescale: Some(0),
                interval: 55_554
            }
        );
        assert_eq!(CPU_1X.ns_in_ticks_floor(i.period_cycles()), 999_990);
    }
}
