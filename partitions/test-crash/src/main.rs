//! Test guest: fails on purpose, so that the monitor restarts it
//! (docs/health.md).
//!
//! - At every start it reads its restart count (STATS) and checks that it
//!   starts clean, as the monitor promises: a `.bss` word zero, a `.data`
//!   word as built, a word in the middle of its RAM (outside its image)
//!   zero. Then it dirties all three, so a restart that did not clear its
//!   memory and restore its image shows.
//! - It beats its watchdog [`BEATS`] times (an SRT guest once a job, then
//!   it yields; an HRT guest once every 10 ms, woken by its own SP804
//!   `timer0`), then fails: on an even run by HALT_SELF with error code
//!   [`ERROR`], on an odd run by no longer beating (it goes on yielding, or
//!   waiting for its timer, silently), so that one guest shows both kinds
//!   of failure in turn.
//! - An HRT guest waits with WFI rather than spinning: under QEMU a core
//!   that never sleeps delays the other core's timer interrupts by
//!   milliseconds (docs/world-switch.md, "QEMU's round-robin").
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use core::sync::atomic::{AtomicU32, Ordering};

use board::sp804::Sp804;
use board_qemu_vexpress as board;
use mvm_guest::hypercall::{self, Level};
use mvm_guest::irq::{self, Source};
use mvm_guest::{cpu, println};

/// Heartbeats before the failure.
const BEATS: u32 = 5;
/// The error code of an even run's failure.
const ERROR: u32 = 0x2a;
/// What `.data` holds as built.
const SEED: u32 = 0x5EED_1234;

static BSS: AtomicU32 = AtomicU32::new(0);
static DATA: AtomicU32 = AtomicU32::new(SEED);
/// The HRT guest's timer interrupts.
static TICKS: AtomicU32 = AtomicU32::new(0);

// SAFETY: timer0 is the HRT guest's passthrough device; only it drives it
// (an SRT run never touches it).
static TIMER: Sp804 = unsafe { Sp804::new(board::device_base("timer0")) };

/// Its timer's interrupt, as FIQ or IRQ (`timer0` is its only line that
/// interrupts).
fn on_interrupt(_: Source) {
    TICKS.fetch_add(1, Ordering::Relaxed);
    TIMER.clear_interrupt();
}

/// An HRT guest's next timer tick (10 ms), asleep until it comes.
fn next_tick() {
    let seen = TICKS.load(Ordering::Relaxed);
    while TICKS.load(Ordering::Relaxed) == seen {
        cpu::wait_for_interrupt();
    }
}

fn main() -> ! {
    let mut name = [0u8; 32];
    let me = hypercall::info(&mut name).expect("INFO with a buffer on our own stack is accepted");
    let run = hypercall::stats().restarts;
    let ram = mvm_guest::ram();
    let probe = (ram.base + ram.size / 2) as *mut u32;
    // SAFETY: the middle of our own RAM, mapped (its boot space or direct
    // map covers every region), outside the image and the stack, which
    // lie at its start and end.
    let left = unsafe { probe.read_volatile() };
    let (bss, data) = (BSS.load(Ordering::Relaxed), DATA.load(Ordering::Relaxed));
    if bss == 0 && data == SEED && left == 0 {
        println!("crash: run {run}: memory clean");
    } else {
        println!("crash: run {run}: left-over state: bss={bss:#x} data={data:#x} probe={left:#x}");
    }
    BSS.store(0xDEAD, Ordering::Relaxed);
    DATA.store(0xBEEF, Ordering::Relaxed);
    // SAFETY: as above.
    unsafe { probe.write_volatile(0xF00D) };

    let hrt = me.level == Level::Hrt;
    if hrt {
        // A restart does not reset devices: the timer may still run from
        // the run before; it is started afresh like at a cold boot.
        TIMER.start_periodic(board::SP804_HZ / 100);
        // SAFETY: the board's GIC CPU interface; its Non-secure view is
        // banked per core and per world: this guest's own.
        unsafe { irq::take(board::GICC_BASE, on_interrupt) };
    }
    for _ in 0..BEATS {
        if hrt {
            hypercall::heartbeat();
            next_tick();
        } else {
            hypercall::heartbeat();
            hypercall::yield_now();
        }
    }
    if run % 2 == 0 {
        println!("crash: run {run}: failing with error {ERROR:#x}");
        hypercall::fail(ERROR)
    }
    println!("crash: run {run}: heartbeat stops");
    loop {
        if hrt {
            next_tick();
        } else {
            hypercall::yield_now();
        }
    }
}

mvm_guest::entry!(main);
