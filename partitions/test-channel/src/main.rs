//! Test guest: one end of a channel (docs/channels.md), its role chosen by
//! the guest's name; QEMU vexpress-a9 only.
//!
//! - `writer*`: every job sends [`BURST`] samples (sequence numbers from 1,
//!   the global timer at sending), rings the doorbell and yields, until
//!   [`TOTAL`] are sent; it reports what a send costs.
//! - `reader*`: takes its notification line, and after each switch-in
//!   drains its end: every sample must be the next in sequence. It reports
//!   how many came in order, the reader's counters, what a receive costs,
//!   and how long after a batch's first sample was sent the notification
//!   came (its handler's first clock reading).
//! - `hostile*`: a writer that also scribbles on the ring's indices and
//!   slots every job (a random published count, random sequence words,
//!   random payload): the reader must survive it, counting errors.
//! - `rw-reader*`: a reader that tries to write its read-only end: the
//!   monitor stops it on the permission fault, the others run on.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use core::sync::atomic::{AtomicU64, Ordering};

use board::global_timer::GlobalTimer;
use board_qemu_vexpress as board;
use demo_messages::Sample;
use mvm_guest::channel::{self, End};
use mvm_guest::irq::{self, Source};
use mvm_guest::{hypercall, println};

/// Samples a writer sends each job.
const BURST: u32 = 64;
/// A reader reports every this many jobs.
const REPORT_EVERY: u32 = 50;
/// Samples a writer sends in all.
const TOTAL: u32 = 6400;
const NS_PER_TICK: u64 = 1_000_000_000 / board::PERIPHCLK_HZ as u64;

// SAFETY: the global timer is readable from the Non-secure world (the
// monitor grants it in the SCU); reads have no side effects.
static GLOBAL_TIMER: GlobalTimer = unsafe { GlobalTimer::new(board::GLOBAL_TIMER_BASE) };

/// The global timer at the last notification (0: none yet).
static NOTIFIED: AtomicU64 = AtomicU64::new(0);
/// Notifications taken.
static NOTIFICATIONS: AtomicU64 = AtomicU64::new(0);

fn first_end(writable: bool) -> &'static End {
    channel::ENDS
        .iter()
        .find(|e| e.writable == writable)
        .expect("the description gives this guest an end of the right kind")
}

/// A small xorshift generator: the hostile writer's garbage.
struct Noise(u32);

impl Noise {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }
}

fn write(hostile: bool) -> ! {
    let end = first_end(true);
    let mut w = end.writer::<Sample>().expect("a writer's end");
    println!(
        "writer: {} samples to `{}` over `{}` ({} slots), {BURST} a job{}",
        TOTAL,
        end.peer,
        end.name,
        w.capacity(),
        if hostile {
            ", scribbling on the ring every job"
        } else {
            ""
        }
    );
    let mut noise = Noise(0x2545_F491);
    let mut seq = 0u32;
    let mut cost_ticks = 0u64;
    while seq < TOTAL {
        let start = GLOBAL_TIMER.count();
        for _ in 0..BURST {
            seq += 1;
            w.send(&Sample {
                seq,
                value: seq as i32,
                sent: GLOBAL_TIMER.count(),
            });
        }
        cost_ticks += GLOBAL_TIMER.count() - start;
        if hostile {
            // Four random words of the ring, among them its published count
            // and a sequence word (word 1 and the first slot's).
            let words = end.size / 4;
            let base = end.base as *mut u32;
            for i in [
                1usize,
                16,
                noise.next() as usize % words,
                noise.next() as usize % words,
            ] {
                // SAFETY: inside this guest's own, writable end.
                unsafe { base.add(i).write_volatile(noise.next()) };
            }
        }
        w.notify();
        hypercall::yield_now();
    }
    println!(
        "writer: sent {seq}; a send costs {} ns",
        cost_ticks * NS_PER_TICK / u64::from(seq)
    );
    loop {
        hypercall::yield_now();
    }
}

fn on_interrupt(source: Source) {
    if let Source::Line(id) = source {
        if channel::ENDS.iter().any(|e| e.irq == Some(id)) {
            NOTIFIED.store(GLOBAL_TIMER.count(), Ordering::Relaxed);
            NOTIFICATIONS.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn read() -> ! {
    let end = first_end(false);
    let mut r = end.reader::<Sample>().expect("a reader's end");
    println!(
        "reader: from `{}` over `{}` ({} slots, line {:?})",
        end.peer,
        end.name,
        r.capacity(),
        end.irq
    );
    // SAFETY: the board's GIC CPU interface, banked: this guest's own.
    unsafe { irq::take(board::GICC_BASE, on_interrupt) };
    let (mut next, mut in_order, mut out_of_order) = (1u32, 0u64, 0u64);
    let (mut cost_ticks, mut timed) = (0u64, 0u64);
    let (mut latency_sum, mut latency_max, mut batches) = (0u64, 0u64, 0u64);
    // When the writer last rang, as far as this reader knows (the last
    // message it read, sent just before the ring) and no notification has
    // matched yet: the first notification at or after it measures the
    // doorbell-to-handler latency.
    let mut rung_at: Option<u64> = None;
    let mut notified_seen = 0u64;
    let mut jobs = 0u32;
    loop {
        hypercall::yield_now();
        let notified = NOTIFIED.load(Ordering::Relaxed);
        let fresh = notified != notified_seen;
        notified_seen = notified;
        let start = GLOBAL_TIMER.count();
        let mut last_sent = None;
        let n = r.recv_all(|s| {
            last_sent = Some(s.sent);
            if s.seq == next {
                in_order += 1;
            } else {
                out_of_order += 1;
            }
            next = s.seq.wrapping_add(1);
        });
        if n > 0 {
            cost_ticks += GLOBAL_TIMER.count() - start;
            timed += n as u64;
        }
        if last_sent.is_some() {
            rung_at = last_sent;
        }
        if let (true, Some(rung)) = (fresh, rung_at) {
            if notified >= rung {
                let l = (notified - rung) * NS_PER_TICK;
                latency_sum += l;
                latency_max = latency_max.max(l);
                batches += 1;
                rung_at = None;
            }
        }
        jobs += 1;
        if jobs % REPORT_EVERY == 0 {
            let s = r.stats();
            println!(
                "reader: {in_order} in order, {out_of_order} out of order; lost={} errors={}; {} notifications; a receive costs {} ns; notified {} ns after the doorbell on average, {} ns at most ({batches} batches)",
                s.lost,
                s.errors,
                NOTIFICATIONS.load(Ordering::Relaxed),
                cost_ticks * NS_PER_TICK / timed.max(1),
                latency_sum / batches.max(1),
                latency_max
            );
        }
    }
}

fn write_read_only() -> ! {
    let end = first_end(false);
    println!("rw-reader: writing to my read-only end `{}`", end.name);
    // SAFETY: deliberately wrong: the end is mapped read-only, and the
    // monitor must stop this guest on the fault.
    unsafe { (end.base as *mut u32).add(1).write_volatile(0xBAD) };
    println!("rw-reader: the write went through: the end is not read-only");
    hypercall::fail(1)
}

fn main() -> ! {
    let mut name = [0u8; 32];
    let me = hypercall::info(&mut name).expect("INFO with a buffer on our own stack is accepted");
    let name = &name[..me.name_len.min(name.len())];
    if name.starts_with(b"writer") {
        write(false)
    } else if name.starts_with(b"hostile") {
        write(true)
    } else if name.starts_with(b"rw-reader") {
        write_read_only()
    } else {
        read()
    }
}

mvm_guest::entry!(main);
