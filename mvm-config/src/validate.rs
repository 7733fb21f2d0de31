//! The rules of a system description, each with its own error.
//!
//! - Every rule of `docs/system-toml.md` is checked here, and each failure
//!   is a distinct [`ErrorKind`] pointing at the offending value, with the
//!   other party (the first definition, the other guest) as a secondary label.
//! - Checks are independent: a guest with a bad `level` still has its memory
//!   and devices checked, so one run reports every independent mistake.
//! - A [`System`] is produced only when no rule failed.

use mvm_board::{Board, Device, Owner, PhysRange};
use mvm_kernel::config::Interrupt;

use crate::diag::{has_errors, suggest, Diagnostic, ErrorKind, Span};
use crate::model::{
    granule, Guest, GuestDevice, GuestSpans, Health, Keyword, Level, OnFailure, Paging, Params,
    Region, ShadowPool, System, Task, TaskScheduler, Trigger,
};
use crate::plan::{plan, PlanEntry};
use crate::raw::{Located, RawFile, RawGuest, RawSize};
use crate::units::{format_range, format_size, format_time, parse_size, parse_time, plural};

/// The largest physical address plus one on a 32-bit Cortex-A9 without LPAE.
const PHYS_LIMIT: u64 = 1 << 32;

/// A guest as far as its own keys could be read; `None` where a key was
/// missing or invalid (already reported).
struct Draft {
    name: Option<Located<String>>,
    level: Option<Level>,
    core: Option<u32>,
    paging: Option<Paging>,
    server: Option<Params>,
    fpu: bool,
    memory: Vec<Region>,
    guest_bases: Vec<u64>,
    devices: Vec<(GuestDevice, Span)>,
    pool: Option<ShadowPool>,
    tasks: Option<(Vec<Task>, TaskScheduler)>,
    budget_auto: bool,
    health: Option<Health>,
    spans: GuestSpans,
    image: Option<String>,
    /// `[guest.linux]` was written; `linux` is `Some` when it passed.
    linux_declared: bool,
    linux: Option<crate::linux::Linux>,
}

/// Checks every rule, schedulability included; returns the model if
/// nothing failed.
pub fn validate(
    raw: &RawFile,
    diags: &mut Vec<Diagnostic>,
    planned: &mut Vec<crate::plan::PlannedCore>,
) -> Option<System> {
    let (name, board, overhead) = system_keys(raw, diags);
    if raw.system.is_some() && raw.guests.is_empty() {
        diags.push(Diagnostic::new(
            ErrorKind::NoGuests,
            raw.system.as_ref().map(|s| s.span.clone()),
            "this system declares no [[guest]]",
        ));
    }
    let drafts: Vec<Draft> = raw
        .guests
        .iter()
        .map(|g| guest_keys(g, board, diags))
        .collect();
    unique_names(&drafts, diags);
    if let Some(board) = board {
        core_placement(&drafts, board, diags);
        memory_layout(&drafts, board, diags);
    }
    unique_devices(&drafts, diags);
    let overhead = overhead.or(board.map(|b| b.default_switch_overhead_ns));
    let cores = match (board, overhead) {
        (Some(board), Some(overhead)) => {
            let entries: Vec<PlanEntry<'_>> = drafts
                .iter()
                .map(|d| PlanEntry {
                    name: d.name.as_ref().map_or("?", |n| n.value.as_str()),
                    level: d.level,
                    core: d.core.filter(|&c| c < board.cores),
                    server: d.server,
                    header: d.spans.header.clone(),
                    budget_span: d.spans.budget.clone(),
                })
                .collect();
            plan(board.cores, overhead, &entries, diags)
        }
        _ => Vec::new(),
    };
    planned.clone_from(&cores);
    if let (Some(overhead), false) = (overhead, has_errors(diags)) {
        // Only a fully valid system reaches the model: no error at all, from
        // reading the file or from any rule, so every key below is present.
        let board = board.expect("a valid system has a known board");
        let guests = drafts.into_iter().map(finish).collect::<Option<Vec<_>>>();
        let system = guests.map(|guests| System {
            name: name.expect("a valid system has a name"),
            board,
            switch_overhead: overhead,
            switch_overhead_is_default: raw
                .system
                .as_ref()
                .is_some_and(|s| s.switch_overhead.is_none()),
            guests,
            cores,
            channels: Vec::new(),
            channel_area: board.channel_area,
        })?;
        check_tasks(&system.guests, diags);
        let mut system = system;
        if let Some((channels, area)) = crate::channels::check(
            &raw.channels,
            raw.system.as_ref().and_then(|s| s.channel_area.as_ref()),
            &system,
            diags,
        ) {
            system.channels = channels;
            system.channel_area = area;
        }
        let cpu_page = crate::boards::cpu_interface_page(board.name);
        for (i, g) in system.guests.iter().enumerate() {
            let Some(pool) = g.pool else { continue };
            if pool.address_spaces == 0
                && g.memory
                    .iter()
                    .zip(&g.guest_bases)
                    .all(|(r, &gb)| r.base == gb)
            {
                // No pool at all: the guest runs with its MMU off, at its
                // physical addresses, which are its guest-physical ones.
                continue;
            }
            let needed = crate::directmap::boot_page_tables(&system, i, cpu_page);
            if pool.address_spaces == 0 || u64::from(pool.page_tables) < needed {
                diags.push(
                    Diagnostic::new(
                        ErrorKind::PoolTooSmall {
                            guest: g.name.clone(),
                            needed,
                            page_tables: pool.page_tables,
                            address_spaces: pool.address_spaces,
                        },
                        g.spans.header.clone(),
                        "its boot space does not fit its pool",
                    )
                    .with_help(format!(
                        "give it `address_spaces = 1` or more and `page_tables = {needed}` or more (1 MiB-aligned regions take none)"
                    )),
                );
            }
        }
        if has_errors(diags) {
            return None;
        }
        for g in system.guests.iter().filter(|g| g.paging == Paging::Guest) {
            diags.push(Diagnostic::new(
                ErrorKind::LinuxRule {
                    code: "paging-guest-unconfined",
                    message: format!("guest `{}` owns its MMU (`paging = \"guest\"`): nothing but its own correctness keeps it out of the other guests' memory and devices (docs/threat-model.md)", g.name),
                },
                g.linux.as_ref().map_or(g.spans.header.clone(), |l| l.spans.table.clone()),
                "the monitor writes no translation table for this guest",
            ));
        }
        if let Err(full) = crate::directmap::layout(&system) {
            diags.push(table_area_full(&system, &full));
            return None;
        }
        return Some(system);
    }
    None
}

/// The finding for tables that do not fit the table area, with a help for
/// its cause: too many direct maps, or pools too large.
fn table_area_full(system: &System, full: &crate::directmap::TableAreaFull) -> Diagnostic {
    let g = &system.guests[full.guest];
    let area = system.board.table_area;
    let first_is_pool = g.paging == Paging::Shadow;
    let mut d = Diagnostic::new(
        ErrorKind::TableAreaFull {
            guest: g.name.clone(),
            needed: full.needed,
            area_base: area.base,
            area_size: area.size,
            board: system.board.name,
            direct: full.direct_bytes != 0,
            pools: full.pools,
            first_is_pool,
        },
        g.spans.header.clone(),
        if first_is_pool {
            format!("its pool ({}) does not fit", format_size(full.guest_bytes))
        } else {
            format!("its tables ({}) do not fit", format_size(full.guest_bytes))
        },
    );
    if full.pools {
        let pools: Vec<String> = system
            .guests
            .iter()
            .filter_map(|g| Some((g, g.pool.filter(|p| p.bytes() != 0)?)))
            .map(|(g, p)| {
                format!(
                    "`{}` {} ({}, {})",
                    g.name,
                    format_size(p.bytes()),
                    plural(p.address_spaces.into(), "address space", "address spaces"),
                    plural(p.page_tables.into(), "page table", "page tables")
                )
            })
            .collect();
        d = d.with_note(format!(
            "the table area holds {}each shadow-paged guest's pool of 16 KiB per address space and 1 KiB per page table: {}",
            if full.direct_bytes == 0 {
                String::new()
            } else {
                format!(
                    "the direct maps' tables first ({}), then, from the next 16 KiB boundary, ",
                    format_size(full.direct_bytes)
                )
            },
            pools.join(", ")
        ));
    }
    if first_is_pool {
        d.with_help(format!(
            "shrink the pools by {} or more in all: lower `address_spaces` or `page_tables` of a shadow-paged guest (each needs 1 address space and the page tables of its boot space, or `address_spaces = 0, page_tables = 0` to run with its MMU off)",
            format_size(full.needed - area.size)
        ))
    } else {
        let srt_direct = system
            .guests
            .iter()
            .any(|g| g.level == Level::Srt && g.paging == Paging::Direct);
        d.with_help(format!(
            "each direct-mapped guest takes a 16 KiB L1 table and a 1 KiB L2 table per MiB holding one of its devices or the MPCore page: declare fewer direct-mapped guests{}",
            if srt_direct {
                ", or give an SRT guest `paging = \"shadow\"` and a small pool (`address_spaces`, 16 KiB each, and `page_tables`, 1 KiB each, in the same area; 64 KiB by default)"
            } else {
                ""
            }
        ))
    }
}

fn finish(d: Draft) -> Option<Guest> {
    Some(Guest {
        name: d.name?.value,
        level: d.level?,
        core: d.core?,
        image: d.image?,
        paging: d.paging?,
        server: d.server,
        fpu: d.fpu,
        memory: d.memory,
        guest_bases: d.guest_bases,
        devices: d.devices.into_iter().map(|(dev, _)| dev).collect(),
        pool: d.pool,
        tasks: d.tasks.clone()?.0,
        scheduler: d.tasks?.1,
        budget_auto: d.budget_auto,
        health: d.health?,
        linux: match (d.linux_declared, d.linux) {
            (true, None) => return None,
            (_, linux) => linux,
        },
        spans: d.spans,
    })
}

/// The description's `[system] name` when it is a valid name (the rules
/// that report it are [`validate`]'s): where its build's files go.
pub fn system_name(raw: &RawFile) -> Option<String> {
    let name = raw.system.as_ref()?.name.as_ref()?;
    checked_name("system", name, &mut Vec::new())
}

fn system_keys(
    raw: &RawFile,
    diags: &mut Vec<Diagnostic>,
) -> (Option<String>, Option<&'static Board>, Option<u64>) {
    let Some(system) = &raw.system else {
        return (None, None, None);
    };
    let name = system
        .name
        .as_ref()
        .and_then(|n| checked_name("system", n, diags));
    let board = system.board.as_ref().and_then(|b| {
        let found = crate::boards::by_name(&b.value);
        if found.is_none() {
            let known = crate::boards::names();
            let suggestion = suggest(&b.value.to_lowercase(), &known);
            diags.push(Diagnostic::new(
                ErrorKind::UnknownBoard {
                    name: b.value.clone(),
                    known,
                    suggestion,
                },
                b.span.clone(),
                "unknown board",
            ));
        }
        found
    });
    let overhead = system
        .switch_overhead
        .as_ref()
        .and_then(|o| Some((time("switch", o, diags)?, o.span.clone())));
    if let (Some((overhead, span)), Some(board)) = (&overhead, board) {
        let figure = board.default_switch_overhead_ns;
        if *overhead < figure {
            diags.push(
                Diagnostic::new(
                    ErrorKind::SwitchOverheadBelowBoard {
                        overhead: *overhead,
                        board_overhead: figure,
                        measured: board.default_switch_overhead_measured,
                        board: board.name,
                    },
                    span.clone(),
                    format!("below the board's {}", format_time(figure)),
                )
                .with_note(format!(
                    "every job of an SRT guest is charged this overhead on top of its budget; board `{}` charges {} by default, from its catalogue: {}",
                    board.name,
                    format_time(figure),
                    board.default_switch_overhead_source
                ))
                .with_help(format!(
                    "remove `switch` to charge the board's figure, or declare {} or more",
                    format_time(figure)
                )),
            );
        }
    }
    (name, board, overhead.map(|(o, _)| o))
}

fn checked_name(
    what: &'static str,
    name: &Located<String>,
    diags: &mut Vec<Diagnostic>,
) -> Option<String> {
    let ok = !name.value.is_empty()
        && name
            .value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Some(name.value.clone())
    } else {
        diags.push(Diagnostic::new(
            ErrorKind::BadName {
                what,
                name: name.value.clone(),
            },
            name.span.clone(),
            "not a valid name",
        ));
        None
    }
}

fn time(key: &'static str, text: &Located<String>, diags: &mut Vec<Diagnostic>) -> Option<u64> {
    match parse_time(&text.value) {
        Ok(ns) => Some(ns),
        Err(error) => {
            diags.push(Diagnostic::new(
                ErrorKind::BadTime {
                    key,
                    text: text.value.clone(),
                    error,
                },
                text.span.clone(),
                "not a time",
            ));
            None
        }
    }
}

fn choice<T: Keyword>(
    key: &'static str,
    text: &Located<String>,
    diags: &mut Vec<Diagnostic>,
) -> Option<T> {
    let choices = T::CHOICES;
    if let Some(i) = choices.iter().position(|c| *c == text.value) {
        return Some(T::ALL[i]);
    }
    let suggestion = suggest(&text.value.to_lowercase(), choices);
    diags.push(Diagnostic::new(
        ErrorKind::BadChoice {
            key,
            value: text.value.clone(),
            choices,
            suggestion,
        },
        text.span.clone(),
        "not a valid choice",
    ));
    None
}

fn guest_keys(g: &RawGuest, board: Option<&'static Board>, diags: &mut Vec<Diagnostic>) -> Draft {
    let name = g
        .name
        .as_ref()
        .and_then(|n| checked_name("guest", n, diags).map(|v| Located::new(v, n.span.clone())));
    let label = name
        .as_ref()
        .map_or_else(|| "?".to_string(), |n| n.value.clone());
    let level = g.level.as_ref().and_then(|l| choice("level", l, diags));
    let core = g.core.as_ref().and_then(|c| match u32::try_from(c.value) {
        Ok(core) => Some(core),
        Err(_) => {
            diags.push(Diagnostic::new(
                ErrorKind::IntegerOutOfRange {
                    key: "core",
                    value: c.value,
                    min: 0,
                    max: u32::MAX.into(),
                },
                c.span.clone(),
                "not a core number",
            ));
            None
        }
    });
    let paging_key = g.paging.as_ref().and_then(|p| choice("paging", p, diags));
    let is_linux = g.linux.is_some();
    let paging = match (level, paging_key) {
        // A Linux guest's own rules speak of its level and paging.
        _ if is_linux => paging_key.or(g.paging.is_none().then_some(Paging::Guest)),
        (Some(Level::Hrt), Some(paging @ (Paging::Shadow | Paging::Guest))) => {
            let span = g.paging.as_ref().map(|p| p.span.clone());
            diags.push(
                Diagnostic::new(
                    ErrorKind::HrtPaging {
                        guest: label.clone(),
                        paging: paging.as_str(),
                    },
                    span,
                    "HRT guests are direct-mapped",
                )
                .with_help("remove `paging` or write `paging = \"direct\"`"),
            );
            None
        }
        (Some(level), None) if g.paging.is_none() => Some(match level {
            Level::Hrt => Paging::Direct,
            Level::Srt => Paging::Shadow,
        }),
        (_, paging) => paging,
    };
    let tasks = tasks(g, &label, diags);
    let server = match level {
        Some(Level::Hrt) => {
            for (key, value) in [
                ("period", &g.period),
                ("budget", &g.budget),
                ("deadline", &g.deadline),
            ] {
                if let Some(v) = value {
                    diags.push(hrt_server_key(&label, key, v.span.clone()));
                }
            }
            if let Some(v) = &g.slack {
                diags.push(hrt_server_key(&label, "slack", v.span.clone()));
            }
            None
        }
        Some(Level::Srt) => {
            let auto = auto_budget(g, &label, tasks.as_ref(), diags);
            server_params(
                g,
                &label,
                g.slack.as_ref().is_none_or(|s| s.value),
                auto,
                diags,
            )
        }
        None => None,
    };
    let (memory, guest_bases) = regions(g, &label, paging, board, diags);
    let devices = devices(g, &label, level, board, diags);
    let pool = pool(g, &label, paging, diags);
    let linux = g.linux.as_ref().and_then(|l| {
        crate::linux::validate(
            l,
            crate::linux::GuestFacts {
                name: &label,
                level,
                paging: g
                    .paging
                    .as_ref()
                    .zip(paging)
                    .map(|(p, v)| Located::new(v, p.span.clone())),
                fpu: g.fpu.as_ref(),
                memory: &memory,
                devices: &devices,
                image: g.image.as_ref(),
            },
            diags,
        )
    });
    let health = health(g, &label, server.as_ref(), diags);
    if g.image.is_none() && g.linux.is_none() {
        diags.push(
            Diagnostic::new(
                ErrorKind::MissingKey {
                    key: "image",
                    table: format!("guest `{label}`"),
                },
                g.span.clone(),
                "`image` is missing here",
            )
            .with_help(
                "name a guest crate under partitions/ or an ELF file, or declare a [guest.linux]",
            ),
        );
    }
    Draft {
        health,
        linux_declared: is_linux,
        linux,
        budget_auto: g.budget.as_ref().is_some_and(|b| b.value == "auto"),
        pool,
        tasks,
        guest_bases,
        level,
        core,
        paging,
        server,
        // A Linux guest has VFP unless it says otherwise (armhf uses it).
        fpu: g.fpu.as_ref().map_or(is_linux, |f| f.value),
        memory,
        devices,
        image: match (&g.image, is_linux) {
            (Some(i), _) => Some(i.value.clone()),
            (None, true) => Some(String::new()),
            (None, false) => None,
        },
        spans: GuestSpans {
            header: g.span.clone(),
            name: g.name.as_ref().map_or(g.span.clone(), |n| n.span.clone()),
            core: g.core.as_ref().map_or(g.span.clone(), |c| c.span.clone()),
            image: g.image.as_ref().map_or(g.span.clone(), |i| i.span.clone()),
            budget: g.budget.as_ref().map(|b| b.span.clone()),
            period: g.period.as_ref().map(|p| p.span.clone()),
            deadline: g.deadline.as_ref().map(|d| d.span.clone()),
        },
        name,
    }
}

/// Restarts a window allows when `max_restarts` is not given.
pub const DEFAULT_MAX_RESTARTS: u32 = 3;
/// The restart window when `restart_window` is not given.
pub const DEFAULT_RESTART_WINDOW_NS: u64 = 10_000_000_000;

/// A guest's health keys (docs/health.md): `on_failure`, `max_restarts`,
/// `restart_window`, `watchdog`; `None` when one was invalid (reported).
fn health(
    g: &RawGuest,
    guest: &str,
    server: Option<&Params>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Health> {
    let mut ok = true;
    let on_failure = match &g.on_failure {
        Some(v) => choice::<OnFailure>("on_failure", v, diags),
        None => Some(OnFailure::Stop),
    };
    ok &= on_failure.is_some();
    let restarting = on_failure == Some(OnFailure::Restart);
    let max = mvm_kernel::health::MAX_RESTARTS;
    let max_restarts = match &g.max_restarts {
        Some(v) if (1..=i128::from(max)).contains(&v.value) => v.value as u32,
        Some(v) => {
            diags.push(Diagnostic::new(
                ErrorKind::IntegerOutOfRange {
                    key: "max_restarts",
                    value: v.value,
                    min: 1,
                    max: max.into(),
                },
                v.span.clone(),
                "not a restart count",
            ));
            ok = false;
            0
        }
        None => DEFAULT_MAX_RESTARTS,
    };
    let zero = |key: &'static str, v: &Located<String>, diags: &mut Vec<Diagnostic>| {
        let value = time(key, v, diags);
        if value == Some(0) {
            diags.push(Diagnostic::new(
                ErrorKind::HealthRule {
                    code: "health-zero-time",
                    message: format!("`{key}` of guest `{guest}` is zero"),
                },
                v.span.clone(),
                "zero",
            ).with_help(match key {
                "watchdog" => "a watchdog of zero expires before the guest's first instruction: give the longest time the guest may go without a HEARTBEAT, or remove `watchdog`",
                _ => "a window of zero counts no restart against `max_restarts`: give the time over which restarts are counted",
            }));
        }
        value.filter(|&t| t != 0)
    };
    let restart_window = match &g.restart_window {
        Some(v) => {
            let t = zero("restart_window", v, diags);
            ok &= t.is_some();
            t.unwrap_or(0)
        }
        None => DEFAULT_RESTART_WINDOW_NS,
    };
    let watchdog = match &g.watchdog {
        Some(v) => {
            let t = zero("watchdog", v, diags);
            ok &= t.is_some();
            t.unwrap_or(0)
        }
        None => 0,
    };
    if on_failure.is_some() && !restarting {
        for (key, span) in [
            (
                "max_restarts",
                g.max_restarts.as_ref().map(|v| v.span.clone()),
            ),
            (
                "restart_window",
                g.restart_window.as_ref().map(|v| v.span.clone()),
            ),
        ] {
            let Some(span) = span else { continue };
            let on_failure = on_failure.map_or("stop", |o| o.as_str());
            diags.push(
                Diagnostic::new(
                    ErrorKind::HealthRule {
                        code: "restart-key-without-restart",
                        message: format!(
                            "`{key}` is set on guest `{guest}`, but its `on_failure` is \"{on_failure}\": it is never restarted"
                        ),
                    },
                    span,
                    "no effect",
                )
                .with_help(format!("write `on_failure = \"restart\"`, or remove `{key}`")),
            );
            ok = false;
        }
    }
    if let (Some(p), Some(v)) = (server, &g.watchdog) {
        let gap = p.period + p.deadline;
        if watchdog != 0 && watchdog < gap {
            diags.push(
                Diagnostic::new(
                    ErrorKind::HealthRule {
                        code: "watchdog-too-short",
                        message: format!(
                            "watchdog {} of SRT guest `{guest}` is shorter than its period plus its deadline ({}): a guest that meets every deadline may run that long apart, and would be judged failed",
                            format_time(watchdog),
                            format_time(gap)
                        ),
                    },
                    v.span.clone(),
                    "too short for its server",
                )
                .with_help(format!(
                    "make `watchdog` at least {} (a HEARTBEAT in every job then keeps it alive)",
                    format_time(gap)
                )),
            );
            ok = false;
        }
    }
    let on_failure = on_failure?;
    ok.then_some(Health {
        on_failure,
        max_restarts: if restarting { max_restarts } else { 0 },
        restart_window_ns: if restarting { restart_window } else { 0 },
        watchdog_ns: watchdog,
    })
}

/// `budget = "auto"`: the smallest budget for the declared period in which
/// the guest's own tasks are schedulable (docs/schedulability.md, "Inside a
/// guest"); `None` (with the problem reported, if any) otherwise.
fn auto_budget(
    g: &RawGuest,
    guest: &str,
    tasks: Option<&(Vec<Task>, TaskScheduler)>,
    diags: &mut Vec<Diagnostic>,
) -> Option<u64> {
    let budget = g.budget.as_ref().filter(|b| b.value == "auto")?;
    let Some((tasks, scheduler)) = tasks.filter(|(t, _)| !t.is_empty()) else {
        if tasks.is_some() {
            diags.push(
                Diagnostic::new(
                    ErrorKind::TaskRule {
                        code: "budget-auto-without-tasks",
                        message: format!(
                            "guest `{guest}` asks for `budget = \"auto\"` but declares no `[[guest.task]]` to size it from"
                        ),
                    },
                    budget.span.clone(),
                    "auto",
                )
                .with_help("declare the guest's tasks, or give its budget as a time"),
            );
        }
        return None;
    };
    // The period is checked (and any problem reported) with the server.
    let period = parse_time(&g.period.as_ref()?.value)
        .ok()
        .filter(|&p| p > 0)?;
    let minimal =
        crate::prm::minimal_budget(&crate::model::prm_tasks(tasks), scheduler.policy(), period);
    if minimal.is_none() {
        diags.push(
            Diagnostic::new(
                ErrorKind::TaskRule {
                    code: "tasks-unschedulable",
                    message: format!(
                        "the tasks of guest `{guest}` do not fit even a budget of its whole period {}",
                        format_time(period)
                    ),
                },
                budget.span.clone(),
                "auto",
            )
            .with_help("lengthen the period, shorten the tasks' wcets, or lengthen their deadlines"),
        );
    }
    minimal
}

/// Each guest's own tasks against what its server (or, for an HRT guest,
/// its core) supplies, under the periodic resource model (`prm`).
fn check_tasks(guests: &[Guest], diags: &mut Vec<Diagnostic>) {
    use crate::prm::{Verdict, Violation};
    for g in guests.iter().filter(|g| !g.tasks.is_empty()) {
        let tasks = crate::model::prm_tasks(&g.tasks);
        let policy = g.scheduler.policy();
        let supply = g.supply();
        let (message, span) = match crate::prm::check(&tasks, policy, supply) {
            Verdict::Schedulable => continue,
            Verdict::Unschedulable(Violation::Edf {
                t,
                demand,
                supply,
                first,
            }) => (
                format!(
                    "the {} tasks of guest `{}` do not fit its supply under EDF: in an interval of {} they may need {} and get only {}{}",
                    g.tasks.len(),
                    g.name,
                    format_time(t),
                    format_time(u64::try_from(demand).unwrap_or(u64::MAX)),
                    format_time(supply),
                    if first {
                        ""
                    } else {
                        " (an overload, not proven to be the first)"
                    }
                ),
                g.spans.budget.clone().unwrap_or(g.spans.header.clone()),
            ),
            Verdict::Unschedulable(Violation::FixedPriority {
                task,
                deadline,
                request,
                supply,
            }) => (
                format!(
                    "task `{}` of guest `{}` misses its deadline {} under fixed priority: by then it and the tasks above it may need {} and the guest gets only {}",
                    g.tasks[task].name,
                    g.name,
                    format_time(deadline),
                    format_time(u64::try_from(request).unwrap_or(u64::MAX)),
                    format_time(supply)
                ),
                g.tasks[task].span.clone(),
            ),
            Verdict::Inconclusive { reason } => (
                format!(
                    "the tasks of guest `{}` could not be proven to fit its supply: {reason}",
                    g.name
                ),
                g.spans.header.clone(),
            ),
        };
        let mut d = Diagnostic::new(
            ErrorKind::TaskRule {
                code: "tasks-unschedulable",
                message,
            },
            span,
            "not enough supply",
        )
        .with_note(
            "supply is the periodic resource model's worst case: the budget given as early as possible in one period and as late as possible in the next (docs/schedulability.md)",
        );
        if let Some(p) = g.server {
            d = match crate::prm::minimal_budget(&tasks, policy, p.period) {
                Some(b) => d.with_help(format!(
                    "a budget of {} or more in its period of {} would do",
                    format_time(b),
                    format_time(p.period)
                )),
                None => d.with_help(format!(
                    "no budget in its period of {} would do: lengthen the period or lighten the tasks",
                    format_time(p.period)
                )),
            };
        }
        diags.push(d);
    }
}

/// The guest's own tasks and scheduler: `None` when one of them is wrong
/// (each problem reported).
fn tasks(
    g: &RawGuest,
    guest: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<(Vec<Task>, TaskScheduler)> {
    let rule = |code: &'static str, message: String, span: Span| {
        Diagnostic::new(ErrorKind::TaskRule { code, message }, span, "here")
    };
    let scheduler = match &g.scheduler {
        None => TaskScheduler::Edf,
        Some(s) => {
            match s.value.as_str() {
                "edf" => TaskScheduler::Edf,
                "fixed-priority" => TaskScheduler::FixedPriority,
                other => {
                    diags.push(
                    rule(
                        "bad-choice",
                        format!("`scheduler` = \"{other}\" is not one of \"edf\", \"fixed-priority\""),
                        s.span.clone(),
                    )
                    .with_note("how the guest schedules its own `[[guest.task]]`s"),
                );
                    return None;
                }
            }
        }
    };
    let raw = g.tasks.as_ref().map_or(&[][..], |t| &t.value[..]);
    if raw.is_empty() {
        if let Some(s) = &g.scheduler {
            diags.push(
                rule(
                    "scheduler-without-tasks",
                    format!("guest `{guest}` declares `scheduler` but no `[[guest.task]]`"),
                    s.span.clone(),
                )
                .with_help("declare the guest's tasks, or remove `scheduler`"),
            );
            return None;
        }
        return Some((Vec::new(), scheduler));
    }
    let mut ok = true;
    let mut out: Vec<Task> = Vec::new();
    for t in raw {
        let (Some(name), Some(period), Some(wcet)) = (&t.name, &t.period, &t.wcet) else {
            ok = false;
            continue;
        };
        let period_ns = time("period", period, diags);
        let wcet_ns = time("wcet", wcet, diags);
        let deadline_ns = match &t.deadline {
            Some(d) => time("deadline", d, diags),
            None => period_ns,
        };
        let (Some(p), Some(c), Some(d)) = (period_ns, wcet_ns, deadline_ns) else {
            ok = false;
            continue;
        };
        let task = format!("task `{}` of guest `{guest}`", name.value);
        if p == 0 || c == 0 || d == 0 {
            diags.push(rule(
                "task-zero-time",
                format!("{task} has a zero period, wcet or deadline"),
                t.span.clone(),
            ));
            ok = false;
            continue;
        }
        if d > p {
            diags.push(
                rule(
                    "task-deadline-exceeds-period",
                    format!(
                        "{task}: its deadline {} is longer than its period {}",
                        format_time(d),
                        format_time(p)
                    ),
                    t.deadline
                        .as_ref()
                        .map_or(t.span.clone(), |x| x.span.clone()),
                )
                .with_note("the analysis covers constrained deadlines (deadline <= period)"),
            );
            ok = false;
        }
        if c > d {
            diags.push(rule(
                "task-wcet-exceeds-deadline",
                format!(
                    "{task}: its wcet {} is longer than its deadline {}: no supply can meet it",
                    format_time(c),
                    format_time(d)
                ),
                wcet.span.clone(),
            ));
            ok = false;
        }
        if out.iter().any(|o| o.name == name.value) {
            diags.push(rule(
                "task-duplicate",
                format!("guest `{guest}` declares task `{}` twice", name.value),
                name.span.clone(),
            ));
            ok = false;
        }
        let priority = match (&t.priority, scheduler) {
            (Some(pr), TaskScheduler::Edf) => {
                diags.push(
                    rule(
                        "task-priority-under-edf",
                        format!("{task} has a `priority`, but guest `{guest}` schedules its tasks by EDF"),
                        pr.span.clone(),
                    )
                    .with_help("add `scheduler = \"fixed-priority\"` to the guest, or remove `priority`"),
                );
                ok = false;
                None
            }
            (Some(pr), TaskScheduler::FixedPriority) => match u32::try_from(pr.value) {
                Ok(v) => Some(v),
                Err(_) => {
                    diags.push(rule(
                        "integer-out-of-range",
                        format!(
                            "`priority` = {} is out of range (allowed: 0 to {})",
                            pr.value,
                            u32::MAX
                        ),
                        pr.span.clone(),
                    ));
                    ok = false;
                    None
                }
            },
            (None, TaskScheduler::FixedPriority) => {
                diags.push(
                    rule(
                        "task-priority-missing",
                        format!("{task} has no `priority`, but guest `{guest}` schedules its tasks by fixed priority"),
                        t.span.clone(),
                    )
                    .with_help("give every task a distinct `priority` (lower is more urgent)"),
                );
                ok = false;
                None
            }
            (None, TaskScheduler::Edf) => None,
        };
        if let (Some(v), Some(pr)) = (priority, &t.priority) {
            if let Some(other) = out.iter().find(|o| o.priority == Some(v)) {
                diags.push(
                    rule(
                        "task-priority-duplicate",
                        format!(
                            "{task} has priority {v}, as task `{}` has: fixed priorities must be distinct",
                            other.name
                        ),
                        pr.span.clone(),
                    )
                    .with_secondary(other.span.clone(), format!("task `{}`", other.name)),
                );
                ok = false;
            }
        }
        out.push(Task {
            name: name.value.clone(),
            period: p,
            wcet: c,
            deadline: d,
            priority,
            span: t.span.clone(),
        });
    }
    ok.then_some((out, scheduler))
}

/// The shadow-paging pool keys: `Some` for a shadow-paged guest.
fn pool(
    g: &RawGuest,
    guest: &str,
    paging: Option<Paging>,
    diags: &mut Vec<Diagnostic>,
) -> Option<ShadowPool> {
    let mut count = |key: &'static str, value: &Option<Located<i128>>, max: u32, default: u32| {
        let Some(v) = value else { return default };
        if let Some(paging @ (Paging::Direct | Paging::Guest)) = paging {
            diags.push(
                Diagnostic::new(
                    ErrorKind::PoolKeyDirect {
                        guest: guest.to_string(),
                        key,
                        paging: paging.as_str(),
                    },
                    v.span.clone(),
                    "only for `paging = \"shadow\"`",
                )
                .with_help(format!("remove `{key}`")),
            );
            return default;
        }
        match u32::try_from(v.value) {
            Ok(n) if n <= max => n,
            _ => {
                diags.push(Diagnostic::new(
                    ErrorKind::IntegerOutOfRange {
                        key,
                        value: v.value,
                        min: 0,
                        max: max.into(),
                    },
                    v.span.clone(),
                    "not a table count",
                ));
                default
            }
        }
    };
    let address_spaces = count(
        "address_spaces",
        &g.address_spaces,
        mvm_kernel::shadow::MAX_SPACES,
        ShadowPool::DEFAULT_SPACES,
    );
    let page_tables = count(
        "page_tables",
        &g.page_tables,
        mvm_kernel::shadow::MAX_PAGE_TABLES,
        ShadowPool::DEFAULT_PAGE_TABLES,
    );
    (paging == Some(Paging::Shadow)).then_some(ShadowPool {
        address_spaces,
        page_tables,
    })
}

fn hrt_server_key(guest: &str, key: &'static str, span: Span) -> Diagnostic {
    Diagnostic::new(
        ErrorKind::HrtServerKey {
            guest: guest.to_string(),
            key,
        },
        span,
        "only for SRT guests",
    )
    .with_help(format!(
        "remove `{key}`, or make the guest `level = \"srt\"`"
    ))
}

fn server_params(
    g: &RawGuest,
    guest: &str,
    slack: bool,
    auto: Option<u64>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Params> {
    let mut missing = false;
    for (key, value) in [("period", &g.period), ("budget", &g.budget)] {
        if value.is_none() {
            missing = true;
            diags.push(
                Diagnostic::new(
                    ErrorKind::SrtMissing {
                        guest: guest.to_string(),
                        key,
                    },
                    g.span.clone(),
                    format!("`{key}` is missing"),
                )
                .with_help(format!("add `{key} = \"…ms\"` to this guest")),
            );
        }
    }
    let period = g.period.as_ref().and_then(|p| time("period", p, diags));
    let budget = match &g.budget {
        Some(b) if b.value == "auto" => auto,
        Some(b) => time("budget", b, diags),
        None => None,
    };
    let deadline = match &g.deadline {
        Some(d) => Some(time("deadline", d, diags)?),
        None => None,
    };
    if missing {
        return None;
    }
    let (period, budget) = (period?, budget?);
    let mut ok = true;
    for (key, value, located) in [
        ("period", period, &g.period),
        ("budget", budget, &g.budget),
        ("deadline", deadline.unwrap_or(1), &g.deadline),
    ] {
        if value == 0 {
            ok = false;
            let span = located.as_ref().map(|l| l.span.clone());
            diags.push(Diagnostic::new(
                ErrorKind::ZeroTime {
                    guest: guest.to_string(),
                    key,
                },
                span,
                "zero",
            ));
        }
    }
    if !ok {
        return None;
    }
    let span =
        |l: &Option<Located<String>>| l.as_ref().map(|l| l.span.clone()).unwrap_or(g.span.clone());
    if let Some(deadline) = deadline {
        if deadline > period {
            ok = false;
            diags.push(
                Diagnostic::new(
                    ErrorKind::DeadlineExceedsPeriod {
                        guest: guest.to_string(),
                        deadline,
                        period,
                    },
                    span(&g.deadline),
                    format!("deadline {}", format_time(deadline)),
                )
                .with_secondary(span(&g.period), format!("period {}", format_time(period))),
            );
        }
    }
    let (limit, limit_key, limit_span) = match deadline {
        Some(d) => (d, "deadline", span(&g.deadline)),
        None => (period, "period", span(&g.period)),
    };
    if budget > limit {
        ok = false;
        diags.push(
            Diagnostic::new(
                ErrorKind::BudgetExceedsDeadline {
                    guest: guest.to_string(),
                    budget,
                    deadline: limit,
                    deadline_key: limit_key,
                },
                span(&g.budget),
                format!("budget {}", format_time(budget)),
            )
            .with_secondary(limit_span, format!("{limit_key} {}", format_time(limit))),
        );
    }
    ok.then_some(Params {
        period,
        budget,
        deadline: deadline.unwrap_or(period),
        slack,
    })
}

fn regions(
    g: &RawGuest,
    guest: &str,
    paging: Option<Paging>,
    board: Option<&'static Board>,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<Region>, Vec<u64>) {
    let Some(memory) = &g.memory else {
        return (Vec::new(), Vec::new());
    };
    if memory.value.is_empty() {
        diags.push(
            Diagnostic::new(ErrorKind::NoMemory { guest: guest.to_string() }, memory.span.clone(), "no regions")
                .with_help("declare at least one region: memory = [ { name = \"ram\", base = 0x…, size = \"16MiB\" } ]"),
        );
    }
    let mut out: Vec<Region> = Vec::new();
    let mut guest_bases: Vec<u64> = Vec::new();
    for r in &memory.value {
        let Some(name) = &r.name else { continue };
        let region = checked_name("region", name, diags);
        if let Some(first) = out.iter().find(|o| o.name == name.value) {
            diags.push(
                Diagnostic::new(
                    ErrorKind::DuplicateRegion {
                        guest: guest.to_string(),
                        region: name.value.clone(),
                    },
                    name.span.clone(),
                    "second region with this name",
                )
                .with_secondary(first.span.clone(), "first defined here"),
            );
        }
        let base = r.base.as_ref().and_then(|b| match u64::try_from(b.value) {
            Ok(v) if v < PHYS_LIMIT => Some(v),
            _ => {
                diags.push(Diagnostic::new(
                    ErrorKind::IntegerOutOfRange {
                        key: "base",
                        value: b.value,
                        min: 0,
                        max: PHYS_LIMIT - 1,
                    },
                    b.span.clone(),
                    "outside the 32-bit physical address space",
                ));
                None
            }
        });
        let size = r.size.as_ref().and_then(|s| size(s, diags));
        let (Some(region), Some(base), Some(size)) = (region, base, size) else {
            continue;
        };
        let guest_base = match &r.guest_base {
            None => Some(base),
            Some(b) => match u64::try_from(b.value) {
                Ok(v) if v < PHYS_LIMIT => Some(v),
                _ => {
                    diags.push(Diagnostic::new(
                        ErrorKind::IntegerOutOfRange {
                            key: "guest_base",
                            value: b.value,
                            min: 0,
                            max: PHYS_LIMIT - 1,
                        },
                        b.span.clone(),
                        "outside the 32-bit address space",
                    ));
                    None
                }
            },
        };
        let Some(guest_base) = guest_base else {
            continue;
        };
        let region = Region {
            name: region,
            base,
            size,
            span: r.span.clone(),
        };
        let gb_span = r.guest_base.as_ref().map(|b| b.span.clone());
        if !check_guest_base(&region, guest_base, guest, paging, gb_span, diags) {
            continue;
        }
        if check_region(&region, guest, paging, board, diags) {
            if let Some((o, &o_base)) = out
                .iter()
                .zip(&guest_bases)
                .find(|(o, &o_base)| guest_base < o_base + o.size && o_base < guest_base + size)
            {
                diags.push(
                    Diagnostic::new(
                        ErrorKind::GuestBaseOverlap {
                            guest: guest.to_string(),
                            region: region.name.clone(),
                            guest_base,
                            size,
                            other_region: o.name.clone(),
                            other_guest_base: o_base,
                            other_size: o.size,
                        },
                        region.span.clone(),
                        "guest-physical ranges overlap",
                    )
                    .with_secondary(o.span.clone(), "the other region"),
                );
                continue;
            }
            out.push(region);
            guest_bases.push(guest_base);
        }
    }
    (out, guest_bases)
}

/// The rules about `guest_base`; `true` when it passed.
fn check_guest_base(
    r: &Region,
    guest_base: u64,
    guest: &str,
    paging: Option<Paging>,
    span: Option<Span>,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let Some(span) = span else { return true };
    match paging {
        Some(paging @ (Paging::Direct | Paging::Guest)) if guest_base != r.base => {
            diags.push(
                Diagnostic::new(
                    ErrorKind::GuestBaseDirect {
                        guest: guest.to_string(),
                        region: r.name.clone(),
                        base: r.base,
                        guest_base,
                        paging: paging.as_str(),
                    },
                    span,
                    "only shadow paging moves a region in guest-physical space",
                )
                .with_help("remove `guest_base`, or use `paging = \"shadow\"` (SRT guests)"),
            );
            false
        }
        Some(Paging::Shadow)
            if !guest_base.is_multiple_of(granule(Paging::Shadow))
                || guest_base + r.size > PHYS_LIMIT =>
        {
            diags.push(Diagnostic::new(
                ErrorKind::GuestBaseInvalid {
                    guest: guest.to_string(),
                    region: r.name.clone(),
                    guest_base,
                    size: r.size,
                },
                span,
                "not a valid guest-physical range",
            ));
            false
        }
        _ => true,
    }
}

pub(crate) fn size(s: &Located<RawSize>, diags: &mut Vec<Diagnostic>) -> Option<u64> {
    let bytes = match &s.value {
        RawSize::Bytes(n) => u64::try_from(*n)
            .ok()
            .filter(|n| *n <= PHYS_LIMIT)
            .ok_or_else(|| {
                Diagnostic::new(
                    ErrorKind::IntegerOutOfRange {
                        key: "size",
                        value: *n,
                        min: 0,
                        max: PHYS_LIMIT,
                    },
                    s.span.clone(),
                    "not a size",
                )
            }),
        RawSize::Text(text) => parse_size(text).map_err(|error| {
            Diagnostic::new(
                ErrorKind::BadSize {
                    text: text.clone(),
                    error,
                },
                s.span.clone(),
                "not a size",
            )
        }),
    };
    bytes.map_err(|d| diags.push(d)).ok()
}

/// The rules about one region alone; `true` when it passed, so that only
/// sound regions take part in the overlap check.
fn check_region(
    r: &Region,
    guest: &str,
    paging: Option<Paging>,
    board: Option<&Board>,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let (base, size) = (r.base, r.size);
    let mut ok = true;
    if size == 0 {
        diags.push(Diagnostic::new(
            ErrorKind::EmptyRegion {
                guest: guest.to_string(),
                region: r.name.clone(),
            },
            r.span.clone(),
            "size zero",
        ));
        return false;
    }
    if let Some(board) = board {
        let ram = board.ram;
        if !ram.contains_range(base, size) {
            ok = false;
            diags.push(Diagnostic::new(
                ErrorKind::RegionOutsideRam {
                    guest: guest.to_string(),
                    region: r.name.clone(),
                    base,
                    size,
                    ram_base: ram.base,
                    ram_size: ram.size,
                    board: board.name,
                },
                r.span.clone(),
                format!("{} is outside RAM", format_range(base, size)),
            ));
        } else if board.guest_exclusion().overlaps(base, size) {
            ok = false;
            let m = board.guest_exclusion();
            let mut d = Diagnostic::new(
                ErrorKind::RegionInMonitor {
                    guest: guest.to_string(),
                    region: r.name.clone(),
                    base,
                    size,
                    reserved_base: m.base,
                    reserved_size: m.size,
                },
                r.span.clone(),
                "overlaps the monitor",
            )
            .with_help(format!(
                "guest memory starts at {} on this board",
                crate::units::hex(m.end())
            ));
            if board.trustzone_granule != 0 {
                d = d.with_note(format!(
                    "the board makes RAM Secure in blocks of {}, so the monitor's {} reservation takes its whole block",
                    format_size(board.trustzone_granule),
                    format_size(board.monitor_reservation.size)
                ));
            }
            let t = board.table_area;
            if t.size != 0 && !board.monitor_reservation.contains_range(t.base, t.size) {
                d = d.with_note(format!(
                    "the direct-mapped guests' translation tables live in {}, Non-secure RAM no guest may cover",
                    format_range(t.base, t.size)
                ));
            }
            diags.push(d);
        }
    }
    if let Some(paging) = paging {
        let align = granule(paging);
        if base % align != 0 || size % align != 0 {
            ok = false;
            diags.push(Diagnostic::new(
                ErrorKind::RegionMisaligned {
                    guest: guest.to_string(),
                    region: r.name.clone(),
                    base,
                    size,
                    align,
                    paging: paging.as_str(),
                },
                r.span.clone(),
                format!("needs {} alignment", format_size(align)),
            ));
        }
    }
    ok
}

fn devices(
    g: &RawGuest,
    guest: &str,
    level: Option<Level>,
    board: Option<&'static Board>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<(GuestDevice, Span)> {
    let Some(list) = &g.devices else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in &list.value {
        let name = &entry.name;
        // The setting's own checks first: they hold whatever the device.
        let priority = entry
            .priority
            .as_ref()
            .and_then(|p| match u8::try_from(p.value) {
                Ok(v) if v <= Interrupt::MAX_PRIORITY => Some(v),
                _ => {
                    diags.push(
                        Diagnostic::new(
                            ErrorKind::IntegerOutOfRange {
                                key: "priority",
                                value: p.value,
                                min: 0,
                                max: Interrupt::MAX_PRIORITY.into(),
                            },
                            p.span.clone(),
                            "not a priority level",
                        )
                        .with_note("0 is the most urgent level, 14 the least; the default is 8"),
                    );
                    None
                }
            });
        let trigger = entry
            .trigger
            .as_ref()
            .and_then(|t| choice::<Trigger>("trigger", t, diags));
        if let (Some(Level::Hrt), Some(Trigger::Edge), Some(t)) = (level, trigger, &entry.trigger) {
            diags.push(
                Diagnostic::new(
                    ErrorKind::HrtEdgeTrigger {
                        guest: guest.to_string(),
                        device: name.value.clone(),
                    },
                    t.span.clone(),
                    "edge-triggered",
                )
                .with_note(
                    "a Non-secure read of GICC_IAR never returns a Group 0 line, and only that acknowledge clears an edge-triggered line",
                )
                .with_help("remove `trigger` (HRT lines are level-sensitive) or make the guest SRT"),
            );
        }
        let Some(board) = board else { continue };
        match board.device(&name.value) {
            None => {
                let names: Vec<&'static str> = board
                    .devices
                    .iter()
                    .filter(|d| d.owner == Owner::Guest)
                    .map(|d| d.name)
                    .collect();
                let suggestion = suggest(&name.value, &names);
                diags.push(
                    Diagnostic::new(
                        ErrorKind::UnknownDevice {
                            guest: guest.to_string(),
                            device: name.value.clone(),
                            board: board.name,
                            suggestion,
                        },
                        name.span.clone(),
                        "unknown device",
                    )
                    .with_note(format!(
                        "the devices of `{}` that guests may own: {}",
                        board.name,
                        names.join(", ")
                    )),
                );
            }
            Some(d) if d.owner == Owner::Monitor => diags.push(
                Diagnostic::new(
                    ErrorKind::MonitorDevice {
                        guest: guest.to_string(),
                        device: name.value.clone(),
                    },
                    name.span.clone(),
                    "the monitor's",
                )
                .with_note(format!("`{}` is the {}", d.name, d.model)),
            ),
            Some(d) => {
                if d.interrupts.is_empty() {
                    for (key, span) in [
                        ("priority", entry.priority.as_ref().map(|p| &p.span)),
                        ("trigger", entry.trigger.as_ref().map(|t| &t.span)),
                    ] {
                        let Some(span) = span else { continue };
                        diags.push(
                            Diagnostic::new(
                                ErrorKind::InterruptKeyNoLines {
                                    guest: guest.to_string(),
                                    device: name.value.clone(),
                                    key,
                                },
                                span.clone(),
                                "no line to apply it to",
                            )
                            .with_help(format!("remove `{key}`, or check the device's name")),
                        );
                    }
                }
                out.push((
                    GuestDevice {
                        device: d,
                        priority: priority.unwrap_or(Interrupt::DEFAULT_PRIORITY),
                        trigger: trigger.unwrap_or(Trigger::Level),
                    },
                    name.span.clone(),
                ));
            }
        }
    }
    out
}

fn unique_names(drafts: &[Draft], diags: &mut Vec<Diagnostic>) {
    for (i, d) in drafts.iter().enumerate() {
        let Some(name) = &d.name else { continue };
        if let Some(first) = drafts[..i]
            .iter()
            .filter_map(|o| o.name.as_ref())
            .find(|o| o.value == name.value)
        {
            diags.push(
                Diagnostic::new(
                    ErrorKind::DuplicateGuest {
                        name: name.value.clone(),
                    },
                    name.span.clone(),
                    "second guest with this name",
                )
                .with_secondary(first.span.clone(), "first defined here"),
            );
        }
    }
}

fn core_placement(drafts: &[Draft], board: &'static Board, diags: &mut Vec<Diagnostic>) {
    let name = |d: &Draft| {
        d.name
            .as_ref()
            .map_or_else(|| "?".to_string(), |n| n.value.clone())
    };
    for d in drafts {
        if let Some(core) = d.core {
            if core >= board.cores {
                diags.push(Diagnostic::new(
                    ErrorKind::CoreOutOfRange {
                        guest: name(d),
                        core: core.into(),
                        cores: board.cores,
                        board: board.name,
                    },
                    d.spans.core.clone(),
                    "no such core",
                ));
            }
        }
    }
    for (i, hrt) in drafts.iter().enumerate() {
        let (Some(Level::Hrt), Some(core)) = (hrt.level, hrt.core) else {
            continue;
        };
        if core >= board.cores {
            continue;
        }
        for (j, other) in drafts.iter().enumerate() {
            // Two HRT guests on one core: report the pair once.
            if j == i || other.core != Some(core) || (other.level == Some(Level::Hrt) && j < i) {
                continue;
            }
            diags.push(
                Diagnostic::new(
                    ErrorKind::HrtCoreShared {
                        hrt: name(hrt),
                        other: name(other),
                        core,
                    },
                    other.spans.core.clone(),
                    format!("`{}` is placed on core {core} here", name(other)),
                )
                .with_secondary(
                    hrt.spans.core.clone(),
                    format!("HRT guest `{}` owns core {core}", name(hrt)),
                )
                .with_help("move one of them to another core"),
            );
        }
    }
}

fn memory_layout(drafts: &[Draft], _board: &'static Board, diags: &mut Vec<Diagnostic>) {
    let name = |d: &Draft| {
        d.name
            .as_ref()
            .map_or_else(|| "?".to_string(), |n| n.value.clone())
    };
    let all: Vec<(String, &Region)> = drafts
        .iter()
        .flat_map(|d| d.memory.iter().map(move |r| (name(d), r)))
        .collect();
    for (i, (guest, r)) in all.iter().enumerate() {
        let range = PhysRange::new(r.base, r.size);
        if let Some((other_guest, o)) = all[..i]
            .iter()
            .find(|(_, o)| range.overlaps(o.base, o.size))
        {
            diags.push(
                Diagnostic::new(
                    ErrorKind::RegionOverlap {
                        guest: guest.clone(),
                        region: r.name.clone(),
                        base: r.base,
                        size: r.size,
                        other_guest: other_guest.clone(),
                        other_region: o.name.clone(),
                        other_base: o.base,
                        other_size: o.size,
                    },
                    r.span.clone(),
                    format_range(r.base, r.size).to_string(),
                )
                .with_secondary(
                    o.span.clone(),
                    format!(
                        "overlaps {} of `{other_guest}`",
                        format_range(o.base, o.size)
                    ),
                ),
            );
        }
    }
}

fn unique_devices(drafts: &[Draft], diags: &mut Vec<Diagnostic>) {
    let name = |d: &Draft| {
        d.name
            .as_ref()
            .map_or_else(|| "?".to_string(), |n| n.value.clone())
    };
    let all: Vec<(String, &'static Device, &Span)> = drafts
        .iter()
        .flat_map(|d| {
            d.devices
                .iter()
                .map(move |(dev, span)| (name(d), dev.device, span))
        })
        .collect();
    for (i, (guest, dev, span)) in all.iter().enumerate() {
        if let Some((other, _, other_span)) = all[..i].iter().find(|(_, o, _)| o.name == dev.name) {
            diags.push(
                Diagnostic::new(
                    ErrorKind::DeviceTaken {
                        guest: guest.clone(),
                        device: dev.name.to_string(),
                        other_guest: other.clone(),
                    },
                    (*span).clone(),
                    "given again here",
                )
                .with_secondary((*other_span).clone(), format!("first given to `{other}`")),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUEST: &str = r#"
[system]
name = "t"
board = "qemu-vexpress-a9"
[[guest]]
name = "a"
level = "srt"
core = 1
image = "x"
period = "10ms"
budget = "1ms"
memory = [ { name = "ram", base = 0x7000_0000, size = "16MiB" } ]
"#;

    fn guest_devices(devices: &str, board: &'static Board) -> (Vec<GuestDevice>, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let raw = crate::raw::read(&format!("{GUEST}devices = {devices}\n"), &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        let out = devices_of(&raw.guests[0], board, &mut diags);
        (out, diags)
    }

    fn devices_of(
        g: &RawGuest,
        board: &'static Board,
        diags: &mut Vec<Diagnostic>,
    ) -> Vec<GuestDevice> {
        devices(g, "a", Some(Level::Srt), Some(board), diags)
            .into_iter()
            .map(|(d, _)| d)
            .collect()
    }

    #[test]
    fn a_device_takes_its_lines_setting_or_the_defaults() {
        let board = &board_qemu_vexpress::BOARD;
        let (devices, diags) = guest_devices(
            r#"["uart2", { name = "timer1", priority = 0, trigger = "edge" }]"#,
            board,
        );
        assert!(diags.is_empty(), "{diags:?}");
        let settings: Vec<_> = devices
            .iter()
            .map(|d| (d.device.name, d.priority, d.trigger))
            .collect();
        assert_eq!(
            settings,
            [
                ("uart2", Interrupt::DEFAULT_PRIORITY, Trigger::Level),
                ("timer1", 0, Trigger::Edge)
            ]
        );
    }

    #[test]
    fn a_setting_on_a_device_without_lines_is_refused() {
        // No guest device of today's boards lacks a line: a board with one.
        let mut catalogue = board_qemu_vexpress::BOARD.devices.to_vec();
        catalogue.push(Device {
            name: "sram",
            model: "on-chip memory",
            regs: PhysRange::new(0x1002_0000, 0x1000),
            interrupts: &[],
            owner: Owner::Guest,
            device_tree: None,
        });
        let board: &'static Board = Box::leak(Box::new(Board {
            devices: Box::leak(catalogue.into_boxed_slice()),
            ..board_qemu_vexpress::BOARD
        }));
        let (devices, diags) = guest_devices(
            r#"[{ name = "sram", priority = 3, trigger = "level" }]"#,
            board,
        );
        assert_eq!(devices.len(), 1);
        let found: Vec<_> = diags.iter().map(|d| (d.code(), d.message())).collect();
        assert_eq!(
            found,
            [
                (
                    "interrupt-key-no-lines",
                    "`priority` is set on device `sram` of guest `a`, but the device has no interrupt lines".to_string()
                ),
                (
                    "interrupt-key-no-lines",
                    "`trigger` is set on device `sram` of guest `a`, but the device has no interrupt lines".to_string()
                ),
            ]
        );
        assert!(diags.iter().all(Diagnostic::is_error));
        let (_, diags) = guest_devices(r#"["sram"]"#, board);
        assert!(diags.is_empty(), "a plain name asks for nothing");
    }
}
