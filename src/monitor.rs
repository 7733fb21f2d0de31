//! The monitor: the board's drivers under the kernel, on either board.
//!
//! - Board-independent: everything a board does differently (its console,
//!   its clock, its Secure set-up beyond the GIC and SCU, how secondary
//!   cores are started, how a run ends) is behind `crate::platform`, one
//!   small module per board (`board_qemu.rs`, `board_zc702.rs`); the MPCore
//!   drivers and bases come from the board crate it re-exports.
//! - Core 0 prints the banner, copies every guest image, configures the
//!   shared devices (GIC distributor, SCU) and only then lets core 1 in.
//! - A dedicated core enters its HRT guest in Non-secure SVC and the
//!   monitor stays off it: no timer, no interrupt; only the guest's own
//!   hypercalls enter the monitor there.
//! - A shared core runs EDF over its SRT guests (`mvm_kernel::edf`): the
//!   core's Secure private timer (Group 0, FIQ to Monitor mode, SCR.FW = 0
//!   so a guest cannot mask it) fires at every scheduling event and enforces
//!   budgets; a switch saves and loads the whole Non-secure context
//!   (`docs/world-switch.md`). With nothing to run the core waits in the
//!   monitor (WFI) for its next event.
//! - In a bounded run (`MVM_RUN_FOR_NS` != 0) one core's timer also ends
//!   the run: the first shared core's (programmed for the earlier of its
//!   next EDF event and the run's end), else a dedicated core's, where that
//!   one interrupt is the only monitor entry besides the guest's
//!   hypercalls. The run ends with one `mvm-stats` line per guest and per
//!   core.

use core::cell::UnsafeCell;
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use board::gic::{Gicc, Gicd, Group};
use board::global_timer::GlobalTimer;
use board::private_timer::PrivateTimer;
use board::scu::Scu;
use mvm_kernel::config::{Guest, Level};
use mvm_kernel::console::LineBuffer;
use mvm_kernel::context::{Cp15, GicCpu, GuestContext, TrapFrame};
use mvm_kernel::edf::{Edf, Params};
use mvm_kernel::fault::{FaultKind, MonitorFault};
use mvm_kernel::hypercall::{self, MmuOp, Services};
use mvm_kernel::plan::{self, CoreAction};
use mvm_kernel::shadow::{self, Owned, Shadow, TableMemory};
use mvm_kernel::stats::{self, CoreStats, GuestStats};
use mvm_kernel::sync::SpinLock;
use mvm_kernel::sysreg::{self, Scr};
use mvm_kernel::timing::{self, OneShot};
use mvm_kernel::{arch, GuestEntry, MAX_CORES};

use crate::platform::{self, board, Console};
use crate::{MVM_GUESTS, MVM_MAX_SERVERS_PER_CORE, MVM_SYSTEM};

/// How long a bounded run lasts, in nanoseconds since reset; 0 runs forever.
///
/// The `cargo mvm run --for` tool writes it before boot with QEMU's
/// `-device loader,addr=<address of this symbol>,data=<ns>,data-len=8`. It
/// lives in its own NOLOAD section (`.mvm_parameters`), outside `.bss`, so
/// neither the ELF loader nor the monitor's start-up overwrites it; QEMU's
/// RAM starts zeroed.
#[unsafe(no_mangle)]
#[unsafe(link_section = ".mvm_parameters")]
static mut MVM_RUN_FOR_NS: u64 = 0;

/// Exit status when the run ends with a fault in the monitor on some core.
const EXIT_MONITOR_FAULT: u32 = 1;
/// Exit status when the monitor panics (a bug) or cannot boot the tables.
const EXIT_MONITOR_PANIC: u32 = 101;

/// Priority of guests' interrupts: in the Non-secure half (0x80..0xFF), as
/// a Non-secure GIC driver expects; the monitor's FIQs are 0x00.
const GUEST_INTERRUPT_PRIORITY: u8 = 0xA0;
const NO_GUEST: u32 = u32::MAX;
/// Guests in the system.
const GUESTS: usize = MVM_GUESTS.len();
/// The most servers one core's EDF scheduler holds.
const CAPACITY: usize = MVM_MAX_SERVERS_PER_CORE;
/// The software-generated interrupt (Group 0) with which the core that ends
/// a run asks a shared core to publish its figures.
const SGI_SNAPSHOT: u32 = 1;
/// How long the core that ends a run waits for another core's figures
/// (10 ms: QEMU's round-robin of the emulated cores may not run the other
/// core for a whole timer period).
const SNAPSHOT_WAIT_NS: u64 = 10_000_000;

/// The monitor's console UART and one partial line per guest.
struct MonitorConsole {
    uart: Console,
    lines: [LineBuffer; GUESTS],
}

static CONSOLE: SpinLock<MonitorConsole> = SpinLock::new(MonitorConsole {
    // SAFETY: the board's console UART is the monitor's (the catalogue
    // keeps it from guests); the lock serialises its users.
    uart: unsafe { platform::console() },
    lines: [const { LineBuffer::new() }; GUESTS],
});
// SAFETY: the distributor's shared state is written by core 0 at boot, before
// the other cores start; later writes are single set/clear-enable bits.
static GICD: Gicd = unsafe { Gicd::new(board::GICD_BASE) };
// SAFETY: the CPU interface is banked; each core touches only its own.
static GICC: Gicc = unsafe { Gicc::new(board::GICC_BASE) };
// SAFETY: the global timer is only read after `mvm_early` started it.
static GLOBAL_TIMER: GlobalTimer = unsafe { GlobalTimer::new(board::GLOBAL_TIMER_BASE) };
// SAFETY: the private timer is banked per core and kept Secure by the SCU
// (SNSAC grants the Non-secure world no private timer; QEMU does not model
// SNSAC, see docs/world-switch.md); it is the monitor's.
static PRIVATE_TIMER: PrivateTimer = unsafe { PrivateTimer::new(board::PRIVATE_TIMER_BASE) };

/// Index into `MVM_SYSTEM.guests` of the guest each core runs now.
static CURRENT_GUEST: [AtomicU32; MAX_CORES] = [const { AtomicU32::new(NO_GUEST) }; MAX_CORES];
/// Whether core 0 loaded each core's guest images.
static LOADED: [AtomicBool; MAX_CORES] = [const { AtomicBool::new(false) }; MAX_CORES];
/// Global timer count just before each core's first exception return.
static ENTRY_TICKS: [AtomicU64; MAX_CORES] = [const { AtomicU64::new(0) }; MAX_CORES];
/// Guests entered (or about to be) and not halted.
static RUNNING: AtomicU32 = AtomicU32::new(0);
static MONITOR_FAULTS: AtomicU32 = AtomicU32::new(0);
/// Global timer count at which a bounded run ends; 0: unbounded.
static RUN_END_TICKS: AtomicU64 = AtomicU64::new(0);
/// The core whose private timer ends a bounded run.
static RUN_TIMER_CORE: AtomicU32 = AtomicU32::new(0);
/// Monitor entries per core caused only by the end of the run.
static RUN_END_ENTRIES: [AtomicU32; MAX_CORES] = [const { AtomicU32::new(0) }; MAX_CORES];
/// Global timer ticks core 0 spent writing translation tables at boot.
static TABLE_TICKS: AtomicU64 = AtomicU64::new(0);

/// A guest's monitor entries. Only the guest's own core writes them (plain
/// load and store, no read-modify-write loop); the core that ends a run
/// reads them.
#[repr(C)]
struct Counters {
    smc: AtomicU32,
    fiq: AtomicU32,
    switches_in: AtomicU32,
}

impl Counters {
    const fn new() -> Self {
        Self {
            smc: AtomicU32::new(0),
            fiq: AtomicU32::new(0),
            switches_in: AtomicU32::new(0),
        }
    }
}

fn bump(counter: &AtomicU32) {
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Relaxed,
    );
}

static COUNTERS: [Counters; GUESTS] = [const { Counters::new() }; GUESTS];
/// TTBR0 of each shadow-paged guest's boot space (0: none, MMU off) and
/// its ASID; written by core 0 before the other cores are released.
static BOOT_SPACES: [AtomicU32; GUESTS] = [const { AtomicU32::new(0) }; GUESTS];
static BOOT_ASIDS: [AtomicU32; GUESTS] = [const { AtomicU32::new(0) }; GUESTS];
/// The ASID each guest's entries carry when the monitor keeps its tables
/// (a direct map, or a shadow-paging boot space): the current space's for a
/// shadow-paged guest. 0: the guest keeps no entries the monitor tagged
/// (MMU off), so switching to or from it invalidates the whole TLB.
static ASIDS: [AtomicU32; GUESTS] = [const { AtomicU32::new(0) }; GUESTS];
/// Whether a switch between two guests with ASIDs skips TLBIALL (the
/// default); `false` only to measure the alternative (docs/memory.md).
const SWITCH_KEEPS_TLB: bool = false;
/// Shadow-paged guests whose boot space was built.
static SHADOW_TABLES: AtomicU32 = AtomicU32::new(0);

/// Data only one core touches, from Monitor mode with interrupts masked
/// (so never re-entered).
struct PerCore<T>(UnsafeCell<T>);
// SAFETY: each element is used by exactly one core (see `mine`).
unsafe impl<T> Sync for PerCore<T> {}

/// A guest's saved context: written and read only by the guest's core.
struct ContextCell(UnsafeCell<GuestContext>);
// SAFETY: a guest runs on one core only, and only that core's monitor
// touches its context.
unsafe impl Sync for ContextCell {}

static CONTEXTS: [ContextCell; GUESTS] =
    [const { ContextCell(UnsafeCell::new(GuestContext::ZERO)) }; GUESTS];

/// The saved context of guest `id`.
///
/// # Safety
/// Called on the guest's own core, in the monitor, with no other reference
/// to the same context alive.
unsafe fn context(id: u32) -> &'static mut GuestContext {
    // SAFETY: the caller upholds exclusivity.
    unsafe { &mut *CONTEXTS[id as usize].0.get() }
}

/// A shadow-paged guest's pool bookkeeping and current address space:
/// written by core 0 at boot (before any guest runs), then only by the
/// guest's own core, in the monitor.
struct ShadowCell(UnsafeCell<(Shadow, u32)>);
// SAFETY: as for `ContextCell`; core 0's boot writes happen before the
// release of the other cores (which orders them).
unsafe impl Sync for ShadowCell {}

static SHADOWS: [ShadowCell; GUESTS] =
    [const { ShadowCell(UnsafeCell::new((Shadow::new(), 0))) }; GUESTS];

/// The table area, addressed physically (the monitor's MMU is off).
struct PhysicalTables;

impl TableMemory for PhysicalTables {
    fn read(&self, address: u32) -> u32 {
        // SAFETY: `shadow` computes addresses in the calling guest's pool
        // only (the generator placed it in the table area, outside every
        // guest region and the monitor image); physical, word aligned.
        unsafe { (address as usize as *const u32).read_volatile() }
    }
    fn write(&mut self, address: u32, word: u32) {
        // SAFETY: as for `read`.
        unsafe { (address as usize as *mut u32).write_volatile(word) }
    }
}

/// The MPCore private page (GIC CPU interface, global timer): mapped for
/// a shadow-paged guest as for a direct-mapped one (docs/memory.md).
const CPU_PAGE: u32 = (board::GICC_BASE & !0xFFF) as u32;

/// What `guest` owns, for shadow paging.
fn owned(guest: &Guest) -> Owned<'_> {
    Owned {
        ram: guest.regions,
        devices: guest.devices,
        cpu_page: Some(CPU_PAGE),
    }
}

/// Creates a shadow-paged guest's space 0 at boot: every page of its
/// regions at its guest-physical address (writable, executable), its
/// devices and the MPCore page identity-mapped (Device). The guest starts
/// in it with its MMU on. `None` for a guest without a pool, or whose pool
/// cannot hold it (the guest then starts with its MMU off).
fn boot_space(guest: &Guest) -> Option<shadow::Switch> {
    let pool = guest.shadow.filter(|p| p.spaces > 0)?;
    let owned = owned(guest);
    // SAFETY: core 0 at boot, before any guest runs: no other reference.
    let (st, current) = unsafe { &mut *SHADOWS[guest.id as usize].0.get() };
    let mem = &mut PhysicalTables;
    let space = st.create(&pool, mem).ok()?;
    *current = space;
    let rwx = shadow::WRITABLE | shadow::EXECUTABLE;
    let mut ok = true;
    for r in owned.ram {
        let mut offset = 0;
        while offset < r.size {
            let gpa = r.guest_base + offset;
            // Whole aligned MiBs as sections: fast to write, no L2 table.
            if st.map_section(&pool, &owned, mem, space, gpa, gpa).is_ok() {
                offset += 1 << 20;
            } else {
                ok &= st.map(&pool, &owned, mem, space, gpa, gpa, rwx).is_ok();
                offset += 0x1000;
            }
        }
    }
    for (base, size) in owned.windows() {
        let end = base.saturating_add(size.max(1) - 1);
        for page in (base & !0xFFF..=end & !0xFFF).step_by(0x1000) {
            ok &= st
                .map(&pool, &owned, mem, space, page, page, shadow::WRITABLE)
                .is_ok();
        }
    }
    if !ok {
        let _ = st.destroy(&pool, mem, space);
        CONSOLE.with(|c| {
            let _ = writeln!(
                c.uart,
                "mvm: error: guest `{}`: its pool cannot map its own memory; it starts with its MMU off",
                guest.name
            );
        });
        return None;
    }
    st.switch(&pool, space).ok()
}

/// A shared core's scheduler and switch state.
struct EdfCore {
    edf: Edf<CAPACITY>,
    /// Server index to guest id.
    guests: &'static [u32],
    /// The server whose state is in the processor now (`None` before the
    /// first guest and after a halt).
    current: Option<usize>,
    /// The guest whose VFP registers are in the VFP unit (lazy switch).
    vfp_owner: Option<u32>,
    /// NSACR as last written.
    nsacr: u32,
    idle_ticks: u64,
    /// When the current wait for the next event began (0: not waiting).
    idle_since: u64,
    switches: u64,
}

static EDF_CORES: [PerCore<Option<EdfCore>>; MAX_CORES] =
    [const { PerCore(UnsafeCell::new(None)) }; MAX_CORES];

/// This core's EDF state, if it is a shared core.
///
/// # Safety
/// `core` is the calling core, and no other reference from
/// `edf_core(core)` is alive (the monitor runs with interrupts masked and
/// never re-enters itself).
unsafe fn edf_core(core: u32) -> Option<&'static mut EdfCore> {
    // SAFETY: the caller upholds exclusivity.
    unsafe { (*EDF_CORES[core as usize].0.get()).as_mut() }
}

/// Figures a shared core publishes when the core ending the run asks.
struct Published {
    guests: [[AtomicU64; 5]; GUESTS],
    idle_ticks: [AtomicU64; MAX_CORES],
    switches: [AtomicU64; MAX_CORES],
    /// The request each core answered last.
    answered: [AtomicU32; MAX_CORES],
    request: AtomicU32,
}

static PUBLISHED: Published = Published {
    guests: [const { [const { AtomicU64::new(0) }; 5] }; GUESTS],
    idle_ticks: [const { AtomicU64::new(0) }; MAX_CORES],
    switches: [const { AtomicU64::new(0) }; MAX_CORES],
    answered: [const { AtomicU32::new(0) }; MAX_CORES],
    request: AtomicU32::new(0),
};

macro_rules! println {
    ($($arg:tt)*) => {
        CONSOLE.with(|c| { let _ = writeln!(c.uart, $($arg)*); })
    };
}

// Start the global timer before anything else so that time counts from
// reset (give or take the two instructions before this call). No stack yet.
core::arch::global_asm!(
    r#"
    .section .text.mvm_early, "ax"
    .global mvm_early
mvm_early:
    ldr r0, ={control}
    mov r1, #1
    str r1, [r0]
    bx lr
"#,
    control = const board::GLOBAL_TIMER_BASE + 0x08,
);

fn now_ticks() -> u64 {
    GLOBAL_TIMER.count()
}

fn ticks_to_ns(ticks: u64) -> u64 {
    timing::ticks_to_ns(ticks, platform::CLOCK)
}

fn exit_status() -> u32 {
    if MONITOR_FAULTS.load(Ordering::Relaxed) == 0 {
        0
    } else {
        EXIT_MONITOR_FAULT
    }
}

fn max_cores() -> u32 {
    (MAX_CORES as u32).min(board::BOARD.cores)
}

fn guest(id: u32) -> &'static Guest {
    &MVM_SYSTEM.guests[id as usize]
}

#[unsafe(no_mangle)]
extern "C" fn mvm_boot(core: u32) -> ! {
    // SAFETY: Monitor mode at boot; the value grants the Non-secure world
    // ACTLR.SMP only (VFP per guest, below), and routes FIQ to this monitor.
    unsafe {
        arch::write_nsacr(mvm_kernel::NSACR_NO_FPU);
        Scr::write(Scr(mvm_kernel::SCR_MONITOR));
    }
    if core == 0 {
        boot_shared();
    }

    // This core's banked interrupts (SGIs, PPIs): all Secure and disabled.
    // The private timer is enabled on shared cores and on the core that
    // ends a bounded run; SGIs (always enabled in GICv1) stay Group 0.
    GICD.reset_banked();
    GICD.set_priority(SGI_SNAPSHOT, 0x00);
    let action = plan::core_action(&MVM_SYSTEM, core, CAPACITY);
    let run_timer = RUN_END_TICKS.load(Ordering::Relaxed) != 0
        && core == RUN_TIMER_CORE.load(Ordering::Relaxed);
    if run_timer || matches!(action, CoreAction::Edf { .. }) {
        GICD.set_group(board::IRQ_PRIVATE_TIMER, Group::Secure);
        GICD.set_priority(board::IRQ_PRIVATE_TIMER, 0x00);
        GICD.enable_interrupt(board::IRQ_PRIVATE_TIMER);
    }
    GICC.enable();

    let loaded = LOADED[core as usize].load(Ordering::Acquire);
    match action {
        CoreAction::Enter(guest) if loaded => enter_dedicated(core, guest),
        CoreAction::Edf { guests } if loaded => enter_shared(core, guests),
        CoreAction::Enter(_) | CoreAction::Edf { .. } => {
            println!("mvm: core {core}: its guests were not loaded; core parked");
        }
        CoreAction::Idle => {}
        CoreAction::TooManyServers { guests, capacity } => println!(
            "mvm: error: core {core}: {guests} servers, but the scheduler holds {capacity}; core parked"
        ),
        CoreAction::BadTable => {
            println!("mvm: error: core {core}: the core plan names an invalid guest; core parked")
        }
    }
    park(core)
}

/// Every guest id, so that a dedicated core's one guest is a slice too.
static GUEST_IDS: [u32; GUESTS] = {
    let mut ids = [0; GUESTS];
    let mut i = 0;
    while i < GUESTS {
        ids[i] = i as u32;
        i += 1;
    }
    ids
};

/// The guests `action` runs.
fn guests_of(action: CoreAction) -> &'static [u32] {
    match action {
        CoreAction::Enter(g) => core::slice::from_ref(&GUEST_IDS[g.id as usize]),
        CoreAction::Edf { guests } => guests,
        _ => &[],
    }
}

/// Core 0, before the other cores start: console, banner, guest images,
/// distributor, SCU, run length.
fn boot_shared() {
    CONSOLE.with(|c| {
        platform::init_console(&mut c.uart);
        let _ = plan::write_banner(&mut c.uart, &MVM_SYSTEM, env!("CARGO_PKG_VERSION"));
    });
    if MVM_SYSTEM.board != board::BOARD.name {
        println!(
            "mvm: error: the system was generated for board `{}`, this image runs on `{}`",
            MVM_SYSTEM.board,
            board::BOARD.name
        );
        end_run(EXIT_MONITOR_PANIC);
    }

    // SAFETY: the SCU is configured once, here, by core 0.
    let scu = unsafe { Scu::new(board::SCU_BASE) };
    scu.grant_non_secure();
    // What else the board keeps Secure, and what it makes Non-secure for
    // the guests' passthrough devices.
    CONSOLE.with(|c| platform::secure_devices(&MVM_SYSTEM, &mut c.uart));

    GICD.disable();
    GICD.reset_spis();
    let mut running = 0;
    for core in 0..max_cores() {
        let action = plan::core_action(&MVM_SYSTEM, core, CAPACITY);
        let ids = guests_of(action);
        if ids.is_empty() {
            continue;
        }
        let mut ok = true;
        for &id in ids {
            if let Err(e) = plan::check_image(guest(id)) {
                println!("mvm: error: guest `{}`: {e}", guest(id).name);
                ok = false;
            }
        }
        if !ok {
            continue;
        }
        for &id in ids {
            let g = guest(id);
            load_image(g);
            let t0 = now_ticks();
            install_tables(g);
            if let Some(t) = g.translation {
                ASIDS[g.id as usize].store(t.asid.into(), Ordering::Relaxed);
            }
            if let Some(sw) = boot_space(g) {
                BOOT_SPACES[g.id as usize].store(sw.ttbr0, Ordering::Relaxed);
                BOOT_ASIDS[g.id as usize].store(sw.asid.into(), Ordering::Relaxed);
                ASIDS[g.id as usize].store(sw.asid.into(), Ordering::Relaxed);
                SHADOW_TABLES.fetch_add(1, Ordering::Relaxed);
            }
            TABLE_TICKS.fetch_add(now_ticks() - t0, Ordering::Relaxed);
            for device in g.devices {
                for &irq in device.interrupts {
                    GICD.set_group(irq, Group::NonSecure);
                    GICD.set_priority(irq, GUEST_INTERRUPT_PRIORITY);
                    GICD.set_targets(irq, 1 << g.core);
                    // A dedicated core's guest owns its interrupts from now
                    // on; a shared core's guest only while it runs.
                    if g.level == Level::Hrt {
                        GICD.enable_interrupt(irq);
                    }
                }
            }
            running += 1;
        }
        LOADED[core as usize].store(true, Ordering::Relaxed);
    }
    GICD.enable();
    RUNNING.store(running, Ordering::Relaxed);

    let run_for_ns = if platform::LOADER_PARAMETERS {
        // SAFETY: the loader wrote the parameter before reset, if at all;
        // nothing writes it while the monitor runs. Volatile: its value is
        // not the initialiser's.
        unsafe { core::ptr::read_volatile(&raw const MVM_RUN_FOR_NS) }
    } else {
        0
    };
    if run_for_ns != 0 {
        let ticks = timing::ns_to_ticks_ceil(run_for_ns, platform::CLOCK).max(1);
        RUN_END_TICKS.store(ticks, Ordering::Relaxed);
        RUN_TIMER_CORE.store(
            plan::run_timer_core(&MVM_SYSTEM, max_cores(), CAPACITY),
            Ordering::Relaxed,
        );
    }

    let tables: usize = MVM_SYSTEM
        .guests
        .iter()
        .filter_map(|g| g.translation)
        .map(|t| t.tables.len())
        .sum();
    let shadowed = SHADOW_TABLES.load(Ordering::Relaxed);
    if tables != 0 && shadowed == 0 {
        println!(
            "mvm: direct map: {tables} translation tables written in {} ns",
            ticks_to_ns(TABLE_TICKS.load(Ordering::Relaxed))
        );
    } else if shadowed != 0 {
        println!(
            "mvm: translation tables: {tables} of direct maps, shadow paging: {shadowed} boot spaces, written in {} ns",
            ticks_to_ns(TABLE_TICKS.load(Ordering::Relaxed))
        );
    }
    println!("mvm: entering guests");
    // Release: the images, the distributor and the statics above are
    // visible to the other cores when they start. Then the board starts
    // the cores its boot ROM still holds (they find the release given).
    arch::release_secondary_cores();
    CONSOLE.with(|c| platform::start_secondary_cores(&mut c.uart));
}

fn load_image(guest: &Guest) {
    let bytes = guest.image.bytes;
    let Some(load) = guest.physical(guest.image.load, bytes.len() as u32) else {
        return;
    };
    // SAFETY: `check_image` proved `[load, load + len)` lies in the guest's
    // own memory, which the generator keeps apart from the monitor's
    // reservation and from every other guest; the MMU is off, so the
    // address is physical, and no guest runs yet.
    unsafe {
        core::ptr::copy_nonoverlapping(bytes.as_ptr(), load as usize as *mut u8, bytes.len())
    };
}

/// Writes a direct-mapped guest's translation tables to their addresses in
/// the board's table area (Non-secure RAM, outside every guest's regions
/// and outside the monitor image: the generator checks both).
///
/// The monitor runs with its MMU and caches off, so the stores reach
/// memory; the `dsb` orders them before any core's first table walk. On
/// QEMU nothing more is needed. On silicon the Non-secure world must find
/// no stale line of the table area in its caches: at boot no Non-secure
/// code has run, so it holds none once the boot ROM/FSBL invalidated the
/// L1 caches and the L2 cache controller (as Xilinx's FSBL does); a monitor
/// that rewrites tables after a guest ran must clean and invalidate the
/// lines by address (DCCIMVAC) and the PL310 (docs/memory.md).
fn install_tables(guest: &Guest) {
    let Some(translation) = guest.translation else {
        return;
    };
    for table in translation.tables {
        let base = table.address as usize as *mut u32;
        // SAFETY: the generator placed the table, aligned to its size, in
        // the board's table area (checked at compile time in
        // `mvm_system.rs`), which no guest region and no part of the
        // monitor image covers; the MMU is off, so the address is
        // physical, and no guest runs yet.
        unsafe {
            core::ptr::write_bytes(base, 0, table.words as usize);
            for e in table.entries {
                base.add(e.index as usize).write_volatile(e.word);
            }
        }
    }
    // SAFETY: a barrier has no other effect.
    unsafe { core::arch::asm!("dsb", options(nostack, preserves_flags)) };
}

fn is_run_timer_core(core: u32) -> bool {
    RUN_END_TICKS.load(Ordering::Relaxed) != 0 && core == RUN_TIMER_CORE.load(Ordering::Relaxed)
}

/// A dedicated core: hand it to its HRT guest. No timer is armed unless
/// this core ends a bounded run.
fn enter_dedicated(core: u32, guest: &'static Guest) -> ! {
    CURRENT_GUEST[core as usize].store(guest.id, Ordering::Relaxed);
    arch::set_secure_thread_pointer(&COUNTERS[guest.id as usize] as *const Counters as u32);
    // SAFETY: Monitor mode at boot: the guest gets VFP only if it declared
    // it.
    unsafe { arch::write_nsacr(mvm_kernel::nsacr_for(guest.fpu)) };
    if let Some(t) = guest.translation {
        // The guest's first instruction runs with its MMU on: its CP15
        // state is the Non-secure reset state with the direct map applied.
        let mut cp15 = Cp15::default();
        arch::save_cp15(&mut cp15);
        // SAFETY: no guest has run on this core, so there is no state to
        // lose; core 0 wrote the tables before releasing this core.
        unsafe { arch::restore_cp15(&cp15.with_direct_map(t.ttbr0).with_asid(t.asid)) };
    }
    if is_run_timer_core(core) {
        arm_timer(core, u64::MAX);
    }
    ENTRY_TICKS[core as usize].store(now_ticks(), Ordering::Relaxed);
    // SAFETY: MVBAR, NSACR, SCR and the GIC are set for this core; core 0
    // loaded the guest's image (`LOADED`) after checking that it and its
    // entry lie in the guest's own memory, which the monitor never uses.
    unsafe {
        arch::enter_guest(
            core,
            GuestEntry {
                entry: guest.image.entry,
                boot_arg: 0,
            },
        )
    }
}

/// A shared core: every guest gets a fresh context (the Non-secure CP15
/// reset values, as read now), the servers are released together, and the
/// first decision's guest is entered.
fn enter_shared(core: u32, guests: &'static [u32]) -> ! {
    let mut reset = mvm_kernel::context::Cp15::default();
    arch::save_cp15(&mut reset);
    let gic = GicCpu {
        enable_group1: GICC.group1_enabled() as u32,
        pmr: GICC.priority_mask(),
        abpr: GICC.aliased_binary_point(),
    };
    let mut params = [Params::default(); CAPACITY];
    for (p, &id) in params.iter_mut().zip(guests) {
        let g = guest(id);
        // SAFETY: this core owns its guests' contexts; none runs yet.
        let boot_space = BOOT_SPACES[id as usize].load(Ordering::Relaxed);
        let cp15 = match g.translation {
            Some(t) => reset.with_direct_map(t.ttbr0).with_asid(t.asid),
            None if boot_space != 0 => Cp15 {
                contextidr: BOOT_ASIDS[id as usize].load(Ordering::Relaxed),
                ..reset.with_direct_map(boot_space)
            },
            None => reset,
        };
        *unsafe { context(id) } = GuestContext::fresh(
            GuestEntry {
                entry: g.image.entry,
                boot_arg: 0,
            },
            cp15,
            gic,
        );
        *p = g
            .server
            .expect("plan::core_action admits only SRT guests with a server to an EDF core");
    }
    let now = now_ticks();
    // SAFETY: this core's own slot, written once before any guest runs.
    unsafe {
        *EDF_CORES[core as usize].0.get() = Some(EdfCore {
            edf: Edf::new(&params[..guests.len()], ticks_to_ns(now)),
            guests,
            current: None,
            vfp_owner: None,
            nsacr: mvm_kernel::NSACR_NO_FPU,
            idle_ticks: 0,
            idle_since: 0,
            switches: 0,
        })
    };
    ENTRY_TICKS[core as usize].store(now, Ordering::Relaxed);
    resume_next(core)
}

/// Chooses what runs on this core (waiting if nothing can) and enters it
/// with an empty monitor stack; for a core's first guest and after a halt,
/// when no guest's registers are live.
fn resume_next(core: u32) -> ! {
    // SAFETY: this core's own state; the monitor is not re-entered.
    let st = unsafe { edf_core(core) }.expect("resume_next runs on shared cores only");
    let mut scratch = TrapFrame::default();
    reschedule(core, st, &mut scratch, now_ticks());
    let id = st.guests[st.current.expect("reschedule returns with a guest chosen")];
    // SAFETY: the guest's context was just loaded into the processor by
    // `switch_to` (banked, CP15, VFP, NSACR, GIC); its saved frame holds a
    // Non-secure mode; nothing on the monitor stack is needed any more.
    unsafe { arch::resume(core, &context(id).frame) }
}

/// Asks EDF what runs from now on and makes it so: switches guests if it
/// changed, waits in the monitor while nothing can run, and arms the timer
/// for the next event.
fn reschedule(core: u32, st: &mut EdfCore, frame: &mut TrapFrame, mut now: u64) {
    loop {
        let decision = st.edf.schedule(ticks_to_ns(now));
        if let Some((server, _)) = decision.run {
            if st.current != Some(server) {
                switch_to(core, st, server, frame);
            }
            arm_timer(core, decision.until);
            return;
        }
        arm_timer(core, decision.until);
        st.idle_since = now;
        wait_for_timer(core);
        now = now_ticks();
        st.idle_ticks += now - st.idle_since;
        st.idle_since = 0;
    }
}

/// Switches the processor from the guest in it (if any) to server
/// `server`'s guest: the outgoing guest's registers (from `frame`),
/// banked registers, CP15 and GIC CPU interface state are saved and its
/// interrupts disabled at the distributor (they stay pending); the
/// incoming guest's are loaded into the processor and `frame`.
fn switch_to(core: u32, st: &mut EdfCore, server: usize, frame: &mut TrapFrame) {
    let outgoing_asid = st.current.map_or(0, |out| {
        ASIDS[st.guests[out] as usize].load(Ordering::Relaxed)
    });
    if let Some(out) = st.current {
        let id = st.guests[out];
        // SAFETY: this core's own guest, not running now.
        let ctx = unsafe { context(id) };
        ctx.frame = *frame;
        arch::save_banked(&mut ctx.banked);
        arch::save_cp15(&mut ctx.cp15);
        ctx.gic = GicCpu {
            enable_group1: GICC.group1_enabled() as u32,
            pmr: GICC.priority_mask(),
            abpr: GICC.aliased_binary_point(),
        };
        set_interrupts(guest(id), false);
    }
    let id = st.guests[server];
    let g = guest(id);
    // SAFETY: this core's own guest, not running now.
    let ctx = unsafe { context(id) };
    if g.fpu && st.vfp_owner != Some(id) {
        // SAFETY: the VFP registers hold the owner's state (a different
        // guest of this core, so a different context) or nobody's.
        unsafe {
            let save = st.vfp_owner.map(|owner| &mut context(owner).vfp);
            arch::vfp_switch(save, &ctx.vfp);
        }
        st.vfp_owner = Some(id);
    }
    let nsacr = mvm_kernel::nsacr_for(g.fpu);
    if nsacr != st.nsacr {
        // SAFETY: VFP for fpu guests only; see docs/world-switch.md.
        unsafe { arch::write_nsacr(nsacr) };
        st.nsacr = nsacr;
    }
    let asid = ASIDS[id as usize].load(Ordering::Relaxed);
    if asid != 0 {
        // The ASID is the monitor's to give: whatever the guest wrote into
        // CONTEXTIDR[7:0] lasts only until it is switched out.
        ctx.cp15 = ctx.cp15.with_asid(asid as u8);
    }
    // SAFETY: the outgoing guest's state was saved above (or there was
    // none: first entry, or it halted). The TLB is kept only between two
    // guests whose entries are all non-global under their own ASIDs, and
    // the incoming guest's ASID was just set to its own.
    unsafe {
        if SWITCH_KEEPS_TLB && asid != 0 && outgoing_asid != 0 {
            arch::restore_cp15_keep_tlb(&ctx.cp15);
        } else {
            arch::restore_cp15(&ctx.cp15);
        }
        arch::restore_banked(&ctx.banked);
    }
    GICC.set_priority_mask(ctx.gic.pmr);
    GICC.set_aliased_binary_point(ctx.gic.abpr);
    GICC.set_group1_enabled(ctx.gic.enable_group1 != 0);
    set_interrupts(g, true);
    *frame = ctx.frame;
    arch::set_secure_thread_pointer(&COUNTERS[id as usize] as *const Counters as u32);
    CURRENT_GUEST[core as usize].store(id, Ordering::Relaxed);
    bump(&COUNTERS[id as usize].switches_in);
    st.switches += 1;
    st.current = Some(server);
}

/// Enables or disables `guest`'s passthrough interrupts at the distributor.
fn set_interrupts(guest: &Guest, on: bool) {
    for device in guest.devices {
        for &irq in device.interrupts {
            if on {
                GICD.enable_interrupt(irq);
            } else {
                GICD.disable_interrupt(irq);
            }
        }
    }
}

/// Arms this core's private timer for the earlier of the scheduler's next
/// event (`until_ns`, `u64::MAX` for none) and, on the core that ends a
/// bounded run, the run's end.
fn arm_timer(core: u32, until_ns: u64) {
    let run_end = if is_run_timer_core(core) {
        RUN_END_TICKS.load(Ordering::Relaxed)
    } else {
        0
    };
    match timing::next_event_ticks(until_ns, run_end, platform::CLOCK) {
        Some(target) => {
            let shot: OneShot = timing::shot_until(target, now_ticks());
            PRIVATE_TIMER.one_shot_prescaled(shot.prescaler, shot.load);
        }
        None => PRIVATE_TIMER.stop(),
    }
}

/// Whether the run ends at `now` (within the last fraction of a prescaled
/// tick, which is waited out).
fn run_end_due(core: u32, now: u64) -> bool {
    is_run_timer_core(core) && now + 256 >= RUN_END_TICKS.load(Ordering::Relaxed)
}

/// Waits in the monitor (WFI, interrupts masked: a pending one still wakes
/// the core) until this core's private timer fires; answers figure
/// requests meanwhile, and ends the run when it is due.
fn wait_for_timer(core: u32) {
    loop {
        arch::wait_for_interrupt();
        let iar = GICC.acknowledge();
        let id = Gicc::interrupt_id(iar);
        if id >= Gicc::SPECIAL_IDS {
            continue;
        }
        GICC.end_of_interrupt(iar);
        if id == SGI_SNAPSHOT {
            publish(core);
        } else if id == board::IRQ_PRIVATE_TIMER {
            PRIVATE_TIMER.clear_event();
            let now = now_ticks();
            if run_end_due(core, now) {
                finish_run(core, now);
            }
            return;
        }
    }
}

/// Stops this core for good. The core that times a bounded run keeps
/// serving its timer, so that the run ends even if its guests halted or it
/// faulted; a shared core keeps answering figure requests.
fn park(core: u32) -> ! {
    let shared = EDF_CORES[core as usize].0.get() as *const Option<EdfCore>;
    // SAFETY: reading whether this core's own slot is set.
    let shared = unsafe { (*shared).is_some() };
    if !is_run_timer_core(core) && !shared {
        arch::park()
    }
    if is_run_timer_core(core) {
        arm_timer(core, u64::MAX);
    }
    loop {
        wait_for_timer(core);
        arm_timer(core, u64::MAX);
    }
}

/// The monitor's interrupt while a guest ran: the core's timer (an EDF
/// event, or the end of the run) or a figure request.
#[unsafe(no_mangle)]
extern "C" fn mvm_fiq(frame: &mut TrapFrame) {
    let core = sysreg::core_id();
    let iar = GICC.acknowledge();
    let id = Gicc::interrupt_id(iar);
    if id >= Gicc::SPECIAL_IDS {
        return;
    }
    GICC.end_of_interrupt(iar);
    if id == SGI_SNAPSHOT {
        bump(&RUN_END_ENTRIES[core as usize]);
        publish(core);
        return;
    }
    if id != board::IRQ_PRIVATE_TIMER {
        return;
    }
    PRIVATE_TIMER.clear_event();
    let now = now_ticks();
    if run_end_due(core, now) {
        bump(&RUN_END_ENTRIES[core as usize]);
        finish_run(core, now);
    }
    let current = CURRENT_GUEST[core as usize].load(Ordering::Relaxed);
    if let Some(c) = COUNTERS.get(current as usize) {
        bump(&c.fiq);
    }
    // SAFETY: this core's own state; the monitor is not re-entered.
    match unsafe { edf_core(core) } {
        Some(st) => reschedule(core, st, frame, now),
        // A dedicated core's run timer re-armed for a run longer than one
        // shot can time.
        None => arm_timer(core, u64::MAX),
    }
}

/// The caller yielded (YIELD returned `Reschedule`): choose what runs next.
#[unsafe(no_mangle)]
extern "C" fn mvm_yield(frame: &mut TrapFrame) {
    let core = sysreg::core_id();
    // SAFETY: this core's own state; the monitor is not re-entered.
    if let Some(st) = unsafe { edf_core(core) } {
        reschedule(core, st, frame, now_ticks());
    }
}

/// Publishes this core's scheduler figures for the core that ends the run.
fn publish(core: u32) {
    let request = PUBLISHED.request.load(Ordering::Acquire);
    // SAFETY: this core's own state; the monitor is not re-entered.
    if let Some(st) = unsafe { edf_core(core) } {
        let now_ticks = now_ticks();
        let now = ticks_to_ns(now_ticks);
        for (server, &id) in st.guests.iter().enumerate() {
            let s = st.edf.stats_at(server, now);
            let out = &PUBLISHED.guests[id as usize];
            for (slot, value) in out
                .iter()
                .zip([s.jobs, s.misses, s.used_ns, s.slack_ns, s.overruns])
            {
                slot.store(value, Ordering::Relaxed);
            }
        }
        // A wait in progress (the run may end during one) counts too.
        let waiting = if st.idle_since != 0 {
            now_ticks.saturating_sub(st.idle_since)
        } else {
            0
        };
        PUBLISHED.idle_ticks[core as usize].store(st.idle_ticks + waiting, Ordering::Relaxed);
        PUBLISHED.switches[core as usize].store(st.switches, Ordering::Relaxed);
    }
    PUBLISHED.answered[core as usize].store(request, Ordering::Release);
}

/// The figures of guest `id` as published (shared cores) or as counted.
fn guest_stats(id: u32, now: u64) -> GuestStats {
    let g = guest(id);
    let c = &COUNTERS[id as usize];
    let mut s = GuestStats {
        smc: c.smc.load(Ordering::Relaxed) as u64,
        fiq: c.fiq.load(Ordering::Relaxed) as u64,
        switches_in: c.switches_in.load(Ordering::Relaxed) as u64,
        ..GuestStats::default()
    };
    if g.level == Level::Hrt {
        let entry = ENTRY_TICKS[g.core as usize].load(Ordering::Relaxed);
        if entry != 0 {
            s.used_ns = ticks_to_ns(now.saturating_sub(entry));
        }
    } else {
        let [jobs, misses, used_ns, slack_ns, overruns] = PUBLISHED.guests[id as usize]
            .each_ref()
            .map(|v| v.load(Ordering::Relaxed));
        s.jobs = jobs;
        s.misses = misses;
        s.used_ns = used_ns;
        s.slack_ns = slack_ns;
        s.overruns = overruns;
    }
    s
}

/// The run is over: wait out its last fraction of a tick, collect every
/// core's figures (another shared core publishes them on request: they
/// may be a few microseconds older than this core's), print them and exit.
fn finish_run(core: u32, now: u64) -> ! {
    let end = RUN_END_TICKS.load(Ordering::Relaxed);
    let mut now = now;
    while now < end {
        now = now_ticks();
    }
    let request = PUBLISHED.request.load(Ordering::Relaxed).wrapping_add(1);
    PUBLISHED.request.store(request, Ordering::Release);
    let mut asked = 0u8;
    for other in 0..max_cores() {
        if other == core {
            continue;
        }
        if matches!(
            plan::core_action(&MVM_SYSTEM, other, CAPACITY),
            CoreAction::Edf { .. }
        ) {
            asked |= 1 << other;
        }
    }
    if asked != 0 {
        GICD.send_secure_sgi(SGI_SNAPSHOT, asked);
    }
    publish(core);
    let deadline = now_ticks() + timing::ns_to_ticks_ceil(SNAPSHOT_WAIT_NS, platform::CLOCK);
    let mut stale = 0u8;
    for other in 0..max_cores() {
        if asked & (1 << other) == 0 {
            continue;
        }
        while PUBLISHED.answered[other as usize].load(Ordering::Acquire) != request {
            if now_ticks() > deadline {
                stale |= 1 << other;
                break;
            }
            // Reading the timer is an I/O access, slow under emulation.
            for _ in 0..1000 {
                core::hint::spin_loop();
            }
        }
    }
    let bench = edf_decision_bench(core);
    CONSOLE.with(|c| {
        let MonitorConsole { uart, lines } = c;
        for (g, line) in MVM_SYSTEM.guests.iter().zip(lines.iter_mut()) {
            line.flush(|text| emit_guest_line(uart, g, text));
        }
        let mut cores = [CoreStats::default(); MAX_CORES];
        for g in MVM_SYSTEM.guests {
            let s = guest_stats(g.id, now);
            if let Some(cs) = cores.get_mut(g.core as usize) {
                cs.entries += s.entries();
            }
            let _ = stats::write_guest_line(uart, g.name, g.core, &s);
            let _ = stats::write_guest_detail(uart, g.name, &s);
        }
        for (n, cs) in cores.iter_mut().enumerate().take(max_cores() as usize) {
            cs.idle_ns = ticks_to_ns(PUBLISHED.idle_ticks[n].load(Ordering::Relaxed));
            cs.switches = PUBLISHED.switches[n].load(Ordering::Relaxed);
            cs.run_end = RUN_END_ENTRIES[n].load(Ordering::Relaxed) as u64;
            let _ = stats::write_core_line(uart, n as u32, cs);
            let _ = stats::write_core_detail(uart, n as u32, cs);
            if stale & (1 << n) != 0 {
                let _ = writeln!(uart, "mvm: core {n} did not answer: its figures are stale");
            }
        }
        if let Some((decisions, ticks)) = bench {
            let _ = writeln!(
                uart,
                "mvm-bench core={core} edf_decision_ns={} decisions={decisions}",
                ticks_to_ns(ticks) / decisions.max(1)
            );
        }
        let _ = write!(uart, "mvm: guest entry after reset:");
        for (n, ticks) in ENTRY_TICKS.iter().enumerate() {
            let ticks = ticks.load(Ordering::Relaxed);
            if ticks != 0 {
                let _ = write!(uart, " core {n} at {} ns", ticks_to_ns(ticks));
            }
        }
        let _ = writeln!(uart);
        let _ = writeln!(uart, "mvm: run ended after {} ns", ticks_to_ns(now));
    });
    end_run(exit_status())
}

/// Ends the run with `status` as the board does (QEMU: exit; the ZC702:
/// a last line, then park), holding the console so that nothing is printed
/// in between. Not for a core that may hold the console (panics, faults).
fn end_run(status: u32) -> ! {
    CONSOLE.with(|c| platform::end_run(&mut c.uart, status));
    arch::park()
}

/// Times this core's EDF decision alone: a copy of its scheduler, driven
/// from event to event. Returns (decisions, global-timer ticks).
fn edf_decision_bench(core: u32) -> Option<(u64, u64)> {
    // SAFETY: this core's own state; the monitor is not re-entered.
    let st = unsafe { edf_core(core) }?;
    let mut edf = st.edf.clone();
    let mut now = ticks_to_ns(now_ticks());
    let mut decisions = 0;
    let t0 = now_ticks();
    while decisions < 1000 {
        let d = edf.schedule(now);
        decisions += 1;
        if d.until == u64::MAX {
            break;
        }
        now = d.until;
    }
    Some((decisions, now_ticks() - t0))
}

/// The guest running on the calling core.
fn caller() -> &'static Guest {
    let core = sysreg::core_id() as usize;
    let index = CURRENT_GUEST
        .get(core)
        .map_or(NO_GUEST, |g| g.load(Ordering::Relaxed));
    MVM_SYSTEM
        .guests
        .get(index as usize)
        .expect("an SMC comes only from the guest this core entered")
}

struct Monitor;

impl Services for Monitor {
    unsafe fn with_guest_bytes(&self, addr: u32, len: u32, f: &mut dyn FnMut(&[u8])) {
        // SAFETY: the caller checked the range lies in the calling guest's
        // own memory: physical (MMU off), always readable, and holding no
        // monitor data. Only that guest writes it, and its core is here, so
        // the bytes do not change while borrowed.
        f(unsafe { core::slice::from_raw_parts(addr as usize as *const u8, len as usize) })
    }

    unsafe fn write_guest_bytes(&self, addr: u32, bytes: &[u8]) {
        // SAFETY: as for `with_guest_bytes`; the caller checked the whole
        // destination range.
        unsafe {
            core::ptr::copy_nonoverlapping(bytes.as_ptr(), addr as usize as *mut u8, bytes.len())
        }
    }

    fn console_write(&self, guest: &Guest, bytes: &[u8]) {
        CONSOLE.with(|c| {
            let MonitorConsole { uart, lines } = c;
            if let Some(line) = lines.get_mut(guest.id as usize) {
                line.push(bytes, |text| emit_guest_line(uart, guest, text));
            }
        });
    }

    fn now_ns(&self) -> u64 {
        ticks_to_ns(now_ticks())
    }

    fn halt(&self, guest: &Guest) -> ! {
        let core = guest.core;
        // Its interrupts stay pending and disabled; nobody takes them now.
        set_interrupts(guest, false);
        CONSOLE.with(|c| {
            let MonitorConsole { uart, lines } = c;
            if let Some(line) = lines.get_mut(guest.id as usize) {
                line.flush(|text| emit_guest_line(uart, guest, text));
            }
            let _ = writeln!(uart, "mvm: guest `{}` halted", guest.name);
        });
        CURRENT_GUEST[core as usize].store(NO_GUEST, Ordering::Relaxed);
        if RUNNING.fetch_sub(1, Ordering::AcqRel) == 1 {
            println!("mvm: all guests halted");
            end_run(exit_status());
        }
        // SAFETY: this core's own state; the monitor is not re-entered.
        match unsafe { edf_core(core) } {
            Some(st) => {
                st.edf.halt_running(ticks_to_ns(now_ticks()));
                // Nothing of the halted guest is kept: its registers are
                // overwritten by the next guest's without being saved.
                st.current = None;
                if st.vfp_owner == Some(guest.id) {
                    st.vfp_owner = None;
                }
                resume_next(core)
            }
            None => park(core),
        }
    }

    fn yield_now(&self, guest: &Guest) -> bool {
        // SAFETY: this core's own state; the monitor is not re-entered.
        match unsafe { edf_core(guest.core) } {
            Some(st) => {
                st.edf.yield_running(ticks_to_ns(now_ticks()));
                true
            }
            None => false,
        }
    }

    fn mmu(&self, guest: &Guest, op: MmuOp) -> Result<u32, hypercall::Error> {
        let pool = guest.shadow.ok_or(hypercall::Error::NotSupported)?;
        let owned = owned(guest);
        // SAFETY: the guest's own core, in the monitor (not re-entered).
        let (st, current) = unsafe { &mut *SHADOWS[guest.id as usize].0.get() };
        let mem = &mut PhysicalTables;
        let tlb = match op {
            MmuOp::Create => return Ok(st.create(&pool, mem)?),
            MmuOp::Switch { space } => {
                let sw = st.switch(&pool, space)?;
                *current = space;
                ASIDS[guest.id as usize].store(sw.asid.into(), Ordering::Relaxed);
                // SAFETY: this guest's live state, its own pool's table.
                unsafe { arch::set_ns_translation(sw.ttbr0, sw.asid.into()) };
                return Ok(0);
            }
            MmuOp::Destroy { space } if space == *current => {
                return Err(hypercall::Error::InvalidParameter)
            }
            MmuOp::Destroy { space } => st.destroy(&pool, mem, space)?,
            MmuOp::Map {
                space,
                va,
                gpa,
                flags,
            } => st.map(&pool, &owned, mem, space, va, gpa, flags)?,
            MmuOp::Unmap { space, va } => st.unmap(&pool, mem, space, va)?,
            MmuOp::Flush { space } => st.flush(&pool, space)?,
        };
        arch::ns_tlb(tlb);
        Ok(0)
    }

    fn stats(&self, guest: &Guest) -> GuestStats {
        let now = now_ticks();
        let mut s = guest_stats(guest.id, now);
        // SAFETY: this core's own state; the monitor is not re-entered.
        if let Some(st) = unsafe { edf_core(guest.core) } {
            if let Some(server) = st.guests.iter().position(|&g| g == guest.id) {
                let e = st.edf.stats_at(server, ticks_to_ns(now));
                s.jobs = e.jobs;
                s.misses = e.misses;
                s.used_ns = e.used_ns;
                s.slack_ns = e.slack_ns;
                s.overruns = e.overruns;
            }
        }
        s
    }
}

fn emit_guest_line(uart: &mut Console, guest: &Guest, text: &[u8]) {
    let _ = write!(uart, "[{}] ", guest.name);
    uart.write_bytes(text);
    uart.write_bytes(b"\n");
}

/// A hypercall. The caller's SMC count is bumped through the Secure
/// TPIDRPRW, which points at the running guest's counters.
#[unsafe(no_mangle)]
extern "C" fn mvm_smc(frame: &mut arch::SmcFrame) -> u32 {
    let counters = arch::secure_thread_pointer() as *const Counters;
    // SAFETY: the monitor points TPIDRPRW (Secure copy) at an element of
    // COUNTERS before entering any guest on this core, and only there.
    if let Some(c) = unsafe { counters.as_ref() } {
        bump(&c.smc);
    }
    hypercall::serve(&mut frame.r, caller, &Monitor) as u32
}

#[unsafe(no_mangle)]
extern "C" fn mvm_monitor_fault(kind: u32, spsr: u32, lr: u32) -> ! {
    let core = sysreg::core_id();
    MONITOR_FAULTS.fetch_add(1, Ordering::Relaxed);
    let report = MonitorFault {
        core,
        kind: FaultKind::from_raw(kind),
        spsr,
        lr,
        dfar: sysreg::Dfar::read().0,
        dfsr: sysreg::Dfsr::read().raw_value(),
        ifar: sysreg::Ifar::read().0,
        ifsr: sysreg::Ifsr::read().raw_value(),
    };
    // This core may have faulted while holding the console lock: then the
    // report goes out unlocked rather than never.
    let printed = CONSOLE.try_with(1_000_000, |c| {
        let _ = writeln!(c.uart, "{report}");
    });
    if printed.is_none() {
        // SAFETY: the console UART is the monitor's; a garbled line is the
        // price of reporting a fault that happened with the lock held.
        let mut uart = unsafe { platform::console() };
        let _ = writeln!(uart, "{report}");
    }
    park(core)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    // SAFETY: as in `mvm_monitor_fault`: a panic report must not wait for a
    // lock this core may hold.
    let mut uart = unsafe { platform::console() };
    let _ = writeln!(
        uart,
        "mvm: monitor panic on core {}: {info}",
        sysreg::core_id()
    );
    platform::end_run(&mut uart, EXIT_MONITOR_PANIC)
}
