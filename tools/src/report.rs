//! `cargo mvm report`: what the system is and how each core's time is used.
//!
//! - Text for people, JSON for tools, SVG for a picture of the schedule.
//! - The timeline is not drawn from the analysis but *run*: each shared
//!   core's servers are released together at 0 and scheduled by the
//!   kernel's own EDF policy (`mvm_kernel::edf`), every job using its whole
//!   budget, so the picture shows what the monitor will do in its worst
//!   case. Slack (idle time beyond budgets) is drawn lighter.
//! - Deterministic: the same description gives the same bytes.
//! - With `--trace FILE` (written by `cargo mvm run --trace`), each shared
//!   core's traced run is drawn below its analysed schedule, on the same
//!   window and scale, from the core's first traced release: what the
//!   monitor did beside what the analysis says it may do.

use std::path::PathBuf;
use std::process::ExitCode;

use mvm_config::model::{keyword, Keyword, Level, System, Trigger};
use mvm_config::summary::Summary;
use mvm_config::units::{format_ppm, format_range, format_time, noun, plural};
use mvm_kernel::config::CorePlan;
use mvm_kernel::edf::{Edf, Mode, Params};
use serde::Serialize;

use crate::check::{load, Loaded};
use crate::trace::Traced;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Svg,
}

/// The most servers the timeline simulation takes on one core.
const MAX_SERVERS: usize = 512;
/// The longest window the timeline shows.
const MAX_WINDOW_NS: u64 = 1_000_000_000;

#[derive(Serialize)]
struct Report {
    #[serde(flatten)]
    summary: Summary,
    description_sha256: String,
    guests: Vec<GuestReport>,
    timelines: Vec<Timeline>,
    /// Each guest with tasks of its own: its supply and its tasks' demand.
    curves: Vec<Curves>,
    /// The trace file given with `--trace`.
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_file: Option<String>,
    /// Each shared core's traced run (`--trace`), from its first release.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    traced: Vec<Traced>,
}

/// A guest's worst-case supply (the periodic resource model's sbf, or the
/// whole core) and its tasks' demand (EDF: dbf; fixed priority: the
/// request of its least urgent task), sampled over `window_ns`
/// (docs/schedulability.md, "Inside a guest").
#[derive(Serialize)]
struct Curves {
    guest: String,
    /// What the demand curve is.
    demand_of: String,
    window_ns: u64,
    /// (t, supply, demand), in ns.
    points: Vec<(u64, u64, u64)>,
}

/// Points sampled per curve.
const CURVE_POINTS: u64 = 400;

fn curves(g: &mvm_config::model::Guest) -> Option<Curves> {
    use mvm_config::model::TaskScheduler;
    use mvm_config::prm;
    if g.tasks.is_empty() {
        return None;
    }
    let tasks = mvm_config::model::prm_tasks(&g.tasks);
    let supply = g.supply();
    let blackout = g.server.map_or(0, |p| 2 * (p.period - p.budget));
    let longest = g.tasks.iter().map(|t| t.deadline.max(t.period)).max()?;
    let window = (2 * longest + blackout).clamp(1, MAX_WINDOW_NS);
    let (demand_of, least_urgent) = match g.scheduler {
        TaskScheduler::Edf => ("EDF demand (dbf) of all its tasks".to_string(), None),
        TaskScheduler::FixedPriority => {
            let i = (0..tasks.len()).max_by_key(|&i| (tasks[i].priority, i))?;
            (
                format!(
                    "request (rbf) of its least urgent task `{}`",
                    g.tasks[i].name
                ),
                Some(i),
            )
        }
    };
    let points = (0..=CURVE_POINTS)
        .map(|k| {
            let t = window * k / CURVE_POINTS;
            let demand = match least_urgent {
                None => prm::edf_demand(&tasks, t),
                Some(i) => prm::fp_request(&tasks, i, t),
            };
            (
                t,
                prm::sbf(supply, t),
                u64::try_from(demand).unwrap_or(u64::MAX),
            )
        })
        .collect();
    Some(Curves {
        guest: g.name.clone(),
        demand_of,
        window_ns: window,
        points,
    })
}

#[derive(Serialize)]
struct GuestReport {
    name: String,
    #[serde(serialize_with = "keyword")]
    level: Level,
    core: u32,
    image: String,
    #[serde(serialize_with = "keyword")]
    paging: mvm_config::model::Paging,
    /// Bytes of build-time translation tables (direct map), else 0.
    table_bytes: u64,
    /// Bytes of a shadow-paged guest's pool of tables, else 0.
    pool_bytes: u64,
    slack: bool,
    fpu: bool,
    memory: Vec<RegionReport>,
    devices: Vec<DeviceReport>,
}

#[derive(Serialize)]
struct RegionReport {
    name: String,
    base: u64,
    size: u64,
}

#[derive(Serialize)]
struct DeviceReport {
    name: &'static str,
    model: &'static str,
    base: u64,
    size: u64,
    interrupts: Vec<u32>,
    /// Its lines' urgency, 0 (most urgent) to 14.
    priority: u8,
    #[serde(serialize_with = "keyword")]
    trigger: Trigger,
}

/// One shared core's schedule from the synchronous release.
#[derive(Serialize)]
struct Timeline {
    core: u32,
    window_ns: u64,
    guests: Vec<String>,
    /// Each guest's period and relative deadline, for the release and
    /// deadline marks.
    periods: Vec<(u64, u64)>,
    slices: Vec<Slice>,
}

#[derive(Serialize)]
struct Slice {
    /// Index into the timeline's `guests`.
    guest: usize,
    start_ns: u64,
    end_ns: u64,
    slack: bool,
}

pub fn run(
    system: Option<PathBuf>,
    format: ReportFormat,
    output: Option<PathBuf>,
    trace: Option<PathBuf>,
) -> ExitCode {
    let Loaded { path, system } = match load(system) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut report = build(&system, &text);
    if let Some(file) = trace {
        let json = match std::fs::read_to_string(&file) {
            Ok(j) => j,
            Err(e) => {
                eprintln!("error: cannot read trace `{}`: {e}", file.display());
                return ExitCode::from(crate::EXIT_CANNOT_RUN);
            }
        };
        let windows: Vec<(u32, u64)> = report
            .timelines
            .iter()
            .map(|t| (t.core, t.window_ns))
            .collect();
        match crate::trace::read(&system, &json, &windows) {
            Ok(traced) => report.traced = traced,
            Err(e) => {
                eprintln!("error: trace `{}`: {e}", file.display());
                return ExitCode::from(1);
            }
        }
        report.trace_file = Some(file.display().to_string());
    }
    let rendered = match format {
        ReportFormat::Text => to_text(&report, &system),
        ReportFormat::Json => {
            serde_json::to_string_pretty(&report).expect("JSON of plain data") + "\n"
        }
        ReportFormat::Svg => to_svg(&report),
    };
    match output {
        Some(file) => {
            if let Err(e) = std::fs::write(&file, rendered) {
                eprintln!("error: cannot write `{}`: {e}", file.display());
                return ExitCode::from(crate::EXIT_CANNOT_RUN);
            }
        }
        None => print!("{rendered}"),
    }
    ExitCode::SUCCESS
}

fn build(system: &System, text: &str) -> Report {
    let tables = mvm_config::directmap::layout(system)
        .expect("validation rejects a system whose tables do not fit");
    let guests = system
        .guests
        .iter()
        .zip(&tables)
        .map(|(g, t)| GuestReport {
            table_bytes: t.as_ref().map_or(0, |t| t.table_bytes()),
            pool_bytes: g.pool.map_or(0, |p| p.bytes()),
            name: g.name.clone(),
            level: g.level,
            core: g.core,
            image: g.image.clone(),
            paging: g.paging,
            slack: g.slack(),
            fpu: g.fpu,
            memory: g
                .memory
                .iter()
                .map(|r| RegionReport {
                    name: r.name.clone(),
                    base: r.base,
                    size: r.size,
                })
                .collect(),
            devices: g
                .devices
                .iter()
                .map(|d| DeviceReport {
                    name: d.device.name,
                    model: d.device.model,
                    base: d.device.regs.base,
                    size: d.device.regs.size,
                    interrupts: d.device.interrupts.to_vec(),
                    priority: d.priority,
                    trigger: d.trigger,
                })
                .collect(),
        })
        .collect();
    let timelines = system
        .cores
        .iter()
        .enumerate()
        .filter_map(|(core, c)| match &c.plan {
            CorePlan::Edf { guests } => Some(timeline(system, core as u32, guests)),
            _ => None,
        })
        .collect();
    Report {
        summary: Summary::new(system),
        description_sha256: mvm_config::description_hash(text),
        guests,
        timelines,
        curves: system.guests.iter().filter_map(curves).collect(),
        trace_file: None,
        traced: Vec::new(),
    }
}

/// Runs the kernel's EDF policy over one core from the synchronous release.
fn timeline(system: &System, core: u32, members: &[u32]) -> Timeline {
    let params: Vec<Params> = members
        .iter()
        .map(|&g| {
            system.guests[g as usize]
                .server
                .expect("an EDF core runs SRT guests")
        })
        .collect();
    let longest = params.iter().map(|p| p.period).max().unwrap_or(1);
    let window = longest.saturating_mul(2).min(MAX_WINDOW_NS);
    let mut slices: Vec<Slice> = Vec::new();
    if params.len() <= MAX_SERVERS {
        let mut edf: Box<Edf<MAX_SERVERS>> = Box::new(Edf::new(&params, 0));
        let mut now = 0;
        while now < window {
            let d = edf.schedule(now);
            let end = d.until.min(window);
            if let Some((i, mode)) = d.run {
                let slack = mode == Mode::Slack;
                match slices.last_mut() {
                    Some(last) if last.guest == i && last.end_ns == now && last.slack == slack => {
                        last.end_ns = end
                    }
                    _ => slices.push(Slice {
                        guest: i,
                        start_ns: now,
                        end_ns: end,
                        slack,
                    }),
                }
            }
            now = end;
        }
    }
    Timeline {
        core,
        window_ns: window,
        periods: params.iter().map(|p| (p.period, p.deadline)).collect(),
        guests: members
            .iter()
            .map(|&g| system.guests[g as usize].name.clone())
            .collect(),
        slices,
    }
}

fn to_text(report: &Report, system: &System) -> String {
    let mut out = Summary::new(system).to_text();
    out.push_str(&format!(
        "  description sha256 {}\n\nguests:\n",
        report.description_sha256
    ));
    for g in &report.guests {
        out.push_str(&format!(
            "  {} ({}, core {}, {} paging{}{}{}): image `{}`\n",
            g.name,
            g.level.as_str(),
            g.core,
            g.paging.as_str(),
            if g.table_bytes != 0 {
                format!(
                    ", {} of tables",
                    mvm_config::units::format_size(g.table_bytes)
                )
            } else if g.pool_bytes != 0 {
                format!(
                    ", {} pool of tables",
                    mvm_config::units::format_size(g.pool_bytes)
                )
            } else {
                String::new()
            },
            if g.level == Level::Srt {
                if g.slack {
                    ", takes slack"
                } else {
                    ", no slack"
                }
            } else {
                ""
            },
            if g.fpu { ", VFP" } else { "" },
            g.image
        ));
        for r in &g.memory {
            out.push_str(&format!(
                "    memory {:<12} {}\n",
                r.name,
                format_range(r.base, r.size)
            ));
        }
        for d in &g.devices {
            let irqs: Vec<String> = d.interrupts.iter().map(u32::to_string).collect();
            out.push_str(&format!(
                "    device {:<12} {} {} {} {}\n",
                d.name,
                format_range(d.base, d.size),
                d.model,
                noun(irqs.len() as u64, "interrupt", "interrupts"),
                if irqs.is_empty() {
                    "none".into()
                } else {
                    format!(
                        "{} (priority {}, {})",
                        irqs.join(", "),
                        d.priority,
                        d.trigger.as_str()
                    )
                }
            ));
        }
    }
    for t in &report.timelines {
        out.push_str(&format!(
            "\ncore {} over the first {} from the synchronous release:\n",
            t.core,
            format_time(t.window_ns)
        ));
        for (i, name) in t.guests.iter().enumerate() {
            let busy: u64 = t
                .slices
                .iter()
                .filter(|s| s.guest == i && !s.slack)
                .map(|s| s.end_ns - s.start_ns)
                .sum();
            let slack: u64 = t
                .slices
                .iter()
                .filter(|s| s.guest == i && s.slack)
                .map(|s| s.end_ns - s.start_ns)
                .sum();
            out.push_str(&format!(
                "  {:<16} budget time {:>10} ({})  slack {:>10}\n",
                name,
                format_time(busy),
                // Floored to a millionth, so `format_ppm` rounds the exact
                // share to the nearest hundredth of a percent.
                format_ppm(busy * 1_000_000 / t.window_ns.max(1)),
                format_time(slack)
            ));
        }
    }
    for t in &report.traced {
        out.push_str(&format!(
            "\ncore {} as traced in `{}` (first release at {} since boot{}):\n",
            t.core,
            report.trace_file.as_deref().unwrap_or_default(),
            format_time(t.origin_ns),
            if t.dropped == 0 {
                String::new()
            } else {
                format!(
                    "; {} dropped, so the counts stop where the monitor's record did",
                    plural(t.dropped, "event", "events")
                )
            }
        ));
        for g in &t.totals {
            out.push_str(&format!(
                "  {:<16} {} released, {}, {}\n",
                g.guest,
                plural(g.jobs, "job", "jobs"),
                plural(g.runs, "run", "runs"),
                plural(g.misses, "deadline miss", "deadline misses")
            ));
        }
    }
    out
}

/// Colours for the guests of a core, by position.
const PALETTE: &[&str] = &[
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f",
];

/// Where the timeline's rows start (their labels go left of it), how wide
/// they are and how tall a row is, in px.
const LEFT: f64 = 140.0;
const WIDTH: f64 = 900.0;
const ROW: f64 = 22.0;

fn to_svg(report: &Report) -> String {
    use svg::node::element::{Line, Rectangle, Text as SvgText, Title};
    use svg::Document;

    let mut doc = Document::new();
    let mut y = 30.0;
    doc = doc.add(
        SvgText::new(format!(
            "system `{}` on {}: EDF from the synchronous release, every job using its whole budget (light: slack){}",
            report.summary.system,
            report.summary.board,
            if report.traced.is_empty() {
                ""
            } else {
                "; below, the run traced (red triangle: a deadline miss)"
            }
        ))
        .set("x", 10)
        .set("y", 18)
        .set("font-family", "sans-serif")
        .set("font-size", 13),
    );
    for core in &report.summary.cores {
        y += 10.0;
        doc = doc.add(label(
            format!("core {} ({})", core.core, core.mode),
            10.0,
            y + 14.0,
            true,
        ));
        y += ROW;
        let Some(t) = report.timelines.iter().find(|t| t.core == core.core) else {
            let text = core.guests.first().map_or("idle".to_string(), |g| {
                format!("{}: the whole core", g.name)
            });
            doc = doc.add(
                Rectangle::new()
                    .set("x", LEFT)
                    .set("y", y)
                    .set("width", WIDTH)
                    .set("height", ROW - 6.0)
                    .set(
                        "fill",
                        if core.guests.is_empty() {
                            "#dddddd"
                        } else {
                            PALETTE[0]
                        },
                    ),
            );
            doc = doc.add(label(text, 10.0, y + 12.0, false));
            y += ROW;
            continue;
        };
        let scale = WIDTH / t.window_ns.max(1) as f64;
        for (i, name) in t.guests.iter().enumerate() {
            doc = doc.add(label(name.clone(), 10.0, y + 12.0, false));
            doc = doc.add(
                Line::new()
                    .set("x1", LEFT)
                    .set("x2", LEFT + WIDTH)
                    .set("y1", y + ROW - 6.0)
                    .set("y2", y + ROW - 6.0)
                    .set("stroke", "#999999"),
            );
            // Releases (grey, below the row) and deadlines (red, across
            // it) of every job in the window.
            let (period, deadline) = t.periods[i];
            let mut release = 0u64;
            while release < t.window_ns && period > 0 {
                let x = LEFT + release as f64 * scale;
                doc = doc.add(
                    Line::new()
                        .set("class", "release")
                        .set("x1", x)
                        .set("x2", x)
                        .set("y1", y + ROW - 6.0)
                        .set("y2", y + ROW - 2.0)
                        .set("stroke", "#555555"),
                );
                let due = release + deadline;
                if due <= t.window_ns {
                    let x = LEFT + due as f64 * scale;
                    doc = doc.add(
                        Line::new()
                            .set("class", "deadline")
                            .set("x1", x)
                            .set("x2", x)
                            .set("y1", y - 2.0)
                            .set("y2", y + ROW - 4.0)
                            .set("stroke", "#cc0000")
                            .set("stroke-width", 0.8)
                            .add(Title::new(format!(
                                "{name}: deadline of the job released at {}",
                                format_time(release)
                            ))),
                    );
                }
                release += period;
            }
            for s in t.slices.iter().filter(|s| s.guest == i) {
                let title = format!(
                    "{} {} from {} to {}",
                    name,
                    if s.slack { "in slack" } else { "on budget" },
                    format_time(s.start_ns),
                    format_time(s.end_ns)
                );
                doc = doc.add(
                    Rectangle::new()
                        .set("x", LEFT + s.start_ns as f64 * scale)
                        .set("y", y)
                        .set("width", ((s.end_ns - s.start_ns) as f64 * scale).max(0.5))
                        .set("height", ROW - 6.0)
                        .set(
                            "fill",
                            if s.slack {
                                lighten(PALETTE[i % PALETTE.len()])
                            } else {
                                PALETTE[i % PALETTE.len()].to_string()
                            },
                        )
                        .add(Title::new(title)),
                );
            }
            y += ROW;
        }
        if let Some(traced) = report.traced.iter().find(|r| r.core == t.core) {
            let file = report.trace_file.as_deref().unwrap_or_default();
            y = traced_rows(&mut doc, t, traced, file, y, scale);
        }
        // The time axis: a tick and its time at every `step`.
        let step = axis_step(t.window_ns);
        doc = doc.add(
            Line::new()
                .set("x1", LEFT)
                .set("x2", LEFT + WIDTH)
                .set("y1", y)
                .set("y2", y)
                .set("stroke", "#000000"),
        );
        let mut at = 0u64;
        while at <= t.window_ns {
            let x = LEFT + at as f64 * scale;
            doc = doc.add(
                Line::new()
                    .set("class", "tick")
                    .set("x1", x)
                    .set("x2", x)
                    .set("y1", y)
                    .set("y2", y + 4.0)
                    .set("stroke", "#000000"),
            );
            doc = doc.add(
                SvgText::new(format_time(at))
                    .set("x", x)
                    .set("y", y + 15.0)
                    .set("text-anchor", "middle")
                    .set("font-family", "sans-serif")
                    .set("font-size", 10),
            );
            at += step;
        }
        y += ROW;
    }
    for c in &report.curves {
        y = curve_chart(&mut doc, c, y, LEFT, WIDTH);
    }
    if !report.summary.channels.is_empty() {
        y += 10.0;
        doc = doc.add(label("channels".to_string(), 10.0, y + 14.0, true));
        y += ROW;
        for c in &report.summary.channels {
            let how = match (c.notify_line, c.notify_bound_ns) {
                (Some(line), Some(bound)) => {
                    format!("notified on line {line} within {}", format_time(bound))
                }
                (Some(line), None) => format!("notified on line {line}"),
                _ => "polled".to_string(),
            };
            doc = doc.add(
                label(
                    format!(
                        "{}: {} \u{2192} {}, {} at {:#x}, {how}",
                        c.name,
                        c.writer,
                        c.reader,
                        mvm_config::units::format_size(c.size),
                        c.base
                    ),
                    10.0,
                    y + 12.0,
                    false,
                )
                .set("class", "channel"),
            );
            y += ROW;
        }
    }
    doc = doc.set(
        "viewBox",
        (0, 0, (LEFT + WIDTH + 20.0) as u32, (y + 10.0) as u32),
    );
    doc.to_string() + "\n"
}

/// Draws a core's traced run from `y` down, one row per guest of its
/// timeline `t`, in the same colours and on the same `scale`; returns the
/// next free `y`.
fn traced_rows(
    doc: &mut svg::Document,
    t: &Timeline,
    traced: &Traced,
    file: &str,
    y: f64,
    scale: f64,
) -> f64 {
    use svg::node::element::{Line, Polygon, Rectangle, Title};
    let mut y = y + 6.0;
    let mut d = std::mem::replace(doc, svg::Document::new()).add(
        label(
            format!(
                "traced run (`{file}`), from the core's first traced release at {} since boot",
                format_time(traced.origin_ns)
            ),
            LEFT,
            y + 12.0,
            true,
        )
        .set("class", "traced-label"),
    );
    y += ROW - 4.0;
    let x = |ns: u64| LEFT + ns as f64 * scale;
    for (i, name) in t.guests.iter().enumerate() {
        d = d
            .add(label(format!("{name} (traced)"), 10.0, y + 12.0, false))
            .add(
                Line::new()
                    .set("x1", LEFT)
                    .set("x2", LEFT + WIDTH)
                    .set("y1", y + ROW - 6.0)
                    .set("y2", y + ROW - 6.0)
                    .set("stroke", "#999999"),
            );
        for r in traced.releases.iter().filter(|r| r.guest == i) {
            d = d.add(
                Line::new()
                    .set("class", "traced-release")
                    .set("x1", x(r.at_ns))
                    .set("x2", x(r.at_ns))
                    .set("y1", y + ROW - 6.0)
                    .set("y2", y + ROW - 2.0)
                    .set("stroke", "#555555")
                    .add(Title::new(format!(
                        "{name}: a job released at {}",
                        format_time(r.at_ns)
                    ))),
            );
        }
        let colour = PALETTE[i % PALETTE.len()];
        for r in traced.runs.iter().filter(|r| r.guest == i) {
            d = d.add(
                Rectangle::new()
                    .set("class", "traced-run")
                    .set("data-guest", name.as_str())
                    .set("x", x(r.start_ns))
                    .set("y", y)
                    .set("width", ((r.end_ns - r.start_ns) as f64 * scale).max(0.5))
                    .set("height", ROW - 6.0)
                    .set(
                        "fill",
                        if r.slack {
                            lighten(colour)
                        } else {
                            colour.to_string()
                        },
                    )
                    .add(Title::new(format!(
                        "{name} ran {} from {} to {} (traced)",
                        if r.slack { "in slack" } else { "on budget" },
                        format_time(r.start_ns),
                        format_time(r.end_ns)
                    ))),
            );
        }
        // A miss: a red triangle pointing down at the instant the monitor
        // saw it, above the row so no run hides it.
        for m in traced.misses.iter().filter(|m| m.guest == i) {
            let at = x(m.at_ns);
            d = d.add(
                Polygon::new()
                    .set("class", "traced-miss")
                    .set(
                        "points",
                        format!(
                            "{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
                            at - 4.0,
                            y - 4.0,
                            at + 4.0,
                            y - 4.0,
                            at,
                            y + 4.0
                        ),
                    )
                    .set("fill", "#cc0000")
                    .add(Title::new(format!(
                        "{name} missed a deadline at {} (traced)",
                        format_time(m.at_ns)
                    ))),
            );
        }
        y += ROW;
    }
    *doc = d;
    y
}

/// Draws one guest's supply and demand curves below `y`; returns the next
/// free `y`.
fn curve_chart(doc: &mut svg::Document, c: &Curves, y: f64, left: f64, width: f64) -> f64 {
    use svg::node::element::{Line, Polyline};
    const HEIGHT: f64 = 160.0;
    let mut y = y + 10.0;
    let top = c
        .points
        .iter()
        .map(|p| p.1.max(p.2))
        .max()
        .unwrap_or(1)
        .max(1);
    let mut d = std::mem::replace(doc, svg::Document::new()).add(label(
        format!(
            "`{}`: supply (worst case, green) and {} (red), 0 … {}",
            c.guest,
            c.demand_of,
            format_time(c.window_ns)
        ),
        10.0,
        y + 14.0,
        true,
    ));
    y += 22.0;
    let x = |t: u64| left + t as f64 * width / c.window_ns.max(1) as f64;
    let h = |v: u64| y + HEIGHT - v as f64 * HEIGHT / top as f64;
    let line = |select: fn(&(u64, u64, u64)) -> u64, colour: &str| {
        Polyline::new()
            .set(
                "points",
                c.points
                    .iter()
                    .map(|p| format!("{:.1},{:.1}", x(p.0), h(select(p))))
                    .collect::<Vec<_>>()
                    .join(" "),
            )
            .set("fill", "none")
            .set("stroke", colour)
            .set("stroke-width", 1.5)
    };
    d = d
        .add(
            Line::new()
                .set("x1", left)
                .set("x2", left + width)
                .set("y1", y + HEIGHT)
                .set("y2", y + HEIGHT)
                .set("stroke", "#999999"),
        )
        .add(line(|p| p.1, "#2a9d5c"))
        .add(line(|p| p.2, "#d1495b"))
        .add(label(format_time(top), 10.0, y + 10.0, false));
    *doc = d;
    y + HEIGHT + 20.0
}

/// The colour a third of the way from `hex` to white: slack is drawn in it.
/// A tick spacing for a time axis over `window` ns: 1, 2 or 5 times a
/// power of ten, giving 5 to 12 ticks.
fn axis_step(window: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for m in [1, 2, 5] {
            let s = step.saturating_mul(m);
            if window / s <= 12 {
                return s.max(1);
            }
        }
        step = step.saturating_mul(10);
    }
}

fn lighten(hex: &str) -> String {
    let channel =
        |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).expect("palette colours are #rrggbb");
    let mix = |c: u8| 255 - (255 - u16::from(c)) / 3;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(channel(1)),
        mix(channel(3)),
        mix(channel(5))
    )
}

fn label(text: String, x: f64, y: f64, bold: bool) -> svg::node::element::Text {
    svg::node::element::Text::new(text)
        .set("x", x)
        .set("y", y)
        .set("font-family", "sans-serif")
        .set("font-size", 12)
        .set("font-weight", if bold { "bold" } else { "normal" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{TracedMark, TracedRun, TracedTotals};

    /// A traced run goes below its core's analysed rows, in the guest's
    /// colour, with a mark at each miss.
    #[test]
    fn a_traced_run_is_drawn_with_its_misses() {
        let text = include_str!("../../partitions/system.toml");
        let system = mvm_config::check(text).system.unwrap();
        let mut report = build(&system, text);
        let untraced = to_svg(&report);
        report.trace_file = Some("t.json".into());
        report.traced = vec![Traced {
            core: 1,
            origin_ns: 1_000,
            window_ns: 40_000_000,
            runs: vec![TracedRun {
                guest: 1,
                start_ns: 0,
                end_ns: 25_000_000,
                slack: false,
            }],
            releases: vec![TracedMark { guest: 1, at_ns: 0 }],
            misses: vec![TracedMark {
                guest: 1,
                at_ns: 20_000_000,
            }],
            totals: ["telemetry", "logger"]
                .map(|g| TracedTotals {
                    guest: g.into(),
                    jobs: 1,
                    runs: 1,
                    misses: 1,
                })
                .into(),
            dropped: 3,
        }];
        let svg = to_svg(&report);
        assert!(!untraced.contains("traced"));
        let run = svg
            .split("<rect ")
            .find(|r| r.contains("class=\"traced-run\""))
            .expect("the traced run");
        assert!(
            run.contains(&format!("fill=\"{}\"", PALETTE[1])) && run.contains("width=\"562.5\""),
            "logger's colour, 25 of 40 ms of 900 px: {run}"
        );
        assert!(
            svg.contains("<title>logger missed a deadline at 20ms (traced)</title>"),
            "{svg}"
        );
        assert_eq!(svg.matches("class=\"traced-miss\"").count(), 1);
        assert!(svg.contains("telemetry (traced)") && svg.contains("logger (traced)"));
        let text = to_text(&report, &system);
        assert!(
            text.contains("core 1 as traced in `t.json` (first release at 1us since boot; 3 events dropped, so the counts stop where the monitor's record did):\n  telemetry        1 job released, 1 run, 1 deadline miss\n"),
            "{text}"
        );
    }

    #[test]
    fn the_time_axis_has_five_to_twelve_round_ticks() {
        for window in [1u64, 7, 40_000_000, 50_000_000, 2_000_000_000, 123_456_789] {
            let step = axis_step(window);
            let ticks = window / step;
            assert!((1..=12).contains(&ticks) || window < 5, "{window}: {step}");
            let lead = step / 10u64.pow(step.ilog10());
            assert!([1, 2, 5].contains(&lead), "{step}");
        }
        assert_eq!(axis_step(40_000_000), 5_000_000);
    }
}
