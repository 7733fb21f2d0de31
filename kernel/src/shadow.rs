//! Shadow paging: the checks and table edits behind a guest's MMU hypercalls.
//!
//! - A shadow-paged guest asks for mappings of its own guest-physical pages;
//!   the monitor translates each through the guest's regions (`guest_base`
//!   to `base`) and devices (identity, Device memory, never executable), and
//!   refuses everything else with an error code, never a fault.
//! - Its channel ends (docs/channels.md) are identity-mapped shared memory
//!   (`Memory::Shared`, the same type in every view of a channel), never
//!   executable, and read-only for the reader: a MAP asking more is
//!   refused as a page the guest does not own.
//! - The tables the hardware walks live in the guest's pool in the board's
//!   table area, which no guest region contains: L1 tables (one per address
//!   space) and L2 tables, counted in the TOML. No allocation: the pool's
//!   bookkeeping is a fixed bitmap, the tables themselves are the state.
//! - Every entry written is non-global (nG = 1), and each address space has
//!   its own ASID, so a switch between spaces (or guests) needs no full TLB
//!   invalidation; the monitor gets back the TLB maintenance each edit
//!   needs ([`Tlb`]).
//! - Pure logic over a [`TableMemory`]: a `Vec` on the host (tests walk the
//!   tables back), physical memory in the monitor (MMU off).
#![forbid(unsafe_code)]

use crate::vmsa::{self, Access, Memory};

/// Most address spaces one guest may declare (`address_spaces`).
pub const MAX_SPACES: u32 = 32;
/// Most L2 tables one guest may declare (`page_tables`).
pub const MAX_PAGE_TABLES: u32 = 256;

/// MAP flag: the page is writable (otherwise read-only).
pub const WRITABLE: u32 = 1 << 0;
/// MAP flag: the page is executable (otherwise XN); not with [`DEVICE`].
pub const EXECUTABLE: u32 = 1 << 1;
/// MAP flag: map as Device memory (device pages always are).
pub const DEVICE: u32 = 1 << 2;
/// Every flag MAP knows; other bits of the flag field are refused.
pub const FLAGS: u32 = WRITABLE | EXECUTABLE | DEVICE;

/// A RAM region of the guest: guest-physical `[guest_base, guest_base +
/// size)` is physical `[base, base + size)`. Validation keeps neither range
/// wrapping around 4 GiB, and both 4 KiB aligned.
pub use crate::config::Region as Ram;
use crate::config::{ChannelEnd, Device};

/// A guest's pool of tables, physical addresses in the table area: L1
/// tables at `l1_base + 16 KiB * i` (16 KiB aligned), L2 tables at
/// `l2_base + 1 KiB * j`; address space `i` has ASID `asid + i`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool {
    pub l1_base: u32,
    pub spaces: u32,
    pub l2_base: u32,
    pub page_tables: u32,
    pub asid: u8,
}

/// What a guest owns: its RAM, its devices' register windows and the
/// core's MPCore private page (physical; identity-mapped as Device), and
/// its channel ends (identity-mapped as Shared).
#[derive(Clone, Copy, Debug)]
pub struct Owned<'a> {
    pub ram: &'a [Ram],
    pub devices: &'a [Device],
    pub cpu_page: Option<u32>,
    pub channels: &'a [ChannelEnd],
}

impl Owned<'_> {
    /// Every device window `(base, size)`, the MPCore page included.
    pub fn windows(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.devices
            .iter()
            .map(|d| (d.regs.base, d.regs.size))
            .chain(self.cpu_page.map(|p| (p, vmsa::SMALL_PAGE)))
    }
}

/// Why a request was refused; each is a hypercall error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// A misaligned address, unknown flag bits, executable Device memory, an
    /// address space id out of range or not created.
    InvalidParameter,
    /// The guest-physical page is not in the guest's regions or devices.
    Denied,
    /// The pool has no free L1 (address space) or L2 table.
    NoMemory,
    /// The virtual page is already mapped in that space (unmap it first).
    AlreadyMapped,
    /// UNMAP of a virtual page that is not mapped.
    NotMapped,
}

/// The TLB maintenance an accepted request needs (after a DSB).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tlb {
    /// A fault entry became valid: no TLB holds fault entries.
    None,
    /// Invalidate one page of one ASID (TLBIMVA with `va | asid`).
    Page { va: u32, asid: u8 },
    /// Invalidate every entry of one ASID (TLBIASID).
    Asid(u8),
}

/// Word-addressed access to the table area.
pub trait TableMemory {
    fn read(&self, address: u32) -> u32;
    fn write(&mut self, address: u32, word: u32);
}

/// What the monitor loads on SPACE_SWITCH.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Switch {
    pub ttbr0: u32,
    pub asid: u8,
}

/// One guest's bookkeeping: which spaces exist, which L2 tables are used.
/// Lives in monitor memory; the rest of the state is in the tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shadow {
    created: u32,
    l2_used: [u32; (MAX_PAGE_TABLES / 32) as usize],
}

impl Default for Shadow {
    fn default() -> Self {
        Self::new()
    }
}

/// The physical page, memory type and the most access a guest may have to
/// a guest-physical page, if the guest owns it: its RAM read-write and
/// executable, its devices read-write, its channels read-write for the
/// writer and read-only for the reader.
pub fn translate(owned: &Owned<'_>, gpa: u32) -> Option<(u32, Memory, Access)> {
    const RWX: Access = Access {
        writable: true,
        executable: true,
    };
    const RW: Access = Access {
        writable: true,
        executable: false,
    };
    for r in owned.ram {
        let offset = gpa.wrapping_sub(r.guest_base);
        if gpa >= r.guest_base && offset < r.size {
            return Some((r.base + offset, Memory::Normal, RWX));
        }
    }
    for end in owned.channels {
        let r = &end.region;
        if gpa >= r.base && gpa - r.base < r.size {
            let access = Access {
                writable: end.writable,
                executable: false,
            };
            return Some((gpa, Memory::Shared, access));
        }
    }
    let page = vmsa::SMALL_PAGE;
    for (base, size) in owned.windows() {
        let first = base & !(page - 1);
        // The last byte's page; a window is never empty.
        let last = base.saturating_add(size.saturating_sub(1)) & !(page - 1);
        if gpa >= first && gpa <= last {
            return Some((gpa, Memory::Device, RW));
        }
    }
    None
}

impl Shadow {
    pub const fn new() -> Self {
        Self {
            created: 0,
            l2_used: [0; (MAX_PAGE_TABLES / 32) as usize],
        }
    }

    /// Whether address space `space` exists.
    pub fn exists(&self, pool: &Pool, space: u32) -> bool {
        space < pool.spaces.min(MAX_SPACES) && self.created & (1 << space) != 0
    }

    fn l1(pool: &Pool, space: u32) -> u32 {
        pool.l1_base + space * vmsa::L1_BYTES
    }

    /// SPACE_CREATE: a new, empty address space (its L1 table zeroed);
    /// returns its id.
    pub fn create(&mut self, pool: &Pool, mem: &mut impl TableMemory) -> Result<u32, Error> {
        let space = (0..pool.spaces.min(MAX_SPACES))
            .find(|&s| self.created & (1 << s) == 0)
            .ok_or(Error::NoMemory)?;
        let l1 = Self::l1(pool, space);
        for i in 0..vmsa::L1_ENTRIES as u32 {
            mem.write(l1 + 4 * i, 0);
        }
        self.created |= 1 << space;
        Ok(space)
    }

    /// SPACE_SWITCH: what to load into TTBR0 and CONTEXTIDR.ASID.
    pub fn switch(&self, pool: &Pool, space: u32) -> Result<Switch, Error> {
        if !self.exists(pool, space) {
            return Err(Error::InvalidParameter);
        }
        Ok(Switch {
            ttbr0: vmsa::ttbr0(Self::l1(pool, space)),
            asid: pool.asid.wrapping_add(space as u8),
        })
    }

    /// SPACE_DESTROY: frees the space and its L2 tables; its ASID's TLB
    /// entries must go before the id is reused. The caller refuses to
    /// destroy the space the guest currently runs in.
    pub fn destroy(
        &mut self,
        pool: &Pool,
        mem: &mut impl TableMemory,
        space: u32,
    ) -> Result<Tlb, Error> {
        if !self.exists(pool, space) {
            return Err(Error::InvalidParameter);
        }
        let l1 = Self::l1(pool, space);
        for i in 0..vmsa::L1_ENTRIES as u32 {
            let word = mem.read(l1 + 4 * i);
            if let Some(table) = vmsa::decode_page_table(word) {
                if let Some(j) = self.l2_slot(pool, table) {
                    self.l2_used[(j / 32) as usize] &= !(1 << (j % 32));
                }
                mem.write(l1 + 4 * i, 0);
            }
        }
        self.created &= !(1 << space);
        Ok(Tlb::Asid(pool.asid.wrapping_add(space as u8)))
    }

    fn l2_slot(&self, pool: &Pool, table: u32) -> Option<u32> {
        let offset = table.wrapping_sub(pool.l2_base);
        let j = offset / vmsa::L2_BYTES;
        (table >= pool.l2_base && j < pool.page_tables.min(MAX_PAGE_TABLES)).then_some(j)
    }

    /// The L2 table an L1 word points at, if it is one of the pool's.
    fn pool_table(&self, pool: &Pool, word: u32) -> Option<u32> {
        let table = vmsa::decode_page_table(word)?;
        self.l2_slot(pool, table).map(|_| table)
    }

    fn allocate_l2(&mut self, pool: &Pool) -> Option<u32> {
        let j = (0..pool.page_tables.min(MAX_PAGE_TABLES))
            .find(|&j| self.l2_used[(j / 32) as usize] & (1 << (j % 32)) == 0)?;
        self.l2_used[(j / 32) as usize] |= 1 << (j % 32);
        Some(pool.l2_base + j * vmsa::L2_BYTES)
    }

    /// Creates a guest's address space 0 as it boots in it: every page of
    /// its regions at its guest-physical address (writable, executable;
    /// whole aligned MiBs as sections, which are fast to write and need no
    /// L2 table), its devices and the MPCore page identity-mapped
    /// (Device), its channel ends identity-mapped (Shared, writable only
    /// for the writer). `Err` when the pool is too small to hold it: the space is
    /// destroyed again and the guest starts with its MMU off.
    pub fn build_boot_space(
        &mut self,
        pool: &Pool,
        owned: &Owned<'_>,
        mem: &mut impl TableMemory,
    ) -> Result<Switch, Error> {
        let space = self.create(pool, mem)?;
        let built = self.map_own_memory(pool, owned, mem, space);
        match built {
            Ok(()) => self.switch(pool, space),
            Err(e) => {
                self.destroy(pool, mem, space)?;
                Err(e)
            }
        }
    }

    fn map_own_memory(
        &mut self,
        pool: &Pool,
        owned: &Owned<'_>,
        mem: &mut impl TableMemory,
        space: u32,
    ) -> Result<(), Error> {
        for r in owned.ram {
            let mut offset = 0;
            while offset < r.size {
                let gpa = r.guest_base + offset;
                if self.map_section(pool, owned, mem, space, gpa, gpa).is_ok() {
                    offset += vmsa::SECTION;
                } else {
                    self.map(pool, owned, mem, space, gpa, gpa, WRITABLE | EXECUTABLE)?;
                    offset += vmsa::SMALL_PAGE;
                }
            }
        }
        for (base, size) in owned.windows() {
            let end = base.saturating_add(size.max(1) - 1);
            let last = end & !(vmsa::SMALL_PAGE - 1);
            let mut page = base & !(vmsa::SMALL_PAGE - 1);
            loop {
                self.map(pool, owned, mem, space, page, page, WRITABLE)?;
                if page == last {
                    break;
                }
                page += vmsa::SMALL_PAGE;
            }
        }
        for end in owned.channels {
            let flags = if end.writable { WRITABLE } else { 0 };
            let mut offset = 0;
            while offset < end.region.size {
                let page = end.region.base + offset;
                self.map(pool, owned, mem, space, page, page, flags)?;
                offset += vmsa::SMALL_PAGE;
            }
        }
        Ok(())
    }

    /// L2 tables in use (all spaces).
    pub fn page_tables_used(&self) -> u32 {
        self.l2_used.iter().map(|w| w.count_ones()).sum()
    }

    #[allow(clippy::too_many_arguments)]
    /// MAP: virtual page `va` of `space` to guest-physical page `gpa` with
    /// `flags` ([`WRITABLE`], [`EXECUTABLE`], [`DEVICE`]).
    pub fn map(
        &mut self,
        pool: &Pool,
        owned: &Owned<'_>,
        mem: &mut impl TableMemory,
        space: u32,
        va: u32,
        gpa: u32,
        flags: u32,
    ) -> Result<Tlb, Error> {
        let page = vmsa::SMALL_PAGE;
        if !va.is_multiple_of(page) || !gpa.is_multiple_of(page) || flags & !FLAGS != 0 {
            return Err(Error::InvalidParameter);
        }
        if !self.exists(pool, space) {
            return Err(Error::InvalidParameter);
        }
        let (pa, owned_memory, most) = translate(owned, gpa).ok_or(Error::Denied)?;
        if owned_memory == Memory::Shared
            && (flags & (DEVICE | EXECUTABLE) != 0 || (flags & WRITABLE != 0 && !most.writable))
        {
            // A channel is one memory type in every view, never code, and
            // its reader's view is read-only: more is not the guest's.
            return Err(Error::Denied);
        }
        let memory = if flags & DEVICE != 0 {
            Memory::Device
        } else {
            owned_memory
        };
        let executable = flags & EXECUTABLE != 0;
        if executable && memory == Memory::Device {
            return Err(Error::InvalidParameter);
        }
        let l1_entry = Self::l1(pool, space) + 4 * vmsa::l1_index(va) as u32;
        let word = mem.read(l1_entry);
        if vmsa::is_section(word) {
            return Err(Error::AlreadyMapped);
        }
        if word != 0 && self.pool_table(pool, word).is_none() {
            // Only the monitor writes the tables; a guest that found a way
            // to write them gets nothing written where they point.
            return Err(Error::InvalidParameter);
        }
        let table = match self.pool_table(pool, word) {
            Some(table) => {
                if mem.read(table + 4 * vmsa::l2_index(va) as u32) != 0 {
                    return Err(Error::AlreadyMapped);
                }
                table
            }
            None => {
                let table = self.allocate_l2(pool).ok_or(Error::NoMemory)?;
                for i in 0..vmsa::L2_ENTRIES as u32 {
                    mem.write(table + 4 * i, 0);
                }
                mem.write(l1_entry, vmsa::page_table(table));
                table
            }
        };
        let access = Access {
            writable: flags & WRITABLE != 0,
            executable,
        };
        mem.write(
            table + 4 * vmsa::l2_index(va) as u32,
            vmsa::shadow_page(pa, memory, access),
        );
        Ok(Tlb::None)
    }

    /// Maps the 1 MiB at `va` to guest-physical `gpa` as one section,
    /// read-write and executable: how the monitor builds a guest's boot
    /// space where a region's MiB is aligned in both address spaces. Not a
    /// hypercall. Such a MiB cannot take pages; UNMAP at its base removes it.
    pub fn map_section(
        &mut self,
        pool: &Pool,
        owned: &Owned<'_>,
        mem: &mut impl TableMemory,
        space: u32,
        va: u32,
        gpa: u32,
    ) -> Result<Tlb, Error> {
        let mib = vmsa::SECTION;
        if !va.is_multiple_of(mib) || !gpa.is_multiple_of(mib) || !self.exists(pool, space) {
            return Err(Error::InvalidParameter);
        }
        let whole = owned
            .ram
            .iter()
            .find(|r| gpa >= r.guest_base && r.size >= mib && gpa - r.guest_base <= r.size - mib);
        let r = whole.ok_or(Error::Denied)?;
        let pa = r.base + (gpa - r.guest_base);
        if !pa.is_multiple_of(mib) {
            return Err(Error::InvalidParameter);
        }
        let l1_entry = Self::l1(pool, space) + 4 * vmsa::l1_index(va) as u32;
        if mem.read(l1_entry) != 0 {
            return Err(Error::AlreadyMapped);
        }
        mem.write(l1_entry, vmsa::shadow_section(pa, Memory::Normal));
        Ok(Tlb::None)
    }

    /// UNMAP: virtual page `va` of `space`. Its L2 table stays with the
    /// space until the space is destroyed.
    pub fn unmap(
        &mut self,
        pool: &Pool,
        mem: &mut impl TableMemory,
        space: u32,
        va: u32,
    ) -> Result<Tlb, Error> {
        if !va.is_multiple_of(vmsa::SMALL_PAGE) || !self.exists(pool, space) {
            return Err(Error::InvalidParameter);
        }
        let l1_entry = Self::l1(pool, space) + 4 * vmsa::l1_index(va) as u32;
        let word = mem.read(l1_entry);
        if word == 0 {
            return Err(Error::NotMapped);
        }
        if vmsa::is_section(word) {
            if !va.is_multiple_of(vmsa::SECTION) {
                return Err(Error::InvalidParameter);
            }
            mem.write(l1_entry, 0);
            return Ok(Tlb::Page {
                va,
                asid: pool.asid.wrapping_add(space as u8),
            });
        }
        let table = self.pool_table(pool, word).ok_or(Error::InvalidParameter)?;
        let entry = table + 4 * vmsa::l2_index(va) as u32;
        if mem.read(entry) == 0 {
            return Err(Error::NotMapped);
        }
        mem.write(entry, 0);
        Ok(Tlb::Page {
            va,
            asid: pool.asid.wrapping_add(space as u8),
        })
    }

    /// FLUSH: every TLB entry of `space`.
    pub fn flush(&self, pool: &Pool, space: u32) -> Result<Tlb, Error> {
        if !self.exists(pool, space) {
            return Err(Error::InvalidParameter);
        }
        Ok(Tlb::Asid(pool.asid.wrapping_add(space as u8)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// The table area of a test board: [0x60F0_0000..0x6100_0000).
    struct Area(Vec<u32>);
    const AREA: u32 = 0x60F0_0000;
    const AREA_SIZE: u32 = 0x10_0000;
    impl TableMemory for Area {
        fn read(&self, address: u32) -> u32 {
            assert!(
                address >= AREA && address - AREA < AREA_SIZE,
                "{address:#x}"
            );
            self.0[((address - AREA) / 4) as usize]
        }
        fn write(&mut self, address: u32, word: u32) {
            assert!(
                address >= AREA && address - AREA < AREA_SIZE,
                "{address:#x}"
            );
            self.0[((address - AREA) / 4) as usize] = word;
        }
    }
    fn area() -> Area {
        Area(vec![0xDEAD_BEEF; (AREA_SIZE / 4) as usize])
    }

    const POOL: Pool = Pool {
        l1_base: 0x60F1_0000,
        spaces: 2,
        l2_base: 0x60F1_8000,
        page_tables: 4,
        asid: 7,
    };
    const RAM: [Ram; 2] = [
        Ram {
            guest_base: 0x8000_0000,
            base: 0x7100_0000,
            size: 0x10_0000,
        },
        Ram {
            guest_base: 0x8020_0000,
            base: 0x7000_0000,
            size: 0x2000,
        },
    ];
    const DEVICES: [Device; 1] = [Device {
        name: "uart1",
        regs: Ram {
            base: 0x1000_A000,
            size: 0x1000,
            guest_base: 0x1000_A000,
        },
        interrupts: &[],
    }];
    const CPU_PAGE: u32 = 0x1E00_0000;
    /// It writes one channel (two pages) and reads another (one page).
    const WRITES: u32 = 0x9FF0_0000;
    const READS: u32 = 0x9FF0_2000;
    const CHANNELS: [ChannelEnd; 2] = [
        ChannelEnd {
            name: "down",
            channel: 0,
            region: Ram {
                base: WRITES,
                size: 0x2000,
                guest_base: WRITES,
            },
            writable: true,
            notify: None,
        },
        ChannelEnd {
            name: "up",
            channel: 1,
            region: Ram {
                base: READS,
                size: 0x1000,
                guest_base: READS,
            },
            writable: false,
            notify: Some(crate::config::Interrupt {
                id: 75,
                priority: crate::config::Interrupt::DEFAULT_PRIORITY,
                trigger: crate::config::Trigger::Edge,
            }),
        },
    ];
    const OWNED: Owned<'static> = Owned {
        ram: &RAM,
        devices: &DEVICES,
        cpu_page: Some(CPU_PAGE),
        channels: &CHANNELS,
    };

    /// The small pages of the L1 table at `l1`: virtual page → descriptor
    /// (sections skipped).
    fn walk_pages(mem: &Area, l1: u32) -> BTreeMap<u32, u32> {
        let mut out = BTreeMap::new();
        for i in 0..4096u32 {
            if let Some(table) = vmsa::decode_page_table(mem.read(l1 + 4 * i)) {
                for j in 0..256u32 {
                    let entry = mem.read(table + 4 * j);
                    if entry != 0 {
                        out.insert((i << 20) | (j << 12), entry);
                    }
                }
            }
        }
        out
    }

    /// Walks space `space` back: virtual page → descriptor.
    fn walk(mem: &Area, pool: &Pool, space: u32) -> BTreeMap<u32, u32> {
        let mut out = BTreeMap::new();
        let l1 = pool.l1_base + space * vmsa::L1_BYTES;
        for i in 0..4096u32 {
            let word = mem.read(l1 + 4 * i);
            if word == 0 {
                continue;
            }
            let table = vmsa::decode_page_table(word).expect("only page tables");
            assert!(table >= pool.l2_base && table < pool.l2_base + pool.page_tables * 1024);
            for j in 0..256u32 {
                let entry = mem.read(table + 4 * j);
                if entry != 0 {
                    out.insert((i << 20) | (j << 12), entry);
                }
            }
        }
        out
    }

    #[test]
    fn map_translates_through_guest_base_and_walks_back() {
        let mut mem = area();
        let mut s = Shadow::new();
        assert_eq!(s.create(&POOL, &mut mem), Ok(0));
        let r = s.map(
            &POOL,
            &OWNED,
            &mut mem,
            0,
            0x0000_1000,
            0x8000_3000,
            WRITABLE,
        );
        assert_eq!(r, Ok(Tlb::None));
        let r = s.map(
            &POOL,
            &OWNED,
            &mut mem,
            0,
            0x0000_2000,
            0x1000_A000,
            WRITABLE,
        );
        assert_eq!(r, Ok(Tlb::None));
        let walked = walk(&mem, &POOL, 0);
        assert_eq!(walked.len(), 2);
        let (pa, memory, access, global) = vmsa::decode_small_page(walked[&0x1000]).unwrap();
        assert_eq!((pa, memory, global), (0x7100_3000, Memory::Normal, false));
        assert!(access.writable && !access.executable);
        let (pa, memory, _, _) = vmsa::decode_small_page(walked[&0x2000]).unwrap();
        assert_eq!((pa, memory), (0x1000_A000, Memory::Device));
        assert_eq!(s.page_tables_used(), 1);
        assert_eq!(
            s.switch(&POOL, 0),
            Ok(Switch {
                ttbr0: vmsa::ttbr0(0x60F1_0000),
                asid: 7
            })
        );
    }

    #[test]
    fn hostile_requests_are_refused_with_codes() {
        let mut mem = area();
        let mut s = Shadow::new();
        let m = |s: &mut Shadow, mem: &mut Area, space, va, gpa, flags| {
            s.map(&POOL, &OWNED, mem, space, va, gpa, flags)
        };
        assert_eq!(
            m(&mut s, &mut mem, 0, 0, 0x8000_0000, 0),
            Err(Error::InvalidParameter),
            "no space yet"
        );
        s.create(&POOL, &mut mem).unwrap();
        // The physical address of its own RAM is not a guest-physical one.
        assert_eq!(
            m(&mut s, &mut mem, 0, 0, 0x7100_0000, 0),
            Err(Error::Denied)
        );
        // The monitor's reservation, the table area, another guest's RAM.
        for gpa in [
            0x6000_0000,
            0x60F1_0000,
            0x7200_0000,
            0x1000_9000,
            0xFFFF_F000,
        ] {
            assert_eq!(
                m(&mut s, &mut mem, 0, 0, gpa, 0),
                Err(Error::Denied),
                "{gpa:#x}"
            );
        }
        // Past the end of a region (first page after it).
        assert_eq!(
            m(&mut s, &mut mem, 0, 0, 0x8010_0000, 0),
            Err(Error::Denied)
        );
        assert_eq!(
            m(&mut s, &mut mem, 0, 0, 0x8020_2000, 0),
            Err(Error::Denied)
        );
        assert_eq!(
            m(&mut s, &mut mem, 0, 0x10, 0x8000_0000, 0),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            m(&mut s, &mut mem, 0, 0, 0x8000_0004, 0),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            m(&mut s, &mut mem, 0, 0, 0x8000_0000, 8),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            m(&mut s, &mut mem, 5, 0, 0x8000_0000, 0),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            m(&mut s, &mut mem, 1, 0, 0x8000_0000, 0),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            m(&mut s, &mut mem, 0, 0, 0x1000_A000, EXECUTABLE),
            Err(Error::InvalidParameter)
        );
        // Channels: no write to the one it reads, no execution, no Device
        // view of either, nothing past their ends.
        for (gpa, flags) in [
            (READS, WRITABLE),
            (READS, EXECUTABLE),
            (READS, DEVICE),
            (WRITES, EXECUTABLE),
            (WRITES, WRITABLE | EXECUTABLE),
            (WRITES + 0x1000, DEVICE | WRITABLE),
            (READS + 0x1000, 0),
            (WRITES - 0x1000, 0),
        ] {
            assert_eq!(
                m(&mut s, &mut mem, 0, 0x40_0000, gpa, flags),
                Err(Error::Denied),
                "{gpa:#x} {flags:#x}"
            );
        }
        assert_eq!(
            translate(&OWNED, READS),
            Some((
                READS,
                Memory::Shared,
                Access {
                    writable: false,
                    executable: false
                }
            ))
        );
        assert_eq!(
            m(&mut s, &mut mem, 0, 0x40_0000, READS, 0),
            Ok(Tlb::None),
            "read-only, as it may"
        );
        assert_eq!(
            m(&mut s, &mut mem, 0, 0x40_1000, WRITES + 0x1000, WRITABLE),
            Ok(Tlb::None)
        );
        for va in [0x40_0000, 0x40_1000] {
            assert!(s.unmap(&POOL, &mut mem, 0, va).is_ok());
        }
        assert_eq!(m(&mut s, &mut mem, 0, 0, 0x8000_0000, 0), Ok(Tlb::None));
        assert_eq!(
            m(&mut s, &mut mem, 0, 0, 0x8000_1000, 0),
            Err(Error::AlreadyMapped)
        );
        assert_eq!(s.unmap(&POOL, &mut mem, 0, 0x1000), Err(Error::NotMapped));
        assert_eq!(
            s.unmap(&POOL, &mut mem, 0, 0x9000_0000),
            Err(Error::NotMapped)
        );
        assert_eq!(
            s.unmap(&POOL, &mut mem, 0, 0),
            Ok(Tlb::Page { va: 0, asid: 7 })
        );
        assert!(walk(&mem, &POOL, 0).is_empty());
    }

    #[test]
    fn full_pools_answer_no_memory_and_destroy_frees() {
        let mut mem = area();
        let mut s = Shadow::new();
        assert_eq!(s.create(&POOL, &mut mem), Ok(0));
        assert_eq!(s.create(&POOL, &mut mem), Ok(1));
        assert_eq!(s.create(&POOL, &mut mem), Err(Error::NoMemory));
        for i in 0..4 {
            let r = s.map(&POOL, &OWNED, &mut mem, 1, i << 20, 0x8000_0000, 0);
            assert_eq!(r, Ok(Tlb::None));
        }
        let r = s.map(&POOL, &OWNED, &mut mem, 0, 4 << 20, 0x8000_0000, 0);
        assert_eq!(r, Err(Error::NoMemory));
        assert_eq!(s.destroy(&POOL, &mut mem, 1), Ok(Tlb::Asid(8)));
        assert_eq!(s.page_tables_used(), 0);
        assert_eq!(s.switch(&POOL, 1), Err(Error::InvalidParameter));
        let r = s.map(&POOL, &OWNED, &mut mem, 0, 4 << 20, 0x8000_0000, 0);
        assert_eq!(r, Ok(Tlb::None));
        assert_eq!(s.create(&POOL, &mut mem), Ok(1));
        assert!(walk(&mem, &POOL, 1).is_empty());
    }

    #[test]
    fn boot_sections_map_whole_aligned_mebibytes() {
        let mut mem = area();
        let mut s = Shadow::new();
        s.create(&POOL, &mut mem).unwrap();
        let sec =
            |s: &mut Shadow, mem: &mut Area, va, gpa| s.map_section(&POOL, &OWNED, mem, 0, va, gpa);
        assert_eq!(
            sec(&mut s, &mut mem, 0x8000_0000, 0x8000_0000),
            Ok(Tlb::None)
        );
        let word = mem.read(POOL.l1_base + 4 * 0x800);
        assert_eq!(
            word,
            vmsa::section(0x7100_0000, Memory::Normal) | vmsa::L1_NG
        );
        // Not a whole MiB of its RAM; misaligned; taken.
        assert_eq!(
            sec(&mut s, &mut mem, 0x8020_0000, 0x8020_0000),
            Err(Error::Denied)
        );
        assert_eq!(
            sec(&mut s, &mut mem, 0x8010_0000, 0x8010_0000),
            Err(Error::Denied)
        );
        assert_eq!(
            sec(&mut s, &mut mem, 0x8000_1000, 0x8000_0000),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            sec(&mut s, &mut mem, 0x8000_0000, 0x8000_0000),
            Err(Error::AlreadyMapped)
        );
        let r = s.map(&POOL, &OWNED, &mut mem, 0, 0x8000_1000, 0x8000_1000, 0);
        assert_eq!(r, Err(Error::AlreadyMapped));
        assert_eq!(
            s.unmap(&POOL, &mut mem, 0, 0x8000_1000),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            s.unmap(&POOL, &mut mem, 0, 0x8000_0000),
            Ok(Tlb::Page {
                va: 0x8000_0000,
                asid: 7
            })
        );
        assert_eq!(s.page_tables_used(), 0);
    }

    #[test]
    fn boot_spaces_map_the_guests_own_memory_or_nothing() {
        let mut mem = area();
        let mut s = Shadow::new();
        let sw = s.build_boot_space(&POOL, &OWNED, &mut mem).unwrap();
        assert_eq!(sw, s.switch(&POOL, 0).unwrap());
        // The whole MiB as one section; the 8 KiB region and the device
        // and MPCore pages as small pages.
        assert_eq!(
            mem.read(POOL.l1_base + 4 * 0x800),
            vmsa::section(0x7100_0000, Memory::Normal) | vmsa::L1_NG
        );
        let mut mapped = Vec::new();
        for i in 0..4096u32 {
            let word = mem.read(POOL.l1_base + 4 * i);
            if let Some(table) = vmsa::decode_page_table(word) {
                for j in 0..256u32 {
                    if mem.read(table + 4 * j) != 0 {
                        mapped.push((i << 20) | (j << 12));
                    }
                }
            } else if word != 0 {
                mapped.push(i << 20);
            }
        }
        assert_eq!(
            mapped,
            [
                0x1000_A000,
                CPU_PAGE,
                0x8000_0000,
                0x8020_0000,
                0x8020_1000,
                WRITES,
                WRITES + 0x1000,
                READS
            ],
            "only its own memory"
        );
        // Its channel ends: identity, Shared, never executable, the one it
        // reads read-only.
        let walked = walk_pages(&mem, POOL.l1_base);
        for (page, writable) in [(WRITES, true), (WRITES + 0x1000, true), (READS, false)] {
            let (pa, memory, access, global) =
                vmsa::decode_small_page(walked[&page]).expect("a small page");
            assert_eq!((pa, memory, global), (page, Memory::Shared, false));
            assert_eq!(access.writable, writable, "{page:#x}");
            assert!(!access.executable);
        }
        // A pool without L2 tables cannot hold the small pages: the space
        // is given back and nothing stays mapped.
        let tiny = Pool {
            page_tables: 0,
            ..POOL
        };
        let mut s = Shadow::new();
        assert_eq!(
            s.build_boot_space(&tiny, &OWNED, &mut mem),
            Err(Error::NoMemory)
        );
        assert!(!s.exists(&tiny, 0));
        assert_eq!(s.page_tables_used(), 0);
    }

    /// Per space: virtual page -> (physical page, memory type, flags).
    type Mappings = BTreeMap<u32, (u32, Memory, u32)>;

    #[derive(Clone, Debug)]
    enum Request {
        Create,
        Destroy(u32),
        Map(u32, u32, u32, u32),
        Unmap(u32, u32),
    }

    /// Guest-physical pages worth trying: its own, just outside, the
    /// physical addresses of its RAM, the monitor, the table area, another
    /// guest, devices, the top of the address space; and any word at all.
    fn address() -> impl Strategy<Value = u32> {
        prop_oneof![
            (0u32..0x101).prop_map(|p| 0x8000_0000 + p * 0x1000),
            (0u32..3).prop_map(|p| 0x8020_0000 + p * 0x1000),
            (0u32..0x101).prop_map(|p| 0x7100_0000 + p * 0x1000),
            Just(0x6000_0000u32),
            Just(0x60F1_0000u32),
            Just(0x7200_0000u32),
            (0u32..3).prop_map(|p| 0x1000_9000 + p * 0x1000),
            (0u32..2).prop_map(|p| 0x1DFF_F000 + p * 0x1000),
            (0u32..5).prop_map(|p| WRITES - 0x1000 + p * 0x1000),
            Just(0xFFFF_F000u32),
            any::<u32>(),
        ]
    }

    fn request() -> impl Strategy<Value = Request> {
        prop_oneof![
            1 => Just(Request::Create),
            1 => (0u32..4).prop_map(Request::Destroy),
            8 => (0u32..4, prop_oneof![(0u32..8).prop_map(|p| p << 20 | 0x3000), any::<u32>()], address(), 0u32..16)
                .prop_map(|(s, va, gpa, f)| Request::Map(s, va, gpa, f)),
            2 => (0u32..4, prop_oneof![(0u32..8).prop_map(|p| p << 20 | 0x3000), any::<u32>()])
                .prop_map(|(s, va)| Request::Unmap(s, va)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Whatever a guest asks, every accepted mapping lands in its own
        /// RAM, devices or channels (a reader's page never writable, no
        /// channel page executable), and the tables decode back to exactly
        /// the accepted mappings; nothing outside the pool is written.
        #[test]
        fn accepted_requests_map_only_the_guests_own_pages(
            requests in proptest::collection::vec(request(), 1..60)
        ) {
            let mut mem = area();
            let mut s = Shadow::new();
            // The model: per space, virtual page -> (physical page, memory).
            let mut model: [Option<Mappings>; 2] = [None, None];
            for r in requests {
                match r {
                    Request::Create => {
                        if let Ok(id) = s.create(&POOL, &mut mem) {
                            prop_assert!(model[id as usize].is_none());
                            model[id as usize] = Some(BTreeMap::new());
                        } else {
                            prop_assert!(model.iter().all(Option::is_some));
                        }
                    }
                    Request::Destroy(space) => {
                        let r = s.destroy(&POOL, &mut mem, space);
                        prop_assert_eq!(r.is_ok(), model.get(space as usize).is_some_and(Option::is_some));
                        if r.is_ok() {
                            model[space as usize] = None;
                        }
                    }
                    Request::Map(space, va, gpa, flags) => {
                        if let Ok(tlb) = s.map(&POOL, &OWNED, &mut mem, space, va, gpa, flags) {
                            prop_assert_eq!(tlb, Tlb::None);
                            let (pa, memory, _) = translate(&OWNED, gpa).expect("accepted: owned");
                            let in_ram = RAM.iter().any(|r| pa >= r.base && pa - r.base < r.size);
                            let in_device = pa == DEVICES[0].regs.base || pa == CPU_PAGE;
                            let in_channel = (WRITES..READS + 0x1000).contains(&pa);
                            prop_assert!(in_ram || in_device || in_channel, "{:#x}", pa);
                            prop_assert_eq!(in_channel, memory == Memory::Shared);
                            let memory = if flags & DEVICE != 0 { Memory::Device } else { memory };
                            let m = model[space as usize].as_mut().expect("accepted: exists");
                            prop_assert!(m.insert(va, (pa, memory, flags)).is_none());
                        }
                    }
                    Request::Unmap(space, va) => {
                        if s.unmap(&POOL, &mut mem, space, va).is_ok() {
                            let m = model[space as usize].as_mut().expect("accepted: exists");
                            prop_assert!(m.remove(&va).is_some());
                        }
                    }
                }
                for (space, m) in model.iter().enumerate() {
                    let Some(m) = m else { continue };
                    let walked = walk(&mem, &POOL, space as u32);
                    prop_assert_eq!(walked.len(), m.len());
                    for (va, word) in walked {
                        let (pa, memory, access, global) =
                            vmsa::decode_small_page(word).expect("a small page");
                        let &(mpa, mmemory, flags) = m.get(&va).expect("mapped by request");
                        prop_assert_eq!((pa, memory), (mpa, mmemory));
                        prop_assert!(!global);
                        if memory == Memory::Shared {
                            prop_assert!(!access.executable);
                            prop_assert!(pa != READS || !access.writable, "a reader's page is never writable");
                        }
                        prop_assert_eq!(access.writable, flags & WRITABLE != 0);
                        prop_assert_eq!(access.executable, flags & EXECUTABLE != 0);
                    }
                }
            }
            // Nothing outside the pool was ever written.
            let l1_end = POOL.l1_base + POOL.spaces * vmsa::L1_BYTES;
            let l2_end = POOL.l2_base + POOL.page_tables * vmsa::L2_BYTES;
            for (i, &w) in mem.0.iter().enumerate() {
                let a = AREA + 4 * i as u32;
                let in_pool = (a >= POOL.l1_base && a < l1_end) || (a >= POOL.l2_base && a < l2_end);
                if !in_pool {
                    prop_assert_eq!(w, 0xDEAD_BEEF, "{:#x}", a);
                }
            }
        }
    }
}
