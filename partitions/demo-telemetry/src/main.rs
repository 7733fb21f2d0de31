//! SRT demo: periodic samples, reported on the console.
//!
//! - Runs on a shared core; a sample every 250 ms, reported through the
//!   console hypercall, with timestamps from the TIME hypercall.
//! - On QEMU vexpress-a9 it owns SP804 `timer1` and UART2: the timer
//!   interrupts it through the GIC's Non-secure CPU interface, and each
//!   sample also goes out on its own UART. With nothing to report it
//!   yields the rest of its budget (rather than WFI, which would keep the
//!   shared core for itself): its timer interrupt stays pending while
//!   another guest runs and is taken as soon as it is switched back in, at
//!   its next release at the latest.
//! - On the ZC702 it owns no device (`partitions/examples/zc702.toml`): it
//!   paces itself with the TIME hypercall (`hypercall::sleep_until`).
//! - The board comes from the description (`cfg(mvm_board)`, see
//!   build.rs).
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use mvm_guest::{hypercall, println};

const PERIOD_MS: u32 = 250;

#[cfg(mvm_board = "qemu-vexpress-a9")]
mod sampler {
    use core::fmt::Write;
    use core::sync::atomic::{AtomicU32, Ordering};

    use board::pl011::Pl011;
    use board::sp804::Sp804;
    use board_qemu_vexpress as board;
    use mvm_guest::irq::{self, Source};
    use mvm_guest::{hypercall, println};

    use super::PERIOD_MS;

    const TIMER_IRQ: u32 = board::device("timer1").interrupts[0];

    // SAFETY: timer1 is this guest's passthrough device; only it drives it.
    static TIMER: Sp804 = unsafe { Sp804::new(board::device_base("timer1")) };

    static SAMPLES: AtomicU32 = AtomicU32::new(0);

    /// Its timer's line: Group 1, acknowledged (an SRT guest's lines come
    /// as IRQ; `mvm_guest::irq`).
    fn on_interrupt(source: Source) {
        if source == Source::Line(TIMER_IRQ) {
            TIMER.clear_interrupt();
            SAMPLES.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn run() -> ! {
        // SAFETY: UART2 is this guest's passthrough device; only it drives
        // it.
        let mut uart = unsafe { Pl011::new(board::device_base("uart2")) };
        uart.init();
        let _ = writeln!(uart, "telemetry: hello on my own uart2");

        TIMER.start_periodic(board::SP804_HZ / 1000 * PERIOD_MS);
        // SAFETY: the board's GIC CPU interface; its Non-secure view is
        // banked per core and per world: on a shared core, the monitor
        // hands it to the guest in the processor.
        unsafe { irq::take(board::GICC_BASE, on_interrupt) };

        let mut seen = 0;
        loop {
            hypercall::yield_now();
            let samples = SAMPLES.load(Ordering::Relaxed);
            if samples != seen {
                seen = samples;
                let ms = hypercall::time_ns() / 1_000_000;
                println!("telemetry: sample {samples} at {ms} ms");
                let _ = writeln!(uart, "telemetry: sample {samples} at {ms} ms");
            }
        }
    }
}

#[cfg(mvm_board = "zc702")]
mod sampler {
    use mvm_guest::{hypercall, println};

    use super::PERIOD_MS;

    pub fn run() -> ! {
        let mut next = hypercall::time_ns();
        let mut samples = 0u32;
        loop {
            next += PERIOD_MS as u64 * 1_000_000;
            hypercall::sleep_until(next);
            samples += 1;
            let ms = hypercall::time_ns() / 1_000_000;
            println!("telemetry: sample {samples} at {ms} ms");
        }
    }
}

fn main() -> ! {
    let mut name = [0u8; 32];
    let me = hypercall::info(&mut name).expect("INFO with a buffer on our own stack is accepted");
    println!(
        "telemetry: hello on core {} ({:?}) at {} ns; a sample every {PERIOD_MS} ms",
        me.core,
        me.level,
        hypercall::time_ns()
    );
    sampler::run()
}

mvm_guest::entry!(main);
