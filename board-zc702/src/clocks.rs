//! The ZC702's clocks as exact fractions, and ns <-> tick conversions.
//!
//! - The 33.333 MHz PS_CLK oscillator is 100/3 MHz, so every derived clock
//!   is a fraction: PERIPHCLK is exactly 3 ns a tick, CPU_1x 9 ns. Whole-hertz
//!   figures (333_333_333) would drift by a tick every few seconds; the
//!   fractions do not, and the conversions below round in a stated
//!   direction.
//! - The PLL and divider settings are those the ZC702's `ps7_init` (the
//!   Vivado board preset, run by the FSBL) programs: ARM PLL 40 x PS_CLK,
//!   CPU 6:2:1 mode, IO PLL 30 x PS_CLK, UART_REF_CLK = IO PLL / 10 (UG585
//!   ch. 25). The monitor does not reprogram them.

/// Nanoseconds in a second.
pub const NS_PER_S: u64 = 1_000_000_000;

/// A frequency of `num / den` hertz, kept exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frequency {
    num: u64,
    den: u64,
}

impl Frequency {
    /// A whole number of hertz.
    pub const fn hz(hz: u64) -> Self {
        Self::ratio(hz, 1)
    }

    /// `num / den` hertz, in lowest terms (so that equal frequencies
    /// compare equal); `den` is not 0.
    pub const fn ratio(num: u64, den: u64) -> Self {
        assert!(den != 0, "a frequency's denominator is not 0");
        let g = gcd(num, den);
        Self {
            num: num / g,
            den: den / g,
        }
    }

    /// This clock multiplied by a PLL's feedback divider.
    pub const fn times(self, k: u64) -> Self {
        Self::ratio(self.num * k, self.den)
    }

    /// This clock divided by a clock divider.
    pub const fn divided_by(self, k: u64) -> Self {
        Self::ratio(self.num, self.den * k)
    }

    /// Whole hertz, rounded down.
    pub const fn whole_hz(self) -> u64 {
        self.num / self.den
    }

    /// Ticks that have completed after `ns` nanoseconds (rounded down).
    pub const fn ticks_in_ns_floor(self, ns: u64) -> u64 {
        saturate(ns as u128 * self.num as u128 / (self.den as u128 * NS_PER_S as u128))
    }

    /// The fewest ticks that last at least `ns` nanoseconds (rounded up):
    /// what a timeout must count so that it never fires early.
    pub const fn ticks_in_ns_ceil(self, ns: u64) -> u64 {
        saturate((ns as u128 * self.num as u128).div_ceil(self.den as u128 * NS_PER_S as u128))
    }

    /// Nanoseconds in `ticks` ticks, rounded down.
    pub const fn ns_in_ticks_floor(self, ticks: u64) -> u64 {
        saturate(ticks as u128 * self.den as u128 * NS_PER_S as u128 / self.num as u128)
    }

    /// Nanoseconds in `ticks` ticks, rounded up.
    pub const fn ns_in_ticks_ceil(self, ticks: u64) -> u64 {
        saturate((ticks as u128 * self.den as u128 * NS_PER_S as u128).div_ceil(self.num as u128))
    }
}

const fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        let r = a % b;
        a = b;
        b = r;
    }
    a
}

const fn saturate(x: u128) -> u64 {
    if x > u64::MAX as u128 {
        u64::MAX
    } else {
        x as u64
    }
}

/// PS_CLK: the ZC702's 33.333 MHz oscillator (UG850), 100/3 MHz.
pub const PS_CLK: Frequency = Frequency::ratio(100_000_000, 3);
/// ARM PLL: PS_CLK x 40 = 1333.333 MHz.
pub const ARM_PLL: Frequency = PS_CLK.times(40);
/// CPU_6x4x, the Cortex-A9 cores' clock: ARM PLL / 2 = 666.666 MHz.
pub const CPU_6X4X: Frequency = ARM_PLL.divided_by(2);
/// PERIPHCLK, the MPCore global and private timers' clock: CPU / 2 =
/// 333.333 MHz, exactly 3 ns a tick (Cortex-A9 MPCore TRM: PERIPHCLK is
/// half the CPU clock on the Zynq). QEMU models 100 MHz.
pub const PERIPHCLK: Frequency = CPU_6X4X.divided_by(2);
/// CPU_1x in 6:2:1 mode, the APB clock and the TTCs' default source:
/// CPU_6x4x / 6 = 111.111 MHz, 9 ns a tick.
pub const CPU_1X: Frequency = CPU_6X4X.divided_by(6);
/// IO PLL: PS_CLK x 30 = 1000 MHz.
pub const IO_PLL: Frequency = PS_CLK.times(30);
/// UART_REF_CLK: IO PLL / 10 = 100 MHz (`UART_CLK_CTRL` DIVISOR = 10).
pub const UART_REF_CLK: Frequency = IO_PLL.divided_by(10);

// The reference clocks below are what the ZC702 `ps7_init` of U-Boot's tree
// (`board/xilinx/zynq/zynq-zc702`, its silicon 3.0 tables) programs; a
// Linux guest is told these rates, as it cannot read the SLCR. That file's
// UART divisor is 20 (50 MHz), not the 10 above: which one the board's
// boot loader uses is to be checked on the board, and these with it.

/// SDIO_REF_CLK: IO PLL / 20 = 50 MHz (`SDIO_CLK_CTRL` DIVISOR = 20).
pub const SDIO_REF_CLK: Frequency = IO_PLL.divided_by(20);
/// CAN_REF_CLK: IO PLL / 14 / 3 = 23.81 MHz (`CAN_CLK_CTRL` DIVISOR0 = 14,
/// DIVISOR1 = 3).
pub const CAN_REF_CLK: Frequency = IO_PLL.divided_by(14).divided_by(3);
/// GEM0's transmit clock: IO PLL / 8 / 5 = 25 MHz (`GEM0_CLK_CTRL`
/// DIVISOR = 8, DIVISOR1 = 5), the rate for 100 Mb/s; 1000 Mb/s needs
/// 125 MHz, which only the SLCR (the monitor's) can set.
pub const GEM0_TX_CLK: Frequency = IO_PLL.divided_by(8).divided_by(5);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zc702_clock_tree() {
        assert_eq!(CPU_6X4X.whole_hz(), 666_666_666);
        assert_eq!(PERIPHCLK.whole_hz(), 333_333_333);
        assert_eq!(CPU_1X.whole_hz(), 111_111_111);
        assert_eq!(IO_PLL, Frequency::hz(1_000_000_000));
        assert_eq!(UART_REF_CLK, Frequency::hz(100_000_000));
        assert_eq!(SDIO_REF_CLK, Frequency::hz(50_000_000));
        assert_eq!(CAN_REF_CLK.whole_hz(), 23_809_523);
        assert_eq!(GEM0_TX_CLK, Frequency::hz(25_000_000));
    }

    #[test]
    fn periphclk_is_three_ns_a_tick() {
        assert_eq!(PERIPHCLK.ns_in_ticks_floor(1), 3);
        assert_eq!(PERIPHCLK.ns_in_ticks_ceil(1), 3);
        assert_eq!(PERIPHCLK.ns_in_ticks_floor(333_333_333), 999_999_999);
        assert_eq!(PERIPHCLK.ticks_in_ns_floor(NS_PER_S), 333_333_333);
        assert_eq!(PERIPHCLK.ticks_in_ns_ceil(NS_PER_S), 333_333_334);
        assert_eq!(PERIPHCLK.ticks_in_ns_floor(2), 0);
        assert_eq!(PERIPHCLK.ticks_in_ns_ceil(2), 1);
        assert_eq!(PERIPHCLK.ticks_in_ns_ceil(3), 1);
        assert_eq!(PERIPHCLK.ticks_in_ns_ceil(4), 2);
        // A 10 ms EDF period, the demo's figure.
        assert_eq!(PERIPHCLK.ticks_in_ns_ceil(10_000_000), 3_333_334);
        assert_eq!(CPU_1X.ns_in_ticks_floor(1), 9);
    }

    #[test]
    fn round_trips_never_lose_or_gain_a_tick() {
        for clock in [PERIPHCLK, CPU_1X, UART_REF_CLK, CPU_6X4X] {
            for ticks in [0u64, 1, 2, 3, 7, 1000, 333_333_333, 1 << 40] {
                let ns = clock.ns_in_ticks_ceil(ticks);
                assert_eq!(clock.ticks_in_ns_floor(ns), ticks, "{clock:?} {ticks}");
                let ns = clock.ns_in_ticks_floor(ticks);
                assert_eq!(clock.ticks_in_ns_ceil(ns), ticks, "{clock:?} {ticks}");
            }
            for ns in [0u64, 1, 2, 3, 999, 1_000_000, 10_000_000_000] {
                // The rounded-up count lasts at least `ns`; one tick less
                // would not.
                let ticks = clock.ticks_in_ns_ceil(ns);
                assert!(clock.ns_in_ticks_ceil(ticks) >= ns);
                if ticks > 0 {
                    assert!(clock.ns_in_ticks_floor(ticks - 1) < ns);
                }
            }
        }
    }

    #[test]
    fn conversions_saturate() {
        assert_eq!(PERIPHCLK.ns_in_ticks_floor(u64::MAX), u64::MAX);
        assert_eq!(
            PERIPHCLK.ticks_in_ns_floor(u64::MAX),
            u64::MAX / 3,
            "no overflow in the intermediate product"
        );
    }
}
