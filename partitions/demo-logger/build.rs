//! Links the guest with the runtime's script (`mvm-guest.ld`, which mvm-guest's
//! build script puts on the link search path with this guest's memory.x),
//! and selects its board: `cargo mvm build` sets MVM_BOARD to the system
//! description's board, which becomes `cfg(mvm_board = "<name>")`.
fn main() {
    println!("cargo::rustc-link-arg-bins=-Tmvm-guest.ld");
    println!("cargo::rustc-check-cfg=cfg(mvm_board, values(\"qemu-vexpress-a9\", \"zc702\"))");
    println!("cargo::rerun-if-env-changed=MVM_BOARD");
    match std::env::var("MVM_BOARD") {
        Ok(board) if board == "qemu-vexpress-a9" || board == "zc702" => {
            println!("cargo::rustc-cfg=mvm_board=\"{board}\"")
        }
        Ok(board) => {
            println!("cargo::error=MVM_BOARD `{board}` is not a board this guest supports (qemu-vexpress-a9, zc702)");
            std::process::exit(1);
        }
        Err(_) => {
            println!("cargo::error=MVM_BOARD is not set: build guests through `cargo mvm build`, which sets it to the description's board");
            std::process::exit(1);
        }
    }
}
