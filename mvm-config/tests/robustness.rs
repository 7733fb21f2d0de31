//! No input makes the checker panic, and what it accepts obeys the rules.
//!
//! Three generators: arbitrary text, mutations of the demo system (bytes
//! deleted, inserted, lines duplicated or dropped), and structured systems
//! with random values near every boundary. For each input the checker must
//! return normally, render its diagnostics (human and JSON) within the text,
//! be deterministic, and, when it accepts, the accepted model must satisfy
//! the rules checked independently here.

use mvm_config::diag::{render, JsonDiagnostic, SourceFile};
use mvm_config::model::{Level, Paging};
use proptest::prelude::*;

const DEMO: &str = include_str!("../../partitions/system.toml");

fn exercise(text: &str) {
    let checked = mvm_config::check(text);
    assert_eq!(
        checked.system.is_some(),
        !mvm_config::diag::has_errors(&checked.diagnostics)
    );
    for d in &checked.diagnostics {
        if let Some(span) = &d.span {
            assert!(
                span.start <= span.end && span.end <= text.len(),
                "span {span:?} outside the text"
            );
        }
        for (span, _) in &d.secondary {
            assert!(span.end <= text.len());
        }
    }
    let file = SourceFile {
        path: "fuzz.toml",
        text,
    };
    let rendered = render(file, &checked.diagnostics, false);
    assert_eq!(rendered.is_empty(), checked.diagnostics.is_empty());
    for d in &checked.diagnostics {
        serde_json::to_string(&JsonDiagnostic::new(file, d)).expect("JSON");
    }
    let again = mvm_config::check(text);
    assert_eq!(
        again.diagnostics, checked.diagnostics,
        "the checker is deterministic"
    );
    if let Some(system) = &checked.system {
        accepted_system_obeys_the_rules(system);
    }
}

/// An independent statement of the rules, over the accepted model.
fn accepted_system_obeys_the_rules(system: &mvm_config::model::System) {
    let board = system.board;
    let regions: Vec<_> = system
        .guests
        .iter()
        .flat_map(|g| g.memory.iter().map(move |r| (g, r)))
        .collect();
    for (i, (g, r)) in regions.iter().enumerate() {
        assert!(r.size > 0);
        assert!(r.base >= board.ram.base && r.end() <= board.ram.end());
        assert!(
            r.base >= board.monitor_reservation.end() || r.end() <= board.monitor_reservation.base
        );
        let granule = if g.paging == Paging::Direct {
            1 << 20
        } else {
            4096
        };
        assert_eq!((r.base % granule, r.size % granule), (0, 0));
        for (_, o) in &regions[..i] {
            assert!(r.end() <= o.base || o.end() <= r.base, "regions overlap");
        }
    }
    for (i, g) in system.guests.iter().enumerate() {
        assert!(g.core < board.cores);
        for (j, o) in system.guests.iter().enumerate() {
            if i != j {
                assert_ne!(g.name, o.name);
                if g.level == Level::Hrt {
                    assert_ne!(g.core, o.core, "an HRT guest owns its core");
                }
                for d in &g.devices {
                    assert!(
                        !o.devices.iter().any(|e| e.device.name == d.device.name),
                        "a device has one owner"
                    );
                }
            }
        }
        match (g.level, g.server) {
            (Level::Hrt, server) => assert!(server.is_none() && g.paging == Paging::Direct),
            (Level::Srt, Some(s)) => {
                assert!(0 < s.budget && s.budget <= s.deadline && s.deadline <= s.period)
            }
            (Level::Srt, None) => panic!("an SRT guest without a server"),
        }
        for d in &g.devices {
            assert_eq!(d.device.owner, mvm_board::Owner::Guest);
            assert!(d.priority <= mvm_kernel::config::Interrupt::MAX_PRIORITY);
        }
    }
}

/// A mutation of a text: one of a few edits at a position.
fn mutate(text: &str, edits: &[(u8, usize, String)]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for (kind, at, piece) in edits {
        if lines.is_empty() {
            lines.push(String::new());
        }
        let i = at % lines.len();
        match kind % 5 {
            0 => {
                lines.remove(i);
            }
            1 => {
                let copy = lines[i].clone();
                lines.insert(i, copy);
            }
            2 => {
                let line = &mut lines[i];
                let cut = line
                    .char_indices()
                    .map(|(k, _)| k)
                    .nth(at % (line.chars().count() + 1))
                    .unwrap_or(line.len());
                line.insert_str(cut, piece);
            }
            3 => {
                let line = &mut lines[i];
                let keep: String = line.chars().take(at % (line.chars().count() + 1)).collect();
                *line = keep;
            }
            _ => lines[i] = piece.clone(),
        }
    }
    lines.join("\n")
}

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\"".to_string()),
        Just("=".to_string()),
        Just("[[guest]]".to_string()),
        Just("[system]".to_string()),
        Just("core = 1".to_string()),
        Just("core = 99999999999999999999".to_string()),
        Just("level = \"hrt\"".to_string()),
        Just("deadline = \"1ms\"".to_string()),
        Just("budget = \"0ns\"".to_string()),
        Just("period = \"18446744073709551615ns\"".to_string()),
        Just("size = \"4GiB\"".to_string()),
        Just("base = -1".to_string()),
        Just("devices = [\"uart1\", \"uart1\"]".to_string()),
        Just("memory = [ { name = \"x\", base = 0x6000_0000, size = 0 } ]".to_string()),
        Just("{".to_string()),
        Just("é".to_string()),
        "[ -~]{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        exercise(&text);
    }

    #[test]
    fn mutated_demo_never_panics(edits in prop::collection::vec((any::<u8>(), any::<usize>(), piece()), 1..6)) {
        exercise(&mutate(DEMO, &edits));
    }

    #[test]
    fn structured_systems_never_panic(system in structured()) {
        exercise(&system);
    }
}

fn time() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..40).prop_map(|n| format!("\"{n}ms\"")),
        (0u64..40_000).prop_map(|n| format!("\"{n}us\"")),
        Just("\"18446744073709551615ns\"".to_string()),
        Just("\"1.5ms\"".to_string()),
        Just("5".to_string()),
    ]
}

fn guest() -> impl Strategy<Value = String> {
    (
        "[a-c]",
        prop_oneof![Just("hrt"), Just("srt"), Just("x")],
        0i64..4,
        (0x5F0u64..0xA10, prop_oneof![Just(0u64), Just(1), Just(16), Just(256), Just(4096), Just(65536)]),
        prop::option::of(time()),
        prop::option::of(time()),
        prop::option::of(time()),
        prop::option::of(prop_oneof![Just("direct"), Just("shadow")]),
        prop::collection::vec(prop_oneof![Just("uart0"), Just("uart1"), Just("timer0"), Just("nope")], 0..3),
    )
        .prop_map(|(name, level, core, (base_mib, size_kib), period, budget, deadline, paging, devices)| {
            let mut g = format!(
                "[[guest]]\nname = \"{name}\"\nlevel = \"{level}\"\ncore = {core}\nimage = \"img\"\nmemory = [ {{ name = \"ram\", base = {:#x}, size = \"{size_kib}KiB\" }} ]\n",
                base_mib << 20
            );
            for (key, value) in [("period", period), ("budget", budget), ("deadline", deadline)] {
                if let Some(v) = value {
                    g.push_str(&format!("{key} = {v}\n"));
                }
            }
            if let Some(p) = paging {
                g.push_str(&format!("paging = \"{p}\"\n"));
            }
            let devices: Vec<String> = devices.iter().map(|d| format!("\"{d}\"")).collect();
            g.push_str(&format!("devices = [{}]\n", devices.join(", ")));
            g
        })
}

fn structured() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("qemu-vexpress-a9"), Just("zc702")],
        prop::collection::vec(guest(), 0..5),
    )
        .prop_map(|(board, guests)| {
            format!(
                "[system]\nname = \"s\"\nboard = \"{board}\"\n\n{}",
                guests.join("\n")
            )
        })
}
