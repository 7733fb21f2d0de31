//! Diagnostics: typed findings with their place in the TOML, rendered
//! rustc-style for people and as JSON for tools.
//!
//! - Every finding is an [`ErrorKind`] with a stable code (`unknown-key`,
//!   `hrt-core-shared`, …); the message is derived from its data, never
//!   written ad hoc at the place that found it.
//! - The kind also fixes the [`Severity`]: an error rejects the description,
//!   a warning is reported and the description is still accepted.
//! - Every finding carries the byte span of the TOML it is about, so it can
//!   point at the line; other parties to the finding (the other guest, the
//!   first definition) are secondary labels.
//! - Rendering uses `annotate-snippets`, the renderer rustc and cargo use,
//!   so the output reads like the compiler's.

use core::fmt;
use core::ops::Range;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use serde::Serialize;

use crate::units::{format_ppm, format_range, format_size, format_time, plural, UnitError};

/// A byte range in the source text.
pub type Span = Range<usize>;

/// How grave a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The description is rejected.
    Error,
    /// The description is accepted, but probably not what was meant.
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// The rule codes reported through [`ErrorKind::LinuxRule`] that only
/// warn: the description is still accepted.
pub const WARNING_CODES: &[&str] = &["linux-without-fpu", "paging-guest-unconfined"];

/// Everything that can be wrong with a system description (every kind an
/// error but those [`ErrorKind::severity`] names as warnings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The file is not valid TOML.
    Syntax { message: String },
    /// A key the schema does not have.
    UnknownKey {
        key: String,
        table: String,
        suggestion: Option<&'static str>,
    },
    /// A required key is absent.
    MissingKey { key: &'static str, table: String },
    /// A value of the wrong TOML type.
    WrongType {
        key: String,
        expected: &'static str,
        found: &'static str,
    },
    /// A name with characters outside `[a-z0-9_-]`, or empty.
    BadName { what: &'static str, name: String },
    /// A time such as `period` that does not parse.
    BadTime {
        key: &'static str,
        text: String,
        error: UnitError,
    },
    /// A size that does not parse.
    BadSize { text: String, error: UnitError },
    /// An integer out of the range the key accepts.
    IntegerOutOfRange {
        key: &'static str,
        value: i128,
        min: u64,
        max: u64,
    },
    /// A value not among the choices of a key (`level`, `paging`).
    BadChoice {
        key: &'static str,
        value: String,
        choices: &'static [&'static str],
        suggestion: Option<&'static str>,
    },
    /// `board` names no known board.
    UnknownBoard {
        name: String,
        known: Vec<&'static str>,
        suggestion: Option<&'static str>,
    },
    /// No `[[guest]]` at all.
    NoGuests,
    /// Two guests with one name.
    DuplicateGuest { name: String },
    /// A core the board does not have.
    CoreOutOfRange {
        guest: String,
        core: u64,
        cores: u32,
        board: &'static str,
    },
    /// Another guest on an HRT guest's core.
    HrtCoreShared {
        hrt: String,
        other: String,
        core: u32,
    },
    /// An HRT guest asked for shadow paging.
    HrtPaging { guest: String, paging: &'static str },
    /// `period`, `budget`, `deadline` or `slack` on an HRT guest.
    HrtServerKey { guest: String, key: &'static str },
    /// An SRT guest without `period` or `budget`.
    SrtMissing { guest: String, key: &'static str },
    /// A period, budget or deadline of zero.
    ZeroTime { guest: String, key: &'static str },
    /// `budget` larger than `deadline` (or than `period` when there is no deadline).
    BudgetExceedsDeadline {
        guest: String,
        budget: u64,
        deadline: u64,
        deadline_key: &'static str,
    },
    /// `deadline` larger than `period`.
    DeadlineExceedsPeriod {
        guest: String,
        deadline: u64,
        period: u64,
    },
    /// A guest with no memory region.
    NoMemory { guest: String },
    /// Two regions of one guest with the same name.
    DuplicateRegion { guest: String, region: String },
    /// A region of size zero.
    EmptyRegion { guest: String, region: String },
    /// A region not inside the board's RAM.
    RegionOutsideRam {
        guest: String,
        region: String,
        base: u64,
        size: u64,
        ram_base: u64,
        ram_size: u64,
        board: &'static str,
    },
    /// A region overlapping the monitor's reservation.
    RegionInMonitor {
        guest: String,
        region: String,
        base: u64,
        size: u64,
        reserved_base: u64,
        reserved_size: u64,
    },
    /// Two regions overlapping each other.
    RegionOverlap {
        guest: String,
        region: String,
        base: u64,
        size: u64,
        other_guest: String,
        other_region: String,
        other_base: u64,
        other_size: u64,
    },
    /// A region whose base or size is not a multiple of the paging granule.
    RegionMisaligned {
        guest: String,
        region: String,
        base: u64,
        size: u64,
        align: u64,
        paging: &'static str,
    },
    /// A device the board does not have.
    UnknownDevice {
        guest: String,
        device: String,
        board: &'static str,
        suggestion: Option<&'static str>,
    },
    /// A device the monitor keeps.
    MonitorDevice { guest: String, device: String },
    /// A device given to two guests (or listed twice by one).
    DeviceTaken {
        guest: String,
        device: String,
        other_guest: String,
    },
    /// `priority` or `trigger` on a device without interrupt lines.
    InterruptKeyNoLines {
        guest: String,
        device: String,
        key: &'static str,
    },
    /// `trigger = "edge"` on a device of an HRT guest.
    HrtEdgeTrigger { guest: String, device: String },
    /// EDF on one core cannot meet every deadline.
    Unschedulable(Box<Unschedulable>),
    /// The exact test gave up within its bound (treated as a rejection).
    AnalysisInconclusive { core: u32, reason: String },
    /// The direct-mapped guests' translation tables and the shadow-paged
    /// guests' pools do not fit in the board's table area.
    TableAreaFull {
        guest: String,
        needed: u64,
        area_base: u64,
        area_size: u64,
        board: &'static str,
        /// Whether direct-mapped guests' tables take part.
        direct: bool,
        /// Whether shadow-paged guests' pools take part.
        pools: bool,
        /// Whether it is `guest`'s pool (it is shadow-paged), not its
        /// direct map, that is the first not to fit.
        first_is_pool: bool,
    },
    /// `guest_base` different from `base` on a direct-mapped guest.
    GuestBaseDirect {
        guest: String,
        region: String,
        base: u64,
        guest_base: u64,
        paging: &'static str,
    },
    /// `guest_base` not 4 KiB aligned, or its range past 4 GiB.
    GuestBaseInvalid {
        guest: String,
        region: String,
        guest_base: u64,
        size: u64,
    },
    /// Two regions of one guest overlapping in guest-physical addresses.
    GuestBaseOverlap {
        guest: String,
        region: String,
        guest_base: u64,
        size: u64,
        other_region: String,
        other_guest_base: u64,
        other_size: u64,
    },
    /// `address_spaces` or `page_tables` on a direct-mapped guest.
    PoolKeyDirect {
        guest: String,
        key: &'static str,
        paging: &'static str,
    },
    /// A rule about a guest's own tasks (`[[guest.task]]`, `scheduler`):
    /// its code and its message.
    TaskRule { code: &'static str, message: String },
    /// A rule about a guest's health keys (`on_failure`, `max_restarts`,
    /// `restart_window`, `watchdog`): its code and its message.
    HealthRule { code: &'static str, message: String },
    /// A rule about a channel (`[[channel]]`, `[system] channel_area`):
    /// its code and its message.
    ChannelRule { code: &'static str, message: String },
    /// A rule about a Linux guest (`[guest.linux]`, `paging = "guest"`):
    /// its code and its message; the codes in [`WARNING_CODES`] warn.
    LinuxRule { code: &'static str, message: String },
    /// A shadow-paged guest's pool cannot hold its boot space.
    PoolTooSmall {
        guest: String,
        needed: u64,
        page_tables: u32,
        address_spaces: u32,
    },
    /// A warning: `[system.overhead] switch` below the board's own figure,
    /// so the analysis charges jobs less than a switch costs.
    SwitchOverheadBelowBoard {
        overhead: u64,
        board_overhead: u64,
        /// Whether the board's figure was measured, not estimated.
        measured: bool,
        board: &'static str,
    },
}

/// The evidence of a failed schedulability test on one core.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unschedulable {
    pub core: u32,
    /// Each guest on the core with its utilization (budget plus overhead over
    /// period), in millionths.
    pub guests: Vec<(String, u64)>,
    pub total_ppm: u64,
    /// Whether the exact utilization test or the demand test decided.
    pub test: crate::sched::Test,
    /// The first time at which demand exceeds the time available.
    pub t: u64,
    pub demand: u128,
    /// False when `t` is a violation but not proven to be the first.
    pub first: bool,
    pub overhead: u64,
}

impl ErrorKind {
    /// A stable identifier, for tests, tools and the reference docs.
    pub fn code(&self) -> &'static str {
        match self {
            ErrorKind::Syntax { .. } => "syntax",
            ErrorKind::UnknownKey { .. } => "unknown-key",
            ErrorKind::MissingKey { .. } => "missing-key",
            ErrorKind::WrongType { .. } => "wrong-type",
            ErrorKind::BadName { .. } => "bad-name",
            ErrorKind::BadTime { .. } => "bad-time",
            ErrorKind::BadSize { .. } => "bad-size",
            ErrorKind::IntegerOutOfRange { .. } => "integer-out-of-range",
            ErrorKind::BadChoice { .. } => "bad-choice",
            ErrorKind::UnknownBoard { .. } => "unknown-board",
            ErrorKind::NoGuests => "no-guests",
            ErrorKind::DuplicateGuest { .. } => "duplicate-guest",
            ErrorKind::CoreOutOfRange { .. } => "core-out-of-range",
            ErrorKind::HrtCoreShared { .. } => "hrt-core-shared",
            ErrorKind::HrtPaging { .. } => "hrt-paging",
            ErrorKind::HrtServerKey { .. } => "hrt-server-key",
            ErrorKind::SrtMissing { .. } => "srt-missing",
            ErrorKind::ZeroTime { .. } => "zero-time",
            ErrorKind::BudgetExceedsDeadline { .. } => "budget-exceeds-deadline",
            ErrorKind::DeadlineExceedsPeriod { .. } => "deadline-exceeds-period",
            ErrorKind::NoMemory { .. } => "no-memory",
            ErrorKind::DuplicateRegion { .. } => "duplicate-region",
            ErrorKind::EmptyRegion { .. } => "empty-region",
            ErrorKind::RegionOutsideRam { .. } => "region-outside-ram",
            ErrorKind::RegionInMonitor { .. } => "region-in-monitor",
            ErrorKind::RegionOverlap { .. } => "region-overlap",
            ErrorKind::RegionMisaligned { .. } => "region-misaligned",
            ErrorKind::UnknownDevice { .. } => "unknown-device",
            ErrorKind::MonitorDevice { .. } => "monitor-device",
            ErrorKind::DeviceTaken { .. } => "device-taken",
            ErrorKind::Unschedulable(_) => "unschedulable",
            ErrorKind::AnalysisInconclusive { .. } => "analysis-inconclusive",
            ErrorKind::TableAreaFull { .. } => "table-area-full",
            ErrorKind::GuestBaseDirect { .. } => "guest-base-direct",
            ErrorKind::GuestBaseInvalid { .. } => "guest-base-invalid",
            ErrorKind::GuestBaseOverlap { .. } => "guest-base-overlap",
            ErrorKind::PoolKeyDirect { .. } => "pool-key-direct",
            ErrorKind::TaskRule { code, .. } => code,
            ErrorKind::HealthRule { code, .. } => code,
            ErrorKind::LinuxRule { code, .. } => code,
            ErrorKind::ChannelRule { code, .. } => code,
            ErrorKind::InterruptKeyNoLines { .. } => "interrupt-key-no-lines",
            ErrorKind::HrtEdgeTrigger { .. } => "hrt-edge-trigger",
            ErrorKind::PoolTooSmall { .. } => "pool-too-small",
            ErrorKind::SwitchOverheadBelowBoard { .. } => "switch-overhead-below-board",
        }
    }

    /// Whether the finding rejects the description.
    pub fn severity(&self) -> Severity {
        match self {
            ErrorKind::SwitchOverheadBelowBoard { .. } => Severity::Warning,
            ErrorKind::LinuxRule { code, .. } if WARNING_CODES.contains(code) => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

fn hint(suggestion: &Option<&'static str>) -> String {
    suggestion
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Syntax { message } => write!(f, "invalid TOML: {message}"),
            ErrorKind::UnknownKey { key, table, suggestion } => {
                write!(f, "unknown key `{key}` in {table}{}", hint(suggestion))
            }
            ErrorKind::MissingKey { key, table } => write!(f, "{table} has no `{key}`, which is required"),
            ErrorKind::WrongType { key, expected, found } => {
                write!(f, "`{key}` must be {expected}, found {found}")
            }
            ErrorKind::BadName { what, name } => write!(
                f,
                "{what} name `{name}` is not valid: use lowercase letters, digits, `_` and `-`"
            ),
            ErrorKind::BadTime { key, text, error } => write!(
                f,
                "`{key}` = \"{text}\" is not a time: {error} (write a whole number and one of ns, us, ms, s, e.g. \"10ms\")"
            ),
            ErrorKind::BadSize { text, error } => write!(
                f,
                "size \"{text}\" is not valid: {error} (write bytes as an integer, or a whole number and one of B, KiB, MiB, GiB)"
            ),
            ErrorKind::IntegerOutOfRange { key, value, min, max } => {
                write!(f, "`{key}` = {value} is out of range (allowed: {min} to {max})")
            }
            ErrorKind::BadChoice { key, value, choices, suggestion } => {
                let choices: Vec<String> = choices.iter().map(|c| format!("\"{c}\"")).collect();
                write!(f, "`{key}` = \"{value}\" is not one of {}{}", choices.join(", "), hint(suggestion))
            }
            ErrorKind::UnknownBoard { name, known, suggestion } => write!(
                f,
                "unknown board `{name}` (known boards: {}){}",
                known.join(", "),
                hint(suggestion)
            ),
            ErrorKind::NoGuests => write!(f, "the system has no guests: add at least one [[guest]] table"),
            ErrorKind::DuplicateGuest { name } => write!(f, "two guests are named `{name}`; guest names must be unique"),
            ErrorKind::CoreOutOfRange { guest, core, cores, board } => write!(
                f,
                "guest `{guest}` is placed on core {core}, but board `{board}` has {}",
                match cores {
                    1 => "only core 0".to_string(),
                    n => format!("cores 0 to {}", n.saturating_sub(1)),
                }
            ),
            ErrorKind::HrtCoreShared { hrt, other, core } => write!(
                f,
                "HRT guest `{hrt}` must own core {core}, but guest `{other}` is also placed on it"
            ),
            ErrorKind::HrtPaging { guest, paging } => write!(
                f,
                "HRT guest `{guest}` must use direct paging; {paging} paging is for SRT guests"
            ),
            ErrorKind::HrtServerKey { guest, key } => write!(
                f,
                "`{key}` is set on HRT guest `{guest}`, but only SRT guests are EDF servers (an HRT guest owns its core)"
            ),
            ErrorKind::SrtMissing { guest, key } => {
                write!(f, "SRT guest `{guest}` has no `{key}`; every SRT guest needs a period and a budget")
            }
            ErrorKind::ZeroTime { guest, key } => write!(f, "`{key}` of guest `{guest}` is zero; it must be positive"),
            ErrorKind::BudgetExceedsDeadline { guest, budget, deadline, deadline_key } => write!(
                f,
                "guest `{guest}` has budget {} larger than its {deadline_key} {}; the rule is budget <= deadline <= period",
                format_time(*budget),
                format_time(*deadline)
            ),
            ErrorKind::DeadlineExceedsPeriod { guest, deadline, period } => write!(
                f,
                "guest `{guest}` has deadline {} larger than its period {}; the rule is budget <= deadline <= period",
                format_time(*deadline),
                format_time(*period)
            ),
            ErrorKind::NoMemory { guest } => write!(f, "guest `{guest}` has no memory region"),
            ErrorKind::DuplicateRegion { guest, region } => {
                write!(f, "guest `{guest}` has two regions named `{region}`")
            }
            ErrorKind::EmptyRegion { guest, region } => {
                write!(f, "region `{region}` of guest `{guest}` has size zero")
            }
            ErrorKind::RegionOutsideRam { guest, region, base, size, ram_base, ram_size, board } => write!(
                f,
                "region `{region}` of guest `{guest}` at {} is not inside the RAM of board `{board}` {}",
                format_range(*base, *size),
                format_range(*ram_base, *ram_size)
            ),
            ErrorKind::RegionInMonitor { guest, region, base, size, reserved_base, reserved_size } => write!(
                f,
                "region `{region}` of guest `{guest}` at {} overlaps the monitor's reservation {}",
                format_range(*base, *size),
                format_range(*reserved_base, *reserved_size)
            ),
            ErrorKind::RegionOverlap { guest, region, base, size, other_guest, other_region, other_base, other_size } => {
                write!(
                    f,
                    "region `{region}` of guest `{guest}` at {} overlaps region `{other_region}` of guest `{other_guest}` at {}",
                    format_range(*base, *size),
                    format_range(*other_base, *other_size)
                )
            }
            ErrorKind::RegionMisaligned {
                guest,
                region,
                base,
                size,
                align,
                paging,
            } => {
                let method = if *paging == "direct" {
                    "direct-mapped"
                } else {
                    "shadow-paged"
                };
                write!(
                    f,
                    "region `{region}` of guest `{guest}` at {} is not aligned to {}: {method} regions need base and size multiples of {}",
                    format_range(*base, *size),
                    format_size(*align),
                    format_size(*align)
                )
            }
            ErrorKind::UnknownDevice { guest, device, board, suggestion } => write!(
                f,
                "guest `{guest}` asks for device `{device}`, which board `{board}` does not have{}",
                hint(suggestion)
            ),
            ErrorKind::MonitorDevice { guest, device } => write!(
                f,
                "guest `{guest}` asks for device `{device}`, which the monitor keeps for itself"
            ),
            ErrorKind::DeviceTaken { guest, device, other_guest } if guest == other_guest => {
                write!(f, "guest `{guest}` lists device `{device}` twice")
            }
            ErrorKind::DeviceTaken { guest, device, other_guest } => write!(
                f,
                "device `{device}` is passed through to both `{other_guest}` and `{guest}`; a device goes to one guest"
            ),
            ErrorKind::Unschedulable(u) => {
                let guests: Vec<String> =
                    u.guests.iter().map(|(name, ppm)| format!("`{name}` {}", format_ppm(*ppm))).collect();
                write!(
                    f,
                    "core {} is not schedulable under EDF: {} (total utilization {}); demand {} exceeds the {} available at t = {}{}",
                    u.core,
                    guests.join(", "),
                    format_ppm(u.total_ppm),
                    format_time(u64::try_from(u.demand).unwrap_or(u64::MAX)),
                    format_time(u.t),
                    format_time(u.t),
                    if u.first { "" } else { " (a violation, not proven to be the first)" }
                )
            }
            ErrorKind::TableAreaFull { guest, needed, area_base, area_size, board, direct, pools, first_is_pool } => write!(
                f,
                "{} need {} ({}), more than the table area {} of board `{board}`; {}guest `{guest}` is the first that does not fit",
                match (direct, pools) {
                    (true, true) => "the translation tables of the direct-mapped guests and the shadow-paged guests' pools",
                    (false, true) => "the shadow-paged guests' pools",
                    _ => "the translation tables of the direct-mapped guests",
                },
                format_size(*needed),
                plural(*needed, "byte", "bytes"),
                format_range(*area_base, *area_size),
                if *first_is_pool { "the pool of " } else { "" }
            ),
            ErrorKind::GuestBaseDirect { guest, region, base, guest_base, paging } => write!(
                f,
                "region `{region}` of guest `{guest}` has `guest_base = {}` but the guest uses {paging} paging (guest-physical = physical), so it must equal `base = {}`",
                crate::units::hex(*guest_base),
                crate::units::hex(*base)
            ),
            ErrorKind::GuestBaseInvalid { guest, region, guest_base, size } => write!(
                f,
                "region `{region}` of guest `{guest}`: guest-physical range {} must be 4 KiB aligned and end at or below 4 GiB",
                format_range(*guest_base, *size)
            ),
            ErrorKind::GuestBaseOverlap { guest, region, guest_base, size, other_region, other_guest_base, other_size } => write!(
                f,
                "region `{region}` of guest `{guest}` at guest-physical {} overlaps its region `{other_region}` at guest-physical {}",
                format_range(*guest_base, *size),
                format_range(*other_guest_base, *other_size)
            ),
            ErrorKind::InterruptKeyNoLines { guest, device, key } => write!(
                f,
                "`{key}` is set on device `{device}` of guest `{guest}`, but the device has no interrupt lines"
            ),
            ErrorKind::HrtEdgeTrigger { guest, device } => write!(
                f,
                "device `{device}` of HRT guest `{guest}` is declared edge-triggered, but an HRT guest's lines are delivered as FIQ without a GIC acknowledge, so nothing could clear an edge-triggered line's pending state"
            ),
            ErrorKind::TaskRule { message, .. }
            | ErrorKind::HealthRule { message, .. }
            | ErrorKind::LinuxRule { message, .. }
            | ErrorKind::ChannelRule { message, .. } => {
                f.write_str(message)
            }
            ErrorKind::PoolKeyDirect { guest, key, paging } => write!(
                f,
                "`{key}` sizes a shadow-paging pool, but guest `{guest}` uses {paging} paging"
            ),
            ErrorKind::PoolTooSmall { guest, needed, page_tables, address_spaces } => write!(
                f,
                "the boot space of guest `{guest}` (its memory and devices, mapped by the monitor before its first instruction) needs 1 address space and {}; its pool has {} and {}",
                plural(*needed, "page table", "page tables"),
                plural((*address_spaces).into(), "address space", "address spaces"),
                plural((*page_tables).into(), "page table", "page tables")
            ),
            ErrorKind::SwitchOverheadBelowBoard { overhead, board_overhead, measured, board } => write!(
                f,
                "switch overhead {} is below the {} {} for board `{board}`: the analysis may accept systems that miss deadlines",
                format_time(*overhead),
                format_time(*board_overhead),
                if *measured { "measured" } else { "estimated" }
            ),
            ErrorKind::AnalysisInconclusive { core, reason } => write!(
                f,
                "the exact schedulability test for core {core} did not finish: {reason}; the system is rejected because it could not be proven schedulable"
            ),
        }
    }
}

/// One finding: what, where, and the other places involved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub kind: ErrorKind,
    /// The primary place; `None` for findings about the file as a whole.
    pub span: Option<Span>,
    /// A short label under the primary place.
    pub label: String,
    /// Other places that take part, each with its label.
    pub secondary: Vec<(Span, String)>,
    /// Extra explanation lines.
    pub notes: Vec<String>,
    /// A suggested fix.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(kind: ErrorKind, span: impl Into<Option<Span>>, label: impl Into<String>) -> Self {
        Self {
            kind,
            span: span.into(),
            label: label.into(),
            secondary: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    pub fn with_secondary(mut self, span: Span, label: impl Into<String>) -> Self {
        self.secondary.push((span, label.into()));
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    pub fn severity(&self) -> Severity {
        self.kind.severity()
    }

    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }

    pub fn message(&self) -> String {
        self.kind.to_string()
    }
}

/// Whether any of `diagnostics` is an error (so the description is rejected).
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(Diagnostic::is_error)
}

/// Line and column (both from 1) of a byte offset; columns count characters.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The text of a source file and the name to show for it.
#[derive(Clone, Copy, Debug)]
pub struct SourceFile<'a> {
    pub path: &'a str,
    pub text: &'a str,
}

/// Renders diagnostics the way rustc does: `error[code]: message`, the file
/// and line, the line of TOML with a caret, notes and help.
pub fn render(file: SourceFile<'_>, diagnostics: &[Diagnostic], color: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for d in diagnostics {
        let message = d.message();
        let level = match d.severity() {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let title = level.primary_title(message.as_str()).id(d.code());
        if let Some(span) = &d.span {
            let snippet = Snippet::source(file.text)
                .path(file.path)
                .fold(true)
                .annotation(
                    AnnotationKind::Primary
                        .span(clamp(file.text, span))
                        .label(d.label.as_str()),
                )
                .annotations(d.secondary.iter().map(|(span, label)| {
                    AnnotationKind::Context
                        .span(clamp(file.text, span))
                        .label(label.as_str())
                }));
            let group = title.element(snippet);
            let group = d.notes.iter().fold(group, |g, note| {
                g.element(Level::NOTE.message(note.as_str()))
            });
            let group = match &d.help {
                Some(help) => group.element(Level::HELP.message(help.as_str())),
                None => group,
            };
            out.push_str(&renderer.render(&[group]));
        } else {
            let group = Group::with_title(title);
            let group = d.notes.iter().fold(group, |g, note| {
                g.element(Level::NOTE.message(note.as_str()))
            });
            let group = match &d.help {
                Some(help) => group.element(Level::HELP.message(help.as_str())),
                None => group,
            };
            let mut text = renderer.render(&[group]);
            text.push_str(&format!("\n  --> {}", file.path));
            out.push_str(&text);
        }
        out.push_str("\n\n");
    }
    out
}

fn clamp(text: &str, span: &Span) -> Span {
    let start = span.start.min(text.len());
    start..span.end.clamp(start, text.len())
}

/// The JSON form of a diagnostic (`--format json`).
#[derive(Clone, Debug, Serialize)]
pub struct JsonDiagnostic {
    pub severity: &'static str,
    pub code: &'static str,
    pub message: String,
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub end_line: Option<usize>,
    pub end_column: Option<usize>,
    pub label: String,
    pub related: Vec<JsonRelated>,
    pub notes: Vec<String>,
    pub help: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct JsonRelated {
    pub line: usize,
    pub column: usize,
    pub label: String,
}

impl JsonDiagnostic {
    pub fn new(file: SourceFile<'_>, d: &Diagnostic) -> Self {
        let start = d.span.as_ref().map(|s| line_col(file.text, s.start));
        let end = d.span.as_ref().map(|s| line_col(file.text, s.end));
        Self {
            severity: d.severity().as_str(),
            code: d.code(),
            message: d.message(),
            file: file.path.to_string(),
            line: start.map(|p| p.0),
            column: start.map(|p| p.1),
            end_line: end.map(|p| p.0),
            end_column: end.map(|p| p.1),
            label: d.label.clone(),
            related: d
                .secondary
                .iter()
                .map(|(span, label)| {
                    let (line, column) = line_col(file.text, span.start);
                    JsonRelated {
                        line,
                        column,
                        label: label.clone(),
                    }
                })
                .collect(),
            notes: d.notes.clone(),
            help: d.help.clone(),
        }
    }
}

/// The closest of `candidates` to `word`, if one is close enough to be a
/// likely typo.
pub fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(word, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_board_of_one_core_has_only_core_0() {
        let kind = |cores| ErrorKind::CoreOutOfRange {
            guest: "a".into(),
            core: 1,
            cores,
            board: "b",
        };
        assert_eq!(
            kind(1).to_string(),
            "guest `a` is placed on core 1, but board `b` has only core 0"
        );
        assert_eq!(
            kind(2).to_string(),
            "guest `a` is placed on core 1, but board `b` has cores 0 to 1"
        );
    }
}
