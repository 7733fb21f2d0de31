//! `cargo mvm`: check, build, run and test MVM systems.
//!
//! - A thin command-line shell over `mvm-config`; every decision about a
//!   system description is made there, so `build.rs` and this tool agree.
//! - Exit codes are a contract: 0 valid (or passed), 1 the description was
//!   rejected, 2 the command could not run.
#![forbid(unsafe_code)]

mod check;
mod debian;
mod image;
mod initramfs;
mod linux;
mod report;
mod run;
mod test;
mod toolchain;
mod trace;
mod verify;
mod workspace;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// MVM: a TrustZone separation kernel for Cortex-A9, configured by
/// `partitions/system.toml`.
#[derive(Parser, Debug)]
#[command(name = "cargo mvm", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Validate a system description and check that every core is schedulable.
    Check {
        /// The system description (default: partitions/system.toml of this workspace).
        path: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Build the guests and the monitor into one bootable image under target/mvm/<system>/.
    Build {
        /// The system description (default: partitions/system.toml of this workspace).
        #[arg(long)]
        system: Option<PathBuf>,
    },
    /// Build the image and boot it in QEMU (vexpress-a9, secure=on, 2 cores).
    Run {
        /// The system description (default: partitions/system.toml of this workspace).
        #[arg(long)]
        system: Option<PathBuf>,
        /// End the run after this much emulated time (e.g. `1s`, `500ms`); default: until Ctrl-C.
        #[arg(long = "for", value_name = "DURATION")]
        duration: Option<String>,
        /// Boot the image under target/mvm/<system>/ as it is, without building it first
        /// (an image someone else built, or one whose files were changed on purpose).
        #[arg(long)]
        no_build: bool,
        /// Write what the monitor recorded on its shared cores (releases, runs, budget ends,
        /// misses, hypercalls) to FILE as Chrome/Perfetto trace-event JSON; needs --for.
        #[arg(long, value_name = "FILE", requires = "duration")]
        trace: Option<PathBuf>,
    },
    /// Explain a system: guests, memory, devices, each core's plan and a timeline of its schedule.
    Report {
        /// The system description (default: partitions/system.toml of this workspace).
        #[arg(long)]
        system: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = report::ReportFormat::Text)]
        format: report::ReportFormat,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// A trace written by `run --for T --trace FILE`: draw each shared core's traced run
        /// below its analysed schedule, from the core's first traced release, misses marked
        /// (the text and JSON reports count each guest's jobs, runs and misses).
        #[arg(long, value_name = "FILE")]
        trace: Option<PathBuf>,
    },
    /// Run every test: the host tests of the workspace and the example systems.
    Test,
    /// Check an image folder against its manifest, then rebuild from the sources and compare.
    Verify {
        /// The system description (default: partitions/system.toml of this workspace).
        #[arg(long)]
        system: Option<PathBuf>,
        /// The image folder to verify (default: target/mvm/<system>/, as the last build left it).
        #[arg(long)]
        image: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// Exit code: the command could not run (missing file, bad arguments).
pub const EXIT_CANNOT_RUN: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap uses 2 for usage errors already; help and version exit 0.
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(EXIT_CANNOT_RUN));
        }
    };
    match cli.command {
        Command::Check { path, format } => check::run(path, format),
        Command::Build { system } => image::run(system),
        Command::Run {
            system,
            duration,
            no_build,
            trace,
        } => run::run(system, duration, no_build, trace),
        Command::Report {
            system,
            format,
            output,
            trace,
        } => report::run(system, format, output, trace),
        Command::Test => test::run(),
        Command::Verify { system, image } => verify::run(system, image),
    }
}
