//! `cargo mvm check [PATH] [--format json]`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use mvm_config::diag::{render, JsonDiagnostic, SourceFile};
use mvm_config::summary::Summary;
use mvm_config::units::plural;
use serde_json::json;

use crate::{Format, EXIT_CANNOT_RUN};

pub fn run(path: Option<PathBuf>, format: Format) -> ExitCode {
    let path = match crate::workspace::system_path(path) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
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
                "analysis": mvm_config::manifest::analysis(&checked.cores),
                "diagnostics": checked.diagnostics.iter().map(|d| JsonDiagnostic::new(file, d)).collect::<Vec<_>>(),
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&value).expect("JSON of plain data")
            );
        }
        Format::Human => {
            if let Some(system) = &checked.system {
                print!("{}", Summary::new(system).to_text());
            }
            print_findings(file, &checked);
        }
    }
    if checked.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// A description that passed the check, for the commands that go on to
/// build or run it.
pub struct Loaded {
    pub path: PathBuf,
    pub system: mvm_config::model::System,
}

/// A description that was read and rejected.
pub struct Refused {
    pub text: String,
    pub checked: mvm_config::Checked,
}

/// Reads and checks a description; on failure prints what `check` prints
/// and returns the exit code to stop with.
pub fn load(path: Option<PathBuf>) -> Result<Loaded, ExitCode> {
    load_or_refuse(path).map_err(|(code, _)| code)
}

/// [`load`], and on a rejection what was read and found.
pub fn load_or_refuse(path: Option<PathBuf>) -> Result<Loaded, (ExitCode, Option<Box<Refused>>)> {
    let path = crate::workspace::system_path(path).map_err(|e| {
        eprintln!("error: {e}");
        (ExitCode::from(EXIT_CANNOT_RUN), None)
    })?;
    let text = std::fs::read_to_string(&path).map_err(|e| {
        eprintln!("error: cannot read `{}`: {e}", path.display());
        (ExitCode::from(EXIT_CANNOT_RUN), None)
    })?;
    let checked = mvm_config::check(&text);
    let shown = path.display().to_string();
    print_findings(
        SourceFile {
            path: &shown,
            text: &text,
        },
        &checked,
    );
    match checked.system {
        Some(system) => Ok(Loaded { path, system }),
        None => Err((ExitCode::from(1), Some(Box::new(Refused { text, checked })))),
    }
}

/// The human form of the findings, on stderr: every diagnostic (errors and
/// warnings, in the order of the file), then a count; nothing when there is
/// none.
fn print_findings(file: SourceFile<'_>, checked: &mvm_config::Checked) {
    if checked.diagnostics.is_empty() {
        return;
    }
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    eprint!("{}", render(file, &checked.diagnostics, color));
    let errors = plural(checked.errors() as u64, "error", "errors");
    let warnings = plural(checked.warnings() as u64, "warning", "warnings");
    match (checked.is_ok(), checked.warnings()) {
        (true, _) => eprintln!("warning: `{}` was accepted with {warnings}", file.path),
        (false, 0) => eprintln!("error: `{}` was rejected: {errors}", file.path),
        (false, _) => eprintln!("error: `{}` was rejected: {errors}, {warnings}", file.path),
    }
}
