//! QEMU scenarios of memory virtualization: each system under
//! `partitions/tests/` is built with `cargo mvm build` and booted with
//! `cargo mvm run --for …`, and the guests' reports are checked.
//!
//! The scenarios share build directories, so they run one at a time.

mod common;
use common::run;

#[test]
fn direct_mapped_guests_start_with_their_mmu_on_and_see_only_their_own_regions() {
    let r = run("partitions/tests/directmap.toml", "1s");
    r.assert_healthy();
    assert!(
        r.has("mvm: direct map: 6 translation tables written in"),
        "{r:?}"
    );
    for guest in ["directmap", "directmap-srt"] {
        for check in [
            "mmu on ok",
            "caches on ok",
            "ram identity ok",
            "stack identity ok",
            "ram supersection ok",
            "non-secure translation ok",
            "devices identity ok",
            "device neighbour -> fault ok",
            "outside -> fault",
            "done failures=0",
        ] {
            let line = format!("[{guest}] directmap: {check}");
            assert!(r.has(&line), "missing `{line}`: {r:?}");
        }
    }
    assert!(!r.has("FAILED") && !r.has("MAPPED"), "{r:?}");
}

#[test]
fn shadow_paged_guests_at_one_guest_physical_base_see_only_their_own_data() {
    let r = run("partitions/tests/shadow.toml", "2s");
    r.assert_healthy();
    assert!(r.has("shadow paging: 2 boot spaces"), "{r:?}");
    for guest in ["shadow-a", "shadow-b"] {
        for check in [
            "linked at the shared guest-physical base ok",
            "map own data page ok",
            "data page aliases its guest-physical page ok",
            "hostile other guest's physical memory -> -5 ok",
            "hostile own physical memory -> -5 ok",
            "hostile monitor reservation -> -5 ok",
            "hostile table area -> -5 ok",
            "hostile device not owned (uart1) -> -5 ok",
            "hostile console uart0 -> -5 ok",
            "hostile past the end of its RAM -> -5 ok",
            "hostile top page (wrapping) -> -5 ok",
            "hostile misaligned guest-physical -> -3 ok",
            "hostile unknown flag bits -> -3 ok",
            "hostile executable device -> -3 ok",
            "hostile occupied virtual page -> -7 ok",
            "hostile virtual page inside its boot section -> -7 ok",
            "hostile bad space id -> -3 ok",
            "hostile space not created -> -3 ok",
            "hostile switch to a bad space -> -3 ok",
            "hostile destroy the current space -> -3 ok",
            "hostile unmap an unmapped page -> -8 ok",
            "timed maps accepted ok",
            "second space created ok",
            "destroy it ok",
            "hostile pool exhausted -> -6 ok",
            "pool exhausted after 3 more page tables; still running",
            "own data after many switches ok",
            "done failures=0",
        ] {
            let line = format!("[{guest}] shadow: {check}");
            assert!(r.has(&line), "missing `{line}`: {r:?}");
        }
        let figure = format!("[{guest}] mvm-shadow guest={guest} map_instructions=");
        assert!(r.has(&figure), "missing `{figure}`: {r:?}");
    }
    assert!(r.has("mvm: all guests halted"), "{r:?}");
    assert!(!r.has("FAILED") && !r.has("FAULT"), "{r:?}");
}

/// Forty shadow-paged SRT guests with the default pools (2.5 MiB of
/// tables): the build reserves 3 MiB of the QEMU board's 15 MiB table
/// area, says so, and the system runs, every guest keeping its deadlines.
#[test]
fn forty_guests_with_default_pools_get_the_table_area_they_need() {
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_mvm"))
        .args(["check", "partitions/tests/forty-guests.toml"])
        .current_dir(common::root())
        .output()
        .expect("mvm runs");
    let summary = String::from_utf8_lossy(&check.stdout);
    assert!(
        summary.contains(
            "translation tables: 2560KiB of tables in 3MiB reserved at 0x60D0_0000 (the board allows 15MiB)"
        ),
        "{summary}"
    );
    let r = run("partitions/tests/forty-guests.toml", "1s");
    r.assert_healthy();
    assert!(r.has("shadow paging: 40 boot spaces"), "{r:?}");
    for i in 0..40 {
        let stats = r.line(&format!("mvm-stats guest=g{i:02} "));
        assert!(
            stats.contains(" jobs=10 misses=0 "),
            "every guest ran each of its 10 jobs in time: {stats}"
        );
    }
}
