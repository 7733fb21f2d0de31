//! Links with mvm-r3's script (on the search path mvm-r3's build script
//! sets; link arguments do not propagate from a library) and selects the
//! board's devices: `cfg(mvm_board_qemu)` or `cfg(mvm_board_zc702)`, from
//! `MVM_BOARD` (set by `cargo mvm build`).
fn main() {
    println!("cargo:rustc-link-arg-bins=-Tmvm-r3.ld");
    println!("cargo:rerun-if-env-changed=MVM_BOARD");
    match std::env::var("MVM_BOARD").as_deref() {
        Ok("qemu-vexpress-a9") => println!("cargo:rustc-cfg=mvm_board_qemu"),
        Ok("zc702") => println!("cargo:rustc-cfg=mvm_board_zc702"),
        _ => {
            eprintln!("error: MVM_BOARD must name qemu-vexpress-a9 or zc702: build through `cargo mvm build`");
            std::process::exit(1);
        }
    }
}
