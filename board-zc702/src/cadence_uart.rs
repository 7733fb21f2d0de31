//! Cadence UART (Zynq-7000 UART0/UART1, UG585 ch. 19), polled transmit.
//!
//! - The line rate is `UART_REF_CLK / (CD * (BDIV + 1))` (UG585 19.2, the
//!   baud rate generator).
//!   [`BaudDivisors::for_rate`] picks the exact best pair on the host and at
//!   build time; the driver only writes it.
//! - [`CadenceUart::init`] sets 115200 8N1 the way the FSBL leaves the
//!   console, so the monitor may re-initialise it without a glitch on the
//!   line, and may run where nothing initialised it (QEMU, JTAG loading).
use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::{
    register_bitfields, register_structs, registers::ReadOnly, registers::ReadWrite,
    registers::WriteOnly,
};

register_bitfields![u32,
    /// Control_reg0: UART control register.
    pub CONTROL [
        /// Stop transmitter break.
        STPBRK OFFSET(8) NUMBITS(1) [],
        /// Start transmitter break.
        STTBRK OFFSET(7) NUMBITS(1) [],
        /// Restart receiver timeout counter.
        RSTTO OFFSET(6) NUMBITS(1) [],
        /// Transmit disable.
        TXDIS OFFSET(5) NUMBITS(1) [],
        /// Transmit enable.
        TXEN OFFSET(4) NUMBITS(1) [],
        /// Receive disable.
        RXDIS OFFSET(3) NUMBITS(1) [],
        /// Receive enable.
        RXEN OFFSET(2) NUMBITS(1) [],
        /// Software reset for the transmit data path (self-clearing).
        TXRES OFFSET(1) NUMBITS(1) [],
        /// Software reset for the receive data path (self-clearing).
        RXRES OFFSET(0) NUMBITS(1) []
    ],
    /// mode_reg0: UART mode register.
    pub MODE [
        /// Channel mode.
        CHMODE OFFSET(8) NUMBITS(2) [
            Normal = 0,
            AutomaticEcho = 1,
            LocalLoopback = 2,
            RemoteLoopback = 3
        ],
        /// Number of stop bits.
        NBSTOP OFFSET(6) NUMBITS(2) [One = 0, OneAndAHalf = 1, Two = 2],
        /// Parity type select (1xx: no parity).
        PAR OFFSET(3) NUMBITS(3) [Even = 0, Odd = 1, Space = 2, Mark = 3, None = 4],
        /// Character length select.
        CHRL OFFSET(1) NUMBITS(2) [Bits8 = 0, Bits7 = 2, Bits6 = 3],
        /// Clock source select: UART_REF_CLK or UART_REF_CLK / 8.
        CLKS OFFSET(0) NUMBITS(1) [RefClk = 0, RefClkDiv8 = 1]
    ],
    /// Channel_sts_reg0: channel status register.
    pub CHANNEL_STS [
        /// Transmitter FIFO nearly full.
        TNFUL OFFSET(14) NUMBITS(1) [],
        /// Transmitter FIFO trigger.
        TTRIG OFFSET(13) NUMBITS(1) [],
        /// Receiver flow delay trigger.
        FDELT OFFSET(12) NUMBITS(1) [],
        /// Transmitter state machine active.
        TACTIVE OFFSET(11) NUMBITS(1) [],
        /// Receiver state machine active.
        RACTIVE OFFSET(10) NUMBITS(1) [],
        /// Transmitter FIFO full.
        TFUL OFFSET(4) NUMBITS(1) [],
        /// Transmitter FIFO empty.
        TEMPTY OFFSET(3) NUMBITS(1) [],
        /// Receiver FIFO full.
        RFUL OFFSET(2) NUMBITS(1) [],
        /// Receiver FIFO empty.
        REMPTY OFFSET(1) NUMBITS(1) [],
        /// Receiver FIFO trigger.
        RTRIG OFFSET(0) NUMBITS(1) []
    ]
];

register_structs! {
    /// Cadence UART register block (UG585 appendix B, uart).
    pub CadenceUartRegisters {
        /// Control_reg0: UART control register.
        (0x00 => control: ReadWrite<u32, CONTROL::Register>),
        /// mode_reg0: UART mode register.
        (0x04 => mode: ReadWrite<u32, MODE::Register>),
        /// Intrpt_en_reg0: interrupt enable register.
        (0x08 => intrpt_en: WriteOnly<u32>),
        /// Intrpt_dis_reg0: interrupt disable register.
        (0x0C => intrpt_dis: WriteOnly<u32>),
        /// Intrpt_mask_reg0: interrupt mask register.
        (0x10 => intrpt_mask: ReadOnly<u32>),
        /// Chnl_int_sts_reg0: channel interrupt status (write 1 to clear).
        (0x14 => chnl_int_sts: ReadWrite<u32>),
        /// Baud_rate_gen_reg0: baud rate generator (CD).
        (0x18 => baud_rate_gen: ReadWrite<u32>),
        /// Rcvr_timeout_reg0: receiver timeout.
        (0x1C => rcvr_timeout: ReadWrite<u32>),
        /// Rcvr_FIFO_trigger_level0: receiver FIFO trigger level.
        (0x20 => rcvr_fifo_trigger_level: ReadWrite<u32>),
        /// Modem_ctrl_reg0: modem control.
        (0x24 => modem_ctrl: ReadWrite<u32>),
        /// Modem_sts_reg0: modem status.
        (0x28 => modem_sts: ReadWrite<u32>),
        /// Channel_sts_reg0: channel status.
        (0x2C => channel_sts: ReadOnly<u32, CHANNEL_STS::Register>),
        /// TX_RX_FIFO0: transmit and receive FIFO.
        (0x30 => tx_rx_fifo: ReadWrite<u32>),
        /// Baud_rate_divider_reg0: baud rate divider (BDIV).
        (0x34 => baud_rate_divider: ReadWrite<u32>),
        /// Flow_delay_reg0: flow control delay.
        (0x38 => flow_delay: ReadWrite<u32>),
        (0x3C => _reserved0),
        /// Tx_FIFO_trigger_level0: transmitter FIFO trigger level.
        (0x44 => tx_fifo_trigger_level: ReadWrite<u32>),
        (0x48 => @END),
    }
}

/// Every interrupt source of `Chnl_int_sts_reg0` (bits 12:0).
const ALL_INTERRUPTS: u32 = 0x1FFF;

/// The two divisors that set the line rate: `CD` in `Baud_rate_gen_reg0`,
/// `BDIV` in `Baud_rate_divider_reg0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BaudDivisors {
    /// Baud rate generator divisor, 2..=65535 (0 stops the generator and 1
    /// bypasses it; neither is a divisor).
    pub cd: u16,
    /// Baud rate divider, 4..=255: each bit lasts `BDIV + 1` samples.
    pub bdiv: u8,
}

impl BaudDivisors {
    /// The smallest BDIV the hardware accepts.
    pub const BDIV_MIN: u8 = 4;
    /// The smallest CD that divides (1 is bypass).
    pub const CD_MIN: u16 = 2;

    /// The divisors whose rate is closest to `baud` from a `ref_clk_hz`
    /// reference (CLKS = UART_REF_CLK); on a tie, the smallest BDIV (the
    /// one the Xilinx drivers pick first). Out of range, the nearest
    /// extreme pair; None only for 0 baud.
    pub const fn for_rate(ref_clk_hz: u32, baud: u32) -> Option<Self> {
        if baud == 0 {
            return None;
        }
        let mut best: Option<Self> = None;
        let mut bdiv = Self::BDIV_MIN as u32;
        while bdiv <= 255 {
            let samples = baud as u64 * (bdiv as u64 + 1);
            // The two CDs around the exact quotient, clamped to the legal
            // range; one of them is the closest for this BDIV.
            let cd_low = ref_clk_hz as u64 / samples;
            let mut i = 0;
            while i < 2 {
                let cd = clamp(cd_low + i, Self::CD_MIN as u64, u16::MAX as u64);
                let candidate = Self {
                    cd: cd as u16,
                    bdiv: bdiv as u8,
                };
                best = match best {
                    Some(b) if !candidate.closer_than(b, ref_clk_hz, baud) => Some(b),
                    _ => Some(candidate),
                };
                i += 1;
            }
            bdiv += 1;
        }
        best
    }

    /// UART_REF_CLK cycles per bit.
    pub const fn cycles_per_bit(self) -> u64 {
        self.cd as u64 * (self.bdiv as u64 + 1)
    }

    /// The rate these divisors give, in millibaud (rounded down).
    pub const fn rate_millibaud(self, ref_clk_hz: u32) -> u64 {
        ref_clk_hz as u64 * 1000 / self.cycles_per_bit()
    }

    /// The rate error against `baud`, in parts per million (rounded up).
    pub const fn error_ppm(self, ref_clk_hz: u32, baud: u32) -> u64 {
        let k = self.cycles_per_bit() as u128;
        let (clk, baud) = (ref_clk_hz as u128, baud as u128);
        // |clk / k - baud| / baud = |clk - baud k| / (baud k)
        let diff = clk.abs_diff(baud * k);
        (diff * 1_000_000).div_ceil(baud * k) as u64
    }

    /// Whether `self` is strictly closer to `baud` than `other`, compared
    /// exactly: |clk/k1 - baud| < |clk/k2 - baud|.
    const fn closer_than(self, other: Self, ref_clk_hz: u32, baud: u32) -> bool {
        let (k1, k2) = (
            self.cycles_per_bit() as u128,
            other.cycles_per_bit() as u128,
        );
        let (clk, baud) = (ref_clk_hz as u128, baud as u128);
        clk.abs_diff(baud * k1) * k2 < clk.abs_diff(baud * k2) * k1
    }
}

const fn clamp(x: u64, low: u64, high: u64) -> u64 {
    if x < low {
        low
    } else if x > high {
        high
    } else {
        x
    }
}

/// The console's divisors on the ZC702: 100 MHz / (124 x 7) = 115207 baud.
pub const CONSOLE_DIVISORS: BaudDivisors =
    match BaudDivisors::for_rate(crate::UART_REF_CLK_HZ, crate::CONSOLE_BAUD) {
        Some(d) => d,
        None => panic!("115200 baud is reachable from UART_REF_CLK"),
    };

/// A polled Cadence UART transmitter.
pub struct CadenceUart {
    regs: *const CadenceUartRegisters,
}

impl CadenceUart {
    /// # Safety
    /// `base` is the address of a Cadence UART (identity mapped or MMU
    /// off), accessible in the current security state, that no other code
    /// drives concurrently.
    pub const unsafe fn new(base: usize) -> Self {
        Self {
            regs: base as *const CadenceUartRegisters,
        }
    }

    fn regs(&self) -> &CadenceUartRegisters {
        // SAFETY: `new`'s caller vouched that the pointer is the device's
        // register block, which lives for the whole run.
        unsafe { &*self.regs }
    }

    /// 8N1, normal mode, interrupts off, at the rate `divisors` give from
    /// UART_REF_CLK (UG585 19.3: disable, program mode and divisors,
    /// reset the data paths, enable).
    pub fn init(&self, divisors: BaudDivisors) {
        self.regs()
            .control
            .write(CONTROL::TXDIS::SET + CONTROL::RXDIS::SET);
        self.regs().mode.write(
            MODE::CHMODE::Normal
                + MODE::NBSTOP::One
                + MODE::PAR::None
                + MODE::CHRL::Bits8
                + MODE::CLKS::RefClk,
        );
        self.regs().intrpt_dis.set(ALL_INTERRUPTS);
        self.regs().chnl_int_sts.set(ALL_INTERRUPTS);
        self.regs().baud_rate_gen.set(divisors.cd as u32);
        self.regs().baud_rate_divider.set(divisors.bdiv as u32);
        self.regs()
            .control
            .write(CONTROL::TXRES::SET + CONTROL::RXRES::SET);
        // The resets clear themselves once the FIFOs are empty; the loop is
        // bounded by a few UART_REF_CLK cycles.
        while self.regs().control.is_set(CONTROL::TXRES)
            || self.regs().control.is_set(CONTROL::RXRES)
        {
            core::hint::spin_loop();
        }
        self.regs()
            .control
            .write(CONTROL::TXEN::SET + CONTROL::RXEN::SET + CONTROL::STPBRK::SET);
    }

    /// The divisors programmed now (what the boot loader left, before
    /// [`CadenceUart::init`]).
    pub fn divisors(&self) -> (u32, u32) {
        (
            self.regs().baud_rate_gen.get(),
            self.regs().baud_rate_divider.get(),
        )
    }

    /// Waits for room in the 64-byte TX FIFO, then queues `byte`.
    pub fn write_byte(&self, byte: u8) {
        while self.regs().channel_sts.is_set(CHANNEL_STS::TFUL) {
            core::hint::spin_loop();
        }
        self.regs().tx_rx_fifo.set(byte as u32);
    }

    /// Writes `bytes`, each `\n` as `\r\n`.
    pub fn write_bytes(&self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' {
                self.write_byte(b'\r');
            }
            self.write_byte(b);
        }
    }

    /// Waits until the last queued bit has left the transmitter (before a
    /// reset or a power-off, so the line shows all of it).
    pub fn flush(&self) {
        while !self.regs().channel_sts.is_set(CHANNEL_STS::TEMPTY)
            || self.regs().channel_sts.is_set(CHANNEL_STS::TACTIVE)
        {
            core::hint::spin_loop();
        }
    }
}

impl core::fmt::Write for CadenceUart {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.write_bytes(s.as_bytes());
        Ok(())
    }
}

// SAFETY: a handle is only a pointer to a UART's MMIO block; every access is
// a single volatile load or store. Sequences (init, a line of output) are
// serialised by the caller (boot code on one core, or a lock).
unsafe impl Send for CadenceUart {}
// SAFETY: as for `Send`.
unsafe impl Sync for CadenceUart {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_divisors_on_the_zc702() {
        let d = CONSOLE_DIVISORS;
        assert_eq!(d, BaudDivisors { cd: 124, bdiv: 6 });
        assert_eq!(d.cycles_per_bit(), 868);
        assert_eq!(d.rate_millibaud(100_000_000), 115_207_373);
        assert_eq!(d.error_ppm(100_000_000, 115_200), 65);
    }

    #[test]
    fn other_reference_clocks() {
        // 50 MHz (a common UART_CLK_CTRL divisor of 20): 434 cycles a bit.
        let d = BaudDivisors::for_rate(50_000_000, 115_200).expect("reachable");
        assert_eq!(d, BaudDivisors { cd: 62, bdiv: 6 });
        // A rate that divides exactly has no error.
        let d = BaudDivisors::for_rate(100_000_000, 100_000).expect("reachable");
        assert_eq!(d.error_ppm(100_000_000, 100_000), 0);
        assert_eq!(d.cycles_per_bit(), 1000);
    }

    #[test]
    fn unreachable_rates() {
        assert_eq!(BaudDivisors::for_rate(100_000_000, 0), None);
        // Fastest: CD 2, BDIV 4 -> 10 cycles a bit.
        assert_eq!(
            BaudDivisors::for_rate(100_000_000, 10_000_000),
            Some(BaudDivisors { cd: 2, bdiv: 4 })
        );
        // Slowest: CD 65535 x 256 cycles a bit is about 6 baud at 100 MHz;
        // 1 baud still gets the slowest pair rather than nothing.
        let d = BaudDivisors::for_rate(100_000_000, 1).expect("slowest pair");
        assert_eq!(
            d,
            BaudDivisors {
                cd: 65535,
                bdiv: 255
            }
        );
    }

    /// The search against every (CD, BDIV) pair, for a few common rates.
    #[test]
    fn matches_an_exhaustive_search() {
        for (clk, baud) in [
            (100_000_000u32, 115_200u32),
            (100_000_000, 9_600),
            (50_000_000, 921_600),
        ] {
            let mut best: Option<(u128, u128, BaudDivisors)> = None; // (diff, k)
            for bdiv in 4..=255u32 {
                for cd in 2..=65535u32 {
                    let k = cd as u128 * (bdiv as u128 + 1);
                    let diff = (clk as u128).abs_diff(baud as u128 * k);
                    let better = match best {
                        None => true,
                        Some((bd, bk, _)) => diff * bk < bd * k,
                    };
                    if better {
                        best = Some((
                            diff,
                            k,
                            BaudDivisors {
                                cd: cd as u16,
                                bdiv: bdiv as u8,
                            },
                        ));
                    }
                }
            }
            let (_, _, oracle) = best.expect("some pair");
            let found = BaudDivisors::for_rate(clk, baud).expect("reachable");
            assert_eq!(
                found.error_ppm(clk, baud),
                oracle.error_ppm(clk, baud),
                "{clk} Hz, {baud} baud: {found:?} vs {oracle:?}"
            );
            // The Linux and Xilinx drivers accept up to 3 %.
            assert!(
                found.error_ppm(clk, baud) < 30_000,
                "within a UART's tolerance"
            );
        }
    }
}
