//! The emulated board for CI: QEMU `vexpress-a9,secure=on`, two cores.
//!
//! - QEMU's vexpress-a9 has the same Cortex-A9 MPCore and TrustZone as the
//!   Zynq-7000; its own Zynq model has no TrustZone, so CI runs here.
//! - This crate is the only place that names this board's physical addresses.
//! - The catalogue is plain data, shared by `mvm-config` (validation) and the
//!   kernel image (drivers, interrupt routing).
#![no_std]
#![forbid(unsafe_code)]

pub mod catalogue;

pub use catalogue::BOARD;
