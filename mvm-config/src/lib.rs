//! The system description: schema, validation, schedulability, tables.
//!
//! - One pipeline, staged as in Hubris and Microkit: [`raw`] (the TOML as
//!   written, with spans) → [`validate`] (every rule, schedulability
//!   included) → [`model`] (the validated system) → [`ir`] (what the kernel
//!   is built from).
//! - Every finding is a typed [`diag::Diagnostic`] that points at the TOML;
//!   all independent findings of a file are reported in one run.
//! - Deterministic: no hash-map iteration order, no clocks; the same input
//!   gives the same output, byte for byte.
//! - Exact integer arithmetic in nanoseconds and bytes; no floating point in
//!   a verdict.
#![forbid(unsafe_code)]

pub mod boards;
pub mod channels;
pub mod codegen;
pub mod diag;
pub mod directmap;
pub mod dtb;
pub mod image;
pub mod ir;
pub mod linux;
pub mod manifest;
pub mod model;
pub mod plan;
pub mod prm;
pub mod raw;
pub mod sched;
pub mod summary;
pub mod tables;
pub mod units;
pub mod validate;

use diag::Diagnostic;
use model::System;

/// The outcome of checking one system description.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The validated system, when no error was found (warnings allowed).
    pub system: Option<System>,
    /// Every finding, errors and warnings, in the order of the file.
    pub diagnostics: Vec<Diagnostic>,
    /// What each core of the board would do and, for a shared core, its
    /// schedulability analysis: there even when the description is
    /// rejected (for the rejection's manifest), empty when the board or
    /// the switch overhead is unknown. A core with an invalid guest plans
    /// as idle.
    pub cores: Vec<plan::PlannedCore>,
    /// The description's `[system] name`, when it is a valid name.
    pub name: Option<String>,
}

impl Checked {
    /// Whether the description is accepted: no error (warnings allowed).
    pub fn is_ok(&self) -> bool {
        !diag::has_errors(&self.diagnostics)
    }

    /// How many findings are errors.
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// How many findings are warnings.
    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
}

/// Checks a system description given as text: every rule and the
/// schedulability of every shared core.
pub fn check(text: &str) -> Checked {
    let mut diagnostics = Vec::new();
    let mut cores = Vec::new();
    let raw = raw::read(text, &mut diagnostics);
    let system = if diagnostics
        .iter()
        .any(|d| matches!(d.kind, diag::ErrorKind::Syntax { .. }))
    {
        None
    } else {
        validate::validate(&raw, &mut diagnostics, &mut cores)
    };
    // Stable order: by place in the file, then by code.
    diagnostics.sort_by(|a, b| {
        let key = |d: &Diagnostic| d.span.as_ref().map_or((0, 0), |s| (s.start, s.end));
        key(a).cmp(&key(b)).then_with(|| a.code().cmp(b.code()))
    });
    Checked {
        name: validate::system_name(&raw),
        system: if diag::has_errors(&diagnostics) {
            None
        } else {
            system
        },
        diagnostics,
        cores,
    }
}

/// The SHA-256 of a system description's text, in hex: the identity of the
/// description in the boot banner, reports and manifests.
/// SHA-256 of a guest image, as the monitor checks it before the guest's
/// first instruction.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).into()
}

pub fn description_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
