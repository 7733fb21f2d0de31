//! `cargo mvm run --trace FILE`: the monitor's own record of a bounded run
//! as Chrome/Perfetto trace-event JSON. A one-second run of the demo
//! parses, holds one release per job of each server (the monitor's own
//! `jobs=` count: 100 for telemetry's 10 ms period, 50 for logger's 20 ms),
//! the guests' runs, and drops nothing.

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
    let line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("mvm-bench core=1 trace_event_ns="))
        .unwrap_or_else(|| panic!("the trace's cost: {r:?}"));
    println!("{line}");
}
