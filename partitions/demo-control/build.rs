//! The shared guest build steps (`mvm-guest-build`): link with the
//! runtime's script and select the board from MVM_BOARD.
fn main() {
    mvm_guest_build::link_for_board();
}
