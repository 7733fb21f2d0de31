//! Stage 2: the validated system, in the units the rules speak of.
//!
//! - Built only from a description that passed every rule; nothing here can
//!   hold an invalid value (times in nanoseconds, sizes in bytes, devices
//!   resolved against the board's catalogue).
//! - Spans stay on every item so that later stages (schedulability, the
//!   image build) can still point at the line of the TOML.

use mvm_board::{Board, Device};
use serde::Serialize;

use crate::diag::Span;
use crate::plan::PlannedCore;

pub use mvm_kernel::config::{Health, Level, OnFailure, Paging, Trigger};
pub use mvm_kernel::edf::Params;

/// How the description spells the kernel's enums: the keys' choices, and
/// the word reports and JSON use.
pub trait Keyword: Copy + Sized + 'static {
    /// Every spelling, in the order of [`Keyword::ALL`].
    const CHOICES: &'static [&'static str];
    const ALL: &'static [Self];

    fn as_str(self) -> &'static str;
}

impl Keyword for Level {
    const CHOICES: &'static [&'static str] = &["hrt", "srt"];
    const ALL: &'static [Self] = &[Level::Hrt, Level::Srt];

    fn as_str(self) -> &'static str {
        match self {
            Level::Hrt => "hrt",
            Level::Srt => "srt",
        }
    }
}

impl Keyword for Paging {
    const CHOICES: &'static [&'static str] = &["direct", "shadow", "guest"];
    const ALL: &'static [Self] = &[Paging::Direct, Paging::Shadow, Paging::Guest];

    fn as_str(self) -> &'static str {
        match self {
            Paging::Direct => "direct",
            Paging::Shadow => "shadow",
            Paging::Guest => "guest",
        }
    }
}

impl Keyword for Trigger {
    const CHOICES: &'static [&'static str] = &["level", "edge"];
    const ALL: &'static [Self] = &[Trigger::Level, Trigger::Edge];

    fn as_str(self) -> &'static str {
        match self {
            Trigger::Level => "level",
            Trigger::Edge => "edge",
        }
    }
}

impl Keyword for OnFailure {
    const CHOICES: &'static [&'static str] = &["stop", "restart", "system"];
    const ALL: &'static [Self] = &[OnFailure::Stop, OnFailure::Restart, OnFailure::System];

    fn as_str(self) -> &'static str {
        match self {
            OnFailure::Stop => "stop",
            OnFailure::Restart => "restart",
            OnFailure::System => "system",
        }
    }
}

/// Serializes a [`Keyword`] as its spelling (`#[serde(serialize_with)]`:
/// the kernel's types know nothing of serde).
pub fn keyword<K: Keyword, S: serde::Serializer>(k: &K, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.as_str())
}

/// The alignment a region's base and size need under a paging method:
/// 1 MiB sections (or 16 MiB supersections) for a direct map, 4 KiB pages
/// for shadow paging and for a guest that owns its MMU.
pub fn granule(paging: Paging) -> u64 {
    match paging {
        Paging::Direct => 1 << 20,
        Paging::Shadow | Paging::Guest => 4 << 10,
    }
}

/// One memory region of a guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    pub name: String,
    pub base: u64,
    pub size: u64,
    pub span: Span,
}

impl Region {
    pub fn end(&self) -> u64 {
        self.base + self.size
    }
}

/// A passthrough device of a guest, with the setting of its interrupt
/// lines (every line of the device gets the same).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestDevice {
    pub device: &'static Device,
    /// Urgency from 0 (most urgent) to 14; the kernel maps it to the GIC's
    /// priority byte (`mvm_kernel::interrupts::gic_priority`).
    pub priority: u8,
    pub trigger: Trigger,
}

/// A shadow-paged guest's pool of translation tables, in the board's
/// table area: `address_spaces` L1 tables of 16 KiB, `page_tables` L2
/// tables of 1 KiB.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ShadowPool {
    pub address_spaces: u32,
    pub page_tables: u32,
}

impl ShadowPool {
    /// Address spaces when `address_spaces` is not given.
    pub const DEFAULT_SPACES: u32 = 2;
    /// L2 tables when `page_tables` is not given.
    pub const DEFAULT_PAGE_TABLES: u32 = 32;

    /// Bytes of the pool.
    pub fn bytes(&self) -> u64 {
        u64::from(self.address_spaces) * 16 * 1024 + u64::from(self.page_tables) * 1024
    }
}

/// Where each key of a guest was written, for later diagnostics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuestSpans {
    pub header: Span,
    pub name: Span,
    pub core: Span,
    pub image: Span,
    pub budget: Option<Span>,
    pub period: Option<Span>,
    pub deadline: Option<Span>,
}

/// How a guest schedules its own tasks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskScheduler {
    #[default]
    Edf,
    FixedPriority,
}

impl TaskScheduler {
    /// The analysis' name for it.
    pub fn policy(self) -> crate::prm::Policy {
        match self {
            TaskScheduler::Edf => crate::prm::Policy::Edf,
            TaskScheduler::FixedPriority => crate::prm::Policy::FixedPriority,
        }
    }
}

/// The tasks as the analysis (`prm`) takes them.
pub fn prm_tasks(tasks: &[Task]) -> Vec<crate::prm::Task> {
    tasks
        .iter()
        .map(|t| crate::prm::Task {
            period: t.period,
            wcet: t.wcet,
            deadline: t.deadline,
            priority: t.priority.unwrap_or(0),
        })
        .collect()
}

/// One of a guest's own periodic tasks (`[[guest.task]]`), in ns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task {
    pub name: String,
    pub period: u64,
    pub wcet: u64,
    /// Relative deadline (`period` unless declared).
    pub deadline: u64,
    /// Fixed-priority scheduling only: lower is more urgent.
    pub priority: Option<u32>,
    /// The `[[guest.task]]` table.
    pub span: Span,
}

/// One guest, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Guest {
    pub name: String,
    pub level: Level,
    pub core: u32,
    /// A guest crate under `partitions/` or a path to an ELF; resolved by
    /// the image build, not by `check`. Empty for a Linux guest.
    pub image: String,
    /// `Some` for a Linux guest (`[guest.linux]`): its kernel, initrd and
    /// command line instead of `image`.
    pub linux: Option<crate::linux::Linux>,
    pub paging: Paging,
    /// `Some` exactly for SRT guests: its EDF server, in ns
    /// (`0 < budget <= deadline <= period`), as the kernel's scheduler takes it.
    pub server: Option<Params>,
    /// Uses VFP/NEON: the monitor saves and restores its VFP state.
    pub fpu: bool,
    pub memory: Vec<Region>,
    /// The guest-physical address of each region of `memory`, in order:
    /// `base` unless a shadow-paged guest declares `guest_base`.
    pub guest_bases: Vec<u64>,
    pub devices: Vec<GuestDevice>,
    /// `Some` exactly for shadow-paged guests.
    pub pool: Option<ShadowPool>,
    /// The guest's own tasks, if it declares them, and how it schedules
    /// them (docs/schedulability.md, "Inside a guest").
    pub tasks: Vec<Task>,
    pub scheduler: TaskScheduler,
    /// `budget = "auto"`: `server.budget` was computed from `tasks`.
    pub budget_auto: bool,
    /// What a failure leads to, and its watchdog (docs/health.md).
    pub health: Health,
    pub spans: GuestSpans,
}

impl Guest {
    /// What the guest's tasks are given: its server's budget every period,
    /// or, for an HRT guest, its whole core.
    pub fn supply(&self) -> crate::prm::Supply {
        match self.server {
            Some(p) => crate::prm::Supply::Server {
                period: p.period,
                budget: p.budget,
            },
            None => crate::prm::Supply::Dedicated,
        }
    }

    /// Whether the guest may run in idle time beyond its budget (SRT only).
    pub fn slack(&self) -> bool {
        self.server.is_some_and(|s| s.slack)
    }
}

/// A channel, validated and placed by the build (docs/channels.md): one
/// writer, one reader, `size` bytes at `base` in the system's channel area.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    pub name: String,
    /// Indices into [`System::guests`].
    pub writer: usize,
    pub reader: usize,
    /// Physical, 4 KiB aligned, placed in declaration order.
    pub base: u64,
    /// A multiple of 4 KiB.
    pub size: u64,
    /// The reader is interrupted when the writer rings the doorbell.
    pub notify: bool,
    /// The reader's notification line (a GIC SPI from the board's
    /// `notify_lines`), exactly when `notify`.
    pub irq: Option<u32>,
    /// The `[[channel]]` table.
    pub span: Span,
}

impl Channel {
    pub fn end(&self) -> u64 {
        self.base + self.size
    }
}

/// The whole validated system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct System {
    pub name: String,
    pub board: &'static Board,
    /// The overhead charged to every job of every SRT guest, in ns.
    pub switch_overhead: u64,
    /// Whether `switch_overhead` is the board's default.
    pub switch_overhead_is_default: bool,
    pub guests: Vec<Guest>,
    /// What each core does, indexed by core number.
    pub cores: Vec<PlannedCore>,
    /// Every channel, in the order declared.
    pub channels: Vec<Channel>,
    /// Where the channels' memory comes from: the board's channel area,
    /// or `[system] channel_area`.
    pub channel_area: mvm_board::PhysRange,
}

impl System {
    /// The guests placed on a core, in the order they were declared.
    pub fn guests_on(&self, core: u32) -> impl Iterator<Item = (usize, &Guest)> {
        self.guests
            .iter()
            .enumerate()
            .filter(move |(_, g)| g.core == core)
    }

    /// The channels `guest` (an index) is an end of, each with whether it
    /// is the writer.
    pub fn channel_ends(&self, guest: usize) -> impl Iterator<Item = (&Channel, bool)> {
        self.channels
            .iter()
            .filter(move |c| c.writer == guest || c.reader == guest)
            .map(move |c| (c, c.writer == guest))
    }
}
