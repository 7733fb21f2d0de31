//! HRT demo: a 100 ms control loop on its own timer, reported on its own UART.
//!
//! - Owns core 0, UART1 and SP804 `timer0` (passthrough); after its greeting
//!   it never enters the monitor: the loop is driven by the timer's
//!   interrupt through the GIC's Non-secure CPU interface and it prints on
//!   UART1 itself.
//! - Devices are found in the board's catalogue by name.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use core::fmt::Write;
use core::sync::atomic::{AtomicU32, Ordering};

use board::gic::Gicc;
use board::global_timer::GlobalTimer;
use board::pl011::Pl011;
use board::sp804::Sp804;
use board_qemu_vexpress as board;
use mvm_guest::exception::{self, Exception, ExceptionFrame};
use mvm_guest::{cpu, hypercall, println};

const PERIOD_MS: u32 = 100;
const TIMER_IRQ: u32 = board::device("timer0").interrupts[0];

// SAFETY: timer0 is this guest's passthrough device; only it drives it.
static TIMER: Sp804 = unsafe { Sp804::new(board::device_base("timer0")) };
// SAFETY: the GIC CPU interface is banked per core and per world: this is
// core 0's Non-secure view, which only this guest uses.
static GICC: Gicc = unsafe { Gicc::new(board::GICC_BASE) };
// SAFETY: the global timer is readable from the Non-secure world (the
// monitor grants it in the SCU); reads have no side effects.
static GLOBAL_TIMER: GlobalTimer = unsafe { GlobalTimer::new(board::GLOBAL_TIMER_BASE) };

static TICKS: AtomicU32 = AtomicU32::new(0);

fn on_irq(_frame: &mut ExceptionFrame) {
    let iar = GICC.acknowledge();
    let id = Gicc::interrupt_id(iar);
    if id >= Gicc::SPECIAL_IDS {
        return;
    }
    if id == TIMER_IRQ {
        TIMER.clear_interrupt();
        TICKS.fetch_add(1, Ordering::Relaxed);
    }
    GICC.end_of_interrupt(iar);
}

fn millis_since_reset() -> u64 {
    GLOBAL_TIMER.count() / (board::PERIPHCLK_HZ / 1000) as u64
}

fn main() -> ! {
    let mut name = [0u8; 32];
    let me = hypercall::info(&mut name).expect("INFO with a buffer on our own stack is accepted");
    let name = core::str::from_utf8(&name[..me.name_len.min(name.len())]).unwrap_or("?");
    println!(
        "control: hello from `{name}` on core {} ({:?}), ABI {:#x}; ticking every {PERIOD_MS} ms on uart1",
        me.core,
        me.level,
        hypercall::version()
    );

    // SAFETY: UART1 is this guest's passthrough device; only it drives it.
    let mut uart = unsafe { Pl011::new(board::device_base("uart1")) };
    uart.init();
    let _ = writeln!(uart, "control: hello on my own uart1");
    // From here on this guest makes no hypercall: the monitor's count of
    // entries on this core must equal this figure.
    let _ = writeln!(
        uart,
        "control: {} hypercalls made; none from now on",
        hypercall::count()
    );

    exception::set_handler(Exception::Irq, on_irq);
    TIMER.start_periodic(board::SP804_HZ / 1000 * PERIOD_MS);
    cpu::enable_irq();

    let mut seen = 0;
    loop {
        cpu::wait_for_interrupt();
        let ticks = TICKS.load(Ordering::Relaxed);
        if ticks != seen {
            seen = ticks;
            let _ = writeln!(uart, "control: tick {ticks} at {} ms", millis_since_reset());
        }
    }
}

mvm_guest::entry!(main);
