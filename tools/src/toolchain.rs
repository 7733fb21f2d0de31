//! Guest crates with a toolchain of their own (an RTOS whose crates need a
//! pinned nightly, e.g. R3-OS: docs/guests/r3.md).
//!
//! - A guest crate under `partitions/` whose folder holds a
//!   `rust-toolchain.toml` is built with the toolchain that file names,
//!   in its own folder (its own workspace, `.cargo/config.toml` and lock
//!   file, used `--locked`), never in the guest workspace.
//! - The toolchain and the components the file lists are installed through
//!   rustup when missing, as the target is for the others.
//! - The build gets what every guest gets: `MVM_GUEST_MEMORY_X`,
//!   `MVM_BOARD`, and `MVM_GUEST_DEVICES` (its devices as Rust constants,
//!   since such a crate cannot compile the board crates).

use std::path::Path;
use std::process::Command;

/// What a guest crate's `rust-toolchain.toml` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toolchain {
    /// `toolchain.channel`, e.g. `nightly-2022-11-11`.
    pub channel: String,
    /// `toolchain.components`, e.g. `rust-src`.
    pub components: Vec<String>,
}

/// The file that marks a guest crate as built with its own toolchain.
pub const FILE: &str = "rust-toolchain.toml";

/// The toolchain a guest crate's folder names, if it names one.
pub fn of_crate(crate_dir: &Path) -> Result<Option<Toolchain>, String> {
    let path = crate_dir.join(FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    parse(&text)
        .map(Some)
        .map_err(|e| format!("`{}`: {e}", path.display()))
}

/// Reads a `rust-toolchain.toml`: `[toolchain]` with a pinned `channel`
/// and optional `components`.
pub fn parse(text: &str) -> Result<Toolchain, String> {
    let table: toml::Table = text.parse().map_err(|e| format!("not TOML: {e}"))?;
    let toolchain = table
        .get("toolchain")
        .and_then(toml::Value::as_table)
        .ok_or("no [toolchain] table")?;
    let channel = toolchain
        .get("channel")
        .and_then(toml::Value::as_str)
        .ok_or("[toolchain] has no `channel` string")?;
    if !channel.starts_with("nightly-") && !channel.starts_with("1.") {
        return Err(format!(
            "channel `{channel}` is not pinned: name a dated nightly (`nightly-2022-11-11`) or a release (`1.85.0`), so every build uses the same compiler"
        ));
    }
    let components = match toolchain.get("components") {
        None => Vec::new(),
        Some(v) => v
            .as_array()
            .and_then(|a| {
                a.iter()
                    .map(|c| c.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
            })
            .ok_or("[toolchain] `components` is not an array of strings")?,
    };
    Ok(Toolchain {
        channel: channel.to_string(),
        components,
    })
}

/// Whether `rustup toolchain list` output names `channel` (it appends the
/// host's triple, and marks the default and active ones).
pub fn listed(list: &str, channel: &str) -> bool {
    list.lines().any(|l| {
        let name = l.split_whitespace().next().unwrap_or_default();
        // The channel, then the host's triple, which starts with a letter
        // (`nightly-...` must not match `nightly-2022-11-11-...`).
        name.strip_prefix(channel).is_some_and(|rest| {
            rest.is_empty()
                || rest
                    .strip_prefix('-')
                    .is_some_and(|t| t.starts_with(|c: char| c.is_ascii_alphabetic()))
        })
    })
}

/// The components `rustup component list --installed` output lacks.
pub fn missing_components<'a>(installed: &str, wanted: &'a [String]) -> Vec<&'a str> {
    wanted
        .iter()
        .filter(|w| {
            !installed.lines().any(|l| {
                let l = l.trim();
                l == w.as_str()
                    || l.strip_prefix(w.as_str())
                        .is_some_and(|rest| rest.starts_with('-'))
            })
        })
        .map(String::as_str)
        .collect()
}

fn output(args: &[&str]) -> Result<String, String> {
    let out = Command::new("rustup")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run rustup ({e}); install Rust through rustup"))?;
    if !out.status.success() {
        return Err(format!(
            "`rustup {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `rustc -V` of the toolchain: what the manifest records of it.
pub fn rustc_version(t: &Toolchain) -> Result<String, String> {
    Ok(output(&["run", &t.channel, "rustc", "-V"])?
        .trim()
        .to_string())
}

/// Installs the toolchain and its components through rustup when missing.
pub fn ensure(t: &Toolchain) -> Result<(), String> {
    let list = output(&["toolchain", "list"])?;
    if !listed(&list, &t.channel) {
        eprintln!(
            "   Installing the Rust toolchain {} (rustup toolchain install)",
            t.channel
        );
        let mut args = vec!["toolchain", "install", &t.channel, "--profile", "minimal"];
        for c in &t.components {
            args.extend(["--component", c]);
        }
        return output(&args).map(|_| ());
    }
    let installed = output(&[
        "component",
        "list",
        "--installed",
        "--toolchain",
        &t.channel,
    ])?;
    let missing = missing_components(&installed, &t.components);
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!(
        "   Installing {} for the Rust toolchain {} (rustup component add)",
        missing.join(", "),
        t.channel
    );
    let mut args = vec!["component", "add", "--toolchain", &t.channel];
    args.extend(missing);
    output(&args).map(|_| ())
}

/// `cargo` of the toolchain, through rustup, cleared of what the calling
/// cargo set for its own toolchain (`RUSTUP_TOOLCHAIN` would override the
/// channel; its `RUSTC` and flags are not this compiler's).
pub fn cargo(t: &Toolchain) -> Command {
    let mut c = Command::new("rustup");
    c.args(["run", &t.channel, "cargo"]);
    for var in [
        "RUSTUP_TOOLCHAIN",
        "RUSTC",
        "RUSTDOC",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
    ] {
        c.env_remove(var);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pinned_nightly_with_its_components_is_read() {
        let t = parse(
            "[toolchain]\nchannel = \"nightly-2022-11-11\"\ncomponents = [\"rust-src\", \"rustfmt\"]\n",
        )
        .unwrap();
        assert_eq!(t.channel, "nightly-2022-11-11");
        assert_eq!(t.components, ["rust-src", "rustfmt"]);
        assert_eq!(
            parse("[toolchain]\nchannel = \"1.85.0\"\n")
                .unwrap()
                .components,
            Vec::<String>::new()
        );
    }

    #[test]
    fn an_unpinned_or_malformed_file_is_refused_with_the_reason() {
        assert_eq!(
            parse("[toolchain]\nchannel = \"nightly\"\n").unwrap_err(),
            "channel `nightly` is not pinned: name a dated nightly (`nightly-2022-11-11`) or a release (`1.85.0`), so every build uses the same compiler"
        );
        assert_eq!(parse("x = 1\n").unwrap_err(), "no [toolchain] table");
        assert_eq!(
            parse("[toolchain]\n").unwrap_err(),
            "[toolchain] has no `channel` string"
        );
        assert_eq!(
            parse("[toolchain]\nchannel = \"1.85.0\"\ncomponents = [1]\n").unwrap_err(),
            "[toolchain] `components` is not an array of strings"
        );
    }

    #[test]
    fn rustups_lists_are_matched_by_whole_names() {
        let list = "stable-x86_64-unknown-linux-gnu (active, default)\n\
                    nightly-2022-11-11-x86_64-unknown-linux-gnu\n";
        assert!(listed(list, "nightly-2022-11-11"));
        assert!(listed(list, "stable"));
        assert!(!listed(list, "nightly-2022-11-1"));
        assert!(!listed(list, "nightly"));
        let installed =
            "cargo-x86_64-unknown-linux-gnu\nrust-src\nrustc-x86_64-unknown-linux-gnu\n";
        let wanted = ["rust-src".to_string(), "rustfmt".to_string()];
        assert_eq!(missing_components(installed, &wanted), ["rustfmt"]);
    }
}
