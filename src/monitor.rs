//! The monitor on QEMU vexpress-a9: the board's drivers under the kernel.
//!
//! - Core 0 prints the banner, copies every guest image, configures the
//!   shared devices (GIC distributor, SCU) and only then lets core 1 in.
//! - Each core then enters its one guest in Non-secure SVC, or parks.
//! - After boot the monitor runs only when a guest calls it (`smc`), when a
//!   fault hits the monitor itself, or, in a bounded run
//!   (`MVM_RUN_FOR_NS` != 0), once on one core when the run ends: its
//!   private timer's FIQ (Group 0) is the only monitor interrupt, and it is
//!   armed only for bounded runs.

use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use board::gic::{Gicc, Gicd, Group};
use board::global_timer::GlobalTimer;
use board::pl011::Pl011;
use board::private_timer::PrivateTimer;
use board::scu::Scu;
use board_qemu_vexpress as board;
use mvm_kernel::config::Guest;
use mvm_kernel::console::LineBuffer;
use mvm_kernel::fault::{FaultKind, MonitorFault};
use mvm_kernel::hypercall::{self, Services};
use mvm_kernel::plan::{self, CoreAction};
use mvm_kernel::sync::SpinLock;
use mvm_kernel::sysreg::{self, Nsacr, Scr};
use mvm_kernel::timing::{self, OneShot};
use mvm_kernel::{arch, semihosting, GuestEntry, MAX_CORES};

use crate::MVM_SYSTEM;

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
/// a Non-secure GIC driver expects; the monitor's FIQ is 0x00.
const GUEST_INTERRUPT_PRIORITY: u8 = 0xA0;
const NO_GUEST: u32 = u32::MAX;

/// UART0 and one partial guest line per core (a core runs one guest).
struct Console {
    uart: Pl011,
    lines: [LineBuffer; MAX_CORES],
}

static CONSOLE: SpinLock<Console> = SpinLock::new(Console {
    // SAFETY: UART0 is the monitor's console (the catalogue keeps it from
    // guests); the lock serialises its users.
    uart: unsafe { Pl011::new(board::CONSOLE_UART_BASE) },
    lines: [const { LineBuffer::new() }; MAX_CORES],
});
// SAFETY: the distributor's shared state is written by core 0 at boot, before
// the other cores start; later writes are single set/clear-enable bits.
static GICD: Gicd = unsafe { Gicd::new(board::GICD_BASE) };
// SAFETY: the CPU interface is banked; each core touches only its own.
static GICC: Gicc = unsafe { Gicc::new(board::GICC_BASE) };
// SAFETY: the global timer is only read after `mvm_early` started it.
static GLOBAL_TIMER: GlobalTimer = unsafe { GlobalTimer::new(board::GLOBAL_TIMER_BASE) };
// SAFETY: the private timer is banked per core and kept Secure by the SCU
// (SNSAC grants the Non-secure world no private timer); it is the monitor's.
static PRIVATE_TIMER: PrivateTimer = unsafe { PrivateTimer::new(board::PRIVATE_TIMER_BASE) };

/// Index into `MVM_SYSTEM.guests` of the guest each core entered.
static CURRENT_GUEST: [AtomicU32; MAX_CORES] = [const { AtomicU32::new(NO_GUEST) }; MAX_CORES];
/// Whether core 0 loaded each core's guest image.
static LOADED: [AtomicBool; MAX_CORES] = [const { AtomicBool::new(false) }; MAX_CORES];
/// Global timer low word just before each core's first exception return.
static ENTRY_TICKS: [AtomicU32; MAX_CORES] = [const { AtomicU32::new(0) }; MAX_CORES];
/// Guests entered (or about to be) and not halted.
static RUNNING: AtomicU32 = AtomicU32::new(0);
static MONITOR_FAULTS: AtomicU32 = AtomicU32::new(0);
/// Global timer count at which a bounded run ends; 0: unbounded.
static RUN_END_TICKS: AtomicU64 = AtomicU64::new(0);
/// The core whose private timer ends a bounded run.
static RUN_TIMER_CORE: AtomicU32 = AtomicU32::new(0);

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
    timing::ticks_to_ns(ticks, board::PERIPHCLK_HZ)
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

#[unsafe(no_mangle)]
extern "C" fn mvm_boot(core: u32) -> ! {
    // SAFETY: Monitor mode at boot; the values grant the Non-secure world
    // VFP and ACTLR.SMP only, and route FIQ to this monitor.
    unsafe {
        Nsacr::write(Nsacr(mvm_kernel::NSACR_VALUE));
        Scr::write(Scr(mvm_kernel::SCR_MONITOR));
    }
    if core == 0 {
        boot_shared();
    }

    // This core's banked interrupts (SGIs, PPIs): all Secure and disabled,
    // except the monitor's private timer on the core that ends a bounded run.
    GICD.reset_banked();
    if RUN_END_TICKS.load(Ordering::Relaxed) != 0 && core == RUN_TIMER_CORE.load(Ordering::Relaxed)
    {
        GICD.set_group(board::IRQ_PRIVATE_TIMER, Group::Secure);
        GICD.set_priority(board::IRQ_PRIVATE_TIMER, 0x00);
        GICD.enable_interrupt(board::IRQ_PRIVATE_TIMER);
    }
    GICC.enable();

    match plan::core_action(&MVM_SYSTEM, core) {
        CoreAction::Enter(guest) if LOADED[core as usize].load(Ordering::Acquire) => {
            enter(core, guest)
        }
        CoreAction::Enter(guest) => {
            println!(
                "mvm: core {core}: guest `{}` was not loaded; core parked",
                guest.name
            );
        }
        CoreAction::Idle => {}
        CoreAction::EdfUnsupported { guests } => println!(
            "mvm: error: core {core}: {guests} guests share this core, but EDF is not implemented yet; core parked"
        ),
        CoreAction::BadTable => {
            println!("mvm: error: core {core}: the core plan names an invalid guest; core parked")
        }
    }
    park(core)
}

/// Core 0, before the other cores start: console, banner, guest images,
/// distributor, SCU, run length.
fn boot_shared() {
    CONSOLE.with(|c| {
        c.uart.init();
        let _ = plan::write_banner(&mut c.uart, &MVM_SYSTEM, env!("CARGO_PKG_VERSION"));
    });
    if MVM_SYSTEM.board != board::BOARD.name {
        println!(
            "mvm: error: the system was generated for board `{}`, this image runs on `{}`",
            MVM_SYSTEM.board,
            board::BOARD.name
        );
        semihosting::exit(EXIT_MONITOR_PANIC);
    }

    // SAFETY: the SCU is configured once, here, by core 0.
    let scu = unsafe { Scu::new(board::SCU_BASE) };
    scu.grant_non_secure();

    GICD.disable();
    GICD.reset_spis();
    let mut running = 0;
    for core in 0..max_cores() {
        let CoreAction::Enter(guest) = plan::core_action(&MVM_SYSTEM, core) else {
            continue;
        };
        if let Err(e) = plan::check_image(guest) {
            println!("mvm: error: guest `{}`: {e}", guest.name);
            continue;
        }
        load_image(guest);
        for device in guest.devices {
            for &id in device.interrupts {
                GICD.set_group(id, Group::NonSecure);
                GICD.set_priority(id, GUEST_INTERRUPT_PRIORITY);
                GICD.set_targets(id, 1 << guest.core);
                GICD.enable_interrupt(id);
            }
        }
        LOADED[core as usize].store(true, Ordering::Relaxed);
        running += 1;
    }
    GICD.enable();
    RUNNING.store(running, Ordering::Relaxed);

    // SAFETY: the loader wrote the parameter before reset, if at all;
    // nothing writes it while the monitor runs. Volatile: its value is
    // not the initialiser's.
    let run_for_ns = unsafe { core::ptr::read_volatile(&raw const MVM_RUN_FOR_NS) };
    if run_for_ns != 0 {
        let ticks = timing::ns_to_ticks_ceil(run_for_ns, board::PERIPHCLK_HZ).max(1);
        RUN_END_TICKS.store(ticks, Ordering::Relaxed);
        RUN_TIMER_CORE.store(
            plan::run_timer_core(&MVM_SYSTEM, max_cores()),
            Ordering::Relaxed,
        );
    }

    println!("mvm: entering guests");
    // Release: the images, the distributor and the statics above are
    // visible to the other cores when they start.
    arch::release_secondary_cores();
}

fn load_image(guest: &Guest) {
    let bytes = guest.image.bytes;
    // SAFETY: `check_image` proved `[load, load + len)` lies in the guest's
    // own memory, which the generator keeps apart from the monitor's
    // reservation and from every other guest; the MMU is off, so the
    // address is physical, and no guest runs yet.
    unsafe {
        core::ptr::copy_nonoverlapping(
            bytes.as_ptr(),
            guest.image.load as usize as *mut u8,
            bytes.len(),
        )
    };
}

fn enter(core: u32, guest: &'static Guest) -> ! {
    CURRENT_GUEST[core as usize].store(guest.id, Ordering::Relaxed);
    if core == RUN_TIMER_CORE.load(Ordering::Relaxed) {
        arm_run_timer();
    }
    ENTRY_TICKS[core as usize].store(GLOBAL_TIMER.low(), Ordering::Relaxed);
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

/// Arms this core's private timer to fire at or just before the end of a
/// bounded run; ends the run at once if that time has passed.
fn arm_run_timer() {
    let end = RUN_END_TICKS.load(Ordering::Relaxed);
    if end == 0 {
        return;
    }
    let now = now_ticks();
    if now >= end {
        end_run(now);
    }
    let shot = OneShot::at_most(end - now);
    PRIVATE_TIMER.one_shot_prescaled(shot.prescaler, shot.load);
}

/// The run-end timer fired: wait out the last fraction of a prescaled tick,
/// or re-arm if the run is longer than one shot can time.
fn run_timer_fired() {
    PRIVATE_TIMER.clear_event();
    let end = RUN_END_TICKS.load(Ordering::Relaxed);
    if end == 0 {
        return;
    }
    let now = now_ticks();
    if end - now.min(end) > 256 {
        arm_run_timer();
        return;
    }
    let mut now = now;
    while now < end {
        now = now_ticks();
    }
    end_run(now)
}

fn end_run(now: u64) -> ! {
    CONSOLE.with(|c| {
        let _ = write!(c.uart, "mvm: guest entry after reset:");
        for (core, ticks) in ENTRY_TICKS.iter().enumerate() {
            let ticks = ticks.load(Ordering::Relaxed);
            if ticks != 0 {
                let _ = write!(c.uart, " core {core} at {} ns", ticks_to_ns(ticks as u64));
            }
        }
        let _ = writeln!(c.uart);
        let _ = writeln!(c.uart, "mvm: run ended after {} ns", ticks_to_ns(now));
    });
    semihosting::exit(exit_status())
}

/// Handles the one Group 0 interrupt the monitor uses.
fn service_fiq() {
    let iar = GICC.acknowledge();
    let id = Gicc::interrupt_id(iar);
    if id >= Gicc::SPECIAL_IDS {
        return;
    }
    if id == board::IRQ_PRIVATE_TIMER {
        run_timer_fired();
    }
    GICC.end_of_interrupt(iar);
}

/// Stops this core for good. The core that times a bounded run keeps
/// polling its timer (its FIQ stays masked in Monitor mode, but still wakes
/// WFI), so that the run ends even if its guest halted or it faulted.
fn park(core: u32) -> ! {
    if RUN_END_TICKS.load(Ordering::Relaxed) == 0 || core != RUN_TIMER_CORE.load(Ordering::Relaxed)
    {
        arch::park()
    }
    loop {
        arch::wait_for_interrupt();
        service_fiq();
    }
}

#[unsafe(no_mangle)]
extern "C" fn mvm_fiq() {
    service_fiq()
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
        let core = guest.core as usize;
        CONSOLE.with(|c| {
            let Console { uart, lines } = c;
            if let Some(line) = lines.get_mut(core) {
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
        for device in guest.devices {
            for &id in device.interrupts {
                GICD.disable_interrupt(id);
            }
        }
        CONSOLE.with(|c| {
            let Console { uart, lines } = c;
            if let Some(line) = lines.get_mut(core as usize) {
                line.flush(|text| emit_guest_line(uart, guest, text));
            }
            let _ = writeln!(uart, "mvm: guest `{}` halted", guest.name);
        });
        CURRENT_GUEST[core as usize].store(NO_GUEST, Ordering::Relaxed);
        if RUNNING.fetch_sub(1, Ordering::AcqRel) == 1 {
            println!("mvm: all guests halted");
            semihosting::exit(exit_status());
        }
        park(core)
    }
}

fn emit_guest_line(uart: &mut Pl011, guest: &Guest, text: &[u8]) {
    let _ = write!(uart, "[{}] ", guest.name);
    uart.write_bytes(text);
    uart.write_bytes(b"\n");
}

#[unsafe(no_mangle)]
extern "C" fn mvm_smc(frame: &mut arch::SmcFrame) {
    hypercall::serve(&mut frame.r, caller, &Monitor)
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
        // SAFETY: UART0 is the monitor's; a garbled line is the price of
        // reporting a fault that happened with the lock held.
        let mut uart = unsafe { Pl011::new(board::CONSOLE_UART_BASE) };
        let _ = writeln!(uart, "{report}");
    }
    park(core)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    // SAFETY: as in `mvm_monitor_fault`: a panic report must not wait for a
    // lock this core may hold.
    let mut uart = unsafe { Pl011::new(board::CONSOLE_UART_BASE) };
    let _ = writeln!(
        uart,
        "mvm: monitor panic on core {}: {info}",
        sysreg::core_id()
    );
    semihosting::exit(EXIT_MONITOR_PANIC)
}
