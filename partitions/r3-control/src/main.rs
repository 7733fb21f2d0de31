//! HRT guest: R3-OS doing the control guest's job on its own core.
//!
//! - A periodic R3 timer every 100 ms wakes the control task, which
//!   prints `control: tick N at T ms (fiq, handler L ns after the timer)`
//!   on the guest's own UART, as `demo-control` does; T is the board's
//!   global timer, L how late the last kernel tick's handler ran after its
//!   timer expired (mvm_r3::tick).
//! - Every second it also prints the kernel ticks' latency so far
//!   (`control: latency over N ticks: ...`), the figure the benchmark
//!   compares with the same application run natively.
//! - The kernel ticks every millisecond on the guest's own timer (SP804
//!   `timer0` on QEMU, TTC `ttc1` on the ZC702), whose line comes as FIQ;
//!   after boot the guest never enters the monitor: it makes no hypercall.
//! - An idle task at the lowest priority waits for interrupts, so the
//!   port's own idle loop (which unmasks IRQ only) never runs.
//! - `native`: the same application on the bare board (mvm_r3::native);
//!   it ends the run after `NATIVE_SECONDS`.
#![feature(const_refs_to_cell)]
#![feature(const_trait_impl)]
#![feature(const_mut_refs)]
#![feature(naked_functions)]
#![feature(asm_const)]
#![deny(unsafe_op_in_unsafe_fn)]
#![no_std]
#![no_main]

use core::fmt::Write;
use core::sync::atomic::{AtomicU32, Ordering};

use mvm_r3::console::Uart;
use mvm_r3::devices;
use r3::kernel::{prelude::*, traits, Cfg, StaticTask, StaticTimer};
use r3::time::Duration;

type System = r3_kernel::System<SystemTraits>;
mvm_r3::use_port!(unsafe struct SystemTraits);

/// This guest's UART and tick timer on QEMU vexpress-a9.
#[cfg(mvm_board_qemu)]
mod board {
    pub use mvm_r3::devices::timer0 as timer;
    pub use mvm_r3::devices::uart1 as uart;
    pub const UART_NAME: &str = "uart1";
}

/// This guest's UART and tick timer (its first counter) on the ZC702.
#[cfg(mvm_board_zc702)]
mod board {
    pub use mvm_r3::devices::ttc1 as timer;
    pub use mvm_r3::devices::uart0 as uart;
    pub const UART_NAME: &str = "uart0";
}

impl mvm_r3::Options for SystemTraits {
    const TICK_TIMER_BASE: usize = board::timer::BASE;
    const TICK_TIMER_HZ: u32 = board::timer::CLOCK_HZ;
    const TICK_LINE: u32 = board::timer::INTERRUPTS[0];
}

const PERIOD_MS: u32 = 100;
/// How long a native run lasts (under MVM the monitor ends the run).
#[cfg(feature = "native")]
const NATIVE_SECONDS: u32 = 5;

struct Objects {
    control: StaticTask<System>,
}

static COTTAGE: Objects = r3_kernel::build!(SystemTraits, configure_app => Objects);

const fn configure_app<C>(b: &mut Cfg<C>) -> Objects
where
    C: ~const traits::CfgTask<System = System>
        + ~const traits::CfgTimer
        + ~const traits::CfgInterruptLine,
{
    b.num_task_priority_levels(4);
    SystemTraits::configure_tick(b);
    let control = StaticTask::define()
        .start(control_task)
        .priority(1)
        .active(true)
        .stack_size(4096)
        .finish(b);
    StaticTask::define()
        .start(idle_task)
        .priority(3)
        .active(true)
        .stack_size(512)
        .finish(b);
    StaticTimer::define()
        .delay(Duration::from_millis(PERIOD_MS as i32))
        .period(Duration::from_millis(PERIOD_MS as i32))
        .active(true)
        .start(period_elapsed)
        .finish(b);
    Objects { control }
}

/// Periods elapsed (the R3 timer's callback counts them).
static PERIODS: AtomicU32 = AtomicU32::new(0);

fn period_elapsed() {
    PERIODS.fetch_add(1, Ordering::Relaxed);
    // The task parks between periods; a period it is late for is counted
    // and shows as a missing tick number.
    let _ = COTTAGE.control.unpark_exact();
}

fn millis_since_reset() -> u64 {
    mvm_r3::global_timer::count() / (devices::GLOBAL_TIMER_HZ / 1000) as u64
}

fn control_task() {
    // SAFETY: the UART is this guest's passthrough device; only this task
    // writes it.
    let mut uart = unsafe { Uart::new(board::uart::BASE) };
    uart.init(board::uart::CLOCK_HZ);
    let _ = writeln!(
        uart,
        "control: R3-OS on {}, ticking every {PERIOD_MS} ms on {}; no hypercalls",
        devices::BOARD,
        board::UART_NAME
    );
    let mut seen = 0;
    loop {
        let _ = System::park();
        let n = PERIODS.load(Ordering::Relaxed);
        if n == seen {
            continue;
        }
        seen = n;
        let l = mvm_r3::tick::latency();
        let _ = writeln!(
            uart,
            "control: tick {n} at {} ms (fiq, handler {} ns after the timer)",
            millis_since_reset(),
            l.last_ns
        );
        if n % 10 == 0 {
            let _ = writeln!(
                uart,
                "control: latency over {} ticks: mean {}.{:02} ns, min {} ns, max {} ns",
                l.ticks,
                l.mean_cns / 100,
                l.mean_cns % 100,
                l.min_ns,
                l.max_ns
            );
            #[cfg(feature = "native")]
            if n >= NATIVE_SECONDS * 1000 / PERIOD_MS {
                mvm_r3::native::exit();
            }
        }
    }
}

fn idle_task() {
    loop {
        // SAFETY: WFI has no memory effects; interrupts are unmasked in
        // a task.
        unsafe { core::arch::asm!("wfi") };
    }
}
