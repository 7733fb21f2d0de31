//! The image: reset entry, the timed runs, semihosting exit.

use core::fmt::Write;

use board_qemu_vexpress::global_timer::GlobalTimer;
use board_qemu_vexpress::pl011::Pl011;
use board_qemu_vexpress::{CONSOLE_UART_BASE, GLOBAL_TIMER_BASE, PERIPHCLK_HZ};
use mvm_kernel::edf::{Decision, Edf, Params};
use mvm_kernel::semihosting;

use crate::servers;

// SAFETY: QEMU's vexpress-a9 has a PL011 at the catalogue's console address,
// the MMU is off, and core 0 is its only user (the other cores park before
// they touch anything).
static CONSOLE: Pl011 = unsafe { Pl011::new(CONSOLE_UART_BASE) };
// SAFETY: as for CONSOLE, the MPCore global timer at the catalogue's address.
static TIMER: GlobalTimer = unsafe { GlobalTimer::new(GLOBAL_TIMER_BASE) };

/// Nanoseconds per global-timer tick (prescaler 0).
const NS_PER_TICK: u64 = 1_000_000_000 / PERIPHCLK_HZ as u64;
/// Decisions run before the timed ones, so that the synchronous release at
/// 0 does not dominate: the monitor's `decision_bench` also starts from a
/// scheduler that has run for a while.
const WARM_UP: u32 = 1_000;
/// Decisions timed for each size.
const DECISIONS: u32 = 10_000;

core::arch::global_asm!(
    r#"
    .section .text.boot, "ax"
    .arm
    .global _start
_start:
    cpsid aif
    mrc p15, 0, r0, c0, c0, 5   @ MPIDR
    ands r0, r0, #3             @ Aff0: this core
    bne 3f
    ldr r0, =edf_bench_vectors
    mcr p15, 0, r0, c12, c0, 0  @ VBAR
    isb
    ldr sp, =__stack_top
    ldr r0, =__bss_start
    ldr r1, =__bss_end
    mov r2, #0
1:  cmp r0, r1
    strlo r2, [r0], #4
    blo 1b
    bl edf_bench_main
2:  b 2b
3:  wfi                         @ not core 0: parked for good
    b 3b

    .balign 32
edf_bench_vectors:
    b _start
    b 10f                       @ undefined instruction
    b 10f                       @ SVC (semihosting calls never get here)
    b 10f                       @ prefetch abort
    b 10f                       @ data abort
    b 10f
    b 10f                       @ IRQ
    b 10f                       @ FIQ
10: mov r0, lr
    cps #0x13                   @ report from SVC, on a fresh stack
    ldr sp, =__stack_top
    b edf_bench_fault
    .ltorg
"#
);

/// What one size measured.
struct Figures {
    decisions: u32,
    ticks: u64,
    least_ticks: u32,
    most_ticks: u32,
    /// The same decisions, each followed by `Edf::start` at once.
    with_start_ticks: u64,
}

/// One decision, as the monitor makes it: not inlined into the loop, so
/// that every size pays the same call.
#[inline(never)]
fn decide<const N: usize>(edf: &mut Edf<N>, now: u64) -> Decision {
    edf.schedule(now)
}

/// One decision and the chosen server's start without a world switch, as
/// the monitor will make them once it charges the switch to no server.
#[inline(never)]
fn decide_and_start<const N: usize>(edf: &mut Edf<N>, now: u64) -> u64 {
    let d = edf.schedule(now);
    match d.run {
        Some(_) => edf.start(now),
        None => d.until,
    }
}

/// Times `N` synthetic servers.
fn measure<const N: usize>() -> Figures {
    let mut params = [Params::default(); N];
    for (i, p) in params.iter_mut().enumerate() {
        *p = servers::server(i, N);
    }
    let mut edf: Edf<N> = Edf::new(&params, 0);
    let mut now = 0;
    for _ in 0..WARM_UP {
        now = edf.schedule(now).until;
    }
    let (start, start_now) = (edf.clone(), now);

    // The mean, exactly as `decision_bench`: the timer read only around
    // the whole run.
    let mut decisions = 0;
    let t0 = TIMER.count();
    while decisions < DECISIONS {
        let d = decide(&mut edf, now);
        decisions += 1;
        if d.until == u64::MAX {
            break;
        }
        now = d.until;
    }
    let ticks = TIMER.count() - t0;

    // The same decisions again, each with a start.
    let (mut edf, mut now) = (start.clone(), start_now);
    let t0 = TIMER.count();
    for _ in 0..decisions {
        now = decide_and_start(&mut edf, now);
    }
    let with_start_ticks = TIMER.count() - t0;

    // The same decisions again, each timed on its own (to a tick, and with
    // the two timer reads in it): the least and the most.
    let (mut edf, mut now) = (start, start_now);
    let (mut least_ticks, mut most_ticks) = (u32::MAX, 0);
    for _ in 0..decisions {
        let before = TIMER.low();
        let d = decide(&mut edf, now);
        let took = TIMER.low().wrapping_sub(before);
        least_ticks = least_ticks.min(took);
        most_ticks = most_ticks.max(took);
        now = d.until;
    }
    Figures {
        decisions,
        ticks,
        least_ticks,
        most_ticks,
        with_start_ticks,
    }
}

fn report<const N: usize>() {
    let f = measure::<N>();
    let total_ns = f.ticks * NS_PER_TICK;
    let decisions = u64::from(f.decisions.max(1));
    let _ = writeln!(
        Console,
        "mvm-bench edf servers={N} decision_ns={} decisions={} min_ns={} max_ns={} with_start_ns={}",
        (total_ns + decisions / 2) / decisions,
        f.decisions,
        u64::from(f.least_ticks) * NS_PER_TICK,
        u64::from(f.most_ticks) * NS_PER_TICK,
        (f.with_start_ticks * NS_PER_TICK + decisions / 2) / decisions,
    );
}

struct Console;

impl Write for Console {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        CONSOLE.write_bytes(s.as_bytes());
        Ok(())
    }
}

#[unsafe(no_mangle)]
extern "C" fn edf_bench_main() -> ! {
    CONSOLE.init();
    TIMER.start();
    report::<2>();
    report::<3>();
    report::<12>();
    report::<64>();
    semihosting::exit(0)
}

/// An unexpected exception: `lr` is the exception's return address.
#[unsafe(no_mangle)]
extern "C" fn edf_bench_fault(lr: u32) -> ! {
    let _ = writeln!(Console, "edf-bench: unexpected exception, lr {lr:#010x}");
    semihosting::exit(3)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let _ = writeln!(Console, "edf-bench: {info}");
    semihosting::exit(101)
}
