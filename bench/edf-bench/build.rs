//! Links the image with `link.x` at the QEMU board's monitor reservation
//! (`memory.x`, written here from the board's catalogue) when built for the
//! bare-metal target.
use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    println!("cargo:rerun-if-changed=link.x");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("none") {
        let ram = board_qemu_vexpress::BOARD.monitor_reservation;
        std::fs::write(
            out.join("memory.x"),
            format!(
                "MEMORY {{ RAM : ORIGIN = {:#x}, LENGTH = {:#x} }}\n",
                ram.base, ram.size
            ),
        )
        .expect("OUT_DIR is writable");
        println!("cargo:rustc-link-search={}", out.display());
        println!(
            "cargo:rustc-link-arg-bins=-T{}",
            dir.join("link.x").display()
        );
    }
}
