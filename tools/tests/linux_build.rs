//! The rules `cargo mvm build` checks for a Linux guest once its files are
//! at hand (docs/system-toml.md, "Linux guests"): each mistake is reported
//! against the description, at the key that named the file, and no image
//! is made.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A zImage header (magic, endianness) with a size table saying the
/// decompressed kernel takes `inflated` bytes, in a file of `size` bytes.
fn zimage(inflated: u32, size: usize) -> Vec<u8> {
    let mut b = vec![0u8; size.max(0x2000)];
    let mut put = |at: usize, w: u32| b[at..at + 4].copy_from_slice(&w.to_le_bytes());
    put(0x24, 0x016F_2818);
    put(0x2C, size.max(0x2000) as u32);
    put(0x30, 0x0403_0201);
    put(0x34, 0x4545_4545);
    put(0x38, 0x1000);
    for (i, w) in [6, 0x5A53_4C4B, 0x1800, 0x4_0000, 0x20_8000, 0x1_0000]
        .into_iter()
        .enumerate()
    {
        put(0x1000 + 4 * i, w);
    }
    put(0x1800, inflated);
    b
}

/// Writes a description with one Linux guest (and `files`) into a folder
/// of its own and builds it; returns the exit code and stderr.
fn build(
    case: &str,
    memory: &str,
    linux: &str,
    files: &[(&str, Vec<u8>)],
) -> (Option<i32>, String) {
    let dir = root().join("target/mvm-tests/linux-build").join(case);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let description = format!(
        "[system]\nname = \"linux-build-{case}\"\nboard = \"qemu-vexpress-a9\"\n\
         [[guest]]\nname = \"l\"\nlevel = \"srt\"\ncore = 1\nperiod = \"10ms\"\nbudget = \"5ms\"\n\
         memory = [ {{ name = \"ram\", base = 0x6800_0000, size = \"{memory}\" }} ]\n\
         devices = [\"uart2\"]\n[guest.linux]\n{linux}\n"
    );
    let path = dir.join("system.toml");
    std::fs::write(&path, description).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mvm"))
        .args(["build", "--system"])
        .arg(&path)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_missing_kernel_is_named_at_its_key() {
    let (code, err) = build("missing", "128MiB", "kernel = \"no-such-zImage\"", &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("error[linux-kernel-file]: the kernel of Linux guest `l`, `no-such-zImage`, is not a file (looked in the description's folder and the workspace)"),
        "{err}"
    );
    assert!(
        err.contains("system.toml:13:10"),
        "points at `kernel`: {err}"
    );
}

#[test]
fn a_kernel_that_is_not_a_zimage_is_refused() {
    let (code, err) = build(
        "elf",
        "128MiB",
        "kernel = \"vmlinux\"",
        &[("vmlinux", b"\x7fELF\x01\x01\x01".repeat(32))],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("error[linux-not-zimage]: the kernel of Linux guest `l` is not an Arm zImage (no 0x016F2818 magic at offset 0x24)"),
        "{err}"
    );
}

#[test]
fn an_initrd_of_no_known_format_is_refused() {
    let (code, err) = build(
        "initrd",
        "128MiB",
        "kernel = \"zImage\"\ninitrd = \"initrd.img\"",
        &[
            ("zImage", zimage(8 << 20, 0x4000)),
            ("initrd.img", b"not an archive".to_vec()),
        ],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("error[linux-initrd-format]: the initrd of Linux guest `l` is not an initramfs: neither a cpio archive nor gzip, xz, zstd, lz4, bzip2, lzma or lzo"),
        "{err}"
    );
    assert!(
        err.contains("system.toml:14:10"),
        "points at `initrd`: {err}"
    );
}

#[test]
fn memory_too_small_for_this_kernel_and_initrd_is_refused_with_the_sizes() {
    // A kernel that decompresses to 60 MiB cannot boot in 64 MiB.
    let (code, err) = build(
        "small",
        "64MiB",
        "kernel = \"zImage\"\ninitrd = \"initrd.cpio\"",
        &[
            ("zImage", zimage(60 << 20, 0x4000)),
            ("initrd.cpio", b"070701".repeat(100)),
        ],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("error[linux-memory-too-small]: Linux guest `l`'s first region `ram` (64MiB) cannot hold its boot images"),
        "{err}"
    );
    assert!(
        err.contains("Linux needs 16MiB beyond them to run"),
        "{err}"
    );
}

#[test]
fn a_debian_version_that_is_not_in_the_archive_is_refused() {
    let (code, err) = build(
        "version",
        "128MiB",
        "kernel = { debian = \"linux-image-6.1.0-50-armmp\", version = \"0.0-mvm-test\" }",
        &[],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("error[linux-package]: "), "{err}");
    assert!(err.contains("0.0-mvm-test"), "names the version: {err}");
}
