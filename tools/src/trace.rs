//! `cargo mvm run --trace FILE`: the monitor's trace of a bounded run as
//! Chrome/Perfetto trace-event JSON (open it at ui.perfetto.dev or in
//! `chrome://tracing`, nothing to install).
//!
//! - The monitor prints each shared core's events at the end of the run
//!   (`mvm-trace core=C ns=T ev=KIND server=I arg=A`, kernel/src/trace.rs);
//!   this module reads them from the monitor's console log.
//! - A guest running is a complete event (`"ph": "X"`) on its core's track,
//!   from the decision that chose it to the next decision that did not;
//!   releases, budget ends, misses, hypercalls, notifications (a
//!   channel's line set pending) and interrupts (a line pending as its
//!   guest is switched in) are instant events
//!   (`"ph": "i"`). Times are microseconds, as the format wants.
//! - [`read`] takes such a file back for `cargo mvm report --trace FILE`:
//!   each shared core's runs, releases and misses, from the core's first
//!   traced release, checked against the description.

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
            match l.kind.as_str() {
                "hypercall" => e["args"] = json!({"function": format!("{:#010x}", l.arg)}),
                "notify" | "interrupt" => e["args"] = json!({"line": l.arg}),
                _ => {}
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

/// What one shared core ran, as a trace file recorded it: the times are
/// from the core's first traced release (the trace's own clock counts from
/// boot), so the rows line up with the analysed schedule, which starts at
/// the synchronous release.
#[derive(Debug, PartialEq, Eq, serde::Serialize)]
pub struct Traced {
    pub core: u32,
    /// The core's first traced release, in ns since boot: the rows' 0.
    pub origin_ns: u64,
    /// The rows' length: the analysed timeline's window.
    pub window_ns: u64,
    /// Runs that overlap `[0, window_ns)`, clipped to it.
    pub runs: Vec<TracedRun>,
    /// Releases in `[0, window_ns)`.
    pub releases: Vec<TracedMark>,
    /// Deadline misses in `[0, window_ns)`.
    pub misses: Vec<TracedMark>,
    /// Each guest of the core, in its plan's order, over the whole trace.
    pub totals: Vec<TracedTotals>,
    /// Events the monitor dropped, on all cores (the trace keeps only the
    /// sum): when not 0 the run went on past what the trace shows.
    pub dropped: u64,
}

/// A guest running, on its budget or in slack.
#[derive(Debug, PartialEq, Eq, serde::Serialize)]
pub struct TracedRun {
    /// Index into the core's EDF plan (as in the analysed timeline).
    pub guest: usize,
    pub start_ns: u64,
    pub end_ns: u64,
    pub slack: bool,
}

/// A release or a miss of a guest's job.
#[derive(Debug, PartialEq, Eq, serde::Serialize)]
pub struct TracedMark {
    pub guest: usize,
    pub at_ns: u64,
}

/// One guest's counts over the whole trace of its core.
#[derive(Debug, PartialEq, Eq, serde::Serialize)]
pub struct TracedTotals {
    pub guest: String,
    /// Jobs released.
    pub jobs: u64,
    /// Runs (decisions that chose it), on budget or in slack.
    pub runs: u64,
    pub misses: u64,
}

/// Why a trace file cannot be drawn beside a description's schedule.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadError {
    /// Not trace-event JSON (no `traceEvents` list, or broken JSON).
    NotATrace(String),
    /// Guests the description does not have, in the order first traced.
    UnknownGuests { system: String, guests: Vec<String> },
    /// A guest traced on a core the description does not run it on.
    WrongCore {
        guest: String,
        traced: u32,
        placed: u32,
    },
    /// The trace says it is of another system.
    OtherSystem { traced: String, system: String },
    /// No release on any shared core: nothing to align or draw.
    Empty,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::NotATrace(why) => write!(
                f,
                "not trace-event JSON ({why}); `cargo mvm run --for T --trace FILE` writes one"
            ),
            ReadError::UnknownGuests { system, guests } => write!(
                f,
                "not a trace of system `{system}`: it names {} the description does not have: {}",
                if guests.len() == 1 { "a guest" } else { "guests" },
                guests
                    .iter()
                    .map(|g| format!("`{g}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ReadError::WrongCore {
                guest,
                traced,
                placed,
            } => write!(
                f,
                "not a trace of this description: guest `{guest}` runs on core {traced} in the trace, \
                 but the description shares core {placed} with it, not core {traced}"
            ),
            ReadError::OtherSystem { traced, system } => write!(
                f,
                "a trace of system `{traced}`, not of `{system}`"
            ),
            ReadError::Empty => write!(
                f,
                "no job is released on a shared core in it: nothing to draw (an empty trace?)"
            ),
        }
    }
}

/// One event of a trace file that [`read`] uses.
struct Read<'a> {
    core: u32,
    ns: u64,
    /// `run`, `slack`, `release`, `miss`, `budget-end`, `hypercall`,
    /// `notify`, `interrupt`.
    kind: &'a str,
    guest: &'a str,
    /// A run's length; 0 for an instant.
    dur: u64,
}

fn ns(us: Option<f64>) -> Option<u64> {
    us.filter(|u| u.is_finite() && *u >= 0.0)
        .map(|u| (u * 1000.0).round() as u64)
}

/// Reads a trace file written by `run --trace` for `system`: for each shared
/// core in `windows` (its number and the analysed window, in ns) with a
/// traced release, what ran in the window from its first release.
pub fn read(
    system: &mvm_config::model::System,
    json: &str,
    windows: &[(u32, u64)],
) -> Result<Vec<Traced>, ReadError> {
    use mvm_kernel::config::CorePlan;
    let value: Value =
        serde_json::from_str(json).map_err(|e| ReadError::NotATrace(e.to_string()))?;
    let list = value["traceEvents"]
        .as_array()
        .ok_or_else(|| ReadError::NotATrace("no `traceEvents` list".into()))?;
    let events: Vec<Read> = list
        .iter()
        .filter_map(|e| {
            let core = u32::try_from(e["tid"].as_u64()?).ok()?;
            let ns_at = ns(e["ts"].as_f64())?;
            let (kind, name) = (e["cat"].as_str()?, e["name"].as_str()?);
            let (guest, dur) = match e["ph"].as_str()? {
                "X" => (
                    name.strip_suffix(" (slack)").unwrap_or(name),
                    ns(e["dur"].as_f64())?,
                ),
                "i" => (name.strip_prefix(kind)?.strip_prefix(' ')?, 0),
                _ => return None,
            };
            Some(Read {
                core,
                ns: ns_at,
                kind,
                guest,
                dur,
            })
        })
        .collect();
    let mut unknown: Vec<String> = Vec::new();
    for e in &events {
        if !system.guests.iter().any(|g| g.name == e.guest) && !unknown.iter().any(|u| u == e.guest)
        {
            unknown.push(e.guest.to_string());
        }
    }
    if !unknown.is_empty() {
        return Err(ReadError::UnknownGuests {
            system: system.name.clone(),
            guests: unknown,
        });
    }
    let members = |core: u32| match system.cores.get(core as usize).map(|c| &c.plan) {
        Some(CorePlan::Edf { guests }) => guests.as_slice(),
        _ => &[],
    };
    // Index of `guest` in `core`'s plan.
    let slot = |core: u32, guest: &str| {
        members(core)
            .iter()
            .position(|&g| system.guests[g as usize].name == guest)
    };
    for e in &events {
        if slot(e.core, e.guest).is_none() {
            let placed = system
                .guests
                .iter()
                .find(|g| g.name == e.guest)
                .map_or(0, |g| g.core);
            return Err(ReadError::WrongCore {
                guest: e.guest.to_string(),
                traced: e.core,
                placed,
            });
        }
    }
    if let Some(traced) = value["otherData"]["system"].as_str() {
        if traced != system.name {
            return Err(ReadError::OtherSystem {
                traced: traced.to_string(),
                system: system.name.clone(),
            });
        }
    }
    let dropped = value["otherData"]["dropped"].as_u64().unwrap_or(0);
    let mut out = Vec::new();
    for &(core, window) in windows {
        let mine: Vec<(usize, &Read)> = events
            .iter()
            .filter(|e| e.core == core)
            .filter_map(|e| Some((slot(core, e.guest)?, e)))
            .collect();
        let Some(origin) = mine
            .iter()
            .filter(|(_, e)| e.kind == "release")
            .map(|(_, e)| e.ns)
            .min()
        else {
            continue;
        };
        let end = origin.saturating_add(window);
        let marks = |kind: &str| {
            mine.iter()
                .filter(|(_, e)| e.kind == kind && (origin..end).contains(&e.ns))
                .map(|&(guest, e)| TracedMark {
                    guest,
                    at_ns: e.ns - origin,
                })
                .collect::<Vec<_>>()
        };
        let is_run = |e: &Read| matches!(e.kind, "run" | "slack") && e.dur > 0;
        let runs = mine
            .iter()
            .filter(|(_, e)| is_run(e) && e.ns < end && e.ns + e.dur > origin)
            .map(|&(guest, e)| TracedRun {
                guest,
                start_ns: e.ns.max(origin) - origin,
                end_ns: (e.ns + e.dur).min(end) - origin,
                slack: e.kind == "slack",
            })
            .collect();
        let totals = members(core)
            .iter()
            .enumerate()
            .map(|(i, &g)| {
                let count = |f: &dyn Fn(&Read) -> bool| {
                    mine.iter().filter(|(s, e)| *s == i && f(e)).count() as u64
                };
                TracedTotals {
                    guest: system.guests[g as usize].name.clone(),
                    jobs: count(&|e| e.kind == "release"),
                    runs: count(&is_run),
                    misses: count(&|e| e.kind == "miss"),
                }
            })
            .collect();
        out.push(Traced {
            core,
            origin_ns: origin,
            window_ns: window,
            runs,
            releases: marks("release"),
            misses: marks("miss"),
            totals,
            dropped,
        });
    }
    if out.is_empty() {
        return Err(ReadError::Empty);
    }
    Ok(out)
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

    fn demo() -> mvm_config::model::System {
        mvm_config::check(include_str!("../../partitions/system.toml"))
            .system
            .unwrap()
    }

    /// What `run --trace` writes, `report --trace` reads back: times from
    /// the first release, runs clipped to the window, counts over all.
    #[test]
    fn a_written_trace_reads_back_from_its_first_release() {
        let system = demo();
        let log = "mvm-trace core=1 ns=500 ev=hypercall server=1 arg=0x86000001\n\
            mvm-trace core=1 ns=1000000 ev=release server=0 arg=0x0\n\
            mvm-trace core=1 ns=1000000 ev=release server=1 arg=0x0\n\
            mvm-trace core=1 ns=1000000 ev=run server=0 arg=0x0\n\
            mvm-trace core=1 ns=4000000 ev=slack server=1 arg=0x0\n\
            mvm-trace core=1 ns=7000000 ev=idle server=0 arg=0x0\n\
            mvm-trace core=1 ns=11000000 ev=release server=0 arg=0x0\n\
            mvm-trace core=1 ns=21000000 ev=miss server=1 arg=0x0\n\
            mvm-trace core=1 ns=38000000 ev=run server=1 arg=0x0\n\
            mvm-trace core=1 ns=45000000 ev=release server=0 arg=0x0\n\
            mvm-trace core=1 ns=46000000 ev=idle server=0 arg=0x0\n\
            mvm-trace core=1 events=11 dropped=0\n";
        let (json, _) = chrome_json(&system, log).unwrap();
        let traced = read(&system, &json, &[(1, 40_000_000)]).unwrap();
        assert_eq!(traced.len(), 1);
        let t = &traced[0];
        assert_eq!(
            (t.core, t.origin_ns, t.window_ns),
            (1, 1_000_000, 40_000_000)
        );
        let run = |guest, start_ns, end_ns, slack| TracedRun {
            guest,
            start_ns,
            end_ns,
            slack,
        };
        assert_eq!(
            t.runs,
            [
                run(0, 0, 3_000_000, false),
                run(1, 3_000_000, 6_000_000, true),
                // 37 ms to 45 ms since the release, cut at the window.
                run(1, 37_000_000, 40_000_000, false),
            ]
        );
        let mark = |guest, at_ns| TracedMark { guest, at_ns };
        assert_eq!(
            t.releases,
            [mark(0, 0), mark(1, 0), mark(0, 10_000_000)],
            "the release at 44 ms is beyond the window"
        );
        assert_eq!(t.misses, [mark(1, 20_000_000)]);
        let totals: Vec<(&str, u64, u64, u64)> = t
            .totals
            .iter()
            .map(|g| (g.guest.as_str(), g.jobs, g.runs, g.misses))
            .collect();
        assert_eq!(totals, [("telemetry", 3, 1, 0), ("logger", 1, 2, 1)]);
        assert_eq!(t.dropped, 0);
    }

    #[test]
    fn a_trace_that_does_not_fit_the_description_is_refused_by_name() {
        let system = demo();
        let windows = [(1, 40_000_000)];
        let event = |name: &str, tid: u32| {
            json!({"traceEvents": [
                {"ph": "i", "s": "t", "pid": 0, "tid": tid, "ts": 1.0, "cat": "release",
                 "name": format!("release {name}")},
                {"ph": "X", "pid": 0, "tid": tid, "ts": 1.0, "dur": 2.0, "cat": "run",
                 "name": "intruder"},
            ]})
            .to_string()
        };
        let e = read(&system, &event("stranger", 1), &windows).unwrap_err();
        assert_eq!(
            e.to_string(),
            "not a trace of system `demo`: it names guests the description does not have: \
             `stranger`, `intruder`"
        );
        let moved = json!({"traceEvents": [{"ph": "i", "s": "t", "pid": 0, "tid": 0,
            "ts": 1.0, "cat": "release", "name": "release telemetry"}]});
        assert_eq!(
            read(&system, &moved.to_string(), &windows),
            Err(ReadError::WrongCore {
                guest: "telemetry".into(),
                traced: 0,
                placed: 1
            })
        );
        let other = json!({"traceEvents": [], "otherData": {"system": "other"}});
        assert_eq!(
            read(&system, &other.to_string(), &windows)
                .unwrap_err()
                .to_string(),
            "a trace of system `other`, not of `demo`"
        );
        assert_eq!(
            read(&system, r#"{"traceEvents": []}"#, &windows),
            Err(ReadError::Empty)
        );
        assert!(matches!(
            read(&system, "{\"traceEvents\": 3}", &windows),
            Err(ReadError::NotATrace(_))
        ));
        assert!(matches!(
            read(&system, "", &windows),
            Err(ReadError::NotATrace(_))
        ));
    }
}
