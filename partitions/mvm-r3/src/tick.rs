//! The kernel tick: a periodic interrupt of the guest's own timer.
//!
//! - R3 is tickless by design; a port may instead call `timer_tick` at a
//!   steady rate and ignore `pend_tick_after` (r3_kernel's `PortTimer`
//!   allows it). A steady tick keeps the timer's one line simple and makes
//!   every expiry's due time known, so each tick's latency is measured.
//! - The handler reads the timer's masked interrupt status and clears it
//!   (a Group 0 line drops when the device does); a FIQ the timer did not
//!   raise ticks nothing.
//! - On QEMU the SP804 runs one-shot, re-armed by each tick's handler for
//!   the next tick's due time (`START + k` periods on the global timer, so
//!   nothing drifts): QEMU 7.2 re-arms a periodic timer before it raises
//!   the interrupt, and under `-icount sleep=off` with every core in WFI
//!   that re-arm warps the clock to the *next* expiry first, so with a
//!   period under 100 ms (the round-robin kick) every other expiry merged
//!   into the one before (docs/guests/r3.md, "The tick"). On the ZC702 the
//!   TTC runs in interval mode: silicon has no such quirk.
//! - Time is kept in microseconds with the period's fraction carried, so
//!   a period that is no whole number of microseconds does not drift.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::devices::GLOBAL_TIMER_HZ;
use crate::global_timer;

/// The timer's period in counts and its count rate after any prescaler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub counts: u32,
    pub hz: u32,
    /// The TTC's prescaler (divide by 2^(ps + 1)), if used.
    pub prescale: Option<u32>,
}

impl Period {
    /// `us` microseconds of a timer counting at `hz`; on the TTC (16-bit
    /// interval) the smallest prescaler that fits.
    pub const fn of(us: u32, hz: u32) -> Period {
        let cycles = hz as u64 * us as u64 / 1_000_000;
        if cfg!(mvm_board_zc702) {
            let mut shift = 0;
            while shift <= 16 {
                let counts = cycles >> shift;
                if counts <= 1 << 16 {
                    return Period {
                        counts: counts as u32,
                        hz: hz >> shift,
                        prescale: if shift == 0 { None } else { Some(shift - 1) },
                    };
                }
                shift += 1;
            }
            panic!("the tick period is beyond the TTC's reach");
        }
        Period {
            counts: cycles as u32,
            hz,
            prescale: None,
        }
    }
}

#[cfg(mvm_board_qemu)]
mod hw {
    //! SP804, its first timer (Timer1Load, Timer1Control, Timer1IntClr,
    //! Timer1MIS): one-shot, 32-bit, interrupt enabled.
    const LOAD: usize = 0x00;
    const CONTROL: usize = 0x08;
    const INTCLR: usize = 0x0C;
    const MIS: usize = 0x14;
    const ENABLE: u32 = 1 << 7;
    const INT_ENABLE: u32 = 1 << 5;
    const SIZE_32: u32 = 1 << 1;
    const ONE_SHOT: u32 = 1 << 0;

    /// Re-armed by every tick (see the module's documentation).
    pub const ONE_SHOT_MODE: bool = true;

    fn reg(base: usize, offset: usize) -> *mut u32 {
        (base + offset) as *mut u32
    }

    /// Stops the timer and clears its interrupt.
    ///
    /// # Safety
    /// `base` is this guest's SP804.
    pub unsafe fn start(base: usize, _p: super::Period) {
        // SAFETY: the caller's timer.
        unsafe {
            reg(base, CONTROL).write_volatile(0);
            reg(base, INTCLR).write_volatile(1);
        }
    }

    /// One interrupt `counts` counts from now.
    ///
    /// # Safety
    /// As for [`start`].
    pub unsafe fn arm(base: usize, counts: u32) {
        // SAFETY: the caller's timer. Writing the control register
        // restarts a one-shot timer that has run down.
        unsafe {
            reg(base, LOAD).write_volatile(counts);
            reg(base, CONTROL).write_volatile(ENABLE | ONE_SHOT | INT_ENABLE | SIZE_32);
        }
    }

    /// Whether the timer raised its interrupt; clears it.
    ///
    /// # Safety
    /// As for [`start`].
    pub unsafe fn take(base: usize) -> bool {
        // SAFETY: the caller's timer.
        unsafe {
            if reg(base, MIS).read_volatile() & 1 == 0 {
                return false;
            }
            reg(base, INTCLR).write_volatile(1);
        }
        true
    }
}

#[cfg(mvm_board_zc702)]
mod hw {
    //! Cadence TTC, its first counter (Clock_Control_1, Counter_Control_1,
    //! Interval_Counter_1, Interrupt_Register_1 (clear on read),
    //! Interrupt_Enable_1; UG585 appendix B): interval mode.
    const CLOCK_CONTROL: usize = 0x00;
    const COUNTER_CONTROL: usize = 0x0C;
    const INTERVAL: usize = 0x24;
    const INTERRUPT: usize = 0x54;
    const INTERRUPT_ENABLE: usize = 0x60;
    const DIS: u32 = 1 << 0;
    const INT: u32 = 1 << 1;
    const RST: u32 = 1 << 4;
    const WAVE_EN: u32 = 1 << 5;
    const IV: u32 = 1 << 0;

    /// Periodic (interval mode).
    pub const ONE_SHOT_MODE: bool = false;

    /// Not used: the counter is periodic.
    pub unsafe fn arm(_base: usize, _counts: u32) {}

    fn reg(base: usize, offset: usize) -> *mut u32 {
        (base + offset) as *mut u32
    }

    /// # Safety
    /// `base` is this guest's TTC.
    pub unsafe fn start(base: usize, p: super::Period) {
        let clock = match p.prescale {
            None => 0,
            Some(ps) => ps << 1 | 1,
        };
        // SAFETY: the caller's timer.
        unsafe {
            reg(base, COUNTER_CONTROL).write_volatile(DIS | WAVE_EN);
            reg(base, CLOCK_CONTROL).write_volatile(clock);
            reg(base, INTERVAL).write_volatile(p.counts - 1);
            let _ = reg(base, INTERRUPT).read_volatile();
            reg(base, INTERRUPT_ENABLE).write_volatile(IV);
            reg(base, COUNTER_CONTROL).write_volatile(INT | RST | WAVE_EN);
        }
    }

    /// Whether the counter's interval interrupt was raised; reading
    /// clears it.
    ///
    /// # Safety
    /// As for [`start`].
    pub unsafe fn take(base: usize) -> bool {
        // SAFETY: the caller's timer.
        unsafe { reg(base, INTERRUPT).read_volatile() & IV != 0 }
    }
}

/// The kernel's time in microseconds, and the fraction carried.
static MICROS: AtomicU32 = AtomicU32::new(0);
static FRACTION: AtomicU64 = AtomicU64::new(0);
/// The global timer as the tick timer started: tick `k` is due `k`
/// periods later.
static START: AtomicU64 = AtomicU64::new(0);
static TICKS: AtomicU64 = AtomicU64::new(0);
static LAST_NS: AtomicU32 = AtomicU32::new(0);
static MAX_NS: AtomicU32 = AtomicU32::new(0);
static MIN_NS: AtomicU32 = AtomicU32::new(u32::MAX);
static SUM_NS: AtomicU64 = AtomicU64::new(0);
/// One-shot: when the armed expiry falls, on the global timer.
static EXPIRY: AtomicU64 = AtomicU64::new(0);

/// Tick `k`'s due time on the global timer: `k` periods after the start.
fn due(k: u64, p: Period) -> u64 {
    START.load(Ordering::Relaxed)
        + (k as u128 * p.counts as u128 * GLOBAL_TIMER_HZ as u128 / p.hz as u128) as u64
}

/// One-shot: arms the timer for tick `k`'s due time (rounded up to the
/// timer's count, so at most one count late; each due time is reckoned
/// from the start, so the lateness never adds up), and records when
/// that expiry falls. A tick already
/// due is armed one count ahead, so a late tick is delivered, never lost.
///
/// # Safety
/// As for [`start`].
unsafe fn arm(base: usize, p: Period, k: u64) {
    let left = due(k, p).saturating_sub(global_timer::count()) as u128;
    let g = GLOBAL_TIMER_HZ as u128;
    let counts = ((left * p.hz as u128 + g - 1) / g).max(1);
    let span = (counts * g / p.hz as u128) as u64;
    // The clock read again right before the arm: the division above is
    // not counted as the handler's lateness.
    EXPIRY.store(global_timer::count() + span, Ordering::Relaxed);
    // SAFETY: the caller's timer.
    unsafe { hw::arm(base, counts as u32) };
}

/// Starts the timer.
///
/// # Safety
/// `base` is this guest's tick timer (SP804 on QEMU, TTC on the ZC702);
/// called once, with CPU Lock active.
pub unsafe fn start(base: usize, p: Period) {
    START.store(global_timer::count(), Ordering::Relaxed);
    // SAFETY: the caller's timer.
    unsafe {
        hw::start(base, p);
        if hw::ONE_SHOT_MODE {
            arm(base, p, 1);
        }
    }
}

/// The kernel's time in microseconds (wraps).
pub fn micros() -> u32 {
    MICROS.load(Ordering::Relaxed)
}

/// A tick's handler, up to the kernel: whether the timer raised it;
/// `now` is the global timer as the handler began.
///
/// # Safety
/// As for [`start`]; called in the timer's interrupt handler.
pub unsafe fn take(base: usize, p: Period, now: u64) -> bool {
    // SAFETY: the caller's timer.
    if !unsafe { hw::take(base) } {
        return false;
    }
    let k = TICKS.load(Ordering::Relaxed) + 1;
    TICKS.store(k, Ordering::Relaxed);
    // Microseconds a period: counts x 1e6 / hz, the remainder carried.
    let num = p.counts as u64 * 1_000_000;
    let fraction = FRACTION.load(Ordering::Relaxed) + num % p.hz as u64;
    let carry = fraction / p.hz as u64;
    FRACTION.store(fraction % p.hz as u64, Ordering::Relaxed);
    MICROS.store(
        MICROS
            .load(Ordering::Relaxed)
            .wrapping_add((num / p.hz as u64 + carry) as u32),
        Ordering::Relaxed,
    );
    // The expiry: the armed one (one-shot), else START + k periods.
    let expiry = if hw::ONE_SHOT_MODE {
        let armed = EXPIRY.load(Ordering::Relaxed);
        // SAFETY: the caller's timer.
        unsafe { arm(base, p, k + 1) };
        armed
    } else {
        due(k, p)
    };
    let ns = (now.saturating_sub(expiry) as u128 * 1_000_000_000 / GLOBAL_TIMER_HZ as u128) as u32;
    LAST_NS.store(ns, Ordering::Relaxed);
    MAX_NS.fetch_max(ns, Ordering::Relaxed);
    MIN_NS.fetch_min(ns, Ordering::Relaxed);
    SUM_NS.fetch_add(ns as u64, Ordering::Relaxed);
    true
}

/// How late the tick handlers ran after their timer's expiry: the time
/// from the expiry (one-shot: the armed one, reckoned from the clock
/// reading a few instructions before the arm; periodic: the due time) to
/// the handler's first clock reading.
#[derive(Clone, Copy, Debug)]
pub struct Latency {
    pub ticks: u64,
    pub last_ns: u32,
    pub min_ns: u32,
    pub max_ns: u32,
    /// The mean, in hundredths of a nanosecond.
    pub mean_cns: u64,
}

pub fn latency() -> Latency {
    let ticks = TICKS.load(Ordering::Relaxed);
    Latency {
        ticks,
        last_ns: LAST_NS.load(Ordering::Relaxed),
        min_ns: MIN_NS.load(Ordering::Relaxed),
        max_ns: MAX_NS.load(Ordering::Relaxed),
        mean_cns: SUM_NS.load(Ordering::Relaxed) * 100 / ticks.max(1),
    }
}
