//! QEMU scenario: the flagship (`partitions/examples/rtos-linux.toml`):
//! R3-OS as the HRT guest on core 0, Debian's Linux and a Rust SRT guest
//! sharing core 1 (docs/guests/r3.md).
//!
//! - R3's 100 ms task prints every tick, none missing, each 100 ms after
//!   the one before, during and after Linux's boot (its kernel ticks every
//!   1 ms on its own SP804, a FIQ straight to the guest);
//! - core 0 sees no monitor entry after boot (R3 makes no hypercall: its
//!   start-up count is 0);
//! - Linux reaches userspace; no server on core 1 misses a deadline.
//!
//! Shares the Debian package cache (`target/mvm/debian/`) with `linux.rs`.

mod common;
use common::Run;

const SYSTEM: &str = "partitions/examples/rtos-linux.toml";

/// `cargo mvm run` on the flagship for `duration`, Linux's console on a
/// pipe that stays open (nothing is typed).
fn run(duration: &str) -> Run {
    common::run_typing(SYSTEM, duration, None)
}

/// The `[r3] control: tick N at T ms` lines, as (N, T).
fn ticks(r: &Run) -> Vec<(u64, u64)> {
    common::ticks(r, "[r3] control: ")
}

#[test]
fn r3_keeps_every_tick_on_its_own_core_beside_linux() {
    let r = run("10s");
    r.assert_healthy();
    let up = r
        .stdout
        .lines()
        .position(|l| l.starts_with("[linux] ") && l.contains("userspace up"))
        .unwrap_or_else(|| panic!("Linux reached userspace: {r:?}"));
    assert!(
        r.has("[r3] control: R3-OS on qemu-vexpress-a9"),
        "R3's greeting: {r:?}"
    );
    let ticks = ticks(&r);
    assert!(ticks.len() >= 95, "{} R3 ticks in 10 s: {r:?}", ticks.len());
    for (i, &(n, _)) in ticks.iter().enumerate() {
        assert_eq!(
            n,
            i as u64 + 1,
            "tick {n} is #{}: one is missing: {r:?}",
            i + 1
        );
    }
    // Each tick 100 ms after the one before, once core 1 has entered
    // Linux. Before that (about 0.4 s: the monitor on core 1 checks
    // Linux's 6 MiB image) R3's kernel ticks are on time but its task
    // printed up to 98 ms late: an open question (docs/guests/r3.md).
    let linux_entered_ms = r
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("mvm: guest entry after reset: "))
        .and_then(|l| l.split(" core 1 at ").nth(1))
        .and_then(|ns| ns.split(' ').next()?.parse::<u64>().ok())
        .map(|ns| ns / 1_000_000)
        .unwrap_or_else(|| panic!("core 1's guest entry: {r:?}"));
    let settled: Vec<(u64, u64)> = ticks
        .iter()
        .copied()
        .filter(|&(_, t)| t > linux_entered_ms + 100)
        .collect();
    assert!(
        settled.len() >= 90,
        "{} ticks after Linux's entry: {r:?}",
        settled.len()
    );
    let (n0, t0) = settled[0];
    for &(n, t) in &settled {
        // Tick N is due (N - n0) x 100 ms after tick n0; the printed
        // times are whole milliseconds, so +-1 ms.
        let expected = t0 + (n - n0) * 100;
        assert!(
            t.abs_diff(expected) <= 1,
            "tick {n} at {t} ms, due at {expected} ms: {r:?}"
        );
    }
    let after = r
        .stdout
        .lines()
        .skip(up)
        .filter(|l| l.starts_with("[r3] control: tick "))
        .count();
    assert!(
        after >= 10,
        "R3 ticks on after Linux's boot ({after}): {r:?}"
    );
    // R3's kernel ticks: every 1 ms, so about 10 000 in the run.
    let latency = r
        .lines("[r3] control: latency over ")
        .last()
        .copied()
        .unwrap_or_else(|| panic!("R3's latency figures: {r:?}"))
        .to_string();
    println!("{latency}");
    for guest in ["linux", "logger"] {
        let stats = r.line(&format!("mvm-stats guest={guest} "));
        assert!(stats.contains(" misses=0 "), "{stats}");
    }
    assert!(
        r.has("mvm-stats core=0 entries=0 "),
        "no monitor entry on R3's core (it makes no hypercall): {r:?}"
    );
    // The manifest names the toolchain R3 was built with, its own.
    let manifest: mvm_config::manifest::Manifest = serde_json::from_str(
        &std::fs::read_to_string(common::root().join("target/mvm/rtos-linux/manifest.json"))
            .unwrap(),
    )
    .unwrap();
    let r3 = &manifest.guest_toolchains["r3"];
    assert!(r3.starts_with("rustc 1.67.0-nightly"), "{r3}");
    assert_eq!(
        manifest.guest_toolchains.len(),
        1,
        "the others use the monitor's"
    );
}
