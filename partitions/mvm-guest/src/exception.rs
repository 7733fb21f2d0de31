//! Start-up and the guest's own vector table.
//!
//! - Every exception of the guest lands here, in the Non-secure world; the
//!   entry saves r0-r12, the return address and SPSR in an
//!   [`ExceptionFrame`] on that mode's stack and calls the handler installed
//!   for its kind, then resumes at `frame.pc` (a handler that wants to skip
//!   a faulting instruction adds 4 to it).
//! - FIQ comes here only on an HRT guest's dedicated core, where the
//!   guest's own device lines are Group 0 and taken as FIQ in its own FIQ
//!   mode (docs/interrupts.md); on a shared core every FIQ is the
//!   monitor's (SCR.FIQ = 1).
//! - Guests are built for ARM state; a Thumb undefined instruction would be
//!   reported 2 bytes off.

use core::sync::atomic::{AtomicPtr, Ordering};

/// What the entry code saved; r0-r12 and `pc` are restored from it.
#[repr(C)]
#[derive(Debug)]
pub struct ExceptionFrame {
    /// The interrupted CPSR (restored on return).
    pub spsr: u32,
    kind: u32,
    pub r: [u32; 13],
    /// Undefined instruction, aborts: the faulting instruction. IRQ: the
    /// instruction to resume at. SVC: the one after the `svc`.
    pub pc: u32,
}

impl ExceptionFrame {
    pub fn kind(&self) -> Option<Exception> {
        Exception::from_raw(self.kind)
    }
}

/// The exception kinds, numbered by their vector offset / 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Exception {
    Undefined = 1,
    SupervisorCall = 2,
    PrefetchAbort = 3,
    DataAbort = 4,
    Irq = 6,
    Fiq = 7,
}

impl Exception {
    fn from_raw(raw: u32) -> Option<Self> {
        Some(match raw {
            1 => Self::Undefined,
            2 => Self::SupervisorCall,
            3 => Self::PrefetchAbort,
            4 => Self::DataAbort,
            6 => Self::Irq,
            7 => Self::Fiq,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Undefined => "undefined instruction",
            Self::SupervisorCall => "supervisor call",
            Self::PrefetchAbort => "prefetch abort",
            Self::DataAbort => "data abort",
            Self::Irq => "IRQ",
            Self::Fiq => "FIQ",
        }
    }
}

/// A handler; it may change `frame` (e.g. `frame.pc += 4`).
pub type Handler = fn(&mut ExceptionFrame);

static HANDLERS: [AtomicPtr<()>; 8] = [const { AtomicPtr::new(core::ptr::null_mut()) }; 8];

/// Installs `handler` for `kind`. Without one, the runtime prints the
/// exception and halts the guest.
pub fn set_handler(kind: Exception, handler: Handler) {
    HANDLERS[kind as usize].store(handler as *mut (), Ordering::Release);
}

#[unsafe(no_mangle)]
extern "C" fn mvm_guest_exception(frame: &mut ExceptionFrame) {
    let installed = HANDLERS
        .get(frame.kind as usize)
        .map_or(core::ptr::null_mut(), |h| h.load(Ordering::Acquire));
    if installed.is_null() {
        unhandled(frame)
    }
    // SAFETY: only `set_handler` stores into HANDLERS, and only `Handler`
    // function pointers; a function pointer round-trips through `*mut ()`.
    let handler = unsafe { core::mem::transmute::<*mut (), Handler>(installed) };
    handler(frame)
}

fn unhandled(frame: &ExceptionFrame) -> ! {
    let what = frame.kind().map_or("unknown exception", Exception::name);
    crate::println!(
        "mvm-guest: unhandled {what} at pc {:#010x} (DFAR {:#010x} DFSR {:#x}, IFAR {:#010x} IFSR {:#x}); halting",
        frame.pc,
        crate::cpu::dfar(),
        crate::cpu::dfsr(),
        crate::cpu::ifar(),
        crate::cpu::ifsr()
    );
    crate::hypercall::halt()
}

unsafe extern "Rust" {
    /// Defined by the guest through [`crate::entry!`].
    fn mvm_guest_main() -> !;
}

#[unsafe(no_mangle)]
extern "C" fn mvm_guest_start() -> ! {
    // SAFETY: the guest defines `mvm_guest_main` with `entry!`, which gives
    // it this signature; the runtime calls it once.
    unsafe { mvm_guest_main() }
}

core::arch::global_asm!(
    r#"
    .section .text.mvm_start, "ax"
    .arm
    .global _start
    .type _start, %function
_start:
    @ Non-secure SVC, IRQ and asynchronous aborts masked; MMU off, or on
    @ with the monitor's direct map (PA = VA): only SCTLR.V changes here.
    cps #{irq}
    ldr sp, =__mvm_irq_stack_top
    cps #{abt}
    ldr sp, =__mvm_abt_stack_top
    cps #{und}
    ldr sp, =__mvm_und_stack_top
    cps #{fiq}
    ldr sp, =__mvm_fiq_stack_top
    cps #{svc}
    ldr sp, =__mvm_svc_stack_top
    ldr r0, =__mvm_bss_start
    ldr r1, =__mvm_bss_end
    mov r2, #0
1:  cmp r0, r1
    strlo r2, [r0], #4
    blo 1b
    ldr r0, =mvm_guest_vectors
    mcr p15, 0, r0, c12, c0, 0         @ VBAR (this world's copy)
    mrc p15, 0, r0, c1, c0, 0          @ SCTLR
    bic r0, r0, #(1 << 13)             @ V = 0: vectors at VBAR
    mcr p15, 0, r0, c1, c0, 0
    isb
    cpsie a
    bl mvm_guest_start
2:  b 2b

    .section .text.mvm_vectors, "ax"
    .balign 32
    .global mvm_guest_vectors
mvm_guest_vectors:
    b .                                @ 0x00 reset: never taken
    b mvm_guest_undefined_entry        @ 0x04
    b mvm_guest_svc_entry              @ 0x08
    b mvm_guest_prefetch_abort_entry   @ 0x0C
    b mvm_guest_data_abort_entry       @ 0x10
    b .                                @ 0x14 not used
    b mvm_guest_irq_entry              @ 0x18
    b mvm_guest_fiq_entry              @ 0x1C an HRT guest's device lines (docs/interrupts.md)

    @ lr - adjust is the frame's pc; the handler may move it.
    .macro MVM_GUEST_EXCEPTION name, adjust, kind
\name:
    sub lr, lr, #\adjust
    push {{r0-r12, lr}}
    mrs r0, spsr
    mov r1, #\kind
    push {{r0, r1}}                    @ 16 words: the stack stays 8-aligned
    mov r0, sp
    bl mvm_guest_exception
    pop {{r0, r1}}
    msr spsr_cxsf, r0
    pop {{r0-r12, lr}}
    movs pc, lr
    .endm

    MVM_GUEST_EXCEPTION mvm_guest_undefined_entry, 4, 1
    MVM_GUEST_EXCEPTION mvm_guest_svc_entry, 0, 2
    MVM_GUEST_EXCEPTION mvm_guest_prefetch_abort_entry, 4, 3
    MVM_GUEST_EXCEPTION mvm_guest_data_abort_entry, 8, 4
    MVM_GUEST_EXCEPTION mvm_guest_irq_entry, 4, 6
    MVM_GUEST_EXCEPTION mvm_guest_fiq_entry, 4, 7
"#,
    irq = const 0x12,
    abt = const 0x17,
    und = const 0x1B,
    fiq = const 0x11,
    svc = const 0x13,
);
