//! The static tables the monitor runs from, generated at build time.
//!
//! - `mvm-config` validates `system.toml` and emits one `static MVM_SYSTEM:
//!   System` of these types (see `mvm-config/src/codegen.rs`); the kernel
//!   never parses configuration.
//! - Plain `const`-constructible data: slices of `'static` items, no
//!   allocation, no interior mutability.
//! - Addresses are physical and 32-bit (Cortex-A9 without LPAE).

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
    Direct,
    Shadow,
}

/// A half-open physical range `[base, base + size)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub base: u32,
    pub size: u32,
}

impl Region {
    /// Whether `[addr, addr + len)` lies inside this region, without
    /// overflow for any `addr` and `len`.
    pub const fn contains(&self, addr: u32, len: u32) -> bool {
        addr >= self.base && len <= self.size && addr - self.base <= self.size - len
    }
}

/// A passthrough device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Device {
    pub name: &'static str,
    pub regs: Region,
    /// GIC interrupt IDs; group 1, targeted at the owning guest's core.
    pub interrupts: &'static [u32],
}

/// A guest's program: a flat binary copied to `load` at boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Image {
    pub load: u32,
    pub entry: u32,
    pub bytes: &'static [u8],
}

/// An SRT guest's EDF server, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Server {
    pub period_ns: u64,
    pub budget_ns: u64,
    pub deadline_ns: u64,
    /// May run in idle time beyond its budget.
    pub slack: bool,
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
    pub image: Image,
    /// `Some` exactly for SRT guests.
    pub server: Option<Server>,
    /// Uses VFP/NEON: a world switch saves and restores its VFP registers.
    pub fpu: bool,
}

impl Guest {
    /// Whether `[addr, addr + len)` lies inside one of the guest's regions.
    pub fn owns(&self, addr: u32, len: u32) -> bool {
        self.regions.iter().any(|r| r.contains(addr, len))
    }
}

/// What one core does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CorePlan {
    /// No guest: the monitor parks the core.
    Idle,
    /// Handed to one HRT guest (an index into [`System::guests`]).
    Dedicated { guest: u32 },
    /// EDF over these SRT guests (indices into [`System::guests`]).
    Edf { guests: &'static [u32] },
}

/// The whole system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct System {
    pub name: &'static str,
    pub board: &'static str,
    /// SHA-256 of the system description, hex.
    pub hash: &'static str,
    /// The per-job switch overhead the schedulability analysis assumed.
    pub switch_overhead_ns: u64,
    pub guests: &'static [Guest],
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
        };
        assert!(r.contains(0x7000_0000, 0x100_0000));
        assert!(r.contains(0x70FF_FFFF, 1));
        assert!(r.contains(0x7000_0000, 0));
        assert!(!r.contains(0x70FF_FFFF, 2));
        assert!(!r.contains(0x6FFF_FFFF, 1));
        assert!(!r.contains(0xFFFF_FFFF, 2));
        assert!(!r.contains(0x7000_0001, u32::MAX));
    }
}
