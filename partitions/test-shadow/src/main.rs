//! Test guest: shadow paging, from the guest's side.
//!
//! - Two of these run on one core, each linked at the same guest-physical
//!   address (`guest_base`) over different physical memory. Each maps a
//!   data page of its own at a virtual address both use, writes a signature
//!   derived from its name there, yields many times and checks it finds its
//!   own signature after every switch.
//! - Hostile MAP requests, each refused with the documented code: another
//!   guest's and its own *physical* memory, the monitor's reservation, the
//!   table area, a device it does not own, misaligned addresses, unknown
//!   flags, executable device memory, an occupied page, a bad space id,
//!   the top page of the address space; then pool exhaustion.
//! - Prints `shadow: <check> ok` or `shadow: <check> FAILED …`, the cost of
//!   MAP and UNMAP in instructions, and `shadow: done failures=<n>`.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use board::global_timer::GlobalTimer;
use board_qemu_vexpress as board;
use mvm_guest::hypercall::{self, abi, Error};
use mvm_guest::mmu::{Flags, Space, PAGE};
use mvm_guest::println;

/// The guest-physical base both guests are linked at (shadow.toml).
const GUEST_BASE: u32 = 0x8000_0000;
/// Where each maps its data page, and which page of its RAM that is.
const DATA_VA: u32 = 0x4000_0000;
const DATA_GPA: u32 = GUEST_BASE + 0x8_0000;
/// Physical bases of the two guests' RAM (shadow.toml).
const PHYSICAL: [u32; 2] = [0x7200_0000, 0x7300_0000];
/// Switches to survive.
const ROUNDS: u32 = 300;
/// MAP / UNMAP calls timed.
const TIMED: u32 = 64;

// SAFETY: the global timer is readable from the Non-secure world; the
// monitor maps the MPCore page into the boot space.
static GLOBAL_TIMER: GlobalTimer = unsafe { GlobalTimer::new(board::GLOBAL_TIMER_BASE) };

static mut FAILURES: u32 = 0;

fn check(what: &str, ok: bool) {
    if ok {
        println!("shadow: {what} ok");
    } else {
        println!("shadow: {what} FAILED");
        // SAFETY: one thread of execution; no reference is held.
        unsafe { FAILURES += 1 };
    }
}

fn refused(what: &str, got: Result<(), Error>, want: i32) {
    match got {
        Err(Error(code)) if code == want => println!("shadow: hostile {what} -> {code} ok"),
        other => {
            println!("shadow: hostile {what} FAILED: {other:?}, expected {want}");
            // SAFETY: as in `check`.
            unsafe { FAILURES += 1 };
        }
    }
}

fn signature(name: &str) -> u32 {
    name.bytes().fold(0x811C_9DC5u32, |h, b| {
        (h ^ b as u32).wrapping_mul(0x0100_0193)
    })
}

fn main() -> ! {
    let mut name = [0u8; 32];
    let me = hypercall::info(&mut name).expect("INFO with a buffer on our own stack is accepted");
    let name = core::str::from_utf8(&name[..me.name_len.min(name.len())]).unwrap_or("?");
    let sig = signature(name);
    let code = main as *const () as usize as u32;
    println!("shadow: `{name}` running at {code:#010x}, signature {sig:#010x}");
    check(
        "linked at the shared guest-physical base",
        code >= GUEST_BASE,
    );

    let boot = Space::BOOT;
    check(
        "map own data page",
        boot.map(DATA_VA, DATA_GPA, Flags::DATA).is_ok(),
    );
    let data = DATA_VA as *mut u32;
    let alias = DATA_GPA as *const u32;
    // SAFETY: DATA_VA now maps a page of this guest's own RAM, which no
    // Rust object uses (the image and stacks are far below offset 0x8_0000).
    unsafe { data.write_volatile(sig) };
    // SAFETY: the boot space maps the guest's RAM at its guest-physical
    // address; the same page, read through the other mapping.
    check(
        "data page aliases its guest-physical page",
        unsafe { alias.read_volatile() } == sig,
    );

    let at = DATA_VA + PAGE;
    for (what, gpa) in [
        (
            "other guest's physical memory",
            PHYSICAL[(me.id as usize + 1) % 2],
        ),
        ("own physical memory", PHYSICAL[me.id as usize % 2]),
        ("monitor reservation", 0x6000_0000),
        ("table area", 0x60F0_0000),
        ("device not owned (uart1)", 0x1000_A000),
        ("console uart0", 0x1000_9000),
        ("past the end of its RAM", GUEST_BASE + 0x10_0000),
        ("top page (wrapping)", 0xFFFF_F000),
    ] {
        refused(what, boot.map(at, gpa, Flags::DATA), abi::DENIED);
    }
    refused(
        "misaligned guest-physical",
        boot.map(at, DATA_GPA + 4, Flags::DATA),
        abi::INVALID_PARAMETER,
    );
    refused(
        "unknown flag bits",
        boot.map_raw(at | 0x10, DATA_GPA),
        abi::INVALID_PARAMETER,
    );
    refused(
        "executable device",
        boot.map(
            at,
            0x1000_B000 + 0x1000 * (me.id % 2),
            Flags {
                executable: true,
                ..Flags::DEVICE
            },
        ),
        abi::INVALID_PARAMETER,
    );
    refused(
        "occupied virtual page",
        boot.map(DATA_VA, DATA_GPA, Flags::DATA),
        abi::ALREADY_MAPPED,
    );
    refused(
        "virtual page inside its boot section",
        boot.map(GUEST_BASE + 0x9_0000, DATA_GPA, Flags::DATA),
        abi::ALREADY_MAPPED,
    );
    refused(
        "bad space id",
        Space(7).map(at, DATA_GPA, Flags::DATA),
        abi::INVALID_PARAMETER,
    );
    refused(
        "space not created",
        Space(1).map(at, DATA_GPA, Flags::DATA),
        abi::INVALID_PARAMETER,
    );
    // SAFETY: refused calls change nothing.
    refused(
        "switch to a bad space",
        unsafe { Space(9).switch() },
        abi::INVALID_PARAMETER,
    );
    // SAFETY: the current space cannot be destroyed; the call is refused.
    refused(
        "destroy the current space",
        unsafe { boot.destroy() },
        abi::INVALID_PARAMETER,
    );
    // SAFETY: nothing is mapped there.
    refused(
        "unmap an unmapped page",
        unsafe { boot.unmap(at) },
        abi::NOT_MAPPED,
    );

    // MAP and UNMAP cost: pages in the data page's MiB (its L2 table
    // exists), each call timed by the global timer (10 instructions a tick
    // under -icount shift=0; the loop's own few instructions included).
    let t0 = GLOBAL_TIMER.low();
    let mut mapped = 0;
    for i in 1..=TIMED {
        mapped += boot
            .map(DATA_VA + i * PAGE, DATA_GPA, Flags::READ_ONLY)
            .is_ok() as u32;
    }
    let t1 = GLOBAL_TIMER.low();
    for i in 1..=TIMED {
        // SAFETY: these pages were just mapped and are not used.
        let _ = unsafe { boot.unmap(DATA_VA + i * PAGE) };
    }
    let t2 = GLOBAL_TIMER.low();
    check("timed maps accepted", mapped == TIMED);
    let per = |ticks: u32| ticks as u64 * 10 / TIMED as u64;
    println!(
        "mvm-shadow guest={name} map_instructions={} unmap_instructions={}",
        per(t1.wrapping_sub(t0)),
        per(t2.wrapping_sub(t1))
    );

    // A second space: created, mapped, flushed, destroyed.
    match Space::create() {
        Ok(s) => {
            check("second space created", s == Space(1));
            check("map into it", s.map(DATA_VA, DATA_GPA, Flags::DATA).is_ok());
            check("flush it", s.flush().is_ok());
            check(
                "switch to the current space",
                unsafe { boot.switch() }.is_ok(),
            );
            // SAFETY: never switched to.
            check("destroy it", unsafe { s.destroy() }.is_ok());
        }
        Err(e) => {
            println!("shadow: second space FAILED: {e:?}");
            // SAFETY: as in `check`.
            unsafe { FAILURES += 1 };
        }
    }

    // Pool exhaustion: each new MiB of virtual space takes an L2 table.
    let mut tables = 0;
    let last = loop {
        let va = 0x5000_0000 + tables * 0x10_0000;
        match boot.map(va, DATA_GPA, Flags::READ_ONLY) {
            Ok(()) => tables += 1,
            Err(e) => break e,
        }
        if tables > 300 {
            break Error(0);
        }
    };
    refused("pool exhausted", Err(last), abi::NO_MEMORY);
    println!("shadow: pool exhausted after {tables} more page tables; still running");

    // Many switches: after each, the data page still holds our signature.
    let mut intact = true;
    for _ in 0..ROUNDS {
        hypercall::yield_now();
        // SAFETY: DATA_VA maps our own data page (above).
        intact &= unsafe { data.read_volatile() } == sig;
    }
    check("own data after many switches", intact);
    println!(
        "shadow: switched in {} times",
        hypercall::stats().switches_in
    );
    // SAFETY: no other reference to FAILURES.
    let failures = unsafe { FAILURES };
    println!("shadow: done failures={failures}");
    hypercall::halt()
}

mvm_guest::entry!(main);
