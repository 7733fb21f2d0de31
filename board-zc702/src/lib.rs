//! The target board: Xilinx Zynq-7000 ZC702 (Cortex-A9 MPCore x2).
//!
//! - This crate is the only place that names the ZC702's physical addresses.
//! - The catalogue is plain data, shared by `mvm-config` (validation) and the
//!   kernel image (drivers, interrupt routing).
//! - Figures come from the Zynq-7000 TRM (UG585): the memory map (ch. 4) and
//!   the interrupt IDs (table 7-4).
#![no_std]
#![forbid(unsafe_code)]

pub mod catalogue;

pub use catalogue::BOARD;
