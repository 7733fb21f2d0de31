//! The EDF decision on the target: builds `bench/edf-bench` for
//! `armv7a-none-eabi`, runs it on QEMU `vexpress-a9,secure=on` under
//! `-icount shift=0` and reads its `mvm-bench edf` lines.
//!
//! - Asserts only that every size was measured and the figures are sane;
//!   the timing targets (docs/performance.md) are reported, not asserted:
//!   the figures are printed (`cargo test -p mvm-tools --test edf_bench --
//!   --nocapture` shows them).
//! - The run has a wall-clock limit: a hang is a failure, with the output so
//!   far.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TARGET: &str = "armv7a-none-eabi";
const QEMU: &str = "qemu-system-arm";
const TIME_LIMIT: Duration = Duration::from_secs(120);
/// The sizes the image measures, in the order it prints them.
const SIZES: [u64; 4] = [2, 3, 12, 64];

fn bench_crate() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/edf-bench")
}

/// Builds the image and returns its ELF.
fn build_image() -> PathBuf {
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("edf-bench");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let out = Command::new(cargo)
        .args(["build", "--release", "--target", TARGET, "--target-dir"])
        .arg(&target_dir)
        .current_dir(bench_crate())
        // The outer `cargo test`'s target directory is not this build's.
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "building bench/edf-bench failed (is the {TARGET} target installed? \
         `rustup target add {TARGET}`):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target_dir.join(TARGET).join("release").join("edf-bench")
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
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

fn run(elf: &Path) -> Run {
    let mut child = Command::new(QEMU)
        .args([
            "-M",
            "vexpress-a9,secure=on",
            "-smp",
            "2",
            "-icount",
            "shift=0,sleep=off",
            "-display",
            "none",
            "-monitor",
            "none",
            "-semihosting-config",
            "enable=on,target=native",
            "-audiodev",
            "none,id=noaudio",
            "-global",
            "pl041.audiodev=noaudio",
            "-serial",
            "stdio",
            "-kernel",
        ])
        .arg(elf)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("`{QEMU}` cannot run ({e}): run `apt-get install qemu-system-arm`")
        });
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stdout.read_to_end(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for QEMU") {
            break Some(status);
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let run = Run {
        code: status.and_then(|s| s.code()),
        stdout: String::from_utf8_lossy(&out_reader.join().expect("reader")).replace('\r', ""),
        stderr: String::from_utf8_lossy(&err_reader.join().expect("reader")).into_owned(),
    };
    assert!(
        status.is_some(),
        "QEMU did not finish within {TIME_LIMIT:?}: {run:?}"
    );
    run
}

fn number(line: &str, key: &str) -> u64 {
    line.split(' ')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {key} in `{line}`"))
        .parse()
        .unwrap_or_else(|_| panic!("{key} is not a number in `{line}`"))
}

#[test]
fn the_edf_decision_is_timed_on_the_target_for_every_size() {
    let elf = build_image();
    let r = run(&elf);
    assert_eq!(r.code, Some(0), "the image ends the run itself: {r:?}");
    let lines: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("mvm-bench edf "))
        .collect();
    assert_eq!(lines.len(), SIZES.len(), "one line per size: {r:?}");
    for (line, size) in lines.iter().zip(SIZES) {
        eprintln!("{line}");
        assert_eq!(number(line, "servers"), size, "sizes in order: {r:?}");
        let decisions = number(line, "decisions");
        let mean = number(line, "decision_ns");
        let (least, most) = (number(line, "min_ns"), number(line, "max_ns"));
        assert!(decisions > 0, "{line}");
        assert!(mean > 0, "a decision takes time: {line}");
        assert!(number(line, "with_start_ns") > 0, "{line}");
        // The least and the most are to a 10 ns tick and include two timer
        // reads; the mean lies between them give or take that.
        assert!(
            least <= mean + 10 && mean <= most + 10,
            "the mean between the least and the most: {line}"
        );
    }
}
