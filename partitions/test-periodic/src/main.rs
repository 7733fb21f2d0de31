//! Test guest: a periodic SRT server that works and yields.
//!
//! - Each job does a fixed amount of work (about [`WORK_INSTRUCTIONS`]
//!   instructions of register-only spinning, cheap in wall time under
//!   QEMU) and then yields the rest of its budget.
//! - A guest whose name ends in `-greedy` never yields: it wants its whole
//!   budget every period, and any idle time the monitor gives it.
//! - A guest whose name ends in `-idle` does no work: it yields as soon as
//!   each job starts (a server that only adds to the scheduler's load, as
//!   in the switch benchmarks with many servers).
//! - Prints nothing hot: a greeting, then one line every
//!   [`REPORT_EVERY`] jobs with its own STATS figures.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use mvm_guest::{cpu, hypercall, println};

/// About 100 µs of work under `-icount shift=0`.
const WORK_INSTRUCTIONS: u32 = 100_000;
const REPORT_EVERY: u32 = 100;

fn main() -> ! {
    let mut name = [0u8; 32];
    let me = hypercall::info(&mut name).expect("INFO with a buffer on our own stack is accepted");
    let name = core::str::from_utf8(&name[..me.name_len.min(name.len())]).unwrap_or("?");
    let greedy = name.ends_with("-greedy");
    let work = if name.ends_with("-idle") {
        0
    } else {
        WORK_INSTRUCTIONS / 2
    };
    println!(
        "periodic: `{name}` on core {}: {}",
        me.core,
        if greedy {
            "greedy, never yields"
        } else if work == 0 {
            "yields at once every job"
        } else {
            "works about 100 us per job, then yields"
        }
    );
    if greedy {
        loop {
            cpu::spin(1_000_000);
        }
    }
    let mut done = 0u32;
    let mut next_report = REPORT_EVERY;
    loop {
        cpu::spin(work);
        done += 1;
        if done == next_report {
            next_report += REPORT_EVERY;
            let s = hypercall::stats();
            println!(
                "periodic: {done} jobs done; stats jobs={} misses={} used_ns={} slack_ns={} entries={}",
                s.jobs,
                s.misses,
                s.used_ns,
                s.slack_ns,
                s.entries()
            );
        }
        hypercall::yield_now();
    }
}

mvm_guest::entry!(main);
