//! The emulated board for CI: QEMU `vexpress-a9,secure=on`, two cores.
//!
//! - QEMU's vexpress-a9 has the same Cortex-A9 MPCore and TrustZone as the
//!   Zynq-7000; its own Zynq model has no TrustZone, so CI runs here.
//! - This crate is the only place that names this board's physical addresses.
//! - The catalogue is plain data, shared by `mvm-config` (validation), the
//!   monitor image (drivers, interrupt routing) and the guests (which find
//!   their passthrough devices in it by name).
//! - Drivers are typed `register_structs!` blocks with the manuals' register
//!   names. Creating a driver from an address is `unsafe` (the caller vouches
//!   for the device and for exclusive use); using it afterwards is safe.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::missing_safety_doc)]
#![deny(clippy::undocumented_unsafe_blocks)]

#[forbid(unsafe_code)]
pub mod catalogue;
pub mod pl011;
pub mod sp804;

pub use mpcore::{gic, global_timer, private_timer, scu};

pub use catalogue::BOARD;
use mvm_board::Device;

/// Looks a device up in [`BOARD`]'s catalogue by name, at compile time when
/// used in a `const`; an unknown name is a compile-time error there.
pub const fn device(name: &str) -> &'static Device {
    match BOARD.device(name) {
        Some(d) => d,
        None => panic!("no such device in the qemu-vexpress-a9 catalogue"),
    }
}

/// A device's register base as a pointer-sized address.
pub const fn device_base(name: &str) -> usize {
    device(name).regs.base as usize
}

/// The monitor's console (PL011).
pub const CONSOLE_UART_BASE: usize = device_base("uart0");

/// The MPCore private memory region (PERIPHBASE).
pub const MPCORE_BASE: usize = catalogue::MPCORE_PRIVATE.base as usize;
/// Snoop Control Unit.
pub const SCU_BASE: usize = MPCORE_BASE + mpcore::SCU_OFFSET;
/// GIC CPU interface (banked per core and per security state).
pub const GICC_BASE: usize = MPCORE_BASE + mpcore::GICC_OFFSET;
/// Global timer (shared 64-bit up counter; comparator banked per core).
pub const GLOBAL_TIMER_BASE: usize = MPCORE_BASE + mpcore::GLOBAL_TIMER_OFFSET;
/// Private timer and watchdog (banked per core).
pub const PRIVATE_TIMER_BASE: usize = MPCORE_BASE + mpcore::PRIVATE_TIMER_OFFSET;
/// GIC distributor.
pub const GICD_BASE: usize = MPCORE_BASE + mpcore::GICD_OFFSET;

/// PERIPHCLK in QEMU: the global and private timers count at 100 MHz
/// (prescaler 0). Under `-icount shift=0` one tick is 10 instructions.
pub const PERIPHCLK_HZ: u32 = 100_000_000;
/// The monitor's time on either side of a guest's execution that its
/// budget clock cannot see, in PERIPHCLK ticks
/// (`mvm_kernel::monitor::Platform::GUEST_EDGE_TICKS`): measured under
/// `-icount shift=0` with a trace of the FIQ path, 37 instructions from the
/// exception to the monitor's clock reading and 104 from the reading after
/// a world switch to the guest's first instruction, so 15 ticks (150
/// instructions). `tools/tests/edf_scenarios.rs` checks from the guests'
/// side that they execute their whole budgets with it.
pub const GUEST_EDGE_TICKS: u64 = 15;
/// The SP804 timers' clock on vexpress (QEMU's `sp804` default): 1 MHz.
pub const SP804_HZ: u32 = 1_000_000;
/// `SYS_24MHZ`: the motherboard's 24 MHz counter (a system register),
/// which counts up from 0 at reset and wraps at 2^32. Linux guests read it
/// from userspace (`devmem`) to time themselves against the board rather
/// than against their own, budgeted, clocks (`tools/src/initramfs.rs`).
pub const SYS_24MHZ: usize = device_base("sysregs") + 0x5C;
/// The rate of [`SYS_24MHZ`].
pub const SYS_24MHZ_HZ: u32 = 24_000_000;

pub use mpcore::{IRQ_GLOBAL_TIMER, IRQ_PRIVATE_TIMER};

const _: () = assert!((MPCORE_BASE + mpcore::SIZE) as u64 <= catalogue::MPCORE_PRIVATE.end());
const _: () = assert!(BOARD.device_tree.gic_distributor.base == GICD_BASE as u64);
const _: () = assert!(BOARD.device_tree.gic_cpu_interface.base == GICC_BASE as u64);
const _: () = assert!(catalogue::REFCLK1MHZ.hz == SP804_HZ);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_match_the_catalogue() {
        for d in BOARD.devices {
            assert_eq!(device(d.name), d);
            assert_eq!(BOARD.device(d.name), Some(d));
        }
        assert_eq!(CONSOLE_UART_BASE, 0x1000_9000);
        assert_eq!(device_base("timer0"), 0x1001_1000);
        assert_eq!(device("timer0").interrupts, &[34]);
    }

    #[test]
    #[should_panic(expected = "no such device")]
    fn unknown_device() {
        device("uart9");
    }

    #[test]
    fn mpcore_block() {
        assert_eq!(GICC_BASE, 0x1E00_0100);
        assert_eq!(GICD_BASE, 0x1E00_1000);
        assert_eq!(PRIVATE_TIMER_BASE, 0x1E00_0600);
    }
}
