//! The build steps every MVM guest shares, for its `build.rs`.
//!
//! - [`link`]: link the guest's binaries with the runtime's script
//!   (`mvm-guest.ld`, which `mvm-guest`'s own build script puts on the link
//!   search path beside the guest's `memory.x`; link arguments do not
//!   propagate from a library, search paths do).
//! - [`link_for_board`]: the same, plus `cfg(mvm_board = "<name>")` from
//!   `MVM_BOARD`, which `cargo mvm build` sets to the description's board,
//!   for guests that run on both boards.
//! - Host code, no dependencies; one definition instead of a copy per guest.

/// The boards a guest may be built for.
pub const BOARDS: &[&str] = &["qemu-vexpress-a9", "zc702"];

/// Links the guest's binaries with `mvm-guest.ld`.
pub fn link() {
    println!("cargo::rustc-link-arg-bins=-Tmvm-guest.ld");
}

/// [`link`], and selects the board: `cfg(mvm_board = "<name>")`. Stops the
/// build with an error when `MVM_BOARD` is missing or names no board.
pub fn link_for_board() {
    link();
    let values = BOARDS
        .iter()
        .map(|b| format!("\"{b}\""))
        .collect::<Vec<_>>()
        .join(", ");
    println!("cargo::rustc-check-cfg=cfg(mvm_board, values({values}))");
    println!("cargo::rerun-if-env-changed=MVM_BOARD");
    match std::env::var("MVM_BOARD") {
        Ok(board) if BOARDS.contains(&board.as_str()) => {
            println!("cargo::rustc-cfg=mvm_board=\"{board}\"")
        }
        Ok(board) => {
            println!(
                "cargo::error=MVM_BOARD `{board}` is not a board this guest supports ({})",
                BOARDS.join(", ")
            );
            std::process::exit(1);
        }
        Err(_) => {
            println!("cargo::error=MVM_BOARD is not set: build guests through `cargo mvm build`, which sets it to the description's board");
            std::process::exit(1);
        }
    }
}
