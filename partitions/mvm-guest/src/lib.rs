//! The MVM guest runtime: start-up, own vectors, hypercalls and a console.
//!
//! - A guest starts at `_start` in Non-secure SVC (r0 = 0, r1 = ~0, r2 = 0),
//!   with its MMU on: the direct map (`paging = "direct"`: PA = VA), or a
//!   shadow-paged guest's boot space (virtual = guest-physical), both
//!   installed by the monitor (docs/memory.md); off only for a shadow-paged
//!   guest without a pool. The runtime never touches the translation
//!   registers, so it runs either way; [`mmu`] asks the monitor for more
//!   mappings and address spaces. The runtime gives IRQ, abort, undefined and SVC mode
//!   their own stacks, zeroes `.bss`, points VBAR at its own vector table and
//!   calls the function named by [`entry!`].
//! - The guest owns its exceptions: undefined instruction, aborts and IRQ
//!   come to its own vectors (the monitor never sees them), and a guest
//!   installs a handler per kind with [`exception::set_handler`].
//! - Hypercalls ([`hypercall`]) are `smc #0` under ABI v1, whose constants
//!   come from `mvm-kernel` (without its monitor code) so both sides share
//!   one definition.
//! - [`println!`] writes whole lines through the console hypercall; the
//!   monitor prints them on UART0 under the guest's name. It keeps no global
//!   state, so an exception handler may print while `main` is printing.
//! - No allocation; the guest's memory layout comes from the system
//!   description through `memory.x` (see `build.rs`).
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::missing_safety_doc)]

pub mod channel;
pub mod console;
pub mod cpu;
pub mod exception;
pub mod hypercall;
pub mod irq;
pub mod mmu;

/// A guest's first memory region (RAM), where its image, stacks and `.bss`
/// live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ram {
    pub base: u32,
    pub size: u32,
}

impl Ram {
    /// One past the last byte (wraps to 0 for a region ending at 4 GiB).
    pub fn end(&self) -> u32 {
        self.base.wrapping_add(self.size)
    }
}

unsafe extern "C" {
    static __mvm_ram_start: u8;
    static __mvm_ram_end: u8;
}

/// This guest's RAM, as linked.
pub fn ram() -> Ram {
    // Only the symbols' addresses are used; the linker script defines them
    // from memory.x.
    let base = core::ptr::addr_of!(__mvm_ram_start) as usize as u32;
    let end = core::ptr::addr_of!(__mvm_ram_end) as usize as u32;
    Ram {
        base,
        size: end.wrapping_sub(base),
    }
}

/// Names the guest's `fn main() -> !`, which the runtime calls once the
/// guest's stacks, `.bss` and vectors are ready.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[unsafe(no_mangle)]
        pub extern "Rust" fn mvm_guest_main() -> ! {
            let main: fn() -> ! = $main;
            main()
        }
    };
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    println!("panic: {info}");
    hypercall::halt()
}
