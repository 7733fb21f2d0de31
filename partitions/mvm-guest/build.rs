//! Puts the guest's memory layout and the runtime's linker script on the
//! link search path of every guest that depends on this crate.
//!
//! `cargo mvm build` sets `MVM_GUEST_MEMORY_X` to a file holding the guest's
//! first memory region from `system.toml`, e.g.
//! `MEMORY { RAM : ORIGIN = 0x72000000, LENGTH = 0x1000000 }`; it is copied
//! to `OUT_DIR/memory.x`, which `mvm-guest.ld` includes. Each guest's own
//! build script passes `-Tmvm-guest.ld` through `mvm-guest-build` (link
//! arguments do not propagate from a library; search paths do).

use std::path::PathBuf;

fn main() {
    println!("cargo::rerun-if-env-changed=MVM_GUEST_MEMORY_X");
    println!("cargo::rerun-if-changed=mvm-guest.ld");
    let Some(memory_x) = std::env::var_os("MVM_GUEST_MEMORY_X") else {
        println!(
            "cargo::error=MVM_GUEST_MEMORY_X is not set: a guest's memory layout comes from \
             the system description; build guests through `cargo mvm build` (it sets \
             MVM_GUEST_MEMORY_X to a memory.x holding the guest's first region)"
        );
        std::process::exit(1);
    };
    let memory_x = PathBuf::from(memory_x);
    println!("cargo::rerun-if-changed={}", memory_x.display());
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let text = match std::fs::read_to_string(&memory_x) {
        Ok(t) => t,
        Err(e) => {
            println!(
                "cargo::error=cannot read MVM_GUEST_MEMORY_X `{}`: {e}",
                memory_x.display()
            );
            std::process::exit(1);
        }
    };
    if !text.contains("RAM") {
        println!(
            "cargo::error=MVM_GUEST_MEMORY_X `{}` defines no RAM region; expected \
             `MEMORY {{ RAM : ORIGIN = ..., LENGTH = ... }}`",
            memory_x.display()
        );
        std::process::exit(1);
    }
    std::fs::write(out.join("memory.x"), text).expect("OUT_DIR is writable");
    // The guest's channel ends (`mvm_guest::channel`): none unless
    // `cargo mvm build` says otherwise.
    println!("cargo::rerun-if-env-changed=MVM_GUEST_CHANNELS");
    let channels = match std::env::var_os("MVM_GUEST_CHANNELS") {
        Some(path) => {
            let path = PathBuf::from(path);
            println!("cargo::rerun-if-changed={}", path.display());
            match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    println!(
                        "cargo::error=cannot read MVM_GUEST_CHANNELS `{}`: {e}",
                        path.display()
                    );
                    std::process::exit(1);
                }
            }
        }
        None => "pub const ENDS: &[End] = &[];\n".to_string(),
    };
    std::fs::write(out.join("channels.rs"), channels).expect("OUT_DIR is writable");
    std::fs::copy("mvm-guest.ld", out.join("mvm-guest.ld")).expect("OUT_DIR is writable");
    println!("cargo::rustc-link-search={}", out.display());
}
