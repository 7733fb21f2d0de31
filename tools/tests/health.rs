//! QEMU scenarios: partition health (docs/health.md). `test-crash` fails
//! on purpose, by an error halt and by a stopped heartbeat in turn; the
//! monitor restarts it up to its limit, then stops it; every other guest
//! misses nothing.

mod common;
use common::{run, Run};

/// The Rust control guest's ticks.
fn ticks(r: &Run) -> Vec<(u64, u64)> {
    common::ticks(r, "[control] control: ")
}

/// The monitor's lines about `crash`'s failures and restarts, in order.
fn failures(r: &Run) -> Vec<&str> {
    r.lines("mvm: guest `crash` failed: ")
}

/// Each restart's figures: (failure to first instruction, restore), ns.
fn restart_times(r: &Run) -> Vec<(u64, u64)> {
    r.lines("mvm: guest `crash` restarted: its first instruction ")
        .iter()
        .filter_map(|l| {
            let rest = l.split("its first instruction ").nth(1)?;
            let (first, rest) = rest.split_once(" ns after its failure; restored in ")?;
            let (restore, _) = rest.split_once(" ns")?;
            Some((first.parse().ok()?, restore.parse().ok()?))
        })
        .collect()
}

/// Both kinds of failure in turn, restarts up to the limit, then a stop;
/// each run starts clean (its memory cleared, its image as built).
fn assert_fails_and_restarts(r: &Run, limit: usize) {
    let failed = failures(r);
    assert_eq!(
        failed.len(),
        limit + 1,
        "{limit} restarts, then a stop: {r:?}"
    );
    for (n, line) in failed.iter().enumerate() {
        let cause = if n % 2 == 0 {
            "halted with error code 0x2a"
        } else {
            "missed its heartbeat"
        };
        assert!(line.contains(cause), "failure {n}: {line}");
        if n < limit {
            assert!(
                line.contains(&format!(
                    "restarting it (restart {} of at most {limit} within 10 s)",
                    n + 1
                )),
                "{line}"
            );
        } else {
            assert!(
                line.ends_with(&format!("it stops: {limit} restarts within 10 s already")),
                "{line}"
            );
        }
    }
    for n in 0..=limit {
        assert!(
            r.has(&format!("[crash] crash: run {n}: memory clean")),
            "run {n} starts with its memory cleared and its image restored: {r:?}"
        );
    }
    assert!(!r.has("left-over state"), "{r:?}");
    assert!(r.has("mvm: guest `crash` halted"), "{r:?}");
    assert_eq!(restart_times(r).len(), limit, "{r:?}");
    let detail = r.line("mvm-detail guest=crash ");
    assert!(detail.ends_with(&format!(" restarts={limit}")), "{detail}");
}

/// An SRT guest beside another on core 1 fails and is restarted at its
/// server's next period boundary; `telemetry` beside it misses nothing, and
/// the HRT `control` on core 0 keeps every tick and sees no monitor entry.
#[test]
fn a_failing_srt_guest_is_restarted_up_to_its_limit_and_no_one_else_notices() {
    let r = run("partitions/tests/health-srt.toml", "1s");
    r.assert_healthy();
    assert_fails_and_restarts(&r, 3);
    for (first, restore) in restart_times(&r) {
        assert!(
            restore < 1_000_000 && first <= 10_000_000 + 100_000,
            "restored in {restore} ns, first instruction {first} ns after the failure: at the \
             next period boundary (10 ms) at the latest: {r:?}"
        );
    }
    let ticks = ticks(&r);
    assert!(ticks.len() >= 9, "{r:?}");
    for (i, w) in ticks.windows(2).enumerate() {
        assert_eq!(w[1].0, w[0].0 + 1, "a tick is missing: {r:?}");
        assert_eq!(w[1].1 - w[0].1, 100, "tick #{i} late: {r:?}");
    }
    assert!(
        r.has("mvm-stats core=0 entries=3 "),
        "no monitor entry on the HRT core beyond control's own 3 hypercalls: {r:?}"
    );
    let telemetry = r.lines("mvm-stats guest=telemetry ");
    assert!(
        telemetry.first().is_some_and(|l| l.contains(" misses=0 ")),
        "{r:?}"
    );
}

/// The HRT guest on core 0 fails; its own core's monitor checks its
/// watchdog and restarts it there, at once; `telemetry` on core 1 misses
/// nothing and takes no monitor entry beyond its own.
#[test]
fn a_failing_hrt_guest_is_restarted_on_its_own_core() {
    let r = run("partitions/tests/health-hrt.toml", "1s");
    r.assert_healthy();
    assert_fails_and_restarts(&r, 2);
    for (first, restore) in restart_times(&r) {
        assert!(
            first < 500_000 && restore <= first,
            "an HRT guest restarts at once: {first} ns: {r:?}"
        );
    }
    let telemetry = r.line("mvm-stats guest=telemetry ");
    assert!(telemetry.contains(" misses=0 "), "{telemetry}");
    let detail = r.line("mvm-detail guest=telemetry ");
    assert!(
        detail.contains(" fiq=0 "),
        "core 1 took no monitor interrupt while telemetry ran: {detail}"
    );
    for k in 1..=3u64 {
        assert!(
            r.lines(&format!("[telemetry] telemetry: sample {k} at "))
                .iter()
                .any(|l| l.contains(" ms")),
            "telemetry's sample {k}: {r:?}"
        );
    }
}
