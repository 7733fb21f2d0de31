//! The board's catalogue: RAM, the monitor's reservation and the devices.
//!
//! Addresses and interrupts are QEMU's "legacy" Versatile Express memory map
//! used by the vexpress-a9 machine (motherboard peripherals at 0x1000_0000,
//! RAM at 0x6000_0000, the MPCore private block at 0x1E00_0000). Interrupt IDs
//! are GIC IDs: the motherboard's interrupt line n is SPI n, ID 32 + n.
//!
//! Device tree fragments follow the Linux bindings and the kernel's own
//! `vexpress-v2m.dtsi` (node contents, clock names), with the clocks QEMU
//! models. The clocks are fixed: the Versatile Express configuration
//! controller that could change them sits in the system registers, which
//! the monitor keeps.

use mvm_board::device_tree::{ClockInput, FixedClock, Node, Processor, Property, Provider};
use mvm_board::{Board, Device, Owner, PhysRange};

const MIB: u64 = 1 << 20;

/// The MPCore private memory region: SCU, GIC CPU interface, global timer,
/// private timers and watchdogs, GIC distributor.
pub const MPCORE_PRIVATE: PhysRange = PhysRange::new(0x1E00_0000, 0x2000);

/// The motherboard's oscillator 2, the UARTs' reference: 24 MHz in QEMU
/// (and the Versatile Express default).
pub const OSCCLK2: FixedClock = FixedClock {
    name: "v2m-oscclk2",
    hz: 24_000_000,
};
/// The motherboard's fixed 24 MHz clock: the MMCI's card clock.
pub const CLK24MHZ: FixedClock = FixedClock {
    name: "v2m-clk24mhz",
    hz: 24_000_000,
};
/// The SP804s' timer clock: the SP810's clock enables select the 1 MHz
/// reference, which is what QEMU's `sp804` counts at. Linux programs its
/// clock event and clock source from this rate, so it must be right.
pub const REFCLK1MHZ: FixedClock = FixedClock {
    name: "v2m-refclk1mhz",
    hz: 1_000_000,
};
/// The daughterboard's test chip reference, the peripherals' bus clock
/// (`apb_pclk`): QEMU's vexpress-a9 sets its oscillator 2 to 66.67 MHz.
/// Drivers only enable it; none reads its rate.
pub const TCREFCLK: FixedClock = FixedClock {
    name: "tcrefclk",
    hz: 66_670_000,
};

/// The motherboard's 3.3 V rail, the MMCI's card supply (`vmmc-supply`:
/// without it the MMC core knows no voltage to offer a card).
pub const V2M_3V3: Provider = Provider {
    name: "regulator-3v3",
    compatible: &["regulator-fixed"],
    properties: &[
        Property::string("regulator-name", "3V3"),
        Property::u32("regulator-min-microvolt", 3_300_000),
        Property::u32("regulator-max-microvolt", 3_300_000),
        Property::empty("regulator-always-on"),
    ],
};

const PRIMECELL_BUS_CLOCK: ClockInput = ClockInput {
    name: "apb_pclk",
    clock: &TCREFCLK,
};

const PL011: Node = Node {
    name: "serial",
    compatible: &["arm,pl011", "arm,primecell"],
    clocks: &[
        ClockInput {
            name: "uartclk",
            clock: &OSCCLK2,
        },
        PRIMECELL_BUS_CLOCK,
    ],
    properties: &[],
};

const SP804: Node = Node {
    name: "timer",
    compatible: &["arm,sp804", "arm,primecell"],
    clocks: &[
        ClockInput {
            name: "timclken1",
            clock: &REFCLK1MHZ,
        },
        ClockInput {
            name: "timclken2",
            clock: &REFCLK1MHZ,
        },
        PRIMECELL_BUS_CLOCK,
    ],
    properties: &[],
};

/// A PL011 a guest may own.
const fn uart(name: &'static str, base: u64, irq: &'static [u32]) -> Device {
    Device {
        name,
        model: "PL011 UART",
        regs: PhysRange::new(base, 0x1000),
        interrupts: irq,
        owner: Owner::Guest,
        device_tree: Some(PL011),
    }
}

pub const BOARD: Board = Board {
    name: "qemu-vexpress-a9",
    title: "QEMU vexpress-a9 (secure=on, 2 x Cortex-A9, 1 GiB)",
    cores: 2,
    // QEMU runs with `-m 1G`.
    ram: PhysRange::new(0x6000_0000, 1024 * MIB),
    monitor_reservation: PhysRange::new(0x6000_0000, 16 * MIB),
    monitor_load: 0x6000_0000,
    // vexpress has no TrustZone address space controller: nothing in RAM is
    // Secure (docs/threat-model.md).
    trustzone_granule: 0,
    // At most the reservation's top 15 MiB, its first MiB left to the
    // monitor's image (about 100 KiB): QEMU has no TrustZone address space
    // controller, so the reservation is Non-secure like all RAM. A system
    // gets whole MiBs from the top, one for the demo, 3 for 40 shadow-paged
    // guests with default pools (docs/memory.md).
    table_area: PhysRange::new(0x6010_0000, 15 * MIB),
    // The top MiB of RAM: no example guest goes there.
    channel_area: PhysRange::new(0x9FF0_0000, MIB),
    // Lines no device raises (QEMU's a9mpcore has 96 interrupt IDs): 75 is
    // the last virtio-mmio transport's (QEMU creates four, 72-75, with no
    // device behind them unless `-device virtio-...` is given, which `run`
    // never does), 77-79 the motherboard's reserved [47:45]. Not 76: the
    // daughterboard's CLCD (PL111) drives it.
    notify_lines: &[75, 77, 78, 79],
    // Measured: a job costs the monitor two timer-interrupt-to-guest
    // switches (in and out) and the guest edge (GUEST_EDGE_TICKS); between
    // two VFP guests a switch is 636 instructions under `-icount
    // shift=0`, where an instruction is 1 ns, and with 64 servers on the
    // core 677 (the dearest case): 2 x 677 + 150 = 1504 ns, with a margin
    // 1.6 us. `tools/tests/switch_bench.rs` checks it
    // (docs/world-switch.md, docs/performance.md).
    default_switch_overhead_ns: 1_600,
    default_switch_overhead_source:
        "measured: 2 world switches of at most 677 instructions and the guest edge, with a margin",
    default_switch_overhead_measured: true,
    device_tree: Processor {
        cpu_compatible: "arm,cortex-a9",
        gic_compatible: &["arm,cortex-a9-gic"],
        gic_distributor: PhysRange::new(MPCORE_PRIVATE.base + mpcore::GICD_OFFSET as u64, 0x1000),
        gic_cpu_interface: PhysRange::new(MPCORE_PRIVATE.base + mpcore::GICC_OFFSET as u64, 0x100),
    },
    // Under `-icount shift=0` an instruction takes 1 ns, and a delay loop
    // iteration is two instructions: 5e8 a second. Linux calibrated
    // 1 990 656 loops a jiffy at HZ=250 here natively (4.98e8 a second).
    linux_delay_loops_per_second: 500_000_000,
    devices: &[
        Device {
            name: "uart0",
            model: "PL011 UART (monitor console)",
            regs: PhysRange::new(0x1000_9000, 0x1000),
            interrupts: &[37],
            owner: Owner::Monitor,
            device_tree: None,
        },
        uart("uart1", 0x1000_A000, &[38]),
        uart("uart2", 0x1000_B000, &[39]),
        uart("uart3", 0x1000_C000, &[40]),
        Device {
            name: "timer0",
            model: "SP804 dual timer (timers 0 and 1)",
            regs: PhysRange::new(0x1001_1000, 0x1000),
            interrupts: &[34],
            owner: Owner::Guest,
            device_tree: Some(SP804),
        },
        Device {
            name: "timer1",
            model: "SP804 dual timer (timers 2 and 3)",
            regs: PhysRange::new(0x1001_2000, 0x1000),
            interrupts: &[35],
            owner: Owner::Guest,
            device_tree: Some(SP804),
        },
        Device {
            name: "rtc",
            model: "PL031 real-time clock",
            regs: PhysRange::new(0x1001_7000, 0x1000),
            interrupts: &[36],
            owner: Owner::Guest,
            device_tree: Some(Node {
                name: "rtc",
                compatible: &["arm,pl031", "arm,primecell"],
                clocks: &[PRIMECELL_BUS_CLOCK],
                properties: &[],
            }),
        },
        Device {
            name: "mmci",
            model: "PL180 multimedia card interface",
            regs: PhysRange::new(0x1000_5000, 0x1000),
            interrupts: &[41, 42],
            owner: Owner::Guest,
            // No card-detect or write-protect lines: on vexpress they are
            // system register bits, which the monitor keeps. The MMC core
            // scans for a card once when the driver starts.
            device_tree: Some(Node {
                name: "mmc",
                compatible: &["arm,pl18x", "arm,primecell"],
                clocks: &[
                    ClockInput {
                        name: "mclk",
                        clock: &CLK24MHZ,
                    },
                    PRIMECELL_BUS_CLOCK,
                ],
                properties: &[
                    Property::u32("max-frequency", 12_000_000),
                    Property::reference("vmmc-supply", &V2M_3V3),
                ],
            }),
        },
        Device {
            name: "sysregs",
            model: "Versatile Express system registers",
            regs: PhysRange::new(0x1000_0000, 0x1000),
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
