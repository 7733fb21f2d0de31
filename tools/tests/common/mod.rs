//! What the QEMU scenario tests share: running `mvm` on a system, one at a
//! time (the scenarios share build directories), and reading its output.
// Each test binary uses part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Holds the other scenarios of this test binary off while it lives.
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// What one `mvm run` printed, and how it ended.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// What a finished command printed.
    pub fn from_output(out: std::process::Output) -> Self {
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn has(&self, needle: &str) -> bool {
        self.stdout.contains(needle)
    }

    /// The monitor's verdict: the last line shown,
    /// `mvm: N deadline misses, M overruns in T[; ...]`.
    pub fn summary(&self) -> &str {
        let last = self.stdout.lines().next_back().unwrap_or_default();
        assert!(
            last.starts_with("mvm: ") && last.contains(" deadline "),
            "the run ends with the monitor's summary line: {self:?}"
        );
        last
    }

    /// The run ended healthy: exit 0 and a summary line without a miss or
    /// anything else wrong.
    pub fn assert_healthy(&self) {
        assert_eq!(self.code, Some(0), "{self:?}");
        let summary = self.summary();
        assert!(
            summary.starts_with("mvm: 0 deadline misses, ") && !summary.contains(';'),
            "a healthy verdict: {summary}"
        );
    }

    /// The console lines that start with `prefix`.
    pub fn lines(&self, prefix: &str) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with(prefix))
            .collect()
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// `mvm run --system <system> --for <duration>` from the workspace root.
pub fn run(system: &str, duration: &str) -> Run {
    let _guard = one_at_a_time();
    let out = Command::new(env!("CARGO_BIN_EXE_mvm"))
        .args(["run", "--system", system, "--for", duration])
        .current_dir(root())
        .output()
        .expect("mvm runs");
    Run::from_output(out)
}
