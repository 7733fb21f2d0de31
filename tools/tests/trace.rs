//! `cargo mvm run --trace FILE`: the monitor's own record of a bounded run
//! as Chrome/Perfetto trace-event JSON. A one-second run of the demo
//! parses, holds one release per job of each server (the monitor's own
//! `jobs=` count: 100 for telemetry's 10 ms period, 50 for logger's 20 ms),
//! the guests' runs, the notifications of telemetry's channel and their
//! delivery, and drops nothing.

mod common;
use common::{one_at_a_time, root, Run};

use std::process::Command;

#[test]
fn a_traced_run_holds_every_release_of_every_server() {
    let file = root().join("target/mvm-tests/trace/demo.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(&file);
    let r = {
        let _guard = one_at_a_time();
        let out = Command::new(env!("CARGO_BIN_EXE_mvm"))
            .args(["run", "--for", "1s", "--trace"])
            .arg(&file)
            .current_dir(root())
            .output()
            .expect("mvm runs");
        Run::from_output(out)
    };
    r.assert_healthy();
    assert!(
        !r.stdout.contains("mvm-trace "),
        "the trace goes to its file, not the terminal: {r:?}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("the trace file")).unwrap();
    assert_eq!(v["otherData"]["dropped"], 0, "{}", v["otherData"]);
    let events = v["traceEvents"].as_array().unwrap();
    for (guest, jobs) in [("telemetry", 100), ("logger", 50)] {
        let releases = events
            .iter()
            .filter(|e| e["ph"] == "i" && e["name"] == format!("release {guest}"))
            .count();
        assert_eq!(releases, jobs, "{guest}'s releases");
        assert!(
            r.has(&format!("mvm-stats guest={guest} core=1 jobs={jobs} ")),
            "the monitor's own count agrees: {r:?}"
        );
        assert!(
            events
                .iter()
                .any(|e| e["ph"] == "X" && e["name"] == guest && e["tid"] == 1),
            "{guest} runs on core 1's track"
        );
    }
    // Control (HRT, core 0) rings telemetry's channel every tick: the
    // monitor sets telemetry's line 75 pending once per ring it sees (at
    // most once per tick), and records each time the line was pending as
    // it switched telemetry in.
    let named = |name: &str| {
        events
            .iter()
            .filter(|e| e["ph"] == "i" && e["name"] == name)
            .collect::<Vec<_>>()
    };
    let notified = named("notify telemetry");
    let ticks = common::ticks(&r, "[control] control: ").len();
    assert!(
        !notified.is_empty() && notified.len() <= ticks,
        "{} notifications for {ticks} ticks of control",
        notified.len()
    );
    let delivered = named("interrupt telemetry");
    assert!(
        !delivered.is_empty(),
        "no line was pending as telemetry came in"
    );
    for e in &notified {
        assert_eq!(e["args"]["line"], 75, "{e}");
    }
    // Telemetry's lines: timer1's (35), uart2's (39), its channel's (75).
    for e in &delivered {
        assert!([35, 39, 75].iter().any(|&l| e["args"]["line"] == l), "{e}");
    }
    assert!(
        delivered.iter().any(|e| e["args"]["line"] == 75),
        "a notification pended while telemetry was out is taken as it comes in"
    );
    assert!(named("notify logger").is_empty() && named("interrupt logger").is_empty());
    println!(
        "{} notifications, {} lines pending at telemetry's switch-in, {ticks} control ticks",
        notified.len(),
        delivered.len()
    );
    let line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("mvm-bench core=1 trace_event_ns="))
        .unwrap_or_else(|| panic!("the trace's cost: {r:?}"));
    println!("{line}");
}
