//! The build's manifest (`target/mvm/<system>/manifest.json`) and
//! `cargo mvm verify`: the banner of a run names the manifest of the
//! image that ran; verify passes on a clean build and names every file or
//! guest image that is not what the sources build.

mod common;
use common::{one_at_a_time, root, run, Run};

use std::process::Command;

fn mvm(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_mvm"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("mvm runs");
    Run::from_output(out)
}

fn manifest(dir: &std::path::Path) -> mvm_config::manifest::Manifest {
    serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn the_manifest_round_trips_through_the_banner_and_verify() {
    // The banner of a run prints the hash of the inputs its manifest lists.
    let r = run("partitions/system.toml", "100ms");
    r.assert_healthy();
    let dir = root().join("target/mvm/demo");
    let m = manifest(&dir);
    assert!(
        r.has(&format!(", manifest sha256 {}", m.inputs_sha256)),
        "{r:?}"
    );
    assert_eq!(m.inputs.guests.len(), 3);
    assert_eq!(
        m.inputs.description_sha256,
        mvm_config::description_hash(
            &std::fs::read_to_string(root().join("partitions/system.toml")).unwrap()
        )
    );
    assert!(m.inputs.toolchain.starts_with("rustc "), "{:?}", m.inputs);
    assert_eq!(m.inputs.tables_sha256.len(), 64, "{:?}", m.inputs);
    assert!(
        m.guest_toolchains.is_empty(),
        "the demo's guests use the monitor's"
    );
    assert!(m.accepted);
    assert_eq!(m.analysis.len(), 2);
    assert_eq!(m.analysis[0].plan, "dedicated");
    assert_eq!(m.analysis[1].plan, "edf");
    assert_eq!(m.analysis[1].verdict.as_deref(), Some("schedulable"));
    assert!(m.analysis[1].demand_points.is_some() && m.analysis[1].fails_at_ns.is_none());
    assert!(m.files.contains_key("mvm.bin") && m.files.contains_key("guests/logger.elf"));

    let _guard = one_at_a_time();
    let ok = mvm(&["verify"]);
    assert_eq!(ok.code, Some(0), "{ok:?}");
    assert!(ok.has("verified: "), "{ok:?}");

    // A shipped copy whose guest program was changed after the build, and
    // whose manifest records a guest image the sources do not build.
    let copy = root().join("target/mvm-tests/verify/demo");
    let _ = std::fs::remove_dir_all(&copy);
    std::fs::create_dir_all(copy.join("guests")).unwrap();
    for f in m.files.keys() {
        std::fs::copy(dir.join(f), copy.join(f)).unwrap();
    }
    let mut elf = std::fs::read(copy.join("guests/logger.elf")).unwrap();
    elf.push(0);
    std::fs::write(copy.join("guests/logger.elf"), elf).unwrap();
    let mut tampered = m.clone();
    tampered.inputs.guests[1].image.sha256 = "00".repeat(32);
    std::fs::write(copy.join("manifest.json"), tampered.to_json()).unwrap();
    let bad = mvm(&["verify", "--image", copy.to_str().unwrap()]);
    assert_eq!(bad.code, Some(1), "{bad:?}");
    assert!(
        bad.has("differs: guests/logger.elf: sha256 "),
        "the changed file is named: {bad:?}"
    );
    assert!(
        bad.has(&format!(
            "differs: guest `telemetry`: image sha256 {} recorded, {} rebuilt",
            "00".repeat(32),
            m.inputs.guests[1].image.sha256
        )),
        "the guest image the sources do not build is named: {bad:?}"
    );
}

/// Two servers whose deadlines are shorter than their periods: 60 % of
/// core 1, but at t = 5 ms both jobs (3 ms each, plus the switch overhead
/// of 1.6 us each and the monitor's 2.4 us of blocking for two servers)
/// are due: demand 6.0056 ms. At 4 ms only `a`'s is (3.004 ms), so 5 ms
/// is the first instant that fails.
const REJECTED: &str = r#"[system]
name = "rejected-evidence"
board = "qemu-vexpress-a9"

[[guest]]
name = "a"
level = "srt"
core = 1
image = "demo-logger"
period = "10ms"
budget = "3ms"
deadline = "4ms"
memory = [ { name = "ram", base = 0x7000_0000, size = "16MiB" } ]

[[guest]]
name = "b"
level = "srt"
core = 1
image = "demo-logger"
period = "10ms"
budget = "3ms"
deadline = "5ms"
memory = [ { name = "ram", base = 0x7100_0000, size = "16MiB" } ]
"#;

#[test]
fn a_rejected_build_leaves_the_evidence_of_its_rejection_and_no_image() {
    let work = root().join("target/mvm-tests/rejected");
    std::fs::create_dir_all(&work).unwrap();
    let description = work.join("system.toml");
    std::fs::write(&description, REJECTED).unwrap();
    // An image an earlier build of the name left behind.
    let dir = root().join("target/mvm/rejected-evidence");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("mvm.elf"), b"stale").unwrap();
    std::fs::write(dir.join("mvm.bin"), b"stale").unwrap();

    let r = mvm(&["build", "--system", description.to_str().unwrap()]);
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(r.stderr.contains("error[unschedulable]"), "{r:?}");
    assert!(
        !dir.join("mvm.elf").exists() && !dir.join("mvm.bin").exists(),
        "the stale image is gone"
    );
    let m: mvm_config::manifest::Rejection =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert!(!m.accepted);
    assert_eq!(m.system, "rejected-evidence");
    assert_eq!(m.description_sha256, mvm_config::description_hash(REJECTED));
    assert_eq!(m.errors, ["unschedulable"]);
    let core = &m.analysis[1];
    assert_eq!(core.test.as_deref(), Some("ProcessorDemand"));
    assert_eq!(core.verdict.as_deref(), Some("unschedulable"));
    assert_eq!(core.fails_at_ns, Some(5_000_000));
    assert_eq!(core.demand_ns, Some(6_000_000 + 2 * 1_600 + 3 * 800));
    assert_eq!(core.first, Some(true));
    assert!(
        core.demand_points.is_some_and(|p| p >= 2),
        "h(4 ms) and h(5 ms) at least: {core:?}"
    );

    // `check --format json` gives the same analysis.
    let c = mvm(&["check", description.to_str().unwrap(), "--format", "json"]);
    assert_eq!(c.code, Some(1), "{c:?}");
    let json: serde_json::Value = serde_json::from_str(&c.stdout).unwrap();
    assert_eq!(json["analysis"][1]["fails_at_ns"], 5_000_000, "{json}");

    // There is nothing to verify: said, not a parse error.
    let v = mvm(&["verify", "--image", dir.to_str().unwrap()]);
    assert_eq!(v.code, Some(2), "{v:?}");
    assert!(
        v.stderr.contains(
            "records a rejected description (unschedulable): there is no image to verify"
        ),
        "{v:?}"
    );
}
