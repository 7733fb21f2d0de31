//! Test guest: checks the direct map the monitor installed (PA = VA).
//!
//! - The guest starts with its MMU on (`paging = "direct"`): SCTLR.M is set
//!   before its first instruction and it has no table code of its own.
//! - Through ATS1CPR and PAR it checks that its RAM (code, data, stack),
//!   its devices and its MPCore page translate to themselves, that its
//!   16 MiB RAM is one supersection (PAR.SS), and that addresses outside
//!   its regions (the monitor's reservation, the table area, the console
//!   UART, another guest's RAM and device) fault.
//! - Scenario `partitions/tests/directmap.toml`: an HRT guest on core 0
//!   (uart1, timer0) and a direct-mapped SRT guest on core 1 (uart2,
//!   timer1), 32 MiB apart. Prints one parseable line per check, then
//!   `directmap: done failures=<n>`, and idles.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use board_qemu_vexpress as board;
use mvm_guest::{cpu, hypercall, println};

const SS: u32 = 1 << 1;

fn identity(va: u32) -> bool {
    let par = cpu::translate_pl1_read(va);
    let pa = if par & SS != 0 {
        (par & 0xFF00_0000) | (va & 0x00FF_F000)
    } else {
        par & 0xFFFF_F000
    };
    par & 1 == 0 && pa == va & 0xFFFF_F000
}

fn faults(va: u32) -> bool {
    cpu::translate_pl1_read(va) & 1 != 0
}

fn main() -> ! {
    let mut name = [0u8; 32];
    let me = hypercall::info(&mut name).expect("INFO with a buffer on our own stack is accepted");
    let mut failures = 0;
    let mut check = |ok: bool, what: &str| {
        if !ok {
            failures += 1;
        }
        println!("directmap: {what} {}", if ok { "ok" } else { "FAILED" });
    };

    let sctlr = cpu::sctlr();
    check(sctlr & 1 != 0, "mmu on");
    check(sctlr & (1 << 2) != 0 && sctlr & (1 << 12) != 0, "caches on");

    let ram = mvm_guest::ram();
    let local = 0u32;
    let stack = core::ptr::addr_of!(local) as usize as u32;
    let code = main as *const () as usize as u32;
    let last = ram.end().wrapping_sub(4);
    check(
        [ram.base, last, code, stack].iter().all(|&a| identity(a)),
        "ram identity",
    );
    check(identity(stack), "stack identity");
    let par = cpu::translate_pl1_read(ram.base);
    check(par & SS != 0 && par & 1 == 0, "ram supersection");
    check(par & (1 << 9) != 0, "non-secure translation");

    let (own, other) = if me.core == 0 {
        (["uart1", "timer0"], "uart2")
    } else {
        (["uart2", "timer1"], "uart1")
    };
    let gicc = board::GICC_BASE as u32;
    let global_timer = board::GLOBAL_TIMER_BASE as u32;
    check(
        own.iter().all(|d| identity(board::device_base(d) as u32))
            && identity(gicc)
            && identity(global_timer),
        "devices identity",
    );
    // Device windows are 4 KiB: the next page of the same MiB is not mapped.
    check(
        faults(board::device_base(own[0]) as u32 + 0x1_0000 + 0x3000),
        "device neighbour -> fault",
    );

    // The scenario places the two guests 32 MiB apart.
    let other_guest = ram.base ^ 0x0200_0000;
    let outside = [
        ("monitor", board::BOARD.monitor_reservation.base as u32),
        ("tables", board::BOARD.table_area.base as u32),
        ("console", board::CONSOLE_UART_BASE as u32),
        ("other guest ram", other_guest),
        ("other guest device", board::device_base(other) as u32),
        ("past ram", ram.end()),
    ];
    let mut all = true;
    for (what, va) in outside {
        let f = faults(va);
        all &= f;
        println!(
            "directmap: outside {what} {va:#010x} -> {}",
            if f { "fault" } else { "MAPPED" }
        );
    }
    if all {
        println!("directmap: outside -> fault");
    } else {
        failures += 1;
    }
    println!("directmap: done failures={failures}");
    // Idle: an SRT guest gives its budgets back, an HRT guest sleeps (its
    // interrupts stay masked, so WFI does not return).
    loop {
        if me.level == hypercall::Level::Srt {
            hypercall::yield_now();
        } else {
            cpu::wait_for_interrupt();
        }
    }
}

mvm_guest::entry!(main);
