//! Timer arithmetic: counter ticks and nanoseconds, private-timer one-shots.
//!
//! - The Cortex-A9 global timer and private timers count the same clock
//!   (PERIPHCLK); the board gives its frequency.
//! - A one-shot never fires late: the caller waits out the last fraction of
//!   a prescaled tick on the global timer, so the end of a run lands on the
//!   requested nanosecond (give or take one global-timer tick).

pub const NS_PER_S: u64 = 1_000_000_000;

/// Nanoseconds in `ticks` of a `hz` clock, rounded down.
pub fn ticks_to_ns(ticks: u64, hz: u32) -> u64 {
    let hz = hz as u64;
    if hz <= NS_PER_S && (NS_PER_S / hz) * hz == NS_PER_S {
        // The common case (100 MHz: 10 ns a tick) without a 128-bit divide.
        ticks.saturating_mul(NS_PER_S / hz)
    } else {
        (ticks as u128 * NS_PER_S as u128 / hz as u128).min(u64::MAX as u128) as u64
    }
}

/// Ticks of a `hz` clock in `ns`, rounded up.
pub fn ns_to_ticks_ceil(ns: u64, hz: u32) -> u64 {
    (ns as u128 * hz as u128).div_ceil(NS_PER_S as u128) as u64
}

/// A private-timer programming: it fires after
/// `(prescaler + 1) * (load + 1)` ticks (Cortex-A9 MPCore TRM, 4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OneShot {
    pub prescaler: u8,
    pub load: u32,
}

impl OneShot {
    /// Ticks until it fires.
    pub fn ticks(self) -> u64 {
        (self.prescaler as u64 + 1) * (self.load as u64 + 1)
    }

    /// The longest interval one shot can time.
    pub const MAX_TICKS: u64 = 256 * (1 << 32);

    /// The programming that fires as late as possible but no later than
    /// `remaining` ticks from now (at least 1 tick), using the smallest
    /// prescaler that reaches; an interval beyond [`OneShot::MAX_TICKS`]
    /// fires after the maximum and must be re-armed.
    pub fn at_most(remaining: u64) -> Self {
        let remaining = remaining.clamp(1, Self::MAX_TICKS);
        let prescaler = remaining.div_ceil(1 << 32) - 1;
        let load = remaining / (prescaler + 1) - 1;
        Self {
            prescaler: prescaler as u8,
            load: load as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HZ: u32 = 100_000_000;

    #[test]
    fn conversions() {
        assert_eq!(ticks_to_ns(123, HZ), 1230);
        assert_eq!(ticks_to_ns(u64::MAX, HZ), u64::MAX, "saturates");
        assert_eq!(ticks_to_ns(3, 3), 1_000_000_000);
        assert_eq!(ticks_to_ns(1, 3_000_000_000), 0);
        assert_eq!(ns_to_ticks_ceil(1230, HZ), 123);
        assert_eq!(ns_to_ticks_ceil(1231, HZ), 124);
        assert_eq!(ns_to_ticks_ceil(0, HZ), 0);
        assert_eq!(ns_to_ticks_ceil(u64::MAX, HZ), u64::MAX / 10 + 1);
    }

    #[test]
    fn one_shot_never_late_and_close() {
        for remaining in [
            1u64,
            2,
            1000,
            (1 << 32) - 1,
            1 << 32,
            (1 << 32) + 1,
            3 << 32,
            (3 << 32) + 12345,
            OneShot::MAX_TICKS - 1,
            OneShot::MAX_TICKS,
        ] {
            let s = OneShot::at_most(remaining);
            assert!(s.ticks() <= remaining, "{remaining}: {s:?} is late");
            assert!(
                remaining - s.ticks() <= s.prescaler as u64,
                "{remaining}: {s:?} is early by more than one prescaled tick"
            );
        }
    }

    #[test]
    fn one_shot_limits() {
        assert_eq!(
            OneShot::at_most(0),
            OneShot {
                prescaler: 0,
                load: 0
            }
        );
        assert_eq!(
            OneShot::at_most(u64::MAX),
            OneShot {
                prescaler: 255,
                load: u32::MAX
            }
        );
        assert_eq!(OneShot::at_most(5_000_000_000).prescaler, 1);
    }
}
