//! Test guest: hostile hypercall arguments; every one must be refused.
//!
//! - Points console-write at the monitor's memory and UART, at another
//!   guest's memory, at ranges that wrap around or run past its own RAM, at
//!   null, with a length above the limit, and calls an unknown number.
//! - Prints each returned code as `hostile: <case> -> <r0 as i32>`, then a
//!   summary, then a heartbeat every 100 ms (the monitor must still serve
//!   it and every other guest).
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use board_qemu_vexpress as board;
use mvm_guest::hypercall::{self, abi};
use mvm_guest::println;

/// Guest regions of the demo layout; the first that is not ours stands for
/// "another guest's memory". Any address outside our own regions must be
/// refused, whoever owns it.
const NEIGHBOURS: [u32; 3] = [0x7000_0000, 0x7200_0000, 0x7400_0000];

fn main() -> ! {
    let ram = mvm_guest::ram();
    let monitor = board::BOARD.monitor_reservation.base as u32;
    let other = NEIGHBOURS
        .into_iter()
        .find(|&a| a.wrapping_sub(ram.base) >= ram.size)
        .unwrap_or(monitor);
    println!(
        "hostile: my RAM is [{:#010x}..{:#010x}), the monitor's starts at {monitor:#010x}, probing {other:#010x} as another guest's",
        ram.base,
        ram.end()
    );

    let own = b"hostile: own-memory write\n";
    let cases: [(&str, u32, [u32; 3], i32); 10] = [
        (
            "own-memory",
            abi::CONSOLE_WRITE,
            [own.as_ptr() as u32, own.len() as u32, 0],
            own.len() as i32,
        ),
        (
            "monitor-memory",
            abi::CONSOLE_WRITE,
            [monitor, 16, 0],
            abi::INVALID_PARAMETER,
        ),
        (
            "monitor-uart",
            abi::CONSOLE_WRITE,
            [board::CONSOLE_UART_BASE as u32, 4, 0],
            abi::INVALID_PARAMETER,
        ),
        (
            "other-guest",
            abi::CONSOLE_WRITE,
            [other, 16, 0],
            abi::INVALID_PARAMETER,
        ),
        (
            "wrap-around",
            abi::CONSOLE_WRITE,
            [0xFFFF_FFF0, 0x20, 0],
            abi::INVALID_PARAMETER,
        ),
        (
            "past-end",
            abi::CONSOLE_WRITE,
            [ram.end().wrapping_sub(8), 16, 0],
            abi::INVALID_PARAMETER,
        ),
        (
            "null",
            abi::CONSOLE_WRITE,
            [0, 8, 0],
            abi::INVALID_PARAMETER,
        ),
        (
            "too-long",
            abi::CONSOLE_WRITE,
            [ram.base, abi::CONSOLE_WRITE_MAX + 1, 0],
            abi::TOO_LONG,
        ),
        (
            "info-into-monitor",
            abi::INFO,
            [monitor, 16, 0],
            abi::INVALID_PARAMETER,
        ),
        ("unknown-call", 0x8600_00FF, [1, 2, 3], abi::NOT_SUPPORTED),
    ];
    let mut surprises = 0;
    for (case, id, args, expected) in cases {
        // SAFETY: the only call that writes memory is INFO, pointed at the
        // monitor's memory, which the monitor must refuse; if it did not,
        // the surprise is reported below (and the guest has no data there).
        let r = unsafe { hypercall::call(id, args) };
        let code = r[0] as i32;
        if code != expected || r[1..] != [0, 0, 0] {
            surprises += 1;
            println!(
                "hostile: {case} -> {code} (expected {expected}, r1..r3 {:x?}) SURPRISE",
                &r[1..]
            );
        } else {
            println!("hostile: {case} -> {code}");
        }
    }
    println!("hostile: {} cases, {surprises} surprises", cases.len());

    let mut next = hypercall::time_ns();
    let mut beat = 0u32;
    loop {
        beat += 1;
        next += 100_000_000;
        hypercall::sleep_until(next);
        println!("hostile: heartbeat {beat}");
    }
}

mvm_guest::entry!(main);
