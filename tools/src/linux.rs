//! A Linux guest's files for the image build: its kernel and initrd, from
//! the files the description names or from Debian's packages, checked and
//! written beside the other guests' programs (`guests/<name>.zImage`,
//! `guests/<name>.initrd`), where the monitor's `build.rs` places them and
//! generates the device tree (`mvm_config::linux`).
//!
//! - A kernel `{ debian, version }` is fetched with `apt-get download`
//!   (`crate::debian`) and its `boot/vmlinuz-*` taken.
//! - An initrd `{ busybox, version }` is an initramfs the tool builds
//!   around that package's static busybox (`crate::initramfs`).
//! - A guest that reads channels gets, in that initramfs, the reader
//!   program `cargo mvm build` built (`partitions/linux-channel`) and the
//!   `evdev` module of its Debian kernel package, and `/init` starts a
//!   reader per channel.
//! - A problem is reported against the description, at the key that
//!   named the file (the same diagnostics as `check`).

use std::path::{Path, PathBuf};

use mvm_config::diag::{Diagnostic, ErrorKind, Span};
use mvm_config::dtb::ChannelEnd;
use mvm_config::linux::{self, Artefact, Linux};
use mvm_config::model::{Guest, System};

fn rule(code: &'static str, message: String, span: Span, label: &str) -> Box<Diagnostic> {
    Box::new(Diagnostic::new(
        ErrorKind::LinuxRule { code, message },
        span,
        label.to_string(),
    ))
}

/// A file the description names: relative to its folder, then to the
/// workspace.
fn find(description_dir: &Path, root: &Path, path: &str) -> Option<PathBuf> {
    [description_dir.join(path), root.join(path)]
        .into_iter()
        .find(|p| p.is_file())
}

/// The kernel's bytes.
fn kernel(
    g: &Guest,
    l: &Linux,
    root: &Path,
    description_dir: &Path,
) -> Result<Vec<u8>, Box<Diagnostic>> {
    let span = l.spans.kernel.clone();
    let path = match &l.kernel {
        Artefact::File(path) => find(description_dir, root, path).ok_or_else(|| {
            rule(
                "linux-kernel-file",
                format!(
                    "the kernel of Linux guest `{}`, `{path}`, is not a file (looked in the description's folder and the workspace)",
                    g.name
                ),
                span.clone(),
                "no such file",
            )
        })?,
        Artefact::Package { package, version } => {
            let p = crate::debian::fetch(root, package, version)
                .map_err(|e| rule("linux-package", e, span.clone(), "this package"))?;
            let boot = p.dir.join("boot");
            let mut zimages: Vec<PathBuf> = std::fs::read_dir(&boot)
                .map(|d| {
                    d.filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| {
                            p.file_name()
                                .and_then(|n| n.to_str())
                                .is_some_and(|n| n.starts_with("vmlinuz-"))
                        })
                        .collect()
                })
                .unwrap_or_default();
            zimages.sort();
            match zimages.as_slice() {
                [one] => one.clone(),
                _ => {
                    return Err(rule(
                        "linux-package",
                        format!(
                            "Debian package `{package}` version `{version}` holds {} `boot/vmlinuz-*` files, not one: is it a kernel image package (`linux-image-*`)?",
                            zimages.len()
                        ),
                        span,
                        "not a kernel package",
                    ))
                }
            }
        }
    };
    std::fs::read(&path).map_err(|e| {
        rule(
            "linux-kernel-file",
            format!(
                "the kernel of Linux guest `{}`: cannot read `{}`: {e}",
                g.name,
                path.display()
            ),
            l.spans.kernel.clone(),
            "this file",
        )
    })
}

/// The channel ends of a Linux guest: what its device tree describes and
/// its `/init` starts readers for.
pub fn channel_ends(system: &System, guest: &Guest) -> Vec<ChannelEnd> {
    mvm_config::linux::channel_ends(system, guest)
}

/// Whether any Linux guest of `system` has a channel end, so that the
/// reader program must be built.
pub fn needs_channel_program(system: &System) -> bool {
    system
        .guests
        .iter()
        .any(|g| g.linux.is_some() && !channel_ends(system, g).is_empty())
}

/// The file name of the reader program in the guests' folder.
pub const CHANNEL_PROGRAM_FILE: &str = "mvm-channel";

/// The `evdev` module of a Debian kernel package: the one
/// `kernel/drivers/input/evdev.ko` under `lib/modules/`; `None` for a
/// kernel of one's own (whose evdev, if any, is built in or its own
/// business).
fn evdev_module(l: &Linux, root: &Path) -> Result<Option<Vec<u8>>, String> {
    let Artefact::Package { package, version } = &l.kernel else {
        return Ok(None);
    };
    let p = crate::debian::fetch(root, package, version)?;
    let modules = p.dir.join("lib/modules");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&modules)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .map(|release| release.join("kernel/drivers/input/evdev.ko"))
                .filter(|ko| ko.is_file())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    match found.as_slice() {
        [one] => std::fs::read(one)
            .map(Some)
            .map_err(|e| format!("cannot read `{}`: {e}", one.display())),
        _ => Err(format!(
            "Debian package `{package}` version `{version}` holds {} `lib/modules/*/kernel/drivers/input/evdev.ko`, not one; the channel readers need it",
            found.len()
        )),
    }
}

/// The initrd's bytes, if it has one. A busybox initramfs gets a reader
/// for each of `channels` (`channel_program`: the reader's bytes).
fn initrd(
    g: &Guest,
    l: &Linux,
    root: &Path,
    description_dir: &Path,
    channels: &[ChannelEnd],
    channel_program: Option<&[u8]>,
) -> Result<Option<Vec<u8>>, Box<Diagnostic>> {
    let Some(initrd) = &l.initrd else {
        return Ok(None);
    };
    let span = l.spans.initrd.clone().unwrap_or(l.spans.table.clone());
    match initrd {
        Artefact::File(path) => {
            let file = find(description_dir, root, path).ok_or_else(|| {
                rule(
                    "linux-initrd-format",
                    format!(
                        "the initrd of Linux guest `{}`, `{path}`, is not a file (looked in the description's folder and the workspace)",
                        g.name
                    ),
                    span.clone(),
                    "no such file",
                )
            })?;
            std::fs::read(&file).map(Some).map_err(|e| {
                rule(
                    "linux-initrd-format",
                    format!(
                        "the initrd of Linux guest `{}`: cannot read `{}`: {e}",
                        g.name,
                        file.display()
                    ),
                    span,
                    "this file",
                )
            })
        }
        Artefact::Package { package, version } => {
            let p = crate::debian::fetch(root, package, version)
                .map_err(|e| rule("linux-package", e, span.clone(), "this package"))?;
            let busybox = p
                .file(crate::debian::BUSYBOX_BINARY)
                .and_then(|f| {
                    std::fs::read(&f).map_err(|e| format!("cannot read `{}`: {e}", f.display()))
                })
                .map_err(|e| rule("linux-package", e, span.clone(), "this package"))?;
            let mut extra = Vec::new();
            if !channels.is_empty() {
                let program = channel_program.ok_or_else(|| {
                    rule(
                        "linux-package",
                        format!(
                            "Linux guest `{}` has channels but the reader program `{CHANNEL_PROGRAM_FILE}` was not built",
                            g.name
                        ),
                        span.clone(),
                        "this initrd",
                    )
                })?;
                extra.push((
                    crate::initramfs::CHANNEL_PROGRAM.to_string(),
                    program.to_vec(),
                    0o755,
                ));
                let evdev = evdev_module(l, root).map_err(|e| {
                    rule("linux-package", e, l.spans.kernel.clone(), "this package")
                })?;
                if let Some(evdev) = evdev {
                    extra.push((crate::initramfs::EVDEV_MODULE.to_string(), evdev, 0o644));
                }
            }
            crate::initramfs::busybox(&busybox, &extra, channels)
                .map(Some)
                .map_err(|e| rule("linux-package", e, span, "this package"))
        }
    }
}

/// Writes `guests/<name>.zImage` (and `.initrd`) for every Linux guest,
/// after checking that they fit its memory as `build.rs` will place them.
/// `channel_program` is the reader program's bytes, built when
/// [`needs_channel_program`].
pub fn prepare(
    system: &System,
    root: &Path,
    description_dir: &Path,
    guests_dir: &Path,
    channel_program: Option<&[u8]>,
) -> Result<(), Box<Diagnostic>> {
    for g in &system.guests {
        let Some(l) = &g.linux else { continue };
        let channels = channel_ends(system, g);
        let kernel = kernel(g, l, root, description_dir)?;
        let initrd = initrd(g, l, root, description_dir, &channels, channel_program)?;
        linux::guest_layout(g, l, &kernel, initrd.as_deref())?;
        let write = |name: String, bytes: &[u8]| {
            let path = guests_dir.join(name);
            // Unchanged bytes keep their file (and cargo's rebuild check).
            if std::fs::read(&path).is_ok_and(|old| old == bytes) {
                return Ok(());
            }
            std::fs::write(&path, bytes).map_err(|e| {
                rule(
                    "linux-kernel-file",
                    format!("cannot write `{}`: {e}", path.display()),
                    l.spans.table.clone(),
                    "this guest",
                )
            })
        };
        write(linux::kernel_file(&g.name), &kernel)?;
        if let Some(initrd) = &initrd {
            write(linux::initrd_file(&g.name), initrd)?;
        }
    }
    Ok(())
}
