//! The board-zc702 drivers on QEMU's `xilinx-zynq-a9`: builds the
//! `emulated-test` image for `armv7a-none-eabi` and checks what it prints.
//!
//! - `-serial` order is UART0 then UART1 on this machine: UART0 goes to a
//!   file, UART1 (the monitor's console) to QEMU's standard output.
//! - `-kernel <ELF>` loads the segments at their physical addresses and
//!   starts the one core at the ELF entry in SVC mode; `-semihosting` lets
//!   the image end the run with its own exit status.
//! - The run has a wall-clock limit: a hang is a failure, with the output so
//!   far.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TARGET: &str = "armv7a-none-eabi";
const QEMU: &str = "qemu-system-arm";
const TIME_LIMIT: Duration = Duration::from_secs(60);

fn image_crate() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("emulated-test")
}

fn require_qemu() {
    match Command::new(QEMU).arg("--version").output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "`{QEMU} --version` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!(
            "`{QEMU}` cannot run ({e}): the emulated ZC702 tests need it; \
             run `apt-get install qemu-system-arm` (CI's .ci/run installs it)"
        ),
    }
}

/// Builds the image and returns its ELF.
fn build_image() -> PathBuf {
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("zc702-emulated");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let out = Command::new(cargo)
        .args(["build", "--release", "--target", TARGET, "--target-dir"])
        .arg(&target_dir)
        .current_dir(image_crate())
        // The outer `cargo test`'s target directory is not this build's.
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "building the emulated-test image failed (is the {TARGET} target installed? \
         `rustup target add {TARGET}`):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target_dir
        .join(TARGET)
        .join("release")
        .join("zc702-emulated-test")
}

struct Run {
    code: Option<i32>,
    uart1: String,
    uart0: String,
    stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- uart1 (stdout)\n{}\n--- uart0\n{}\n--- stderr\n{}",
            self.code, self.uart1, self.uart0, self.stderr
        )
    }
}

fn run(elf: &Path) -> Run {
    let dir = elf.parent().expect("the ELF is in a directory");
    let uart0_file = dir.join("uart0.txt");
    let _ = std::fs::remove_file(&uart0_file);
    let mut child = Command::new(QEMU)
        .args([
            "-M",
            "xilinx-zynq-a9",
            "-display",
            "none",
            "-monitor",
            "none",
        ])
        .args(["-semihosting", "-serial"])
        .arg(format!("file:{}", uart0_file.display()))
        .args(["-serial", "stdio", "-kernel"])
        .arg(elf)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qemu-system-arm starts");
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
        std::thread::sleep(Duration::from_millis(50));
    };
    let uart1 = String::from_utf8_lossy(&out_reader.join().expect("reader")).replace('\r', "");
    let stderr = String::from_utf8_lossy(&err_reader.join().expect("reader")).into_owned();
    let uart0 = std::fs::read_to_string(&uart0_file)
        .unwrap_or_default()
        .replace('\r', "");
    let run = Run {
        code: status.and_then(|s| s.code()),
        uart1,
        uart0,
        stderr,
    };
    assert!(
        status.is_some(),
        "QEMU did not finish within {TIME_LIMIT:?}: {run:?}"
    );
    run
}

#[test]
fn drivers_on_qemu_xilinx_zynq_a9() {
    require_qemu();
    let elf = build_image();
    let r = run(&elf);
    assert_eq!(r.code, Some(0), "every check passes: {r:?}");

    // UART: both Cadence UARTs print; UART1 is QEMU's second -serial.
    assert!(
        r.uart0.contains("zc702-emulated: uart0 says hello"),
        "UART0 is the first -serial: {r:?}"
    );
    assert!(
        r.uart1
            .contains("zc702-emulated: console on uart1 at 115200 8N1 (CD 124, BDIV 6;"),
        "UART1 is the second -serial, at the ZC702's divisors: {r:?}"
    );
    assert!(r.uart1.contains("ok: the image runs in SVC mode"), "{r:?}");
    assert!(r.uart1.contains("ok: slcr lock and unlock"), "{r:?}");

    // TTC: the counter moves in interval mode.
    let progress = r
        .uart1
        .lines()
        .find(|l| l.starts_with("ttc0: counter 0 went "))
        .unwrap_or_else(|| panic!("no TTC progress line: {r:?}"));
    let distinct: u32 = progress
        .split(", ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unreadable: {progress}"));
    assert!(distinct >= 10, "the TTC counts: {progress}");

    // The TTC's interval interrupt reached the IRQ handler through the GIC.
    assert!(
        r.uart1.contains("ttc0: interrupt delivered: id 42,"),
        "{r:?}"
    );
    assert!(
        r.uart1.contains("zc702-emulated: all checks passed"),
        "{r:?}"
    );
    assert!(!r.uart1.contains("FAIL"), "{r:?}");
}
