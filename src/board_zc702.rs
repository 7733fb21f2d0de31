//! The monitor's board module for the Xilinx ZC702 (Zynq-7000).
//!
//! - Same interface as `board_qemu.rs`: `mvm_kernel::monitor::Platform`.
//! - Console: UART1, the USB-UART, a Cadence UART re-initialised at
//!   115200 8N1 from the 100 MHz UART_REF_CLK the boot loader set.
//! - Secure set-up: the SLCR's TrustZone registers (`TZ_DDR_RAM` from the
//!   monitor's reservation, OCM and the DMAC Secure, the guests' DMA
//!   masters Non-secure) and the NIC-301 slave security bits of the
//!   guests' passthrough devices; a guest device whose bit is not known
//!   yet stays Secure, with a boot warning. The SLCR is locked afterwards.
//! - CPU1 waits in the boot ROM until its entry is written to 0xFFFF_FFF0
//!   and an event is sent (`smp`); it then runs `_start` like core 0.
//! - A run ends with a last line on the console and the core parked:
//!   there is no host to exit to.

use core::fmt::Write;

use board::slcr::Slcr;
use board::trustzone::{self, SlaveSecurity};
use mvm_kernel::config::System;
use mvm_kernel::timing::Clock;
use mvm_kernel::{arch, sysreg};

use board_zc702 as board;
use mvm_kernel::monitor::Platform;

/// The Xilinx ZC702.
pub struct Board;

impl Platform for Board {
    /// UART1, the USB-UART, a Cadence UART.
    type Console = board::cadence_uart::CadenceUart;
    const NAME: &'static str = board::BOARD.name;
    const CORES: u32 = board::BOARD.cores;
    const MPCORE_BASE: usize = board::MPCORE_BASE;
    const CLOCK: Clock = CLOCK;
    /// No: DDR holds whatever it held at power-on and no boot loader writes
    /// the parameters, so every run on the board is unbounded.
    const LOADER_PARAMETERS: bool = false;
    const GUEST_EDGE_TICKS: u64 = board::GUEST_EDGE_TICKS;

    unsafe fn console() -> Self::Console {
        // SAFETY: UART1 is the monitor's (the catalogue keeps it from
        // guests); the caller serialises the handles' users.
        unsafe { Self::Console::new(board::CONSOLE_UART_BASE) }
    }

    /// 115200 8N1 (CD 124, BDIV 6 from 100 MHz).
    fn init_console(uart: &mut Self::Console) {
        uart.init(board::cadence_uart::CONSOLE_DIVISORS);
    }

    fn write_bytes(uart: &mut Self::Console, bytes: &[u8]) {
        uart.write_bytes(bytes);
    }

    fn secure_devices(system: &System, out: &mut Self::Console) {
        secure_devices(system, out)
    }

    fn start_secondary_cores(out: &mut Self::Console) {
        start_secondary_cores(out)
    }

    fn end_run(out: &mut Self::Console, status: u32) -> ! {
        end_run(out, status)
    }
}

/// PERIPHCLK: CPU_6x4x / 2 = 333.333 MHz, exactly 3 ns a tick.
const CLOCK: Clock = Clock::ns_per_tick(3);
const _: () = assert!(
    board::clocks::PERIPHCLK.ns_in_ticks_floor(1) == 3
        && board::clocks::PERIPHCLK.ns_in_ticks_ceil(1) == 3
        && board::clocks::PERIPHCLK.ns_in_ticks_floor(1_000_000) == 3_000_000,
    "CLOCK is the board's PERIPHCLK"
);

/// Core 0, before the guests: the TrustZone address-space set-up (see the
/// module's notes). Warnings and a summary go to `out`.
fn secure_devices(system: &System, out: &mut board::cadence_uart::CadenceUart) {
    let mut plan = trustzone::Plan::new(board::BOARD.ram, board::BOARD.monitor_reservation);
    for g in system.guests {
        for d in g.devices {
            if !plan.add_guest_device(d.name) {
                let _ = writeln!(
                    out,
                    "mvm: warning: zc702: the TrustZone setting of `{}` (guest `{}`) is not known yet; it stays Secure and the guest's accesses to it will fault",
                    d.name, g.name
                );
            }
        }
    }
    // SAFETY: core 0 at boot, before any other core runs monitor code; the
    // SLCR and the security blocks are the monitor's (catalogue owner).
    let (slcr, slaves) = unsafe {
        (
            Slcr::new(board::SLCR_BASE),
            SlaveSecurity::new(trustzone::SLAVE_SECURITY_BASE, trustzone::GPV_SECURITY_BASE),
        )
    };
    slcr.unlock();
    for &(register, value) in &plan.tz {
        slcr.write_tz(register, value);
    }
    slaves.write(&plan.slaves);
    // Locked whatever the boot loader left: a locked SLCR is what the
    // bring-up checklist reads back.
    slcr.lock();
    let ddr = board::slcr::TzRegister::TzDdrRam;
    let _ = write!(
        out,
        "mvm: zc702: TZ_DDR_RAM {:#010x} (read back {:#010x}), SLCR locked {}; Non-secure devices:",
        plan.value(ddr).unwrap_or(0),
        slcr.read_tz(ddr),
        slcr.is_locked()
    );
    let mut any = false;
    for g in system.guests {
        for d in g.devices {
            if trustzone::device_security(d.name).is_some() {
                let _ = write!(out, " {}", d.name);
                any = true;
            }
        }
    }
    let _ = writeln!(out, "{}", if any { "" } else { " none" });
}

/// Core 0, after `arch::release_secondary_cores`: CPU1 leaves the boot ROM
/// for `_start`, where it finds the release flag already set.
fn start_secondary_cores(out: &mut board::cadence_uart::CadenceUart) {
    // SAFETY: reading OCM_CFG; core 0 is the SLCR's only user at boot.
    let slcr = unsafe { Slcr::new(board::SLCR_BASE) };
    let entry = arch::reset_entry();
    match board::smp::check_cpu1_entry(entry, slcr.ocm_high_blocks()) {
        // SAFETY: Secure, MMU off; the entry is `_start`, which sets up a
        // core from reset state; nothing else uses the mailbox.
        Ok(()) => unsafe { board::smp::start_cpu1(entry) },
        Err(e) => {
            let _ = writeln!(
                out,
                "mvm: error: zc702: CPU1 cannot be started at {entry:#010x}: {e:?}; core 1 stays in the boot ROM"
            );
        }
    }
}

/// The end of a run: the last line, then this core parks (no host to exit
/// to). The caller holds the console, so nothing prints after this line.
fn end_run(out: &mut board::cadence_uart::CadenceUart, status: u32) -> ! {
    let _ = writeln!(
        out,
        "mvm: end of run, exit status {status}; no host to exit to: core {} parked",
        sysreg::core_id()
    );
    out.flush();
    arch::park()
}
