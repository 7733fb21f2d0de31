//! Without the monitor (the `native` feature, the latency benchmark's
//! baseline): on the bare board in Secure SVC, the start-up sets up what
//! the monitor would have: a flat map (RAM and the guest's devices), the
//! tick line as a Group 0 FIQ, and ends the run through semihosting.
//!
//! The Cortex-A9 MPCore layout (TRM): the distributor is PERIPHBASE +
//! 0x1000, the CPU interface PERIPHBASE + 0x100.

use crate::devices::GICC_BASE;

const GICD_BASE: usize = GICC_BASE - 0x100 + 0x1000;

/// The L1 table: 1 MiB sections, PA = VA.
#[link_section = ".bss.mvm_r3_table"]
static mut TABLE: [u32; 4096] = [0; 4096];

extern "C" {
    static __mvm_r3_ram_start: u8;
    static __mvm_r3_ram_end: u8;
}

/// Section descriptors: normal write-back memory, and device memory
/// (AP = full access, domain 0).
const NORMAL: u32 = 0b10 | 1 << 2 | 1 << 3 | 0b11 << 10 | 0b001 << 12 | 1 << 16;
const DEVICE: u32 = 0b10 | 1 << 2 | 0b11 << 10 | 1 << 4;

/// The MMU, the GIC's Secure side, the tick line.
///
/// # Safety
/// Once, at start-up, in Secure SVC on core 0, before R3 starts.
pub unsafe fn set_up() {
    let table = unsafe { &mut *core::ptr::addr_of_mut!(TABLE) };
    let (ram, end) = unsafe {
        (
            core::ptr::addr_of!(__mvm_r3_ram_start) as usize,
            core::ptr::addr_of!(__mvm_r3_ram_end) as usize,
        )
    };
    let mut mib = ram >> 20;
    while mib <= (end - 1) >> 20 {
        table[mib] = (mib << 20) as u32 | NORMAL;
        mib += 1;
    }
    for base in crate::devices::DEVICE_BASES
        .iter()
        .chain([GICC_BASE, crate::devices::GLOBAL_TIMER_BASE].iter())
    {
        table[base >> 20] = (base & !0xF_FFFF) as u32 | DEVICE;
    }
    unsafe {
        core::arch::asm!(
            "mcr p15, 0, {z}, c2, c0, 2",  // TTBCR: TTBR0 only
            "mcr p15, 0, {t}, c2, c0, 0",  // TTBR0
            "mcr p15, 0, {d}, c3, c0, 0",  // DACR: domain 0 client
            "mcr p15, 0, {z}, c8, c7, 0",  // TLBIALL
            "dsb",
            "isb",
            "mrc p15, 0, {s}, c1, c0, 0",
            "orr {s}, {s}, #1",            // SCTLR.M
            "mcr p15, 0, {s}, c1, c0, 0",
            "isb",
            z = in(reg) 0,
            t = in(reg) table.as_ptr() as u32,
            d = in(reg) 1,
            s = out(reg) _,
        );
    }
    extern "Rust" {
        /// The tick line (`use_port!` defines it from `Options`).
        static MVM_R3_TICK_LINE: u32;
    }
    let line = unsafe { MVM_R3_TICK_LINE } as usize;
    let w = |offset: usize, value: u32| unsafe {
        ((GICD_BASE + offset) as *mut u32).write_volatile(value)
    };
    let b = |offset: usize, value: u8| unsafe {
        ((GICD_BASE + offset) as *mut u8).write_volatile(value)
    };
    // Group 0 (the reset value), priority 0x10, core 0, enabled.
    b(0x400 + line, 0x10);
    b(0x800 + line, 0x01);
    w(0x100 + line / 32 * 4, 1 << (line % 32));
    w(0x000, 1); // GICD_CTLR: Group 0 forwarded
    unsafe {
        ((GICC_BASE + 0x04) as *mut u32).write_volatile(0xF0); // GICC_PMR
        ((GICC_BASE + 0x00) as *mut u32).write_volatile(1 | 1 << 3); // EnableGrp0, FIQEn
    }
}

/// Ends the run: semihosting SYS_EXIT, `ADP_Stopped_ApplicationExit`.
pub fn exit() -> ! {
    unsafe {
        core::arch::asm!(
            "svc #0x123456",
            in("r0") 0x18,
            in("r1") 0x20026,
        );
    }
    loop {
        unsafe { core::arch::asm!("wfi") };
    }
}
