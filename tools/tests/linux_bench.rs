//! Benchmark: Debian's Linux under MVM at a budget share `s` against the
//! same kernel and initramfs run natively on the same QEMU
//! (`-icount shift=0`, so figures are instruction counts and
//! reproducible), as docs/performance.md reports them.
//!
//! - The initramfs' `/init` (tools/src/initramfs.rs), given `mvm.bench`,
//!   times `md5sum` of 16 MiB and a shell loop with the vexpress 24 MHz
//!   counter, and prints the counter as `/init` started (reset to
//!   userspace); `mvm.poweroff` then powers off: under MVM PSCI SYSTEM_OFF
//!   stops Linux alone, natively QEMU ends.
//! - Native: QEMU `vexpress-a9` (one core, no monitor, not secure), the
//!   kernel package's own `vexpress-v2p-ca9.dtb`, `iomem=relaxed` (its
//!   sysreg node would otherwise keep `devmem` off the counter).
//! - Under MVM: `partitions/tests/linux-bench.toml`, Linux at 5 ms every
//!   10 ms with no slack beside the HRT `control` guest.
//!
//! Asserted: the CPU-bound figures run `1/s` times slower under MVM, within
//! 5 %; Linux powered itself off through PSCI; no deadline was missed.

mod common;
use common::Run;

use std::process::{Command, Stdio};

const SYSTEM: &str = "partitions/tests/linux-bench.toml";
/// Linux's share of core 1 in that description: 5 ms every 10 ms.
const SHARE: f64 = 0.5;

/// The `mvm-bench key=value` figures, in 24 MHz ticks.
fn figures(text: &str) -> Vec<(String, u64)> {
    text.lines()
        .filter_map(|l| {
            let rest = l.split("mvm-bench ").nth(1)?;
            let (k, v) = rest.trim().split_once('=')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

fn figure(f: &[(String, u64)], key: &str, r: &Run) -> u64 {
    f.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("no {key}: {r:?}"))
}

fn native(root: &std::path::Path) -> Run {
    let guests = root.join("target/mvm/linux-bench/guests");
    let dtb = std::fs::read_dir(root.join("target/mvm/debian"))
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with("linux-image-"))
        .map(|e| e.path().join("usr/lib"))
        .and_then(|lib| std::fs::read_dir(lib).ok()?.filter_map(|e| e.ok()).next())
        .map(|e| e.path().join("vexpress-v2p-ca9.dtb"))
        .expect("the kernel package is cached (the MVM build fetched it)");
    let out = Command::new("qemu-system-arm")
        // One core: with two, the secondary waits for firmware that a
        // bare QEMU boot does not have, and the kernel hangs bringing it
        // up; the benchmark is single-threaded anyway.
        .args(["-M", "vexpress-a9", "-smp", "1", "-m", "1G"])
        .args([
            "-audiodev",
            "none,id=noaudio",
            "-global",
            "pl041.audiodev=noaudio",
        ])
        .args(["-icount", "shift=0,sleep=off", "-display", "none"])
        .args(["-monitor", "none", "-serial", "stdio"])
        .arg("-kernel")
        .arg(guests.join("linux.zImage"))
        .arg("-initrd")
        .arg(guests.join("linux.initrd"))
        .arg("-dtb")
        .arg(&dtb)
        .args([
            "-append",
            "console=ttyAMA0 quiet mvm.bench mvm.poweroff iomem=relaxed",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("qemu-system-arm runs");
    Run::from_output(out)
}

#[test]
fn linux_runs_at_its_share_of_native_speed() {
    let mvm = common::run(SYSTEM, "11s");
    mvm.assert_healthy();
    assert!(
        mvm.has("mvm: guest `linux` powered off (PSCI SYSTEM_OFF)"),
        "Linux powered itself off through PSCI, and the run went on: {mvm:?}"
    );
    let root = common::root();
    let native = {
        let _guard = common::one_at_a_time();
        native(&root)
    };
    let (m, n) = (figures(&mvm.stdout), figures(&native.stdout));
    assert!(
        n.iter().any(|(k, _)| k == "counter_hz"),
        "the native run printed its figures: {native:?}"
    );
    let hz = figure(&n, "counter_hz", &native) as f64;
    let s = |t: u64| t as f64 / hz;
    println!(
        "figure (seconds of emulated time)      native    under MVM   ratio (1/s = {:.2})",
        1.0 / SHARE
    );
    for key in [
        "init_ticks24",
        "md5_16mib_ticks24",
        "shell_loop_20000_ticks24",
    ] {
        let (a, b) = (figure(&n, key, &native), figure(&m, key, &mvm));
        println!(
            "{key:<36} {:>8.3} s {:>10.3} s {:>7.3}",
            s(a),
            s(b),
            b as f64 / a as f64
        );
    }
    for key in ["md5_16mib_ticks24", "shell_loop_20000_ticks24"] {
        let ratio = figure(&m, key, &mvm) as f64 / figure(&n, key, &native) as f64;
        let expected = 1.0 / SHARE;
        assert!(
            (ratio - expected).abs() <= 0.05 * expected,
            "{key}: {ratio:.3} times native under a {SHARE} share, not within 5 % of {expected}"
        );
    }
    // The monitor's entries Linux causes: its budget ends and releases
    // (FIQs of the monitor's timer) and its hypercalls (PSCI at boot).
    let stats = mvm.line("mvm-stats guest=linux ");
    let entries: u64 = stats
        .rsplit("entries=")
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{stats}"));
    let detail = mvm.line("mvm-detail guest=linux ");
    println!("Linux's monitor entries: {entries} in 11 s of run ({detail})");
}
