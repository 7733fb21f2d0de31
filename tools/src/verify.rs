//! `cargo mvm verify`: is this image the one its sources build?
//!
//! 1. The image folder's files (`mvm.elf`, `mvm.bin`, the guests'
//!    programs) are checked against the folder's `manifest.json`: a file
//!    changed after the build is named.
//! 2. The image is rebuilt from the sources (`cargo mvm build`, into
//!    `target/mvm/<system>/`) and the new manifest compared with the
//!    recorded one: the inputs (description, every guest image, the
//!    toolchain), the analysis and every file's hash.
//!
//! Exit codes: 0 verified, 1 a difference (each one listed), 2 could not
//! run (no manifest, the build failed to start).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use mvm_config::manifest::{hex, Manifest};

use crate::EXIT_CANNOT_RUN;

fn read_manifest(dir: &std::path::Path) -> Result<Manifest, String> {
    let path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "cannot read `{}`: {e} (build the image first: `cargo mvm build`)",
            path.display()
        )
    })?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("`{}` is not a manifest: {e}", path.display()))?;
    if value["accepted"] == serde_json::Value::Bool(false) {
        return Err(format!(
            "`{}` records a rejected description ({}): there is no image to verify",
            path.display(),
            value["errors"]
                .as_array()
                .map(|e| e
                    .iter()
                    .filter_map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default()
        ));
    }
    serde_json::from_value(value)
        .map_err(|e| format!("`{}` is not a manifest: {e}", path.display()))
}

/// The files of `dir` that differ from what `files` records.
fn changed_files(dir: &std::path::Path, files: &BTreeMap<String, String>) -> Vec<String> {
    files
        .iter()
        .filter_map(|(name, recorded)| {
            let actual = std::fs::read(dir.join(name))
                .map(|b| hex(&mvm_config::sha256(&b)))
                .unwrap_or_else(|e| format!("unreadable ({e})"));
            (&actual != recorded).then(|| {
                format!("{name}: sha256 {actual} in the folder, {recorded} in its manifest")
            })
        })
        .collect()
}

/// What differs between the recorded manifest and the rebuilt one.
pub fn differences(recorded: &Manifest, rebuilt: &Manifest) -> Vec<String> {
    let mut out = Vec::new();
    let (a, b) = (&recorded.inputs, &rebuilt.inputs);
    for (what, x, y) in [
        (
            "the description",
            &a.description_sha256,
            &b.description_sha256,
        ),
        ("the toolchain", &a.toolchain, &b.toolchain),
        ("the generator", &a.generator, &b.generator),
    ] {
        if x != y {
            out.push(format!("{what}: `{x}` recorded, `{y}` rebuilt"));
        }
    }
    for g in &a.guests {
        match b.guests.iter().find(|h| h.name == g.name) {
            None => out.push(format!("guest `{}`: not in the rebuilt image", g.name)),
            Some(h) if h != g => out.push(format!(
                "guest `{}`: image sha256 {} recorded, {} rebuilt{}",
                g.name,
                g.image.sha256,
                h.image.sha256,
                if g.in_place != h.in_place {
                    " (and its in-place images differ)"
                } else {
                    ""
                }
            )),
            Some(_) => {}
        }
    }
    for h in b
        .guests
        .iter()
        .filter(|h| !a.guests.iter().any(|g| g.name == h.name))
    {
        out.push(format!("guest `{}`: only in the rebuilt image", h.name));
    }
    if a.tables_sha256 != b.tables_sha256 {
        out.push(format!(
            "the generated tables: sha256 {} recorded, {} rebuilt",
            a.tables_sha256, b.tables_sha256
        ));
    }
    if recorded.guest_toolchains != rebuilt.guest_toolchains {
        out.push(format!(
            "the guests' own toolchains: {:?} recorded, {:?} rebuilt",
            recorded.guest_toolchains, rebuilt.guest_toolchains
        ));
    }
    if recorded.analysis != rebuilt.analysis {
        out.push("the cores' analysis differs".to_string());
    }
    for (name, x) in &recorded.files {
        match rebuilt.files.get(name) {
            Some(y) if y != x => out.push(format!("{name}: sha256 {x} recorded, {y} rebuilt")),
            None => out.push(format!("{name}: not in the rebuilt image")),
            _ => {}
        }
    }
    if out.is_empty() && recorded.inputs_sha256 != rebuilt.inputs_sha256 {
        out.push(format!(
            "the inputs' hash: {} recorded, {} rebuilt",
            recorded.inputs_sha256, rebuilt.inputs_sha256
        ));
    }
    out
}

pub fn run(system: Option<PathBuf>, image: Option<PathBuf>) -> ExitCode {
    let loaded = match crate::check::load(system.clone()) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let Some(root) = crate::workspace::root() else {
        eprintln!("error: not inside the MVM workspace (no `partitions/` found)");
        return ExitCode::from(EXIT_CANNOT_RUN);
    };
    let built_dir = root.join("target/mvm").join(&loaded.system.name);
    let dir = image.unwrap_or_else(|| built_dir.clone());
    let recorded = match read_manifest(&dir) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    };
    let mut problems: Vec<String> = changed_files(&dir, &recorded.files);
    eprintln!(
        "   Verifying `{}`: {} files against its manifest (inputs sha256 {}), then a rebuild",
        dir.display(),
        recorded.files.len(),
        recorded.inputs_sha256
    );
    let rebuilt = match crate::image::build(system) {
        Ok(_) => match read_manifest(&built_dir) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_CANNOT_RUN);
            }
        },
        Err(code) => return code,
    };
    problems.extend(differences(&recorded, &rebuilt));
    if problems.is_empty() {
        println!(
            "verified: `{}` is what its sources build (inputs sha256 {}, {} files)",
            dir.display(),
            rebuilt.inputs_sha256,
            rebuilt.files.len()
        );
        ExitCode::SUCCESS
    } else {
        for p in &problems {
            println!("differs: {p}");
        }
        eprintln!(
            "error: `{}` is not what its sources build: {}",
            dir.display(),
            mvm_config::units::plural(problems.len() as u64, "difference", "differences")
        );
        ExitCode::from(1)
    }
}
