//! The command contract of `cargo mvm check`: exit codes 0 / 1 / 2, the
//! rustc-style rendering, and the JSON form; `report` in its three forms,
//! with and without a trace of a run.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn mvm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mvm"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

#[test]
fn valid_system_exits_0_with_a_per_core_summary() {
    let out = mvm(&["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("system `demo` on board `qemu-vexpress-a9`: valid and schedulable"),
        "{stdout}"
    );
    assert!(
        stdout.contains("core 0: dedicated to HRT guest `control`"),
        "{stdout}"
    );
    assert!(
        stdout.contains("core 1: EDF over 2 SRT guests, utilization 40.02%, spare 59.98%"),
        "{stdout}"
    );
}

#[test]
fn rejected_system_exits_1_with_a_pointed_diagnostic() {
    let out = mvm(&["check", "partitions/examples/rejected-layout.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let expected = "error[unknown-key]: unknown key `buget` in [[guest]] (did you mean `budget`?)\n  --> partitions/examples/rejected-layout.toml:34:1\n   |\n34 | buget   = \"2ms\"\n   | ^^^^^ unknown key\n";
    assert!(stderr.contains(expected), "{stderr}");
    assert!(
        stderr.ends_with(
            "error: `partitions/examples/rejected-layout.toml` was rejected: 7 errors\n"
        ),
        "{stderr}"
    );
}

#[test]
fn a_warning_does_not_fail_the_check() {
    let file = "mvm-config/tests/fixtures/switch-overhead-below-board.toml";
    let out = mvm(&["check", file]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("valid and schedulable"), "{stdout}");
    let expected = format!(
        "warning[switch-overhead-below-board]: switch overhead 500ns is below the 1600ns measured for board `qemu-vexpress-a9`: the analysis may accept systems that miss deadlines\n --> {file}:7:10\n"
    );
    assert!(stderr.starts_with(&expected), "{stderr}");
    assert!(
        stderr.ends_with(&format!("warning: `{file}` was accepted with 1 warning\n")),
        "{stderr}"
    );

    let out = mvm(&["check", "--format", "json", file]);
    assert_eq!(out.status.code(), Some(0));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(value["ok"], true);
    assert_eq!(value["summary"]["switch_overhead_ns"], 500);
    let d = &value["diagnostics"][0];
    assert_eq!(d["severity"], "warning");
    assert_eq!(d["code"], "switch-overhead-below-board");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(7), Some(10))
    );
}

#[test]
fn missing_file_exits_2() {
    let out = mvm(&["check", "partitions/no-such-file.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read `partitions/no-such-file.toml`"));
}

#[test]
fn bad_arguments_exit_2() {
    assert_eq!(mvm(&["check", "--format", "yaml"]).status.code(), Some(2));
    assert_eq!(mvm(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn json_lists_the_same_findings() {
    let out = mvm(&[
        "check",
        "--format",
        "json",
        "partitions/examples/rejected-deadlines.toml",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(value["ok"], false);
    let d = &value["diagnostics"][0];
    assert_eq!(d["severity"], "error");
    assert_eq!(d["code"], "unschedulable");
    assert_eq!(d["line"], 39);
    assert_eq!(
        d["related"].as_array().map(Vec::len),
        Some(2),
        "the other two guests are named"
    );
    assert!(d["message"]
        .as_str()
        .unwrap_or_default()
        .contains("at t = 3ms"));

    let out = mvm(&["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(value["ok"], true);
    assert_eq!(value["summary"]["cores"][1]["mode"], "edf");
    assert_eq!(
        value["summary"]["cores"][1]["analysis"]["test"],
        "processor-demand"
    );
}

#[test]
fn build_of_the_image_fails_with_the_same_diagnostic() {
    // `cargo build` of the image crate runs the check from build.rs. A
    // separate target directory keeps this from waiting on the outer build.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target = root().join("target/test-build-rs");
    let out = Command::new(cargo)
        .args(["build", "--quiet", "--package", "mvm"])
        .env("MVM_SYSTEM", "partitions/examples/rejected-overload.toml")
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(root())
        .output()
        .expect("cargo runs");
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("error[unschedulable]: core 1 is not schedulable under EDF"),
        "{stderr}"
    );
    assert!(
        stderr.contains("partitions/examples/rejected-overload.toml:15:10"),
        "{stderr}"
    );
}

#[test]
fn report_explains_the_system_in_text_json_and_svg() {
    let text = mvm(&["report"]);
    assert_eq!(text.status.code(), Some(0));
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(
        text.contains("device uart1        [0x1000_A000..0x1000_B000) PL011 UART interrupt 38"),
        "{text}"
    );
    // The kernel's EDF policy over 40 ms: telemetry gets 4 jobs x 3 ms.
    assert!(
        text.contains("telemetry        budget time       12ms (30.00%)"),
        "{text}"
    );

    let json = mvm(&["report", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(value["guests"][0]["devices"][1]["interrupts"][0], 34);
    let slices = value["timelines"][0]["slices"]
        .as_array()
        .expect("a timeline for core 1");
    let first = &slices[0];
    assert_eq!(
        (
            first["guest"].as_u64(),
            first["start_ns"].as_u64(),
            first["end_ns"].as_u64()
        ),
        (Some(0), Some(0), Some(3_000_000)),
        "earliest deadline first: telemetry (8 ms) before logger (20 ms)"
    );

    let svg = mvm(&["report", "--format", "svg"]);
    let svg = String::from_utf8_lossy(&svg.stdout).into_owned();
    assert!(
        svg.starts_with("<svg") && svg.matches("<rect").count() > 10,
        "{svg}"
    );
    assert_eq!(
        svg,
        String::from_utf8_lossy(&mvm(&["report", "--format", "svg"]).stdout),
        "deterministic"
    );
    // Core 1's 40 ms window: telemetry's deadlines at 8, 18, 28 and 38 ms,
    // logger's at 20 and 40 ms; a time axis ticked every 5 ms (0 to 40).
    assert_eq!(svg.matches("class=\"deadline\"").count(), 6, "{svg}");
    assert_eq!(svg.matches("class=\"release\"").count(), 6, "{svg}");
    assert_eq!(svg.matches("class=\"tick\"").count(), 9, "{svg}");
    assert!(svg.contains("\n35ms\n</text>"), "{svg}");
}

/// `report` draws each guest's worst-case supply against its tasks' demand
/// (docs/schedulability.md, "Inside a guest"): for the accepted example,
/// an EDF guest's demand never exceeds its supply at any sampled instant
/// (the check proved it at every deadline, and demand only steps there);
/// the SVG has both curves for both guests.
#[test]
fn report_draws_supply_and_demand_of_guests_with_tasks() {
    let system = "partitions/examples/tasks.toml";
    let json = mvm(&["report", "--system", system, "--format", "json"]);
    assert_eq!(json.status.code(), Some(0), "{}", text(&json.stderr));
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let curves = value["curves"].as_array().expect("curves");
    assert_eq!(curves.len(), 2, "one per guest with tasks: {curves:?}");
    let sensor = curves
        .iter()
        .find(|c| c["guest"] == "sensor")
        .expect("the EDF guest's curves");
    let points = sensor["points"].as_array().expect("points");
    assert!(points.len() > 100);
    let mut rising = 0;
    for p in points {
        let (t, supply, demand) = (p[0].as_u64(), p[1].as_u64(), p[2].as_u64());
        let (Some(_), Some(supply), Some(demand)) = (t, supply, demand) else {
            panic!("{p}")
        };
        assert!(demand <= supply, "demand over supply at {p}");
        rising += (demand > 0) as u32;
    }
    assert!(rising > 0, "the demand curve is drawn, not all zero");
    let svg = mvm(&["report", "--system", system, "--format", "svg"]);
    let svg = text(&svg.stdout);
    assert_eq!(
        svg.matches("<polyline").count(),
        4,
        "supply and demand of two guests"
    );
    assert!(
        svg.contains("`sensor`: supply (worst case, green) and EDF demand"),
        "{svg}"
    );
    assert!(svg.contains("`control`: supply (worst case, green) and request (rbf) of its least urgent task `log`"), "{svg}");
}

/// `report --trace` draws what ran below what the analysis says: a 200 ms
/// traced run of the demo gives one traced row per SRT guest of core 1,
/// with one `traced-run` rectangle per run the trace holds for that guest
/// in the analysed window (40 ms from core 1's first traced release), and
/// the text report counts each guest's jobs, runs and misses.
#[test]
fn report_draws_the_traced_run_below_the_analysed_schedule() {
    let file = root().join("target/mvm-tests/cli/demo-trace.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(&file);
    let run = {
        let _guard = common::one_at_a_time();
        Command::new(env!("CARGO_BIN_EXE_mvm"))
            .args(["run", "--for", "200ms", "--trace"])
            .arg(&file)
            .current_dir(root())
            .output()
            .expect("mvm runs")
    };
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stdout));
    let trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("the trace file")).unwrap();
    let events = trace["traceEvents"].as_array().unwrap();
    let on_core_1 = |e: &&serde_json::Value| e["tid"] == 1;
    let origin = events
        .iter()
        .filter(on_core_1)
        .filter(|e| e["ph"] == "i" && e["cat"] == "release")
        .filter_map(|e| e["ts"].as_f64())
        .fold(f64::INFINITY, f64::min);
    let report = mvm(&["report", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&report.stdout).expect("JSON");
    let window_us = value["timelines"][0]["window_ns"].as_f64().unwrap() / 1000.0;
    assert_eq!(window_us, 40_000.0, "core 1's analysed window");

    let file = file.to_str().unwrap();
    let svg = mvm(&["report", "--format", "svg", "--trace", file]);
    assert_eq!(svg.status.code(), Some(0), "{}", text(&svg.stderr));
    let svg = text(&svg.stdout);
    assert!(svg.contains("traced run (`"), "{svg}");
    let in_window = |e: &&serde_json::Value| {
        let ts = e["ts"].as_f64().unwrap();
        let dur = e["dur"].as_f64().unwrap_or(0.0);
        ts < origin + window_us && (ts + dur > origin || ts == origin)
    };
    for (guest, jobs) in [("telemetry", 4), ("logger", 2)] {
        let runs = events
            .iter()
            .filter(on_core_1)
            .filter(|e| e["ph"] == "X" && e["name"].as_str().unwrap().starts_with(guest))
            .filter(in_window)
            .count();
        assert!(runs >= jobs, "{guest} runs at least once a job: {runs}");
        assert_eq!(
            svg.matches(&format!("class=\"traced-run\" data-guest=\"{guest}\""))
                .count(),
            runs,
            "{guest}'s traced runs in the window"
        );
        assert!(
            svg.contains(&format!(">\n{guest} (traced)\n</text>")),
            "{svg}"
        );
    }
    assert_eq!(
        svg.matches("class=\"traced-miss\"").count(),
        0,
        "a healthy run"
    );
    // The traced releases in the window: at least telemetry's 4 and
    // logger's 2, as analysed; the next ones too when the monitor's clock
    // put them a fraction of a microsecond before the window's end.
    let releases = events
        .iter()
        .filter(on_core_1)
        .filter(|e| e["ph"] == "i" && e["cat"] == "release")
        .filter(in_window)
        .count();
    assert!(releases >= 6, "{releases}");
    assert_eq!(
        svg.matches("class=\"traced-release\"").count(),
        releases,
        "{svg}"
    );

    let report = mvm(&["report", "--trace", file]);
    assert_eq!(report.status.code(), Some(0), "{}", text(&report.stderr));
    let report = text(&report.stdout);
    assert!(report.contains("core 1 as traced in `"), "{report}");
    assert!(
        report.contains("telemetry        20 jobs released, ")
            && report.contains("logger           10 jobs released, "),
        "200 ms: 20 jobs of 10 ms, 10 of 20 ms: {report}"
    );
    assert!(report.contains(", 0 deadline misses\n"), "{report}");
}

#[test]
fn report_refuses_a_missing_or_foreign_trace() {
    let out = mvm(&["report", "--trace", "target/no-such-trace.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("error: cannot read trace `target/no-such-trace.json`"),
        "{}",
        text(&out.stderr)
    );

    let file = root().join("target/mvm-tests/cli/foreign-trace.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let foreign = serde_json::json!({"traceEvents": [
        {"ph": "i", "s": "t", "pid": 0, "tid": 1, "ts": 5.0, "cat": "release",
         "name": "release telemetry"},
        {"ph": "X", "pid": 0, "tid": 1, "ts": 5.0, "dur": 3.0, "cat": "run",
         "name": "radar"},
    ]});
    std::fs::write(&file, foreign.to_string()).unwrap();
    let out = mvm(&[
        "report",
        "--format",
        "svg",
        "--trace",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "not a trace of system `demo`: it names a guest the description does not have: `radar`"
        ),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no picture of a foreign trace");

    std::fs::write(&file, r#"{"traceEvents": []}"#).unwrap();
    let out = mvm(&["report", "--trace", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("an empty trace"),
        "{}",
        text(&out.stderr)
    );
}
