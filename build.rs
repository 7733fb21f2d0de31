//! Runs the system description through `mvm-config` before the image is
//! built: an invalid description fails `cargo build` with the diagnostics of
//! `cargo mvm check`; a valid one becomes `OUT_DIR/mvm_system.rs`, the
//! static tables the monitor runs from, and its warnings cargo warnings.
//!
//! - `MVM_SYSTEM` names another description (relative to this workspace);
//!   the default is `partitions/system.toml`.
//! - For the target (`armv7a-none-eabi`), `MVM_GUEST_IMAGES` names the
//!   directory of the guests' ELF files, `<guest>.elf`; `cargo mvm build`
//!   builds them and sets it. Host builds compile the tables with empty
//!   images, so `cargo test` always compiles what codegen emits.
//! - The description's board becomes `cfg(mvm_board = "<name>")`, which
//!   selects the board crate and the board module (`src/board_*.rs`).

use std::path::PathBuf;

fn fail(message: &str) -> ! {
    println!("cargo::error={message}");
    std::process::exit(1);
}

fn main() {
    let root = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!(
        "cargo::rustc-check-cfg=cfg(mvm_board, values({}))",
        mvm_config::boards::names()
            .iter()
            .map(|name| format!("\"{name}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("cargo::rerun-if-env-changed=MVM_SYSTEM");
    println!("cargo::rerun-if-env-changed=MVM_GUEST_IMAGES");
    let path = root
        .join(std::env::var_os("MVM_SYSTEM").unwrap_or_else(|| "partitions/system.toml".into()));
    println!("cargo::rerun-if-changed={}", path.display());
    let shown = path
        .strip_prefix(&root)
        .unwrap_or(&path)
        .display()
        .to_string();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        fail(&format!(
            "cannot read the system description `{shown}`: {e}"
        ))
    });
    let checked = mvm_config::check(&text);
    // Warnings do not stop the build; cargo shows them one line each.
    for d in checked.diagnostics.iter().filter(|d| !d.is_error()) {
        let (line, column) = d
            .span
            .as_ref()
            .map_or((1, 1), |s| mvm_config::diag::line_col(&text, s.start));
        println!(
            "cargo::warning={shown}:{line}:{column}: warning[{}]: {}",
            d.code(),
            d.message()
        );
    }
    let Some(system) = checked.system else {
        let file = mvm_config::diag::SourceFile {
            path: &shown,
            text: &text,
        };
        eprint!(
            "{}",
            mvm_config::diag::render(file, &checked.diagnostics, false)
        );
        fail(&format!(
            "the system description `{shown}` was rejected with {}; the diagnostics are above (or run `cargo mvm check`)",
            mvm_config::units::plural(checked.errors() as u64, "error", "errors")
        ));
    };
    println!("cargo::rustc-cfg=mvm_board=\"{}\"", system.board.name);
    let images = std::env::var_os("MVM_GUEST_IMAGES").map(PathBuf::from);
    let programs = if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("none") {
        println!("cargo::rustc-link-search={}", out.display());
        println!(
            "cargo::rustc-link-arg-bins=-T{}",
            root.join("src/monitor.ld").display()
        );
        println!(
            "cargo::rerun-if-changed={}",
            root.join("src/monitor.ld").display()
        );
        let Some(dir) = images.as_deref() else {
            fail("the image needs its guests' programs: build it with `cargo mvm build`, which builds the guests and sets MVM_GUEST_IMAGES")
        };
        for g in &system.guests {
            let files = match &g.linux {
                None => vec![format!("{}.elf", g.name)],
                Some(_) => vec![
                    mvm_config::linux::kernel_file(&g.name),
                    mvm_config::linux::initrd_file(&g.name),
                ],
            };
            for f in files {
                println!("cargo::rerun-if-changed={}", dir.join(f).display());
            }
        }
        mvm_config::tables::Programs::ElfDir(dir)
    } else {
        mvm_config::tables::Programs::None
    };
    // The monitor's toolchain, for the manifest (`rustc -V`).
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let toolchain = std::process::Command::new(rustc)
        .arg("-V")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".to_string());
    if let Err(e) = mvm_config::tables::write(&system, &text, &shown, programs, &toolchain, &out) {
        fail(&e);
    }
}
