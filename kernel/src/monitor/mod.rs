//! The monitor's run time on the target: boot, monitor entries, the world
//! switch, EDF scheduling, hypercall service and the end of a run.
//!
//! - Board-independent: a board gives the monitor its console, its clock,
//!   its MPCore base and a few Secure set-up steps through [`Platform`];
//!   the image crate names its board and its generated tables in one
//!   [`monitor!`](crate::monitor!) call, which defines the one static
//!   [`Monitor`] and the entry points the assembly calls.
//! - State has one owner: a core's monitor entry takes that core's
//!   [`CoreState`] once ([`Monitor::state`]) and passes it down as `&mut`;
//!   nothing below an entry reaches it another way. Core 0 fills every
//!   core's state at boot, before it releases the other cores.
//! - Decisions are made by the pure modules and carried out here: the boot
//!   plan ([`crate::plan`]), the switch plan ([`crate::switch`]), EDF
//!   ([`crate::edf`]), hypercall decoding ([`crate::hypercall`]), shadow
//!   paging ([`crate::shadow`]), timer arithmetic ([`crate::timing`]).
//! - A dedicated core is handed to its HRT guest and the monitor stays off
//!   it: no timer, no interrupt (unless that core times a bounded run); a
//!   shared core's Secure private timer (Group 0, FIQ to Monitor mode,
//!   SCR.FW = 0) fires at every scheduling event and enforces budgets.

mod boot;
mod health;
mod interrupts;
mod run_end;
mod schedule;
mod service;
mod switch;

use core::cell::UnsafeCell;
use core::fmt::Write;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use mpcore::gic::{Gicc, Gicd};
use mpcore::global_timer::GlobalTimer;
use mpcore::private_timer::PrivateTimer;

use crate::config::System;
use crate::console::LineBuffer;
use crate::context::TrapFrame;
use crate::fault::{FaultKind, MonitorFault};
use crate::state::{bump, CoreFigures, CoreState, GuestFigures};
use crate::sysreg;
use crate::timing::{self, Clock};
use crate::{arch, MAX_CORES};

/// What a board gives the monitor. One small module per board implements
/// it (the image's `src/board_*.rs`).
pub trait Platform: 'static {
    /// The monitor's console UART.
    type Console: Write + Send;
    /// The board's name, as the system description names it.
    const NAME: &'static str;
    /// Cores the board has.
    const CORES: u32;
    /// The MPCore private block (SCU, GIC, timers).
    const MPCORE_BASE: usize;
    /// PERIPHCLK, which the global and private timers count.
    const CLOCK: Clock;
    /// Whether the loader's parameters (`.mvm_parameters`: a bounded run's
    /// length) are to be read.
    const LOADER_PARAMETERS: bool;
    /// The monitor's time on either side of a guest's execution that the
    /// guest's budget clock cannot see, in timer ticks: from the clock
    /// reading after a world switch to the guest's first instruction, plus
    /// from the guest's interruption to the monitor's first clock reading.
    /// The budget clock starts this much after the reading, so that a
    /// server executes its whole budget itself (docs/schedulability.md,
    /// "The budget contract"); `test-greedy` checks it from the guest's
    /// side.
    const GUEST_EDGE_TICKS: u64;

    /// A handle on the console UART, not initialised.
    ///
    /// # Safety
    /// The UART is the monitor's; the caller serialises the handles' users
    /// (the console lock, or a report that must not wait for it).
    unsafe fn console() -> Self::Console;
    /// Core 0, first thing.
    fn init_console(uart: &mut Self::Console);
    /// Raw bytes to the console (a guest's line, as it wrote it).
    fn write_bytes(uart: &mut Self::Console, bytes: &[u8]);
    /// Core 0, before the guests: the board's Secure set-up beyond the GIC
    /// and SCU (address-space controllers); notes go to `out`.
    fn secure_devices(system: &System, out: &mut Self::Console);
    /// Core 0, after the release: start cores a boot ROM still holds.
    fn start_secondary_cores(out: &mut Self::Console);
    /// Ends the run with `status` (QEMU: exit; a board: a last line, park).
    fn end_run(out: &mut Self::Console, status: u32) -> !;
}

pub use crate::stats::{EXIT_MONITOR_FAULT, EXIT_MONITOR_PANIC};

/// The software-generated interrupt (Group 0) with which the core that ends
/// a run asks a shared core to publish its figures.
const SGI_SNAPSHOT: u32 = 1;
/// How long the core that ends a run waits for another core's figures
/// (10 ms: QEMU's round-robin of the emulated cores may not run the other
/// core for a whole timer period).
const SNAPSHOT_WAIT_NS: u64 = 10_000_000;

/// How long a bounded run lasts, in nanoseconds since reset; 0 runs forever.
///
/// `cargo mvm run --for` writes it before boot with QEMU's
/// `-device loader,addr=<address of this symbol>,data=<ns>,data-len=8`. It
/// lives in its own NOLOAD section (`.mvm_parameters`), outside `.bss`, so
/// neither the ELF loader nor the monitor's start-up overwrites it; QEMU's
/// RAM starts zeroed.
#[unsafe(no_mangle)]
#[unsafe(link_section = ".mvm_parameters")]
static mut MVM_RUN_FOR_NS: u64 = 0;

/// Non-zero: shared cores keep a trace of their decisions
/// ([`crate::trace`]) and print it when a bounded run ends (`cargo mvm run
/// --trace FILE`, written like [`MVM_RUN_FOR_NS`]).
#[unsafe(no_mangle)]
#[unsafe(link_section = ".mvm_parameters")]
static mut MVM_TRACE: u64 = 0;

/// The console and one partial line per guest.
struct Consoles<C, const G: usize> {
    uart: Option<C>,
    lines: [LineBuffer; G],
}

/// Every guest line the guard puts back, in a list core 0 fills at boot
/// (before it releases the other cores) and every core only reads after.
struct GuardedLines(
    UnsafeCell<heapless::Vec<crate::interrupts::GuardedLine, { crate::interrupts::MAX_GUARDED }>>,
);

/// Every core's state, each element used by its own core only.
struct CoreStates<const S: usize>(UnsafeCell<[CoreState<S>; MAX_CORES]>);

/// Every core's trace events ([`crate::trace`]), each used by its own core
/// only, as [`CoreStates`]; zero-initialised, so in `.bss`, not in the
/// image.
struct TraceRings(UnsafeCell<[crate::trace::Ring; MAX_CORES]>);

// SAFETY: each core touches its own element only (see `Monitor::ring`).
unsafe impl Sync for TraceRings {}

static TRACE_RINGS: TraceRings =
    TraceRings(UnsafeCell::new([crate::trace::Ring::EMPTY; MAX_CORES]));

/// This core's trace events.
///
/// # Safety
/// As [`Monitor::state`]: called on core `core` itself within one monitor
/// entry, and no other reference to its ring is alive.
#[allow(clippy::mut_from_ref)]
unsafe fn ring(core: u32) -> &'static mut crate::trace::Ring {
    let rings = TRACE_RINGS.0.get() as *mut crate::trace::Ring;
    // SAFETY: `core < MAX_CORES`; exclusive as the caller vouches.
    unsafe { &mut *rings.add(core as usize) }
}

/// The monitor of a system of `G` guests whose cores hold at most `S`
/// guests each.
pub struct Monitor<P: Platform, const G: usize, const S: usize> {
    system: &'static System,
    console: spin::mutex::TicketMutex<Consoles<P::Console, G>>,
    figures: [GuestFigures; G],
    cores: [CoreFigures; MAX_CORES],
    states: CoreStates<S>,
    /// Global timer count at which a bounded run ends; 0: unbounded.
    run_end_ticks: AtomicU64,
    /// The core whose timer ends a bounded run (`u32::MAX`: none): it keeps
    /// its FIQs for the monitor (docs/interrupts.md).
    monitor_timer_core: AtomicU32,
    /// The guard's list of guest lines.
    guarded: GuardedLines,
    /// The doorbell values the monitor saw last, per channel (each written
    /// by its reader's core only).
    doorbells: crate::channels::Doorbells,
    /// Guests entered (or about to be) and not halted.
    running: AtomicU32,
    faults: AtomicU32,
    /// A critical guest failed (`on_failure = "system"`).
    critical: core::sync::atomic::AtomicBool,
    /// The figure request of the core ending the run.
    request: AtomicU32,
}

// SAFETY: the console is behind its lock; the figures are atomics; each
// element of `states` is used by one core only (`Monitor::state`), and by
// core 0 alone before the release; `guarded` is written by core 0 before
// the release only, and read-only after.
unsafe impl<P: Platform, const G: usize, const S: usize> Sync for Monitor<P, G, S> {}

/// `writeln!` to the monitor's console, under its lock.
macro_rules! say {
    ($monitor:expr, $($arg:tt)*) => {
        {
            $monitor.with_console(|uart| { let _ = writeln!(uart, $($arg)*); });
        }
    };
}
use say;

impl<P: Platform, const G: usize, const S: usize> Monitor<P, G, S> {
    // The MPCore drivers are at addresses known at compile time: a
    // constant base is cheaper on the switch path than one loaded from the
    // monitor's static.
    /// The distributor.
    // SAFETY: (all four drivers) the MPCore block is the monitor's (the
    // board's catalogue keeps it from guests, and `Monitor::new`'s caller
    // made one monitor); the offsets are the Cortex-A9's. The
    // distributor's shared registers are written by core 0 at boot,
    // before the other cores start, and later only as single
    // set/clear-enable bits.
    const GICD: Gicd = unsafe { Gicd::new(P::MPCORE_BASE + mpcore::GICD_OFFSET) };
    /// Banked per core.
    // SAFETY: as above.
    const GICC: Gicc = unsafe { Gicc::new(P::MPCORE_BASE + mpcore::GICC_OFFSET) };
    /// Only read after `mvm_early` started it.
    // SAFETY: as above.
    const GLOBAL_TIMER: GlobalTimer =
        unsafe { GlobalTimer::new(P::MPCORE_BASE + mpcore::GLOBAL_TIMER_OFFSET) };
    /// Banked per core and kept Secure by the SCU (SNSAC grants the
    /// Non-secure world no private timer; QEMU does not model SNSAC, see
    /// docs/world-switch.md).
    // SAFETY: as above.
    const PRIVATE_TIMER: PrivateTimer =
        unsafe { PrivateTimer::new(P::MPCORE_BASE + mpcore::PRIVATE_TIMER_OFFSET) };

    /// The monitor of `system`.
    ///
    /// # Safety
    /// One per image: it owns the board's MPCore block and console UART.
    pub const unsafe fn new(system: &'static System) -> Self {
        Self {
            system,
            console: spin::mutex::TicketMutex::new(Consoles {
                uart: None,
                lines: [const { LineBuffer::new() }; G],
            }),
            figures: [const { GuestFigures::new() }; G],
            cores: [const { CoreFigures::new() }; MAX_CORES],
            states: CoreStates(UnsafeCell::new([const { CoreState::EMPTY }; MAX_CORES])),
            run_end_ticks: AtomicU64::new(0),
            monitor_timer_core: AtomicU32::new(u32::MAX),
            guarded: GuardedLines(UnsafeCell::new(heapless::Vec::new())),
            doorbells: crate::channels::Doorbells::new(),
            running: AtomicU32::new(0),
            faults: AtomicU32::new(0),
            critical: core::sync::atomic::AtomicBool::new(false),
            request: AtomicU32::new(0),
        }
    }

    /// This core's state, for one monitor entry.
    ///
    /// # Safety
    /// Called on core `core` itself, once per monitor entry (boot, FIQ,
    /// hypercall, yield), and the reference is not kept beyond that entry:
    /// the monitor runs with interrupts masked and never re-enters itself,
    /// so no other reference to this core's state is alive. Core 0 calls it
    /// only after it released the other cores' states.
    #[allow(clippy::mut_from_ref)]
    unsafe fn state(&self, core: u32) -> &mut CoreState<S> {
        let states = self.states.0.get() as *mut CoreState<S>;
        // SAFETY: `core < MAX_CORES` (the reset code parks other cores);
        // exclusive as the caller vouches.
        unsafe { &mut *states.add(core as usize) }
    }

    /// Every core's state, for core 0 at boot.
    ///
    /// # Safety
    /// Core 0, before it releases the other cores: no other core runs
    /// monitor code, and core 0 holds no other reference.
    #[allow(clippy::mut_from_ref)]
    unsafe fn all_states(&self) -> &mut [CoreState<S>; MAX_CORES] {
        // SAFETY: as the caller vouches.
        unsafe { &mut *self.states.0.get() }
    }

    fn with_console<R>(&self, f: impl FnOnce(&mut P::Console) -> R) -> Option<R> {
        self.console.lock().uart.as_mut().map(f)
    }

    fn now_ticks(&self) -> u64 {
        Self::GLOBAL_TIMER.count()
    }

    fn ticks_to_ns(ticks: u64) -> u64 {
        timing::ticks_to_ns(ticks, P::CLOCK)
    }

    fn now_ns(&self) -> u64 {
        Self::ticks_to_ns(self.now_ticks())
    }

    fn max_cores() -> u32 {
        (MAX_CORES as u32).min(P::CORES)
    }

    /// `mvm_boot`: every core, once, in Monitor mode on its own stack.
    pub fn boot(&'static self, core: u32) -> ! {
        // SAFETY: Monitor mode at boot; the Non-secure world gets
        // ACTLR.SMP only (VFP per guest, at its switch-in), and FIQs come
        // to this monitor.
        unsafe {
            sysreg::Nsacr::write(sysreg::Nsacr(crate::NSACR_NO_FPU));
            sysreg::Scr::write(sysreg::Scr(crate::SCR_MONITOR));
        }
        if core == 0 {
            // SAFETY: core 0 before the release; the reference ends here.
            self.boot_system(unsafe { self.all_states() });
        }
        // SAFETY: this core's boot entry, which never returns.
        let st = unsafe { self.state(core) };
        self.boot_core(core, st)
    }

    /// `mvm_fiq`: the monitor's interrupt while a guest ran: the core's
    /// timer (an EDF event, or the end of the run) or a figure request.
    #[inline(always)]
    pub fn fiq(&'static self, frame: &mut TrapFrame) {
        let core = sysreg::core_id();
        let iar = Self::GICC.acknowledge();
        let id = Gicc::interrupt_id(iar);
        if id >= Gicc::SPECIAL_IDS {
            return;
        }
        Self::GICC.end_of_interrupt(iar);
        // SAFETY: this core's monitor entry.
        let st = unsafe { self.state(core) };
        if id == SGI_SNAPSHOT {
            bump(&self.cores[core as usize].run_end_entries);
            self.publish(core, st);
            return;
        }
        if id != mpcore::IRQ_PRIVATE_TIMER {
            // A guest's Group 0 line retargeted here by another guest's
            // write to the distributor (QEMU lets a Non-secure write do
            // that): put every line back; the line, still pending, goes to
            // its owner's core.
            self.guard(core, st);
            return;
        }
        Self::PRIVATE_TIMER.acknowledge();
        let now = self.now_ticks();
        st.late.record(st.timer_due, now);
        if self.run_end_due(st, now) {
            bump(&self.cores[core as usize].run_end_entries);
            self.finish_run(core, Some(st), now);
        }
        if st.current.is_some() {
            let figures = arch::secure_thread_pointer() as *const GuestFigures;
            // SAFETY: TPIDRPRW (Secure) points at the running guest's
            // figures while a guest's state is live (as for `smc`).
            if let Some(f) = unsafe { figures.as_ref() } {
                bump(&f.fiq);
            }
        }
        match st.role {
            crate::state::Role::Shared => self.reschedule(st, frame, now),
            // A dedicated core's timer: its guest's watchdog, or the run's
            // timer re-armed for a run longer than one shot can time.
            crate::state::Role::Dedicated => self.dedicated_timer(st, now),
            crate::state::Role::Idle => self.arm_timer(st, u64::MAX),
        }
    }

    /// `mvm_smc`: a hypercall. The caller's count is bumped through the
    /// Secure TPIDRPRW, which points at the running guest's figures; the
    /// null call is answered without the core's state.
    #[inline(always)]
    pub fn smc(&'static self, regs: &mut [u32; 4]) -> u32 {
        let figures = arch::secure_thread_pointer() as *const GuestFigures;
        // SAFETY: the monitor points TPIDRPRW (Secure copy) at an element
        // of `self.figures` before it enters any guest on this core, and
        // only there.
        if let Some(f) = unsafe { figures.as_ref() } {
            bump(&f.smc);
        }
        let outcome = self.serve(regs) as u32;
        // No tail call into the slow path: with one, the compiler sets up
        // a stack frame on the null call's path too (2 instructions more).
        core::sync::atomic::compiler_fence(Ordering::SeqCst);
        outcome
    }

    /// `mvm_yield`: the caller yielded (its SMC returned `Reschedule`):
    /// choose what runs next.
    pub fn yield_now(&'static self, frame: &mut TrapFrame) {
        // SAFETY: this core's monitor entry (the SMC entry that asked for
        // it has ended).
        let st = unsafe { self.state(sysreg::core_id()) };
        if st.role == crate::state::Role::Shared {
            // The timer may have fired since the guest's SMC: its FIQ is
            // not needed, the decision is made now.
            Self::PRIVATE_TIMER.acknowledge();
            let now = self.now_ticks();
            self.reschedule(st, frame, now);
        }
    }

    /// `mvm_monitor_fault`: a fault in the monitor itself. The report goes
    /// out, the core stops for good; if it timed a bounded run it still
    /// ends it, without its own figures (they may be half-updated).
    pub fn fault(&'static self, kind: u32, spsr: u32, lr: u32) -> ! {
        let core = sysreg::core_id();
        self.faults.fetch_add(1, Ordering::Relaxed);
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
        // This core may have faulted while holding the console lock: then
        // the report goes out unlocked rather than never.
        let printed = (0..1_000_000).find_map(|_| {
            let mut console = self.console.try_lock()?;
            let uart = console.uart.as_mut()?;
            let _ = writeln!(uart, "{report}");
            Some(())
        });
        if printed.is_none() {
            // SAFETY: a garbled line is the price of reporting a fault that
            // happened with the lock held.
            let mut uart = unsafe { P::console() };
            let _ = writeln!(uart, "{report}");
        }
        // The state of this core's entry may be mid-update and is never
        // touched again; only the run's timer is served.
        self.park_faulted(core)
    }

    /// The panic handler's body: a report that does not wait for a lock
    /// this core may hold, then the end of the run.
    pub fn panic(&self, info: &core::panic::PanicInfo) -> ! {
        // SAFETY: as in `fault`.
        let mut uart = unsafe { P::console() };
        let _ = writeln!(
            uart,
            "mvm: monitor panic on core {}: {info}",
            sysreg::core_id()
        );
        P::end_run(&mut uart, EXIT_MONITOR_PANIC)
    }
}

/// Defines the image's monitor: the one static [`Monitor`] for `$system`
/// on `$platform`, and the entry points the assembly calls (`mvm_early`,
/// `mvm_boot`, `mvm_fiq`, `mvm_smc`, `mvm_yield`, `mvm_monitor_fault`)
/// and the panic handler.
///
/// `$guests` is the number of guests, `$slots` the most guests one core
/// holds (at least 1).
#[macro_export]
macro_rules! monitor {
    (platform: $platform:ty, system: $system:expr, guests: $guests:expr, slots: $slots:expr $(,)?) => {
        // SAFETY: the one monitor of this image.
        static MVM_MONITOR: $crate::monitor::Monitor<$platform, { $guests }, { $slots }> =
            unsafe { $crate::monitor::Monitor::new(&$system) };

        // Start the global timer before anything else so that time counts
        // from reset (give or take the two instructions before this call).
        // No stack yet.
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
            control = const <$platform as $crate::monitor::Platform>::MPCORE_BASE
                + $crate::monitor::GLOBAL_TIMER_CONTROL,
        );

        #[unsafe(no_mangle)]
        extern "C" fn mvm_boot(core: u32) -> ! {
            MVM_MONITOR.boot(core)
        }

        #[unsafe(no_mangle)]
        extern "C" fn mvm_fiq(frame: &mut $crate::context::TrapFrame) {
            MVM_MONITOR.fiq(frame)
        }

        #[unsafe(no_mangle)]
        extern "C" fn mvm_smc(frame: &mut $crate::arch::SmcFrame) -> u32 {
            MVM_MONITOR.smc(&mut frame.r)
        }

        #[unsafe(no_mangle)]
        extern "C" fn mvm_yield(frame: &mut $crate::context::TrapFrame) {
            MVM_MONITOR.yield_now(frame)
        }

        #[unsafe(no_mangle)]
        extern "C" fn mvm_monitor_fault(kind: u32, spsr: u32, lr: u32) -> ! {
            MVM_MONITOR.fault(kind, spsr, lr)
        }

        #[panic_handler]
        fn panic(info: &core::panic::PanicInfo) -> ! {
            MVM_MONITOR.panic(info)
        }
    };
}

/// Offset of the global timer's control register in the MPCore block
/// (`mvm_early` starts the timer through it).
pub const GLOBAL_TIMER_CONTROL: usize = mpcore::GLOBAL_TIMER_OFFSET + 0x08;
