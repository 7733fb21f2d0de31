//! The image: reset entry, vectors, the checks, semihosting exit.

use core::fmt::Write;
use core::sync::atomic::{AtomicU32, Ordering};

use board::cadence_uart::{CadenceUart, CONSOLE_DIVISORS};
use board::gic::{Gicc, Gicd};
use board::slcr::{Slcr, TzRegister};
use board::trustzone::tz_ddr_ram;
use board::ttc::{Interval, Ttc, INTERRUPT_INTERVAL};
use board_zc702 as board;

// SAFETY (all handles below): QEMU's xilinx-zynq-a9 has these devices at the
// catalogue's addresses, the MMU is off, and this single-core image is their
// only user; the IRQ handler touches only the GIC CPU interface and TTC0's
// interrupt register, which the main code does not use while IRQs are on.
static UART1: CadenceUart = unsafe { CadenceUart::new(board::CONSOLE_UART_BASE) };
static UART0: CadenceUart = unsafe { CadenceUart::new(board::device_base("uart0")) };
static SLCR: Slcr = unsafe { Slcr::new(board::SLCR_BASE) };
static TTC0: Ttc = unsafe { Ttc::new(board::device_base("ttc0")) };
static GICD: Gicd = unsafe { Gicd::new(board::GICD_BASE) };
static GICC: Gicc = unsafe { Gicc::new(board::GICC_BASE) };

/// TTC0 counter 0's interrupt (UG585 table 7-4).
const TTC0_IRQ: u32 = board::device("ttc0").interrupts[0];

/// Written by the IRQ handler only.
static INTERVALS: AtomicU32 = AtomicU32::new(0);
static LAST_ID: AtomicU32 = AtomicU32::new(1023);
static OTHER_ID: AtomicU32 = AtomicU32::new(0);

core::arch::global_asm!(
    r#"
    .section .text.boot, "ax"
    .arm
    .global _start
_start:
    cpsid if
    cps #0x12                   @ IRQ mode: its own stack
    ldr sp, =__irq_stack_top
    cps #0x13                   @ SVC mode, where the checks run
    ldr sp, =__svc_stack_top
    ldr r0, =zc702_vectors
    mcr p15, 0, r0, c12, c0, 0  @ VBAR
    isb
    ldr r0, =__bss_start
    ldr r1, =__bss_end
    mov r2, #0
1:  cmp r0, r1
    strlo r2, [r0], #4
    blo 1b
    bl zc702_main
2:  b 2b

    .balign 32
zc702_vectors:
    b _start
    b 10f                       @ undefined instruction
    b 11f                       @ SVC (semihosting calls never get here)
    b 12f                       @ prefetch abort
    b 13f                       @ data abort
    b .
    b zc702_irq_entry
    b 14f                       @ FIQ

10: mov r0, #1
    b 20f
11: mov r0, #2
    b 20f
12: mov r0, #3
    b 20f
13: mov r0, #4
    b 20f
14: mov r0, #5
20: mov r1, lr
    cps #0x13                   @ report from SVC, on its stack
    b zc702_fault

zc702_irq_entry:
    sub lr, lr, #4
    push {{r0-r3, r12, lr}}
    bl zc702_irq
    pop {{r0-r3, r12, lr}}
    movs pc, lr
    .ltorg
"#
);

/// A line on the console.
macro_rules! say {
    ($($arg:tt)*) => {{
        let mut out = CadenceUartWriter(&UART1);
        let _ = writeln!(out, $($arg)*);
    }};
}

struct CadenceUartWriter(&'static CadenceUart);

impl Write for CadenceUartWriter {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.write_bytes(s.as_bytes());
        Ok(())
    }
}

#[unsafe(no_mangle)]
extern "C" fn zc702_main() -> ! {
    // What the machine left before anyone programmed the UART.
    let (cd, bdiv) = UART1.divisors();
    UART1.init(CONSOLE_DIVISORS);
    UART0.init(CONSOLE_DIVISORS);
    UART0.write_bytes(b"zc702-emulated: uart0 says hello\n");
    say!(
        "zc702-emulated: console on uart1 at 115200 8N1 (CD {}, BDIV {}; was CD {cd}, BDIV {bdiv})",
        CONSOLE_DIVISORS.cd,
        CONSOLE_DIVISORS.bdiv
    );

    let mut failures = 0u32;
    let mut check = |ok: bool, what: &str| {
        say!("{} {what}", if ok { "ok:" } else { "FAIL:" });
        if !ok {
            failures += 1;
        }
    };

    // The CPU as QEMU starts it.
    let (cpsr, id_pfr1) = cpu_state();
    say!(
        "cpu: mode {:#04x}, ID_PFR1.Security {} ({})",
        cpsr & 0x1F,
        (id_pfr1 >> 4) & 0xF,
        if (id_pfr1 >> 4) & 0xF == 0 {
            "no Security Extensions"
        } else {
            "Security Extensions"
        }
    );
    check(cpsr & 0x1F == 0x13, "the image runs in SVC mode");
    say!(
        "gic: {} interrupt lines, security extensions: {}",
        GICD.lines(),
        if GICD.has_security_extensions() {
            "yes"
        } else {
            "no"
        }
    );

    // SLCR: writes land only while unlocked. QEMU 7.2's SLCR model has
    // OCM_CFG but not the TrustZone registers (TZ_* read as 0 and it logs
    // the accesses as invalid), so the lock is checked on OCM_CFG.
    SLCR.lock();
    let locked = SLCR.is_locked();
    let ocm_before = SLCR.ocm_high_blocks();
    SLCR.unlocked(|s| s.set_ocm_high_blocks(0xF));
    let relocked = SLCR.is_locked();
    let ocm_unlocked_write = SLCR.ocm_high_blocks();
    SLCR.set_ocm_high_blocks(0x8);
    let ocm_locked_write = SLCR.ocm_high_blocks();
    say!(
        "slcr: locked {locked}, OCM_CFG RAM_HI {ocm_before:#x} -> {ocm_unlocked_write:#x} unlocked, \
         {ocm_locked_write:#x} after a write while locked, locked again {relocked}"
    );
    check(
        locked && relocked && ocm_unlocked_write == 0xF && ocm_locked_write == 0xF,
        "slcr lock and unlock",
    );
    let tz = tz_ddr_ram(board::BOARD.ram, board::BOARD.monitor_reservation);
    SLCR.unlocked(|s| s.write_tz(TzRegister::TzDdrRam, tz));
    say!(
        "slcr: TZ_DDR_RAM for the monitor's reservation is {tz:#010x}; QEMU reads back {:#010x}",
        SLCR.read_tz(TzRegister::TzDdrRam)
    );

    // TTC0 counter 0 in interval mode, interrupts still masked at the CPU:
    // the count moves.
    let setting = Interval {
        prescale: Some(3), // divide by 16
        interval: 0xFFFF,
    };
    TTC0.start_interval(0, setting);
    let first = TTC0.counter(0);
    let mut distinct = 1u32;
    let mut last = first;
    for _ in 0..200 {
        spin(2_000);
        let now = TTC0.counter(0);
        if now != last {
            distinct += 1;
            last = now;
        }
    }
    say!("ttc0: counter 0 went {first} -> {last}, {distinct} distinct values in 200 reads");
    check(distinct >= 10, "ttc0 counter progresses");

    // The interval interrupt through the GIC to the IRQ vector.
    TTC0.stop(0);
    GICD.disable();
    GICD.reset_banked();
    GICD.reset_spis();
    GICD.set_priority(TTC0_IRQ, 0xA0);
    GICD.set_targets(TTC0_IRQ, 1);
    GICD.enable_interrupt(TTC0_IRQ);
    GICD.enable();
    GICC.enable();
    // A short period: 16 x 1000 cycles of the TTC clock.
    TTC0.start_interval(
        0,
        Interval {
            prescale: Some(3),
            interval: 999,
        },
    );
    enable_irqs();
    let mut waited = 0u32;
    while INTERVALS.load(Ordering::Acquire) < 3 && waited < 5_000 {
        spin(10_000);
        waited += 1;
    }
    disable_irqs();
    TTC0.stop(0);
    let intervals = INTERVALS.load(Ordering::Acquire);
    let id = LAST_ID.load(Ordering::Acquire);
    if intervals > 0 {
        say!("ttc0: interrupt delivered: id {id}, {intervals} interval interrupts");
    }
    let other = OTHER_ID.load(Ordering::Acquire);
    if other != 0 {
        say!("gic: unexpected interrupt id {other}");
    }
    check(intervals >= 3 && id == TTC0_IRQ, "ttc0 interval interrupt");

    if failures == 0 {
        say!("zc702-emulated: all checks passed");
    } else {
        say!("zc702-emulated: {failures} check(s) failed");
    }
    UART1.flush();
    UART0.flush();
    exit(if failures == 0 { 0 } else { 1 })
}

#[unsafe(no_mangle)]
extern "C" fn zc702_irq() {
    let iar = GICC.acknowledge();
    let id = Gicc::interrupt_id(iar);
    if id == TTC0_IRQ {
        // Reading the status clears it and drops the level-sensitive line.
        if TTC0.take_interrupts(0) & INTERRUPT_INTERVAL != 0 {
            let n = INTERVALS.load(Ordering::Relaxed);
            INTERVALS.store(n + 1, Ordering::Release);
        }
        LAST_ID.store(id, Ordering::Release);
    } else if id < Gicc::SPECIAL_IDS {
        OTHER_ID.store(id, Ordering::Release);
    }
    if id < Gicc::SPECIAL_IDS {
        GICC.end_of_interrupt(iar);
    }
}

#[unsafe(no_mangle)]
extern "C" fn zc702_fault(kind: u32, lr: u32) -> ! {
    let name = match kind {
        1 => "undefined instruction",
        2 => "SVC",
        3 => "prefetch abort",
        4 => "data abort",
        _ => "FIQ",
    };
    say!("FAULT: {name} (lr {lr:#010x})");
    exit(3)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    say!("PANIC: {info}");
    exit(101)
}

/// CPSR and ID_PFR1.
fn cpu_state() -> (u32, u32) {
    let (cpsr, id_pfr1): (u32, u32);
    // SAFETY: reads of the CPSR and of an identification register; no side
    // effects.
    unsafe {
        core::arch::asm!(
            "mrs {cpsr}, cpsr",
            "mrc p15, 0, {pfr1}, c0, c1, 1",
            cpsr = out(reg) cpsr,
            pfr1 = out(reg) id_pfr1,
            options(nomem, nostack, preserves_flags)
        );
    }
    (cpsr, id_pfr1)
}

fn enable_irqs() {
    // SAFETY: the IRQ vector and its stack are set up by `_start`.
    unsafe { core::arch::asm!("cpsie i", options(nomem, nostack)) };
}

fn disable_irqs() {
    // SAFETY: masking IRQs has no memory effects.
    unsafe { core::arch::asm!("cpsid i", options(nomem, nostack)) };
}

/// Burns roughly `n` loop iterations (QEMU runs them in wall-clock time).
fn spin(n: u32) {
    for _ in 0..n {
        core::hint::spin_loop();
    }
}

/// SYS_EXIT_EXTENDED.
const SYS_EXIT_EXTENDED: u32 = 0x20;
/// ADP_Stopped_ApplicationExit.
const ADP_STOPPED_APPLICATION_EXIT: u32 = 0x2_0026;

/// Ends the emulation with `code` through A32 semihosting (`svc 0x123456`
/// with SYS_EXIT_EXTENDED, which carries the status; `-semihosting`).
fn exit(code: u32) -> ! {
    let block = [ADP_STOPPED_APPLICATION_EXIT, code];
    // SAFETY: the semihosting call only reads `block`, which outlives it;
    // without a semihosting host it is an SVC and the vector reports it.
    unsafe {
        core::arch::asm!(
            "svc 0x123456",
            inout("r0") SYS_EXIT_EXTENDED => _,
            in("r1") block.as_ptr(),
            options(nostack)
        );
    }
    loop {
        core::hint::spin_loop();
    }
}
