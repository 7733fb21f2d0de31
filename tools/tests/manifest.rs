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
    assert_eq!(m.analysis.len(), 2);
    assert_eq!(m.analysis[1].plan, "edf");
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
