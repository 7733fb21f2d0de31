//! The device tree blob an unmodified Linux guest boots with.
//!
//! - Built from the facts the description already holds (the guest's core,
//!   memory and passthrough devices) and the fragments the board catalogue
//!   carries beside each device (`mvm_board::device_tree`): nothing about a
//!   device is written twice, and a device the catalogue cannot describe is
//!   an error naming it, not a silent omission.
//! - The tree shows a guest only what it owns: one cpu (its core), its
//!   memory, the GIC, its devices and the fixed clocks and providers they
//!   refer to. What the monitor keeps is left out on purpose, each for a
//!   reason given where the tree is written.
//! - Deterministic: devices, regions and phandles are ordered by address
//!   and first use, never by a hash, so the same input gives the same
//!   bytes.
//! - The blob is written with `vm-fdt` (rust-vmm, the writer Firecracker
//!   and Cloud Hypervisor build their guests' trees with): it lays out the
//!   header, structure and strings blocks and checks node and property
//!   names and phandle uniqueness, and it has no dependencies of its own.
//!   Writing the format by hand would be another encoder to test; a
//!   `dtc` source file would need `dtc` at build time.

use std::collections::BTreeSet;

use mvm_board::device_tree::{ClockInput, FixedClock, Provider, Value};
use mvm_board::{Board, Device, Owner};
use vm_fdt::FdtWriter;

use crate::model::Trigger;
use crate::units::{format_range, hex};

/// What a Linux guest's device tree is built from.
#[derive(Clone, Copy, Debug)]
pub struct DtbGuest<'a> {
    /// The guest's name, for the tree's `model`.
    pub name: &'a str,
    /// The core it runs on: its one cpu node's `reg` (the core's MPIDR
    /// affinity 0, which Linux matches against the core it boots on).
    pub core: u32,
    /// Its memory regions, `(base, size)` in bytes.
    pub memory: &'a [(u64, u64)],
    /// Its passthrough devices and how their interrupts trigger.
    pub devices: &'a [(&'static Device, Trigger)],
    /// The device Linux writes its console to; one of `devices`.
    pub console: &'static Device,
    /// The kernel command line (`/chosen/bootargs`).
    pub bootargs: &'a str,
    /// The initial RAM disk, `(start, end)`: first byte and one past the
    /// last.
    pub initrd: Option<(u64, u64)>,
    /// The ends of channels this guest reads or writes.
    pub channels: &'a [ChannelEnd],
}

/// One end of a channel as a Linux guest sees it: a region of physical
/// memory outside its RAM, mapped by a program through `/dev/mem`, and an
/// optional notification interrupt delivered as a key of the
/// `mvm-channels` gpio-keys device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelEnd {
    /// The channel's name: the nodes' `label`, the key's node name.
    pub name: String,
    /// The region, in bytes: page aligned, a whole number of pages.
    pub base: u64,
    pub size: u64,
    /// Whether this guest writes the channel (else it reads it, and its
    /// node says `read-only`).
    pub writable: bool,
    /// The GIC interrupt ID (32 and up) of the notification SPI, rising
    /// edge, if this end is notified.
    pub irq: Option<u32>,
    /// The key's `linux,code`: what the reader's input events carry.
    pub code: u32,
}

/// The page size channel regions are aligned to and sized in.
const CHANNEL_PAGE: u64 = 0x1000;
/// The gpio-keys device the notification interrupts become keys of: its
/// node name and the input device's name (its `label`), which a reader
/// looks for with EVIOCGNAME.
pub const CHANNEL_KEYS: &str = "mvm-channels";

/// The phandle of the GIC, every interrupt's parent.
const GIC_PHANDLE: u32 = 1;
/// The Devicetree `interrupts` type of a shared peripheral interrupt.
const SPI: u32 = 0;
/// The first shared peripheral interrupt's GIC ID.
const FIRST_SPI: u32 = 32;

/// The `interrupts` flags cell of a GIC binding: level-sensitive active
/// high (4) or rising edge (1).
pub fn interrupt_flags(trigger: Trigger) -> u32 {
    match trigger {
        Trigger::Level => 4,
        Trigger::Edge => 1,
    }
}

/// Loops per jiffy for Linux's `lpj=`, from a core's delay loop rate
/// ([`Board::linux_delay_loops_per_second`]) and the kernel's `HZ`:
/// rounded up, since too many loops only lengthen a delay and too few
/// shorten it. `hz` is not 0.
pub fn lpj(loops_per_second: u64, hz: u32) -> u64 {
    assert!(hz != 0, "HZ is a positive tick rate");
    loops_per_second.div_ceil(u64::from(hz))
}

/// The device tree blob for `guest` on `board`; an error names the device,
/// region or value that cannot be described.
pub fn linux_dtb(board: &Board, guest: &DtbGuest) -> Result<Vec<u8>, String> {
    let plan = Plan::new(board, guest)?;
    plan.write(board, guest)
        .map_err(|e| format!("guest `{}`: writing the device tree: {e}", guest.name))
}

/// A device as it goes into the tree.
struct Placed {
    device: &'static Device,
    node: mvm_board::device_tree::Node,
    trigger: Trigger,
}

impl Placed {
    fn path(&self) -> String {
        format!("/{}@{:x}", self.node.name, self.device.regs.base)
    }
}

/// Everything checked and ordered before a byte is written.
struct Plan {
    devices: Vec<Placed>,
    memory: Vec<(u32, u32)>,
    /// Fixed clocks in phandle order (from 2).
    clocks: Vec<&'static FixedClock>,
    /// Providers in phandle order (after the clocks).
    providers: Vec<&'static Provider>,
    console_path: String,
    initrd: Option<(u32, u32)>,
    /// The channel ends in address order, with their 32-bit region.
    channels: Vec<(ChannelEnd, u32, u32)>,
}

impl Plan {
    fn new(board: &Board, guest: &DtbGuest) -> Result<Self, String> {
        let who = format!("guest `{}`", guest.name);
        if guest.core >= board.cores {
            return Err(format!(
                "{who}: core {} is not one of board `{}`'s {} cores",
                guest.core, board.name, board.cores
            ));
        }

        // Linux reads the command line as one C string.
        if guest.bootargs.contains('\0') {
            return Err(format!("{who}: its bootargs contain a NUL byte"));
        }

        let mut devices = Vec::new();
        for &(device, trigger) in guest.devices {
            if device.owner == Owner::Monitor {
                return Err(format!(
                    "{who}: device `{}` is the monitor's on board `{}`",
                    device.name, board.name
                ));
            }
            let Some(node) = device.device_tree else {
                return Err(format!(
                    "{who}: device `{}` of board `{}` has no device tree description, so a Linux guest cannot be given it",
                    device.name, board.name
                ));
            };
            if devices
                .iter()
                .any(|p: &Placed| p.device.name == device.name)
            {
                return Err(format!("{who}: device `{}` is listed twice", device.name));
            }
            fits_32_bits(&who, device.name, device.regs.base, device.regs.size)?;
            if let Some(&irq) = device.interrupts.iter().find(|&&i| i < FIRST_SPI) {
                return Err(format!(
                    "{who}: device `{}` has interrupt {irq}, not a shared peripheral interrupt (32 and up)",
                    device.name
                ));
            }
            devices.push(Placed {
                device,
                node,
                trigger,
            });
        }
        devices.sort_by_key(|p| p.device.regs.base);

        let Some(console) = devices.iter().find(|p| p.device.name == guest.console.name) else {
            return Err(format!(
                "{who}: the console `{}` is not one of the guest's devices",
                guest.console.name
            ));
        };
        let console_path = console.path();

        if guest.memory.is_empty() {
            return Err(format!("{who}: no memory region"));
        }
        let mut memory = Vec::new();
        for &(base, size) in guest.memory {
            let (base, size) = fits_32_bits(&who, "memory", base, size)?;
            memory.push((base, size));
        }
        memory.sort_unstable();

        let initrd = match guest.initrd {
            None => None,
            Some((start, end)) => {
                let inside = guest
                    .memory
                    .iter()
                    .any(|&(base, size)| start >= base && end >= start && end - base <= size);
                if !inside {
                    return Err(format!(
                        "{who}: the initrd {} is not inside one of its memory regions",
                        format_range(start, end.saturating_sub(start))
                    ));
                }
                fits_32_bits(&who, "initrd", start, end - start)?;
                match (u32::try_from(start), u32::try_from(end)) {
                    (Ok(start), Ok(end)) => Some((start, end)),
                    _ => {
                        return Err(format!(
                            "{who}: the initrd ends at {}, past the last 32-bit address",
                            hex(end)
                        ))
                    }
                }
            }
        };

        let channels = check_channels(&who, guest)?;

        // Phandles in order of first use: the GIC is 1, then every clock
        // and provider as the devices (in address order) name them.
        let mut clocks: Vec<&'static FixedClock> = Vec::new();
        let mut providers: Vec<&'static Provider> = Vec::new();
        for p in &devices {
            check_clock_names(&who, p.device.name, p.node.clocks)?;
            for input in p.node.clocks {
                match clocks.iter().find(|c| c.name == input.clock.name) {
                    Some(c) if **c != *input.clock => {
                        return Err(format!(
                            "{who}: two clocks are named `{}`, at {} Hz and {} Hz",
                            c.name, c.hz, input.clock.hz
                        ));
                    }
                    Some(_) => {}
                    None => clocks.push(input.clock),
                }
            }
            for property in p.node.properties {
                let Value::Reference(provider) = property.value else {
                    continue;
                };
                if let Some(q) = provider
                    .properties
                    .iter()
                    .find(|q| matches!(q.value, Value::Reference(_)))
                {
                    return Err(format!(
                        "{who}: provider `{}` (of device `{}`) refers to another node in `{}`; providers may not",
                        provider.name, p.device.name, q.name
                    ));
                }
                match providers.iter().find(|q| q.name == provider.name) {
                    Some(q) if **q != *provider => {
                        return Err(format!(
                            "{who}: two different providers are named `{}`",
                            provider.name
                        ));
                    }
                    Some(_) => {}
                    None => providers.push(provider),
                }
            }
        }

        // Root children share one namespace; vm-fdt checks each name's
        // characters but not that siblings differ.
        let mut names = BTreeSet::new();
        let fixed_names = ["aliases", "chosen", "cpus", "psci"].map(String::from);
        let channel_names = channels
            .iter()
            .map(|(end, _, _)| channel_node_name(end))
            .chain((!channels.is_empty()).then(|| "reserved-memory".to_string()))
            .chain(
                channels
                    .iter()
                    .any(|(end, _, _)| end.irq.is_some())
                    .then(|| CHANNEL_KEYS.to_string()),
            );
        let all = fixed_names
            .into_iter()
            .chain(channel_names)
            .chain(clocks.iter().map(|c| clock_node_name(c)))
            .chain(providers.iter().map(|p| p.name.to_string()))
            .chain(devices.iter().map(|p| p.path()[1..].to_string()));
        for name in all {
            if !is_node_name(&name) {
                return Err(format!(
                    "{who}: `{name}` is not a node name (a letter, then letters, digits or `,._+-`)"
                ));
            }
            if !names.insert(name.clone()) {
                return Err(format!("{who}: two nodes are named `{name}`"));
            }
        }

        Ok(Self {
            devices,
            memory,
            clocks,
            providers,
            console_path,
            initrd,
            channels,
        })
    }

    fn clock_phandle(&self, clock: &FixedClock) -> u32 {
        let i = self
            .clocks
            .iter()
            .position(|c| c.name == clock.name)
            .expect("every clock a device names was given a phandle by Plan::new");
        GIC_PHANDLE + 1 + i as u32
    }

    fn provider_phandle(&self, provider: &Provider) -> u32 {
        let i = self
            .providers
            .iter()
            .position(|p| p.name == provider.name)
            .expect("every provider a device names was given a phandle by Plan::new");
        GIC_PHANDLE + 1 + self.clocks.len() as u32 + i as u32
    }

    fn write(&self, board: &Board, guest: &DtbGuest) -> Result<Vec<u8>, vm_fdt::Error> {
        let processor = &board.device_tree;
        let mut fdt = FdtWriter::new()?;
        // Linux on Arm takes its boot core from MPIDR, but the header
        // should still name the one cpu the tree has.
        fdt.set_boot_cpuid_phys(guest.core);

        let root = fdt.begin_node("")?;
        fdt.property_u32("#address-cells", 1)?;
        fdt.property_u32("#size-cells", 1)?;
        // Not the board's compatible: "arm,vexpress" or "xlnx,zynq-7000"
        // would select Linux's platform code (SMP bring-up, system
        // registers, the SLCR), all of which is the monitor's. An unknown
        // compatible gets Linux's generic device tree machine.
        fdt.property_string_list("compatible", vec!["mvm,guest".into()])?;
        fdt.property_string(
            "model",
            &format!("MVM guest {} on {}", guest.name, board.title),
        )?;
        fdt.property_u32("interrupt-parent", GIC_PHANDLE)?;

        let aliases = fdt.begin_node("aliases")?;
        fdt.property_string("serial0", &self.console_path)?;
        fdt.end_node(aliases)?;

        let chosen = fdt.begin_node("chosen")?;
        fdt.property_string("bootargs", guest.bootargs)?;
        fdt.property_string("stdout-path", "serial0:115200n8")?;
        if let Some((start, end)) = self.initrd {
            fdt.property_u32("linux,initrd-start", start)?;
            fdt.property_u32("linux,initrd-end", end)?;
        }
        fdt.end_node(chosen)?;

        // One cpu: the guest's core. The other cores are other guests'
        // (or the monitor's); a guest that believed in them would try to
        // start them. No `enable-method`: there is nothing to enable.
        let cpus = fdt.begin_node("cpus")?;
        fdt.property_u32("#address-cells", 1)?;
        fdt.property_u32("#size-cells", 0)?;
        let cpu = fdt.begin_node(&format!("cpu@{:x}", guest.core))?;
        fdt.property_string("device_type", "cpu")?;
        fdt.property_string_list("compatible", vec![processor.cpu_compatible.into()])?;
        fdt.property_u32("reg", guest.core)?;
        fdt.end_node(cpu)?;
        fdt.end_node(cpus)?;

        let memory = fdt.begin_node(&format!("memory@{:x}", self.memory[0].0))?;
        fdt.property_string("device_type", "memory")?;
        let cells: Vec<u32> = self.memory.iter().flat_map(|&(b, s)| [b, s]).collect();
        fdt.property_array_u32("reg", &cells)?;
        fdt.end_node(memory)?;

        // The monitor answers SMCs; PSCI calls it does not implement come
        // back NOT_SUPPORTED, which Linux copes with.
        let psci = fdt.begin_node("psci")?;
        fdt.property_string_list(
            "compatible",
            vec!["arm,psci-1.0".into(), "arm,psci-0.2".into()],
        )?;
        fdt.property_string("method", "smc")?;
        fdt.end_node(psci)?;

        // Deliberately absent, though the hardware has them:
        // - the private timer (`arm,cortex-a9-twd-timer`): it is the
        //   monitor's EDF timer, and a guest that programmed it would
        //   reprogram the monitor's budget enforcement;
        // - the global timer (`arm,cortex-a9-global-timer`): its counter is
        //   shared by the monitor and every guest, and Linux's driver
        //   zeroes it;
        // - the SCU and the L2 cache controller: set up and kept by the
        //   monitor for all guests;
        // - reset, power-off and system register nodes: their writes reset
        //   or power off the whole machine, every guest with it.
        // The guest's clock comes from a passthrough timer instead.
        let gic_name = format!("interrupt-controller@{:x}", processor.gic_distributor.base);
        let gic = fdt.begin_node(&gic_name)?;
        fdt.property_string_list(
            "compatible",
            processor
                .gic_compatible
                .iter()
                .map(|s| s.to_string())
                .collect(),
        )?;
        fdt.property_null("interrupt-controller")?;
        fdt.property_u32("#interrupt-cells", 3)?;
        // No interrupt-map points into it; `dtc` asks for this all the same.
        fdt.property_u32("#address-cells", 0)?;
        let d = processor.gic_distributor;
        let c = processor.gic_cpu_interface;
        fdt.property_array_u32(
            "reg",
            &[d.base as u32, d.size as u32, c.base as u32, c.size as u32],
        )?;
        fdt.property_phandle(GIC_PHANDLE)?;
        fdt.end_node(gic)?;

        for clock in &self.clocks {
            let node = fdt.begin_node(&clock_node_name(clock))?;
            fdt.property_string_list("compatible", vec!["fixed-clock".into()])?;
            fdt.property_u32("#clock-cells", 0)?;
            fdt.property_u32("clock-frequency", clock.hz)?;
            fdt.property_string_list("clock-output-names", vec![clock.name.into()])?;
            fdt.property_phandle(self.clock_phandle(clock))?;
            fdt.end_node(node)?;
        }

        for provider in &self.providers {
            let node = fdt.begin_node(provider.name)?;
            write_compatible(&mut fdt, provider.compatible)?;
            for property in provider.properties {
                self.write_property(&mut fdt, property)?;
            }
            fdt.property_phandle(self.provider_phandle(provider))?;
            fdt.end_node(node)?;
        }

        for p in &self.devices {
            let node = fdt.begin_node(&p.path()[1..])?;
            write_compatible(&mut fdt, p.node.compatible)?;
            let regs = p.device.regs;
            fdt.property_array_u32("reg", &[regs.base as u32, regs.size as u32])?;
            if !p.device.interrupts.is_empty() {
                let flags = interrupt_flags(p.trigger);
                let cells: Vec<u32> = p
                    .device
                    .interrupts
                    .iter()
                    .flat_map(|&id| [SPI, id - FIRST_SPI, flags])
                    .collect();
                fdt.property_array_u32("interrupts", &cells)?;
            }
            if !p.node.clocks.is_empty() {
                let phandles: Vec<u32> = p
                    .node
                    .clocks
                    .iter()
                    .map(|input| self.clock_phandle(input.clock))
                    .collect();
                fdt.property_array_u32("clocks", &phandles)?;
                if p.node.clocks.iter().all(|input| !input.name.is_empty()) {
                    fdt.property_string_list(
                        "clock-names",
                        p.node.clocks.iter().map(|i| i.name.to_string()).collect(),
                    )?;
                }
            }
            for property in p.node.properties {
                self.write_property(&mut fdt, property)?;
            }
            fdt.end_node(node)?;
        }

        self.write_channels(&mut fdt)?;

        fdt.end_node(root)?;
        fdt.finish()
    }

    /// The channel ends: each region reserved (it is outside the guest's
    /// memory already; the reservation, `no-map`, keeps it out of Linux's
    /// allocator and linear map should a `/memory` ever cover it, and it
    /// does not stop `/dev/mem`, which refuses only System RAM and regions
    /// a driver has claimed), described
    /// by a `mvm,channel` node a program can find by label, and its
    /// notification as a key of one gpio-keys device.
    fn write_channels(&self, fdt: &mut FdtWriter) -> Result<(), vm_fdt::Error> {
        if self.channels.is_empty() {
            return Ok(());
        }
        let reserved = fdt.begin_node("reserved-memory")?;
        fdt.property_u32("#address-cells", 1)?;
        fdt.property_u32("#size-cells", 1)?;
        fdt.property_null("ranges")?;
        for (end, base, size) in &self.channels {
            let node = fdt.begin_node(&channel_node_name(end))?;
            fdt.property_array_u32("reg", &[*base, *size])?;
            fdt.property_null("no-map")?;
            fdt.end_node(node)?;
        }
        fdt.end_node(reserved)?;

        for (end, base, size) in &self.channels {
            let node = fdt.begin_node(&channel_node_name(end))?;
            fdt.property_string_list("compatible", vec!["mvm,channel".into()])?;
            fdt.property_array_u32("reg", &[*base, *size])?;
            fdt.property_string("label", &end.name)?;
            if !end.writable {
                fdt.property_null("read-only")?;
            }
            fdt.end_node(node)?;
        }

        if self.channels.iter().any(|(end, _, _)| end.irq.is_some()) {
            // Interrupt-only keys (no `gpios`): each rising edge is a key
            // press, released by the driver after its debounce interval.
            let keys = fdt.begin_node(CHANNEL_KEYS)?;
            fdt.property_string_list("compatible", vec!["gpio-keys".into()])?;
            fdt.property_string("label", CHANNEL_KEYS)?;
            for (end, _, _) in &self.channels {
                let Some(irq) = end.irq else { continue };
                let key = fdt.begin_node(&end.name)?;
                fdt.property_string("label", &end.name)?;
                fdt.property_u32("linux,code", end.code)?;
                fdt.property_array_u32(
                    "interrupts",
                    &[SPI, irq - FIRST_SPI, interrupt_flags(Trigger::Edge)],
                )?;
                fdt.end_node(key)?;
            }
            fdt.end_node(keys)?;
        }
        Ok(())
    }

    fn write_property(
        &self,
        fdt: &mut FdtWriter,
        property: &mvm_board::device_tree::Property,
    ) -> Result<(), vm_fdt::Error> {
        match property.value {
            Value::Empty => fdt.property_null(property.name),
            Value::U32(v) => fdt.property_u32(property.name, v),
            Value::String(s) => fdt.property_string(property.name, s),
            Value::Reference(provider) => {
                fdt.property_u32(property.name, self.provider_phandle(provider))
            }
        }
    }
}

fn channel_node_name(end: &ChannelEnd) -> String {
    format!("channel@{:x}", end.base)
}

/// The guest's channel ends, checked (named, page-aligned regions below
/// 4 GiB outside its memory and apart from each other, shared peripheral
/// interrupts used once, codes used once) and in address order.
fn check_channels(who: &str, guest: &DtbGuest) -> Result<Vec<(ChannelEnd, u32, u32)>, String> {
    let mut ends: Vec<(ChannelEnd, u32, u32)> = Vec::new();
    for end in guest.channels {
        let what = format!("channel `{}`", end.name);
        // The name is a node name (the key's) and a label.
        if end.name.contains('@') || !is_node_name(&end.name) {
            return Err(format!(
                "{who}: {what}: its name is not a node name (a letter, then up to 30 letters, digits or `,._+-`)"
            ));
        }
        let (base, size) = fits_32_bits(who, &what, end.base, end.size)?;
        if size == 0 || end.base % CHANNEL_PAGE != 0 || end.size % CHANNEL_PAGE != 0 {
            return Err(format!(
                "{who}: {what} {} is not a whole number of 4 KiB pages",
                format_range(end.base, end.size)
            ));
        }
        let overlaps = |b: u64, s: u64| end.base < b + s && b < end.base + end.size;
        if let Some(&(b, s)) = guest.memory.iter().find(|&&(b, s)| overlaps(b, s)) {
            return Err(format!(
                "{who}: {what} {} overlaps its memory {}",
                format_range(end.base, end.size),
                format_range(b, s)
            ));
        }
        if let Some(irq) = end.irq {
            if irq < FIRST_SPI {
                return Err(format!(
                    "{who}: {what}: interrupt {irq} is not a shared peripheral interrupt (32 and up)"
                ));
            }
            if let Some((device, _)) = guest
                .devices
                .iter()
                .find(|(d, _)| d.interrupts.contains(&irq))
            {
                return Err(format!(
                    "{who}: {what}: interrupt {irq} is device `{}`'s",
                    device.name
                ));
            }
        }
        for (other, _, _) in &ends {
            let clash = if other.name == end.name {
                Some("both are named so".to_string())
            } else if overlaps(other.base, other.size) {
                Some(format!(
                    "their regions {} and {} overlap",
                    format_range(other.base, other.size),
                    format_range(end.base, end.size)
                ))
            } else if end.irq.is_some() && other.irq == end.irq {
                Some(format!(
                    "both are notified by interrupt {}",
                    end.irq.unwrap_or_default()
                ))
            } else if end.irq.is_some() && other.irq.is_some() && other.code == end.code {
                Some(format!("both are key code {}", end.code))
            } else {
                None
            };
            if let Some(clash) = clash {
                return Err(format!(
                    "{who}: channels `{}` and `{}`: {clash}",
                    other.name, end.name
                ));
            }
        }
        ends.push((end.clone(), base, size));
    }
    ends.sort_by_key(|(end, _, _)| end.base);
    Ok(ends)
}

fn write_compatible(fdt: &mut FdtWriter, compatible: &[&str]) -> Result<(), vm_fdt::Error> {
    fdt.property_string_list(
        "compatible",
        compatible.iter().map(|s| s.to_string()).collect(),
    )
}

fn clock_node_name(clock: &FixedClock) -> String {
    format!("clock-{}", clock.name)
}

/// A node name as the Devicetree Specification allows it, with an
/// optional `@unit-address`.
fn is_node_name(name: &str) -> bool {
    let base = name.split_once('@').map_or(name, |(base, _)| base);
    base.starts_with(|c: char| c.is_ascii_alphabetic())
        && base.len() <= 31
        && base
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ",._+-".contains(c))
}

/// A device's clock inputs are all named (`clock-names` is written) or all
/// unnamed (its binding names none).
fn check_clock_names(who: &str, device: &str, clocks: &[ClockInput]) -> Result<(), String> {
    let named = clocks.iter().filter(|c| !c.name.is_empty()).count();
    if named != 0 && named != clocks.len() {
        return Err(format!(
            "{who}: device `{device}` names some of its clocks but not all"
        ));
    }
    Ok(())
}

/// `[base..base + size)` as one-cell address and size: the tree's
/// `#address-cells` and `#size-cells` are 1, as on every 32-bit Arm.
fn fits_32_bits(who: &str, what: &str, base: u64, size: u64) -> Result<(u32, u32), String> {
    match (u32::try_from(base), u32::try_from(size)) {
        (Ok(b), Ok(s)) if base.checked_add(size).is_some_and(|end| end <= 1 << 32) => Ok((b, s)),
        _ => Err(format!(
            "{who}: {what} {} is not below 4 GiB",
            format_range(base, size)
        )),
    }
}
