//! SRT demo: a log line every 500 ms, paced by the TIME hypercall alone.
//!
//! - Uses no interrupt: it sleeps on TIME (`hypercall::sleep_until`) and
//!   yields while it waits, the way a cooperative guest on a shared core
//!   would.
//! - Measures the null hypercall's round trip on the global timer first:
//!   in instructions on QEMU (under `-icount shift=0` one tick is 10
//!   instructions), in nanoseconds on the ZC702 (3 ns a tick).
//! - On QEMU vexpress-a9 each line also goes out on its own UART3; on the
//!   ZC702 it has no UART (its `gpio` is not used), so only the console.
//!   The board comes from the description (`cfg(mvm_board)`, see
//!   build.rs).
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use core::fmt::Write;

use board::global_timer::GlobalTimer;
#[cfg(mvm_board = "qemu-vexpress-a9")]
use board_qemu_vexpress as board;
#[cfg(mvm_board = "zc702")]
use board_zc702 as board;
use mvm_guest::hypercall::{self, abi};
use mvm_guest::println;

const PERIOD_NS: u64 = 500_000_000;
/// Few enough to fit in one 2 ms budget, so no switch falls inside.
const ITERATIONS: u32 = 20_000;

// SAFETY: the global timer is readable from the Non-secure world (the
// monitor grants it in the SCU); reads have no side effects.
static GLOBAL_TIMER: GlobalTimer = unsafe { GlobalTimer::new(board::GLOBAL_TIMER_BASE) };

core::arch::global_asm!(
    r#"
    .arch_extension sec
    @ logger_null_loop(n): n VERSION hypercalls back to back.
    .section .text.logger_null_loop, "ax"
    .global logger_null_loop
logger_null_loop:
    push {{r4, lr}}
    mov r4, r0
1:  ldr r0, ={version}
    smc #0
    subs r4, r4, #1
    bne 1b
    pop {{r4, pc}}

    @ The same loop without the smc: its overhead.
    .section .text.logger_empty_loop, "ax"
    .global logger_empty_loop
logger_empty_loop:
    push {{r4, lr}}
    mov r4, r0
2:  ldr r0, ={version}
    subs r4, r4, #1
    bne 2b
    pop {{r4, pc}}
"#,
    version = const abi::VERSION,
);

unsafe extern "C" {
    fn logger_null_loop(n: u32);
    fn logger_empty_loop(n: u32);
}

/// The unit of [`null_hypercall_centi_units`]: a global-timer tick is 10
/// instructions under QEMU's `-icount shift=0`, and 3 ns on the ZC702.
#[cfg(mvm_board = "qemu-vexpress-a9")]
const UNIT: &str = "instructions";
#[cfg(mvm_board = "zc702")]
const UNIT: &str = "ns";

/// The null hypercall's round trip in hundredths of [`UNIT`].
fn null_hypercall_centi_units() -> u64 {
    let instructions_per_tick = 1_000_000_000 / board::PERIPHCLK_HZ as u64;
    let t0 = GLOBAL_TIMER.count();
    // SAFETY: the loop issues VERSION calls only, which touch no memory.
    unsafe { logger_null_loop(ITERATIONS) };
    let t1 = GLOBAL_TIMER.count();
    // SAFETY: as above, without the smc.
    unsafe { logger_empty_loop(ITERATIONS) };
    let t2 = GLOBAL_TIMER.count();
    let with = (t1 - t0) * instructions_per_tick;
    let without = (t2 - t1) * instructions_per_tick;
    with.saturating_sub(without) * 100 / ITERATIONS as u64
}

fn main() -> ! {
    let start = hypercall::time_ns();
    println!("logger: hello at {start} ns; a line every 500 ms");
    let centi = null_hypercall_centi_units();
    println!(
        "logger: null hypercall round trip {}.{:02} {UNIT} ({ITERATIONS} calls, loop overhead subtracted)",
        centi / 100,
        centi % 100
    );
    let mut uart = own_uart();

    let mut next = start;
    let mut entry = 0u32;
    loop {
        entry += 1;
        next += PERIOD_NS;
        hypercall::sleep_until(next);
        let ms = hypercall::time_ns() / 1_000_000;
        println!("logger: entry {entry} at {ms} ms");
        if let Some(uart) = uart.as_mut() {
            let _ = writeln!(uart, "logger: entry {entry} at {ms} ms");
        }
    }
}

/// UART3 on QEMU, initialised and greeted on.
#[cfg(mvm_board = "qemu-vexpress-a9")]
fn own_uart() -> Option<board::pl011::Pl011> {
    // SAFETY: UART3 is this guest's passthrough device; only it drives it.
    let mut uart = unsafe { board::pl011::Pl011::new(board::device_base("uart3")) };
    uart.init();
    let _ = writeln!(uart, "logger: hello on my own uart3");
    Some(uart)
}

/// No UART of its own on the ZC702.
#[cfg(mvm_board = "zc702")]
fn own_uart() -> Option<NoUart> {
    None
}

/// The UART the logger does not have on the ZC702.
#[cfg(mvm_board = "zc702")]
enum NoUart {}

#[cfg(mvm_board = "zc702")]
impl Write for NoUart {
    fn write_str(&mut self, _: &str) -> core::fmt::Result {
        match *self {}
    }
}

mvm_guest::entry!(main);
