//! Channels end to end in QEMU (docs/channels.md): the only way data flows
//! between partitions, declared in the description.
//!
//! - `partitions/tests/channels.toml`: `control` (HRT, core 0) sends a
//!   sample every 100 ms tick to `telemetry` (SRT, core 1) without
//!   entering the monitor; `writer` sends 6 400 samples to `reader`, 64 a
//!   job, both SRT on core 1. Every message arrives, in order, nothing
//!   lost, beside the servers' budgets (0 misses), and the notifications
//!   come within the bound the check states. The figures the benchmark
//!   reports (docs/performance.md) are printed.
//! - `partitions/tests/channels-hostile.toml`: a writer that scribbles on
//!   its ring's indices every job, and a reader that writes its read-only
//!   end.
//!
//! Both cores mostly wait (control in WFI, core 1's guests yield), so
//! QEMU's round-robin does not delay core 1's timer (docs/world-switch.md).

mod common;
use common::{root, run, Run};

/// The longest a notification of `channel` may wait, as the check states
/// it for `system`.
fn bound_ns(system: &str, channel: &str) -> u64 {
    let text = std::fs::read_to_string(root().join(system)).unwrap();
    let system = mvm_config::check(&text).system.expect("a valid system");
    let c = system
        .channels
        .iter()
        .find(|c| c.name == channel)
        .expect("the channel is declared");
    mvm_config::channels::notify_bound(&system, c).expect("a notified SRT reader")
}

/// The number after `key` in `line`, up to the next space or `;`.
fn number(line: &str, key: &str) -> u64 {
    line.split(key)
        .nth(1)
        .and_then(|t| t.split([' ', ';']).next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("`{key}` in {line}"))
}

/// telemetry's samples: (seq, value, ns from sending to reading).
fn samples(r: &Run) -> Vec<(u64, i64, u64)> {
    r.lines("[telemetry] telemetry: sample seq=")
        .iter()
        .map(|l| {
            let value: i64 = l
                .split("value=")
                .nth(1)
                .and_then(|t| t.split(' ').next())
                .and_then(|t| t.parse().ok())
                .unwrap_or_else(|| panic!("{l}"));
            (number(l, "seq="), value, number(l, "(read "))
        })
        .collect()
}

/// control's sample `seq`'s value (partitions/demo-control).
fn value(seq: u64) -> i64 {
    (seq * 37 % 200) as i64 - 100
}

#[test]
fn every_message_arrives_in_order_from_the_hrt_core_and_across_a_shared_core() {
    let system = "partitions/tests/channels.toml";
    let r = run(system, "4s");
    r.assert_healthy();
    assert!(
        r.has("mvm-stats core=0 entries=3 "),
        "writing a channel costs the HRT core no monitor entry: {r:?}"
    );
    // HRT to SRT: every sample, in order, each read within the bound.
    let ticks = common::ticks(&r, "[control] control: ");
    let last_tick = ticks.last().map_or(0, |t| t.0);
    let got = samples(&r);
    assert!(
        got.iter().map(|s| s.0).eq(1..=got.len() as u64),
        "samples 1, 2, ... in order: {got:?}"
    );
    assert!(
        got.len() as u64 + 1 >= last_tick && last_tick >= 35,
        "{} samples for {last_tick} ticks: {r:?}",
        got.len()
    );
    assert!(
        got.iter().all(|s| s.1 == value(s.0)),
        "values as sent: {got:?}"
    );
    let bound = bound_ns(system, "samples");
    let worst = got.iter().map(|s| s.2).max().unwrap();
    assert!(
        worst <= bound,
        "a sample read {worst} ns after it was sent; the bound is {bound} ns"
    );
    assert!(
        !r.has("[telemetry] telemetry: channel `samples`: lost="),
        "{r:?}"
    );
    // SRT to SRT: 6 400 in order, none lost, one notification a batch.
    assert!(r.has("[writer] writer: sent 6400; "), "{r:?}");
    let report = r
        .lines("[reader] reader: ")
        .into_iter()
        .rfind(|l| l.contains(" in order"))
        .unwrap_or_else(|| panic!("the reader's report: {r:?}"))
        .to_string();
    assert!(
        report.starts_with("[reader] reader: 6400 in order, 0 out of order; lost=0 errors=0; "),
        "{report}"
    );
    assert!(
        number(&report, "errors=0; ") >= 99,
        "a notification a batch: {report}"
    );
    let batches = number(&report, "at most (");
    let mean = number(&report, "notified ");
    let max = number(&report, "on average, ");
    let bulk_bound = bound_ns(system, "bulk");
    assert!(
        batches >= 90 && max <= bulk_bound,
        "{report}; bound {bulk_bound} ns"
    );
    let send = number(&r.line("[writer] writer: sent 6400; "), "costs ");
    let receive = number(&report, "a receive costs ");
    println!(
        "channels: HRT to SRT: {} samples, read {} to {worst} ns after sending (bound {bound} ns); \
         SRT to SRT: doorbell to handler {mean} ns on average, {max} ns at most over {batches} batches \
         (bound {bulk_bound} ns); a send {send} ns, a receive {receive} ns: {} messages/s through one channel",
        got.len(),
        got.iter().map(|s| s.2).min().unwrap(),
        1_000_000_000 / (send + receive).max(1)
    );
}

#[test]
fn a_hostile_writer_costs_its_reader_only_messages_and_a_read_only_end_stays_read_only() {
    let r = run("partitions/tests/channels-hostile.toml", "2s");
    r.assert_healthy();
    assert!(r.has("mvm-stats core=0 entries=3 "), "{r:?}");
    // The reader of garbage keeps running and counting: its reports go on,
    // every one with errors.
    let reports = r.lines("[reader-of-hostile] reader: ");
    let counted: Vec<u64> = reports
        .iter()
        .filter(|l| l.contains(" in order"))
        .map(|l| number(l, "errors="))
        .collect();
    assert!(
        counted.len() >= 3 && counted[0] > 0 && counted.windows(2).all(|w| w[1] >= w[0]),
        "the reader survives, counting errors: {reports:?}"
    );
    assert!(!r.has("panicked"), "{r:?}");
    // The reader of `not-yours` cannot write it: the write faults and the
    // guest stops; nothing else notices.
    assert!(
        r.has("[rw-reader] rw-reader: writing to my read-only end"),
        "{r:?}"
    );
    assert!(!r.has("the write went through"), "{r:?}");
    assert!(
        r.has("[rw-reader] mvm-guest: unhandled data abort") && r.has("DFAR 0x9ff02004"),
        "a permission fault at the end's second word: {r:?}"
    );
    // telemetry's channel from control is untouched.
    let got = samples(&r);
    assert!(
        got.len() >= 15 && got.iter().map(|s| s.0).eq(1..=got.len() as u64),
        "{got:?}"
    );
    for (n, t) in common::ticks(&r, "[control] control: ") {
        assert_eq!(t, 100 * n, "control's tick {n}");
    }
}
