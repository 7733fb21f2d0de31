//! The shared guest build steps (`mvm-guest-build`): link with the
//! runtime's script.
fn main() {
    mvm_guest_build::link();
}
