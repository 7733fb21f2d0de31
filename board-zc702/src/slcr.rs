//! System-level control registers (SLCR, UG585 4.3 and appendix B, slcr):
//! the write lock and the TrustZone and OCM settings the monitor owns.
//!
//! - Every SLCR register but the lock registers ignores writes while the
//!   SLCR is locked (`SLCR_LOCKSTA` = 1). [`Slcr::unlocked`] unlocks, runs
//!   the writes and locks again only if it was locked before, so nesting
//!   and a boot loader that left it unlocked both behave.
//! - The SLCR must stay Secure-only: a guest that could write it could
//!   make the monitor's memory Non-secure. It is `Owner::Monitor` in the
//!   catalogue.
use tock_registers::interfaces::{ReadWriteable, Readable, Writeable};
use tock_registers::{
    register_bitfields, register_structs, registers::ReadOnly, registers::ReadWrite,
    registers::WriteOnly,
};

/// `SLCR_LOCK` key: writing it locks the SLCR.
pub const LOCK_KEY: u32 = 0x767B;
/// `SLCR_UNLOCK` key: writing it unlocks the SLCR.
pub const UNLOCK_KEY: u32 = 0xDF0D;

register_bitfields![u32,
    /// SLCR_LOCKSTA: SLCR write protection status.
    pub SLCR_LOCKSTA [
        /// 1: the SLCR is locked.
        LOCK_STATUS OFFSET(0) NUMBITS(1) []
    ],
    /// OCM_CFG: OCM address mapping.
    pub OCM_CFG [
        /// One bit per 64 KiB OCM block: 1 maps it at the high addresses
        /// (0xFFFC_0000 + 64 KiB x n), 0 at the low ones.
        RAM_HI OFFSET(0) NUMBITS(4) []
    ]
];

register_structs! {
    /// SLCR registers the monitor uses (UG585 appendix B, slcr).
    pub SlcrRegisters {
        /// SCL: secure configuration lock (locks itself until reset).
        (0x000 => scl: ReadWrite<u32>),
        /// SLCR_LOCK: SLCR write protection lock.
        (0x004 => slcr_lock: WriteOnly<u32>),
        /// SLCR_UNLOCK: SLCR write protection unlock.
        (0x008 => slcr_unlock: WriteOnly<u32>),
        /// SLCR_LOCKSTA: SLCR write protection status.
        (0x00C => slcr_locksta: ReadOnly<u32, SLCR_LOCKSTA::Register>),
        (0x010 => _reserved0),
        /// TZ_OCM_RAM0: OCM RAM TrustZone config 0 (first 128 KiB, 4 KiB a bit).
        (0x400 => tz_ocm_ram0: ReadWrite<u32>),
        /// TZ_OCM_RAM1: OCM RAM TrustZone config 1 (last 128 KiB, 4 KiB a bit).
        (0x404 => tz_ocm_ram1: ReadWrite<u32>),
        /// TZ_OCM: OCM ROM TrustZone config.
        (0x408 => tz_ocm: ReadWrite<u32>),
        (0x40C => _reserved1),
        /// TZ_DDR_RAM: DDR RAM TrustZone config (64 MiB a bit).
        (0x430 => tz_ddr_ram: ReadWrite<u32>),
        (0x434 => _reserved2),
        /// TZ_DMA_NS: DMAC TrustZone config (manager thread).
        (0x440 => tz_dma_ns: ReadWrite<u32>),
        /// TZ_DMA_IRQ_NS: DMAC TrustZone config for interrupts.
        (0x444 => tz_dma_irq_ns: ReadWrite<u32>),
        /// TZ_DMA_PERIPH_NS: DMAC TrustZone config for peripherals.
        (0x448 => tz_dma_periph_ns: ReadWrite<u32>),
        (0x44C => _reserved3),
        /// TZ_GEM: Ethernet TrustZone config.
        (0x450 => tz_gem: ReadWrite<u32>),
        /// TZ_SDIO: SDIO TrustZone config.
        (0x454 => tz_sdio: ReadWrite<u32>),
        /// TZ_USB: USB TrustZone config.
        (0x458 => tz_usb: ReadWrite<u32>),
        (0x45C => _reserved4),
        /// TZ_FPGA_M: FPGA master ports TrustZone disable.
        (0x484 => tz_fpga_m: ReadWrite<u32>),
        /// TZ_FPGA_AFI: FPGA AFI AXI ports TrustZone disable.
        (0x488 => tz_fpga_afi: ReadWrite<u32>),
        (0x48C => _reserved5),
        /// OCM_CFG: OCM address mapping.
        (0x910 => ocm_cfg: ReadWrite<u32, OCM_CFG::Register>),
        (0x914 => @END),
    }
}

/// The SLCR's TrustZone registers, by their UG585 names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TzRegister {
    TzOcmRam0,
    TzOcmRam1,
    TzOcm,
    TzDdrRam,
    TzDmaNs,
    TzDmaIrqNs,
    TzDmaPeriphNs,
    TzGem,
    TzSdio,
    TzUsb,
    TzFpgaM,
    TzFpgaAfi,
}

impl TzRegister {
    pub const ALL: [TzRegister; 12] = [
        Self::TzOcmRam0,
        Self::TzOcmRam1,
        Self::TzOcm,
        Self::TzDdrRam,
        Self::TzDmaNs,
        Self::TzDmaIrqNs,
        Self::TzDmaPeriphNs,
        Self::TzGem,
        Self::TzSdio,
        Self::TzUsb,
        Self::TzFpgaM,
        Self::TzFpgaAfi,
    ];

    /// The register's name in UG585 (for reports and debugger checklists).
    pub const fn name(self) -> &'static str {
        match self {
            Self::TzOcmRam0 => "TZ_OCM_RAM0",
            Self::TzOcmRam1 => "TZ_OCM_RAM1",
            Self::TzOcm => "TZ_OCM",
            Self::TzDdrRam => "TZ_DDR_RAM",
            Self::TzDmaNs => "TZ_DMA_NS",
            Self::TzDmaIrqNs => "TZ_DMA_IRQ_NS",
            Self::TzDmaPeriphNs => "TZ_DMA_PERIPH_NS",
            Self::TzGem => "TZ_GEM",
            Self::TzSdio => "TZ_SDIO",
            Self::TzUsb => "TZ_USB",
            Self::TzFpgaM => "TZ_FPGA_M",
            Self::TzFpgaAfi => "TZ_FPGA_AFI",
        }
    }

    /// Its offset in the SLCR.
    pub const fn offset(self) -> usize {
        match self {
            Self::TzOcmRam0 => 0x400,
            Self::TzOcmRam1 => 0x404,
            Self::TzOcm => 0x408,
            Self::TzDdrRam => 0x430,
            Self::TzDmaNs => 0x440,
            Self::TzDmaIrqNs => 0x444,
            Self::TzDmaPeriphNs => 0x448,
            Self::TzGem => 0x450,
            Self::TzSdio => 0x454,
            Self::TzUsb => 0x458,
            Self::TzFpgaM => 0x484,
            Self::TzFpgaAfi => 0x488,
        }
    }
}

/// Secure-world handle on the SLCR.
pub struct Slcr {
    regs: *const SlcrRegisters,
}

impl Slcr {
    /// # Safety
    /// `base` is the SLCR, driven from the Secure world by one core at a
    /// time (boot code before the other core starts, or under a lock).
    pub const unsafe fn new(base: usize) -> Self {
        Self {
            regs: base as *const SlcrRegisters,
        }
    }

    fn regs(&self) -> &SlcrRegisters {
        // SAFETY: `new`'s caller vouched that the pointer is the device's
        // register block, which lives for the whole run.
        unsafe { &*self.regs }
    }

    pub fn is_locked(&self) -> bool {
        self.regs().slcr_locksta.is_set(SLCR_LOCKSTA::LOCK_STATUS)
    }

    pub fn lock(&self) {
        self.regs().slcr_lock.set(LOCK_KEY);
    }

    pub fn unlock(&self) {
        self.regs().slcr_unlock.set(UNLOCK_KEY);
    }

    /// Runs `writes` with the SLCR unlocked, then restores the lock state
    /// it found.
    pub fn unlocked<R>(&self, writes: impl FnOnce(&Self) -> R) -> R {
        let was_locked = self.is_locked();
        self.unlock();
        let result = writes(self);
        if was_locked {
            self.lock();
        }
        result
    }

    fn tz(&self, register: TzRegister) -> &ReadWrite<u32> {
        let r = self.regs();
        match register {
            TzRegister::TzOcmRam0 => &r.tz_ocm_ram0,
            TzRegister::TzOcmRam1 => &r.tz_ocm_ram1,
            TzRegister::TzOcm => &r.tz_ocm,
            TzRegister::TzDdrRam => &r.tz_ddr_ram,
            TzRegister::TzDmaNs => &r.tz_dma_ns,
            TzRegister::TzDmaIrqNs => &r.tz_dma_irq_ns,
            TzRegister::TzDmaPeriphNs => &r.tz_dma_periph_ns,
            TzRegister::TzGem => &r.tz_gem,
            TzRegister::TzSdio => &r.tz_sdio,
            TzRegister::TzUsb => &r.tz_usb,
            TzRegister::TzFpgaM => &r.tz_fpga_m,
            TzRegister::TzFpgaAfi => &r.tz_fpga_afi,
        }
    }

    pub fn read_tz(&self, register: TzRegister) -> u32 {
        self.tz(register).get()
    }

    /// Writes a TrustZone register; ignored by the hardware unless the SLCR
    /// is unlocked (see [`Slcr::unlocked`]).
    pub fn write_tz(&self, register: TzRegister, value: u32) {
        self.tz(register).set(value);
    }

    /// OCM_CFG RAM_HI: which 64 KiB OCM blocks sit at the high addresses.
    pub fn ocm_high_blocks(&self) -> u32 {
        self.regs().ocm_cfg.read(OCM_CFG::RAM_HI)
    }

    /// Maps the OCM blocks in `blocks` (RAM_HI bits) high and the others
    /// low, keeping OCM_CFG's other bits (the boot ROM leaves 0x18: bit 4
    /// set, only the last block high). All four high (0xF) is what U-Boot
    /// sets so that DDR shows from address 0; keep bit 3 until CPU1 has left
    /// the boot ROM (`smp`). Ignored unless the SLCR is unlocked.
    pub fn set_ocm_high_blocks(&self, blocks: u32) {
        self.regs().ocm_cfg.modify(OCM_CFG::RAM_HI.val(blocks));
    }
}

// SAFETY: a handle is only a pointer to the SLCR's MMIO block; every access
// is a single volatile load or store. Unlock-write-lock sequences are
// serialised by the caller (see `new`).
unsafe impl Send for Slcr {}
// SAFETY: as for `Send`.
unsafe impl Sync for Slcr {}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::offset_of;

    #[test]
    fn tz_register_offsets_match_the_block() {
        let block = [
            offset_of!(SlcrRegisters, tz_ocm_ram0),
            offset_of!(SlcrRegisters, tz_ocm_ram1),
            offset_of!(SlcrRegisters, tz_ocm),
            offset_of!(SlcrRegisters, tz_ddr_ram),
            offset_of!(SlcrRegisters, tz_dma_ns),
            offset_of!(SlcrRegisters, tz_dma_irq_ns),
            offset_of!(SlcrRegisters, tz_dma_periph_ns),
            offset_of!(SlcrRegisters, tz_gem),
            offset_of!(SlcrRegisters, tz_sdio),
            offset_of!(SlcrRegisters, tz_usb),
            offset_of!(SlcrRegisters, tz_fpga_m),
            offset_of!(SlcrRegisters, tz_fpga_afi),
        ];
        for (register, offset) in TzRegister::ALL.iter().zip(block) {
            assert_eq!(register.offset(), offset, "{}", register.name());
        }
        assert_eq!(offset_of!(SlcrRegisters, ocm_cfg), 0x910);
        assert_eq!(offset_of!(SlcrRegisters, slcr_unlock), 0x008);
    }
}
