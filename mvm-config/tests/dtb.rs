//! The Linux guest's device tree, parsed back with an independent reader
//! (the `fdt` crate) and checked node by node.

use fdt::node::FdtNode;
use fdt::Fdt;
use mvm_board::{Board, Device, Owner};
use mvm_config::dtb::{linux_dtb, lpj, ChannelEnd, DtbGuest};
use mvm_config::model::Trigger;

const QEMU: Board = board_qemu_vexpress::BOARD;
const ZC702: Board = board_zc702::BOARD;

fn qemu(name: &str) -> &'static Device {
    board_qemu_vexpress::device(name)
}

fn zc702(name: &str) -> &'static Device {
    board_zc702::device(name)
}

/// The guest of the Debian experiment: core 1, 64 MiB, UART2 and timer1.
fn linux_on_qemu<'a>(devices: &'a [(&'static Device, Trigger)]) -> DtbGuest<'a> {
    DtbGuest {
        name: "linux",
        core: 1,
        memory: &[(0x6400_0000, 0x0800_0000)],
        devices,
        console: qemu("uart2"),
        bootargs: "console=ttyAMA0 lpj=2000000",
        initrd: Some((0x6420_0000, 0x642E_1234)),
        channels: &[],
    }
}

fn cells(node: FdtNode, name: &str) -> Vec<u32> {
    let value = node
        .property(name)
        .unwrap_or_else(|| panic!("{} has no `{name}`", node.name))
        .value;
    assert_eq!(value.len() % 4, 0, "{}: `{name}` is whole cells", node.name);
    value
        .chunks(4)
        .map(|c| u32::from_be_bytes(c.try_into().unwrap()))
        .collect()
}

fn strings<'a>(node: FdtNode<'_, 'a>, name: &str) -> Vec<&'a str> {
    let value = node
        .property(name)
        .unwrap_or_else(|| panic!("{} has no `{name}`", node.name))
        .value;
    assert_eq!(
        value.last(),
        Some(&0),
        "{}: `{name}` ends in NUL",
        node.name
    );
    std::str::from_utf8(&value[..value.len() - 1])
        .unwrap()
        .split('\0')
        .collect()
}

fn string<'a>(node: FdtNode<'_, 'a>, name: &str) -> &'a str {
    let list = strings(node, name);
    assert_eq!(list.len(), 1, "{}: `{name}` is one string", node.name);
    list[0]
}

fn child_names(fdt: &Fdt, path: &str) -> Vec<String> {
    fdt.find_node(path)
        .unwrap()
        .children()
        .map(|n| n.name.to_string())
        .collect()
}

/// The node a phandle names; fails the test when none does.
fn resolve<'b, 'a>(fdt: &'b Fdt<'a>, phandle: u32) -> FdtNode<'b, 'a> {
    fdt.find_phandle(phandle)
        .unwrap_or_else(|| panic!("phandle {phandle} names no node"))
}

/// The rates of a device's clocks, through their phandles.
fn clock_rates(fdt: &Fdt, node: FdtNode) -> Vec<u32> {
    cells(node, "clocks")
        .into_iter()
        .map(|phandle| {
            let clock = resolve(fdt, phandle);
            assert_eq!(strings(clock, "compatible"), ["fixed-clock"]);
            assert_eq!(cells(clock, "#clock-cells"), [0]);
            assert_eq!(
                strings(clock, "clock-output-names").len(),
                1,
                "{}",
                clock.name
            );
            cells(clock, "clock-frequency")[0]
        })
        .collect()
}

/// Every phandle any property of the tree uses names a node.
fn assert_references_resolve(fdt: &Fdt) {
    for node in fdt.all_nodes() {
        for property in node.properties() {
            let is_reference = property.name == "interrupt-parent"
                || property.name == "clocks"
                || property.name.ends_with("-supply")
                || property.name == "usb-phy";
            if is_reference {
                for phandle in cells(node, property.name) {
                    resolve(fdt, phandle);
                }
            }
        }
    }
}

/// No node of the tree is one of the monitor's: the private and global
/// timers, the SCU, the L2 cache, resets, power-off, system registers.
fn assert_no_monitor_nodes(fdt: &Fdt) {
    let forbidden = [
        "arm,cortex-a9-twd-timer",
        "arm,cortex-a9-twd-wdt",
        "arm,cortex-a9-global-timer",
        "arm,cortex-a9-scu",
        "arm,pl310-cache",
        "arm,vexpress-sysreg",
        "arm,vexpress-reset",
        "arm,vexpress,config-bus",
        "arm,sp810",
        "syscon-reboot",
        "syscon-poweroff",
        "gpio-poweroff",
        "xlnx,zynq-slcr",
        "xlnx,zynq-reset",
        "xlnx,ps7-clkc",
        "arm,pl330",
    ];
    for node in fdt.all_nodes() {
        if let Some(compatible) = node.compatible() {
            for c in compatible.all() {
                assert!(
                    !forbidden.contains(&c),
                    "node {} is the monitor's ({c})",
                    node.name
                );
            }
        }
        for property in node.properties() {
            assert_ne!(property.name, "enable-method", "in {}", node.name);
        }
    }
}

#[test]
fn the_qemu_guest_of_the_debian_experiment() {
    let devices = [
        (qemu("uart2"), Trigger::Level),
        (qemu("timer1"), Trigger::Edge),
    ];
    let blob = linux_dtb(&QEMU, &linux_on_qemu(&devices)).unwrap();
    let fdt = Fdt::new(&blob).unwrap();
    // The header's boot cpu is the guest's core.
    assert_eq!(u32::from_be_bytes(blob[28..32].try_into().unwrap()), 1);

    // Exactly these nodes: nothing of the monitor's slips in.
    assert_eq!(
        child_names(&fdt, "/"),
        [
            "aliases",
            "chosen",
            "cpus",
            "memory@64000000",
            "psci",
            "interrupt-controller@1e001000",
            "clock-v2m-oscclk2",
            "clock-tcrefclk",
            "clock-v2m-refclk1mhz",
            "serial@1000b000",
            "timer@10012000",
        ]
    );
    assert_no_monitor_nodes(&fdt);
    assert_references_resolve(&fdt);

    let root = fdt.find_node("/").unwrap();
    assert_eq!(cells(root, "#address-cells"), [1]);
    assert_eq!(cells(root, "#size-cells"), [1]);
    assert_eq!(strings(root, "compatible"), ["mvm,guest"]);
    let model = string(root, "model");
    assert!(
        model.contains("linux") && model.contains(QEMU.title),
        "{model}"
    );

    // The GIC, every interrupt's parent.
    let gic = resolve(&fdt, cells(root, "interrupt-parent")[0]);
    assert_eq!(gic.name, "interrupt-controller@1e001000");
    assert_eq!(strings(gic, "compatible"), ["arm,cortex-a9-gic"]);
    assert!(gic.property("interrupt-controller").is_some());
    assert_eq!(cells(gic, "#interrupt-cells"), [3]);
    assert_eq!(cells(gic, "#address-cells"), [0]);
    assert_eq!(cells(gic, "reg"), [0x1E00_1000, 0x1000, 0x1E00_0100, 0x100]);

    // One cpu: the guest's core.
    assert_eq!(child_names(&fdt, "/cpus"), ["cpu@1"]);
    let cpus = fdt.find_node("/cpus").unwrap();
    assert_eq!(cells(cpus, "#address-cells"), [1]);
    assert_eq!(cells(cpus, "#size-cells"), [0]);
    let cpu = fdt.find_node("/cpus/cpu@1").unwrap();
    assert_eq!(cells(cpu, "reg"), [1]);
    assert_eq!(string(cpu, "device_type"), "cpu");
    assert_eq!(strings(cpu, "compatible"), ["arm,cortex-a9"]);
    assert_eq!(fdt.cpus().count(), 1);

    let memory = fdt.find_node("/memory@64000000").unwrap();
    assert_eq!(string(memory, "device_type"), "memory");
    assert_eq!(cells(memory, "reg"), [0x6400_0000, 0x0800_0000]);

    // UART2: SPI 7, level-high; the UART clock and the bus clock.
    let uart = fdt.find_node("/serial@1000b000").unwrap();
    assert_eq!(strings(uart, "compatible"), ["arm,pl011", "arm,primecell"]);
    assert_eq!(cells(uart, "reg"), [0x1000_B000, 0x1000]);
    assert_eq!(cells(uart, "interrupts"), [0, 7, 4]);
    assert_eq!(strings(uart, "clock-names"), ["uartclk", "apb_pclk"]);
    assert_eq!(clock_rates(&fdt, uart), [24_000_000, 66_670_000]);

    // Timer1: SPI 3, rising edge; both timers at 1 MHz, as QEMU counts.
    let timer = fdt.find_node("/timer@10012000").unwrap();
    assert_eq!(strings(timer, "compatible"), ["arm,sp804", "arm,primecell"]);
    assert_eq!(cells(timer, "reg"), [0x1001_2000, 0x1000]);
    assert_eq!(cells(timer, "interrupts"), [0, 3, 1]);
    assert_eq!(
        strings(timer, "clock-names"),
        ["timclken1", "timclken2", "apb_pclk"]
    );
    assert_eq!(clock_rates(&fdt, timer), [1_000_000, 1_000_000, 66_670_000]);
    // One node per clock, however many inputs use it.
    assert_eq!(cells(timer, "clocks")[0], cells(timer, "clocks")[1]);
    assert_eq!(cells(timer, "clocks")[2], cells(uart, "clocks")[1]);

    let psci = fdt.find_node("/psci").unwrap();
    assert_eq!(
        strings(psci, "compatible"),
        ["arm,psci-1.0", "arm,psci-0.2"]
    );
    assert_eq!(string(psci, "method"), "smc");

    let aliases = fdt.find_node("/aliases").unwrap();
    assert_eq!(string(aliases, "serial0"), "/serial@1000b000");
    let chosen = fdt.find_node("/chosen").unwrap();
    assert_eq!(string(chosen, "bootargs"), "console=ttyAMA0 lpj=2000000");
    assert_eq!(string(chosen, "stdout-path"), "serial0:115200n8");
    assert_eq!(cells(chosen, "linux,initrd-start"), [0x6420_0000]);
    assert_eq!(cells(chosen, "linux,initrd-end"), [0x642E_1234]);
    // What the reader makes of it, too. (It does not strip the options
    // after `:` from stdout-path, as Linux does, so the alias is looked up
    // here.)
    assert_eq!(fdt.chosen().bootargs(), Some("console=ttyAMA0 lpj=2000000"));
    let (alias, options) = string(chosen, "stdout-path").split_once(':').unwrap();
    assert_eq!(options, "115200n8");
    assert_eq!(
        fdt.find_node(alias).map(|n| n.name),
        Some("serial@1000b000")
    );
}

#[test]
fn the_same_guest_gives_the_same_bytes_in_any_device_order() {
    let forward = [
        (qemu("uart2"), Trigger::Level),
        (qemu("timer1"), Trigger::Edge),
    ];
    let backward = [
        (qemu("timer1"), Trigger::Edge),
        (qemu("uart2"), Trigger::Level),
    ];
    let a = linux_dtb(&QEMU, &linux_on_qemu(&forward)).unwrap();
    let b = linux_dtb(&QEMU, &linux_on_qemu(&forward)).unwrap();
    let c = linux_dtb(&QEMU, &linux_on_qemu(&backward)).unwrap();
    assert_eq!(a, b);
    assert_eq!(a, c);
}

#[test]
fn without_an_initrd_chosen_names_none() {
    let devices = [(qemu("uart2"), Trigger::Level)];
    let guest = DtbGuest {
        initrd: None,
        ..linux_on_qemu(&devices)
    };
    let blob = linux_dtb(&QEMU, &guest).unwrap();
    let fdt = Fdt::new(&blob).unwrap();
    let chosen = fdt.find_node("/chosen").unwrap();
    assert!(chosen.property("linux,initrd-start").is_none());
    assert!(chosen.property("linux,initrd-end").is_none());
    assert!(chosen.property("bootargs").is_some());
}

#[test]
fn several_memory_regions_go_into_one_node_in_address_order() {
    let devices = [(qemu("uart2"), Trigger::Level)];
    let guest = DtbGuest {
        memory: &[(0x7000_0000, 0x10_0000), (0x6400_0000, 0x0800_0000)],
        ..linux_on_qemu(&devices)
    };
    let blob = linux_dtb(&QEMU, &guest).unwrap();
    let fdt = Fdt::new(&blob).unwrap();
    let memory = fdt.find_node("/memory@64000000").unwrap();
    assert_eq!(
        cells(memory, "reg"),
        [0x6400_0000, 0x0800_0000, 0x7000_0000, 0x10_0000]
    );
    let regions: Vec<_> = fdt
        .memory()
        .regions()
        .map(|r| (r.starting_address as usize, r.size))
        .collect();
    assert_eq!(
        regions,
        [
            (0x6400_0000, Some(0x0800_0000)),
            (0x7000_0000, Some(0x10_0000))
        ]
    );
}

#[test]
fn the_mmci_gets_both_interrupts_and_its_card_supply() {
    let devices = [
        (qemu("uart1"), Trigger::Level),
        (qemu("mmci"), Trigger::Level),
        (qemu("rtc"), Trigger::Level),
    ];
    let guest = DtbGuest {
        console: qemu("uart1"),
        ..linux_on_qemu(&devices)
    };
    let blob = linux_dtb(&QEMU, &guest).unwrap();
    let fdt = Fdt::new(&blob).unwrap();
    assert_references_resolve(&fdt);
    assert_no_monitor_nodes(&fdt);
    let mmc = fdt.find_node("/mmc@10005000").unwrap();
    assert_eq!(strings(mmc, "compatible"), ["arm,pl18x", "arm,primecell"]);
    assert_eq!(cells(mmc, "interrupts"), [0, 9, 4, 0, 10, 4]);
    assert_eq!(strings(mmc, "clock-names"), ["mclk", "apb_pclk"]);
    assert_eq!(clock_rates(&fdt, mmc), [24_000_000, 66_670_000]);
    assert_eq!(cells(mmc, "max-frequency"), [12_000_000]);
    let supply = resolve(&fdt, cells(mmc, "vmmc-supply")[0]);
    assert_eq!(strings(supply, "compatible"), ["regulator-fixed"]);
    assert_eq!(cells(supply, "regulator-min-microvolt"), [3_300_000]);
    assert_eq!(cells(supply, "regulator-max-microvolt"), [3_300_000]);
    assert!(supply.property("regulator-always-on").is_some());

    let rtc = fdt.find_node("/rtc@10017000").unwrap();
    assert_eq!(strings(rtc, "compatible"), ["arm,pl031", "arm,primecell"]);
    assert_eq!(cells(rtc, "interrupts"), [0, 4, 4]);
    assert_eq!(strings(rtc, "clock-names"), ["apb_pclk"]);

    let aliases = fdt.find_node("/aliases").unwrap();
    assert_eq!(string(aliases, "serial0"), "/serial@1000a000");
    // The two 24 MHz clocks stay two nodes: they are two clocks. Phandles
    // (and nodes) follow first use by the devices in address order.
    let clocks: Vec<_> = child_names(&fdt, "/")
        .into_iter()
        .filter(|n| n.starts_with("clock-"))
        .collect();
    assert_eq!(
        clocks,
        ["clock-v2m-clk24mhz", "clock-tcrefclk", "clock-v2m-oscclk2"]
    );
}

#[test]
fn a_zc702_guest() {
    let devices = [
        (zc702("uart0"), Trigger::Level),
        (zc702("ttc1"), Trigger::Edge),
        (zc702("usb0"), Trigger::Level),
        (zc702("gem0"), Trigger::Level),
        (zc702("gpio"), Trigger::Level),
        (zc702("can0"), Trigger::Level),
        (zc702("sdio0"), Trigger::Level),
        (zc702("i2c0"), Trigger::Level),
    ];
    let guest = DtbGuest {
        name: "petalinux",
        core: 0,
        memory: &[(0x0800_0000, 0x1000_0000)],
        devices: &devices,
        console: zc702("uart0"),
        bootargs: "console=ttyPS0,115200",
        initrd: None,
        channels: &[],
    };
    let blob = linux_dtb(&ZC702, &guest).unwrap();
    let fdt = Fdt::new(&blob).unwrap();
    assert_eq!(u32::from_be_bytes(blob[28..32].try_into().unwrap()), 0);
    assert_no_monitor_nodes(&fdt);
    assert_references_resolve(&fdt);

    let root = fdt.find_node("/").unwrap();
    let gic = resolve(&fdt, cells(root, "interrupt-parent")[0]);
    assert_eq!(gic.name, "interrupt-controller@f8f01000");
    assert_eq!(cells(gic, "reg"), [0xF8F0_1000, 0x1000, 0xF8F0_0100, 0x100]);
    assert_eq!(child_names(&fdt, "/cpus"), ["cpu@0"]);
    assert_eq!(cells(fdt.find_node("/cpus/cpu@0").unwrap(), "reg"), [0]);

    let uart = fdt.find_node("/serial@e0000000").unwrap();
    assert_eq!(
        strings(uart, "compatible"),
        ["xlnx,xuartps", "cdns,uart-r1p8"]
    );
    assert_eq!(cells(uart, "interrupts"), [0, 27, 4]);
    assert_eq!(strings(uart, "clock-names"), ["uart_clk", "pclk"]);
    assert_eq!(clock_rates(&fdt, uart), [100_000_000, 111_111_111]);
    assert_eq!(
        string(fdt.find_node("/aliases").unwrap(), "serial0"),
        "/serial@e0000000"
    );

    // The TTC's binding names no clock: `clocks` alone.
    let ttc = fdt.find_node("/timer@f8002000").unwrap();
    assert_eq!(strings(ttc, "compatible"), ["cdns,ttc"]);
    assert_eq!(cells(ttc, "interrupts"), [0, 37, 1, 0, 38, 1, 0, 39, 1]);
    assert_eq!(clock_rates(&fdt, ttc), [111_111_111]);
    assert!(ttc.property("clock-names").is_none());

    let usb = fdt.find_node("/usb@e0002000").unwrap();
    assert_eq!(
        strings(usb, "compatible"),
        ["xlnx,zynq-usb-2.20a", "chipidea,usb2"]
    );
    assert_eq!(string(usb, "dr_mode"), "host");
    let phy = resolve(&fdt, cells(usb, "usb-phy")[0]);
    assert_eq!(strings(phy, "compatible"), ["usb-nop-xceiv"]);
    assert_eq!(cells(phy, "#phy-cells"), [0]);

    let gem = fdt.find_node("/ethernet@e000b000").unwrap();
    assert_eq!(cells(gem, "interrupts"), [0, 22, 4, 0, 23, 4]);
    assert_eq!(strings(gem, "clock-names"), ["pclk", "hclk", "tx_clk"]);
    assert_eq!(
        clock_rates(&fdt, gem),
        [111_111_111, 111_111_111, 25_000_000]
    );
    assert_eq!(string(gem, "phy-mode"), "rgmii-id");

    let gpio = fdt.find_node("/gpio@e000a000").unwrap();
    assert!(gpio.property("gpio-controller").is_some());
    assert!(gpio.property("interrupt-controller").is_some());
    assert_eq!(cells(gpio, "#gpio-cells"), [2]);

    let can = fdt.find_node("/can@e0008000").unwrap();
    assert_eq!(clock_rates(&fdt, can), [23_809_523, 111_111_111]);
    let sd = fdt.find_node("/mmc@e0100000").unwrap();
    assert_eq!(strings(sd, "clock-names"), ["clk_xin", "clk_ahb"]);
    assert_eq!(clock_rates(&fdt, sd), [50_000_000, 111_111_111]);
    let i2c = fdt.find_node("/i2c@e0004000").unwrap();
    assert_eq!(cells(i2c, "clock-frequency"), [400_000]);

    // CPU_1x is one node, however many devices use it.
    let cpu_1x = fdt.all_nodes().filter(|n| n.name == "clock-cpu-1x").count();
    assert_eq!(cpu_1x, 1);
}

/// Every guest device of a board that has a fragment, all in one guest:
/// the fragments agree with each other (clock names, node names) and give
/// a tree the reader accepts.
fn every_described_device(board: &Board) -> Vec<(&'static Device, Trigger)> {
    board
        .devices
        .iter()
        .filter(|d| d.owner == Owner::Guest && d.device_tree.is_some())
        .map(|d| (d, Trigger::Level))
        .collect()
}

#[test]
fn every_described_device_of_both_boards_fits_in_one_tree() {
    for (board, memory) in [(QEMU, 0x6400_0000), (ZC702, 0x0800_0000)] {
        let devices = every_described_device(&board);
        let guest = DtbGuest {
            name: "all",
            core: board.cores - 1,
            memory: &[(memory, 0x100_0000)],
            devices: &devices,
            console: devices[0].0,
            bootargs: "",
            initrd: None,
            channels: &[],
        };
        let blob = linux_dtb(&board, &guest).unwrap_or_else(|e| panic!("{}: {e}", board.name));
        let fdt = Fdt::new(&blob).unwrap();
        assert_no_monitor_nodes(&fdt);
        assert_references_resolve(&fdt);
        for (device, _) in &devices {
            let node = fdt
                .all_nodes()
                .find(|n| n.name.ends_with(&format!("@{:x}", device.regs.base)))
                .unwrap_or_else(|| panic!("{}: no node for {}", board.name, device.name));
            assert_eq!(
                cells(node, "reg"),
                [device.regs.base as u32, device.regs.size as u32]
            );
            assert_eq!(
                cells(node, "interrupts").len(),
                3 * device.interrupts.len(),
                "{}",
                device.name
            );
        }
    }
}

#[test]
fn only_the_zc702_spi_controllers_cannot_be_described() {
    let undescribed = |board: &Board| -> Vec<&str> {
        board
            .devices
            .iter()
            .filter(|d| d.owner == Owner::Guest && d.device_tree.is_none())
            .map(|d| d.name)
            .collect()
    };
    assert!(undescribed(&QEMU).is_empty());
    assert_eq!(undescribed(&ZC702), ["spi0", "spi1"]);
    // And no monitor device carries one.
    for board in [QEMU, ZC702] {
        for d in board.devices.iter().filter(|d| d.owner == Owner::Monitor) {
            assert!(d.device_tree.is_none(), "{}", d.name);
        }
    }
}

#[test]
fn refusals_name_what_cannot_be_described() {
    let uart = (qemu("uart2"), Trigger::Level);
    let with_spi = [
        (zc702("uart0"), Trigger::Level),
        (zc702("spi0"), Trigger::Level),
    ];
    let monitors = [(qemu("uart0"), Trigger::Level)];
    let twice = [uart, uart];
    let cases: Vec<(DtbGuest, &Board, &str)> = vec![
        (
            DtbGuest {
                devices: &with_spi,
                console: zc702("uart0"),
                memory: &[(0x0800_0000, 0x100_0000)],
                initrd: None,
                ..linux_on_qemu(&[])
            },
            &ZC702,
            "guest `linux`: device `spi0` of board `zc702` has no device tree description, so a Linux guest cannot be given it",
        ),
        (
            DtbGuest {
                console: qemu("uart1"),
                ..linux_on_qemu(std::slice::from_ref(&uart))
            },
            &QEMU,
            "guest `linux`: the console `uart1` is not one of the guest's devices",
        ),
        (
            DtbGuest {
                devices: &monitors,
                console: qemu("uart0"),
                ..linux_on_qemu(&[])
            },
            &QEMU,
            "guest `linux`: device `uart0` is the monitor's on board `qemu-vexpress-a9`",
        ),
        (
            DtbGuest {
                devices: &twice,
                ..linux_on_qemu(&[])
            },
            &QEMU,
            "guest `linux`: device `uart2` is listed twice",
        ),
        (
            DtbGuest {
                core: 2,
                ..linux_on_qemu(std::slice::from_ref(&uart))
            },
            &QEMU,
            "guest `linux`: core 2 is not one of board `qemu-vexpress-a9`'s 2 cores",
        ),
        (
            DtbGuest {
                memory: &[],
                ..linux_on_qemu(std::slice::from_ref(&uart))
            },
            &QEMU,
            "guest `linux`: no memory region",
        ),
        (
            DtbGuest {
                memory: &[(0xFFFF_0000, 0x2_0000)],
                initrd: None,
                ..linux_on_qemu(std::slice::from_ref(&uart))
            },
            &QEMU,
            "guest `linux`: memory [0xFFFF_0000..0x0001_0001_0000) is not below 4 GiB",
        ),
        (
            DtbGuest {
                initrd: Some((0x6C00_0000, 0x6C10_0000)),
                ..linux_on_qemu(std::slice::from_ref(&uart))
            },
            &QEMU,
            "guest `linux`: the initrd [0x6C00_0000..0x6C10_0000) is not inside one of its memory regions",
        ),
        (
            DtbGuest {
                initrd: Some((0x6420_0000, 0x641F_0000)),
                ..linux_on_qemu(std::slice::from_ref(&uart))
            },
            &QEMU,
            "guest `linux`: the initrd [0x6420_0000..0x6420_0000) is not inside one of its memory regions",
        ),
        (
            DtbGuest {
                bootargs: "console=ttyAMA0\0",
                ..linux_on_qemu(std::slice::from_ref(&uart))
            },
            &QEMU,
            "guest `linux`: its bootargs contain a NUL byte",
        ),
    ];
    for (guest, board, message) in cases {
        assert_eq!(linux_dtb(board, &guest).unwrap_err(), message);
    }
}

#[test]
fn a_clock_whose_name_cannot_name_a_node_is_refused() {
    static BAD: mvm_board::device_tree::FixedClock = mvm_board::device_tree::FixedClock {
        name: "v2m:clk24mhz",
        hz: 24_000_000,
    };
    static INPUTS: [mvm_board::device_tree::ClockInput; 1] = [mvm_board::device_tree::ClockInput {
        name: "uartclk",
        clock: &BAD,
    }];
    let mut node = qemu("uart2").device_tree.unwrap();
    node.clocks = &INPUTS;
    let device: &'static Device = Box::leak(Box::new(Device {
        device_tree: Some(node),
        ..*qemu("uart2")
    }));
    let devices = [(device, Trigger::Level)];
    let guest = DtbGuest {
        console: device,
        ..linux_on_qemu(&devices)
    };
    assert_eq!(
        linux_dtb(&QEMU, &guest).unwrap_err(),
        "guest `linux`: `clock-v2m:clk24mhz` is not a node name (a letter, then letters, digits or `,._+-`)"
    );
}

#[test]
fn loops_per_jiffy_round_up() {
    // QEMU under -icount shift=0 at HZ=250: the 2 000 000 Linux nearly
    // calibrates natively (1 990 656).
    assert_eq!(lpj(QEMU.linux_delay_loops_per_second, 250), 2_000_000);
    assert_eq!(lpj(ZC702.linux_delay_loops_per_second, 250), 2_666_667);
    assert_eq!(lpj(ZC702.linux_delay_loops_per_second, 100), 6_666_667);
    assert_eq!(lpj(1001, 10), 101);
    assert_eq!(lpj(1000, 10), 100);
}

#[test]
#[should_panic(expected = "HZ is a positive tick rate")]
fn loops_per_jiffy_need_a_tick_rate() {
    lpj(1, 0);
}

fn end(name: &str, base: u64, writable: bool, irq: Option<u32>, code: u32) -> ChannelEnd {
    ChannelEnd {
        name: name.into(),
        base,
        size: 0x1000,
        writable,
        irq,
        code,
    }
}

#[test]
fn channel_ends_are_reserved_described_and_keys_of_one_gpio_keys_device() {
    let devices = [
        (qemu("uart2"), Trigger::Level),
        (qemu("timer1"), Trigger::Level),
    ];
    // Given out of address order: the tree has them in address order.
    let channels = [
        end("telemetry", 0x7000_1000, false, Some(90), 0x2F0),
        end("commands", 0x7000_0000, true, None, 0),
        end("status", 0x7000_2000, false, Some(91), 0x2F1),
    ];
    let guest = DtbGuest {
        channels: &channels,
        ..linux_on_qemu(&devices)
    };
    let blob = linux_dtb(&QEMU, &guest).unwrap();
    let fdt = Fdt::new(&blob).unwrap();

    let reserved = fdt.find_node("/reserved-memory").unwrap();
    assert_eq!(cells(reserved, "#address-cells"), [1]);
    assert_eq!(cells(reserved, "#size-cells"), [1]);
    assert_eq!(reserved.property("ranges").unwrap().value, b"");
    assert_eq!(
        child_names(&fdt, "/reserved-memory"),
        ["channel@70000000", "channel@70001000", "channel@70002000"]
    );
    for child in reserved.children() {
        assert_eq!(child.property("no-map").unwrap().value, b"");
        assert_eq!(cells(child, "reg")[1], 0x1000);
    }

    for (path, label, read_only) in [
        ("/channel@70000000", "commands", false),
        ("/channel@70001000", "telemetry", true),
        ("/channel@70002000", "status", true),
    ] {
        let node = fdt.find_node(path).unwrap();
        assert_eq!(strings(node, "compatible"), ["mvm,channel"]);
        assert_eq!(string(node, "label"), label);
        let base = u32::from_str_radix(&path[9..], 16).unwrap();
        assert_eq!(cells(node, "reg"), [base, 0x1000]);
        assert_eq!(node.property("read-only").is_some(), read_only, "{path}");
    }

    let keys = fdt.find_node("/mvm-channels").unwrap();
    assert_eq!(strings(keys, "compatible"), ["gpio-keys"]);
    assert_eq!(string(keys, "label"), "mvm-channels");
    // Only the notified ends are keys.
    assert_eq!(child_names(&fdt, "/mvm-channels"), ["telemetry", "status"]);
    let telemetry = fdt.find_node("/mvm-channels/telemetry").unwrap();
    assert_eq!(string(telemetry, "label"), "telemetry");
    assert_eq!(cells(telemetry, "linux,code"), [0x2F0]);
    // SPI 58 (ID 90), rising edge; the parent is the root's, the GIC.
    assert_eq!(cells(telemetry, "interrupts"), [0, 58, 1]);
    assert!(telemetry.property("gpios").is_none());
    assert_eq!(
        cells(fdt.find_node("/mvm-channels/status").unwrap(), "interrupts"),
        [0, 59, 1]
    );
    assert_references_resolve(&fdt);
}

#[test]
fn no_channels_no_channel_nodes() {
    let devices = [(qemu("uart2"), Trigger::Level)];
    let blob = linux_dtb(&QEMU, &linux_on_qemu(&devices)).unwrap();
    let fdt = Fdt::new(&blob).unwrap();
    assert!(fdt.find_node("/reserved-memory").is_none());
    assert!(fdt.find_node("/mvm-channels").is_none());
    // Written-only ends: reserved and described, but no key device.
    let channels = [end("commands", 0x7000_0000, true, None, 0)];
    let guest = DtbGuest {
        channels: &channels,
        ..linux_on_qemu(&devices)
    };
    let blob = linux_dtb(&QEMU, &guest).unwrap();
    let fdt = Fdt::new(&blob).unwrap();
    assert!(fdt.find_node("/reserved-memory/channel@70000000").is_some());
    assert!(fdt.find_node("/mvm-channels").is_none());
}

#[test]
fn bad_channel_ends_are_refused_by_name() {
    let devices = [(qemu("uart2"), Trigger::Level)];
    let ok = end("a", 0x7000_0000, false, Some(90), 1);
    let cases: Vec<(Vec<ChannelEnd>, &str)> = vec![
        (
            vec![ChannelEnd {
                size: 0x800,
                ..ok.clone()
            }],
            "guest `linux`: channel `a` [0x7000_0000..0x7000_0800) is not a whole number of 4 KiB pages",
        ),
        (
            vec![ChannelEnd {
                base: 0x7000_0100,
                ..ok.clone()
            }],
            "guest `linux`: channel `a` [0x7000_0100..0x7000_1100) is not a whole number of 4 KiB pages",
        ),
        (
            vec![ChannelEnd {
                base: 0x6500_0000,
                ..ok.clone()
            }],
            "guest `linux`: channel `a` [0x6500_0000..0x6500_1000) overlaps its memory [0x6400_0000..0x6C00_0000)",
        ),
        (
            vec![ChannelEnd {
                irq: Some(29),
                ..ok.clone()
            }],
            "guest `linux`: channel `a`: interrupt 29 is not a shared peripheral interrupt (32 and up)",
        ),
        (
            vec![ChannelEnd {
                irq: Some(39),
                ..ok.clone()
            }],
            "guest `linux`: channel `a`: interrupt 39 is device `uart2`'s",
        ),
        (
            vec![ChannelEnd {
                name: "mvm@1".into(),
                ..ok.clone()
            }],
            "guest `linux`: channel `mvm@1`: its name is not a node name (a letter, then up to 30 letters, digits or `,._+-`)",
        ),
        (
            vec![ChannelEnd {
                base: 0xFFFF_F000,
                size: 0x2000,
                ..ok.clone()
            }],
            "guest `linux`: channel `a` [0xFFFF_F000..0x0001_0000_1000) is not below 4 GiB",
        ),
        (
            vec![ok.clone(), end("a", 0x7000_1000, false, None, 0)],
            "guest `linux`: channels `a` and `a`: both are named so",
        ),
        (
            vec![
                ok.clone(),
                ChannelEnd {
                    name: "b".into(),
                    base: 0x6FFF_F000,
                    size: 0x2000,
                    ..ok.clone()
                },
            ],
            "guest `linux`: channels `a` and `b`: their regions [0x7000_0000..0x7000_1000) and [0x6FFF_F000..0x7000_1000) overlap",
        ),
        (
            vec![ok.clone(), end("b", 0x7000_1000, false, Some(90), 2)],
            "guest `linux`: channels `a` and `b`: both are notified by interrupt 90",
        ),
        (
            vec![ok.clone(), end("b", 0x7000_1000, false, Some(91), 1)],
            "guest `linux`: channels `a` and `b`: both are key code 1",
        ),
    ];
    for (channels, message) in cases {
        let guest = DtbGuest {
            channels: &channels,
            ..linux_on_qemu(&devices)
        };
        assert_eq!(linux_dtb(&QEMU, &guest).unwrap_err(), message);
    }
}
