//! The ZC702 image: `cargo mvm build` of `partitions/examples/zc702.toml`
//! produces `mvm.elf` and `mvm.bin` laid out as the board needs them.
//!
//! CI cannot boot it (QEMU's Zynq has neither TrustZone nor a second core;
//! docs/boards/zc702.md), so this checks what a boot loader relies on:
//! every loadable segment in the monitor's reservation (or a guest's
//! region), the entry the monitor's `_start` at the board's `monitor_load`,
//! and `mvm.bin` starting with `_start`'s first instruction.
//!
//! It builds into the same directories as the QEMU scenarios
//! (`target/mvm-guests`, `target/mvm-build`); `cargo test` runs test
//! binaries one after another, so they never race.

use std::process::Command;

use mvm_config::image::{areas, check_layout, Owner};
use object::Object;

mod common;
use common::root;

const SYSTEM: &str = "partitions/examples/zc702.toml";

/// `cpsid aif`, the first instruction of `_start` (kernel/src/arch).
const CPSID_AIF: u32 = 0xF10C_01C0;

#[test]
fn the_zc702_image_builds_and_is_laid_out_for_the_board() {
    let out = Command::new(env!("CARGO_BIN_EXE_mvm"))
        .args(["build", "--system", SYSTEM])
        .current_dir(root())
        .output()
        .expect("mvm runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "mvm build failed:\n{stderr}");
    assert!(
        stderr.contains("Finished `zc702-demo` for zc702"),
        "{stderr}"
    );

    let text = std::fs::read_to_string(root().join(SYSTEM)).expect("the example exists");
    let system = mvm_config::check(&text)
        .system
        .expect("the example system is valid");
    assert_eq!(system.board.name, "zc702");
    let dir = root().join("target/mvm/zc702-demo");
    let elf = std::fs::read(dir.join("mvm.elf")).expect("mvm build wrote mvm.elf");
    let bin = std::fs::read(dir.join("mvm.bin")).expect("mvm build wrote mvm.bin");

    let areas = areas(&system);
    let segments = check_layout(&elf, &areas).unwrap_or_else(|e| panic!("layout: {e}"));
    assert!(!segments.is_empty());
    for &((base, size), owner) in &segments {
        assert_eq!(
            owner,
            Owner::Monitor,
            "the monitor embeds the guests: every segment is in its reservation, \
             [{base:#010x}..{:#010x}) is not",
            base + size
        );
    }
    let load = system.board.monitor_load;
    assert_eq!(load, 0x0010_0000, "the catalogue's monitor_load");
    let lowest = segments.iter().map(|&((base, _), _)| base).min();
    assert_eq!(lowest, Some(load), "the image starts at monitor_load");
    let reservation = system.board.monitor_reservation;
    let highest = segments
        .iter()
        .map(|&((base, size), _)| base + size)
        .max()
        .expect("segments");
    assert!(highest <= reservation.end());

    let file = object::File::parse(elf.as_slice()).expect("mvm.elf is an ELF file");
    assert_eq!(file.entry(), load, "the entry is `_start`, at monitor_load");

    assert!(bin.len() >= 4, "mvm.bin holds the image");
    assert_eq!(
        u32::from_le_bytes(bin[..4].try_into().expect("4 bytes")),
        CPSID_AIF,
        "mvm.bin starts with `_start` (load it at {load:#010x})"
    );
    assert!(
        load + bin.len() as u64 <= reservation.end(),
        "mvm.bin fits the reservation"
    );

    println!(
        "zc702-demo image: mvm.elf {} bytes, mvm.bin {} bytes (load and entry {load:#010x}, reservation [{:#010x}..{:#010x}))",
        elf.len(),
        bin.len(),
        reservation.base,
        reservation.end()
    );
    for ((base, size), _) in segments {
        println!(
            "  segment [{base:#010x}..{:#010x}) {size} bytes",
            base + size
        );
    }
}

/// A Linux guest on the ZC702 (`partitions/tests/zc702-linux.toml`): the
/// image builds, its device tree from the ZC702 catalogue's fragments,
/// and `u-boot.txt` loads the kernel and initrd where the monitor checks
/// them, their pristine copies (for restarts), then the monitor.
#[test]
fn a_zc702_linux_system_builds_with_its_u_boot_commands() {
    let out = Command::new(env!("CARGO_BIN_EXE_mvm"))
        .args(["build", "--system", "partitions/tests/zc702-linux.toml"])
        .current_dir(root())
        .output()
        .expect("mvm runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "mvm build failed:\n{stderr}");
    let dir = root().join("target/mvm/zc702-linux");
    let text = std::fs::read_to_string(dir.join("u-boot.txt")).expect("u-boot.txt");
    let loads: Vec<(u64, &str)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("fatload mmc 0 "))
        .filter_map(|l| {
            let (addr, file) = l.split_once(' ')?;
            Some((
                u64::from_str_radix(addr.trim_start_matches("0x"), 16).ok()?,
                file,
            ))
        })
        .collect();
    let files: Vec<&str> = loads.iter().map(|(_, f)| *f).collect();
    assert_eq!(
        files,
        [
            "guests/linux.zImage",
            "guests/linux.initrd",
            "guests/linux.zImage",
            "guests/linux.initrd",
            "mvm.bin"
        ],
        "{text}"
    );
    // Each guest file lies in the guest's 128 MiB at 0x1800_0000, and is
    // the file the build checked (the monitor compares its SHA-256).
    for (addr, file) in &loads[..2] {
        let len = std::fs::metadata(dir.join(file)).unwrap().len();
        assert!(
            *addr >= 0x1800_0000 && addr + len <= 0x2000_0000,
            "{file} at {addr:#x}"
        );
    }
    // Their pristine copies, for restarts, in the monitor's Secure
    // reservation past the monitor's 2 MiB, apart from each other.
    let mut next = 0x0030_0000;
    for (addr, file) in &loads[2..4] {
        let len = std::fs::metadata(dir.join(file)).unwrap().len();
        assert!(
            *addr >= next && addr + len <= 0x0100_0000,
            "{file}'s pristine copy at {addr:#x}"
        );
        next = addr + len;
    }
    assert_eq!(loads[4].0, 0x0010_0000, "the monitor at its load address");
    assert!(text.ends_with("go 0x00100000\n"), "{text}");
}

/// R3-OS on the ZC702 (`partitions/tests/zc702-r3.toml`): `r3-control`
/// builds with its own toolchain for the board, its kernel tick on TTC1
/// (mvm-r3's TTC driver) and its output on UART0, into an image beside a
/// Rust SRT guest.
#[test]
fn a_zc702_system_with_an_r3_guest_builds() {
    let out = Command::new(env!("CARGO_BIN_EXE_mvm"))
        .args(["build", "--system", "partitions/tests/zc702-r3.toml"])
        .current_dir(root())
        .output()
        .expect("mvm runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "mvm build failed:\n{stderr}");
    assert!(
        stderr.contains("Building guest `r3` from partitions/r3-control with its own toolchain"),
        "{stderr}"
    );
    let guests = root().join("target/mvm/zc702-r3/guests");
    let devices = std::fs::read_to_string(guests.join("r3.devices.rs")).expect("r3's devices");
    assert!(
        devices.contains("pub mod ttc1") && devices.contains("pub mod uart0"),
        "R3's tick timer and UART on the ZC702:\n{devices}"
    );
    let elf = std::fs::read(guests.join("r3.elf")).expect("the R3 guest's ELF");
    assert_eq!(&elf[..4], b"\x7fELF", "an ELF");
    assert!(root().join("target/mvm/zc702-r3/mvm.bin").is_file());
}
