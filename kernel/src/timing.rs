//! Timer arithmetic: counter ticks and nanoseconds, private-timer one-shots.
//!
//! - The Cortex-A9 global timer and private timers count the same clock
//!   (PERIPHCLK); the board gives its rate as a [`Clock`], an exact ratio,
//!   because whole hertz are not exact on every board (the ZC702's
//!   PERIPHCLK is 333.333... MHz: exactly 3 ns a tick, but 333_333_333 Hz
//!   would drift by a tick every few seconds).
//! - A clock of a whole number of nanoseconds per tick (QEMU's 10 ns, the
//!   ZC702's 3 ns) converts with one multiplication or division of 64-bit
//!   integers; any other falls back to 128-bit arithmetic (a library call
//!   on Armv7-A), which the monitor's per-event conversions avoid.
//! - A one-shot never fires late: the caller waits out the last fraction of
//!   a prescaled tick on the global timer, so the end of a run lands on the
//!   requested nanosecond (give or take one global-timer tick).
#![forbid(unsafe_code)]

pub const NS_PER_S: u64 = 1_000_000_000;

/// A counter's rate, exact: `ticks` ticks last exactly `ns` nanoseconds
/// (in lowest terms, so equal rates compare equal).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    ns: u32,
    ticks: u32,
}

impl Clock {
    /// A clock of a whole number of hertz (not 0).
    pub const fn hz(hz: u32) -> Self {
        Self::ratio(NS_PER_S as u32, hz)
    }

    /// A clock of exactly `ns` nanoseconds a tick (not 0).
    pub const fn ns_per_tick(ns: u32) -> Self {
        Self::ratio(ns, 1)
    }

    /// `ticks` ticks in exactly `ns` nanoseconds (neither 0).
    pub const fn ratio(ns: u32, ticks: u32) -> Self {
        assert!(ns != 0 && ticks != 0, "a clock has a nonzero rate");
        let (mut a, mut b) = (ns, ticks);
        while b != 0 {
            let r = a % b;
            a = b;
            b = r;
        }
        Self {
            ns: ns / a,
            ticks: ticks / a,
        }
    }

    /// Nanoseconds a tick, when whole.
    pub const fn whole_ns_per_tick(self) -> Option<u32> {
        if self.ticks == 1 {
            Some(self.ns)
        } else {
            None
        }
    }
}

fn saturate(x: u128) -> u64 {
    x.min(u64::MAX as u128) as u64
}

/// Nanoseconds in `ticks` of `clock`, rounded down.
#[inline]
pub fn ticks_to_ns(ticks: u64, clock: Clock) -> u64 {
    if clock.ticks == 1 {
        // The boards' case (10 ns, 3 ns) without a 128-bit divide. It
        // would wrap only after 2^64 ns (584 years): a plain multiply,
        // since every scheduling event converts.
        ticks.wrapping_mul(clock.ns as u64)
    } else {
        saturate(ticks as u128 * clock.ns as u128 / clock.ticks as u128)
    }
}

/// Ticks of `clock` in `ns`, rounded up.
#[inline]
pub fn ns_to_ticks_ceil(ns: u64, clock: Clock) -> u64 {
    if clock.ticks == 1 {
        // The boards' case without a 128-bit divide: the monitor converts
        // at every scheduling event.
        ns.div_ceil(clock.ns as u64)
    } else {
        saturate((ns as u128 * clock.ticks as u128).div_ceil(clock.ns as u128))
    }
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
    #[inline]
    pub fn at_most(remaining: u64) -> Self {
        let remaining = remaining.clamp(1, Self::MAX_TICKS);
        if remaining <= 1 << 32 {
            // No prescaler (the scheduler's events are this close), no
            // 64-bit divide.
            return Self {
                prescaler: 0,
                load: (remaining - 1) as u32,
            };
        }
        let prescaler = remaining.div_ceil(1 << 32) - 1;
        let load = remaining / (prescaler + 1) - 1;
        Self {
            prescaler: prescaler as u8,
            load: load as u32,
        }
    }
}

/// The global-timer count at which a core's private timer must fire next:
/// the scheduler's next event `until_ns` (rounded up to a whole tick, so a
/// budget is never cut short by a fraction of a tick) or the end of a
/// bounded run (`run_end_ticks`, 0 for none), whichever comes first; `None`
/// when there is neither.
#[inline]
pub fn next_event_ticks(until_ns: u64, run_end_ticks: u64, clock: Clock) -> Option<u64> {
    let edf = (until_ns != u64::MAX).then(|| ns_to_ticks_ceil(until_ns, clock));
    let run_end = (run_end_ticks != 0).then_some(run_end_ticks);
    match (edf, run_end) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The shortest shot programmed: load 1. QEMU's private timer never fires
/// a one-shot loaded with 0 (its ptimer does not trigger on a zero load),
/// although the Cortex-A9 fires it after one tick; a target at most a tick
/// away therefore fires up to one tick (10 ns at 100 MHz) late.
pub const MIN_SHOT_TICKS: u64 = 2;

/// The one-shot that fires at `target` ticks, seen from `now`: as late as
/// possible but not after `target` (at least [`MIN_SHOT_TICKS`] away); a
/// target beyond one shot's reach fires early and is re-armed by the
/// caller.
#[inline]
pub fn shot_until(target: u64, now: u64) -> OneShot {
    OneShot::at_most(target.saturating_sub(now).max(MIN_SHOT_TICKS))
}

/// The timer programming for a core's next event, seen from `now`
/// (global-timer ticks): the scheduler's next event `until_ns` (`u64::MAX`
/// for none), rounded up to a whole tick, or the end of a bounded run
/// (`run_end_ticks`, 0 for none), whichever comes first. Returns the tick
/// it is due at (`now` if that has passed: a timer's lateness counts from
/// when it was armed) and the shot to program, or `None` when there is
/// neither.
///
/// The same result as [`next_event_ticks`] and [`shot_until`], faster on
/// the path every scheduling event takes: with a whole number of
/// nanoseconds a tick, an event less than 2^32 ns (4.29 s) away converts
/// with one 32-bit division by a constant instead of a 64-bit one (a
/// library call on the Cortex-A9, which has no divider).
#[inline(always)]
pub fn arm(until_ns: u64, now: u64, run_end_ticks: u64, clock: Clock) -> Option<(u64, OneShot)> {
    // Ticks from `now` to the scheduler's event (u64::MAX: none).
    let mut ahead = if until_ns == u64::MAX {
        u64::MAX
    } else {
        match clock.whole_ns_per_tick() {
            Some(ns) => {
                // `now` in ns is a whole number of ticks: rounding up the
                // distance rounds up the time.
                let distance = until_ns.saturating_sub(now.wrapping_mul(ns as u64));
                if distance <= u32::MAX as u64 {
                    (distance as u32).div_ceil(ns) as u64
                } else {
                    ns_to_ticks_ceil(until_ns, clock).saturating_sub(now)
                }
            }
            None => ns_to_ticks_ceil(until_ns, clock).saturating_sub(now),
        }
    };
    if run_end_ticks != 0 {
        ahead = ahead.min(run_end_ticks.saturating_sub(now));
    }
    if ahead == u64::MAX {
        return None;
    }
    let shot = if ahead < 1 << 32 {
        // No prescaler: what every scheduling event needs.
        OneShot {
            prescaler: 0,
            load: (ahead as u32).max(MIN_SHOT_TICKS as u32) - 1,
        }
    } else {
        OneShot::at_most(ahead)
    };
    Some((now + ahead, shot))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// QEMU's PERIPHCLK.
    const HZ: Clock = Clock::hz(100_000_000);
    /// The ZC702's PERIPHCLK: 1e9/3 Hz exactly.
    const ZC702: Clock = Clock::ns_per_tick(3);

    #[test]
    fn clocks_in_lowest_terms() {
        assert_eq!(HZ, Clock::ns_per_tick(10));
        assert_eq!(HZ.whole_ns_per_tick(), Some(10));
        assert_eq!(Clock::ratio(6, 2), ZC702);
        assert_eq!(Clock::hz(3), Clock::ratio(1_000_000_000, 3));
        assert_eq!(Clock::hz(3).whole_ns_per_tick(), None);
        assert_eq!(Clock::hz(333_333_333).whole_ns_per_tick(), None);
    }

    #[test]
    fn conversions() {
        assert_eq!(ticks_to_ns(123, HZ), 1230);
        assert_eq!(ticks_to_ns(3, Clock::hz(3)), 1_000_000_000);
        assert_eq!(ticks_to_ns(1, Clock::ratio(1, 3)), 0);
        assert_eq!(ns_to_ticks_ceil(1230, HZ), 123);
        assert_eq!(ns_to_ticks_ceil(1231, HZ), 124);
        assert_eq!(ns_to_ticks_ceil(0, HZ), 0);
        assert_eq!(ns_to_ticks_ceil(u64::MAX, HZ), u64::MAX / 10 + 1);
        assert_eq!(
            ns_to_ticks_ceil(u64::MAX, Clock::ratio(1, 3)),
            u64::MAX,
            "saturates"
        );
    }

    #[test]
    fn zc702_periphclk_is_exactly_3_ns() {
        assert_eq!(ticks_to_ns(333_333_333, ZC702), 999_999_999);
        assert_eq!(ticks_to_ns(1_000_000_000, ZC702), 3_000_000_000);
        assert_eq!(ns_to_ticks_ceil(NS_PER_S, ZC702), 333_333_334);
        assert_eq!(ns_to_ticks_ceil(3, ZC702), 1);
        assert_eq!(ns_to_ticks_ceil(4, ZC702), 2);
        assert_eq!(ns_to_ticks_ceil(10_000_000, ZC702), 3_333_334);
        // Whole hertz (333_333_333) would drift by a tick every 3 s (1200
        // ticks, 3.6 us, an hour); the exact clock does not.
        let hour = 3_600 * NS_PER_S;
        let rounded = Clock::hz(333_333_333);
        assert_eq!(ns_to_ticks_ceil(hour, ZC702), hour / 3);
        assert_eq!(
            ns_to_ticks_ceil(hour, ZC702) - ns_to_ticks_ceil(hour, rounded),
            1_200
        );
    }

    #[test]
    fn fast_conversion_agrees_with_the_general_one() {
        // The exact formulas for a clock of `num / den` hertz.
        let ceil = |ns: u64, num: u128, den: u128| {
            (ns as u128 * num).div_ceil(den * NS_PER_S as u128) as u64
        };
        let floor = |ticks: u64, num: u128, den: u128| {
            (ticks as u128 * den * NS_PER_S as u128 / num).min(u64::MAX as u128) as u64
        };
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for ns in [x, x >> 20, x >> 40, x % 1000] {
                assert_eq!(ns_to_ticks_ceil(ns, HZ), ceil(ns, 100_000_000, 1), "{ns}");
                assert_eq!(
                    ns_to_ticks_ceil(ns, ZC702),
                    ceil(ns, NS_PER_S as u128, 3),
                    "{ns}"
                );
                assert_eq!(ns_to_ticks_ceil(ns, Clock::hz(3)), ceil(ns, 3, 1), "{ns}");
                // Whole-nanosecond clocks multiply without saturating: the
                // counts a run reaches (below 2^64 ns) agree.
                if ns < u64::MAX / 10 {
                    assert_eq!(ticks_to_ns(ns, HZ), floor(ns, 100_000_000, 1), "{ns}");
                    assert_eq!(
                        ticks_to_ns(ns, ZC702),
                        floor(ns, NS_PER_S as u128, 3),
                        "{ns}"
                    );
                }
                assert_eq!(
                    ticks_to_ns(ns, Clock::hz(333_333_333)),
                    floor(ns, 333_333_333, 1),
                    "{ns}"
                );
            }
        }
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
    fn next_event_is_the_earlier_of_edf_and_run_end() {
        assert_eq!(next_event_ticks(1_000, 0, HZ), Some(100));
        assert_eq!(next_event_ticks(1_001, 0, HZ), Some(101), "never early");
        assert_eq!(next_event_ticks(1_000, 50, HZ), Some(50));
        assert_eq!(next_event_ticks(u64::MAX, 50, HZ), Some(50));
        assert_eq!(next_event_ticks(u64::MAX, 0, HZ), None);
        assert_eq!(shot_until(150, 100).ticks(), 50);
        assert_eq!(shot_until(100, 150).ticks(), 2, "a past target: at once");
        for gap in 0..5 {
            assert!(shot_until(100 + gap, 100).load >= 1, "never load 0 (QEMU)");
        }
        assert_eq!(shot_until(u64::MAX, 0), OneShot::at_most(u64::MAX));
    }

    #[test]
    fn arming_agrees_with_the_general_conversion() {
        // Deterministic pseudo-random cases (xorshift), near and far.
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for clock in [HZ, ZC702, Clock::hz(3), Clock::ratio(7, 3)] {
            for i in 0..20_000 {
                let now = next() % (1 << 40);
                let now_ns = ticks_to_ns(now, clock);
                let until = match i % 4 {
                    0 => now_ns.saturating_add(next() % 5_000_000_000),
                    1 => now_ns.saturating_add(next() % 1000),
                    2 => now_ns.saturating_sub(next() % 1000),
                    _ => u64::MAX,
                };
                let run_end = if i % 3 == 0 {
                    now + next() % 1_000_000
                } else {
                    0
                };
                let expected = next_event_ticks(until, run_end, clock)
                    .map(|t| (t.max(now), shot_until(t, now)));
                assert_eq!(
                    arm(until, now, run_end, clock),
                    expected,
                    "until {until} ns, now {now} ticks, run end {run_end}, {clock:?}"
                );
            }
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
