//! `cargo mvm test`: every test the project has, the way CI runs them.

use std::process::{Command, ExitCode};

use crate::EXIT_CANNOT_RUN;

pub fn run() -> ExitCode {
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
