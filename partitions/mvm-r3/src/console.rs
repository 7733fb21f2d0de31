//! The guest's own UART, written by polling (a PL011 on QEMU, a Cadence
//! UART on the ZC702), and what a fault prints through it.

use core::fmt;
use core::sync::atomic::{AtomicUsize, Ordering};

/// The UART [`Uart::init`] set up last: where a fault is reported.
static FAULT_UART: AtomicUsize = AtomicUsize::new(0);

/// A UART's transmitter.
#[derive(Clone, Copy)]
pub struct Uart {
    base: usize,
}

#[cfg(mvm_board_qemu)]
mod regs {
    /// UARTDR, UARTFR (TXFF: bit 5), UARTIBRD, UARTFBRD, UARTLCR_H, UARTCR.
    pub const DR: usize = 0x00;
    pub const FR: usize = 0x18;
    pub const FR_TXFF: u32 = 1 << 5;
    pub const IBRD: usize = 0x24;
    pub const FBRD: usize = 0x28;
    pub const LCR_H: usize = 0x2C;
    pub const CR: usize = 0x30;
    pub const IMSC: usize = 0x38;
}

#[cfg(mvm_board_zc702)]
mod regs {
    /// Control, Mode, Intrpt_dis, Baud_rate_gen, Channel_sts (TXFULL:
    /// bit 4), TX_RX_FIFO, Baud_rate_divider (UG585, appendix B, UART).
    pub const CONTROL: usize = 0x00;
    pub const MODE: usize = 0x04;
    pub const INTRPT_DIS: usize = 0x0C;
    pub const BAUD_RATE_GEN: usize = 0x18;
    pub const CHANNEL_STS: usize = 0x2C;
    pub const STS_TXFULL: u32 = 1 << 4;
    pub const FIFO: usize = 0x30;
    pub const BAUD_RATE_DIVIDER: usize = 0x34;
}

impl Uart {
    /// # Safety
    /// `base` is a UART of this guest's (from [`crate::devices`]) that
    /// nothing else drives.
    pub const unsafe fn new(base: usize) -> Self {
        Self { base }
    }

    fn read(&self, offset: usize) -> u32 {
        // SAFETY: a register of the UART `new`'s caller vouched for.
        unsafe { ((self.base + offset) as *const u32).read_volatile() }
    }

    fn write(&self, offset: usize, value: u32) {
        // SAFETY: as in `read`.
        unsafe { ((self.base + offset) as *mut u32).write_volatile(value) }
    }

    /// Sets it up for 115200 8N1, transmit only, no interrupts; `clock_hz`
    /// is its reference clock (from [`crate::devices`]).
    pub fn init(&self, clock_hz: u32) {
        #[cfg(mvm_board_qemu)]
        {
            use regs::*;
            self.write(CR, 0);
            // Divisor = clock / (16 x 115200), in 1/64ths.
            let div64 = (clock_hz as u64 * 4 + 115_200 / 2) / 115_200;
            self.write(IBRD, (div64 >> 6) as u32);
            self.write(FBRD, (div64 & 63) as u32);
            self.write(LCR_H, 0b11 << 5 | 1 << 4); // 8 bits, FIFOs on
            self.write(IMSC, 0);
            self.write(CR, 1 << 0 | 1 << 8); // UARTEN, TXE
        }
        #[cfg(mvm_board_zc702)]
        {
            use regs::*;
            self.write(CONTROL, 1 << 5 | 1 << 3); // TXDIS, RXDIS
            self.write(MODE, 0b100 << 3); // no parity, 8 bits, 1 stop
            self.write(INTRPT_DIS, 0x3FFF);
            // Baud = clock / (CD x (BDIV + 1)), BDIV = 6.
            let cd = (clock_hz + 115_200 * 7 / 2) / (115_200 * 7);
            self.write(BAUD_RATE_GEN, cd);
            self.write(BAUD_RATE_DIVIDER, 6);
            self.write(CONTROL, 1 << 1 | 1 << 0); // TXRES, RXRES
            while self.read(CONTROL) & 0b11 != 0 {}
            self.write(CONTROL, 1 << 4 | 1 << 8); // TXEN, STPBRK
        }
        FAULT_UART.store(self.base, Ordering::Relaxed);
    }

    fn write_byte(&self, byte: u8) {
        #[cfg(mvm_board_qemu)]
        {
            while self.read(regs::FR) & regs::FR_TXFF != 0 {}
            self.write(regs::DR, byte as u32);
        }
        #[cfg(mvm_board_zc702)]
        {
            while self.read(regs::CHANNEL_STS) & regs::STS_TXFULL != 0 {}
            self.write(regs::FIFO, byte as u32);
        }
    }
}

impl fmt::Write for Uart {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                self.write_byte(b'\r');
            }
            self.write_byte(b);
        }
        Ok(())
    }
}

/// Reports an exception R3 does not take (undefined instruction, SVC,
/// aborts) on the last UART set up, then stops this core.
#[no_mangle]
extern "C" fn mvm_r3_fault(kind: u32, pc: u32) -> ! {
    let base = FAULT_UART.load(Ordering::Relaxed);
    if base != 0 {
        let what = match kind {
            1 => "undefined instruction",
            2 => "supervisor call",
            3 => "prefetch abort",
            _ => "data abort",
        };
        let (dfar, dfsr): (u32, u32);
        // SAFETY: reads of this world's fault registers.
        unsafe {
            core::arch::asm!("mrc p15, 0, {}, c6, c0, 0", out(reg) dfar);
            core::arch::asm!("mrc p15, 0, {}, c5, c0, 0", out(reg) dfsr);
        }
        // SAFETY: the UART `init` was last called for.
        let mut uart = unsafe { Uart::new(base) };
        let _ = fmt::Write::write_fmt(
            &mut uart,
            format_args!(
                "mvm-r3: {what} at pc {pc:#010x} (DFAR {dfar:#010x} DFSR {dfsr:#x}); stopped\n"
            ),
        );
    }
    loop {
        // SAFETY: WFI has no memory effects.
        unsafe { core::arch::asm!("wfi") };
    }
}

/// Panics are reported like faults (`panic_immediate_abort` keeps the
/// message out of the image).
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    let pc: u32;
    // SAFETY: reads the program counter.
    unsafe { core::arch::asm!("mov {}, pc", out(reg) pc) };
    let base = FAULT_UART.load(Ordering::Relaxed);
    if base != 0 {
        // SAFETY: as in `mvm_r3_fault`.
        let mut uart = unsafe { Uart::new(base) };
        let _ = fmt::Write::write_fmt(&mut uart, format_args!("mvm-r3: panic near {pc:#010x}\n"));
    }
    loop {
        // SAFETY: WFI has no memory effects.
        unsafe { core::arch::asm!("wfi") };
    }
}
