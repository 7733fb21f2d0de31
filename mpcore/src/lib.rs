//! Drivers for the Cortex-A9 MPCore private peripherals.
//!
//! - The SCU, the GIC (distributor and CPU interface), the global timer and
//!   the per-core private timers sit in one 8 KiB block at PERIPHBASE, laid
//!   out the same on every Cortex-A9 MPCore (TRM DDI0407, table 1-3): the
//!   QEMU vexpress-a9 and the Zynq-7000 share these drivers.
//! - No physical address here: each board crate names its PERIPHBASE and
//!   builds the drivers from it with the offsets below.
//! - Drivers are typed `register_structs!` blocks with the manuals' register
//!   names. Creating a driver from an address is `unsafe` (the caller vouches
//!   for the device and for exclusive use); using it afterwards is safe.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::missing_safety_doc)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod gic;
pub mod global_timer;
pub mod private_timer;
pub mod scu;

/// Offset of the Snoop Control Unit from PERIPHBASE.
pub const SCU_OFFSET: usize = 0x0000;
/// Offset of the GIC CPU interface (banked per core and security state).
pub const GICC_OFFSET: usize = 0x0100;
/// Offset of the global timer (shared 64-bit counter).
pub const GLOBAL_TIMER_OFFSET: usize = 0x0200;
/// Offset of the private timer and watchdog (banked per core).
pub const PRIVATE_TIMER_OFFSET: usize = 0x0600;
/// Offset of the GIC distributor.
pub const GICD_OFFSET: usize = 0x1000;
/// Size of the private memory region.
pub const SIZE: usize = 0x2000;

/// GIC interrupt ID of the global timer (PPI 11).
pub const IRQ_GLOBAL_TIMER: u32 = 27;
/// GIC interrupt ID of each core's private timer (PPI 13).
pub const IRQ_PRIVATE_TIMER: u32 = 29;
