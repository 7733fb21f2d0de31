//! HRT demo: a 100 ms control loop on its own timer, reported on its own UART.
//!
//! - Owns core 0, a UART and a timer (passthrough); after its greeting it
//!   never enters the monitor: the loop is driven by the timer's interrupt,
//!   a Group 0 line taken as FIQ in its own FIQ mode (docs/interrupts.md;
//!   no Non-secure write of another guest can disable or retarget it), and
//!   it prints on its UART itself. Where the monitor keeps FIQs (a bounded
//!   run with no shared or idle core to time it) the same line comes as an
//!   IRQ through the GIC's Non-secure CPU interface instead.
//! - Devices are found in the board's catalogue by name. The board comes
//!   from the description (`cfg(mvm_board)`, see build.rs): on QEMU
//!   vexpress-a9 `uart1` (PL011) and SP804 `timer0`, on the ZC702 `uart0`
//!   (Cadence) and `ttc1` (its first counter); `devices` is the only
//!   board-specific part.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use core::fmt::Write;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use board::global_timer::GlobalTimer;
use demo_messages::Sample;
use devices::board;
use mvm_guest::channel::{self, Writer};
use mvm_guest::irq::{self, Source};
use mvm_guest::{cpu, hypercall, println};

const PERIOD_MS: u32 = 100;
/// The most channels this guest writes.
const MAX_WRITERS: usize = 4;
/// One period in global-timer ticks.
const PERIOD_TICKS: u64 = devices::board::PERIPHCLK_HZ as u64 / 1000 * PERIOD_MS as u64;
/// Nanoseconds a global-timer tick (QEMU: 10; ZC702: 3).
const NS_PER_TICK: u64 = 1_000_000_000 / devices::board::PERIPHCLK_HZ as u64;

/// This guest's UART and timer on QEMU vexpress-a9.
#[cfg(mvm_board = "qemu-vexpress-a9")]
mod devices {
    use board::pl011::Pl011;
    use board::sp804::Sp804;
    pub use board_qemu_vexpress as board;

    pub const UART_NAME: &str = "uart1";
    pub const TIMER_IRQ: u32 = board::device("timer0").interrupts[0];
    pub type Uart = Pl011;

    // SAFETY: timer0 is this guest's passthrough device; only it drives it.
    static TIMER: Sp804 = unsafe { Sp804::new(board::device_base("timer0")) };

    /// The UART, initialised.
    pub fn uart() -> Uart {
        // SAFETY: UART1 is this guest's passthrough device; only it drives
        // it.
        let uart = unsafe { Pl011::new(board::device_base(UART_NAME)) };
        uart.init();
        uart
    }

    /// An interrupt every `ms` milliseconds.
    pub fn start_timer(ms: u32) {
        TIMER.start_periodic(board::SP804_HZ / 1000 * ms);
    }

    /// Acknowledges the timer's interrupt.
    pub fn clear_timer() {
        TIMER.clear_interrupt();
    }
}

/// This guest's UART and timer on the ZC702.
#[cfg(mvm_board = "zc702")]
mod devices {
    use board::cadence_uart::{CadenceUart, CONSOLE_DIVISORS};
    use board::ttc::{Interval, Ttc};
    pub use board_zc702 as board;

    pub const UART_NAME: &str = "uart0";
    /// TTC1's first counter.
    const COUNTER: usize = 0;
    pub const TIMER_IRQ: u32 = board::device("ttc1").interrupts[COUNTER];
    pub type Uart = CadenceUart;

    // SAFETY: ttc1 is this guest's passthrough device; only it drives it.
    static TIMER: Ttc = unsafe { Ttc::new(board::device_base("ttc1")) };

    /// The UART, initialised (115200 8N1 from the 100 MHz UART_REF_CLK).
    pub fn uart() -> Uart {
        // SAFETY: UART0 is this guest's passthrough device; only it drives
        // it.
        let uart = unsafe { CadenceUart::new(board::device_base(UART_NAME)) };
        uart.init(CONSOLE_DIVISORS);
        uart
    }

    /// An interrupt every `ms` milliseconds (TTCs count CPU_1x, 9 ns).
    pub fn start_timer(ms: u32) {
        let cycles = board::clocks::CPU_1X.ticks_in_ns_floor(ms as u64 * 1_000_000);
        let interval = Interval::at_most(cycles).expect("100 ms is within a TTC's reach");
        TIMER.start_interval(COUNTER, interval);
    }

    /// Acknowledges the timer's interrupt (clear on read).
    pub fn clear_timer() {
        let _ = TIMER.take_interrupts(COUNTER);
    }
}

const TIMER_IRQ: u32 = devices::TIMER_IRQ;

// SAFETY: the global timer is readable from the Non-secure world (the
// monitor grants it in the SCU); reads have no side effects.
static GLOBAL_TIMER: GlobalTimer = unsafe { GlobalTimer::new(board::GLOBAL_TIMER_BASE) };

static TICKS: AtomicU32 = AtomicU32::new(0);
/// The global timer just before the periodic timer was started: tick `k`
/// is due `k` periods later.
static START: AtomicU64 = AtomicU64::new(0);
/// The last tick's handler entry after its due time, in global-timer
/// ticks, and how it came (1: FIQ, 2: IRQ).
static LATENCY: AtomicU32 = AtomicU32::new(0);
static PATH: AtomicU32 = AtomicU32::new(0);

/// A tick: its latency (the handler's first clock reading after the
/// time the timer was due, which includes the few instructions between
/// the start reading and the timer's start), counted.
fn tick(path: u32) {
    let now = GLOBAL_TIMER.count();
    let k = TICKS.load(Ordering::Relaxed) as u64 + 1;
    let due = START.load(Ordering::Relaxed) + k * PERIOD_TICKS;
    LATENCY.store(now.saturating_sub(due) as u32, Ordering::Relaxed);
    PATH.store(path, Ordering::Relaxed);
    TICKS.fetch_add(1, Ordering::Relaxed);
}

/// The timer's interrupt, whichever way it comes (`mvm_guest::irq`): as
/// FIQ on this guest's own core (a Group 0 line, no acknowledge: the line
/// drops when the timer's interrupt is cleared), or as an acknowledged IRQ
/// where the monitor keeps FIQs (a bounded run with no shared or idle core
/// to time it).
fn on_interrupt(source: Source) {
    match source {
        Source::Fiq => tick(1),
        Source::Line(id) if id == TIMER_IRQ => tick(2),
        Source::Line(_) => return,
    }
    devices::clear_timer();
}

fn millis_since_reset() -> u64 {
    GLOBAL_TIMER.count() / (board::PERIPHCLK_HZ / 1000) as u64
}

fn main() -> ! {
    let mut name = [0u8; 32];
    let me = hypercall::info(&mut name).expect("INFO with a buffer on our own stack is accepted");
    let name = core::str::from_utf8(&name[..me.name_len.min(name.len())]).unwrap_or("?");
    println!(
        "control: hello from `{name}` on core {} ({:?}), ABI {:#x}; ticking every {PERIOD_MS} ms on {}",
        me.core,
        me.level,
        hypercall::version(),
        devices::UART_NAME
    );

    let mut uart = devices::uart();
    let _ = writeln!(uart, "control: hello on my own {}", devices::UART_NAME);
    // From here on this guest makes no hypercall: the monitor's count of
    // entries on this core must equal this figure.
    let _ = writeln!(
        uart,
        "control: {} hypercalls made; none from now on",
        hypercall::count()
    );

    // A sample every tick to every channel this guest writes
    // (docs/channels.md): written and rung without the monitor, so this
    // core still sees no monitor entry.
    let mut writers: [Option<Writer<Sample>>; MAX_WRITERS] = [const { None }; MAX_WRITERS];
    for (slot, end) in writers
        .iter_mut()
        .zip(channel::ENDS.iter().filter(|e| e.writable))
    {
        match end.writer::<Sample>() {
            Ok(w) => {
                let _ = writeln!(
                    uart,
                    "control: a sample every tick to `{}` over channel `{}` ({} slots)",
                    end.peer,
                    end.name,
                    w.capacity()
                );
                *slot = Some(w);
            }
            Err(e) => {
                let _ = writeln!(uart, "control: channel `{}`: {e:?}", end.name);
            }
        }
    }

    START.store(GLOBAL_TIMER.count(), Ordering::Relaxed);
    devices::start_timer(PERIOD_MS);
    // SAFETY: the board's GIC CPU interface; its Non-secure view is banked
    // per core and per world: this guest's own.
    unsafe { irq::take(board::GICC_BASE, on_interrupt) };

    let mut seen = 0;
    loop {
        cpu::wait_for_interrupt();
        let ticks = TICKS.load(Ordering::Relaxed);
        if ticks != seen {
            seen = ticks;
            let sample = Sample {
                seq: ticks,
                value: (ticks.wrapping_mul(37) % 200) as i32 - 100,
                sent: GLOBAL_TIMER.count(),
            };
            for w in writers.iter_mut().flatten() {
                w.send(&sample);
                w.notify();
            }
            let ns = LATENCY.load(Ordering::Relaxed) as u64 * NS_PER_TICK;
            let path = match PATH.load(Ordering::Relaxed) {
                1 => "fiq",
                _ => "irq",
            };
            let _ = writeln!(
                uart,
                "control: tick {ticks} at {} ms ({path}, handler {ns} ns after the timer)",
                millis_since_reset()
            );
        }
    }
}

mvm_guest::entry!(main);
