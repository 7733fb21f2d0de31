//! The monitor's board module for QEMU `vexpress-a9,secure=on` (CI).
//!
//! - Every board module gives the kernel's monitor the same interface,
//!   `mvm_kernel::monitor::Platform`, and nothing else.
//! - QEMU needs nothing of the Secure set-up beyond the GIC and the SCU:
//!   its vexpress has no TrustZone address-space controllers, and both
//!   cores run `_start` at reset. A run ends with a semihosting exit, whose
//!   status becomes QEMU's.

use board_qemu_vexpress as board;
use mvm_kernel::config::System;
use mvm_kernel::monitor::Platform;
use mvm_kernel::semihosting;
use mvm_kernel::timing::Clock;

/// QEMU's vexpress-a9 with the Security Extensions.
pub struct Board;

impl Platform for Board {
    /// UART0, a PL011.
    type Console = board::pl011::Pl011;
    const NAME: &'static str = board::BOARD.name;
    const CORES: u32 = board::BOARD.cores;
    const MPCORE_BASE: usize = board::MPCORE_BASE;
    /// PERIPHCLK: QEMU's timers count at 100 MHz, 10 ns a tick.
    const CLOCK: Clock = Clock::hz(board::PERIPHCLK_HZ);
    /// QEMU's RAM starts zeroed and `cargo mvm run --for` writes the run's
    /// length with its generic loader.
    const LOADER_PARAMETERS: bool = true;
    const GUEST_EDGE_TICKS: u64 = board::GUEST_EDGE_TICKS;

    unsafe fn console() -> Self::Console {
        // SAFETY: UART0 is the monitor's (the catalogue keeps it from
        // guests); the caller serialises the handles' users.
        unsafe { Self::Console::new(board::CONSOLE_UART_BASE) }
    }

    /// 115200 8N1 (QEMU ignores the rate).
    fn init_console(uart: &mut Self::Console) {
        uart.init();
    }

    fn write_bytes(uart: &mut Self::Console, bytes: &[u8]) {
        uart.write_bytes(bytes);
    }

    /// Nothing to secure beyond the GIC and SCU.
    fn secure_devices(_system: &System, _out: &mut Self::Console) {}

    /// Nothing to do: every core entered `_start` at reset and waits there
    /// for the release.
    fn start_secondary_cores(_out: &mut Self::Console) {}

    /// QEMU exits with `status` (semihosting).
    fn end_run(_out: &mut Self::Console, status: u32) -> ! {
        semihosting::exit(status)
    }
}
