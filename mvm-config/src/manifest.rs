//! The build's manifest: what an image was made from, for integrators who
//! must show that an image is the one built from a reviewed description.
//!
//! - [`Inputs`] is written by the image's `build.rs` (through
//!   [`crate::tables::write`]) beside the guests' programs, as
//!   `manifest-inputs.json`; its SHA-256 is compiled into the monitor
//!   (`System::manifest`) and printed in the boot banner, so a console log
//!   names the exact inputs of the image that produced it.
//! - `cargo mvm build` adds what cannot be an input of the monitor (the
//!   monitor's own files and the guests' files on disk) and each core's
//!   analysis, and writes `target/mvm/<system>/manifest.json`;
//!   `cargo mvm verify` checks the files against it and rebuilds from the
//!   sources to compare.
//! - Deterministic: the same inputs give the same bytes (struct order,
//!   no times, no absolute paths).

use serde::{Deserialize, Serialize};

/// The manifest's format, bumped when its meaning changes.
pub const FORMAT: u32 = 2;

/// Where [`Inputs`] goes, in the folder of the guests' programs.
pub const INPUTS_FILE: &str = "manifest-inputs.json";

/// Everything the monitor image is built from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inputs {
    pub format: u32,
    /// `mvm-config <version>`: the generator of the tables.
    pub generator: String,
    pub system: String,
    pub board: String,
    pub description_sha256: String,
    /// SHA-256 of the generated tables (`mvm_system.rs`) with their
    /// `manifest` field empty: the tables cannot hold the hash of what
    /// holds theirs.
    pub tables_sha256: String,
    /// `rustc -V` of the monitor's build (and of every guest built
    /// without a toolchain of its own; [`Manifest::guest_toolchains`]).
    pub toolchain: String,
    pub guests: Vec<GuestInputs>,
}

/// One guest's images, as the monitor loads them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestInputs {
    pub name: String,
    /// The image embedded in the monitor (a flat program, or a Linux
    /// guest's device tree).
    pub image: Image,
    /// Images the board's loader places (a Linux guest's kernel, initrd).
    pub in_place: Vec<InPlace>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    pub load: u32,
    pub entry: u32,
    pub size: u64,
    pub sha256: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InPlace {
    pub what: String,
    pub base: u32,
    pub size: u32,
    pub sha256: String,
    /// Where the monitor keeps its pristine copy, to restore it from on a
    /// restart (docs/health.md).
    pub pristine: u32,
}

impl Inputs {
    /// The canonical text (pretty JSON, fields in declaration order).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("plain data serializes") + "\n"
    }

    /// SHA-256 of [`Inputs::to_json`], hex: what the banner prints.
    pub fn sha256(&self) -> String {
        hex(&crate::sha256(self.to_json().as_bytes()))
    }
}

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Each core's analysis, as the manifest records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoreAnalysis {
    pub core: u32,
    /// `idle`, `dedicated` or `edf`.
    pub plan: String,
    /// The schedulability test that decided an EDF core.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub test: Option<String>,
    /// Utilization with the switch overhead, in millionths.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub utilization_ppm: Option<u64>,
    /// The instants at which the processor demand was evaluated (0 when
    /// the utilization alone decided).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub demand_points: Option<u64>,
    /// `schedulable`, `unschedulable` or `inconclusive`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub verdict: Option<String>,
    /// Where demand exceeds the time available, ns after the synchronous
    /// release (a rejected core).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub fails_at_ns: Option<u64>,
    /// The demand there, in ns.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub demand_ns: Option<u64>,
    /// Whether `fails_at_ns` is proven to be the first such instant.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first: Option<bool>,
    /// Why the test could not decide (an inconclusive core).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
}

/// Each core's analysis, from the plan of a description (accepted or not).
pub fn analysis(cores: &[crate::plan::PlannedCore]) -> Vec<CoreAnalysis> {
    use crate::plan::CoreVerdict;
    use mvm_kernel::config::CorePlan;
    cores
        .iter()
        .enumerate()
        .map(|(core, c)| {
            let mut out = CoreAnalysis {
                core: core as u32,
                plan: match c.plan {
                    CorePlan::Idle => "idle",
                    CorePlan::Dedicated { .. } => "dedicated",
                    CorePlan::Edf { .. } => "edf",
                }
                .to_string(),
                test: None,
                utilization_ppm: None,
                demand_points: None,
                verdict: None,
                fails_at_ns: None,
                demand_ns: None,
                first: None,
                reason: None,
            };
            if let Some(a) = &c.analysis {
                out.test = Some(format!("{:?}", a.test));
                out.utilization_ppm = Some(a.utilization_ppm);
                out.demand_points = Some(a.demand_points);
                out.verdict = Some(
                    match &a.verdict {
                        CoreVerdict::Schedulable => "schedulable",
                        CoreVerdict::Unschedulable {
                            t_ns,
                            demand_ns,
                            first,
                        } => {
                            out.fails_at_ns = Some(*t_ns);
                            out.demand_ns = Some(*demand_ns);
                            out.first = Some(*first);
                            "unschedulable"
                        }
                        CoreVerdict::Inconclusive { reason } => {
                            out.reason = Some(reason.clone());
                            "inconclusive"
                        }
                    }
                    .to_string(),
                );
            }
            out
        })
        .collect()
}

/// `target/mvm/<system>/manifest.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// True: the description was accepted and this image built from it
    /// (a [`Rejection`] says `false`).
    pub accepted: bool,
    /// SHA-256 of `inputs` (as [`Inputs::sha256`]): the boot banner's
    /// `manifest` figure.
    pub inputs_sha256: String,
    pub inputs: Inputs,
    pub analysis: Vec<CoreAnalysis>,
    /// `rustc -V` of each guest built with a toolchain of its own (its
    /// `rust-toolchain.toml`), by guest name.
    pub guest_toolchains: std::collections::BTreeMap<String, String>,
    /// The image folder's files (`mvm.elf`, `mvm.bin`, the guests'
    /// programs) and their SHA-256, by path relative to the folder, sorted.
    pub files: std::collections::BTreeMap<String, String>,
}

/// What `cargo mvm build` writes in place of a [`Manifest`] when the
/// description is rejected: the evidence of the rejection (which rules,
/// each core's analysis with the first instant a rejected core fails),
/// and no image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// Always false.
    pub accepted: bool,
    pub format: u32,
    pub generator: String,
    pub system: String,
    pub description_sha256: String,
    /// The code of each error found, in the order of the file.
    pub errors: Vec<String>,
    pub analysis: Vec<CoreAnalysis>,
}

impl Rejection {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("plain data serializes") + "\n"
    }
}

/// `generator` of a manifest: this crate and its version.
pub fn generator() -> String {
    format!("mvm-config {}", env!("CARGO_PKG_VERSION"))
}

impl Manifest {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("plain data serializes") + "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> Inputs {
        Inputs {
            format: FORMAT,
            generator: "mvm-config 0.1.0".into(),
            system: "demo".into(),
            board: "qemu-vexpress-a9".into(),
            description_sha256: "ab".into(),
            tables_sha256: "12".into(),
            toolchain: "rustc 1.95.0".into(),
            guests: vec![GuestInputs {
                name: "linux".into(),
                image: Image {
                    load: 0x69F0_0000,
                    entry: 0x6980_0000,
                    size: 4096,
                    sha256: "cd".into(),
                },
                in_place: vec![InPlace {
                    what: "kernel".into(),
                    base: 0x6980_0000,
                    size: 5_448_192,
                    sha256: "ef".into(),
                    pristine: 0x6010_0000,
                }],
            }],
        }
    }

    #[test]
    fn the_inputs_hash_is_of_their_canonical_text_and_round_trips() {
        let i = inputs();
        assert_eq!(i.sha256(), hex(&crate::sha256(i.to_json().as_bytes())));
        let back: Inputs = serde_json::from_str(&i.to_json()).unwrap();
        assert_eq!(back, i);
        let mut changed = i.clone();
        changed.guests[0].in_place[0].sha256 = "ee".into();
        assert_ne!(changed.sha256(), i.sha256(), "every input counts");
    }
}
