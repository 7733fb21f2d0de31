//! What a board is: cores, RAM, the monitor's reservation, its devices.
//!
//! - One description per board, written once in the board's own crate and read
//!   by both the host-side generator (`mvm-config`) and the kernel image.
//! - Plain `const` data: `no_std`, no allocation, no behaviour.
//! - Only board crates fill these types in; nothing else names a physical
//!   address.
//! - A device's device tree fragment lives beside it in the catalogue
//!   ([`device_tree`]), so a Linux guest's tree is built from the same
//!   registers and interrupts the monitor routes.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod device_tree;

/// A half-open physical address range `[base..base + size)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhysRange {
    pub base: u64,
    pub size: u64,
}

impl PhysRange {
    pub const fn new(base: u64, size: u64) -> Self {
        Self { base, size }
    }

    /// One past the last byte.
    pub const fn end(&self) -> u64 {
        self.base + self.size
    }

    pub const fn contains_range(&self, base: u64, size: u64) -> bool {
        base >= self.base && size <= self.size && base - self.base <= self.size - size
    }

    pub const fn overlaps(&self, base: u64, size: u64) -> bool {
        size != 0 && self.size != 0 && base < self.end() && self.base < base + size
    }
}

/// Who may own a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// The monitor keeps it (its console, the interrupt controller, its
    /// timers); no guest may be given it.
    Monitor,
    /// It may be passed through to one guest.
    Guest,
}

/// One memory-mapped peripheral in the board's catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Device {
    /// Catalogue name, as written in `devices = [...]` of the system
    /// description.
    pub name: &'static str,
    /// What it is, for reports.
    pub model: &'static str,
    /// Its register window.
    pub regs: PhysRange,
    /// Its shared peripheral interrupts, as GIC interrupt IDs (32 and up).
    pub interrupts: &'static [u32],
    pub owner: Owner,
    /// How it is described to a Linux guest in a device tree; `None` when
    /// it cannot be (the monitor's own devices, or a device whose clocks
    /// are not known).
    pub device_tree: Option<device_tree::Node>,
}

/// A board, as the monitor and the generator need to know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Board {
    /// The name used by `board = "..."` in the system description.
    pub name: &'static str,
    /// A one-line description for reports.
    pub title: &'static str,
    /// Number of Cortex-A9 cores; they are numbered from 0.
    pub cores: u32,
    /// The RAM that guests and the monitor live in.
    pub ram: PhysRange,
    /// The part of `ram` the monitor keeps for itself (code, data, stacks,
    /// translation tables). It starts at the start of RAM.
    pub monitor_reservation: PhysRange,
    /// Where the monitor is linked and loaded, inside its reservation (a
    /// board's boot loader may not reach the start of RAM).
    pub monitor_load: u64,
    /// The granule in which the board's TrustZone memory controller makes
    /// RAM Secure, counted from the start of RAM; 0 when the board has no
    /// such controller. The monitor's reservation is made Secure rounded up
    /// to it, so guests cannot use the rest of that granule either.
    pub trustzone_granule: u64,
    /// The most RAM the guests' translation tables (direct maps, shadow
    /// paging pools) may take: Non-secure RAM that no guest region covers
    /// (the Non-secure world's table walks are Non-secure accesses). Inside
    /// the reservation when nothing there is Secure, just after the Secure
    /// block otherwise; `guest_exclusion` covers it. A system gets the
    /// part it needs, whole MiBs at the top of this range
    /// ([`Board::table_area_for`]).
    pub table_area: PhysRange,
    /// Where channels' memory comes from unless the description sets
    /// `[system] channel_area`: Non-secure RAM, whole MiBs, that no example
    /// guest uses (docs/channels.md).
    pub channel_area: PhysRange,
    /// GIC interrupt IDs (SPIs) that no device drives, which the monitor
    /// may set pending as channels' notifications, in the order channels
    /// get them.
    pub notify_lines: &'static [u32],
    /// The default overhead charged to every job of every SRT guest, in
    /// nanoseconds, when the system description does not set
    /// `[system.overhead] switch`.
    pub default_switch_overhead_ns: u64,
    /// Where the default overhead comes from, for reports and docs.
    pub default_switch_overhead_source: &'static str,
    /// Whether the default overhead was measured (on the board, or on the
    /// emulator the board is run on), rather than estimated; a description
    /// that declares less is warned about in these words.
    pub default_switch_overhead_measured: bool,
    /// The CPU and interrupt controller, as a Linux guest's device tree
    /// describes them.
    pub device_tree: device_tree::Processor,
    /// How many iterations of Linux's delay loop (ARM `__loop_delay`: a
    /// `subs` and a `bhi`) a core runs in a second, at most: what its
    /// `lpj=` is computed from, since a guest's own calibration under a
    /// budget sees only its share of the core and comes out far too low.
    /// Too high a figure only lengthens `udelay()`s, which is safe; too low
    /// a one shortens them.
    pub linux_delay_loops_per_second: u64,
    /// The peripherals, passthrough candidates and the monitor's own.
    pub devices: &'static [Device],
}

impl Board {
    /// The RAM no guest may use: the monitor's reservation, rounded up to
    /// the TrustZone granule, and the translation table area. The board
    /// keeps the two adjacent (or one inside the other), so this is one
    /// range, from the lower base to the higher end.
    pub const fn guest_exclusion(&self) -> PhysRange {
        let r = self.monitor_reservation;
        let secure = if self.trustzone_granule == 0 {
            r
        } else {
            let end = r.end() - self.ram.base;
            let rounded = end.div_ceil(self.trustzone_granule) * self.trustzone_granule;
            PhysRange::new(r.base, self.ram.base + rounded - r.base)
        };
        let t = self.table_area;
        if t.size == 0 {
            return secure;
        }
        let base = if t.base < secure.base {
            t.base
        } else {
            secure.base
        };
        let end = if t.end() > secure.end() {
            t.end()
        } else {
            secure.end()
        };
        PhysRange::new(base, end - base)
    }

    /// The table area a system whose tables take `bytes` gets: whole MiBs
    /// (at least one) at the top of [`Board::table_area`], so that a
    /// system needing one MiB keeps the same addresses whatever the bound;
    /// `None` when `bytes` exceed the bound.
    pub const fn table_area_for(&self, bytes: u64) -> Option<PhysRange> {
        const MIB: u64 = 1 << 20;
        let max = self.table_area;
        let size = if bytes <= MIB {
            MIB
        } else {
            bytes.div_ceil(MIB) * MIB
        };
        if bytes > max.size {
            return None;
        }
        let size = if size > max.size { max.size } else { size };
        Some(PhysRange::new(max.end() - size, size))
    }

    /// Looks a device up by its catalogue name; usable in `const` items, so
    /// that a board crate's `device("uart1")` is checked at compile time.
    pub const fn device(&self, name: &str) -> Option<&'static Device> {
        let devices: &'static [Device] = self.devices;
        let mut i = 0;
        while i < devices.len() {
            if str_eq(devices[i].name, name) {
                return Some(&devices[i]);
            }
            i += 1;
        }
        None
    }
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn board(granule: u64) -> Board {
        Board {
            name: "b",
            title: "b",
            cores: 2,
            ram: PhysRange::new(0x6000_0000, 1 << 30),
            monitor_reservation: PhysRange::new(0x6000_0000, 16 << 20),
            monitor_load: 0x6000_0000,
            trustzone_granule: granule,
            table_area: PhysRange::new(0, 0),
            channel_area: PhysRange::new(0, 0),
            notify_lines: &[],
            default_switch_overhead_ns: 1,
            default_switch_overhead_source: "",
            default_switch_overhead_measured: false,
            device_tree: device_tree::Processor {
                cpu_compatible: "arm,cortex-a9",
                gic_compatible: &["arm,cortex-a9-gic"],
                gic_distributor: PhysRange::new(0x1E00_1000, 0x1000),
                gic_cpu_interface: PhysRange::new(0x1E00_0100, 0x100),
            },
            linux_delay_loops_per_second: 1,
            devices: &[],
        }
    }

    #[test]
    fn the_exclusion_is_the_reservation_rounded_to_the_trustzone_granule() {
        assert_eq!(
            board(0).guest_exclusion(),
            PhysRange::new(0x6000_0000, 16 << 20)
        );
        assert_eq!(
            board(64 << 20).guest_exclusion(),
            PhysRange::new(0x6000_0000, 64 << 20)
        );
        assert_eq!(
            board(16 << 20).guest_exclusion(),
            PhysRange::new(0x6000_0000, 16 << 20)
        );
    }

    #[test]
    fn the_exclusion_covers_the_table_area_inside_or_after_the_secure_block() {
        let inside = Board {
            table_area: PhysRange::new(0x60F0_0000, 1 << 20),
            ..board(0)
        };
        assert_eq!(
            inside.guest_exclusion(),
            PhysRange::new(0x6000_0000, 16 << 20)
        );
        let after = Board {
            ram: PhysRange::new(0, 1 << 30),
            monitor_reservation: PhysRange::new(0, 16 << 20),
            table_area: PhysRange::new(0x0400_0000, 1 << 20),
            ..board(64 << 20)
        };
        assert_eq!(after.guest_exclusion(), PhysRange::new(0, 0x0410_0000));
    }

    #[test]
    fn ranges_contain_and_overlap_without_overflow() {
        let r = PhysRange::new(0x1000, 0x1000);
        assert!(r.contains_range(0x1000, 0x1000) && !r.contains_range(0x1800, 0x1000));
        assert!(!r.contains_range(u64::MAX, 2));
        assert!(r.overlaps(0x1FFF, 1) && !r.overlaps(0x2000, 1) && !r.overlaps(0x1000, 0));
    }
}
