//! The board's catalogue: RAM, the monitor's reservation and the devices.
//!
//! Addresses and interrupts are QEMU's "legacy" Versatile Express memory map
//! used by the vexpress-a9 machine (motherboard peripherals at 0x1000_0000,
//! RAM at 0x6000_0000, the MPCore private block at 0x1E00_0000). Interrupt IDs
//! are GIC IDs: the motherboard's interrupt line n is SPI n, ID 32 + n.

use mvm_board::{Board, Device, Owner, PhysRange};

const MIB: u64 = 1 << 20;

/// The MPCore private memory region: SCU, GIC CPU interface, global timer,
/// private timers and watchdogs, GIC distributor.
pub const MPCORE_PRIVATE: PhysRange = PhysRange::new(0x1E00_0000, 0x2000);

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
    // The top MiB of the reservation: QEMU has no TrustZone address space
    // controller, so it is Non-secure like all RAM, and the monitor image
    // is far smaller than 15 MiB (docs/memory.md).
    table_area: PhysRange::new(0x60F0_0000, MIB),
    // Measured: a job costs the monitor two timer-interrupt-to-guest
    // switches (in and out) and the guest edge (GUEST_EDGE_TICKS); between
    // two VFP guests (the dearer case) a switch is 588 instructions under
    // `-icount shift=0`, where an instruction is 1 ns: 2 x 588 + 150 =
    // 1326 ns, with a margin 1.6 us (611 a switch with 64 servers on the
    // core: 1372 ns). `tools/tests/switch_bench.rs` checks it
    // (docs/world-switch.md, docs/performance.md).
    default_switch_overhead_ns: 1_600,
    default_switch_overhead_source:
        "measured: 2 world switches of at most 611 instructions and the guest edge, with a margin",
    default_switch_overhead_measured: true,
    devices: &[
        Device {
            name: "uart0",
            model: "PL011 UART (monitor console)",
            regs: PhysRange::new(0x1000_9000, 0x1000),
            interrupts: &[37],
            owner: Owner::Monitor,
        },
        Device {
            name: "uart1",
            model: "PL011 UART",
            regs: PhysRange::new(0x1000_A000, 0x1000),
            interrupts: &[38],
            owner: Owner::Guest,
        },
        Device {
            name: "uart2",
            model: "PL011 UART",
            regs: PhysRange::new(0x1000_B000, 0x1000),
            interrupts: &[39],
            owner: Owner::Guest,
        },
        Device {
            name: "uart3",
            model: "PL011 UART",
            regs: PhysRange::new(0x1000_C000, 0x1000),
            interrupts: &[40],
            owner: Owner::Guest,
        },
        Device {
            name: "timer0",
            model: "SP804 dual timer (timers 0 and 1)",
            regs: PhysRange::new(0x1001_1000, 0x1000),
            interrupts: &[34],
            owner: Owner::Guest,
        },
        Device {
            name: "timer1",
            model: "SP804 dual timer (timers 2 and 3)",
            regs: PhysRange::new(0x1001_2000, 0x1000),
            interrupts: &[35],
            owner: Owner::Guest,
        },
        Device {
            name: "rtc",
            model: "PL031 real-time clock",
            regs: PhysRange::new(0x1001_7000, 0x1000),
            interrupts: &[36],
            owner: Owner::Guest,
        },
        Device {
            name: "mmci",
            model: "PL180 multimedia card interface",
            regs: PhysRange::new(0x1000_5000, 0x1000),
            interrupts: &[41, 42],
            owner: Owner::Guest,
        },
        Device {
            name: "sysregs",
            model: "Versatile Express system registers",
            regs: PhysRange::new(0x1000_0000, 0x1000),
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
