//! Test guest: measures the world switch from the gaps in its own timeline.
//!
//! - Two of these share a core, each greedy (never yields) with
//!   `slack = true`: past their small budgets the monitor hands idle time
//!   round-robin in equal slices, so the core alternates A, B, A, B, every
//!   switch driven by the monitor's timer.
//! - Each reads the global timer every [`SPIN`] register-only loop
//!   iterations (a timer read is an I/O access, slow under emulation; the
//!   spin is not). A jump larger than [`GAP_TICKS`] is time away: the other
//!   guest's slice plus two switches (timer interrupt, EDF decision,
//!   context out and in, timer reprogramming, return). A gap and a slice
//!   are each off by the partial loop iterations at their ends, `loop` on
//!   average, so with equal slices
//!   `switch = (mean gap - mean own slice) / 2 - loop`.
//! - After [`SAMPLES`] gaps it prints once:
//!   `mvm-bench guest=<name> fpu=<bool> gaps=<n> gap_ns=<mean>
//!   slice_ns=<mean> loop_ns=<mean> switch_ns=<switch>`; under
//!   `-icount shift=0` a nanosecond is one instruction.
//! - Run the pair alone on a core with the other core idle: QEMU runs the
//!   emulated cores round-robin, and a busy other core shows up as gaps.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use board::global_timer::GlobalTimer;
use board_qemu_vexpress as board;
use mvm_guest::{cpu, hypercall, println};

/// A jump in the timer longer than this (2 µs) is a gap, not the loop.
const GAP_TICKS: u32 = 200;
/// Gaps measured before reporting; the first [`WARM_UP`] are skipped.
const SAMPLES: u64 = 300;
const WARM_UP: u64 = 4;
/// Register-only iterations between timer reads (two instructions each):
/// about 100 ns a loop, so a gap's ends are known within about that.
const SPIN: u32 = 40;

// SAFETY: the global timer is readable from the Non-secure world (the
// monitor grants it in the SCU); reads have no side effects.
static GLOBAL_TIMER: GlobalTimer = unsafe { GlobalTimer::new(board::GLOBAL_TIMER_BASE) };

fn main() -> ! {
    let mut name = [0u8; 32];
    let me = hypercall::info(&mut name).expect("INFO with a buffer on our own stack is accepted");
    let name = core::str::from_utf8(&name[..me.name_len.min(name.len())]).unwrap_or("?");
    // SCTLR is the guest's own; CPACR tells whether the monitor granted
    // VFP (it is RAZ/WI for CP10/CP11 when NSACR denies them).
    let fpu = cpu::try_enable_vfp();
    println!("bench: `{name}` on core {} (fpu {fpu}); measuring", me.core);

    let ns_per_tick = 1_000_000_000 / board::PERIPHCLK_HZ as u64;
    let (mut gaps, mut gap_ticks, mut slice_ticks) = (0u64, 0u64, 0u64);
    let (mut reads, mut read_ticks) = (0u64, 0u64);
    let mut last = GLOBAL_TIMER.low();
    let mut slice_start = last;
    loop {
        cpu::spin(SPIN);
        let t = GLOBAL_TIMER.low();
        let d = t.wrapping_sub(last);
        if d > GAP_TICKS {
            gaps += 1;
            if gaps > WARM_UP {
                gap_ticks += d as u64;
                slice_ticks += last.wrapping_sub(slice_start) as u64;
            }
            slice_start = t;
            if gaps == WARM_UP + SAMPLES {
                let gap = gap_ticks * ns_per_tick / SAMPLES;
                let slice = slice_ticks * ns_per_tick / SAMPLES;
                let lp = read_ticks * ns_per_tick / reads.max(1);
                println!(
                    "mvm-bench guest={name} fpu={fpu} gaps={SAMPLES} gap_ns={gap} slice_ns={slice} loop_ns={lp} switch_ns={}",
                    (gap.saturating_sub(slice) / 2).saturating_sub(lp)
                );
            }
        } else if gaps > WARM_UP {
            reads += 1;
            read_ticks += d as u64;
        }
        last = t;
    }
}

mvm_guest::entry!(main);
