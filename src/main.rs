//! The MVM image: the monitor and its guests, from `partitions/system.toml`.
//!
//! - `build.rs` validates the system description, proves every shared core
//!   schedulable and generates `MVM_SYSTEM` (the kernel's tables, with the
//!   guests' images for Arm builds) into `OUT_DIR`; an invalid description
//!   fails the build with the diagnostics of `cargo mvm check`.
//! - For the target (`armv7a-none-eabi`), this crate is the monitor: one
//!   `mvm_kernel::monitor!` call puts the kernel's monitor over the
//!   generated tables and the board, and the image links at the board's
//!   monitor reservation (`monitor.ld`). The description's board
//!   (`cfg(mvm_board)`, set by `build.rs`) selects the one module of
//!   board-specific behaviour: `board_qemu.rs` or `board_zc702.rs`, whose
//!   `Board` implements `mvm_kernel::monitor::Platform`.
//! - On the host it prints the plan the monitor would boot, which keeps the
//!   generated tables compiling in every `cargo build` and `cargo test`.
#![cfg_attr(target_os = "none", no_std, no_main)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::missing_safety_doc)]
#![deny(clippy::undocumented_unsafe_blocks)]

include!(concat!(env!("OUT_DIR"), "/mvm_system.rs"));

#[cfg(all(target_os = "none", mvm_board = "qemu-vexpress-a9"))]
#[path = "board_qemu.rs"]
mod platform;
#[cfg(all(target_os = "none", mvm_board = "zc702"))]
#[path = "board_zc702.rs"]
mod platform;

#[cfg(target_os = "none")]
mvm_kernel::monitor!(
    platform: platform::Board,
    system: MVM_SYSTEM,
    guests: MVM_GUESTS.len(),
    slots: if MVM_MAX_SERVERS_PER_CORE > 1 { MVM_MAX_SERVERS_PER_CORE } else { 1 },
);

#[cfg(not(target_os = "none"))]
fn main() {
    use mvm_kernel::config::Level;

    let system = &MVM_SYSTEM;
    let mut text = String::new();
    mvm_kernel::plan::write_banner(&mut text, system, env!("CARGO_PKG_VERSION"))
        .expect("formatting into a String cannot fail");
    print!("{text}");
    for g in system.guests {
        let level = match g.level {
            Level::Hrt => "hrt",
            Level::Srt => "srt",
        };
        println!(
            "guest `{}` (id {}, {level}, core {}): image {} bytes at {:#010x}, entry {:#010x}",
            g.name,
            g.id,
            g.core,
            g.image.bytes.len(),
            g.image.load,
            g.image.entry
        );
        for r in g.regions {
            println!(
                "  memory [{:#010x}..{:#010x})",
                r.base,
                r.base as u64 + r.size as u64
            );
        }
        for d in g.devices {
            let lines: Vec<String> = d
                .interrupts
                .iter()
                .map(|i| format!("{} (priority {}, {:?})", i.id, i.priority, i.trigger))
                .collect();
            println!(
                "  device {} at {:#010x}, interrupts [{}]",
                d.name,
                d.regs.base,
                lines.join(", ")
            );
        }
        if let Err(e) = mvm_kernel::plan::check_image(g) {
            if !g.image.bytes.is_empty() {
                println!("  the monitor would refuse it: {e}");
            }
        }
    }
}
