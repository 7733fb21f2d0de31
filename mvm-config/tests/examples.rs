//! The demo system and the examples under `partitions/`: the accepted ones
//! pass, and each rejected one fails with the findings its docs walk through.

use std::path::Path;

fn check(relative: &str) -> mvm_config::Checked {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{relative}: {e}"));
    mvm_config::check(&text)
}

fn codes(c: &mvm_config::Checked) -> Vec<&'static str> {
    c.diagnostics.iter().map(|d| d.code()).collect()
}

#[test]
fn demo_system_is_valid_and_schedulable() {
    let c = check("partitions/system.toml");
    assert_eq!(codes(&c), Vec::<&str>::new());
    let system = c.system.expect("valid");
    assert_eq!(system.name, "demo");
    assert_eq!(system.board.name, "qemu-vexpress-a9");
    let hrt = system
        .guests
        .iter()
        .filter(|g| g.level == mvm_config::model::Level::Hrt)
        .count();
    let srt_on_1 = system
        .guests_on(1)
        .filter(|(_, g)| g.level == mvm_config::model::Level::Srt)
        .count();
    assert_eq!(
        (hrt, srt_on_1),
        (1, 2),
        "an HRT guest on core 0 and two SRT guests on core 1"
    );
    assert!(matches!(
        system.cores[0].plan,
        mvm_config::plan::CorePlan::Dedicated { .. }
    ));
    assert!(matches!(
        system.cores[1].plan,
        mvm_config::plan::CorePlan::Edf { .. }
    ));
}

#[test]
fn zc702_example_is_valid() {
    let c = check("partitions/examples/zc702.toml");
    assert_eq!(codes(&c), Vec::<&str>::new());
    assert_eq!(c.system.expect("valid").board.name, "zc702");
}

#[test]
fn overload_is_rejected_by_utilization() {
    let c = check("partitions/examples/rejected-overload.toml");
    assert_eq!(codes(&c), ["unschedulable"]);
    let message = c.diagnostics[0].message();
    assert!(message.contains("core 1"), "{message}");
    assert!(
        message.contains("`video` 60.02%, `network` 50.02% (total utilization 110.03%)"),
        "{message}"
    );
    assert!(
        message.contains("demand 11003200ns exceeds the 10ms available at t = 10ms"),
        "{message}"
    );
}

#[test]
fn tight_deadlines_are_rejected_by_demand_not_utilization() {
    let c = check("partitions/examples/rejected-deadlines.toml");
    assert_eq!(codes(&c), ["unschedulable"]);
    let message = c.diagnostics[0].message();
    assert!(message.contains("(total utilization 57.75%)"), "{message}");
    assert!(
        message.contains("demand 3540us exceeds the 3ms available at t = 3ms"),
        "{message}"
    );
}

#[test]
fn layout_mistakes_are_all_reported_in_one_run() {
    let c = check("partitions/examples/rejected-layout.toml");
    assert_eq!(
        codes(&c),
        [
            "hrt-core-shared",
            "region-overlap",
            "device-taken",
            "srt-missing",
            "unknown-key",
            "region-in-monitor",
            "monitor-device"
        ]
    );
}

#[test]
fn a_guests_own_tasks_are_checked_and_size_an_automatic_budget() {
    let c = check("partitions/examples/tasks.toml");
    assert!(codes(&c).is_empty(), "{:?}", codes(&c));
    let system = c.system.as_ref().expect("a valid system");
    let text = mvm_config::summary::Summary::new(system).to_text();
    // EDF tasks 1 ms / 5 ms and 4 ms / 20 ms in a 10 ms period: the
    // worst-case blackout 2 (10 ms - budget) must leave the first job its
    // 1 ms by 5 ms, so 8 ms is the least budget (prm.rs, by hand).
    assert!(
        text.contains("sensor           period     10ms  budget      8ms"),
        "{text}"
    );
    assert!(
        text.contains("its 2 tasks fit its server (the budget above is the smallest that does"),
        "{text}"
    );
    assert!(text.contains("its 2 tasks fit its core"), "{text}");
}
