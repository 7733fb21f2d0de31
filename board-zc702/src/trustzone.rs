//! The Zynq-7000's TrustZone controls: what the Non-secure world reaches.
//!
//! UG585's TrustZone sections and appendix B (slcr, nic301 registers).
//!
//! - Memory: DDR is split in 64 MiB blocks (`TZ_DDR_RAM` bit n = block n,
//!   1 = Non-secure), OCM in 4 KiB pages (`TZ_OCM_RAM0/1`). A block holding
//!   any byte of the monitor must be Secure, so the monitor's 16 MiB costs
//!   the guests the whole first 64 MiB of DDR: [`tz_ddr_ram`] computes the
//!   register, [`secure_ddr`] the memory no guest can use.
//! - Slaves: devices on the APB and the AHB/AXI slaves have security bits in
//!   two NIC-301 register blocks (0xE020_0000, 0xF890_0000), write-only and
//!   Secure at reset; a guest's passthrough device must be made Non-secure
//!   there or its accesses fail (DECERR, an external abort).
//! - Masters: DMA-capable controllers (GEM, SDIO, USB, DMAC, the PL) issue
//!   Secure or Non-secure transactions per the SLCR `TZ_*` registers; a
//!   guest's DMA master must be Non-secure, so it cannot reach the monitor.
//! - Register names and bit positions follow UG585's appendix B as far as
//!   they were checked (see docs/boards/zc702.md for what still needs a
//!   look at the manual); [`device_security`] answers only for those.
use mvm_board::PhysRange;
use tock_registers::interfaces::Writeable;
use tock_registers::{register_bitfields, register_structs, registers::WriteOnly};

/// DDR's TrustZone granule: one `TZ_DDR_RAM` bit per 64 MiB.
pub const DDR_TZ_BLOCK: u64 = 64 << 20;
/// OCM's TrustZone granule: one `TZ_OCM_RAMn` bit per 4 KiB.
pub const OCM_TZ_PAGE: u64 = 4 << 10;

/// `TZ_DDR_RAM` for a DDR of `ram` (starting at 0, at most 2 GiB) whose
/// part `secure` is the monitor's: a block is Non-secure (bit set) when it
/// holds DDR and not a byte of `secure`. Bits past the DDR stay 0.
pub const fn tz_ddr_ram(ram: PhysRange, secure: PhysRange) -> u32 {
    let mut value = 0u32;
    let mut n = 0u64;
    while n < 32 {
        let block = n * DDR_TZ_BLOCK;
        if ram.overlaps(block, DDR_TZ_BLOCK) && !secure.overlaps(block, DDR_TZ_BLOCK) {
            value |= 1 << n;
        }
        n += 1;
    }
    value
}

/// The DDR that [`tz_ddr_ram`] leaves Secure because of `secure`: the
/// reservation rounded out to whole 64 MiB blocks. No guest memory may
/// overlap it on the ZC702.
pub const fn secure_ddr(secure: PhysRange) -> PhysRange {
    if secure.size == 0 {
        return PhysRange::new(secure.base, 0);
    }
    let base = secure.base / DDR_TZ_BLOCK * DDR_TZ_BLOCK;
    let end = secure.end().div_ceil(DDR_TZ_BLOCK) * DDR_TZ_BLOCK;
    PhysRange::new(base, end - base)
}

/// The first Secure 64 MiB block (by `tz_ddr_ram`) that the range
/// `[base..base + size)` touches, if any: a guest region there would fault.
pub const fn secure_block_hit(tz_ddr_ram: u32, base: u64, size: u64) -> Option<PhysRange> {
    if size == 0 {
        return None;
    }
    let first = base / DDR_TZ_BLOCK;
    let last = (base + size - 1) / DDR_TZ_BLOCK;
    let mut n = first;
    while n <= last {
        if n >= 32 || tz_ddr_ram & (1 << n) == 0 {
            return Some(PhysRange::new(n * DDR_TZ_BLOCK, DDR_TZ_BLOCK));
        }
        n += 1;
    }
    None
}

/// `[TZ_OCM_RAM0, TZ_OCM_RAM1]` with the OCM pages overlapping `secure`
/// (an address range in the 256 KiB OCM, mapped high) Secure and every other
/// page Non-secure.
pub const fn tz_ocm_ram(secure: PhysRange) -> [u32; 2] {
    let mut words = [0u32; 2];
    let mut page = 0u64;
    while page < 64 {
        let at = crate::OCM_HIGH.base + page * OCM_TZ_PAGE;
        if !secure.overlaps(at, OCM_TZ_PAGE) {
            words[(page / 32) as usize] |= 1 << (page % 32);
        }
        page += 1;
    }
    words
}

register_bitfields![u32,
    /// security_apb: APB boot secure ports setting (1 = Non-secure).
    pub SECURITY_APB [
        /// DDR controller registers.
        DDRC OFFSET(5) NUMBITS(1) [],
        /// TTC1.
        TTC1 OFFSET(4) NUMBITS(1) [],
        /// AFI3 registers (S_AXI_HP3).
        AFI3 OFFSET(3) NUMBITS(1) [],
        /// AFI2 registers (S_AXI_HP2).
        AFI2 OFFSET(2) NUMBITS(1) [],
        /// AFI1 registers (S_AXI_HP1).
        AFI1 OFFSET(1) NUMBITS(1) [],
        /// AFI0 registers (S_AXI_HP0).
        AFI0 OFFSET(0) NUMBITS(1) []
    ],
    /// security6_apb_slaves: APB slaves security (1 = Non-secure), 15 bits;
    /// only the bits checked against a UG585-derived source are named.
    pub SECURITY6_APB_SLAVES [
        /// UART1.
        UART1 OFFSET(7) NUMBITS(1) [],
        /// UART0.
        UART0 OFFSET(6) NUMBITS(1) []
    ]
];

register_structs! {
    /// AXI/APB slave security (NIC-301 address region control at
    /// 0xE020_0000, UG585 appendix B); write-only, Secure (0) at reset.
    pub SlaveSecurityRegisters {
        (0x00 => _reserved0),
        /// security2_sdio0: SDIO0 slave security (1 = Non-secure).
        (0x08 => security2_sdio0: WriteOnly<u32>),
        /// security3_sdio1: SDIO1 slave security (1 = Non-secure).
        (0x0C => security3_sdio1: WriteOnly<u32>),
        /// security4_qspi: QSPI slave security (1 = Non-secure).
        (0x10 => security4_qspi: WriteOnly<u32>),
        (0x14 => _reserved1),
        /// security6_apb_slaves: APB slaves security, one bit per slave.
        (0x18 => security6_apb_slaves: WriteOnly<u32, SECURITY6_APB_SLAVES::Register>),
        /// security7_smc: SMC (static memory controller) slave security.
        (0x1C => security7_smc: WriteOnly<u32>),
        (0x20 => @END),
    }
}

register_structs! {
    /// GPV security (nic301_addr_region_ctrl_registers at 0xF890_0000,
    /// UG585 appendix B); write-only, Secure (0) at reset.
    pub GpvSecurityRegisters {
        (0x00 => _reserved0),
        /// security_gp0_axi: M_AXI_GP0 (PS to PL) security (1 = Non-secure).
        (0x1C => security_gp0_axi: WriteOnly<u32>),
        /// security_gp1_axi: M_AXI_GP1 (PS to PL) security (1 = Non-secure).
        (0x20 => security_gp1_axi: WriteOnly<u32>),
        (0x24 => _reserved1),
        /// security_apb: APB boot secure ports setting.
        (0x28 => security_apb: WriteOnly<u32, SECURITY_APB::Register>),
        (0x2C => @END),
    }
}

/// Base of [`SlaveSecurityRegisters`].
pub const SLAVE_SECURITY_BASE: usize = 0xE020_0000;
/// Base of [`GpvSecurityRegisters`].
pub const GPV_SECURITY_BASE: usize = 0xF890_0000;

/// A write-only security register and the bit that makes a slave
/// Non-secure in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlaveBit {
    Security2Sdio0,
    Security3Sdio1,
    Security6ApbSlaves(u32),
    SecurityApb(u32),
}

/// An SLCR `TZ_*` register and the bit that makes a master Non-secure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MasterBit {
    pub register: crate::slcr::TzRegister,
    pub mask: u32,
}

/// What makes a catalogue device usable from the Non-secure world.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceSecurity {
    /// Its registers (slave side); None if always reachable.
    pub slave: Option<SlaveBit>,
    /// Its DMA (master side), for bus masters.
    pub master: Option<MasterBit>,
}

/// The TrustZone settings a guest's passthrough device needs, for the
/// devices whose bits were checked; None for the others (i2c, spi, can,
/// gpio, ttc0: their `security6_apb_slaves` bits, or whether they have one,
/// still need UG585 in hand; see docs/boards/zc702.md).
pub const fn device_security(name: &str) -> Option<DeviceSecurity> {
    use crate::slcr::TzRegister;
    const fn master(register: TzRegister, mask: u32) -> Option<MasterBit> {
        Some(MasterBit { register, mask })
    }
    let (slave, master) = match name.as_bytes() {
        b"uart0" => (Some(SlaveBit::Security6ApbSlaves(1 << 6)), None),
        b"uart1" => (Some(SlaveBit::Security6ApbSlaves(1 << 7)), None),
        b"ttc1" => (Some(SlaveBit::SecurityApb(1 << 4)), None),
        b"sdio0" => (
            Some(SlaveBit::Security2Sdio0),
            master(TzRegister::TzSdio, 1 << 0),
        ),
        b"gem0" => (None, master(TzRegister::TzGem, 1 << 0)),
        b"usb0" => (None, master(TzRegister::TzUsb, 1 << 0)),
        _ => return None,
    };
    Some(DeviceSecurity { slave, master })
}

/// Secure-world handle on both slave security blocks.
pub struct SlaveSecurity {
    slaves: *const SlaveSecurityRegisters,
    gpv: *const GpvSecurityRegisters,
}

impl SlaveSecurity {
    /// # Safety
    /// `slaves` and `gpv` are the two blocks ([`SLAVE_SECURITY_BASE`],
    /// [`GPV_SECURITY_BASE`]), driven from the Secure world by boot code on
    /// one core.
    pub const unsafe fn new(slaves: usize, gpv: usize) -> Self {
        Self {
            slaves: slaves as *const SlaveSecurityRegisters,
            gpv: gpv as *const GpvSecurityRegisters,
        }
    }

    /// Writes the complete settings; the registers are write-only, so the
    /// monitor computes every value once (from all guests' devices) and
    /// writes each register once.
    pub fn write(&self, settings: &SlaveSettings) {
        // SAFETY: `new`'s caller vouched that the pointers are the register
        // blocks, which live for the whole run.
        let (slaves, gpv) = unsafe { (&*self.slaves, &*self.gpv) };
        slaves.security2_sdio0.set(settings.security2_sdio0);
        slaves.security3_sdio1.set(settings.security3_sdio1);
        slaves
            .security6_apb_slaves
            .set(settings.security6_apb_slaves);
        gpv.security_apb.set(settings.security_apb);
    }
}

/// Values for the write-only slave security registers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SlaveSettings {
    pub security2_sdio0: u32,
    pub security3_sdio1: u32,
    pub security6_apb_slaves: u32,
    pub security_apb: u32,
}

impl SlaveSettings {
    /// Adds one Non-secure slave.
    pub const fn with(mut self, bit: SlaveBit) -> Self {
        match bit {
            SlaveBit::Security2Sdio0 => self.security2_sdio0 = 1,
            SlaveBit::Security3Sdio1 => self.security3_sdio1 = 1,
            SlaveBit::Security6ApbSlaves(mask) => self.security6_apb_slaves |= mask,
            SlaveBit::SecurityApb(mask) => self.security_apb |= mask,
        }
        self
    }
}

/// The monitor's TrustZone settings: DDR outside the monitor's blocks,
/// and exactly the guests' passthrough devices, Non-secure; the monitor's
/// reservation, OCM (CPU1's mailbox), the DMAC, the PL ports and every
/// other device Secure. Computed on the host-testable side, written once
/// at boot by the monitor (SLCR unlocked for the `TZ_*` registers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The SLCR `TZ_*` registers the monitor writes, with their values.
    /// `TZ_OCM` is left as the boot loader set it (its bits are not
    /// confirmed yet, see docs/boards/zc702.md).
    pub tz: [(crate::slcr::TzRegister, u32); 11],
    /// The write-only slave security registers.
    pub slaves: SlaveSettings,
}

impl Plan {
    /// Nothing Non-secure but the DDR blocks without a byte of `monitor`.
    pub const fn new(ram: PhysRange, monitor: PhysRange) -> Self {
        use crate::slcr::TzRegister::*;
        let ocm = tz_ocm_ram(crate::OCM_HIGH);
        Self {
            tz: [
                (TzDdrRam, tz_ddr_ram(ram, monitor)),
                (TzOcmRam0, ocm[0]),
                (TzOcmRam1, ocm[1]),
                (TzDmaNs, 0),
                (TzDmaIrqNs, 0),
                (TzDmaPeriphNs, 0),
                (TzGem, 0),
                (TzSdio, 0),
                (TzUsb, 0),
                (TzFpgaM, 0),
                (TzFpgaAfi, 0),
            ],
            slaves: SlaveSettings {
                security2_sdio0: 0,
                security3_sdio1: 0,
                security6_apb_slaves: 0,
                security_apb: 0,
            },
        }
    }

    /// Makes the catalogue device `name` (a guest's) Non-secure, slave
    /// and master side. False when its settings are unknown
    /// ([`device_security`] is None): it stays Secure, and the guest's
    /// accesses to it will fault.
    pub fn add_guest_device(&mut self, name: &str) -> bool {
        let Some(security) = device_security(name) else {
            return false;
        };
        if let Some(bit) = security.slave {
            self.slaves = self.slaves.with(bit);
        }
        if let Some(master) = security.master {
            for (register, value) in self.tz.iter_mut() {
                if *register == master.register {
                    *value |= master.mask;
                }
            }
        }
        true
    }

    /// The value planned for `register`, if the monitor writes it.
    pub fn value(&self, register: crate::slcr::TzRegister) -> Option<u32> {
        self.tz
            .iter()
            .find(|(r, _)| *r == register)
            .map(|&(_, value)| value)
    }
}

// SAFETY: a handle is only two pointers to MMIO blocks; every access is a
// single volatile store, and the writes happen once, at boot, on one core.
unsafe impl Send for SlaveSecurity {}
// SAFETY: as for `Send`.
unsafe impl Sync for SlaveSecurity {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BOARD;

    const MIB: u64 = 1 << 20;

    #[test]
    fn the_monitor_reservation_secures_the_first_64_mib() {
        let tz = tz_ddr_ram(BOARD.ram, BOARD.monitor_reservation);
        // 1 GiB = 16 blocks; block 0 holds the monitor's 16 MiB.
        assert_eq!(tz, 0x0000_FFFE);
        assert_eq!(
            secure_ddr(BOARD.monitor_reservation),
            PhysRange::new(0, 64 * MIB)
        );
        // The 48 MiB after the reservation are lost to the guests.
        let just_after = BOARD.monitor_reservation.end();
        assert_eq!(
            secure_block_hit(tz, just_after, 16 * MIB),
            Some(PhysRange::new(0, 64 * MIB))
        );
        assert_eq!(
            secure_block_hit(tz, 63 * MIB, 2 * MIB),
            Some(PhysRange::new(0, 64 * MIB)),
            "straddling into block 1 still touches block 0"
        );
        assert_eq!(secure_block_hit(tz, 64 * MIB, 16 * MIB), None);
        assert_eq!(secure_block_hit(tz, 0x1000_0000, 16 * MIB), None);
        assert_eq!(
            secure_block_hit(tz, 1024 * MIB, MIB),
            Some(PhysRange::new(1024 * MIB, 64 * MIB)),
            "no DDR there: Secure (bit clear)"
        );
    }

    #[test]
    fn other_reservations() {
        let ram = BOARD.ram;
        assert_eq!(tz_ddr_ram(ram, PhysRange::new(0, 64 * MIB)), 0xFFFE);
        assert_eq!(tz_ddr_ram(ram, PhysRange::new(0, 64 * MIB + 1)), 0xFFFC);
        assert_eq!(tz_ddr_ram(ram, PhysRange::new(60 * MIB, 8 * MIB)), 0xFFFC);
        assert_eq!(tz_ddr_ram(ram, PhysRange::new(0, 0)), 0xFFFF);
        assert_eq!(
            secure_ddr(PhysRange::new(60 * MIB, 8 * MIB)),
            PhysRange::new(0, 128 * MIB)
        );
        // The 1 GiB DDR uses 16 of the 32 bits.
        assert_eq!(
            tz_ddr_ram(PhysRange::new(0, 2048 * MIB), PhysRange::new(0, 0)),
            !0
        );
    }

    #[test]
    fn the_example_system_avoids_the_secure_block() {
        let tz = tz_ddr_ram(BOARD.ram, BOARD.monitor_reservation);
        // partitions/examples/zc702.toml
        for (base, size) in [
            (0x1000_0000, 16 * MIB),
            (0x1200_0000, 16 * MIB),
            (0x1400_0000, 8 * MIB),
        ] {
            assert_eq!(secure_block_hit(tz, base, size), None);
        }
    }

    #[test]
    fn ocm_pages() {
        let all_ns = tz_ocm_ram(PhysRange::new(0, 0));
        assert_eq!(all_ns, [!0, !0]);
        // The monitor keeps the last 64 KiB (CPU1's mailbox block).
        let top = tz_ocm_ram(PhysRange::new(0xFFFF_0000, 64 << 10));
        assert_eq!(top, [!0, 0x0000_FFFF]);
        let first_page = tz_ocm_ram(PhysRange::new(0xFFFC_0000, 1));
        assert_eq!(first_page, [!1, !0]);
    }

    #[test]
    fn device_settings() {
        let settings = ["uart0", "ttc1", "sdio0"]
            .iter()
            .filter_map(|d| device_security(d)?.slave)
            .fold(SlaveSettings::default(), SlaveSettings::with);
        assert_eq!(
            settings,
            SlaveSettings {
                security2_sdio0: 1,
                security3_sdio1: 0,
                security6_apb_slaves: 1 << 6,
                security_apb: 1 << 4,
            }
        );
        assert_eq!(
            device_security("gem0").and_then(|d| d.master),
            Some(MasterBit {
                register: crate::slcr::TzRegister::TzGem,
                mask: 1
            })
        );
        assert_eq!(device_security("i2c0"), None, "not checked yet");
        // Every named device is in the catalogue.
        for name in ["uart0", "uart1", "ttc1", "sdio0", "gem0", "usb0"] {
            assert!(BOARD.device(name).is_some(), "{name}");
            assert!(device_security(name).is_some(), "{name}");
        }
    }

    #[test]
    fn the_monitor_plan() {
        use crate::slcr::TzRegister;
        let mut plan = Plan::new(BOARD.ram, BOARD.monitor_reservation);
        assert_eq!(plan.value(TzRegister::TzDdrRam), Some(0x0000_FFFE));
        assert_eq!(plan.value(TzRegister::TzOcmRam0), Some(0), "OCM Secure");
        assert_eq!(plan.value(TzRegister::TzOcmRam1), Some(0), "OCM Secure");
        assert_eq!(plan.value(TzRegister::TzOcm), None, "left alone");
        assert_eq!(plan.slaves, SlaveSettings::default());
        // partitions/examples/zc702.toml: control has uart0 and ttc1,
        // logger has gpio (unknown: stays Secure).
        assert!(plan.add_guest_device("uart0"));
        assert!(plan.add_guest_device("ttc1"));
        assert!(!plan.add_guest_device("gpio"));
        assert_eq!(
            plan.slaves,
            SlaveSettings {
                security6_apb_slaves: 1 << 6,
                security_apb: 1 << 4,
                ..SlaveSettings::default()
            },
            "uart1 (the monitor's console) stays Secure"
        );
        assert!(plan.add_guest_device("gem0"));
        assert!(plan.add_guest_device("sdio0"));
        assert_eq!(plan.value(TzRegister::TzGem), Some(1));
        assert_eq!(plan.value(TzRegister::TzSdio), Some(1));
        assert_eq!(plan.value(TzRegister::TzUsb), Some(0));
        assert_eq!(plan.value(TzRegister::TzDmaNs), Some(0), "DMAC Secure");
        assert_eq!(plan.slaves.security2_sdio0, 1);
        // Every register written once.
        for (i, (r, _)) in plan.tz.iter().enumerate() {
            assert!(plan.tz[i + 1..].iter().all(|(o, _)| o != r), "{r:?}");
        }
    }

    #[test]
    fn block_layouts() {
        use core::mem::offset_of;
        assert_eq!(offset_of!(SlaveSecurityRegisters, security2_sdio0), 0x08);
        assert_eq!(
            offset_of!(SlaveSecurityRegisters, security6_apb_slaves),
            0x18
        );
        assert_eq!(offset_of!(GpvSecurityRegisters, security_gp0_axi), 0x1C);
        assert_eq!(offset_of!(GpvSecurityRegisters, security_apb), 0x28);
    }
}
