//! The board's catalogue: DDR, the monitor's reservation and the devices.
//!
//! Device tree fragments follow the Linux bindings and the kernel's
//! `zynq-7000.dtsi` (compatibles, clock names, properties). Where that file
//! points at the SLCR's clock controller (`clkc`), which the monitor keeps,
//! a fixed clock stands in at the rate the boot loader sets ([`clocks`]).
//!
//! [`clocks`]: crate::clocks

use crate::clocks;
use mvm_board::device_tree::{ClockInput, FixedClock, Node, Processor, Property, Provider};
use mvm_board::{Board, Device, Owner, PhysRange};

const MIB: u64 = 1 << 20;

/// The MPCore private memory region: SCU, GIC CPU interface, global timer,
/// private timers and watchdogs, GIC distributor.
pub const MPCORE_PRIVATE: PhysRange = PhysRange::new(0xF8F0_0000, 0x2000);

/// The system-level control registers (clocks, resets, TrustZone settings).
pub const SLCR: PhysRange = PhysRange::new(0xF800_0000, 0x1000);

/// UART_REF_CLK, both UARTs' reference.
pub const UART_REF: FixedClock = fixed("uart-ref", clocks::UART_REF_CLK);
/// CPU_1x, the APB clock: every peripheral's bus clock (its `*_aper` gate
/// in `zynq-7000.dtsi`) and the TTCs' count.
pub const CPU_1X: FixedClock = fixed("cpu-1x", clocks::CPU_1X);
/// SDIO_REF_CLK, the SD controllers' base clock.
pub const SDIO_REF: FixedClock = fixed("sdio-ref", clocks::SDIO_REF_CLK);
/// CAN_REF_CLK, both CAN controllers' reference.
pub const CAN_REF: FixedClock = fixed("can-ref", clocks::CAN_REF_CLK);
/// GEM0's transmit clock; fixed, so the link must run at the speed it
/// suits (Linux's driver asks for another rate when the link speed
/// changes, and is refused).
pub const GEM0_TX: FixedClock = fixed("gem0-tx", clocks::GEM0_TX_CLK);

const fn fixed(name: &'static str, f: clocks::Frequency) -> FixedClock {
    let hz = f.whole_hz();
    assert!(hz <= u32::MAX as u64, "a clock-frequency is one cell");
    FixedClock {
        name,
        hz: hz as u32,
    }
}

/// The USB PHY (a ULPI transceiver the controller drives itself): a node
/// Linux's ChipIdea driver needs to find before it starts.
pub const USB_PHY0: Provider = Provider {
    name: "usb-phy0",
    compatible: &["usb-nop-xceiv"],
    properties: &[Property::u32("#phy-cells", 0)],
};

const BUS_CLOCK: ClockInput = ClockInput {
    name: "pclk",
    clock: &CPU_1X,
};
/// The one clock of a device whose binding names none.
const ONLY_BUS_CLOCK: &[ClockInput] = &[ClockInput {
    name: "",
    clock: &CPU_1X,
}];

const UART: Node = Node {
    name: "serial",
    compatible: &["xlnx,xuartps", "cdns,uart-r1p8"],
    clocks: &[
        ClockInput {
            name: "uart_clk",
            clock: &UART_REF,
        },
        BUS_CLOCK,
    ],
    properties: &[],
};

const I2C: Node = Node {
    name: "i2c",
    compatible: &["cdns,i2c-r1p10"],
    clocks: ONLY_BUS_CLOCK,
    properties: &[
        Property::u32("clock-frequency", 400_000),
        Property::u32("#address-cells", 1),
        Property::u32("#size-cells", 0),
    ],
};

const CAN: Node = Node {
    name: "can",
    compatible: &["xlnx,zynq-can-1.0"],
    clocks: &[
        ClockInput {
            name: "can_clk",
            clock: &CAN_REF,
        },
        BUS_CLOCK,
    ],
    properties: &[
        Property::u32("tx-fifo-depth", 0x40),
        Property::u32("rx-fifo-depth", 0x40),
    ],
};

const fn guest(
    name: &'static str,
    model: &'static str,
    base: u64,
    irqs: &'static [u32],
    device_tree: Option<Node>,
) -> Device {
    Device {
        name,
        model,
        regs: PhysRange::new(base, 0x1000),
        interrupts: irqs,
        owner: Owner::Guest,
        device_tree,
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
    // The MiB after the table area: Non-secure, below every example guest.
    channel_area: PhysRange::new(0x0410_0000, MIB),
    // IRQ_F2P[15:8] (GIC IDs 84-91), the fabric's interrupts to the
    // processor: free while the PL design drives none of them (UG585,
    // table 7-4).
    notify_lines: &[84, 85, 86, 87, 88, 89, 90, 91],
    // An estimate until measured on the board: a world switch of a few
    // hundred instructions at 667 MHz with cold caches, with a wide margin.
    default_switch_overhead_ns: 5_000,
    default_switch_overhead_source: "estimate (not yet measured on hardware)",
    default_switch_overhead_measured: false,
    device_tree: Processor {
        cpu_compatible: "arm,cortex-a9",
        gic_compatible: &["arm,cortex-a9-gic"],
        gic_distributor: PhysRange::new(MPCORE_PRIVATE.base + mpcore::GICD_OFFSET as u64, 0x1000),
        gic_cpu_interface: PhysRange::new(MPCORE_PRIVATE.base + mpcore::GICC_OFFSET as u64, 0x100),
    },
    // At most one iteration of the two-instruction delay loop a CPU cycle:
    // CPU_6x4x, 666 666 666.67 Hz, rounded up to the 666 666 687 Hz of the
    // Xilinx board support's CPU clock figure. Erring high only lengthens
    // delays.
    linux_delay_loops_per_second: 666_666_687,
    devices: &[
        guest("uart0", "Cadence UART", 0xE000_0000, &[59], Some(UART)),
        Device {
            name: "uart1",
            model: "Cadence UART (USB-UART, monitor console)",
            regs: PhysRange::new(0xE000_1000, 0x1000),
            interrupts: &[82],
            owner: Owner::Monitor,
            device_tree: None,
        },
        guest(
            "usb0",
            "USB controller",
            0xE000_2000,
            &[53],
            Some(Node {
                name: "usb",
                compatible: &["xlnx,zynq-usb-2.20a", "chipidea,usb2"],
                clocks: ONLY_BUS_CLOCK,
                properties: &[
                    Property::string("phy_type", "ulpi"),
                    Property::string("dr_mode", "host"),
                    Property::reference("usb-phy", &USB_PHY0),
                ],
            }),
        ),
        guest("i2c0", "Cadence I2C", 0xE000_4000, &[57], Some(I2C)),
        guest("i2c1", "Cadence I2C", 0xE000_5000, &[80], Some(I2C)),
        // No device tree: the ZC702's `ps7_init` neither sets SPI_CLK_CTRL
        // nor opens the SPI controllers' bus clocks, so their reference
        // rate is not known; Linux's driver divides it to the bus rate.
        guest("spi0", "Cadence SPI", 0xE000_6000, &[58], None),
        guest("spi1", "Cadence SPI", 0xE000_7000, &[81], None),
        guest("can0", "CAN controller", 0xE000_8000, &[60], Some(CAN)),
        guest("can1", "CAN controller", 0xE000_9000, &[83], Some(CAN)),
        guest(
            "gpio",
            "GPIO",
            0xE000_A000,
            &[52],
            Some(Node {
                name: "gpio",
                compatible: &["xlnx,zynq-gpio-1.0"],
                clocks: ONLY_BUS_CLOCK,
                properties: &[
                    Property::empty("gpio-controller"),
                    Property::u32("#gpio-cells", 2),
                    Property::empty("interrupt-controller"),
                    Property::u32("#interrupt-cells", 2),
                    // For `dtc`'s check of interrupt providers.
                    Property::u32("#address-cells", 0),
                ],
            }),
        ),
        // The second line is the wake-up interrupt.
        guest(
            "gem0",
            "Gigabit Ethernet MAC",
            0xE000_B000,
            &[54, 55],
            Some(Node {
                name: "ethernet",
                compatible: &["xlnx,zynq-gem", "cdns,gem"],
                clocks: &[
                    BUS_CLOCK,
                    ClockInput {
                        name: "hclk",
                        clock: &CPU_1X,
                    },
                    ClockInput {
                        name: "tx_clk",
                        clock: &GEM0_TX,
                    },
                ],
                properties: &[
                    // The ZC702's Marvell PHY, with its RGMII delays on;
                    // Linux finds it by scanning the MDIO bus.
                    Property::string("phy-mode", "rgmii-id"),
                    Property::u32("#address-cells", 1),
                    Property::u32("#size-cells", 0),
                ],
            }),
        ),
        guest(
            "sdio0",
            "SD/SDIO controller",
            0xE010_0000,
            &[56],
            Some(Node {
                name: "mmc",
                compatible: &["arasan,sdhci-8.9a"],
                clocks: &[
                    ClockInput {
                        name: "clk_xin",
                        clock: &SDIO_REF,
                    },
                    ClockInput {
                        name: "clk_ahb",
                        clock: &CPU_1X,
                    },
                ],
                properties: &[],
            }),
        ),
        // TTC0 has no TrustZone setting (only TTC1 has one, in
        // security_apb): it stays Secure, so the monitor keeps it.
        Device {
            name: "ttc0",
            model: "Cadence triple timer counter (Secure only)",
            regs: PhysRange::new(0xF800_1000, 0x1000),
            interrupts: &[42, 43, 44],
            owner: Owner::Monitor,
            device_tree: None,
        },
        // Linux counts its clock source on counter 1 and its clock events
        // on counter 2, at CPU_1x.
        guest(
            "ttc1",
            "Cadence triple timer counter",
            0xF800_2000,
            &[69, 70, 71],
            Some(Node {
                name: "timer",
                compatible: &["cdns,ttc"],
                clocks: ONLY_BUS_CLOCK,
                properties: &[],
            }),
        ),
        Device {
            name: "dmac",
            model: "DMA controller (a bus master: never a guest's)",
            regs: PhysRange::new(0xF800_3000, 0x1000),
            interrupts: &[45, 46, 47, 48, 49, 72, 73, 74, 75],
            owner: Owner::Monitor,
            device_tree: None,
        },
        Device {
            name: "devcfg",
            model: "Device configuration (PL programming, its own DMA)",
            regs: PhysRange::new(0xF800_7000, 0x1000),
            interrupts: &[40],
            owner: Owner::Monitor,
            device_tree: None,
        },
        Device {
            name: "l2cache",
            model: "PL310 L2 cache controller",
            regs: PhysRange::new(0xF8F0_2000, 0x1000),
            interrupts: &[34],
            owner: Owner::Monitor,
            device_tree: None,
        },
        Device {
            name: "slcr",
            model: "System-level control registers",
            regs: SLCR,
            interrupts: &[],
            owner: Owner::Monitor,
            device_tree: None,
        },
        Device {
            name: "mpcore",
            model: "Cortex-A9 MPCore private block (SCU, GIC, timers)",
            regs: MPCORE_PRIVATE,
            interrupts: &[],
            owner: Owner::Monitor,
            device_tree: None,
        },
    ],
};
