//! `cargo mvm check [PATH] [--format json]`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mvm_config::diag::{render, JsonDiagnostic, SourceFile};
use mvm_config::summary::Summary;
use serde_json::json;

use crate::{Format, EXIT_CANNOT_RUN};

/// The default description, relative to the workspace root.
const DEFAULT_SYSTEM: &str = "partitions/system.toml";

pub fn run(path: Option<PathBuf>, format: Format) -> ExitCode {
    let path = match path {
        Some(p) => p,
        None => match find_default() {
            Some(p) => p,
            None => {
                eprintln!("error: no {DEFAULT_SYSTEM} in this directory or any parent; pass the path of a system description");
                return ExitCode::from(EXIT_CANNOT_RUN);
            }
        },
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", path.display());
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    };
    let shown = path.display().to_string();
    let file = SourceFile {
        path: &shown,
        text: &text,
    };
    let checked = mvm_config::check(&text);
    match format {
        Format::Json => {
            let value = json!({
                "file": shown,
                "ok": checked.is_ok(),
                "summary": checked.system.as_ref().map(Summary::new),
                "diagnostics": checked.diagnostics.iter().map(|d| JsonDiagnostic::new(file, d)).collect::<Vec<_>>(),
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&value).expect("JSON of plain data")
            );
        }
        Format::Human => match &checked.system {
            Some(system) => print!("{}", Summary::new(system).to_text()),
            None => {
                let color =
                    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
                eprint!("{}", render(file, &checked.diagnostics, color));
                let n = checked.diagnostics.len();
                eprintln!(
                    "error: `{shown}` was rejected: {n} error{}",
                    if n == 1 { "" } else { "s" }
                );
            }
        },
    }
    if checked.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `partitions/system.toml` in the current directory or the nearest parent
/// that has one, so that `cargo mvm check` works from anywhere in the tree.
fn find_default() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .map(|dir| dir.join(DEFAULT_SYSTEM))
        .find(|p| p.is_file())
        .map(|p| relative(&cwd, p))
}

fn relative(cwd: &Path, path: PathBuf) -> PathBuf {
    path.strip_prefix(cwd)
        .map(Path::to_path_buf)
        .unwrap_or(path)
}
