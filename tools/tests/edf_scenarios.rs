//! QEMU scenarios of temporal isolation: EDF servers on a shared core,
//! budget enforcement against a hog, slack, core dedication for HRT guests
//! and context integrity across world switches.
//!
//! Each system under `partitions/tests/edf-*.toml` is built and booted with
//! `cargo mvm run --for 1s`; the checks read the monitor's `mvm-stats`
//! lines (one per guest and per core, printed when the run ends) and the
//! guests' own output. The scenarios share build directories, so they run
//! one at a time.

use std::collections::BTreeMap;

mod common;
use common::Run;

const NS_PER_S: u64 = 1_000_000_000;

/// One `mvm-stats` line: its `key=value` pairs.
type Fields = BTreeMap<String, String>;

impl Run {
    fn stats_lines(&self) -> Vec<Fields> {
        self.stdout
            .lines()
            .filter_map(|l| l.strip_prefix("mvm-stats "))
            .map(|rest| {
                rest.split(' ')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .collect()
    }

    /// The figures of guest `name`.
    fn guest(&self, name: &str) -> Stats {
        let fields = self
            .stats_lines()
            .into_iter()
            .find(|f| f.get("guest").map(String::as_str) == Some(name))
            .unwrap_or_else(|| panic!("no mvm-stats line for guest {name}: {self:?}"));
        Stats::from(&fields)
    }

    /// The figures of core `n`.
    fn core(&self, n: u32) -> Stats {
        let fields = self
            .stats_lines()
            .into_iter()
            .find(|f| f.get("core") == Some(&n.to_string()) && !f.contains_key("guest"))
            .unwrap_or_else(|| panic!("no mvm-stats line for core {n}: {self:?}"));
        Stats::from(&fields)
    }

    /// A `key=value` figure from the `mvm-detail` line of `subject`
    /// (`guest=<name>` or `core=<n>`).
    fn detail(&self, subject: &str, key: &str) -> u64 {
        let line = self
            .stdout
            .lines()
            .filter_map(|l| l.strip_prefix("mvm-detail "))
            .find(|l| l.split(' ').next() == Some(subject))
            .unwrap_or_else(|| panic!("no mvm-detail line for {subject}: {self:?}"));
        line.split(' ')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in `{line}`"))
    }

    /// The last line printed under `[guest]` that contains `needle`.
    fn last_line_of(&self, guest: &str, needle: &str) -> Option<&str> {
        let prefix = format!("[{guest}] ");
        self.stdout
            .lines()
            .filter_map(|l| l.strip_prefix(prefix.as_str()))
            .rfind(|l| l.contains(needle))
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Stats {
    jobs: u64,
    misses: u64,
    used_ns: u64,
    slack_ns: u64,
    entries: u64,
    idle_ns: u64,
}

impl From<&Fields> for Stats {
    fn from(f: &Fields) -> Self {
        let n = |k: &str| f.get(k).and_then(|v| v.parse().ok()).unwrap_or(0);
        Stats {
            jobs: n("jobs"),
            misses: n("misses"),
            used_ns: n("used_ns"),
            slack_ns: n("slack_ns"),
            entries: n("entries"),
            idle_ns: n("idle_ns"),
        }
    }
}

fn run(system: &str) -> Run {
    let r = common::run(system, "1s");
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(!r.has("FAULT"), "the monitor took no fault: {r:?}");
    assert!(!r.has("did not answer"), "every core's figures: {r:?}");
    r
}

/// A server's parameters, in nanoseconds.
struct Server {
    name: &'static str,
    period: u64,
    budget: u64,
}

/// The HRT guest `control` on core 0: after its greeting, the monitor is
/// never entered on core 0 except by the guest's own hypercalls, which the
/// guest counts itself and prints on its own UART.
fn assert_dedicated_core_untouched(r: &Run) {
    let line = r
        .last_line_of("control", "hypercalls made")
        .unwrap_or_else(|| panic!("control reports its hypercalls: {r:?}"));
    let made: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a count in `{line}`"));
    let guest = r.guest("control");
    let core = r.core(0);
    assert_eq!(guest.entries, made, "only the guest's hypercalls: {r:?}");
    assert_eq!(core.entries, made, "nothing else on core 0: {r:?}");
    assert_eq!(r.detail("guest=control", "fiq"), 0, "no timer on core 0");
    assert_eq!(
        r.detail("core=0", "run_end_entries"),
        0,
        "the run ends on the shared core, so even the bounded run's end costs core 0 nothing"
    );
    assert_eq!((guest.jobs, guest.misses, guest.slack_ns), (0, 0, 0));
    assert!(
        guest.used_ns > NS_PER_S * 99 / 100,
        "an HRT guest has its core all the time: {guest:?}"
    );
}

#[test]
fn three_servers_get_their_budgets_and_miss_nothing() {
    let r = run("partitions/tests/edf-three.toml");
    let servers = [
        Server {
            name: "fast-greedy",
            period: 5_000_000,
            budget: 1_000_000,
        },
        Server {
            name: "mid-greedy",
            period: 10_000_000,
            budget: 3_000_000,
        },
        Server {
            name: "slow-greedy",
            period: 25_000_000,
            budget: 5_000_000,
        },
    ];
    for s in &servers {
        let g = r.guest(s.name);
        let released = NS_PER_S.div_ceil(s.period);
        assert_eq!(g.jobs, released, "{}: a job every period: {g:?}", s.name);
        assert_eq!(g.misses, 0, "{}: {g:?}", s.name);
        let completed = g.jobs - 1;
        assert!(
            g.used_ns >= completed * s.budget,
            "{}: its budget in every period: {g:?}",
            s.name
        );
        assert!(
            g.used_ns <= g.jobs * s.budget,
            "{}: never more than its budget (slack = false): {g:?}",
            s.name
        );
        let share = NS_PER_S * s.budget / s.period;
        assert!(
            g.used_ns.abs_diff(share) <= s.budget,
            "{}: share within one job of budget/period ({share} ns): {g:?}",
            s.name
        );
        assert_eq!(g.slack_ns, 0, "{}: {g:?}", s.name);
    }
    let idle = r.core(1).idle_ns;
    assert!(
        idle > NS_PER_S / 4,
        "the 30% left over is idle time in the monitor: {idle} ns"
    );
    assert_dedicated_core_untouched(&r);
}

#[test]
fn a_hog_cannot_take_the_others_budgets() {
    let r = run("partitions/tests/edf-hog.toml");
    assert!(r.has("hog: hello"), "{r:?}");
    assert!(
        !r.has("CPSR.F is set"),
        "a guest cannot mask the monitor's FIQ: {r:?}"
    );
    let hog = r.guest("hog");
    assert_eq!(hog.misses, 0, "{hog:?}");
    assert!(
        r.detail("guest=hog", "overruns") >= hog.jobs - 1,
        "budget enforcement stops the hog in every job: {r:?}"
    );
    for (name, period) in [("quick", 2_000_000u64), ("steady", 5_000_000)] {
        let g = r.guest(name);
        assert_eq!(g.jobs, NS_PER_S / period, "{name}: {g:?}");
        assert_eq!(
            g.misses, 0,
            "{name} keeps its deadlines beside a hog: {g:?}"
        );
        assert_eq!(
            r.detail(&format!("guest={name}"), "overruns"),
            0,
            "{name} finishes its work within its budget"
        );
        // Its own count of finished jobs keeps up with its releases.
        let line = r
            .last_line_of(name, "jobs done")
            .unwrap_or_else(|| panic!("{name} reports its jobs: {r:?}"));
        let done: u64 = line
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a count in `{line}`"));
        assert!(done >= NS_PER_S / period / 2, "{name}: `{line}`");
        assert!(line.contains("misses=0"), "{name}: `{line}`");
    }
    assert_dedicated_core_untouched(&r);
}

#[test]
fn idle_time_goes_only_to_slack_servers() {
    let r = run("partitions/tests/edf-slack.toml");
    let taker = r.guest("taker-greedy");
    let abstainer = r.guest("abstainer-greedy");
    let yielder = r.guest("yielder");
    assert!(
        taker.slack_ns > NS_PER_S / 2,
        "slack = true receives the idle time the others leave: {taker:?}"
    );
    assert_eq!(abstainer.slack_ns, 0, "slack = false: {abstainer:?}");
    assert_eq!(yielder.slack_ns, 0, "slack = false: {yielder:?}");
    for g in [taker, abstainer, yielder] {
        assert_eq!(g.jobs, 100, "{g:?}");
        assert_eq!(g.misses, 0, "{g:?}");
    }
    assert_eq!(abstainer.used_ns, 100 * 2_000_000, "exactly its budgets");
    assert!(
        yielder.used_ns < 100 * 2_000_000 / 4,
        "the yielder gave most of its budget away: {yielder:?}"
    );
    assert!(
        r.core(1).idle_ns < NS_PER_S / 100,
        "the core is never idle while a slack server wants to run"
    );
}

#[test]
fn contexts_survive_thousands_of_switches() {
    let r = run("partitions/tests/edf-context.toml");
    for name in ["ctx-fpu", "ctx-fpu2", "ctx-plain"] {
        let line = r
            .last_line_of(name, "corruptions")
            .unwrap_or_else(|| panic!("{name} reports: {r:?}"));
        assert!(line.ends_with(" 0 corruptions"), "{name}: `{line}`");
        let checks: u64 = line
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a count in `{line}`"));
        assert!(checks >= 1000, "{name}: `{line}`");
        assert!(!r.has(&format!("[{name}] context: CORRUPTED")), "{r:?}");
        let switched_in = r.detail(&format!("guest={name}"), "switches_in");
        assert!(
            switched_in >= 1000,
            "{name} was switched out and in thousands of times: {switched_in}"
        );
    }
    let switches = r.detail("core=1", "switches");
    assert!(switches >= 3000, "thousands of world switches: {switches}");
    assert!(
        r.has("[ctx-plain] context: vfp denied without fpu"),
        "a guest without fpu cannot use (or read) VFP: {r:?}"
    );
    assert!(
        r.has("[ctx-fpu] context: `ctx-fpu` on core 1 (fpu true)"),
        "{r:?}"
    );
    assert_dedicated_core_untouched(&r);
}

#[test]
fn the_demo_runs_telemetry_and_logger_together() {
    let r = run("partitions/system.toml");
    assert!(
        r.has("core 1: edf over `telemetry`, `logger` (srt)"),
        "{r:?}"
    );
    assert!(
        r.last_line_of("telemetry", "telemetry: sample 3").is_some(),
        "{r:?}"
    );
    assert!(
        r.last_line_of("logger", "logger: entry 1 at").is_some(),
        "{r:?}"
    );
    for name in ["telemetry", "logger"] {
        let g = r.guest(name);
        assert!(g.jobs > 0, "{name}: {g:?}");
        assert_eq!(g.misses, 0, "{name}: {g:?}");
    }
    assert_dedicated_core_untouched(&r);
}
