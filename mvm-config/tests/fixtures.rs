//! One failing fixture per rule: `fixtures/<code>.toml` breaks exactly the
//! rule `<code>` (`<code>--<case>.toml` for a further case of the same
//! rule), and its trailing `# expect:` lines list every finding it must
//! produce (code, line and full message), and nothing else. `# label:`,
//! `# note:` and `# help:` lines after an `# expect:` line, when present,
//! are the whole rest of that finding: its label, every note and its help.
//!
//! To refresh after a deliberate change of wording, edit the `# expect:`
//! lines by hand; they are the reviewed contract of the messages.

use std::path::Path;

/// Every code `mvm-config` can report (errors, then warnings), each of
/// which must have a fixture. `analysis-inconclusive` is left out: it needs an exact
/// utilization of 1 with a hyperperiod too long to search, which the
/// analysis' own tests construct directly. `interrupt-key-no-lines` is left
/// out too: every device a guest may own on today's boards has a line, so
/// `validate`'s own test builds a board with one that has none.
const CODES: &[&str] = &[
    "syntax",
    "unknown-key",
    "missing-key",
    "wrong-type",
    "bad-name",
    "bad-time",
    "bad-size",
    "integer-out-of-range",
    "bad-choice",
    "unknown-board",
    "no-guests",
    "duplicate-guest",
    "core-out-of-range",
    "hrt-core-shared",
    "hrt-paging",
    "hrt-server-key",
    "srt-missing",
    "zero-time",
    "budget-exceeds-deadline",
    "deadline-exceeds-period",
    "no-memory",
    "duplicate-region",
    "empty-region",
    "region-outside-ram",
    "region-in-monitor",
    "region-overlap",
    "region-misaligned",
    "unknown-device",
    "monitor-device",
    "device-taken",
    "unschedulable",
    "table-area-full",
    "guest-base-direct",
    "guest-base-invalid",
    "guest-base-overlap",
    "pool-key-direct",
    "hrt-edge-trigger",
    "pool-too-small",
    "scheduler-without-tasks",
    "task-zero-time",
    "task-deadline-exceeds-period",
    "task-wcet-exceeds-deadline",
    "task-duplicate",
    "task-priority-under-edf",
    "task-priority-missing",
    "task-priority-duplicate",
    "budget-auto-without-tasks",
    "tasks-unschedulable",
    "image-and-linux",
    "linux-hrt",
    "linux-paging",
    "linux-no-console",
    "linux-console",
    "linux-memory-misaligned",
    "linux-memory-too-small",
    "health-zero-time",
    "restart-key-without-restart",
    "watchdog-too-short",
    "channel-unknown-guest",
    "duplicate-channel",
    "channel-same-guest",
    "channel-size",
    "channel-too-large",
    "channel-too-many",
    "channel-notify-hrt",
    "channel-no-line",
    "channel-area-misaligned",
    "channel-area-overlap",
    "channel-area-full",
    "switch-overhead-below-board",
    "linux-without-fpu",
    "paging-guest-unconfined",
];

/// One finding as a fixture states it: `code @ line: message` for an
/// error, `code @ line (warning): message` for a warning, then its label,
/// notes and help, each as `label: …`, `note: …`, `help: …`.
struct Finding {
    headline: String,
    details: Vec<String>,
}

fn findings(text: &str) -> Vec<Finding> {
    let checked = mvm_config::check(text);
    assert_eq!(
        checked.system.is_some(),
        !mvm_config::diag::has_errors(&checked.diagnostics),
        "a description is accepted exactly when it has no error"
    );
    checked
        .diagnostics
        .iter()
        .map(|d| {
            let line = d
                .span
                .as_ref()
                .map_or(1, |s| mvm_config::diag::line_col(text, s.start).0);
            let details = std::iter::once(format!("label: {}", d.label))
                .chain(d.notes.iter().map(|n| format!("note: {n}")))
                .chain(d.help.iter().map(|h| format!("help: {h}")))
                .collect();
            let severity = match d.severity() {
                mvm_config::diag::Severity::Error => "",
                mvm_config::diag::Severity::Warning => " (warning)",
            };
            Finding {
                headline: format!("{} @ {line}{severity}: {}", d.code(), d.message()),
                details,
            }
        })
        .collect()
}

fn expected(text: &str) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for line in text.lines() {
        if let Some(headline) = line.strip_prefix("# expect: ") {
            out.push(Finding {
                headline: headline.to_string(),
                details: Vec::new(),
            });
        } else if let Some(detail) = ["label: ", "note: ", "help: "]
            .iter()
            .find_map(|p| line.strip_prefix("# ").filter(|l| l.starts_with(p)))
        {
            out.last_mut()
                .expect("a `# label:`, `# note:` or `# help:` line follows an `# expect:` line")
                .details
                .push(detail.to_string());
        }
    }
    out
}

#[test]
fn every_fixture_produces_exactly_its_findings() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("fixtures directory") {
        let path = entry.expect("directory entry").path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 file name");
        let stem = name.split("--").next().unwrap_or(name).to_string();
        let text = std::fs::read_to_string(&path).expect("fixture is readable");
        let want = expected(&text);
        assert!(!want.is_empty(), "{name}.toml has no `# expect:` line");
        let got = findings(&text);
        let headlines = |f: &[Finding]| f.iter().map(|f| f.headline.clone()).collect::<Vec<_>>();
        assert_eq!(headlines(&got), headlines(&want), "findings of {name}.toml");
        for (got, want) in got.iter().zip(&want) {
            if !want.details.is_empty() {
                assert_eq!(got.details, want.details, "{name}.toml: {}", want.headline);
            }
        }
        assert!(
            want.iter()
                .any(|w| w.headline.starts_with(&format!("{stem} @"))),
            "{name}.toml must produce the finding it is named after"
        );
        seen.push(stem);
    }
    for code in CODES {
        assert!(
            seen.iter().any(|s| s == code),
            "no fixture for rule `{code}`"
        );
    }
}

#[test]
fn every_code_listed_is_distinct() {
    let mut codes = CODES.to_vec();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), CODES.len());
}
