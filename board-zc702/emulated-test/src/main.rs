//! The board-zc702 drivers on QEMU's `xilinx-zynq-a9`, checked from inside.
//!
//! - QEMU's Zynq model has the Cadence UARTs, the TTCs, the SLCR and the
//!   MPCore block at 0xF8F0_0000, but one core and no TrustZone: this image
//!   runs in Secure SVC as the only world and tests what does not need
//!   the Security Extensions.
//! - Each check prints one line on UART1 (the monitor's console); the run
//!   ends through semihosting with 0 when every check passed, 1 when one
//!   failed, 3 on an unexpected exception, 101 on a panic.
//! - `board-zc702/tests/emulated.rs` builds and runs it and reads the lines.
#![cfg_attr(target_os = "none", no_std, no_main)]
#![deny(unsafe_op_in_unsafe_fn)]

#[cfg(target_os = "none")]
mod image;

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("zc702-emulated-test runs on QEMU: build it with --target armv7a-none-eabi");
}
