//! The Arm shell: reset entry, vector tables, SMC/FIQ entry, guest entry.
//!
//! The image crate provides the Rust side as `extern "C"` functions:
//! - `mvm_early()`: board hook run first, without a stack (starts the
//!   global timer so that time is measured from reset).
//! - `mvm_boot(core: u32) -> !`: Monitor mode, own stack. Core 0 arrives
//!   with `.bss` zeroed; the other cores arrive only after core 0 called
//!   [`release_secondary_cores`].
//!
//! Secondary cores reach `_start` in one of two ways, and the same code
//! serves both: at reset together with core 0 (QEMU vexpress), or later,
//! when the board's boot ROM is told to jump to [`reset_entry`] (the
//! ZC702's CPU1 waits in its boot ROM until then). Either way a secondary
//! core waits at `_start` for the release flag, which core 0 sets before
//! waking any core, so a late core finds it set and goes straight on.
//! - `mvm_smc(frame: &mut SmcFrame) -> u32`: a hypercall, SCR.NS = 0;
//!   returns 0 to resume the caller, 1 when it yielded (then
//!   `mvm_yield(frame: &mut TrapFrame)` follows with the full frame).
//! - `mvm_fiq(frame: &mut TrapFrame)`: a Group 0 interrupt, SCR.NS = 0;
//!   whatever guest the frame holds on return is resumed.
//! - `mvm_monitor_fault(kind, spsr, lr) -> !`: a fault in the monitor.
//!
//! Linker-script symbols it uses: `__bss_start`, `__bss_end`,
//! `__monitor_stacks_end` (`MAX_CORES` × `MONITOR_STACK_SIZE`, top down by
//! core) and `__fault_stacks_end` (`MAX_CORES` × `FAULT_STACK_SIZE`).
//!
//! The SMC path saves only what the AAPCS lets Rust clobber (r0-r3, r12,
//! lr): a null hypercall costs 30 instructions round trip. The FIQ path
//! and a yielding SMC build a full [`TrapFrame`]; the rest of a guest's
//! context (banked registers, CP15, VFP) is saved and loaded by the
//! functions below only when the guest on the core changes
//! (`docs/world-switch.md`).
use core::sync::atomic::{AtomicU32, Ordering};

use crate::context::{Cp15, GuestContext, TrapFrame, Vfp};
use crate::{mode, GuestEntry, MAX_CORES, SCR_GUEST, SCR_MONITOR};

/// log2 of each core's monitor stack size.
pub const MONITOR_STACK_SHIFT: u32 = 14;
pub const MONITOR_STACK_SIZE: usize = 1 << MONITOR_STACK_SHIFT;
/// log2 of each core's fault stack size.
pub const FAULT_STACK_SHIFT: u32 = 10;
pub const FAULT_STACK_SIZE: usize = 1 << FAULT_STACK_SHIFT;

/// What the SMC entry pushes on the monitor stack; `r` is r0..r3 in and out.
#[repr(C)]
pub struct SmcFrame {
    pub r: [u32; 4],
    pub r12: u32,
    pub lr: u32,
}

core::arch::global_asm!(
    r#"
    .section .text.boot, "ax"
    .arm
    .global _start
    .type _start, %function
_start:
    @ Every core arrives here in Secure SVC, MMU and caches off.
    cpsid aif
    bl mvm_early
    mrc p15, 0, r4, c0, c0, 5          @ MPIDR
    and r4, r4, #0xFF                  @ Aff0: core number
    cmp r4, #{max_cores}
    bhs mvm_park
    @ Secure PL1 vector base (monitor faults) and monitor vector base.
    ldr r0, =mvm_secure_vectors
    mcr p15, 0, r0, c12, c0, 0         @ VBAR (Secure copy: SCR.NS = 0 at reset)
    ldr r0, =mvm_monitor_vectors
    mcr p15, 0, r0, c12, c0, 1         @ MVBAR
    @ Monitor mode from here on, on this core's monitor stack.
    ldr r1, =__monitor_stacks_end
    sub r1, r1, r4, lsl #{mon_shift}
    cps #{mon}
    mov sp, r1
    isb
    cmp r4, #0
    bne 2f
    @ Core 0 zeroes .bss and boots; the others wait until it has loaded
    @ the guests and configured the shared devices.
    ldr r0, =__bss_start
    ldr r1, =__bss_end
    mov r2, #0
1:  cmp r0, r1
    strlo r2, [r0], #4
    blo 1b
    b 3f
2:  ldr r0, =mvm_secondaries_released
4:  ldr r1, [r0]
    cmp r1, #0
    wfeeq
    beq 4b
    dmb
3:  mov r0, r4
    bl mvm_boot
    .global mvm_park
mvm_park:
    cpsid aif
5:  wfi
    b 5b

    @ Outside .bss: core 0 zeroes .bss while the other cores poll this.
    .section .data.mvm_boot, "aw"
    .balign 4
    .global mvm_secondaries_released
mvm_secondaries_released:
    .word 0

    @ Monitor vectors: SMC and FIQ from the Non-secure world.
    .section .text.vectors, "ax"
    .balign 32
    .global mvm_monitor_vectors
mvm_monitor_vectors:
    b mvm_park                         @ 0x00 unused
    b mvm_park                         @ 0x04 unused
    b mvm_monitor_smc                  @ 0x08 SMC
    b mvm_park                         @ 0x0C prefetch abort (SCR.EA = 0: unused)
    b mvm_park                         @ 0x10 data abort (SCR.EA = 0: unused)
    b mvm_park                         @ 0x14 unused
    b mvm_park                         @ 0x18 IRQ (SCR.IRQ = 0: unused)
    b mvm_monitor_fiq                  @ 0x1C FIQ

    @ Secure PL1 vectors: only faults of the monitor itself land here.
    .balign 32
    .global mvm_secure_vectors
mvm_secure_vectors:
    b mvm_park                         @ 0x00 reset
    b mvm_secure_undef                 @ 0x04 undefined instruction
    b mvm_secure_svc                   @ 0x08 SVC (semihosting without a host)
    b mvm_secure_prefetch_abort        @ 0x0C prefetch abort
    b mvm_secure_data_abort            @ 0x10 data abort
    b mvm_park                         @ 0x14 unused
    b mvm_park                         @ 0x18 IRQ
    b mvm_park                         @ 0x1C FIQ

    @ Null-hypercall fast path: only what the AAPCS lets mvm_smc clobber
    @ (r0-r3, r12, lr) is saved; SCR.NS is cleared so that a fault in the
    @ handler stays in the Secure world. mvm_smc returns 0 to resume the
    @ caller, or 1 when the caller yielded: then the full frame is built
    @ and mvm_yield may switch to another guest.
mvm_monitor_smc:
    push {{r0-r3, r12, lr}}
    mov r12, #{scr_monitor}
    mcr p15, 0, r12, c1, c1, 0         @ SCR
    isb
    mov r0, sp
    bl mvm_smc
    cmp r0, #0
    bne 1f
    mrc p15, 0, r12, c13, c0, 3        @ this core's guest SCR (Secure TPIDRURO)
    mcr p15, 0, r12, c1, c1, 0         @ SCR
    pop {{r0-r3, r12, lr}}
    movs pc, lr
1:  pop {{r0-r3, r12, lr}}             @ the results are in the frame
    sub sp, sp, #8
    stmdb sp!, {{r0-r12, lr}}
    mrs r4, spsr
    str r4, [sp, #{frame_cpsr}]
    mov r0, sp
    bl mvm_yield
    b mvm_full_exit

    @ The monitor's timer (Group 0): a full TrapFrame, since the handler
    @ may switch guests.
mvm_monitor_fiq:
    sub lr, lr, #4
    sub sp, sp, #8
    stmdb sp!, {{r0-r12, lr}}
    mov r12, #{scr_monitor}
    mcr p15, 0, r12, c1, c1, 0         @ SCR
    isb
    mrs r4, spsr
    str r4, [sp, #{frame_cpsr}]
    mov r0, sp
    bl mvm_fiq
mvm_full_exit:
    ldr r4, [sp, #{frame_cpsr}]
    msr spsr_cxsf, r4
    mrc p15, 0, r12, c13, c0, 3        @ this core's guest SCR (Secure TPIDRURO)
    mcr p15, 0, r12, c1, c1, 0         @ SCR.NS = 1: the next mode is Non-secure
    ldmia sp!, {{r0-r12, lr}}
    add sp, sp, #8
    movs pc, lr

    @ A fault in the monitor: SP of this mode is shared with the Non-secure
    @ world, so take this core's fault stack; nothing returns.
mvm_secure_undef:
    mov r0, #1
    b mvm_secure_fault
mvm_secure_svc:
    mov r0, #2
    b mvm_secure_fault
mvm_secure_prefetch_abort:
    mov r0, #3
    b mvm_secure_fault
mvm_secure_data_abort:
    mov r0, #4
mvm_secure_fault:
    mrc p15, 0, r3, c0, c0, 5
    and r3, r3, #0xFF
    ldr sp, =__fault_stacks_end
    sub sp, sp, r3, lsl #{fault_shift}
    mrs r1, spsr
    mov r2, lr
    bl mvm_monitor_fault
    b mvm_park

    @ mvm_enter_guest(entry, spsr, monitor_stack_top, boot_arg) -> !
    .section .text.mvm_enter_guest, "ax"
    .global mvm_enter_guest
mvm_enter_guest:
    mov sp, r2
    msr spsr_cxsf, r1
    mov lr, r0
    mov r0, #0
    @ Scrub every banked register the Non-secure world will see.
    cps #{sys}
    mov sp, r0
    mov lr, r0
    cps #{svc}
    mov sp, r0
    mov lr, r0
    msr spsr_cxsf, r0
    cps #{abt}
    mov sp, r0
    mov lr, r0
    msr spsr_cxsf, r0
    cps #{und}
    mov sp, r0
    mov lr, r0
    msr spsr_cxsf, r0
    cps #{irq}
    mov sp, r0
    mov lr, r0
    msr spsr_cxsf, r0
    cps #{fiq}
    mov r8, r0
    mov r9, r0
    mov r10, r0
    mov r11, r0
    mov r12, r0
    mov sp, r0
    mov lr, r0
    msr spsr_cxsf, r0
    cps #{mon}
    @ Linux boot convention: r0 = 0, r1 = ~0 (no machine type), r2 = boot_arg.
    mov r2, r3
    mvn r1, #0
    mov r3, #0
    mov r4, #0
    mov r5, #0
    mov r6, #0
    mov r7, #0
    mov r8, #0
    mov r9, #0
    mov r10, #0
    mov r11, #0
    mrc p15, 0, r12, c13, c0, 3        @ this core's guest SCR (Secure TPIDRURO)
    mcr p15, 0, r12, c1, c1, 0         @ SCR.NS = 1: the next mode is Non-secure
    mov r12, #0
    movs pc, lr

    @ mvm_resume(frame, monitor_stack_top) -> !: into a guest from a saved
    @ TrapFrame (not on the stack), with an empty monitor stack.
    .section .text.mvm_resume, "ax"
    .global mvm_resume
mvm_resume:
    mov sp, r1
    ldr r2, [r0, #{frame_cpsr}]
    msr spsr_cxsf, r2
    ldr lr, [r0, #{frame_pc}]
    mrc p15, 0, r12, c13, c0, 3        @ this core's guest SCR (Secure TPIDRURO)
    mcr p15, 0, r12, c1, c1, 0         @ SCR.NS = 1
    ldmia r0, {{r0-r12}}
    movs pc, lr

    @ mvm_switch(frame, out, in, tlbiall): the register half of a world
    @ switch. `out` (or null: nothing to save) receives the trap frame at
    @ `frame`, the banked registers and the CP15 state; then `in`'s banked
    @ registers and CP15 state are loaded and its saved frame is copied to
    @ `frame` (out and in: *GuestContext; `in`'s ASID already set).
    @ - Banked registers are shared by both worlds: each mode is visited
    @   once with SCR.NS = 0 (CPS keeps A, I, F masked), its SPSR, SP and LR
    @   stored and the incoming guest's loaded (LDM/STM with SP and LR in
    @   the list: deprecated, not UNPREDICTABLE, in A32). Only r0-r7 are
    @   used meanwhile: r8-r12, SP and LR are FIQ mode's own in FIQ mode.
    @ - CP15: the Non-secure copies with SCR.NS = 1, eight at a time in
    @   the order of context::Cp15; then what isolation between two guests
    @   needs: the Non-secure TLB invalidated unless `tlbiall` is 0 (both
    @   guests' entries non-global under ASIDs of their own,
    @   docs/memory.md), the branch predictor invalidated and the local
    @   exclusive monitor cleared (a guest preempted between LDREX and STREX
    @   must not let the next guest's STREX succeed).
    .section .text.mvm_switch, "ax"
    .global mvm_switch
mvm_switch:
    push {{r4-r11, lr}}
    mov r4, r2                         @ in
    mov r7, r3                         @ tlbiall
    add r2, r2, #{frame_size}          @ in.banked
    cmp r1, #0
    beq 1f
    @ frame -> out.frame
    ldm r0, {{r5, r6, r8-r12, lr}}
    stm r1!, {{r5, r6, r8-r12, lr}}
    add r3, r0, #32
    ldm r3, {{r5, r6, r8-r12, lr}}
    stm r1!, {{r5, r6, r8-r12, lr}}
    @ banked: out's saved, in's loaded, one mode at a time
    cps #{sys}
    stm r1!, {{sp, lr}}
    ldm r2!, {{sp, lr}}
    cps #{svc}
    mrs r3, spsr
    stm r1!, {{r3, sp, lr}}
    ldm r2!, {{r3, sp, lr}}
    msr spsr_cxsf, r3
    cps #{abt}
    mrs r3, spsr
    stm r1!, {{r3, sp, lr}}
    ldm r2!, {{r3, sp, lr}}
    msr spsr_cxsf, r3
    cps #{und}
    mrs r3, spsr
    stm r1!, {{r3, sp, lr}}
    ldm r2!, {{r3, sp, lr}}
    msr spsr_cxsf, r3
    cps #{irq}
    mrs r3, spsr
    stm r1!, {{r3, sp, lr}}
    ldm r2!, {{r3, sp, lr}}
    msr spsr_cxsf, r3
    cps #{fiq}
    mrs r3, spsr
    stm r1!, {{r3, r8-r12, sp, lr}}
    ldm r2!, {{r3, r8-r12, sp, lr}}
    msr spsr_cxsf, r3
    cps #{mon}
    @ CP15: out's saved
    mov r3, #{scr_monitor_ns}
    mcr p15, 0, r3, c1, c1, 0          @ SCR.NS = 1
    isb
    mrc p15, 0, r5, c1, c0, 0          @ SCTLR
    mrc p15, 0, r6, c1, c0, 1          @ ACTLR
    mrc p15, 0, r8, c1, c0, 2          @ CPACR
    mrc p15, 0, r9, c2, c0, 0          @ TTBR0
    mrc p15, 0, r10, c2, c0, 1         @ TTBR1
    mrc p15, 0, r11, c2, c0, 2         @ TTBCR
    mrc p15, 0, r12, c3, c0, 0         @ DACR
    mrc p15, 0, lr, c5, c0, 0          @ DFSR
    stm r1!, {{r5, r6, r8-r12, lr}}
    mrc p15, 0, r5, c5, c0, 1          @ IFSR
    mrc p15, 0, r6, c6, c0, 0          @ DFAR
    mrc p15, 0, r8, c6, c0, 2          @ IFAR
    mrc p15, 0, r9, c7, c4, 0          @ PAR
    mrc p15, 0, r10, c10, c2, 0        @ PRRR
    mrc p15, 0, r11, c10, c2, 1        @ NMRR
    mrc p15, 0, r12, c12, c0, 0        @ VBAR
    mrc p15, 0, lr, c13, c0, 1         @ CONTEXTIDR
    stm r1!, {{r5, r6, r8-r12, lr}}
    mrc p15, 0, r5, c13, c0, 2         @ TPIDRURW
    mrc p15, 0, r6, c13, c0, 3         @ TPIDRURO
    mrc p15, 0, r8, c13, c0, 4         @ TPIDRPRW
    mrc p15, 2, r9, c0, c0, 0          @ CSSELR
    stm r1, {{r5, r6, r8, r9}}
    b 2f
    @ nothing to save: in's banked registers only
1:  cps #{sys}
    ldm r2!, {{sp, lr}}
    cps #{svc}
    ldm r2!, {{r3, sp, lr}}
    msr spsr_cxsf, r3
    cps #{abt}
    ldm r2!, {{r3, sp, lr}}
    msr spsr_cxsf, r3
    cps #{und}
    ldm r2!, {{r3, sp, lr}}
    msr spsr_cxsf, r3
    cps #{irq}
    ldm r2!, {{r3, sp, lr}}
    msr spsr_cxsf, r3
    cps #{fiq}
    ldm r2!, {{r3, r8-r12, sp, lr}}
    msr spsr_cxsf, r3
    cps #{mon}
    mov r3, #{scr_monitor_ns}
    mcr p15, 0, r3, c1, c1, 0          @ SCR.NS = 1
    isb
    @ CP15: in's loaded
2:  ldm r2!, {{r5, r6, r8-r12, lr}}
    mcr p15, 0, r5, c1, c0, 0          @ SCTLR
    mcr p15, 0, r6, c1, c0, 1          @ ACTLR
    mcr p15, 0, r8, c1, c0, 2          @ CPACR
    mcr p15, 0, r9, c2, c0, 0          @ TTBR0
    mcr p15, 0, r10, c2, c0, 1         @ TTBR1
    mcr p15, 0, r11, c2, c0, 2         @ TTBCR
    mcr p15, 0, r12, c3, c0, 0         @ DACR
    mcr p15, 0, lr, c5, c0, 0          @ DFSR
    ldm r2!, {{r5, r6, r8-r12, lr}}
    mcr p15, 0, r5, c5, c0, 1          @ IFSR
    mcr p15, 0, r6, c6, c0, 0          @ DFAR
    mcr p15, 0, r8, c6, c0, 2          @ IFAR
    mcr p15, 0, r9, c7, c4, 0          @ PAR
    mcr p15, 0, r10, c10, c2, 0        @ PRRR
    mcr p15, 0, r11, c10, c2, 1        @ NMRR
    mcr p15, 0, r12, c12, c0, 0        @ VBAR
    mcr p15, 0, lr, c13, c0, 1         @ CONTEXTIDR
    ldm r2, {{r5, r6, r8, r9}}
    mcr p15, 0, r5, c13, c0, 2         @ TPIDRURW
    mcr p15, 0, r6, c13, c0, 3         @ TPIDRURO
    mcr p15, 0, r8, c13, c0, 4         @ TPIDRPRW
    mcr p15, 2, r9, c0, c0, 0          @ CSSELR
    mov r3, #0
    cmp r7, #0
    mcrne p15, 0, r3, c8, c7, 0        @ TLBIALL (Non-secure entries)
    mcr p15, 0, r3, c7, c5, 6          @ BPIALL
    clrex
    dsb
    mov r3, #{scr_monitor}
    mcr p15, 0, r3, c1, c1, 0          @ SCR.NS = 0
    isb
    @ in.frame -> frame
    ldm r4!, {{r5, r6, r8-r12, lr}}
    stm r0!, {{r5, r6, r8-r12, lr}}
    ldm r4, {{r5, r6, r8-r12, lr}}
    stm r0, {{r5, r6, r8-r12, lr}}
    pop {{r4-r11, pc}}

    @ mvm_save_cp15(&mut Cp15): the Non-secure copies (SCR.NS = 1 in
    @ Monitor mode), in the order of context::Cp15.
    .section .text.mvm_save_cp15, "ax"
    .global mvm_save_cp15
mvm_save_cp15:
    mov r1, #{scr_monitor_ns}
    mcr p15, 0, r1, c1, c1, 0          @ SCR.NS = 1
    isb
    mrc p15, 0, r1, c1, c0, 0          @ SCTLR
    mrc p15, 0, r2, c1, c0, 1          @ ACTLR
    mrc p15, 0, r3, c1, c0, 2          @ CPACR
    mrc p15, 0, r12, c2, c0, 0         @ TTBR0
    stmia r0!, {{r1-r3, r12}}
    mrc p15, 0, r1, c2, c0, 1          @ TTBR1
    mrc p15, 0, r2, c2, c0, 2          @ TTBCR
    mrc p15, 0, r3, c3, c0, 0          @ DACR
    mrc p15, 0, r12, c5, c0, 0         @ DFSR
    stmia r0!, {{r1-r3, r12}}
    mrc p15, 0, r1, c5, c0, 1          @ IFSR
    mrc p15, 0, r2, c6, c0, 0          @ DFAR
    mrc p15, 0, r3, c6, c0, 2          @ IFAR
    mrc p15, 0, r12, c7, c4, 0         @ PAR
    stmia r0!, {{r1-r3, r12}}
    mrc p15, 0, r1, c10, c2, 0         @ PRRR
    mrc p15, 0, r2, c10, c2, 1         @ NMRR
    mrc p15, 0, r3, c12, c0, 0         @ VBAR
    mrc p15, 0, r12, c13, c0, 1        @ CONTEXTIDR
    stmia r0!, {{r1-r3, r12}}
    mrc p15, 0, r1, c13, c0, 2         @ TPIDRURW
    mrc p15, 0, r2, c13, c0, 3         @ TPIDRURO
    mrc p15, 0, r3, c13, c0, 4         @ TPIDRPRW
    mrc p15, 2, r12, c0, c0, 0         @ CSSELR
    stmia r0!, {{r1-r3, r12}}
    mov r1, #{scr_monitor}
    mcr p15, 0, r1, c1, c1, 0          @ SCR.NS = 0
    isb
    bx lr

    @ mvm_restore_cp15(&Cp15, tlbiall: u32): the reverse, then what
    @ isolation between two guests needs: the Non-secure TLB invalidated
    @ unless `tlbiall` is 0 (both guests' entries are non-global under
    @ ASIDs of their own: docs/memory.md), the branch predictor invalidated
    @ and the local exclusive monitor cleared (a guest preempted between
    @ LDREX and STREX must not let the next guest's STREX succeed).
    .section .text.mvm_restore_cp15, "ax"
    .global mvm_restore_cp15
mvm_restore_cp15:
    push {{r4}}
    mov r4, r1
    mov r1, #{scr_monitor_ns}
    mcr p15, 0, r1, c1, c1, 0          @ SCR.NS = 1
    isb
    ldmia r0!, {{r1-r3, r12}}
    mcr p15, 0, r1, c1, c0, 0          @ SCTLR
    mcr p15, 0, r2, c1, c0, 1          @ ACTLR
    mcr p15, 0, r3, c1, c0, 2          @ CPACR
    mcr p15, 0, r12, c2, c0, 0         @ TTBR0
    ldmia r0!, {{r1-r3, r12}}
    mcr p15, 0, r1, c2, c0, 1          @ TTBR1
    mcr p15, 0, r2, c2, c0, 2          @ TTBCR
    mcr p15, 0, r3, c3, c0, 0          @ DACR
    mcr p15, 0, r12, c5, c0, 0         @ DFSR
    ldmia r0!, {{r1-r3, r12}}
    mcr p15, 0, r1, c5, c0, 1          @ IFSR
    mcr p15, 0, r2, c6, c0, 0          @ DFAR
    mcr p15, 0, r3, c6, c0, 2          @ IFAR
    mcr p15, 0, r12, c7, c4, 0         @ PAR
    ldmia r0!, {{r1-r3, r12}}
    mcr p15, 0, r1, c10, c2, 0         @ PRRR
    mcr p15, 0, r2, c10, c2, 1         @ NMRR
    mcr p15, 0, r3, c12, c0, 0         @ VBAR
    mcr p15, 0, r12, c13, c0, 1        @ CONTEXTIDR
    ldmia r0!, {{r1-r3, r12}}
    mcr p15, 0, r1, c13, c0, 2         @ TPIDRURW
    mcr p15, 0, r2, c13, c0, 3         @ TPIDRURO
    mcr p15, 0, r3, c13, c0, 4         @ TPIDRPRW
    mcr p15, 2, r12, c0, c0, 0         @ CSSELR
    mov r1, #0
    cmp r4, #0
    mcrne p15, 0, r1, c8, c7, 0        @ TLBIALL (Non-secure entries)
    mcr p15, 0, r1, c7, c5, 6          @ BPIALL
    clrex
    dsb
    mov r1, #{scr_monitor}
    mcr p15, 0, r1, c1, c1, 0          @ SCR.NS = 0
    isb
    pop {{r4}}
    bx lr

    @ mvm_vfp_switch(save: *mut Vfp or null, load: &Vfp): VFP/NEON state
    @ out of the registers into `save` (if not null), then `load` into
    @ them. CPACR (common to both worlds) is opened for the copy and put
    @ back; the monitor itself never uses VFP (soft float).
    .section .text.mvm_vfp_switch, "ax"
    .global mvm_vfp_switch
    .fpu neon
mvm_vfp_switch:
    mrc p15, 0, r2, c1, c0, 2          @ CPACR
    orr r3, r2, #(0xF << 20)           @ CP10, CP11: full access
    mcr p15, 0, r3, c1, c0, 2
    isb
    vmrs r3, fpexc
    orr r12, r3, #(1 << 30)            @ FPEXC.EN
    vmsr fpexc, r12
    isb
    cmp r0, #0
    beq 1f
    vmrs r12, fpscr
    stmia r0!, {{r3, r12}}
    vstmia r0!, {{d0-d15}}
    vstmia r0, {{d16-d31}}
1:  ldmia r1!, {{r3, r12}}
    vmsr fpscr, r12
    vldmia r1!, {{d0-d15}}
    vldmia r1, {{d16-d31}}
    vmsr fpexc, r3
    mcr p15, 0, r2, c1, c0, 2          @ CPACR back
    isb
    bx lr
"#,
    max_cores = const MAX_CORES,
    mon_shift = const MONITOR_STACK_SHIFT,
    fault_shift = const FAULT_STACK_SHIFT,
    scr_monitor = const SCR_MONITOR,
    scr_monitor_ns = const SCR_GUEST,
    frame_cpsr = const crate::context::offset::FRAME_CPSR,
    frame_pc = const crate::context::offset::FRAME_PC,
    frame_size = const crate::context::offset::FRAME_SIZE,
    mon = const mode::MON,
    sys = const mode::SYS,
    svc = const mode::SVC,
    abt = const mode::ABT,
    und = const mode::UND,
    irq = const mode::IRQ,
    fiq = const mode::FIQ,
);

unsafe extern "C" {
    fn mvm_enter_guest(entry: u32, spsr: u32, monitor_stack_top: u32, boot_arg: u32) -> !;
    fn mvm_resume(frame: *const TrapFrame, monitor_stack_top: u32) -> !;
    fn mvm_switch(
        frame: *mut TrapFrame,
        out: *mut GuestContext,
        load: *const GuestContext,
        tlbiall: u32,
    );
    fn mvm_save_cp15(cp15: *mut Cp15);
    fn mvm_restore_cp15(cp15: *const Cp15, tlbiall: u32);
    fn mvm_vfp_switch(save: *mut Vfp, load: *const Vfp);
    static __monitor_stacks_end: u8;
    static mvm_secondaries_released: AtomicU32;
}

/// Lets the other cores into `mvm_boot`. Core 0 calls it once the guests
/// are loaded and the shared devices configured, and before it starts a
/// core that is still held by the boot ROM (see the module's notes).
pub fn release_secondary_cores() {
    // SAFETY: the symbol is a word in `.data` that only this function writes
    // and the reset code reads; `AtomicU32` has the layout of a `u32`.
    let flag = unsafe { &*core::ptr::addr_of!(mvm_secondaries_released) };
    // Release: the guest images and device set-up happen before.
    flag.store(1, Ordering::Release);
    // SAFETY: DSB and SEV only order memory and wake cores waiting in WFE.
    unsafe { core::arch::asm!("dsb", "sev", options(nostack, preserves_flags)) };
}

/// The reset entry (`_start`): where a core held by a boot ROM is sent.
pub fn reset_entry() -> usize {
    unsafe extern "C" {
        fn _start();
    }
    _start as *const () as usize
}

/// Waits for an interrupt, masked or not (WFI wakes on any pending one).
pub fn wait_for_interrupt() {
    // SAFETY: WFI has no memory effects.
    unsafe { core::arch::asm!("wfi", options(nomem, nostack, preserves_flags)) };
}

/// Top of `core`'s monitor stack.
pub fn monitor_stack_top(core: u32) -> u32 {
    // Only the address is taken (safe since Rust 1.82); the image's linker
    // script defines the symbol.
    let end = core::ptr::addr_of!(__monitor_stacks_end) as usize as u32;
    end - (core << MONITOR_STACK_SHIFT)
}

/// Leave the monitor for the Non-secure world for the first time on this
/// core. The monitor stack is reset to its top: nothing on it survives.
///
/// # Safety
/// Monitor mode; MVBAR, NSACR, the GIC and the guest image are ready, and
/// `guest.entry` is Non-secure memory the guest owns.
pub unsafe fn enter_guest(core: u32, guest: GuestEntry) -> ! {
    // SAFETY: the caller guarantees the world is ready; the asm never
    // returns and reuses the stack from its top.
    unsafe {
        mvm_enter_guest(
            guest.entry,
            crate::GUEST_ENTRY_SPSR,
            monitor_stack_top(core),
            guest.boot_arg,
        )
    }
}

/// Parks this core for good, with every interrupt masked.
pub fn park() -> ! {
    loop {
        // SAFETY: masking interrupts and waiting has no memory effects.
        unsafe { core::arch::asm!("cpsid aif", "wfi", options(nomem, nostack)) };
    }
}

/// Resumes the guest whose registers `frame` holds, with an empty monitor
/// stack: for a core's first SRT guest and after a guest halted.
///
/// # Safety
/// Monitor mode; the guest's banked registers, CP15 state, NSACR and GIC
/// state are loaded, `frame` holds a Non-secure mode in its CPSR, and
/// nothing on this core's monitor stack is needed any more.
pub unsafe fn resume(core: u32, frame: &TrapFrame) -> ! {
    // SAFETY: the caller guarantees the world is ready; the asm resets the
    // stack and never returns.
    unsafe { mvm_resume(frame, monitor_stack_top(core)) }
}

/// The register half of a world switch: `out` (if any) receives the
/// guest registers in `frame`, the banked registers and the CP15 state;
/// `load`'s banked registers and CP15 state go into the processor and its
/// saved registers into `frame`. The Non-secure TLB is invalidated unless
/// `tlb` is [`crate::switch::Tlb::Keep`]; the branch predictor always, and
/// the exclusive monitor is cleared.
///
/// # Safety
/// Monitor mode with interrupts masked, SCR.NS = 0. The processor's
/// Non-secure state belongs to `out`'s guest (or to nobody, when `out` is
/// `None`): it is replaced by `load`'s. [`crate::switch::Tlb::Keep`] only
/// when both guests' entries are non-global under ASIDs of their own and
/// `load`'s CONTEXTIDR holds its own ASID (docs/memory.md, "ASIDs").
#[inline(always)]
pub unsafe fn switch(
    frame: &mut TrapFrame,
    out: Option<&mut GuestContext>,
    load: &GuestContext,
    tlb: crate::switch::Tlb,
) {
    let out = out.map_or(core::ptr::null_mut(), |c| c as *mut GuestContext);
    let tlbiall = matches!(tlb, crate::switch::Tlb::InvalidateAll) as u32;
    // SAFETY: as the caller vouches; the asm writes only `frame` and
    // `out`, returns in Monitor mode with SCR.NS = 0, and keeps every
    // callee-saved register of Monitor mode.
    unsafe { mvm_switch(frame, out, load, tlbiall) }
}

/// Zeroes physical `[base, base + len)`, 64 bytes a loop (four `stmia` of
/// four registers): a restarted guest's memory (docs/health.md), at about
/// 0.1 instructions a byte, where the byte loop of `write_bytes` takes
/// over one.
///
/// # Safety
/// The range is memory the caller may overwrite, `base` is word-aligned
/// and `len` a multiple of 64 (a guest region's is a multiple of 4 KiB).
pub unsafe fn zero(base: u32, len: u32) {
    if len == 0 {
        return;
    }
    let end = base.wrapping_add(len);
    // SAFETY: as the caller vouches; the loop writes `[base, end)` only
    // (`end` may wrap to 0 for a range ending at 4 GiB: `bne` stops there).
    unsafe {
        core::arch::asm!(
            "2:",
            "stmia r12!, {{r0-r3}}",
            "stmia r12!, {{r0-r3}}",
            "stmia r12!, {{r0-r3}}",
            "stmia r12!, {{r0-r3}}",
            "cmp r12, {end}",
            "bne 2b",
            end = in(reg) end,
            inout("r12") base => _,
            in("r0") 0,
            in("r1") 0,
            in("r2") 0,
            in("r3") 0,
            options(nostack)
        )
    };
}

/// Saves the Non-secure CP15 state a guest owns.
pub fn save_cp15(cp15: &mut Cp15) {
    // SAFETY: Monitor mode with interrupts masked; SCR.NS is set only
    // around the copies and restored to 0.
    unsafe { mvm_save_cp15(cp15) }
}

/// Loads the Non-secure CP15 state, then invalidates the Non-secure TLB and
/// branch predictor and clears the exclusive monitor.
///
/// # Safety
/// Call only when switching guests: the state of the guest that ran is
/// replaced (save it first).
pub unsafe fn restore_cp15(cp15: &Cp15) {
    // SAFETY: as for `save_cp15`; the caller accepts the replacement.
    unsafe { mvm_restore_cp15(cp15, 1) }
}

/// Moves the VFP registers out to `save` (if any) and loads `load`.
///
/// # Safety
/// The VFP registers belong to the guest `save` is for (or to nobody);
/// the monitor must not be using VFP (it is soft-float).
pub unsafe fn vfp_switch(save: Option<&mut Vfp>, load: &Vfp) {
    let save = save.map_or(core::ptr::null_mut(), |v| v as *mut Vfp);
    // SAFETY: the caller vouches for the ownership; the asm restores CPACR.
    unsafe { mvm_vfp_switch(save, load) }
}

/// Points this core's Secure TPIDRPRW at `value` (the current guest's
/// figures), so the SMC fast path finds them in one instruction.
#[inline(always)]
pub fn set_secure_thread_pointer(value: u32) {
    // SAFETY: with SCR.NS = 0 this writes the Secure copy, which no
    // Non-secure code can read or write, and which only the monitor uses.
    unsafe { aarch32_cpu::register::Tpidrprw::write(aarch32_cpu::register::Tpidrprw(value)) }
}

/// The SCR value this core's guests run with (`interrupts::guest_scr`),
/// kept in the Secure TPIDRURO, which only the monitor uses: every exit to
/// the Non-secure world loads SCR from it (one `mrc`, as cheap as the
/// constant it replaces).
pub fn set_guest_scr(value: u32) {
    // SAFETY: with SCR.NS = 0 this writes the Secure copy, which no
    // Non-secure code can read or write.
    unsafe {
        core::arch::asm!("mcr p15, 0, {v}, c13, c0, 3", v = in(reg) value, options(nomem, nostack, preserves_flags))
    };
}

/// This core's Secure TPIDRPRW.
#[inline(always)]
pub fn secure_thread_pointer() -> u32 {
    aarch32_cpu::register::Tpidrprw::read().0
}

/// Orders every earlier memory access before every later one (DSB).
pub fn dsb() {
    // SAFETY: a barrier has no other effect.
    unsafe { core::arch::asm!("dsb", options(nostack, preserves_flags)) };
}

/// Loads a shadow-paged guest's address space into the running
/// (Non-secure) CP15 state: TTBR0 and CONTEXTIDR (its ASID). No TLB
/// maintenance: every shadow entry is non-global, tagged with its ASID.
///
/// # Safety
/// Monitor mode, on the core where the guest whose state is live made the
/// call; `ttbr0` points at one of that guest's L1 tables in the table area.
pub unsafe fn set_ns_translation(ttbr0: u32, contextidr: u32) {
    // SAFETY: the caller vouches for the tables; SCR.NS is set around the
    // writes only and restored to 0.
    unsafe {
        core::arch::asm!(
            "dsb",
            "mcr p15, 0, {ns}, c1, c1, 0",
            "isb",
            "mcr p15, 0, {ttbr0}, c2, c0, 0",
            "mcr p15, 0, {ctx}, c13, c0, 1",
            "isb",
            "mcr p15, 0, {s}, c1, c1, 0",
            "isb",
            ns = in(reg) crate::SCR_MONITOR | crate::sysreg::Scr::NS,
            s = in(reg) crate::SCR_MONITOR,
            ttbr0 = in(reg) ttbr0,
            ctx = in(reg) contextidr,
            options(nostack, preserves_flags)
        )
    };
}

/// Makes table writes visible to the Non-secure walker and does the TLB
/// maintenance a shadow-paging edit needs, on this core's Non-secure TLB.
pub fn ns_tlb(tlb: crate::shadow::Tlb) {
    use crate::shadow::Tlb;
    let (op, value) = match tlb {
        Tlb::None => (0, 0),
        Tlb::Page { va, asid } => (1, (va & !0xFFF) | u32::from(asid)),
        Tlb::Asid(asid) => (2, u32::from(asid)),
    };
    // SAFETY: barriers and TLB invalidation lose no state (the walker
    // refills entries from the tables); SCR.NS is set around them so that
    // they reach the Non-secure entries, and restored to 0.
    unsafe {
        core::arch::asm!(
            "dsb",
            "cmp {op}, #0",
            "beq 2f",
            "mcr p15, 0, {ns}, c1, c1, 0",
            "isb",
            "cmp {op}, #1",
            "mcreq p15, 0, {value}, c8, c7, 1",
            "mcrne p15, 0, {value}, c8, c7, 2",
            "dsb",
            "mcr p15, 0, {s}, c1, c1, 0",
            "isb",
            "2:",
            op = in(reg) op,
            value = in(reg) value,
            ns = in(reg) crate::SCR_MONITOR | crate::sysreg::Scr::NS,
            s = in(reg) crate::SCR_MONITOR,
            options(nostack)
        )
    };
}
