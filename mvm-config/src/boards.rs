//! The boards a system description may name, from their own crates.

use mvm_board::Board;

/// Every known board. The data lives in the board crates (one source for
/// the generator and the kernel image).
pub const BOARDS: &[&Board] = &[&board_qemu_vexpress::BOARD, &board_zc702::BOARD];

pub fn by_name(name: &str) -> Option<&'static Board> {
    BOARDS.iter().copied().find(|b| b.name == name)
}

pub fn names() -> Vec<&'static str> {
    BOARDS.iter().map(|b| b.name).collect()
}
