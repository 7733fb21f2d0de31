//! The EDF decision timed on the target, under QEMU's instruction counting.
//!
//! - Bare metal on QEMU `vexpress-a9,secure=on`, started with `-kernel` in
//!   Secure SVC mode; core 0 runs everything, other cores park.
//! - For 2, 3, 12 and 64 servers ([`servers`]) it drives
//!   `mvm_kernel::edf::Edf` from event to event as the monitor's
//!   `decision_bench` does (`now = until`), times the decisions with the
//!   MPCore global timer (100 MHz in QEMU: under `-icount shift=0` a tick
//!   is 10 instructions) and prints one line per size on the PL011 console:
//!   `mvm-bench edf servers=<n> decision_ns=<mean> decisions=<count>
//!   min_ns=<least> max_ns=<most>`, then ends the run through semihosting.
//! - `tools/tests/edf_bench.rs` builds and runs it; docs/performance.md
//!   holds the figures.
#![cfg_attr(target_os = "none", no_std, no_main)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

#[cfg(target_os = "none")]
mod image;
#[cfg_attr(not(target_os = "none"), allow(dead_code))]
mod servers;

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("edf-bench runs on QEMU: build it with --target armv7a-none-eabi (tools/tests/edf_bench.rs)");
}
