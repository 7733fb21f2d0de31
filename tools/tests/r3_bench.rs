//! Benchmark: R3-OS's timer interrupt latency, from its SP804's expiry to
//! its tick handler's first clock reading, under MVM against the same
//! application run natively on the same QEMU (`-icount shift=0,
//! sleep=off`: figures are instruction counts, reproducible), as
//! docs/performance.md reports them.
//!
//! - Under MVM: `partitions/tests/r3-bench.toml`, `r3-control` alone on
//!   core 0 (HRT, its tick line a Group 0 FIQ straight to the guest), core
//!   1 idle.
//! - Native: the same crate built with its `native` feature (mvm-r3's
//!   start-up then maps memory and sets up the GIC's Secure side itself,
//!   the tick line a Group 0 FIQ as under MVM) on QEMU `vexpress-a9` with
//!   the Security Extensions and two cores, core 1 waiting in WFI; it ends
//!   the run after 5 s through semihosting.
//!
//! Both print `control: latency over N ticks: mean M ns, min A ns, max
//! B ns` every second (R3's kernel ticks every 1 ms). Asserted: every
//! kernel tick was taken (5 000 in 5 s), and the mean under MVM is at
//! most 1.1 times the native one.

mod common;
use common::Run;

use std::path::Path;
use std::process::{Command, Stdio};

const SYSTEM: &str = "partitions/tests/r3-bench.toml";

/// The last `control: latency over N ticks: mean M ns, ...` line, as
/// (N, mean ns, min ns, max ns).
fn latency(r: &Run) -> (u64, f64, u64, u64) {
    let line = r
        .stdout
        .lines()
        .filter_map(|l| l.split("control: latency over ").nth(1))
        .next_back()
        .unwrap_or_else(|| panic!("R3's latency figures: {r:?}"));
    let num = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect()
    };
    let ticks = num(line).parse().unwrap();
    let field = |key: &str| num(line.split(key).nth(1).unwrap_or_default());
    (
        ticks,
        field(" mean ").parse().unwrap(),
        field(" min ").parse().unwrap(),
        field(" max ").parse().unwrap(),
    )
}

/// The pinned toolchain `partitions/r3-control/rust-toolchain.toml` names.
fn channel(root: &Path) -> String {
    let text = std::fs::read_to_string(root.join("partitions/r3-control/rust-toolchain.toml"))
        .expect("r3-control names its toolchain");
    text.lines()
        .find_map(|l| l.strip_prefix("channel = "))
        .map(|c| c.trim().trim_matches('"').to_string())
        .expect("a channel line")
}

/// Builds r3-control with `native` (its devices and memory from the MVM
/// build of the same description) and boots it on QEMU without MVM.
fn native(root: &Path) -> Run {
    let guests = root.join("target/mvm/r3-bench/guests");
    let target_dir = root.join("target/mvm-guests-own/r3-control-native");
    let status = Command::new("rustup")
        .args([
            "run",
            &channel(root),
            "cargo",
            "build",
            "--release",
            "--quiet",
        ])
        .args([
            "--target",
            "armv7a-none-eabi",
            "--locked",
            "--features",
            "native",
        ])
        .current_dir(root.join("partitions/r3-control"))
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO")
        .env_remove("RUSTC")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("MVM_GUEST_MEMORY_X", guests.join("r3.memory.x"))
        .env("MVM_GUEST_DEVICES", guests.join("r3.devices.rs"))
        .env("MVM_BOARD", "qemu-vexpress-a9")
        .env("CARGO_TARGET_DIR", &target_dir)
        .status()
        .expect("rustup runs");
    assert!(status.success(), "r3-control builds with `native`");
    let elf = target_dir.join("armv7a-none-eabi/release/r3-control");
    let out = Command::new("qemu-system-arm")
        .args(["-M", "vexpress-a9,secure=on", "-smp", "2", "-m", "1G"])
        .args([
            "-audiodev",
            "none,id=noaudio",
            "-global",
            "pl041.audiodev=noaudio",
        ])
        .args(["-icount", "shift=0,sleep=off", "-display", "none"])
        .args(["-monitor", "none"])
        .args(["-semihosting-config", "enable=on,target=native"])
        // r3-control prints on UART1.
        .args(["-serial", "null", "-serial", "stdio"])
        .arg("-kernel")
        .arg(&elf)
        .stdin(Stdio::null())
        .output()
        .expect("qemu-system-arm runs");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn r3_timer_latency_under_mvm_is_within_a_tenth_of_native() {
    let mvm = common::run(SYSTEM, "5100ms");
    mvm.assert_healthy();
    assert!(
        mvm.has("mvm-stats core=0 entries=0 "),
        "no monitor entry on R3's core: {mvm:?}"
    );
    let root = common::root();
    let native = {
        let _guard = common::one_at_a_time();
        native(&root)
    };
    assert_eq!(
        native.code,
        Some(0),
        "the native run ended itself: {native:?}"
    );
    let (m, n) = (latency(&mvm), latency(&native));
    println!("R3 tick latency (expiry to handler)   ticks   mean ns   min   max");
    println!(
        "native                               {:>6} {:>9.2} {:>5} {:>5}",
        n.0, n.1, n.2, n.3
    );
    println!(
        "under MVM                            {:>6} {:>9.2} {:>5} {:>5}",
        m.0, m.1, m.2, m.3
    );
    let ratio = m.1 / n.1;
    println!("ratio (MVM / native): {ratio:.3}");
    for (what, ticks, r) in [("native", n.0, &native), ("MVM", m.0, &mvm)] {
        assert!(
            ticks >= 5000,
            "{what}: {ticks} kernel ticks in 5 s, one every 1 ms expected: {r:?}"
        );
    }
    assert!(
        ratio <= 1.1,
        "R3's latency under MVM is {ratio:.3} times native ({:.2} ns against {:.2} ns)",
        m.1,
        n.1
    );
}
