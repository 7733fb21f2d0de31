//! The static tables the monitor runs from, generated at build time.
//!
//! - `mvm-config` validates `system.toml` and emits one `static MVM_SYSTEM:
//!   System` of these types (see `mvm-config/src/codegen.rs`); the kernel
//!   never parses configuration.
//! - Plain `const`-constructible data: slices of `'static` items, no
//!   allocation, no interior mutability.
//! - Addresses are physical and 32-bit (Cortex-A9 without LPAE).
#![forbid(unsafe_code)]

/// A guest's real-time level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Hard real-time: owns its core; the monitor stays off that core.
    Hrt,
    /// Soft real-time: an EDF server on a shared core.
    Srt,
}

/// How a guest's memory is virtualized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paging {
    /// PA = VA, tables written by the monitor at boot.
    Direct,
    /// Tables the monitor writes for the guest on its hypercalls.
    Shadow,
    /// The guest owns its MMU (an unmodified OS): the monitor writes no
    /// tables for it and never touches its CONTEXTIDR; it starts with its
    /// MMU off. Nothing confines its accesses to its own regions
    /// (docs/threat-model.md).
    Guest,
}

/// A half-open physical range `[base, base + size)`, seen by its guest at
/// guest-physical `[guest_base, guest_base + size)` (the same, except for
/// a shadow-paged guest's region that declares `guest_base`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub base: u32,
    pub size: u32,
    pub guest_base: u32,
}

impl Region {
    /// Whether physical `[addr, addr + len)` lies inside this region,
    /// without overflow for any `addr` and `len`.
    pub const fn contains(&self, addr: u32, len: u32) -> bool {
        addr >= self.base && len <= self.size && addr - self.base <= self.size - len
    }

    /// Whether guest-physical `[addr, addr + len)` lies inside this region,
    /// without overflow for any `addr` and `len`.
    pub const fn contains_guest(&self, addr: u32, len: u32) -> bool {
        addr >= self.guest_base && len <= self.size && addr - self.guest_base <= self.size - len
    }
}

/// How an interrupt line signals (GICD_ICFGR).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// Pending while the device holds the line: the device's own
    /// acknowledge clears it.
    Level,
    /// Pending from a rising edge until the GIC acknowledges it.
    Edge,
}

/// One interrupt line of a passthrough device, as the system description
/// declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interrupt {
    /// The GIC interrupt ID.
    pub id: u32,
    /// Urgency from 0 (most urgent) to [`Interrupt::MAX_PRIORITY`]; the
    /// monitor turns it into a GIC priority
    /// ([`crate::interrupts::gic_priority`]).
    pub priority: u8,
    pub trigger: Trigger,
}

impl Interrupt {
    /// The least urgent level. A Cortex-A9 GIC has 32 priorities, 16 in
    /// each group's half, but never signals its lowest (0xF8: no priority
    /// mask lies below it), which a level 15 would give a Group 1 line; so
    /// 15 levels, the same for both groups.
    pub const MAX_PRIORITY: u8 = 14;
    /// The level of a line whose device declares none.
    pub const DEFAULT_PRIORITY: u8 = 8;
}

/// A passthrough device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Device {
    pub name: &'static str,
    pub regs: Region,
    /// Its lines, targeted at the owning guest's core.
    pub interrupts: &'static [Interrupt],
}

/// A guest's program: a flat binary copied to `load` at boot (for a Linux
/// guest, its device tree), part of the monitor's own image, and the
/// images the board's loader placed in its memory before reset (a Linux
/// guest's kernel and initrd), each checked against the build's SHA-256
/// before the guest's first instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Image {
    pub load: u32,
    pub entry: u32,
    pub bytes: &'static [u8],
    /// r2 at the first instruction (r0 = 0, r1 = !0, Linux's Arm boot
    /// protocol): the device tree's guest-physical address, or 0.
    pub boot_arg: u32,
    pub in_place: &'static [InPlace],
}

/// An image too large to embed in the monitor, written into the guest's
/// memory by the board's loader (QEMU's loader device, U-Boot) before the
/// monitor starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InPlace {
    /// What it is, for the console ("kernel", "initrd").
    pub what: &'static str,
    /// Guest-physical.
    pub base: u32,
    pub size: u32,
    pub sha256: [u8; 32],
    /// Physical: where the board's loader placed its pristine copy,
    /// outside every guest's memory, which a restart checks against
    /// `sha256` and copies in (docs/health.md).
    pub pristine: u32,
}

/// One non-zero word of a translation table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its index in the table, in words.
    pub index: u32,
    pub word: u32,
}

/// A translation table computed at build time, placed at `address` in the
/// board's table area: `words` words, zero except for `entries` (sorted by
/// index, each index below `words`). The monitor writes it at boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Table {
    pub address: u32,
    pub words: u32,
    pub entries: &'static [Entry],
}

impl Table {
    /// Whether every entry lies in the table, in increasing index order,
    /// and the table is aligned to its size (true of an L1 table of 4096
    /// words and of an L2 table of 256 words).
    pub const fn well_formed(&self) -> bool {
        let bytes = self.words.wrapping_mul(4);
        if !bytes.is_power_of_two() || !self.address.is_multiple_of(bytes) {
            return false;
        }
        let mut i = 0;
        while i < self.entries.len() {
            if self.entries[i].index >= self.words
                || (i > 0 && self.entries[i - 1].index >= self.entries[i].index)
            {
                return false;
            }
            i += 1;
        }
        true
    }

    /// The table's words, written into `out` (which holds `words` words).
    pub fn write_into(&self, out: &mut [u32]) {
        out.fill(0);
        for e in self.entries {
            out[e.index as usize] = e.word;
        }
    }
}

/// A direct-mapped guest's translation (PA = VA), built at build time: the
/// guest starts with its MMU on, walking from `ttbr0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translation {
    /// TTBR0: the L1 table's address and its walk attributes.
    pub ttbr0: u32,
    /// The guest's ASID (CONTEXTIDR[7:0]); every entry is non-global.
    pub asid: u8,
    /// The L1 table first, then the L2 tables it points at.
    pub tables: &'static [Table],
}

impl Translation {
    /// Bytes of translation tables.
    pub const fn table_bytes(&self) -> u32 {
        let mut bytes = 0;
        let mut i = 0;
        while i < self.tables.len() {
            bytes += self.tables[i].words * 4;
            i += 1;
        }
        bytes
    }
}

/// What the monitor does when a guest fails (docs/health.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnFailure {
    /// The guest stops for good; the others run on.
    Stop,
    /// The guest restarts from a pristine image, at most `max_restarts`
    /// times within `restart_window_ns`; then it stops.
    Restart,
    /// The guest is critical: its failure ends the whole system (QEMU: the
    /// run ends with [`crate::stats::EXIT_CRITICAL_FAILURE`]).
    System,
}

/// A guest's health policy, from `system.toml` (docs/health.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Health {
    pub on_failure: OnFailure,
    /// Restarts allowed within `restart_window_ns` (at most
    /// [`crate::health::MAX_RESTARTS`]).
    pub max_restarts: u32,
    pub restart_window_ns: u64,
    /// The guest must call HEARTBEAT at least this often; 0: no watchdog.
    pub watchdog_ns: u64,
}

impl Health {
    /// No watchdog; a failure stops the guest.
    pub const STOP: Health = Health {
        on_failure: OnFailure::Stop,
        max_restarts: 0,
        restart_window_ns: 0,
        watchdog_ns: 0,
    };
}

/// One end of a channel (docs/channels.md), as its guest sees it: the
/// channel's memory, identity-mapped (`guest_base` = `base`) as shared
/// Normal non-cacheable memory, read-write for the writer and read-only
/// for the reader, never executable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelEnd {
    /// The channel's name, from the description.
    pub name: &'static str,
    /// Its index in [`System::channels`].
    pub channel: u32,
    pub region: Region,
    /// The writer's end; the reader's is read-only.
    pub writable: bool,
    /// A reader's notification line: an SPI no device drives, which the
    /// monitor sets pending (edge-triggered, Group 1) when the writer has
    /// rung the channel's doorbell. `None` for a writer, or a reader that
    /// polls (`notify = false`).
    pub notify: Option<Interrupt>,
}

/// A channel: one writer, one reader, a region of memory placed by the
/// build (docs/channels.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Channel {
    pub name: &'static str,
    /// Indices into [`System::guests`].
    pub writer: u32,
    pub reader: u32,
    /// Physical.
    pub base: u32,
    pub size: u32,
    /// The reader's notification line, if it is notified: the monitor on
    /// the reader's core polls the doorbell word at every scheduling event
    /// of that core and sets this line pending when it changed.
    pub notify: Option<u32>,
}

impl Channel {
    /// The doorbell: the channel's first word, which only the writer
    /// writes (the `mvm-channel` crate's layout).
    pub const DOORBELL_OFFSET: u32 = 0;
}

/// One guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Guest {
    /// Its index in [`System::guests`].
    pub id: u32,
    pub name: &'static str,
    pub level: Level,
    pub core: u32,
    pub paging: Paging,
    pub regions: &'static [Region],
    pub devices: &'static [Device],
    /// Its ends of channels, in the order the channels are declared.
    pub channels: &'static [ChannelEnd],
    pub image: Image,
    /// `Some` exactly for SRT guests: its EDF server, as the scheduler
    /// takes it.
    pub server: Option<crate::edf::Params>,
    /// Uses VFP/NEON: a world switch saves and restores its VFP registers.
    pub fpu: bool,
    /// `Some` exactly for `paging = "direct"`: the tables the monitor
    /// installs before the guest's first instruction.
    pub translation: Option<Translation>,
    /// `Some` exactly for a shadow-paged guest: its pool of tables in the
    /// table area and its ASID range.
    pub shadow: Option<crate::shadow::Pool>,
    /// What a failure of the guest leads to, and its watchdog.
    pub health: Health,
}

impl Guest {
    /// Whether guest-physical `[addr, addr + len)` lies inside one of the
    /// guest's regions (hypercall buffers are guest-physical).
    pub fn owns(&self, addr: u32, len: u32) -> bool {
        self.regions.iter().any(|r| r.contains_guest(addr, len))
    }

    /// The physical address of guest-physical `[addr, addr + len)`, if it
    /// lies inside one of the guest's regions.
    pub fn physical(&self, addr: u32, len: u32) -> Option<u32> {
        self.regions
            .iter()
            .find(|r| r.contains_guest(addr, len))
            .map(|r| r.base + (addr - r.guest_base))
    }
}

/// What one core does.
///
/// `Guests` holds the EDF core's guest indices: a `'static` slice in the
/// generated tables, a `Vec<u32>` in `mvm-config`, which builds the plan
/// before it becomes Rust source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CorePlan<Guests = &'static [u32]> {
    /// No guest: the monitor parks the core.
    Idle,
    /// Handed to one HRT guest (an index into [`System::guests`]).
    Dedicated { guest: u32 },
    /// EDF over these SRT guests (indices into [`System::guests`]).
    Edf { guests: Guests },
}

/// The whole system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct System {
    pub name: &'static str,
    pub board: &'static str,
    /// SHA-256 of the system description, hex.
    pub hash: &'static str,
    /// SHA-256 of the build's manifest of inputs (the description, every
    /// guest image, the toolchain: `mvm_config::manifest::Inputs`), hex;
    /// `target/mvm/<system>/manifest.json` lists them.
    pub manifest: &'static str,
    /// The per-job switch overhead the schedulability analysis assumed.
    pub switch_overhead_ns: u64,
    pub guests: &'static [Guest],
    /// Every channel, in the order the description declares them.
    pub channels: &'static [Channel],
    /// Indexed by core number.
    pub cores: &'static [CorePlan],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_contains_without_overflow() {
        let r = Region {
            base: 0x7000_0000,
            size: 0x100_0000,
            guest_base: 0x8000_0000,
        };
        assert!(r.contains_guest(0x8000_0000, 0x100_0000));
        assert!(!r.contains_guest(0x7000_0000, 1));
        assert!(!r.contains_guest(0x80FF_FFFF, 2));
        assert!(r.contains(0x7000_0000, 0x100_0000));
        assert!(r.contains(0x70FF_FFFF, 1));
        assert!(r.contains(0x7000_0000, 0));
        assert!(!r.contains(0x70FF_FFFF, 2));
        assert!(!r.contains(0x6FFF_FFFF, 1));
        assert!(!r.contains(0xFFFF_FFFF, 2));
        assert!(!r.contains(0x7000_0001, u32::MAX));
    }

    #[test]
    fn tables_are_checked_and_written_sparse() {
        let t = Table {
            address: 0x60F0_4000,
            words: 256,
            entries: &[
                Entry {
                    index: 0x0A,
                    word: 0x1000_A037,
                },
                Entry {
                    index: 0x11,
                    word: 0x1001_1037,
                },
            ],
        };
        assert!(t.well_formed());
        let mut out = [0xFFFF_FFFF; 256];
        t.write_into(&mut out);
        assert_eq!(out[0x0A], 0x1000_A037);
        assert_eq!(out[0x11], 0x1001_1037);
        assert_eq!(out.iter().filter(|&&w| w != 0).count(), 2);
        assert!(!Table {
            address: 0x60F0_4200,
            ..t
        }
        .well_formed());
        assert!(!Table { words: 0x10, ..t }.well_formed());
        let unsorted = [t.entries[1], t.entries[0]];
        let unsorted: &'static [Entry] = Box::leak(Box::new(unsorted));
        assert!(!Table {
            entries: unsorted,
            ..t
        }
        .well_formed());
        let tr = Translation {
            ttbr0: 0x60F0_006A,
            asid: 1,
            tables: &[],
        };
        assert_eq!(tr.table_bytes(), 0);
    }
}
