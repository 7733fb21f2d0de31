//! Links `mvm-channel` as a static Linux executable: rust-lld's own layout
//! (no linker script: this is not a bare-metal guest, so not
//! `mvm-guest-build`), entry `_start`, no dynamic section.
fn main() {
    for arg in [
        "--entry=_start",
        "-static",
        // Linux maps segments at page granularity.
        "-zmax-page-size=4096",
        "-znoexecstack",
        "--build-id=none",
        // Small in the initramfs; the ELF with symbols is in target/.
        "--strip-debug",
    ] {
        println!("cargo::rustc-link-arg-bins={arg}");
    }
}
