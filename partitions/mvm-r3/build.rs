//! Puts the guest's memory layout, its devices and this crate's linker
//! script where the guest's link and `include!` find them, and selects
//! the board (`cfg(mvm_board)`).
//!
//! `cargo mvm build` sets `MVM_GUEST_MEMORY_X` (the guest's first region),
//! `MVM_GUEST_DEVICES` (its devices as Rust constants, from the board's
//! catalogue) and `MVM_BOARD`. This toolchain's cargo predates the
//! `cargo::` syntax, hence `cargo:`.

use std::path::PathBuf;

fn required(var: &str) -> String {
    println!("cargo:rerun-if-env-changed={var}");
    match std::env::var(var) {
        Ok(v) => v,
        Err(_) => {
            eprintln!(
                "error: {var} is not set: build R3 guests through `cargo mvm build`, \
                 which sets it from the system description"
            );
            std::process::exit(1);
        }
    }
}

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for (var, file) in [
        ("MVM_GUEST_MEMORY_X", "memory.x"),
        ("MVM_GUEST_DEVICES", "devices.rs"),
    ] {
        let path = required(var);
        println!("cargo:rerun-if-changed={path}");
        std::fs::copy(&path, out.join(file))
            .unwrap_or_else(|e| panic!("cannot copy {var} `{path}`: {e}"));
    }
    println!("cargo:rerun-if-changed=mvm-r3.ld");
    std::fs::copy("mvm-r3.ld", out.join("mvm-r3.ld")).expect("OUT_DIR is writable");
    println!("cargo:rustc-link-search={}", out.display());
    match required("MVM_BOARD").as_str() {
        "qemu-vexpress-a9" => println!("cargo:rustc-cfg=mvm_board_qemu"),
        "zc702" => println!("cargo:rustc-cfg=mvm_board_zc702"),
        other => {
            eprintln!("error: MVM_BOARD `{other}`: mvm-r3 has tick drivers for qemu-vexpress-a9 (SP804) and zc702 (TTC)");
            std::process::exit(1);
        }
    }
}
