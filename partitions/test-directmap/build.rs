//! Links the guest with the runtime's script (`mvm-guest.ld`, which mvm-guest's
//! build script puts on the link search path with this guest's memory.x).
fn main() {
    println!("cargo::rustc-link-arg-bins=-Tmvm-guest.ld");
}
