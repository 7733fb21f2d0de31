//! The monitor's board module for QEMU `vexpress-a9,secure=on` (CI).
//!
//! - Every board module gives the monitor the same few items, and only
//!   these (the interface is documented in `docs/architecture.md`):
//!   `board` (the board crate, for the MPCore bases and the catalogue),
//!   `Console`, `console`, `init_console`, `CLOCK`, `secure_devices`,
//!   `start_secondary_cores`, `end_run`.
//! - QEMU needs nothing of the Secure set-up beyond the GIC and the SCU:
//!   its vexpress has no TrustZone address-space controllers, and both
//!   cores run `_start` at reset. A run ends with a semihosting exit, whose
//!   status becomes QEMU's.

use mvm_kernel::config::System;
use mvm_kernel::semihosting;
use mvm_kernel::timing::Clock;

pub use board_qemu_vexpress as board;

/// The monitor's console: UART0, a PL011.
pub type Console = board::pl011::Pl011;

/// The monitor's console, not initialised.
///
/// # Safety
/// UART0 is the monitor's (the catalogue keeps it from guests); the caller
/// serialises the handles' users (a lock, or a report that must not wait
/// for one).
pub const unsafe fn console() -> Console {
    // SAFETY: as the caller vouches.
    unsafe { Console::new(board::CONSOLE_UART_BASE) }
}

/// Core 0, first thing: 115200 8N1 (QEMU ignores the rate).
pub fn init_console(uart: &mut Console) {
    uart.init();
}

/// Whether the loader's parameters (`.mvm_parameters`: the run's length)
/// are to be read: QEMU's RAM starts zeroed and `cargo mvm run --for`
/// writes them with its generic loader.
pub const LOADER_PARAMETERS: bool = true;

/// PERIPHCLK: QEMU's timers count at 100 MHz, 10 ns a tick.
pub const CLOCK: Clock = Clock::hz(board::PERIPHCLK_HZ);

/// Core 0, before the guests: nothing to secure beyond the GIC and SCU.
pub fn secure_devices(_system: &System, _out: &mut Console) {}

/// Core 0, after `arch::release_secondary_cores`: nothing to do, every
/// core entered `_start` at reset and waits there for the release.
pub fn start_secondary_cores(_out: &mut Console) {}

/// The end of a run: QEMU exits with `status` (semihosting).
pub fn end_run(_out: &mut Console, status: u32) -> ! {
    semihosting::exit(status)
}
