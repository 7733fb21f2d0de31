//! The same sources give the same image in any folder: the working tree
//! is copied (without `target/`) to two folders of different names and
//! depths, `cargo mvm build` builds the demo in each, and `mvm.elf`,
//! `mvm.bin`, the guests' programs and the manifest are byte for byte the
//! same (docs/architecture.md, "The manifest").
//!
//! Two full builds, each in its own `target/` (the registry is shared):
//! about two and a half minutes each on two cores, five in all.

mod common;
use common::root;

use std::path::Path;
use std::process::Command;

/// The tracked and untracked (not ignored) files of the working tree, so
/// that the copy builds what is being tested, not only what is committed.
fn copy_tree(from: &Path, to: &Path) {
    let listed = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(from)
        .output()
        .expect("git runs (the test copies the working tree it lists)");
    assert!(listed.status.success(), "git ls-files failed");
    for name in listed.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = std::str::from_utf8(name).expect("file names are UTF-8");
        let source = from.join(name);
        let target = to.join(name);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        let meta = match std::fs::symlink_metadata(&source) {
            Ok(m) => m,
            // Listed but deleted in the working tree.
            Err(_) => continue,
        };
        if meta.file_type().is_symlink() {
            let link = std::fs::read_link(&source).unwrap();
            std::os::unix::fs::symlink(link, &target).unwrap();
        } else {
            std::fs::copy(&source, &target).unwrap();
        }
    }
}

fn sha256(path: &Path) -> String {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read `{}`: {e}", path.display()));
    mvm_config::manifest::hex(&mvm_config::sha256(&bytes))
}

#[test]
fn two_folders_build_the_same_image() {
    // Outside the checkout: cargo reads the `.cargo/config.toml` of every
    // folder above the one it runs in.
    let base = std::env::temp_dir().join(format!("mvm-reproducible-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let folders = [base.join("a"), base.join("a-second/folder")];
    let mut images = Vec::new();
    for folder in &folders {
        copy_tree(&root(), folder);
        let started = std::time::Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_mvm"))
            .arg("build")
            .current_dir(folder)
            .output()
            .expect("mvm runs");
        assert!(
            out.status.success(),
            "the build in `{}` failed:\n{}",
            folder.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let dir = folder.join("target/mvm/demo");
        let files = std::fs::read_dir(dir.join("guests"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "elf"))
            .chain(["mvm.elf", "mvm.bin", "manifest.json"].map(|f| dir.join(f)))
            .map(|p| {
                (
                    p.strip_prefix(&dir).unwrap().display().to_string(),
                    sha256(&p),
                )
            })
            .collect::<std::collections::BTreeMap<_, _>>();
        eprintln!(
            "{}: built in {:.0?}; mvm.elf sha256 {}, mvm.bin sha256 {}",
            folder.display(),
            started.elapsed(),
            files["mvm.elf"],
            files["mvm.bin"]
        );
        images.push(files);
    }
    assert_eq!(
        images[0], images[1],
        "the same sources in two folders give different files"
    );
    let _ = std::fs::remove_dir_all(&base);
}
