//! Runs the system description through `mvm-config` before the image is
//! built, so that `cargo build` of an invalid system fails with the same
//! diagnostics as `cargo mvm check`.
//!
//! The description is `partitions/system.toml`, or the file named by the
//! environment variable `MVM_SYSTEM` (relative to this workspace).

use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    println!("cargo::rerun-if-env-changed=MVM_SYSTEM");
    let path = match std::env::var_os("MVM_SYSTEM") {
        Some(p) => root.join(p),
        None => root.join("partitions/system.toml"),
    };
    println!("cargo::rerun-if-changed={}", path.display());
    let shown = path
        .strip_prefix(&root)
        .unwrap_or(&path)
        .display()
        .to_string();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            println!("cargo::error=cannot read the system description `{shown}`: {e}");
            std::process::exit(1);
        }
    };
    let checked = mvm_config::check(&text);
    let Some(system) = checked.system else {
        let file = mvm_config::diag::SourceFile {
            path: &shown,
            text: &text,
        };
        eprint!(
            "{}",
            mvm_config::diag::render(file, &checked.diagnostics, false)
        );
        println!(
            "cargo::error=the system description `{shown}` was rejected with {} error(s); the diagnostics are above (or run `cargo mvm check`)",
            checked.diagnostics.len()
        );
        std::process::exit(1);
    };
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let summary = mvm_config::summary::Summary::new(&system).to_text();
    std::fs::write(out.join("summary.txt"), summary).expect("OUT_DIR is writable");
}
