//! `cargo mvm run --trace FILE`: the monitor's trace of a bounded run as
//! Chrome/Perfetto trace-event JSON (open it at ui.perfetto.dev or in
//! `chrome://tracing`, nothing to install).
//!
//! - The monitor prints each shared core's events at the end of the run
//!   (`mvm-trace core=C ns=T ev=KIND server=I arg=A`, kernel/src/trace.rs);
//!   this module reads them from the monitor's console log.
//! - A guest running is a complete event (`"ph": "X"`) on its core's track,
//!   from the decision that chose it to the next decision that did not;
//!   releases, budget ends, misses and hypercalls are instant events
//!   (`"ph": "i"`). Times are microseconds, as the format wants.

use serde_json::{json, Value};

/// One parsed `mvm-trace` event line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub core: u32,
    pub ns: u64,
    pub kind: String,
    pub server: usize,
    pub arg: u32,
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split(' ')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

/// The event lines, and each core's `events=`/`dropped=` summary.
pub fn parse(log: &str) -> (Vec<Line>, Vec<(u32, u64, u64)>) {
    let mut events = Vec::new();
    let mut totals = Vec::new();
    for l in log.lines().filter_map(|l| l.strip_prefix("mvm-trace ")) {
        let core = field(l, "core").and_then(|c| c.parse().ok());
        if let (Some(core), Some(n), Some(d)) = (
            core,
            field(l, "events").and_then(|v| v.parse().ok()),
            field(l, "dropped").and_then(|v| v.parse().ok()),
        ) {
            totals.push((core, n, d));
            continue;
        }
        let parsed = (|| {
            Some(Line {
                core: core?,
                ns: field(l, "ns")?.parse().ok()?,
                kind: field(l, "ev")?.to_string(),
                server: field(l, "server")?.parse().ok()?,
                arg: u32::from_str_radix(field(l, "arg")?.trim_start_matches("0x"), 16).ok()?,
            })
        })();
        events.extend(parsed);
    }
    (events, totals)
}

/// The guest a core's server `i` is.
fn guest_name(system: &mvm_config::model::System, core: u32, server: usize) -> String {
    use mvm_kernel::config::CorePlan;
    match system.cores.get(core as usize).map(|c| &c.plan) {
        Some(CorePlan::Edf { guests }) => guests
            .get(server)
            .map(|&g| system.guests[g as usize].name.clone()),
        _ => None,
    }
    .unwrap_or_else(|| format!("server {server}"))
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

/// The trace-event JSON of a run's console log, and a one-line summary.
pub fn chrome_json(
    system: &mvm_config::model::System,
    log: &str,
) -> Result<(String, String), String> {
    let (lines, totals) = parse(log);
    if totals.is_empty() {
        return Err(
            "the monitor printed no trace (did the run end by itself? a trace needs --for)".into(),
        );
    }
    let mut out: Vec<Value> = Vec::new();
    for &(core, _, _) in &totals {
        out.push(
            json!({"ph": "M", "name": "thread_name", "pid": 0, "tid": core,
            "args": {"name": format!("core {core}")}}),
        );
    }
    out.push(json!({"ph": "M", "name": "process_name", "pid": 0,
        "args": {"name": format!("MVM system `{}`", system.name)}}));
    for &(core, _, _) in &totals {
        let mine: Vec<&Line> = lines.iter().filter(|l| l.core == core).collect();
        // Runs: from a decision to the next decision that changes it.
        let mut open: Option<(&Line, u64)> = None;
        let decisions = mine
            .iter()
            .filter(|l| matches!(l.kind.as_str(), "run" | "slack" | "idle"));
        for d in decisions {
            if let Some((o, _)) = open {
                if o.kind == d.kind && o.server == d.server {
                    continue;
                }
                push_run(&mut out, system, o, d.ns);
            }
            open = Some((d, d.ns));
        }
        if let (Some((o, _)), Some(last)) = (open, mine.last()) {
            push_run(&mut out, system, o, last.ns);
        }
        for l in mine
            .iter()
            .filter(|l| !matches!(l.kind.as_str(), "run" | "slack" | "idle"))
        {
            let guest = guest_name(system, core, l.server);
            let mut e = json!({"ph": "i", "s": "t", "pid": 0, "tid": core,
                "ts": us(l.ns), "cat": l.kind,
                "name": format!("{} {guest}", l.kind)});
            if l.kind == "hypercall" {
                e["args"] = json!({"function": format!("{:#010x}", l.arg)});
            }
            out.push(e);
        }
    }
    let events: u64 = totals.iter().map(|t| t.1).sum();
    let dropped: u64 = totals.iter().map(|t| t.2).sum();
    let json = serde_json::to_string(&json!({
        "traceEvents": out,
        "displayTimeUnit": "ns",
        "otherData": {"system": system.name, "events": events, "dropped": dropped},
    }))
    .expect("JSON values serialize");
    Ok((
        json,
        format!(
            "{events} events ({dropped} dropped: the monitor keeps {} a core)",
            mvm_kernel::trace::EVENTS
        ),
    ))
}

fn push_run(out: &mut Vec<Value>, system: &mvm_config::model::System, o: &Line, end: u64) {
    if o.kind == "idle" || end <= o.ns {
        return;
    }
    let guest = guest_name(system, o.core, o.server);
    out.push(json!({"ph": "X", "pid": 0, "tid": o.core, "ts": us(o.ns),
        "dur": us(end - o.ns), "cat": o.kind,
        "name": if o.kind == "slack" { format!("{guest} (slack)") } else { guest }}));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_parsed_and_runs_merged_until_the_decision_changes() {
        let text = include_str!("../../partitions/system.toml");
        let system = mvm_config::check(text).system.unwrap();
        let log = "boot\n\
            mvm-trace core=1 ns=1000 ev=release server=0 arg=0x0\n\
            mvm-trace core=1 ns=1000 ev=run server=0 arg=0x0\n\
            mvm-trace core=1 ns=2000 ev=run server=0 arg=0x0\n\
            mvm-trace core=1 ns=2500 ev=hypercall server=0 arg=0x86000001\n\
            mvm-trace core=1 ns=3000 ev=slack server=1 arg=0x0\n\
            mvm-trace core=1 ns=5000 ev=idle server=0 arg=0x0\n\
            mvm-trace core=1 events=6 dropped=0\n";
        let (lines, totals) = parse(log);
        assert_eq!(lines.len(), 6);
        assert_eq!(totals, [(1, 6, 0)]);
        let (json, summary) = chrome_json(&system, log).unwrap();
        assert_eq!(
            summary,
            format!(
                "6 events (0 dropped: the monitor keeps {} a core)",
                mvm_kernel::trace::EVENTS
            )
        );
        let v: Value = serde_json::from_str(&json).unwrap();
        let events = v["traceEvents"].as_array().unwrap();
        let runs: Vec<(&str, f64, f64)> = events
            .iter()
            .filter(|e| e["ph"] == "X")
            .map(|e| {
                (
                    e["name"].as_str().unwrap(),
                    e["ts"].as_f64().unwrap(),
                    e["dur"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            runs,
            [("telemetry", 1.0, 2.0), ("logger (slack)", 3.0, 2.0)]
        );
        assert!(events.iter().any(|e| e["name"] == "release telemetry"));
        assert!(events.iter().any(|e| e["args"]["function"] == "0x86000001"));
        assert!(chrome_json(&system, "no trace here").is_err());
    }
}
