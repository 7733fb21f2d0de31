//! Test guest: greedy; measures what it executes in every period.
//!
//! - Never yields, never waits: it wants its whole budget every period
//!   (and any idle time its server may take).
//! - Timestamps its own execution with the MPCore global timer every
//!   [`SPIN`] register-only loop iterations. Two consecutive reads less
//!   than [`GAP_NS`] apart enclose only its own instructions; a longer
//!   jump is time away (another guest, or the monitor: any monitor entry
//!   costs more than the threshold's slack over the loop).
//! - Learns its server's period, budget and current release from the
//!   STATS hypercall (docs/hypercalls.md): jobs are released at
//!   `release_ns + k * period_ns`, the global timer's clock. It sums its
//!   own execution per period, splitting a timed interval at a release.
//! - Reports, every [`REPORT_NS`] or so of periods:
//!   `mvm-greedy guest=<name> periods=<n> min_ns=<n> max_ns=<n>
//!   period_ns=<n> budget_ns=<n> skipped=<n> resolution_ns=<GAP_NS>`:
//!   over the complete periods seen so far (not the first, in which it
//!   started, nor the one in progress), the least and the most it executed
//!   in one. A period in
//!   which it printed is skipped (counted in `skipped`): the time spent
//!   printing cannot be told apart from time away.
//! - Under `-icount shift=0` a nanosecond is one instruction. Run it with
//!   the other core idle: QEMU runs the emulated cores round-robin, and a
//!   busy other core delays this core's timer interrupts.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use board::global_timer::GlobalTimer;
use board_qemu_vexpress as board;
use mvm_guest::{cpu, hypercall, println};

/// Register-only iterations between timer reads (two instructions each):
/// about 100 ns a loop under `-icount shift=0`.
const SPIN: u32 = 40;
/// A jump in the timer longer than this is time away, not the loop. It is
/// also the guest's resolution: the most a timed interval may hold of
/// someone else's time without being noticed.
const GAP_NS: u64 = 250;
/// About how often (in periods' worth of time) the guest reports.
const REPORT_NS: u64 = 200_000_000;

// SAFETY: the global timer is readable from the Non-secure world (the
// monitor grants it in the SCU); reads have no side effects.
static GLOBAL_TIMER: GlobalTimer = unsafe { GlobalTimer::new(board::GLOBAL_TIMER_BASE) };

/// The global timer extended to 64 bits from 32-bit reads (one I/O access
/// each, instead of three), in nanoseconds. Sound while no two reads are
/// more than 2^32 ticks (42 s) apart.
struct Clock {
    ticks: u64,
    low: u32,
    ns_per_tick: u64,
}

impl Clock {
    fn start() -> Self {
        let ticks = GLOBAL_TIMER.count();
        Clock {
            ticks,
            low: ticks as u32,
            ns_per_tick: 1_000_000_000 / board::PERIPHCLK_HZ as u64,
        }
    }

    fn ns(&mut self) -> u64 {
        let low = GLOBAL_TIMER.low();
        self.ticks += low.wrapping_sub(self.low) as u64;
        self.low = low;
        self.ticks * self.ns_per_tick
    }
}

/// What the guest received per complete period, so far.
struct Tally {
    periods: u64,
    min_ns: u64,
    max_ns: u64,
    skipped: u64,
}

fn main() -> ! {
    let mut name = [0u8; 32];
    let me = hypercall::info(&mut name).expect("INFO with a buffer on our own stack is accepted");
    let name = core::str::from_utf8(&name[..me.name_len.min(name.len())]).unwrap_or("?");
    let server = hypercall::stats();
    let (period, budget) = (server.period_ns, server.budget_ns);
    if period == 0 || budget == 0 {
        println!("greedy: `{name}` has no server period (an HRT guest, or an older STATS record)");
        loop {
            cpu::spin(1_000_000);
        }
    }
    println!(
        "greedy: `{name}` on core {}: period {period} ns, budget {budget} ns; measuring",
        me.core
    );
    let report_every = (REPORT_NS / period).max(1);
    let mut clock = Clock::start();
    let mut last = clock.ns();
    // The period in progress ends at `end`; the one we started in is not
    // complete, so it is not tallied.
    let mut end = server.release_ns + period;
    while end <= last {
        end += period;
    }
    let mut first = true;
    // Time executed in the period in progress; it holds a print if the
    // period started before `printed_until`.
    let mut received = 0u64;
    let mut printed_until = 0u64;
    let mut tally = Tally {
        periods: 0,
        min_ns: u64::MAX,
        max_ns: 0,
        skipped: 0,
    };
    let mut report_due = false;
    loop {
        cpu::spin(SPIN);
        let t = clock.ns();
        let ran = t - last <= GAP_NS;
        let mut from = last;
        while t >= end {
            if ran {
                received += end - from;
            }
            from = end;
            if first {
                first = false;
            } else if end - period < printed_until {
                tally.skipped += 1;
            } else {
                tally.periods += 1;
                tally.min_ns = tally.min_ns.min(received);
                tally.max_ns = tally.max_ns.max(received);
                report_due |= tally.periods % report_every == 0;
            }
            received = 0;
            end += period;
        }
        if ran {
            received += t - from;
        }
        last = t;
        if report_due {
            report_due = false;
            println!(
                "mvm-greedy guest={name} periods={} min_ns={} max_ns={} period_ns={period} budget_ns={budget} skipped={} resolution_ns={GAP_NS}",
                tally.periods, tally.min_ns, tally.max_ns, tally.skipped
            );
            // The print's time is not counted, and every period it
            // touched is skipped.
            last = clock.ns();
            printed_until = last;
        }
    }
}

mvm_guest::entry!(main);
