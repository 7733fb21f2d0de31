//! The board's catalogue: DDR, the monitor's reservation and the devices.

use mvm_board::{Board, Device, Owner, PhysRange};

const MIB: u64 = 1 << 20;

/// The MPCore private memory region: SCU, GIC CPU interface, global timer,
/// private timers and watchdogs, GIC distributor.
pub const MPCORE_PRIVATE: PhysRange = PhysRange::new(0xF8F0_0000, 0x2000);

/// The system-level control registers (clocks, resets, TrustZone settings).
pub const SLCR: PhysRange = PhysRange::new(0xF800_0000, 0x1000);

const fn guest(name: &'static str, model: &'static str, base: u64, irqs: &'static [u32]) -> Device {
    Device {
        name,
        model,
        regs: PhysRange::new(base, 0x1000),
        interrupts: irqs,
        owner: Owner::Guest,
    }
}

pub const BOARD: Board = Board {
    name: "zc702",
    title: "Xilinx ZC702 (Zynq-7000 XC7Z020, 2 x Cortex-A9, 1 GiB DDR3)",
    cores: 2,
    ram: PhysRange::new(0x0000_0000, 1024 * MIB),
    monitor_reservation: PhysRange::new(0x0000_0000, 16 * MIB),
    // The CPUs reach DDR below 1 MiB only after the OCM is remapped high,
    // which the FSBL does not do: the monitor links above it.
    monitor_load: 0x0010_0000,
    // TZ_DDR_RAM makes DDR Secure in 64 MiB blocks (UG585 appendix B, SLCR).
    trustzone_granule: 64 * MIB,
    // The first MiB after the Secure 64 MiB block: the Non-secure world's
    // table walks cannot read Secure DDR (docs/memory.md).
    table_area: PhysRange::new(0x0400_0000, MIB),
    // An estimate until measured on the board: a world switch of a few
    // hundred instructions at 667 MHz with cold caches, with a wide margin.
    default_switch_overhead_ns: 5_000,
    default_switch_overhead_source: "estimate (not yet measured on hardware)",
    default_switch_overhead_measured: false,
    devices: &[
        guest("uart0", "Cadence UART", 0xE000_0000, &[59]),
        Device {
            name: "uart1",
            model: "Cadence UART (USB-UART, monitor console)",
            regs: PhysRange::new(0xE000_1000, 0x1000),
            interrupts: &[82],
            owner: Owner::Monitor,
        },
        guest("usb0", "USB controller", 0xE000_2000, &[53]),
        guest("i2c0", "Cadence I2C", 0xE000_4000, &[57]),
        guest("i2c1", "Cadence I2C", 0xE000_5000, &[80]),
        guest("spi0", "Cadence SPI", 0xE000_6000, &[58]),
        guest("spi1", "Cadence SPI", 0xE000_7000, &[81]),
        guest("can0", "CAN controller", 0xE000_8000, &[60]),
        guest("can1", "CAN controller", 0xE000_9000, &[83]),
        guest("gpio", "GPIO", 0xE000_A000, &[52]),
        guest("gem0", "Gigabit Ethernet MAC", 0xE000_B000, &[54, 55]),
        guest("sdio0", "SD/SDIO controller", 0xE010_0000, &[56]),
        // TTC0 has no TrustZone setting (only TTC1 has one, in
        // security_apb): it stays Secure, so the monitor keeps it.
        Device {
            name: "ttc0",
            model: "Cadence triple timer counter (Secure only)",
            regs: PhysRange::new(0xF800_1000, 0x1000),
            interrupts: &[42, 43, 44],
            owner: Owner::Monitor,
        },
        guest(
            "ttc1",
            "Cadence triple timer counter",
            0xF800_2000,
            &[69, 70, 71],
        ),
        Device {
            name: "dmac",
            model: "DMA controller (a bus master: never a guest's)",
            regs: PhysRange::new(0xF800_3000, 0x1000),
            interrupts: &[45, 46, 47, 48, 49, 72, 73, 74, 75],
            owner: Owner::Monitor,
        },
        Device {
            name: "devcfg",
            model: "Device configuration (PL programming, its own DMA)",
            regs: PhysRange::new(0xF800_7000, 0x1000),
            interrupts: &[40],
            owner: Owner::Monitor,
        },
        Device {
            name: "l2cache",
            model: "PL310 L2 cache controller",
            regs: PhysRange::new(0xF8F0_2000, 0x1000),
            interrupts: &[34],
            owner: Owner::Monitor,
        },
        Device {
            name: "slcr",
            model: "System-level control registers",
            regs: SLCR,
            interrupts: &[],
            owner: Owner::Monitor,
        },
        Device {
            name: "mpcore",
            model: "Cortex-A9 MPCore private block (SCU, GIC, timers)",
            regs: MPCORE_PRIVATE,
            interrupts: &[],
            owner: Owner::Monitor,
        },
    ],
};
