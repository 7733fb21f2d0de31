//! Stage 3: the kernel-facing tables, as plain numbers.
//!
//! - What the code generator reads and the kernel consumes: no strings but
//!   names, no spans, no options that the kernel would have to interpret.
//! - Built of the kernel's own types (`mvm_kernel::config`, `edf::Params`)
//!   wherever the tables hold one, so a field added to the kernel is a
//!   compile error here rather than a silent default.
//! - Guests are numbered by declaration order; cores by number.
//! - Physical addresses are 32-bit here: the Cortex-A9 without LPAE has a
//!   32-bit physical address space, which validation has already enforced.

use mvm_kernel::config::{
    Channel, ChannelEnd, CorePlan, Health, Interrupt, Level, Paging, Region, Trigger,
};
use mvm_kernel::edf::Params;

use crate::directmap::TranslationIr;
use crate::model::System;

/// The whole system, as the kernel sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemIr {
    pub name: String,
    pub board: &'static str,
    pub switch_overhead_ns: u64,
    /// The board's translation table area.
    pub table_area: Region,
    pub guests: Vec<GuestIr>,
    /// What each core does, indexed by core number.
    pub cores: Vec<CorePlan<Vec<u32>>>,
    /// Every channel (names leaked: the kernel's type holds `&'static str`,
    /// and the generator runs once per build).
    pub channels: Vec<Channel>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestIr {
    pub id: u32,
    pub name: String,
    pub level: Level,
    pub core: u32,
    pub paging: Paging,
    /// `Some` exactly for SRT guests.
    pub server: Option<Params>,
    pub fpu: bool,
    pub regions: Vec<Region>,
    pub devices: Vec<DeviceIr>,
    /// Its ends of channels, in the order the channels are declared.
    pub channels: Vec<ChannelEnd>,
    /// The direct map's tables, for `paging = "direct"` guests.
    pub translation: Option<TranslationIr>,
    /// Its first ASID: every guest with tables the monitor keeps (a direct
    /// map: one; a shadow-paging pool: one per address space) gets its own
    /// range, from 1 in the order guests are declared; 0 for a guest with
    /// none. The table area bounds them: at most 64 L1 tables of 16 KiB
    /// fit in its 1 MiB, far below the 255 ASIDs.
    pub asid: u8,
    /// The pool of tables of a shadow-paged guest, and its first ASID
    /// (one per address space; shadow-paged guests get consecutive
    /// ranges from 1 in the order they are declared).
    pub pool: Option<(crate::directmap::PoolIr, u8)>,
    /// What a failure leads to, and its watchdog.
    pub health: Health,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceIr {
    pub name: &'static str,
    /// Its register window (`guest_base` = `base`: devices are mapped at
    /// their physical address).
    pub regs: Region,
    /// Its lines, each with the device's declared priority and trigger.
    pub interrupts: Vec<Interrupt>,
}

fn addr(value: u64) -> u32 {
    u32::try_from(value).expect("validation keeps every address below 4 GiB")
}

fn id(index: usize) -> u32 {
    crate::plan::index(index)
}

/// Lowers a validated system to the kernel's tables.
pub fn lower(system: &System) -> SystemIr {
    let mut translations = crate::directmap::layout(system)
        .expect("validation rejects a system whose tables do not fit")
        .into_iter();
    let mut next_asid = 1u32;
    let asids: Vec<u8> = system
        .guests
        .iter()
        .map(|g| {
            let count = match (g.paging, g.pool) {
                (Paging::Direct, _) => 1,
                (_, Some(p)) => p.address_spaces,
                (_, None) => 0,
            };
            if count == 0 {
                return 0;
            }
            let first = u8::try_from(next_asid)
                .expect("the table area holds fewer than 255 L1 tables, so ASIDs fit in 8 bits");
            next_asid += count;
            first
        })
        .collect();
    let mut pools = crate::directmap::pools(system)
        .into_iter()
        .zip(asids.clone())
        .map(|(p, asid)| p.map(|p| (p, asid)));
    SystemIr {
        name: system.name.clone(),
        board: system.board.name,
        switch_overhead_ns: system.switch_overhead,
        table_area: {
            let area = crate::directmap::table_area(system);
            Region {
                base: addr(area.base),
                size: addr(area.size),
                guest_base: addr(area.base),
            }
        },
        guests: system
            .guests
            .iter()
            .enumerate()
            .map(|(i, g)| GuestIr {
                id: id(i),
                name: g.name.clone(),
                level: g.level,
                core: g.core,
                paging: g.paging,
                server: g.server,
                fpu: g.fpu,
                regions: g
                    .memory
                    .iter()
                    .zip(&g.guest_bases)
                    .map(|(r, &gb)| Region {
                        base: addr(r.base),
                        size: addr(r.size),
                        guest_base: addr(gb),
                    })
                    .collect(),
                devices: g
                    .devices
                    .iter()
                    .map(|d| DeviceIr {
                        name: d.device.name,
                        regs: Region {
                            base: addr(d.device.regs.base),
                            size: addr(d.device.regs.size),
                            guest_base: addr(d.device.regs.base),
                        },
                        interrupts: d
                            .device
                            .interrupts
                            .iter()
                            .map(|&id| Interrupt {
                                id,
                                priority: d.priority,
                                trigger: d.trigger,
                            })
                            .collect(),
                    })
                    .collect(),
                channels: system
                    .channel_ends(i)
                    .map(|(c, writable)| ChannelEnd {
                        name: leak(&c.name),
                        channel: id(system
                            .channels
                            .iter()
                            .position(|o| o.name == c.name)
                            .expect("its own channel")),
                        region: Region {
                            base: addr(c.base),
                            size: addr(c.size),
                            guest_base: addr(c.base),
                        },
                        writable,
                        notify: (!writable).then_some(c.irq).flatten().map(notify_line),
                    })
                    .collect(),
                translation: translations.next().flatten(),
                asid: asids[i],
                pool: pools.next().flatten(),
                health: g.health,
            })
            .collect(),
        cores: system.cores.iter().map(|c| c.plan.clone()).collect(),
        channels: system
            .channels
            .iter()
            .map(|c| Channel {
                name: leak(&c.name),
                writer: id(c.writer),
                reader: id(c.reader),
                base: addr(c.base),
                size: addr(c.size),
                notify: c.irq,
            })
            .collect(),
    }
}

fn leak(name: &str) -> &'static str {
    Box::leak(name.to_owned().into_boxed_str())
}

/// A reader's notification line: edge-triggered (the monitor sets it
/// pending; the reader's acknowledge clears it), at the default level.
pub fn notify_line(id: u32) -> Interrupt {
    Interrupt {
        id,
        priority: Interrupt::DEFAULT_PRIORITY,
        trigger: Trigger::Edge,
    }
}
