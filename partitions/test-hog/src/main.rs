//! Test guest: a hog. It never yields, masks its own interrupts and spins.
//!
//! - `cpsid if` masks IRQ; FIQ stays open because SCR.FW = 0 makes CPSR.F
//!   read-only for the Non-secure world, so the monitor's timer still
//!   takes the core back when the hog's budget (or slack slice) is spent.
//! - Prints one greeting, then nothing: its figures are in the monitor's
//!   `mvm-stats` lines.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use mvm_guest::{cpu, println};

fn main() -> ! {
    println!("hog: hello; masking my interrupts and spinning for good");
    // SAFETY: masking this guest's own interrupts; it never unmasks them.
    unsafe { core::arch::asm!("cpsid if", options(nomem, nostack, preserves_flags)) };
    let f_masked = cpu::cpsr() & (1 << 6) != 0;
    if f_masked {
        // Not expected: SCR.FW = 0. Say so, the scenario checks for it.
        println!("hog: CPSR.F is set: the monitor's FIQ is masked");
    }
    loop {
        cpu::spin(1_000_000);
    }
}

mvm_guest::entry!(main);
