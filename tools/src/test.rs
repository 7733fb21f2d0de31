//! `cargo mvm test`: every test the project has, the way CI runs them.
//!
//! - Installs what the tests need first: the `armv7a-none-eabi` Rust target
//!   (rustup) and `qemu-system-arm` (apt-get, when run as root; otherwise it
//!   says the exact command).
//! - Then `cargo test --workspace --all-targets`: host tests, property
//!   tests, the benchmarks once each in test mode, and the QEMU scenarios.

use std::process::{Command, ExitCode};

use crate::EXIT_CANNOT_RUN;

pub fn run() -> ExitCode {
    if let Err(code) = crate::image::ensure_target().and_then(|()| crate::run::ensure_qemu()) {
        return code;
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(&cargo)
        .args(["test", "--workspace", "--all-targets"])
        .status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: cannot run `cargo test`: {e}");
            ExitCode::from(EXIT_CANNOT_RUN)
        }
    }
}
