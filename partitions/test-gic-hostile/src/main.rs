//! Test guest: does to the GIC distributor what a stock GIC driver does at
//! start-up (Linux's `gic_dist_init`, R3-OS's `use_gic!`), over and over.
//!
//! - Runs with its MMU off (a shadow-paged guest without a pool), so its
//!   accesses are physical and reach the distributor, as a guest that owns
//!   its MMU could (docs/threat-model.md, gap 1).
//! - Each round, through the Non-secure view of the distributor: forwarding
//!   off, every shared interrupt disabled and its pending state cleared,
//!   every priority set to 0xA0 then to 0x00, every shared interrupt
//!   retargeted to this core, every line made edge-triggered, the banked
//!   lines of this core disabled and cleared, forwarding on again, and an
//!   SGI of each number sent to every other core.
//! - What it must not achieve (docs/interrupts.md): the HRT guest's lines
//!   are Group 0, so none of these writes reaches them; the other SRT
//!   guests' Group 1 lines are put back by the monitor's guard at every
//!   scheduling event of their core.
//! - Never yields: it wants its whole budget and any idle time, pauses
//!   about 100 us between rounds, and prints a line every [`REPORT_EVERY`]
//!   rounds so that the test sees it ran.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use board_qemu_vexpress as board;
use mvm_guest::{cpu, hypercall, println};

const REPORT_EVERY: u32 = 500;
/// Register-only iterations between rounds (two instructions each): about
/// 100 us. A round is some 200 device accesses, each slow for the
/// emulator in wall time; back to back they would make a 1 s run take
/// minutes, and 10 000 rounds a second are plenty to hit every window.
const PAUSE: u32 = 50_000;

/// The distributor's registers this guest writes (GICv1 offsets).
const CTLR: usize = 0x000;
const TYPER: usize = 0x004;
const ICENABLER: usize = 0x180;
const ICPENDR: usize = 0x280;
const IPRIORITYR: usize = 0x400;
const ITARGETSR: usize = 0x800;
const ICFGR: usize = 0xC00;
const SGIR: usize = 0xF00;

fn write(offset: usize, value: u32) {
    // SAFETY: the point of this guest: it writes the distributor's
    // Non-secure view, which the hardware (and QEMU) let it do.
    unsafe { core::ptr::write_volatile((board::GICD_BASE + offset) as *mut u32, value) }
}

fn read(offset: usize) -> u32 {
    // SAFETY: as for `write`; reads have no side effects here.
    unsafe { core::ptr::read_volatile((board::GICD_BASE + offset) as *const u32) }
}

/// One round of what a stock driver's start-up does, on `lines` lines.
fn round(lines: usize) {
    write(CTLR, 0);
    for n in 1..lines / 32 {
        write(ICENABLER + 4 * n, !0);
        write(ICPENDR + 4 * n, !0);
    }
    for priority in [0xA0A0_A0A0, 0] {
        for n in 8..lines / 4 {
            write(IPRIORITYR + 4 * n, priority);
        }
    }
    for n in 8..lines / 4 {
        write(ITARGETSR + 4 * n, 0x0202_0202);
    }
    for n in 2..lines / 16 {
        write(ICFGR + 4 * n, 0xAAAA_AAAA);
    }
    write(ICENABLER, !0);
    write(ICPENDR, !0);
    write(CTLR, 1);
    for sgi in 0..16 {
        // TargetListFilter = 1: every core but this one.
        write(SGIR, (1 << 24) | sgi);
    }
}

fn main() -> ! {
    let lines = 32 * ((read(TYPER) & 0x1F) as usize + 1);
    println!("gic-hostile: rewriting the distributor's {lines} lines, over and over");
    let mut rounds = 0u32;
    loop {
        round(lines);
        cpu::spin(PAUSE);
        rounds += 1;
        if rounds % REPORT_EVERY == 0 {
            println!(
                "gic-hostile: {rounds} rounds at {} ms",
                hypercall::time_ns() / 1_000_000
            );
        }
    }
}

mvm_guest::entry!(main);
