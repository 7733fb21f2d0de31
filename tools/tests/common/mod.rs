//! What the QEMU scenario tests share: running `mvm` on a system, one at a
//! time (the scenarios share build directories), and reading its output.
// Each test binary uses part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
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

    /// The first console line that starts with `prefix`; the test fails,
    /// showing the run, when there is none.
    pub fn line(&self, prefix: &str) -> String {
        self.lines(prefix)
            .first()
            .map(|l| l.to_string())
            .unwrap_or_else(|| panic!("no line starting `{prefix}`: {self:?}"))
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

/// `mvm run --system <system> --for <duration>` with the console of a
/// Linux guest on a pipe that stays open while the run lasts; once
/// Linux's `userspace up` marker shows, `typed` (if any) is typed into it.
pub fn run_typing(system: &str, duration: &str, typed: Option<&str>) -> Run {
    let _guard = one_at_a_time();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mvm"))
        .args(["run", "--system", system, "--for", duration])
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mvm runs");
    let mut stdin = child.stdin.take();
    let mut typed = typed;
    let stderr = child.stderr.take().expect("piped");
    let errors = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let mut stdout = String::new();
    for line in BufReader::new(child.stdout.take().expect("piped")).lines() {
        let line = line.unwrap_or_default();
        if line.contains("[linux] ") && line.contains("userspace up") {
            if let (Some(s), Some(text)) = (stdin.as_mut(), typed.take()) {
                let _ = s.write_all(text.as_bytes());
            }
        }
        stdout.push_str(&line);
        stdout.push('\n');
    }
    drop(stdin);
    let status = child.wait().expect("mvm ends");
    Run {
        code: status.code(),
        stdout,
        stderr: errors.join().unwrap_or_default(),
    }
}

/// The `<prefix>tick N at T ms` lines of a control guest (Rust or R3), as
/// (N, T).
pub fn ticks(r: &Run, prefix: &str) -> Vec<(u64, u64)> {
    r.lines(prefix)
        .iter()
        .filter_map(|l| {
            let rest = l.strip_prefix(prefix)?.strip_prefix("tick ")?;
            let (n, rest) = rest.split_once(" at ")?;
            let (t, _) = rest.split_once(" ms")?;
            Some((n.parse().ok()?, t.parse().ok()?))
        })
        .collect()
}
