//! The start-up and the vector table.
//!
//! - `_start` (the first byte of the guest's RAM): Non-secure SVC, MMU on
//!   with the monitor's direct map, which it keeps: it never writes
//!   SCTLR.M, TTBR0/1, TTBCR or DACR. It masks everything, gives FIQ, IRQ,
//!   abort, undefined and SVC mode their stacks, zeroes `.bss`, points
//!   VBAR at [`mvm_r3_vectors`] (low vectors: SCTLR.V = 0), and calls
//!   `mvm_r3_boot`, which starts R3 in SVC mode.
//! - FIQ (the guest's Group 0 lines): when the interrupted code had IRQs
//!   unmasked, the FIQ's return address and SPSR move to IRQ mode's banked
//!   copies and the port's IRQ entry takes it as if it were an IRQ, as line
//!   `Options::TICK_LINE` (`mvm_r3_fiq_taken` says so to the controller).
//!   When IRQs were masked (CPU Lock, or the port's dispatcher), it returns
//!   with FIQ masked (SPSR.F = 1): the FIQ stays pending until that code
//!   unmasks both, which every path does (CPU Lock's end, a task's
//!   restored CPSR), so R3's critical sections hold against FIQ too.
//! - IRQ: the port's IRQ entry (`MVM_R3_IRQ_ENTRY`, set by `use_port!`).
//! - Undefined instruction, SVC and aborts: reported (`mvm_r3_fault`).
//! - `native`: both cores start here on the bare board; all but core 0
//!   wait forever.

use core::sync::atomic::AtomicU32;

/// Set by the FIQ vector when it hands a FIQ to the port's IRQ entry;
/// the controller's acknowledge takes it.
#[no_mangle]
pub static mvm_r3_fiq_taken: AtomicU32 = AtomicU32::new(0);

/// The FIQ's SPSR and return address, on their way to IRQ mode.
#[no_mangle]
static mut mvm_r3_fiq_frame: [u32; 2] = [0; 2];

/// Called by the start-up in SVC mode, stacks ready: the native set-up
/// (without the monitor), then R3.
#[no_mangle]
unsafe extern "C" fn mvm_r3_boot() -> ! {
    #[cfg(feature = "native")]
    // SAFETY: once, at start-up, before anything uses the MMU or the GIC.
    unsafe {
        crate::native::set_up()
    };
    extern "C" {
        fn mvm_r3_start_kernel() -> !;
    }
    // SAFETY: `use_port!` defines it; called once, in SVC mode.
    unsafe { mvm_r3_start_kernel() }
}

core::arch::global_asm!(
    r#"
    .section .text.mvm_r3_start, "ax"
    .arm
    .global _start
    .type _start, %function
_start:
    cpsid aif
    .if {native}
    mrc p15, 0, r0, c0, c0, 5          @ MPIDR: only core 0 runs R3
    ands r0, r0, #3
    bne 3f
    .endif
    cps #{fiq}
    ldr sp, =mvm_r3_fiq_frame
    cps #{irq}
    mov sp, #0                         @ the port uses sp_irq as scratch
    cps #{abt}
    ldr sp, =__mvm_r3_abt_stack_top
    cps #{und}
    ldr sp, =__mvm_r3_und_stack_top
    cps #{svc}
    ldr sp, =__mvm_r3_svc_stack_top
    ldr r0, =__mvm_r3_bss_start
    ldr r1, =__mvm_r3_bss_end
    mov r2, #0
1:  cmp r0, r1
    strlo r2, [r0], #4
    blo 1b
    ldr r0, =mvm_r3_vectors
    mcr p15, 0, r0, c12, c0, 0         @ VBAR (this world's)
    mrc p15, 0, r0, c1, c0, 0          @ SCTLR: only V changes
    bic r0, r0, #(1 << 13)
    mcr p15, 0, r0, c1, c0, 0
    isb
    cpsie a
    bl mvm_r3_boot
3:  wfi
    b 3b

    .section .text.mvm_r3_vectors, "ax"
    .balign 32
    .global mvm_r3_vectors
mvm_r3_vectors:
    b .                                @ 0x00 reset: never taken
    b 10f                              @ 0x04 undefined instruction
    b 11f                              @ 0x08 SVC
    b 12f                              @ 0x0C prefetch abort
    b 13f                              @ 0x10 data abort
    b .                                @ 0x14 not used
    b 20f                              @ 0x18 IRQ
    @ 0x1C FIQ: r8-r12 are FIQ mode's own; sp_fiq is mvm_r3_fiq_frame.
    mrs r8, spsr
    tst r8, #0x80                      @ IRQs masked where it came?
    orrne r8, r8, #0x40                @ then leave it pending, masked
    msrne spsr_cxsf, r8
    subsne pc, lr, #4
    ldr r9, =mvm_r3_fiq_taken
    mov r10, #1
    str r10, [r9]
    stmia sp, {{r8, lr}}
    cps #{irq}
    ldr sp, =mvm_r3_fiq_frame
    ldr lr, [sp]
    msr spsr_cxsf, lr
    ldr lr, [sp, #4]
20: ldr sp, =MVM_R3_IRQ_ENTRY
    ldr pc, [sp]

10: mov r0, #1
    sub r1, lr, #4
    b 19f
11: mov r0, #2
    sub r1, lr, #4
    b 19f
12: mov r0, #3
    sub r1, lr, #4
    b 19f
13: mov r0, #4
    sub r1, lr, #8
19: ldr sp, =__mvm_r3_abt_stack_top
    b mvm_r3_fault
"#,
    native = const cfg!(feature = "native") as u32,
    fiq = const 0x11,
    irq = const 0x12,
    abt = const 0x17,
    und = const 0x1B,
    svc = const 0x13,
);
