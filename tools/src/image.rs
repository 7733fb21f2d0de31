//! `cargo mvm build`: the guests and the monitor, as one bootable image.
//!
//! - Each guest crate under `partitions/` is built for `armv7a-none-eabi`
//!   and linked at its first region (a generated `memory.x`, never a
//!   hand-copied address); an `image` that is a path is taken as an ELF.
//! - The monitor (the root package) is then built with the guests' ELF files
//!   at hand: its `build.rs` checks them against their regions and embeds
//!   them in the generated tables.
//! - Output: `target/mvm/<system>/mvm.elf` (for QEMU and debuggers) and
//!   `mvm.bin` (the raw image for a boot loader), guests' ELF files beside.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use mvm_config::model::{Region, System};
use object::{Object, ObjectSection, ObjectSymbol};

use crate::check::{load, Loaded};

/// The target every image is built for.
pub const TARGET: &str = "armv7a-none-eabi";

/// What `build` produced.
pub struct Built {
    pub system: System,
    pub dir: PathBuf,
    pub elf: PathBuf,
}

pub fn run(system: Option<PathBuf>) -> ExitCode {
    match build(system) {
        Ok(_) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(1)
}

/// The image `build` made of a description, as it is on disk (not
/// rebuilt); on failure the error is printed.
pub fn prebuilt(system: Option<PathBuf>) -> Result<Built, ExitCode> {
    let Loaded { system, .. } = load(system)?;
    let root = crate::workspace::root()
        .ok_or_else(|| fail("not inside the MVM workspace (no `partitions/` found)"))?;
    let dir = root.join("target/mvm").join(&system.name);
    let elf = dir.join("mvm.elf");
    if !elf.is_file() {
        return Err(fail(format!(
            "`{}` is not there: build the image first (`cargo mvm build`)",
            elf.display()
        )));
    }
    Ok(Built { system, dir, elf })
}

/// Builds the image of a description; on failure the error is printed.
/// A rejected description leaves the evidence of its rejection in place of
/// the image ([`write_rejection`]).
pub fn build(system: Option<PathBuf>) -> Result<Built, ExitCode> {
    let root = crate::workspace::root()
        .ok_or_else(|| fail("not inside the MVM workspace (no `partitions/` found)"))?;
    let Loaded { path, system, .. } = match crate::check::load_or_refuse(system) {
        Ok(loaded) => loaded,
        Err((code, refused)) => {
            if let Some(refused) = refused {
                write_rejection(&root, &refused).map_err(fail)?;
            }
            return Err(code);
        }
    };
    ensure_target()?;
    let dir = root.join("target/mvm").join(&system.name);
    let guests_dir = dir.join("guests");
    std::fs::create_dir_all(&guests_dir)
        .map_err(|e| fail(format!("cannot create `{}`: {e}", guests_dir.display())))?;
    let description_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut guest_toolchains = std::collections::BTreeMap::new();
    for (i, g) in system.guests.iter().enumerate() {
        if g.linux.is_some() {
            continue;
        }
        let elf = guests_dir.join(format!("{}.elf", g.name));
        let crate_dir = root.join("partitions").join(&g.image);
        if crate_dir.join("Cargo.toml").is_file() {
            let own = crate::toolchain::of_crate(&crate_dir)
                .map_err(|e| fail(format!("guest `{}`: {e}", g.name)))?;
            build_guest_crate(&root, &system, i, own.as_ref(), &guests_dir, &elf)?;
            if let Some(t) = &own {
                let version = crate::toolchain::rustc_version(t)
                    .map_err(|e| fail(format!("guest `{}`: {e}", g.name)))?;
                guest_toolchains.insert(g.name.clone(), version);
            }
        } else {
            let given = [description_dir.join(&g.image), root.join(&g.image)]
                .into_iter()
                .find(|p| p.is_file());
            let Some(given) = given else {
                return Err(fail(format!(
                    "guest `{}`: image `{}` is neither a guest crate under partitions/ nor an ELF file",
                    g.name, g.image
                )));
            };
            std::fs::copy(&given, &elf)
                .map_err(|e| fail(format!("cannot copy `{}`: {e}", given.display())))?;
        }
    }
    if system.guests.iter().any(|g| g.linux.is_some()) {
        let channel_program = if crate::linux::needs_channel_program(&system) {
            eprintln!("   Building the channel reader from partitions/linux-channel");
            let out = guests_dir.join(crate::linux::CHANNEL_PROGRAM_FILE);
            cargo_build(
                &root.join("partitions"),
                "linux-channel",
                crate::linux::CHANNEL_PROGRAM_FILE,
                &root.join("target/mvm-guests"),
                &[],
                &out,
            )
            .map_err(|e| fail(format!("the channel reader did not build: {e}")))?;
            Some(
                std::fs::read(&out)
                    .map_err(|e| fail(format!("cannot read `{}`: {e}", out.display())))?,
            )
        } else {
            None
        };
        eprintln!("   Preparing the Linux guests' kernels and initrds");
        if let Err(d) = crate::linux::prepare(
            &system,
            &root,
            &description_dir,
            &guests_dir,
            channel_program.as_deref(),
        ) {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let shown = path.display().to_string();
            let file = mvm_config::diag::SourceFile {
                path: &shown,
                text: &text,
            };
            let color = std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none();
            eprint!("{}", mvm_config::diag::render(file, &[*d], color));
            return Err(ExitCode::from(1));
        }
    }
    eprintln!("   Building the monitor for `{}`", system.name);
    let elf = dir.join("mvm.elf");
    let system_path = std::path::absolute(&path).unwrap_or(path.clone());
    cargo_build(
        &root,
        "mvm",
        "mvm-image",
        &root.join("target/mvm-build"),
        &[
            ("MVM_SYSTEM", system_path.as_os_str()),
            ("MVM_GUEST_IMAGES", guests_dir.as_os_str()),
        ],
        &elf,
    )
    .map_err(|e| fail(format!("the monitor did not build: {e}")))?;
    let bytes =
        std::fs::read(&elf).map_err(|e| fail(format!("cannot read `{}`: {e}", elf.display())))?;
    let reservation = system.board.monitor_reservation;
    let region = Region {
        name: "monitor".into(),
        base: reservation.base,
        size: reservation.size,
        span: 0..0,
    };
    let flat = mvm_config::image::flatten(&bytes, std::slice::from_ref(&region))
        .map_err(|e| fail(format!("the monitor image: {e}")))?;
    let bin = dir.join("mvm.bin");
    std::fs::write(&bin, &flat.bytes)
        .map_err(|e| fail(format!("cannot write `{}`: {e}", bin.display())))?;
    let built = Built { system, dir, elf };
    let manifest = write_manifest(&built, guest_toolchains).map_err(fail)?;
    if built.system.board.name != "qemu-vexpress-a9" {
        // A board boots from its own loader: say how to load the images
        // QEMU's loader devices would place.
        let loads = in_place_loads(&built).map_err(fail)?;
        if !loads.is_empty() {
            let path = built.dir.join("u-boot.txt");
            let files: Vec<(String, u64)> = loads
                .iter()
                .map(|(f, a)| (relative(&built.dir, f).display().to_string(), *a))
                .collect();
            std::fs::write(&path, u_boot_commands(flat.load, &files))
                .map_err(|e| fail(format!("cannot write `{}`: {e}", path.display())))?;
            eprintln!(
                "   Load it with U-Boot: {}",
                relative(&root, &path).display()
            );
        }
    }
    let Built { system, dir, elf } = built;
    eprintln!(
        "   Manifest: {} (inputs sha256 {})",
        relative(&root, &dir.join("manifest.json")).display(),
        manifest.inputs_sha256
    );
    let sizes = section_sizes(&bytes);
    eprintln!(
        "    Finished `{}` for {}: {} ({} raw, load {:#010x}, entry {:#010x}); monitor .text {} B, .data {} B, .bss {} B",
        system.name,
        system.board.name,
        relative(&root, &elf).display(),
        mvm_config::units::plural(flat.bytes.len() as u64, "byte", "bytes"),
        flat.load,
        flat.entry,
        sizes.0,
        sizes.1,
        sizes.2
    );
    Ok(Built { system, dir, elf })
}

/// The image folder's files a manifest lists: the monitor's two, and each
/// guest's program(s) (relative paths, sorted).
pub fn image_files(built: &Built) -> Vec<String> {
    let mut files = vec!["mvm.bin".to_string(), "mvm.elf".to_string()];
    for g in &built.system.guests {
        match &g.linux {
            None => files.push(format!("guests/{}.elf", g.name)),
            Some(l) => {
                files.push(format!(
                    "guests/{}",
                    mvm_config::linux::kernel_file(&g.name)
                ));
                if l.initrd.is_some() {
                    files.push(format!(
                        "guests/{}",
                        mvm_config::linux::initrd_file(&g.name)
                    ));
                }
            }
        }
    }
    files.sort();
    files
}

/// SHA-256 of each of [`image_files`], as found on disk.
pub fn file_hashes(built: &Built) -> Result<std::collections::BTreeMap<String, String>, String> {
    image_files(built)
        .into_iter()
        .map(|f| {
            let path = built.dir.join(&f);
            let bytes = std::fs::read(&path)
                .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
            Ok((f, mvm_config::manifest::hex(&mvm_config::sha256(&bytes))))
        })
        .collect()
}

/// A rejected description's `manifest.json` (a
/// [`mvm_config::manifest::Rejection`]: which rules it broke and each
/// core's analysis, with the first instant a rejected core fails), in
/// `target/mvm/<system>/`, whose image, if an earlier build left one, is
/// removed: it is not the image of this description. Nothing is written
/// for a description without a valid system name.
fn write_rejection(root: &Path, refused: &crate::check::Refused) -> Result<(), String> {
    use mvm_config::manifest::{analysis, generator, Rejection, FORMAT};
    let Some(name) = &refused.checked.name else {
        return Ok(());
    };
    let rejection = Rejection {
        accepted: false,
        format: FORMAT,
        generator: generator(),
        system: name.clone(),
        description_sha256: mvm_config::description_hash(&refused.text),
        errors: refused
            .checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.code().to_string())
            .collect(),
        analysis: analysis(&refused.checked.cores),
    };
    let dir = root.join("target/mvm").join(name);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    for stale in ["mvm.elf", "mvm.bin"] {
        match std::fs::remove_file(dir.join(stale)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(format!(
                    "cannot remove `{}`: {e}",
                    dir.join(stale).display()
                ))
            }
            _ => {}
        }
    }
    let out = dir.join("manifest.json");
    std::fs::write(&out, rejection.to_json())
        .map_err(|e| format!("cannot write `{}`: {e}", out.display()))?;
    eprintln!(
        "   Rejection recorded: {} (no image)",
        relative(root, &out).display()
    );
    Ok(())
}

/// Writes `manifest.json` beside the image: the inputs `build.rs`
/// recorded (whose hash the monitor prints at boot), each core's
/// analysis, and the files' hashes.
fn write_manifest(
    built: &Built,
    guest_toolchains: std::collections::BTreeMap<String, String>,
) -> Result<mvm_config::manifest::Manifest, String> {
    use mvm_config::manifest::{analysis, Inputs, Manifest, INPUTS_FILE};
    let path = built.dir.join("guests").join(INPUTS_FILE);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let inputs: Inputs = serde_json::from_str(&text)
        .map_err(|e| format!("`{}` is not a manifest of inputs: {e}", path.display()))?;
    let manifest = Manifest {
        accepted: true,
        inputs_sha256: inputs.sha256(),
        inputs,
        analysis: analysis(&built.system.cores),
        guest_toolchains,
        files: file_hashes(built)?,
    };
    let out = built.dir.join("manifest.json");
    std::fs::write(&out, manifest.to_json())
        .map_err(|e| format!("cannot write `{}`: {e}", out.display()))?;
    Ok(manifest)
}

/// U-Boot commands that load a system whose guests have images the
/// loader places (a Linux guest's kernel and initrd) and start the
/// monitor, from the first FAT partition of the SD card holding the
/// image folder's files (docs/boards/zc702.md).
pub fn u_boot_commands(monitor_load: u32, files: &[(String, u64)]) -> String {
    let mut out = String::from(
        "# U-Boot commands for this image (written by `cargo mvm build`):\n\
         # copy mvm.bin and the files below to the SD card's first (FAT)\n\
         # partition, keeping their folders. The monitor checks every\n\
         # loaded file's SHA-256 before its guest's first instruction;\n\
         # a Linux guest's files are loaded twice, the second time as\n\
         # pristine copies in the monitor's reservation for its restarts\n\
         # (checked then).\n",
    );
    for (file, addr) in files {
        out.push_str(&format!("fatload mmc 0 {addr:#010x} {file}\n"));
    }
    out.push_str(&format!(
        "fatload mmc 0 {monitor_load:#010x} mvm.bin\ndcache off\nicache off\ngo {monitor_load:#010x}\n"
    ));
    out
}

fn relative<'a>(root: &Path, path: &'a Path) -> &'a Path {
    path.strip_prefix(root).unwrap_or(path)
}

/// Sizes of the monitor's own code, initialised data and zeroed data,
/// without the embedded guest images (`.rodata.mvm_guests`, if named so,
/// still counts as read-only data, not code).
pub fn section_sizes(elf: &[u8]) -> (u64, u64, u64) {
    let Ok(file) = object::File::parse(elf) else {
        return (0, 0, 0);
    };
    let size = |prefix: &str| -> u64 {
        file.sections()
            .filter(|s| s.name().is_ok_and(|n| n.starts_with(prefix)))
            .map(|s| s.size())
            .sum()
    };
    (size(".text"), size(".data"), size(".bss"))
}

/// The address of a symbol in an ELF, if it has one.
pub fn symbol_address(elf: &[u8], name: &str) -> Option<u64> {
    let file = object::File::parse(elf).ok()?;
    file.symbols()
        .find(|s| s.name() == Ok(name))
        .map(|s| s.address())
}

fn build_guest_crate(
    root: &Path,
    system: &System,
    index: usize,
    own: Option<&crate::toolchain::Toolchain>,
    guests_dir: &Path,
    elf: &Path,
) -> Result<(), ExitCode> {
    let g = &system.guests[index];
    let write = |path: PathBuf, text: String| {
        std::fs::write(&path, text)
            .map(|_| path.clone())
            .map_err(|e| fail(format!("cannot write `{}`: {e}", path.display())))
    };
    let memory_x = write(
        guests_dir.join(format!("{}.memory.x", g.name)),
        mvm_config::tables::guest_memory_x(system, index),
    )?;
    let devices = write(
        guests_dir.join(format!("{}.devices.rs", g.name)),
        mvm_config::tables::guest_devices_rs(system, index),
    )?;
    let channels = write(
        guests_dir.join(format!("{}.channels.rs", g.name)),
        mvm_config::tables::guest_channels_rs(system, index),
    )?;
    let env = [
        ("MVM_GUEST_MEMORY_X", memory_x.as_os_str()),
        // The guest's channel ends, for `mvm_guest::channel`.
        ("MVM_GUEST_CHANNELS", channels.as_os_str()),
        // The guest's devices as Rust constants, for guests that cannot
        // compile the board crates (crate::toolchain).
        ("MVM_GUEST_DEVICES", devices.as_os_str()),
        // The guest's board: a guest that drives devices picks its
        // drivers by `cfg(mvm_board)` (see partitions/demo-control).
        ("MVM_BOARD", std::ffi::OsStr::new(system.board.name)),
    ];
    let built = match own {
        None => {
            eprintln!("   Building guest `{}` from partitions/{}", g.name, g.image);
            cargo_build(
                &root.join("partitions"),
                &g.image,
                &g.image,
                &root.join("target/mvm-guests"),
                &env,
                elf,
            )
        }
        Some(t) => {
            crate::toolchain::ensure(t).map_err(|e| fail(format!("guest `{}`: {e}", g.name)))?;
            eprintln!(
                "   Building guest `{}` from partitions/{} with its own toolchain {}",
                g.name, g.image, t.channel
            );
            // A target folder per crate: its toolchain's artefacts are
            // not the guest workspace's.
            let target_dir = root.join("target/mvm-guests-own").join(&g.image);
            let mut command = crate::toolchain::cargo(t);
            command.current_dir(root.join("partitions").join(&g.image));
            run_cargo_build(
                command,
                &g.image,
                &g.image,
                &target_dir,
                &env,
                &["--locked"],
                elf,
            )
        }
    };
    built.map_err(|e| fail(format!("guest `{}` did not build: {e}", g.name)))
}

/// `cargo build --release --target armv7a-none-eabi -p <package>` in `dir`,
/// then copies the binary `bin` to `out`.
fn cargo_build(
    dir: &Path,
    package: &str,
    bin: &str,
    target_dir: &Path,
    env: &[(&str, &std::ffi::OsStr)],
    out: &Path,
) -> Result<(), String> {
    let mut command = Command::new(cargo());
    command.current_dir(dir);
    run_cargo_build(command, package, bin, target_dir, env, &[], out)
}

/// `command` (a cargo) with `build --release --target armv7a-none-eabi -p
/// <package>` and `extra`, then copies the binary `bin` to `out`.
fn run_cargo_build(
    mut command: Command,
    package: &str,
    bin: &str,
    target_dir: &Path,
    env: &[(&str, &std::ffi::OsStr)],
    extra: &[&str],
    out: &Path,
) -> Result<(), String> {
    let status = command
        .args([
            "build",
            "--release",
            "--quiet",
            "--target",
            TARGET,
            "--package",
            package,
        ])
        .args(extra)
        .args(remap_checkout(target_dir))
        .envs(env.iter().copied())
        .env("CARGO_TARGET_DIR", target_dir)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build of `{package}` failed"));
    }
    let built = target_dir.join(TARGET).join("release").join(bin);
    std::fs::copy(&built, out)
        .map(|_| ())
        .map_err(|e| format!("cannot copy `{}`: {e}", built.display()))
}

/// `--config` arguments that make the build not depend on the folder the
/// repository is checked out in (docs/architecture.md, "The manifest"):
/// the checkout's path is written `.` in debug information and panic
/// locations. Given with `--config`, the flag joins the target's
/// `rustflags` of the `.cargo/config.toml` files instead of replacing them
/// as `RUSTFLAGS` would. Symbol names are the other half: see
/// `partitions/deps/`.
fn remap_checkout(target_dir: &Path) -> Vec<String> {
    // Every target folder is `<checkout>/target/...`.
    let Some(checkout) = target_dir
        .ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "target"))
        .and_then(Path::parent)
    else {
        return Vec::new();
    };
    let flag = format!("--remap-path-prefix={}=.", checkout.display());
    let value = toml::Value::Array(vec![toml::Value::String(flag)]);
    vec![
        "--config".into(),
        format!("target.{TARGET}.rustflags={value}"),
    ]
}

/// The Rust target must be installed; rustup installs what
/// `rust-toolchain.toml` lists, but an older rustup may not.
pub fn ensure_target() -> Result<(), ExitCode> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    match installed {
        Ok(out)
            if String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|l| l.trim() == TARGET) =>
        {
            Ok(())
        }
        Ok(_) => {
            eprintln!("   Installing the Rust target {TARGET} (rustup target add {TARGET})");
            let ok = Command::new("rustup")
                .args(["target", "add", TARGET])
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                Ok(())
            } else {
                Err(fail(format!(
                    "the Rust target {TARGET} is missing; run `rustup target add {TARGET}`"
                )))
            }
        }
        // No rustup: let cargo say what is missing.
        Err(_) => Ok(()),
    }
}

/// The files the board's loader writes into guests' memory before reset,
/// and where: each Linux guest's kernel and initrd (placed by
/// `mvm_config::linux::guest_layout`, as the image build placed them),
/// then their pristine copies (`mvm_config::linux::pristine_layout`).
pub fn in_place_loads(built: &Built) -> Result<Vec<(PathBuf, u64)>, String> {
    use mvm_config::linux;
    let guests = built.dir.join("guests");
    let pristine = linux::pristine_layout(&built.system, &guests)?;
    let mut loads = Vec::new();
    for (g, copies) in built.system.guests.iter().zip(pristine) {
        let Some(l) = &g.linux else { continue };
        let kernel_path = guests.join(linux::kernel_file(&g.name));
        let kernel = std::fs::read(&kernel_path)
            .map_err(|e| format!("cannot read `{}`: {e}", kernel_path.display()))?;
        let initrd_path = guests.join(linux::initrd_file(&g.name));
        let initrd = match l.initrd {
            Some(_) => Some(
                std::fs::read(&initrd_path)
                    .map_err(|e| format!("cannot read `{}`: {e}", initrd_path.display()))?,
            ),
            None => None,
        };
        let layout = linux::guest_layout(g, l, &kernel, initrd.as_deref())
            .map_err(|d| format!("guest `{}`: {}", g.name, d.message()))?;
        loads.push((kernel_path.clone(), layout.kernel));
        if let Some((start, _)) = layout.initrd {
            loads.push((initrd_path.clone(), start));
        }
        // Their pristine copies, outside every guest's memory, which a
        // restart checks and copies in (docs/health.md).
        loads.push((kernel_path, copies[0]));
        if layout.initrd.is_some() {
            loads.push((initrd_path, copies[1]));
        }
    }
    Ok(loads)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u_boot_loads_the_guests_files_then_starts_the_monitor() {
        let text = u_boot_commands(
            0x0010_0000,
            &[
                ("guests/linux.zImage".into(), 0x1A00_0000),
                ("guests/linux.initrd".into(), 0x1A70_0000),
            ],
        );
        let commands: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            commands,
            [
                "fatload mmc 0 0x1a000000 guests/linux.zImage",
                "fatload mmc 0 0x1a700000 guests/linux.initrd",
                "fatload mmc 0 0x00100000 mvm.bin",
                "dcache off",
                "icache off",
                "go 0x00100000",
            ]
        );
    }
}
