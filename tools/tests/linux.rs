//! QEMU scenarios: Debian's own Linux as an SRT guest
//! (`partitions/examples/linux.toml`), beside the HRT `control` guest and
//! a Rust SRT guest on Linux's core (docs/guests/linux.md).
//!
//! - Linux reaches userspace (its initramfs prints `userspace up`), and its
//!   shell answers what is typed on the terminal `cargo mvm run` runs in;
//! - `control` keeps every tick, one every 100 ms, none missing, during
//!   and after Linux's boot; no server misses a deadline; the run exits 0;
//! - a kernel or initrd that is not the one the image was built with is
//!   refused before Linux's first instruction, and the others run on.
//!
//! The Debian packages are fetched once into `target/mvm/debian/` and
//! shared by every run (and by `linux_bench.rs`).

mod common;
use common::Run;

use std::process::{Command, Stdio};

const SYSTEM: &str = "partitions/examples/linux.toml";

/// The Rust control guest's ticks.
fn ticks(r: &Run) -> Vec<(u64, u64)> {
    common::ticks(r, "[control] control: ")
}

#[test]
fn linux_boots_to_its_shell_beside_the_controller_which_keeps_every_tick() {
    let r = common::run_typing(SYSTEM, "10s", Some("echo mvm-$((6*7))\n"));
    r.assert_healthy();
    let up = r
        .stdout
        .lines()
        .position(|l| l.starts_with("[linux] ") && l.contains("userspace up"))
        .unwrap_or_else(|| panic!("Linux reached userspace: {r:?}"));
    assert!(
        r.has("[linux] mvm-42"),
        "the shell ran what was typed into Linux's console: {r:?}"
    );
    assert!(
        r.has("mvm: guest `linux`: ") && r.has(" loaded in place, SHA-256 checked in "),
        "the kernel and initrd were checked before Linux's first instruction: {r:?}"
    );
    // Every tick, 100 ms apart, none missing, from the first to the end of
    // the run: during Linux's boot and after it.
    let ticks = ticks(&r);
    assert!(ticks.len() >= 90, "{} ticks in 10 s: {r:?}", ticks.len());
    for (i, w) in ticks.windows(2).enumerate() {
        let ((n0, t0), (n1, t1)) = (w[0], w[1]);
        assert_eq!(n1, n0 + 1, "tick {n0} then {n1}: one is missing: {r:?}");
        assert_eq!(
            t1 - t0,
            100,
            "ticks {n0} and {n1} at {t0} and {t1} ms (#{i})"
        );
    }
    let after = r
        .stdout
        .lines()
        .skip(up)
        .filter(|l| l.starts_with("[control] control: tick "))
        .count();
    assert!(
        after >= 10,
        "control ticks on after Linux's boot ({after} ticks): {r:?}"
    );
    // Every server on Linux's core kept its deadlines (assert_healthy
    // checked the total); Linux used its budget, as an idle Linux does.
    for guest in ["linux", "logger"] {
        let stats = r.line(&format!("mvm-stats guest={guest} "));
        assert!(stats.contains(" misses=0 "), "{stats}");
    }
    assert!(
        r.has("mvm-stats core=0 entries=3 "),
        "no monitor entry on the HRT core beyond control's own 3 hypercalls: {r:?}"
    );
    // The channel `samples` (docs/channels.md): Linux's /bin/mvm-channel
    // printed every sample control sent, in order, from the first (the
    // ring holds the 128 newest, more than control sends before Linux's
    // userspace is up), nothing lost, to within the last two ticks.
    // A sample line may follow the shell's prompt on the same console line
    // (the reader prints whenever it is woken), so it is found anywhere in
    // Linux's lines.
    let marker = "mvm-channel samples: sample seq=";
    let seqs: Vec<u64> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("[linux] "))
        .filter_map(|l| l.split(marker).nth(1))
        .map(|t| {
            t.split(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{t}"))
        })
        .collect();
    let last_tick = ticks.last().map_or(0, |t| t.0);
    assert!(
        !seqs.is_empty() && seqs.iter().copied().eq(1..=seqs.len() as u64),
        "every sample from 1 on, in order: {seqs:?}"
    );
    assert!(
        seqs.len() as u64 + 2 >= last_tick,
        "{} samples for {last_tick} ticks: {r:?}",
        seqs.len()
    );
    assert!(!r.has("[linux] mvm-channel samples: lost="), "{r:?}");
}

/// `reboot -f` in Linux's shell (PSCI SYSTEM_RESET) restarts Linux alone
/// from the pristine copies of its kernel and initrd, the restore running
/// in Linux's own budget: it reaches userspace again, and nobody misses a
/// deadline or a tick.
#[test]
fn reboot_restarts_linux_alone_in_its_own_budget_and_it_reaches_userspace_again() {
    let r = common::run_typing(SYSTEM, "20s", Some("reboot -f\n"));
    r.assert_healthy();
    let ups: Vec<usize> = r
        .stdout
        .lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("[linux] ") && l.contains("userspace up"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(ups.len(), 2, "Linux reached userspace twice: {r:?}");
    assert!(
        r.has("mvm: guest `linux` failed: asked for a reset (PSCI SYSTEM_RESET); restarting it (restart 1 of at most 3 within 10 s)"),
        "{r:?}"
    );
    let restarted = r.line("mvm: guest `linux` restarted: its first instruction ");
    eprintln!("{restarted}");
    assert!(
        restarted.contains(" ns after its failure; restored in ")
            && !restarted.contains("checked in 0 ns"),
        "the pristine copies were checked: {restarted}"
    );
    let ticks = ticks(&r);
    assert!(ticks.len() >= 190, "{} ticks in 20 s: {r:?}", ticks.len());
    for w in ticks.windows(2) {
        let ((n0, t0), (n1, t1)) = (w[0], w[1]);
        assert_eq!(n1, n0 + 1, "tick {n0} then {n1}: one is missing: {r:?}");
        assert_eq!(t1 - t0, 100, "ticks {n0} and {n1} at {t0} and {t1} ms");
    }
    for guest in ["linux", "logger"] {
        let stats = r.line(&format!("mvm-stats guest={guest} "));
        assert!(stats.contains(" misses=0 "), "{stats}");
    }
    let detail = r.line("mvm-detail guest=linux ");
    assert!(detail.contains(" restarts=1"), "{detail}");
    assert!(
        r.has("mvm-stats core=0 entries=3 "),
        "no monitor entry on the HRT core beyond control's own 3 hypercalls: {r:?}"
    );
}

/// On QEMU nothing keeps a guest that owns its MMU out of the pristine
/// copies (docs/threat-model.md): Linux writes a word of its kernel's copy
/// (`mvm_config::linux::pristine_area`: 2 MiB past the monitor) through
/// `/dev/mem`, then reboots. The restart's check
/// finds it, and Linux stops instead of running a tampered kernel; the
/// others run on.
#[test]
fn a_tampered_pristine_copy_stops_linux_at_its_restart_and_the_others_run_on() {
    // A word inside the kernel's pristine copy, where the build put it.
    let text = std::fs::read_to_string(common::root().join(SYSTEM)).unwrap();
    let system = mvm_config::check(&text)
        .system
        .expect("the example is valid");
    let copy = mvm_config::linux::pristine_area(&system).base;
    let word = copy + 0x100;
    let typed = format!("/bin/busybox devmem {word:#x} 32 0xdeadbeef; reboot -f\n");
    let r = common::run_typing(SYSTEM, "12s", Some(&typed));
    assert!(
        r.has("mvm: guest `linux` failed: asked for a reset (PSCI SYSTEM_RESET); restarting it"),
        "{r:?}"
    );
    assert!(
        r.has(&format!(
            "mvm: error: guest `linux`: the pristine copy of its kernel at [{copy:#010x}, +"
        )) && r.has("is not the one it was built with (SHA-256 differs); it cannot be restarted"),
        "the restart's check found the tampered copy: {r:?}"
    );
    assert!(r.has("mvm: guest `linux` halted"), "{r:?}");
    let ups = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("[linux] ") && l.contains("userspace up"))
        .count();
    assert_eq!(ups, 1, "Linux did not run again: {r:?}");
    let ticks = ticks(&r);
    assert!(ticks.len() >= 115, "{} ticks in 12 s: {r:?}", ticks.len());
    for w in ticks.windows(2) {
        let ((n0, t0), (n1, t1)) = (w[0], w[1]);
        assert_eq!((n1, t1 - t0), (n0 + 1, 100), "ticks {n0} and {n1}: {r:?}");
    }
    let logger = r.line("mvm-stats guest=logger ");
    assert!(logger.contains(" misses=0 "), "{logger}");
}

/// An initrd changed after the build: the monitor refuses Linux before its
/// first instruction and says why; the controller and the other SRT guest
/// run on, and miss nothing; the verdict names the refusal and the run
/// exits 7.
#[test]
fn a_linux_image_that_is_not_the_built_one_is_not_started() {
    let _guard = common::one_at_a_time();
    let root = common::root();
    let build = Command::new(env!("CARGO_BIN_EXE_mvm"))
        .args(["build", "--system", SYSTEM])
        .current_dir(&root)
        .output()
        .expect("mvm builds");
    assert!(build.status.success(), "{build:?}");
    let initrd = root.join("target/mvm/linux/guests/linux.initrd");
    let good = std::fs::read(&initrd).expect("the build wrote the initrd");
    let mut bad = good.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x5A;
    std::fs::write(&initrd, &bad).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mvm"))
        .args(["run", "--system", SYSTEM, "--for", "2s", "--no-build"])
        .current_dir(&root)
        .stdin(Stdio::null())
        .output()
        .expect("mvm runs");
    std::fs::write(&initrd, &good).unwrap();
    let r = Run::from_output(out);
    assert!(
        r.has("mvm: error: guest `linux`: its initrd at [")
            && r.has("is not the one it was built with (SHA-256 differs); it is not started"),
        "the refusal names the guest and the image: {r:?}"
    );
    assert!(!r.stdout.contains("[linux] "), "Linux never ran: {r:?}");
    // The run fails loudly, though nobody missed a deadline.
    assert_eq!(r.code, Some(7), "{r:?}");
    assert!(
        r.summary()
            .starts_with("mvm: 0 deadline misses, 0 overruns in 2 s; 1 guest not started"),
        "{r:?}"
    );
    assert!(ticks(&r).len() >= 15, "control ticks on: {r:?}");
    assert!(
        r.has("[logger] logger: entry 1 at "),
        "the logger runs on: {r:?}"
    );
    let stats = r.line("mvm-stats guest=linux ");
    assert!(
        stats.contains(" used_ns=0 ") && stats.ends_with(" entries=0"),
        "Linux's server never ran: {stats}"
    );
}
