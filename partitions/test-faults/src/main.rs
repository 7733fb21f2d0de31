//! Test guest: its own faults are delivered to its own vectors.
//!
//! - Executes an undefined instruction and makes a data abort (an unaligned
//!   load with SCTLR.A set); its handlers report each and skip the faulting
//!   instruction. The monitor takes no part: SCR.EA = 0 and the guest's
//!   VBAR route both to the guest.
//! - Then halts itself (HALT_SELF); when it is the last guest running, the
//!   monitor ends the run with status 0.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use core::sync::atomic::{AtomicU32, Ordering};

use mvm_guest::exception::{self, Exception, ExceptionFrame};
use mvm_guest::{cpu, hypercall, println};

static UNDEFINED: AtomicU32 = AtomicU32::new(0);
static DATA_ABORTS: AtomicU32 = AtomicU32::new(0);

fn on_undefined(frame: &mut ExceptionFrame) {
    UNDEFINED.fetch_add(1, Ordering::Relaxed);
    println!("faults: undefined delivered to guest");
    println!(
        "faults: (instruction at {:#010x}, handled in mode {:#x})",
        frame.pc,
        cpu::cpsr() & 0x1F
    );
    frame.pc += 4;
}

fn on_data_abort(frame: &mut ExceptionFrame) {
    // SAFETY: turning alignment checking back off only makes fewer accesses
    // fault.
    unsafe { cpu::set_alignment_check(false) };
    DATA_ABORTS.fetch_add(1, Ordering::Relaxed);
    println!(
        "faults: data abort delivered to guest, DFAR={:#010x}",
        cpu::dfar()
    );
    println!(
        "faults: (DFSR {:#x}, load at {:#010x}, handled in mode {:#x})",
        cpu::dfsr(),
        frame.pc,
        cpu::cpsr() & 0x1F
    );
    frame.pc += 4;
}

fn main() -> ! {
    println!("faults: hello; an undefined instruction and a data abort follow");
    exception::set_handler(Exception::Undefined, on_undefined);
    exception::set_handler(Exception::DataAbort, on_data_abort);

    // SAFETY: the instruction is permanently undefined; the handler above
    // skips it and changes no register the asm promised to keep.
    unsafe { core::arch::asm!("udf #0x42", options(nomem, nostack)) };

    let target = mvm_guest::ram().base + 1;
    // SAFETY: alignment checking makes the odd load fault; the handler turns
    // checking off and skips the load. The address is our own RAM.
    unsafe {
        cpu::set_alignment_check(true);
        core::arch::asm!("ldr {t}, [{a}]", t = out(reg) _, a = in(reg) target, options(nostack));
    }

    let (u, d) = (
        UNDEFINED.load(Ordering::Relaxed),
        DATA_ABORTS.load(Ordering::Relaxed),
    );
    println!("faults: done: {u} undefined, {d} data abort(s) handled; halting");
    hypercall::halt()
}

mvm_guest::entry!(main);
