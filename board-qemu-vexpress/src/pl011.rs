//! Arm PrimeCell UART (PL011), polled transmit only.
use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::{
    register_bitfields, register_structs, registers::ReadOnly, registers::ReadWrite,
};

register_bitfields![u32,
    /// UARTFR: flag register.
    pub UARTFR [
        /// Transmit FIFO full.
        TXFF OFFSET(5) NUMBITS(1) [],
        /// UART busy transmitting.
        BUSY OFFSET(3) NUMBITS(1) []
    ],
    /// UARTLCR_H: line control.
    pub UARTLCR_H [
        /// Word length.
        WLEN OFFSET(5) NUMBITS(2) [Bits8 = 3],
        /// Enable FIFOs.
        FEN OFFSET(4) NUMBITS(1) []
    ],
    /// UARTCR: control register.
    pub UARTCR [
        /// Receive enable.
        RXE OFFSET(9) NUMBITS(1) [],
        /// Transmit enable.
        TXE OFFSET(8) NUMBITS(1) [],
        /// UART enable.
        UARTEN OFFSET(0) NUMBITS(1) []
    ]
];

register_structs! {
    /// PL011 register block (PrimeCell UART TRM, DDI0183).
    pub Pl011Registers {
        /// UARTDR: data register.
        (0x000 => uartdr: ReadWrite<u32>),
        /// UARTRSR/UARTECR: receive status / error clear.
        (0x004 => uartrsr: ReadWrite<u32>),
        (0x008 => _reserved0),
        /// UARTFR: flag register.
        (0x018 => uartfr: ReadOnly<u32, UARTFR::Register>),
        (0x01C => _reserved1),
        /// UARTIBRD: integer baud rate divisor.
        (0x024 => uartibrd: ReadWrite<u32>),
        /// UARTFBRD: fractional baud rate divisor.
        (0x028 => uartfbrd: ReadWrite<u32>),
        /// UARTLCR_H: line control.
        (0x02C => uartlcr_h: ReadWrite<u32, UARTLCR_H::Register>),
        /// UARTCR: control register.
        (0x030 => uartcr: ReadWrite<u32, UARTCR::Register>),
        /// UARTIFLS: interrupt FIFO level select.
        (0x034 => uartifls: ReadWrite<u32>),
        /// UARTIMSC: interrupt mask set/clear.
        (0x038 => uartimsc: ReadWrite<u32>),
        (0x03C => _reserved2),
        /// UARTICR: interrupt clear.
        (0x044 => uarticr: ReadWrite<u32>),
        (0x048 => @END),
    }
}

/// A polled PL011 transmitter.
pub struct Pl011 {
    regs: *const Pl011Registers,
}

impl Pl011 {
    /// # Safety
    /// `base` is the address of a PL011 (identity mapped or MMU off) that
    /// no other code drives concurrently.
    pub const unsafe fn new(base: usize) -> Self {
        Self {
            regs: base as *const Pl011Registers,
        }
    }

    fn regs(&self) -> &Pl011Registers {
        // SAFETY: `new`'s caller vouched that the pointer is the device's
        // register block, which lives for the whole run.
        unsafe { &*self.regs }
    }

    /// 8N1, FIFOs on, 115200 baud from a 24 MHz UARTCLK (QEMU ignores it).
    pub fn init(&self) {
        self.regs().uartcr.set(0);
        self.regs().uarticr.set(0x7FF);
        self.regs().uartibrd.set(13);
        self.regs().uartfbrd.set(1);
        self.regs()
            .uartlcr_h
            .write(UARTLCR_H::WLEN::Bits8 + UARTLCR_H::FEN::SET);
        self.regs().uartimsc.set(0);
        self.regs()
            .uartcr
            .write(UARTCR::UARTEN::SET + UARTCR::TXE::SET + UARTCR::RXE::SET);
    }

    pub fn write_byte(&self, byte: u8) {
        while self.regs().uartfr.is_set(UARTFR::TXFF) {}
        self.regs().uartdr.set(byte as u32);
    }

    pub fn write_bytes(&self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' {
                self.write_byte(b'\r');
            }
            self.write_byte(b);
        }
    }
}

impl core::fmt::Write for Pl011 {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.write_bytes(s.as_bytes());
        Ok(())
    }
}

// SAFETY: a handle is only a pointer to a PL011's MMIO block;
// every access is a single volatile load or store. Read-modify-write
// sequences are serialised by the caller (boot code on one core, or a lock).
unsafe impl Send for Pl011 {}
// SAFETY: as for `Send`.
unsafe impl Sync for Pl011 {}
