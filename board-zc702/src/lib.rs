//! The target board: Xilinx Zynq-7000 ZC702 (Cortex-A9 MPCore x2).
//!
//! - This crate is the only place that names the ZC702's physical addresses.
//! - The catalogue is plain data, shared by `mvm-config` (validation) and the
//!   kernel image (drivers, interrupt routing).
//! - Figures come from the Zynq-7000 TRM (UG585): the memory map (ch. 4) and
//!   the interrupt IDs (table 7-4); each driver names its registers as
//!   appendix B does.
//! - Drivers are typed `register_structs!` blocks. Creating a driver from an
//!   address is `unsafe` (the caller vouches for the device and for exclusive
//!   use); using it afterwards is safe. The MPCore private block (GIC, SCU,
//!   timers) comes from the shared `mpcore` crate.
//! - Arithmetic and policy (baud divisors, timer intervals, clock
//!   conversions, the TrustZone DDR map) are plain
//!   functions tested on the host; only `smp` has Arm instructions, behind
//!   `cfg(target_arch = "arm")`.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::missing_safety_doc)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod cadence_uart;
#[forbid(unsafe_code)]
pub mod catalogue;
#[forbid(unsafe_code)]
pub mod clocks;
pub mod slcr;
pub mod smp;
pub mod trustzone;
pub mod ttc;

pub use mpcore::{gic, global_timer, private_timer, scu};

pub use catalogue::BOARD;
use mvm_board::{Device, PhysRange};

/// Looks a device up in [`BOARD`]'s catalogue by name, at compile time when
/// used in a `const`; an unknown name is a compile-time error there.
pub const fn device(name: &str) -> &'static Device {
    match BOARD.device(name) {
        Some(d) => d,
        None => panic!("no such device in the zc702 catalogue"),
    }
}

/// A device's register base as a pointer-sized address.
pub const fn device_base(name: &str) -> usize {
    device(name).regs.base as usize
}

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;

/// DDR as the CPUs see it once OCM is mapped high (UG585 table 4-1): at 0,
/// 1 GiB on the ZC702. See [`DDR_LOW_MEGABYTE`] for its first megabyte.
pub const DDR: PhysRange = BOARD.ram;

/// The first megabyte of DDR, which the CPUs do not reach as DDR after the
/// boot ROM: the low OCM shadows its first 192 KiB (`OCM_CFG`), and the
/// SCU's address filtering (Filtering Start Address, reset value
/// 0x0010_0000) keeps CPU accesses below 1 MiB off the DDR port (UG585 4.1,
/// 29.2). U-Boot undoes both ("remap DDR to zero": `OCM_CFG` = 0x1F,
/// filtering start = 0); the Xilinx FSBL does not, which is why its
/// applications link at 0x0010_0000. docs/boards/zc702.md says what this
/// means for loading the monitor.
pub const DDR_LOW_MEGABYTE: PhysRange = PhysRange::new(0, MIB);

/// On-chip memory, 256 KiB, where it sits when mapped high (`OCM_CFG`
/// RAM_HI = 0xF): 0xFFFC_0000..0x1_0000_0000 (UG585 29.2).
pub const OCM_HIGH: PhysRange = PhysRange::new(0xFFFC_0000, 256 * KIB);
/// OCM moves between low and high addresses in 64 KiB blocks (`OCM_CFG`
/// RAM_HI bit n = block n); its TrustZone granule is 4 KiB (`TZ_OCM_RAMn`).
pub const OCM_BLOCK_SIZE: u64 = 64 * KIB;

/// The system-level control registers (clocks, resets, TrustZone settings).
pub const SLCR_BASE: usize = catalogue::SLCR.base as usize;

/// The monitor's console: UART1, wired to the ZC702's USB-UART bridge.
pub const CONSOLE_UART_BASE: usize = device_base("uart1");

/// The MPCore private memory region (PERIPHBASE, UG585 table 4-1).
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

pub use mpcore::{IRQ_GLOBAL_TIMER, IRQ_PRIVATE_TIMER};

/// PERIPHCLK (the global and private timers' clock) in whole hertz, rounded
/// down: CPU_6x4x / 2 = 333.333 MHz. The exact figure is
/// [`clocks::PERIPHCLK`] (3 ns a tick); QEMU's boards count at 100 MHz.
pub const PERIPHCLK_HZ: u32 = clocks::PERIPHCLK.whole_hz() as u32;
/// The monitor's time on either side of a guest's execution that its
/// budget clock cannot see, in PERIPHCLK ticks
/// (`mvm_kernel::monitor::Platform::GUEST_EDGE_TICKS`). An estimate until
/// measured on the board: the paths QEMU counts at about 150 instructions,
/// at up to two cycles each of the 667 MHz CPU, in ticks of the 333 MHz
/// PERIPHCLK, doubled for cache misses: 300 ticks (0.9 us).
pub const GUEST_EDGE_TICKS: u64 = 300;
/// UART_REF_CLK as the ZC702's boot loader leaves it: IO PLL / 10 = 100 MHz.
pub const UART_REF_CLK_HZ: u32 = clocks::UART_REF_CLK.whole_hz() as u32;
/// The monitor console's line rate, as the FSBL and U-Boot leave it.
pub const CONSOLE_BAUD: u32 = 115_200;

const _: () = assert!((MPCORE_BASE + mpcore::SIZE) as u64 <= catalogue::MPCORE_PRIVATE.end());
const _: () = assert!(BOARD.device_tree.gic_distributor.base == GICD_BASE as u64);
const _: () = assert!(BOARD.device_tree.gic_cpu_interface.base == GICC_BASE as u64);
const _: () = assert!(catalogue::UART_REF.hz == UART_REF_CLK_HZ);
// The delay loop runs at most once a CPU cycle: the figure is not below the
// CPU's exact rate, 666 666 666.67 Hz (more than its whole hertz).
const _: () = assert!(BOARD.linux_delay_loops_per_second > clocks::CPU_6X4X.whole_hz());
const _: () = assert!(DDR.base == 0 && DDR.size == 1024 * MIB);
const _: () = assert!(OCM_HIGH.end() == 1 << 32);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_match_the_catalogue() {
        for d in BOARD.devices {
            assert_eq!(device(d.name), d);
            assert_eq!(BOARD.device(d.name), Some(d));
        }
        assert_eq!(CONSOLE_UART_BASE, 0xE000_1000);
        assert_eq!(device_base("ttc0"), 0xF800_1000);
        assert_eq!(device("uart1").interrupts, &[82]);
    }

    #[test]
    #[should_panic(expected = "no such device")]
    fn unknown_device() {
        device("uart9");
    }

    #[test]
    fn mpcore_block() {
        assert_eq!(SCU_BASE, 0xF8F0_0000);
        assert_eq!(GICC_BASE, 0xF8F0_0100);
        assert_eq!(GLOBAL_TIMER_BASE, 0xF8F0_0200);
        assert_eq!(PRIVATE_TIMER_BASE, 0xF8F0_0600);
        assert_eq!(GICD_BASE, 0xF8F0_1000);
    }

    #[test]
    fn memory_map() {
        assert_eq!(SLCR_BASE, 0xF800_0000);
        assert_eq!(OCM_HIGH.base, 0xFFFC_0000);
        assert_eq!(OCM_HIGH.size / OCM_BLOCK_SIZE, 4);
        assert!(DDR.contains_range(DDR_LOW_MEGABYTE.base, DDR_LOW_MEGABYTE.size));
        assert!(BOARD
            .monitor_reservation
            .contains_range(DDR_LOW_MEGABYTE.base, DDR_LOW_MEGABYTE.size));
    }

    #[test]
    fn clock_constants() {
        assert_eq!(PERIPHCLK_HZ, 333_333_333);
        assert_eq!(UART_REF_CLK_HZ, 100_000_000);
    }
}
