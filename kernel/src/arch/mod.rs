//! The Arm shell: reset entry, vector tables, SMC/FIQ entry, guest entry.
//!
//! The image crate provides the Rust side as `extern "C"` functions:
//! - `mvm_early()`: board hook run first, without a stack (starts the
//!   global timer so that time is measured from reset).
//! - `mvm_boot(core: u32) -> !`: Monitor mode, own stack. Core 0 arrives
//!   with `.bss` zeroed; the other cores arrive only after core 0 called
//!   [`release_secondary_cores`].
//! - `mvm_smc(frame: &mut SmcFrame)`: a hypercall, SCR.NS = 0.
//! - `mvm_fiq()`: a Group 0 interrupt, SCR.NS = 0.
//! - `mvm_monitor_fault(kind, spsr, lr) -> !`: a fault in the monitor.
//!
//! Linker-script symbols it uses: `__bss_start`, `__bss_end`,
//! `__monitor_stacks_end` (`MAX_CORES` × `MONITOR_STACK_SIZE`, top down by
//! core) and `__fault_stacks_end` (`MAX_CORES` × `FAULT_STACK_SIZE`).
//!
//! The SMC path saves only what the AAPCS lets Rust clobber (r0-r3, r12,
//! lr): a null hypercall costs about two dozen instructions. A world switch
//! between guests (EDF) will save the rest; it is not needed while a core
//! runs one guest.
use core::sync::atomic::{AtomicU32, Ordering};

use crate::{mode, GuestEntry, MAX_CORES, SCR_GUEST, SCR_MONITOR};

/// log2 of each core's monitor stack size.
pub const MONITOR_STACK_SHIFT: u32 = 13;
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
    @ handler stays in the Secure world.
mvm_monitor_smc:
    push {{r0-r3, r12, lr}}
    mov r12, #{scr_monitor}
    mcr p15, 0, r12, c1, c1, 0         @ SCR
    isb
    mov r0, sp
    bl mvm_smc
    mov r12, #{scr_guest}
    mcr p15, 0, r12, c1, c1, 0         @ SCR
    pop {{r0-r3, r12, lr}}
    movs pc, lr

mvm_monitor_fiq:
    sub lr, lr, #4
    push {{r0-r3, r12, lr}}
    mov r12, #{scr_monitor}
    mcr p15, 0, r12, c1, c1, 0         @ SCR
    isb
    bl mvm_fiq
    mov r12, #{scr_guest}
    mcr p15, 0, r12, c1, c1, 0         @ SCR
    pop {{r0-r3, r12, lr}}
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
    mov r12, #{scr_guest}
    mcr p15, 0, r12, c1, c1, 0         @ SCR.NS = 1: the next mode is Non-secure
    mov r12, #0
    movs pc, lr
"#,
    max_cores = const MAX_CORES,
    mon_shift = const MONITOR_STACK_SHIFT,
    fault_shift = const FAULT_STACK_SHIFT,
    scr_monitor = const SCR_MONITOR,
    scr_guest = const SCR_GUEST,
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
    static __monitor_stacks_end: u8;
    static mvm_secondaries_released: AtomicU32;
}

/// Lets the other cores into `mvm_boot`. Core 0 calls it once the guests
/// are loaded and the shared devices configured.
pub fn release_secondary_cores() {
    // SAFETY: the symbol is a word in `.data` that only this function writes
    // and the reset code reads; `AtomicU32` has the layout of a `u32`.
    let flag = unsafe { &*core::ptr::addr_of!(mvm_secondaries_released) };
    // Release: the guest images and device set-up happen before.
    flag.store(1, Ordering::Release);
    // SAFETY: DSB and SEV only order memory and wake cores waiting in WFE.
    unsafe { core::arch::asm!("dsb", "sev", options(nostack, preserves_flags)) };
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
