//! What `check` says about a valid system: per core, who runs and how loaded.

use serde::Serialize;

use mvm_kernel::config::CorePlan;

use crate::model::{keyword, Keyword, Level, System};
use crate::plan::{AnalysisSummary, PlannedCore};
use crate::units::{format_ppm, format_time, plural};

/// The machine-readable summary (`--format json`).
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub system: String,
    pub board: String,
    pub switch_overhead_ns: u64,
    pub switch_overhead_source: String,
    pub cores: Vec<CoreSummary>,
    /// Each guest's memory virtualization method, in declaration order.
    pub memory: Vec<MemorySummary>,
    /// The table area the build reserved for the guests' translation
    /// tables, and what they take of it.
    pub table_area: TableAreaSummary,
    /// Every channel, in declaration order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<ChannelSummary>,
}

/// A channel: its ends, its memory, how its reader learns of a message
/// and how long that can take (docs/channels.md).
#[derive(Clone, Debug, Serialize)]
pub struct ChannelSummary {
    pub name: String,
    pub writer: String,
    pub reader: String,
    pub base: u64,
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify_line: Option<u32>,
    /// The longest a notification waits, by the reader's server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify_bound_ns: Option<u64>,
}

/// What the build reserved for translation tables.
#[derive(Clone, Debug, Serialize)]
pub struct TableAreaSummary {
    pub base: u64,
    /// Whole MiBs, at the top of the board's bound.
    pub size: u64,
    /// What the direct maps and pools take of it.
    pub used: u64,
    /// The board's bound.
    pub bound: u64,
}

/// How a guest's memory is virtualized, and what its tables cost.
#[derive(Clone, Debug, Serialize)]
pub struct MemorySummary {
    pub name: String,
    #[serde(serialize_with = "keyword")]
    pub paging: crate::model::Paging,
    /// Bytes of build-time translation tables (direct map), else 0.
    pub table_bytes: u64,
    /// Where its L1 table lives (direct map).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l1_table: Option<u64>,
    /// A shadow-paged guest's pool of tables in the table area.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<crate::directmap::PoolIr>,
    /// Bytes of that pool, else 0.
    pub pool_bytes: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct CoreSummary {
    pub core: u32,
    /// `idle`, `dedicated` or `edf`.
    pub mode: &'static str,
    pub guests: Vec<GuestSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysis: Option<AnalysisSummary>,
    /// Share of the core left after every server's budget and overhead, in
    /// millionths (EDF cores only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spare_ppm: Option<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct GuestSummary {
    pub name: String,
    #[serde(serialize_with = "keyword")]
    pub level: Level,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_ns: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_ns: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline_ns: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utilization_ppm: Option<u64>,
    /// The budget was computed from the guest's tasks (`budget = "auto"`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub budget_auto: bool,
    /// The guest's own tasks, checked inside its supply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tasks: Option<usize>,
}

impl Summary {
    pub fn new(system: &System) -> Self {
        let cores = system
            .cores
            .iter()
            .enumerate()
            .map(|(core, plan)| {
                let core = u32::try_from(core).expect("a board has few cores");
                let guest = |i: u32, ppm: Option<u64>| {
                    let g = &system.guests[i as usize];
                    GuestSummary {
                        name: g.name.clone(),
                        level: g.level,
                        period_ns: g.server.map(|s| s.period),
                        budget_ns: g.server.map(|s| s.budget),
                        deadline_ns: g.server.map(|s| s.deadline),
                        utilization_ppm: ppm,
                        budget_auto: g.budget_auto,
                        tasks: (!g.tasks.is_empty()).then_some(g.tasks.len()),
                    }
                };
                match &plan.plan {
                    CorePlan::Idle => CoreSummary {
                        core,
                        mode: "idle",
                        guests: vec![],
                        analysis: None,
                        spare_ppm: None,
                    },
                    CorePlan::Dedicated { guest: g } => CoreSummary {
                        core,
                        mode: "dedicated",
                        guests: vec![guest(*g, None)],
                        analysis: None,
                        spare_ppm: None,
                    },
                    CorePlan::Edf { guests } => {
                        let analysis = plan.analysis.as_ref().expect(PlannedCore::ANALYSED);
                        CoreSummary {
                            core,
                            mode: "edf",
                            guests: guests
                                .iter()
                                .zip(&analysis.guest_utilization_ppm)
                                .map(|(&g, &ppm)| guest(g, Some(ppm)))
                                .collect(),
                            spare_ppm: Some(1_000_000u64.saturating_sub(analysis.utilization_ppm)),
                            analysis: Some(analysis.clone()),
                        }
                    }
                }
            })
            .collect();
        let area = crate::directmap::table_area(system);
        Summary {
            table_area: TableAreaSummary {
                base: area.base,
                size: area.size,
                used: crate::directmap::table_bytes(system),
                bound: system.board.table_area.size,
            },
            system: system.name.clone(),
            board: system.board.name.to_string(),
            switch_overhead_ns: system.switch_overhead,
            switch_overhead_source: if system.switch_overhead_is_default {
                format!(
                    "board default: {}",
                    system.board.default_switch_overhead_source
                )
            } else {
                "[system.overhead] switch".to_string()
            },
            cores,
            memory: memory(system),
            channels: system
                .channels
                .iter()
                .map(|c| ChannelSummary {
                    name: c.name.clone(),
                    writer: system.guests[c.writer].name.clone(),
                    reader: system.guests[c.reader].name.clone(),
                    base: c.base,
                    size: c.size,
                    notify_line: c.irq,
                    notify_bound_ns: crate::channels::notify_bound(system, c),
                })
                .collect(),
        }
    }

    /// The human-readable form, one block per core.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "system `{}` on board `{}`: valid and schedulable\n  switch overhead {} per SRT job ({})\n",
            self.system,
            self.board,
            format_time(self.switch_overhead_ns),
            self.switch_overhead_source
        );
        for c in &self.cores {
            match c.mode {
                "idle" => out.push_str(&format!("  core {}: idle (no guest)\n", c.core)),
                "dedicated" => {
                    out.push_str(&format!(
                        "  core {}: dedicated to HRT guest `{}` (no monitor timer, no EDF)\n",
                        c.core, c.guests[0].name
                    ));
                    if let Some(n) = c.guests[0].tasks {
                        out.push_str(&format!(
                            "      its {} fit its core\n",
                            plural(n as u64, "task", "tasks")
                        ));
                    }
                }
                _ => {
                    let a = c.analysis.as_ref().expect("EDF cores carry their analysis");
                    let test = match a.test {
                        crate::sched::Test::Utilization => {
                            "exact utilization test, implicit deadlines".to_string()
                        }
                        crate::sched::Test::ProcessorDemand => format!(
                            "exact processor-demand test (QPA), deadlines less {} of the monitor's time, {}",
                            format_time(crate::sched::monitor_blocking(
                                c.guests.len(),
                                self.switch_overhead_ns
                            )),
                            match a.demand_points {
                                0 => "no deadline within the interval it must check".to_string(),
                                n => format!(
                                    "demand checked at {}",
                                    plural(n, "instant", "instants")
                                ),
                            }
                        ),
                    };
                    out.push_str(&format!(
                        "  core {}: EDF over {}, utilization {}, spare {} ({test})\n",
                        c.core,
                        plural(c.guests.len() as u64, "SRT guest", "SRT guests"),
                        format_ppm(a.utilization_ppm),
                        format_ppm(c.spare_ppm.unwrap_or(0)),
                    ));
                    for g in &c.guests {
                        out.push_str(&format!(
                            "    {:<16} period {:>8}  budget {:>8}  deadline {:>8}  utilization {:>7}\n",
                            g.name,
                            format_time(g.period_ns.unwrap_or(0)),
                            format_time(g.budget_ns.unwrap_or(0)),
                            format_time(g.deadline_ns.unwrap_or(0)),
                            format_ppm(g.utilization_ppm.unwrap_or(0)),
                        ));
                        if let Some(n) = g.tasks {
                            out.push_str(&format!(
                                "      its {} fit its server{}\n",
                                plural(n as u64, "task", "tasks"),
                                if g.budget_auto {
                                    " (the budget above is the smallest that does: `budget = \"auto\"`)"
                                } else {
                                    ""
                                }
                            ));
                        }
                    }
                }
            }
        }
        let t = &self.table_area;
        if t.used != 0 {
            out.push_str(&format!(
                "  translation tables: {} of tables in {} reserved at {} (the board allows {})\n",
                crate::units::format_size(t.used),
                crate::units::format_size(t.size),
                crate::units::hex(t.base),
                crate::units::format_size(t.bound)
            ));
        }
        for m in &self.memory {
            out.push_str(&match m.l1_table {
                Some(l1) => format!(
                    "  memory of `{}`: direct map, {} of tables (L1 at {})\n",
                    m.name,
                    crate::units::format_size(m.table_bytes),
                    crate::units::hex(l1)
                ),
                None => match m.pool {
                    Some(p) if m.pool_bytes != 0 => format!(
                        "  memory of `{}`: shadow paging, pool of {} ({} from {}, {} from {})\n",
                        m.name,
                        crate::units::format_size(m.pool_bytes),
                        plural(p.spaces.into(), "address space", "address spaces"),
                        crate::units::hex(p.l1_base.into()),
                        plural(p.page_tables.into(), "page table", "page tables"),
                        crate::units::hex(p.l2_base.into())
                    ),
                    _ if m.paging == crate::model::Paging::Guest => format!(
                        "  memory of `{}`: its own MMU (it starts with it off; the monitor keeps no table for it)\n",
                        m.name
                    ),
                    _ => format!(
                        "  memory of `{}`: {} paging without a pool (the guest runs with its MMU off)\n",
                        m.name,
                        m.paging.as_str()
                    ),
                },
            });
        }
        for c in &self.channels {
            out.push_str(&format!(
                "  channel `{}`: `{}` -> `{}`, {} at {} ({}), {}\n",
                c.name,
                c.writer,
                c.reader,
                crate::units::format_size(c.size),
                crate::units::hex(c.base),
                "read-write for the writer, read-only for the reader",
                match (c.notify_line, c.notify_bound_ns) {
                    (Some(line), Some(bound)) => format!(
                        "notified on line {line} within {} of the doorbell",
                        format_time(bound)
                    ),
                    (Some(line), None) => format!("notified on line {line}"),
                    _ => "polled by its reader".to_string(),
                }
            ));
        }
        out
    }
}

fn memory(system: &System) -> Vec<MemorySummary> {
    let tables = crate::directmap::layout(system)
        .expect("validation rejects a system whose tables do not fit");
    let pools = crate::directmap::pools(system);
    system
        .guests
        .iter()
        .zip(tables)
        .zip(pools)
        .map(|((g, t), pool)| MemorySummary {
            name: g.name.clone(),
            paging: g.paging,
            table_bytes: t.as_ref().map_or(0, |t| t.table_bytes()),
            l1_table: t.map(|t| u64::from(t.tables[0].address)),
            pool,
            pool_bytes: g.pool.map_or(0, |p| p.bytes()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_of_one_are_singular() {
        let checked = crate::check(
            r#"
[system]
name = "t"
board = "qemu-vexpress-a9"
[[guest]]
name = "only"
level = "srt"
core = 1
image = "x"
period = "10ms"
budget = "1ms"
address_spaces = 1
page_tables = 1
memory = [ { name = "ram", base = 0x7000_0000, size = "16MiB" } ]
"#,
        );
        let system = checked.system.expect("valid");
        let text = Summary::new(&system).to_text();
        assert!(
            text.contains("  core 1: EDF over 1 SRT guest, utilization"),
            "{text}"
        );
        assert!(
            text.contains(
                "pool of 17KiB (1 address space from 0x60F0_0000, 1 page table from 0x60F0_4000)"
            ),
            "{text}"
        );
    }
}
