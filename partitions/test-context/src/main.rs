//! Test guest: its context survives preemption by other guests.
//!
//! - Loads patterns unique to this guest (from its guest id) into r1-r12
//!   and LR, spins, and compares them (the monitor's timer preempts it in
//!   the middle of most spins).
//! - Sets the banked SP/LR/SPSR of User (via System), IRQ, abort,
//!   undefined and FIQ mode (and FIQ's r8-r12) and SVC's SPSR; CP15
//!   registers a guest owns (TPIDRURW, TPIDRURO, TPIDRPRW, CONTEXTIDR,
//!   DACR, TTBR0, TTBR1, TTBCR, DFAR, IFAR, PAR, PRRR, NMRR, CSSELR; VBAR
//!   as the runtime set it); and, with `fpu = true`, d0-d31 and FPSCR.
//!   Every check compares them with what was read back after setting.
//! - Without `fpu`, it checks that VFP is denied (undefined instruction).
//! - Prints `context: <n> checks, <m> corruptions` every 100 ms, and the
//!   first few differences in detail.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use core::sync::atomic::{AtomicBool, Ordering};

use mvm_guest::exception::{self, Exception, ExceptionFrame};
use mvm_guest::{cpu, hypercall, println};

/// Spin iterations per register check (two instructions each).
const SPIN: u32 = 50_000;
const REPORT_NS: u64 = 100_000_000;

core::arch::global_asm!(
    r#"
    @ context_gprs(seed, iterations) -> 0 if r1-r12 and LR kept their
    @ values (seed + 0 .. seed + 12) across the spin, else 1.
    .section .text.context_gprs, "ax"
    .global context_gprs
context_gprs:
    push {{r4-r11, lr}}
    push {{r0}}
    mov r12, r1
    ldr r1, [sp]
    add r2, r1, #1
    add r3, r1, #2
    add r4, r1, #3
    add r5, r1, #4
    add r6, r1, #5
    add r7, r1, #6
    add r8, r1, #7
    add r9, r1, #8
    add r10, r1, #9
    add r11, r1, #10
    add lr, r1, #12
    mov r0, r12
    add r12, r1, #11
1:  subs r0, r0, #1
    bne 1b
    ldr r0, [sp]
    cmp r1, r0
    bne 2f
    add r0, r0, #1
    cmp r2, r0
    bne 2f
    add r0, r0, #1
    cmp r3, r0
    bne 2f
    add r0, r0, #1
    cmp r4, r0
    bne 2f
    add r0, r0, #1
    cmp r5, r0
    bne 2f
    add r0, r0, #1
    cmp r6, r0
    bne 2f
    add r0, r0, #1
    cmp r7, r0
    bne 2f
    add r0, r0, #1
    cmp r8, r0
    bne 2f
    add r0, r0, #1
    cmp r9, r0
    bne 2f
    add r0, r0, #1
    cmp r10, r0
    bne 2f
    add r0, r0, #1
    cmp r11, r0
    bne 2f
    add r0, r0, #1
    cmp r12, r0
    bne 2f
    add r0, r0, #1
    cmp lr, r0
    bne 2f
    mov r0, #0
    b 3f
2:  mov r0, #1
3:  add sp, sp, #4
    pop {{r4-r11, pc}}
"#
);

unsafe extern "C" {
    fn context_gprs(seed: u32, iterations: u32) -> u32;
}

const BANKED: usize = 20;
const BANKED_NAMES: [&str; BANKED] = [
    "sp_usr", "lr_usr", "spsr_svc", "sp_abt", "lr_abt", "spsr_abt", "sp_und", "lr_und", "spsr_und",
    "sp_irq", "lr_irq", "spsr_irq", "r8_fiq", "r9_fiq", "r10_fiq", "r11_fiq", "r12_fiq", "sp_fiq",
    "lr_fiq", "spsr_fiq",
];

/// Reads the banked registers, in [`BANKED_NAMES`] order.
fn read_banked() -> [u32; BANKED] {
    let mut out = [0u32; BANKED];
    // SAFETY: switches through the modes with interrupts masked (this guest
    // never unmasks them) and back to SVC; only r0 and r1 are used, so no
    // operand lives in FIQ's banked r8-r12; writes stay inside `out`.
    unsafe {
        core::arch::asm!(
            "cps #0x1F",
            "str sp, [r0], #4",
            "str lr, [r0], #4",
            "cps #0x13",
            "mrs r1, spsr",
            "str r1, [r0], #4",
            "cps #0x17",
            "str sp, [r0], #4",
            "str lr, [r0], #4",
            "mrs r1, spsr",
            "str r1, [r0], #4",
            "cps #0x1B",
            "str sp, [r0], #4",
            "str lr, [r0], #4",
            "mrs r1, spsr",
            "str r1, [r0], #4",
            "cps #0x12",
            "str sp, [r0], #4",
            "str lr, [r0], #4",
            "mrs r1, spsr",
            "str r1, [r0], #4",
            "cps #0x11",
            "stmia r0!, {{r8-r12}}",
            "str sp, [r0], #4",
            "str lr, [r0], #4",
            "mrs r1, spsr",
            "str r1, [r0], #4",
            "cps #0x13",
            inout("r0") out.as_mut_ptr() => _,
            out("r1") _,
            options(nostack, preserves_flags)
        )
    };
    out
}

/// Writes the banked registers, in [`BANKED_NAMES`] order (the SPs of
/// abort, undefined and IRQ mode are written back unchanged: the runtime's
/// stacks).
fn write_banked(v: &[u32; BANKED]) {
    // SAFETY: as in `read_banked`; the values written are this guest's own
    // registers of modes it does not use (no IRQ, no faults are expected).
    unsafe {
        core::arch::asm!(
            "cps #0x1F",
            "ldr sp, [r0], #4",
            "ldr lr, [r0], #4",
            "cps #0x13",
            "ldr r1, [r0], #4",
            "msr spsr_cxsf, r1",
            "cps #0x17",
            "ldr sp, [r0], #4",
            "ldr lr, [r0], #4",
            "ldr r1, [r0], #4",
            "msr spsr_cxsf, r1",
            "cps #0x1B",
            "ldr sp, [r0], #4",
            "ldr lr, [r0], #4",
            "ldr r1, [r0], #4",
            "msr spsr_cxsf, r1",
            "cps #0x12",
            "ldr sp, [r0], #4",
            "ldr lr, [r0], #4",
            "ldr r1, [r0], #4",
            "msr spsr_cxsf, r1",
            "cps #0x11",
            "ldmia r0!, {{r8-r12}}",
            "ldr sp, [r0], #4",
            "ldr lr, [r0], #4",
            "ldr r1, [r0], #4",
            "msr spsr_cxsf, r1",
            "cps #0x13",
            inout("r0") v.as_ptr() => _,
            out("r1") _,
            options(nostack, preserves_flags)
        )
    };
}

macro_rules! cp15 {
    ($($name:literal => $op1:literal, $crn:literal, $crm:literal, $op2:literal;)*) => {
        const CP15_NAMES: &[&str] = &[$($name),*];
        const CP15: usize = CP15_NAMES.len();

        fn read_cp15() -> [u32; CP15] {
            let mut out = [0u32; CP15];
            let mut i = 0;
            $(
                let v: u32;
                // SAFETY: reading a CP15 register of this world has no effect.
                unsafe {
                    core::arch::asm!(
                        concat!("mrc p15, ", $op1, ", {}, ", $crn, ", ", $crm, ", ", $op2),
                        out(reg) v,
                        options(nomem, nostack, preserves_flags)
                    )
                };
                out[i] = v;
                i += 1;
            )*
            let _ = i;
            out
        }

        /// # Safety
        /// The values must be harmless with the MMU off (they are: none of
        /// these registers matters before the MMU is on, except VBAR, which
        /// is not written here).
        unsafe fn write_cp15(v: &[u32; CP15]) {
            let mut i = 0;
            $(
                if $name != "VBAR" {
                    // SAFETY: the caller vouches for the value.
                    unsafe {
                        core::arch::asm!(
                            concat!("mcr p15, ", $op1, ", {}, ", $crn, ", ", $crm, ", ", $op2),
                            "isb",
                            in(reg) v[i],
                            options(nomem, nostack, preserves_flags)
                        )
                    };
                }
                i += 1;
            )*
            let _ = i;
        }
    };
}

cp15! {
    "TPIDRURW" => "0", "c13", "c0", "2";
    "TPIDRURO" => "0", "c13", "c0", "3";
    "TPIDRPRW" => "0", "c13", "c0", "4";
    "CONTEXTIDR" => "0", "c13", "c0", "1";
    "DACR" => "0", "c3", "c0", "0";
    "TTBR0" => "0", "c2", "c0", "0";
    "TTBR1" => "0", "c2", "c0", "1";
    "TTBCR" => "0", "c2", "c0", "2";
    "DFAR" => "0", "c6", "c0", "0";
    "IFAR" => "0", "c6", "c0", "2";
    "PAR" => "0", "c7", "c4", "0";
    "PRRR" => "0", "c10", "c2", "0";
    "NMRR" => "0", "c10", "c2", "1";
    "CSSELR" => "2", "c0", "c0", "0";
    "VBAR" => "0", "c12", "c0", "0";
}

#[repr(C, align(8))]
#[derive(Clone, Copy, PartialEq, Eq)]
struct VfpState {
    fpscr: u32,
    pad: u32,
    d: [u64; 32],
}

fn read_vfp() -> VfpState {
    let mut s = VfpState {
        fpscr: 0,
        pad: 0,
        d: [0; 32],
    };
    // SAFETY: VFP is enabled (fpu guests only); writes stay inside `s`.
    unsafe {
        core::arch::asm!(
            ".fpu neon",
            "vmrs r1, fpscr",
            "str r1, [r0]",
            "add r0, r0, #8",
            "vstmia r0!, {{d0-d15}}",
            "vstmia r0, {{d16-d31}}",
            inout("r0") &mut s as *mut VfpState => _,
            out("r1") _,
            options(nostack, preserves_flags)
        )
    };
    s
}

fn write_vfp(s: &VfpState) {
    // SAFETY: VFP is enabled (fpu guests only); the Rust code is
    // soft-float, so no compiler-held value lives in d0-d31.
    unsafe {
        core::arch::asm!(
            ".fpu neon",
            "ldr r1, [r0]",
            "vmsr fpscr, r1",
            "add r0, r0, #8",
            "vldmia r0!, {{d0-d15}}",
            "vldmia r0, {{d16-d31}}",
            inout("r0") s as *const VfpState => _,
            out("r1") _,
            options(nostack, preserves_flags)
        )
    };
}

static UNDEFINED: AtomicBool = AtomicBool::new(false);

fn on_undefined(frame: &mut ExceptionFrame) {
    UNDEFINED.store(true, Ordering::Relaxed);
    frame.pc += 4;
}

struct Checker {
    checks: u64,
    corruptions: u64,
    reported: u32,
}

impl Checker {
    fn differ(&mut self, what: &str, expected: u64, found: u64) {
        self.corruptions += 1;
        if self.reported < 8 {
            self.reported += 1;
            println!("context: CORRUPTED {what}: expected {expected:#x}, found {found:#x}");
        }
    }
}

fn main() -> ! {
    let mut name = [0u8; 32];
    let me = hypercall::info(&mut name).expect("INFO with a buffer on our own stack is accepted");
    let name = core::str::from_utf8(&name[..me.name_len.min(name.len())]).unwrap_or("?");
    let tag = me.id + 1;
    let seed = tag.wrapping_mul(0x1111_0000) | 0x0000_0100;

    let fpu = cpu::try_enable_vfp();
    if !fpu {
        exception::set_handler(Exception::Undefined, on_undefined);
        // SAFETY: reading FPEXC; without VFP access it is undefined and the
        // handler skips it.
        unsafe {
            core::arch::asm!(".fpu neon", "vmrs {}, fpexc", out(reg) _, options(nomem, nostack))
        };
        if UNDEFINED.load(Ordering::Relaxed) {
            println!("context: vfp denied without fpu (undefined instruction)");
        } else {
            println!("context: vfp ALLOWED without fpu");
        }
    }

    // Banked registers: patterns for the registers no code of ours uses;
    // the abort, undefined and IRQ stacks stay the runtime's.
    let mut banked = read_banked();
    for (i, v) in banked.iter_mut().enumerate() {
        let is_stack = matches!(i, 3 | 6 | 9);
        if !is_stack {
            *v = if BANKED_NAMES[i].starts_with("spsr") {
                // A User-mode SPSR with flags and GE bits unique to us.
                ((tag & 0xF) << 28) | ((i as u32 & 0xF) << 16) | 0x10
            } else {
                seed ^ ((i as u32) << 8) ^ 0x5A
            };
        }
    }
    write_banked(&banked);
    let banked = read_banked();

    let mut cp15 = read_cp15();
    for (i, v) in cp15.iter_mut().enumerate() {
        *v = match CP15_NAMES[i] {
            "VBAR" => *v,
            "TTBCR" => tag & 7,
            "CSSELR" => tag & 1,
            "CONTEXTIDR" | "DACR" | "PRRR" | "NMRR" | "DFAR" | "IFAR" => seed ^ ((i as u32) << 4),
            // Translation table bases: 16 KiB aligned values.
            "TTBR0" | "TTBR1" => (seed ^ ((i as u32) << 20)) & !0x3FFF,
            "PAR" => (seed ^ 0x7000) & !1,
            _ => seed ^ ((i as u32) << 4) ^ 0xC0,
        };
    }
    // SAFETY: none of these values matters with the MMU off (VBAR is kept).
    unsafe { write_cp15(&cp15) };
    let cp15 = read_cp15();

    let vfp = fpu.then(|| {
        let mut s = VfpState {
            // N, Z, C, V, default NaN, flush to zero, rounding mode: ours.
            fpscr: ((tag & 0xF) << 28) | (3 << 24) | ((tag & 3) << 22),
            pad: 0,
            d: [0; 32],
        };
        for (i, d) in s.d.iter_mut().enumerate() {
            *d = ((seed as u64) << 32) | (0xD000_0000 + i as u64);
        }
        write_vfp(&s);
        read_vfp()
    });

    println!(
        "context: `{name}` on core {} (fpu {fpu}): checking {} banked and {} CP15 registers{}",
        me.core,
        BANKED,
        CP15,
        if fpu { ", d0-d31 and FPSCR" } else { "" }
    );

    let mut c = Checker {
        checks: 0,
        corruptions: 0,
        reported: 0,
    };
    let mut next_report = hypercall::time_ns() + REPORT_NS;
    loop {
        c.checks += 1;
        // SAFETY: the function preserves the AAPCS callee-saved registers.
        if unsafe { context_gprs(seed, SPIN) } != 0 {
            c.differ("r1-r12/lr", seed as u64, 0);
        }
        let now_banked = read_banked();
        for i in 0..BANKED {
            if now_banked[i] != banked[i] {
                c.differ(BANKED_NAMES[i], banked[i] as u64, now_banked[i] as u64);
            }
        }
        let now_cp15 = read_cp15();
        for i in 0..CP15 {
            if now_cp15[i] != cp15[i] {
                c.differ(CP15_NAMES[i], cp15[i] as u64, now_cp15[i] as u64);
            }
        }
        if let Some(v) = &vfp {
            let now = read_vfp();
            if now.fpscr != v.fpscr {
                c.differ("FPSCR", v.fpscr as u64, now.fpscr as u64);
            }
            for i in 0..32 {
                if now.d[i] != v.d[i] {
                    c.differ("d-register", v.d[i], now.d[i]);
                }
            }
        }
        if c.checks & 7 == 0 {
            let now = hypercall::time_ns();
            if now >= next_report {
                next_report = now + REPORT_NS;
                println!(
                    "context: {} checks, {} corruptions",
                    c.checks, c.corruptions
                );
            }
        }
    }
}

mvm_guest::entry!(main);
