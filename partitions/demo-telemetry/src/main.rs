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

/// The channels this guest reads (docs/channels.md): every message is
/// printed with how long after its sending this guest was notified.
mod inbox {
    use demo_messages::Sample;
    use mvm_guest::channel::{self, End, Reader, Stats};
    use mvm_guest::println;

    const MAX: usize = 4;

    pub struct Inbox {
        readers: [Option<(&'static End, Reader<Sample>, Stats)>; MAX],
    }

    /// Whether `id` is one of this guest's notification lines.
    pub fn is_notification(id: u32) -> bool {
        channel::ENDS.iter().any(|e| e.irq == Some(id))
    }

    impl Inbox {
        pub fn open() -> Self {
            let mut readers = [const { None }; MAX];
            for (slot, end) in readers
                .iter_mut()
                .zip(channel::ENDS.iter().filter(|e| !e.writable))
            {
                match end.reader::<Sample>() {
                    Ok(r) => {
                        match end.irq {
                            Some(line) => println!(
                                "telemetry: reading channel `{}` from `{}` ({} slots, notified on line {line})",
                                end.name, end.peer, r.capacity()
                            ),
                            None => println!(
                                "telemetry: reading channel `{}` from `{}` ({} slots, polled)",
                                end.name, end.peer, r.capacity()
                            ),
                        }
                        *slot = Some((end, r, Stats::default()));
                    }
                    Err(e) => println!("telemetry: channel `{}`: {e:?}", end.name),
                }
            }
            Self { readers }
        }

        /// Prints every message waiting, and the reader's counters when
        /// they changed. `clock` is the global timer now and its
        /// nanoseconds a tick, where the guest reads it: each message then
        /// says how long after its sending it was read.
        pub fn drain(&mut self, clock: Option<(u64, u64)>) {
            for (end, reader, seen) in self.readers.iter_mut().flatten() {
                while let Some(s) = reader.try_recv() {
                    match clock {
                        Some((now, ns_per_tick)) => println!(
                            "telemetry: sample seq={} value={} over `{}` (read {} ns after it was sent)",
                            s.seq,
                            s.value,
                            end.name,
                            now.saturating_sub(s.sent) * ns_per_tick
                        ),
                        None => println!(
                            "telemetry: sample seq={} value={} over `{}`",
                            s.seq, s.value, end.name
                        ),
                    }
                }
                let stats = reader.stats();
                if (stats.lost, stats.errors) != (seen.lost, seen.errors) {
                    println!(
                        "telemetry: channel `{}`: lost={} errors={}",
                        end.name, stats.lost, stats.errors
                    );
                }
                *seen = stats;
            }
        }
    }
}

#[cfg(mvm_board = "qemu-vexpress-a9")]
mod sampler {
    use core::fmt::Write;
    use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

    use board::global_timer::GlobalTimer;
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
    /// The global timer just before the periodic timer was started.
    static START: AtomicU64 = AtomicU64::new(0);
    /// The last sample's handler entry after its timer was due, in
    /// global-timer ticks.
    static LATENCY: AtomicU64 = AtomicU64::new(0);
    const PERIOD_TICKS: u64 = board::PERIPHCLK_HZ as u64 / 1000 * PERIOD_MS as u64;
    const NS_PER_TICK: u64 = 1_000_000_000 / board::PERIPHCLK_HZ as u64;

    // SAFETY: the global timer is readable from the Non-secure world (the
    // monitor grants it in the SCU); reads have no side effects.
    static GLOBAL_TIMER: GlobalTimer = unsafe { GlobalTimer::new(board::GLOBAL_TIMER_BASE) };

    /// Its timer's line: Group 1, acknowledged (an SRT guest's lines come
    /// as IRQ; `mvm_guest::irq`).
    fn on_interrupt(source: Source) {
        if let Source::Line(id) = source {
            if super::inbox::is_notification(id) {
                // Nothing to do in the handler: the main loop reads the
                // channel once the interrupt has woken it.
                return;
            }
        }
        if source == Source::Line(TIMER_IRQ) {
            let now = GLOBAL_TIMER.count();
            let k = SAMPLES.load(Ordering::Relaxed) as u64 + 1;
            let due = START.load(Ordering::Relaxed) + k * PERIOD_TICKS;
            LATENCY.store(now.saturating_sub(due), Ordering::Relaxed);
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

        let mut inbox = super::inbox::Inbox::open();
        START.store(GLOBAL_TIMER.count(), Ordering::Relaxed);
        TIMER.start_periodic(board::SP804_HZ / 1000 * PERIOD_MS);
        // SAFETY: the board's GIC CPU interface; its Non-secure view is
        // banked per core and per world: on a shared core, the monitor
        // hands it to the guest in the processor.
        unsafe { irq::take(board::GICC_BASE, on_interrupt) };

        // A guest named `...-busy` keeps its core instead of yielding, so
        // that its timer finds it running (the latency of a running SRT
        // guest's line: docs/interrupts.md).
        let mut name = [0u8; 32];
        let busy = hypercall::info(&mut name)
            .map(|me| name[..me.name_len.min(name.len())].ends_with(b"-busy"))
            .unwrap_or(false);
        let mut seen = 0;
        loop {
            if !busy {
                hypercall::yield_now();
            }
            inbox.drain(Some((GLOBAL_TIMER.count(), NS_PER_TICK)));
            let samples = SAMPLES.load(Ordering::Relaxed);
            if samples != seen {
                seen = samples;
                let ms = hypercall::time_ns() / 1_000_000;
                let late = LATENCY.load(Ordering::Relaxed) * NS_PER_TICK;
                println!(
                    "telemetry: sample {samples} at {ms} ms (handler {late} ns after the timer)"
                );
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
        let mut inbox = super::inbox::Inbox::open();
        let mut next = hypercall::time_ns();
        let mut samples = 0u32;
        loop {
            next += PERIOD_MS as u64 * 1_000_000;
            hypercall::sleep_until(next);
            inbox.drain(None);
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
