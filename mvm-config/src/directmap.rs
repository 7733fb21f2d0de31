//! The direct map (PA = VA) of `paging = "direct"` guests, laid out at
//! build time.
//!
//! - Each direct-mapped guest gets an L1 table (16 KiB, 16 KiB aligned) and
//!   one L2 table (1 KiB) per MiB that holds one of its device pages; all L1
//!   tables come first in the board's table area, then all L2 tables, so no
//!   space is lost to alignment.
//! - RAM regions are Normal memory (write-back write-allocate, shareable),
//!   as 16 MiB supersections where base and remaining size allow, 1 MiB
//!   sections otherwise (validation keeps direct-mapped regions 1 MiB
//!   aligned). Devices are Device memory, never executable, as 4 KiB small
//!   pages, so that no neighbour of a 4 KiB window is reachable. Nothing
//!   else is mapped but the core's own MPCore page (below).
//! - The MPCore private page (SCU, the GIC CPU interface, the global
//!   timer, the private timers) is mapped as Device for every direct-mapped
//!   guest: the GIC CPU interface is how a guest takes its interrupts (its
//!   Non-secure view is banked), the global timer is its clock. The SCU's
//!   Non-secure access control keeps the private timers Secure on silicon
//!   (docs/memory.md).
//! - Each channel end (docs/channels.md) is mapped identity as 4 KiB
//!   small pages of shared memory (`Memory::Shared`: Normal non-cacheable,
//!   as every other view of the channel), never executable, read-only for
//!   the reader; a MiB holding channel pages takes an L2 table as one
//!   holding device pages does.
//! - Every entry is non-global (nG = 1): it matches only the guest's own
//!   ASID, so a switch between guests needs no full TLB invalidation
//!   (docs/memory.md, "ASIDs").
//! - Descriptors come from `mvm_kernel::vmsa`, the same encoders the
//!   monitor's future shadow paging will use.

use std::collections::BTreeMap;

use mvm_kernel::vmsa::{self, Memory};

use crate::model::{Guest, Paging, System};

/// One of a guest's channel ends, as its tables need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct End {
    base: u64,
    size: u64,
    writable: bool,
}

/// `guest`'s channel ends (`guest` an index into the system's guests).
fn ends(system: &System, guest: usize) -> Vec<End> {
    system
        .channel_ends(guest)
        .map(|(c, writable)| End {
            base: c.base,
            size: c.size,
            writable,
        })
        .collect()
}

/// One table: its address, size in words, and non-zero words by index.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TableIr {
    pub address: u32,
    pub words: u32,
    pub entries: Vec<(u32, u32)>,
}

/// A guest's translation: TTBR0 and its tables (L1 first).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TranslationIr {
    pub ttbr0: u32,
    pub tables: Vec<TableIr>,
}

impl TranslationIr {
    pub fn table_bytes(&self) -> u64 {
        self.tables.iter().map(|t| u64::from(t.words) * 4).sum()
    }
}

/// The tables do not fit in the board's table area.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableAreaFull {
    /// The first guest (index in the system) whose tables do not fit:
    /// direct-mapped guests' tables are placed first, then the pools.
    pub guest: usize,
    /// Bytes all tables need.
    pub needed: u64,
    /// Bytes of the direct-mapped guests' tables alone.
    pub direct_bytes: u64,
    /// Whether shadow-paged guests' pools take part.
    pub pools: bool,
    /// Bytes of the first guest that does not fit: its direct map's tables,
    /// or its pool when it is shadow-paged.
    pub guest_bytes: u64,
}

/// Where a shadow-paged guest's pool lies in the table area.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PoolIr {
    /// The first L1 table (16 KiB aligned); `spaces` follow it.
    pub l1_base: u32,
    pub spaces: u32,
    /// The first L2 table (1 KiB aligned); `page_tables` follow it.
    pub l2_base: u32,
    pub page_tables: u32,
}

/// What one guest maps: sections (L1 index → descriptor) and device pages
/// (MiB → L2 index → descriptor).
struct Map {
    l1: BTreeMap<usize, u32>,
    pages: BTreeMap<u32, BTreeMap<usize, u32>>,
}

fn map_of(guest: &Guest, ends: &[End], cpu_page: Option<u64>) -> Map {
    let mut l1 = BTreeMap::new();
    for r in &guest.memory {
        let mut va = r.base;
        let end = r.base + r.size;
        while va < end {
            let a = va as u32;
            if va % u64::from(vmsa::SUPERSECTION) == 0 && end - va >= u64::from(vmsa::SUPERSECTION)
            {
                let word = vmsa::supersection(a, Memory::Normal) | vmsa::L1_NG;
                for i in 0..16 {
                    l1.insert(vmsa::l1_index(a) + i, word);
                }
                va += u64::from(vmsa::SUPERSECTION);
            } else {
                l1.insert(
                    vmsa::l1_index(a),
                    vmsa::section(a, Memory::Normal) | vmsa::L1_NG,
                );
                va += u64::from(vmsa::SECTION);
            }
        }
    }
    let mut pages: BTreeMap<u32, BTreeMap<usize, u32>> = BTreeMap::new();
    let page = u64::from(vmsa::SMALL_PAGE);
    let windows = guest
        .devices
        .iter()
        .map(|d| (d.device.regs.base, d.device.regs.size))
        .chain(cpu_page.map(|p| (p, page)));
    for (base, size) in windows {
        let mut va = base / page * page;
        let end = (base + size).div_ceil(page) * page;
        while va < end && va < 1 << 32 {
            let a = va as u32;
            // RAM and devices never share a MiB on a board (the catalogue
            // tests say so); a section already there wins.
            if !l1.contains_key(&vmsa::l1_index(a)) {
                pages.entry(a >> 20).or_default().insert(
                    vmsa::l2_index(a),
                    vmsa::small_page(a, Memory::Device) | vmsa::L2_NG,
                );
            }
            va += page;
        }
    }
    for end in ends {
        let access = vmsa::Access {
            writable: end.writable,
            executable: false,
        };
        // Validation keeps channels 4 KiB aligned, in the channel area,
        // apart from every guest region and device.
        let mut va = end.base;
        while va < end.base + end.size && va < 1 << 32 {
            let a = va as u32;
            pages.entry(a >> 20).or_default().insert(
                vmsa::l2_index(a),
                vmsa::shadow_page(a, Memory::Shared, access),
            );
            va += page;
        }
    }
    Map { l1, pages }
}

/// Every guest's direct map, `None` for the others.
fn maps(system: &System, cpu_page: Option<u64>) -> Vec<Option<Map>> {
    system
        .guests
        .iter()
        .enumerate()
        .map(|(i, g)| (g.paging == Paging::Direct).then(|| map_of(g, &ends(system, i), cpu_page)))
        .collect()
}

/// Bytes of the direct maps' tables.
fn direct_bytes(system: &System, cpu_page: Option<u64>) -> u64 {
    let l1_bytes = u64::from(vmsa::L1_BYTES);
    let l2_bytes = u64::from(vmsa::L2_BYTES);
    maps(system, cpu_page)
        .iter()
        .flatten()
        .map(|m| l1_bytes + l2_bytes * m.pages.len() as u64)
        .sum()
}

/// Bytes of translation tables a system needs in the table area: the
/// direct maps' tables, then (from the next 16 KiB boundary) the pools.
pub fn table_bytes(system: &System) -> u64 {
    let cpu_page = crate::boards::cpu_interface_page(system.board.name);
    let l1_bytes = u64::from(vmsa::L1_BYTES);
    let direct = direct_bytes(system, cpu_page);
    let pools: u64 = system
        .guests
        .iter()
        .filter_map(|g| g.pool)
        .map(|p| p.bytes())
        .sum();
    if pools == 0 {
        direct
    } else {
        direct.next_multiple_of(l1_bytes) + pools
    }
}

/// The table area the system gets: whole MiBs at the top of the board's
/// bound (`mvm_board::Board::table_area_for`), the bound itself when the
/// tables do not fit (which [`layout`] reports).
pub fn table_area(system: &System) -> mvm_board::PhysRange {
    let board = system.board;
    board
        .table_area_for(table_bytes(system))
        .unwrap_or(board.table_area)
}

/// Lays out every direct-mapped guest's tables in the system's table area
/// ([`table_area`]); one entry per guest of the system, `None` for
/// shadow-paged guests. Fails when the tables exceed the board's bound.
pub fn layout(system: &System) -> Result<Vec<Option<TranslationIr>>, TableAreaFull> {
    let board = system.board;
    let bound = board.table_area;
    let area = table_area(system);
    let cpu_page = crate::boards::cpu_interface_page(board.name);
    let maps = maps(system, cpu_page);
    let direct = maps.iter().flatten().count() as u64;
    let l1_bytes = u64::from(vmsa::L1_BYTES);
    let l2_bytes = u64::from(vmsa::L2_BYTES);
    // Direct-mapped guests' tables first, then the pools from the next
    // 16 KiB boundary (pool L1 tables, then pool L2 tables), so adding a
    // shadow-paged guest never moves a direct map.
    let mut used = 0u64;
    let mut first = None;
    for (i, m) in maps.iter().enumerate() {
        if let Some(m) = m {
            let bytes = l1_bytes + l2_bytes * m.pages.len() as u64;
            used += bytes;
            if used > bound.size && first.is_none() {
                first = Some((i, bytes));
            }
        }
    }
    let direct_bytes = used;
    if system
        .guests
        .iter()
        .any(|g| g.pool.is_some_and(|p| p.bytes() != 0))
    {
        used = used.next_multiple_of(l1_bytes);
    }
    let mut pools = false;
    for (i, g) in system.guests.iter().enumerate() {
        if let Some(p) = g.pool {
            pools |= p.bytes() != 0;
            used += p.bytes();
            if used > bound.size && first.is_none() {
                first = Some((i, p.bytes()));
            }
        }
    }
    if let Some((guest, guest_bytes)) = first {
        return Err(TableAreaFull {
            guest,
            needed: used,
            direct_bytes,
            pools,
            guest_bytes,
        });
    }
    let addr = |a: u64| u32::try_from(a).expect("the table area lies below 4 GiB");
    let mut next_l1 = area.base;
    let mut next_l2 = area.base + direct * l1_bytes;
    Ok(maps
        .into_iter()
        .map(|m| {
            let m = m?;
            let l1_address = addr(next_l1);
            next_l1 += l1_bytes;
            let mut l1 = m.l1;
            let mut tables = Vec::new();
            for (mib, entries) in m.pages {
                let address = addr(next_l2);
                next_l2 += l2_bytes;
                l1.insert(mib as usize, vmsa::page_table(address));
                tables.push(TableIr {
                    address,
                    words: vmsa::L2_ENTRIES as u32,
                    entries: entries.into_iter().map(|(i, w)| (i as u32, w)).collect(),
                });
            }
            tables.insert(
                0,
                TableIr {
                    address: l1_address,
                    words: vmsa::L1_ENTRIES as u32,
                    entries: l1.into_iter().map(|(i, w)| (i as u32, w)).collect(),
                },
            );
            Some(TranslationIr {
                ttbr0: vmsa::ttbr0(l1_address),
                tables,
            })
        })
        .collect())
}

/// L2 tables a shadow-paged guest's boot space takes (the monitor builds it
/// at boot, `kernel/src/monitor/boot.rs`): one per MiB of guest-physical
/// space that holds RAM not mapped by a whole section (a MiB aligned in
/// both address spaces), one of its device pages, one of its channels'
/// pages or the MPCore page. `guest` is an index into the system's guests.
pub fn boot_page_tables(system: &System, guest: usize, cpu_page: Option<u64>) -> u64 {
    let ends = ends(system, guest);
    let guest = &system.guests[guest];
    let mib = u64::from(vmsa::SECTION);
    let mut mibs = std::collections::BTreeSet::new();
    for (r, &gb) in guest.memory.iter().zip(&guest.guest_bases) {
        let mut offset = 0;
        while offset < r.size {
            let (g, p) = (gb + offset, r.base + offset);
            if g % mib == 0 && p % mib == 0 && r.size - offset >= mib {
                offset += mib;
            } else {
                mibs.insert(g / mib);
                offset += u64::from(vmsa::SMALL_PAGE);
            }
        }
    }
    let windows = guest
        .devices
        .iter()
        .map(|d| (d.device.regs.base, d.device.regs.size))
        .chain(cpu_page.map(|p| (p, u64::from(vmsa::SMALL_PAGE))))
        .chain(ends.iter().map(|e| (e.base, e.size)));
    for (base, size) in windows {
        let mut page = base / mib * mib;
        while page < base + size.max(1) {
            if page + mib > base {
                mibs.insert(page / mib);
            }
            page += mib;
        }
    }
    mibs.len() as u64
}

/// Lays out every shadow-paged guest's pool after the direct maps (see
/// [`layout`], which checks that everything fits); one entry per guest,
/// `None` for direct-mapped guests.
pub fn pools(system: &System) -> Vec<Option<PoolIr>> {
    let area = table_area(system);
    let cpu_page = crate::boards::cpu_interface_page(system.board.name);
    let l1_bytes = u64::from(vmsa::L1_BYTES);
    let l2_bytes = u64::from(vmsa::L2_BYTES);
    let direct = direct_bytes(system, cpu_page);
    let mut next_l1 = (area.base + direct).next_multiple_of(l1_bytes);
    let spaces: u64 = system
        .guests
        .iter()
        .filter_map(|g| g.pool)
        .map(|p| u64::from(p.address_spaces))
        .sum();
    let mut next_l2 = next_l1 + spaces * l1_bytes;
    let addr = |a: u64| u32::try_from(a).expect("the table area lies below 4 GiB");
    system
        .guests
        .iter()
        .map(|g| {
            let p = g.pool?;
            let pool = PoolIr {
                l1_base: addr(next_l1),
                spaces: p.address_spaces,
                l2_base: addr(next_l2),
                page_tables: p.page_tables,
            };
            next_l1 += u64::from(p.address_spaces) * l1_bytes;
            next_l2 += u64::from(p.page_tables) * l2_bytes;
            Some(pool)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn system(text: &str) -> System {
        let checked = crate::check(text);
        assert!(checked.is_ok(), "{:?}", checked.diagnostics);
        checked.system.expect("valid")
    }

    /// `n` shadow-paged SRT guests on core 1 with these pool keys.
    fn shadow_guests(board: &str, base: u64, n: usize, pool: &str) -> String {
        let mut text = format!("[system]\nname = \"t\"\nboard = \"{board}\"\n");
        for i in 0..n {
            text += &format!(
                "[[guest]]\nname = \"g{i}\"\nlevel = \"srt\"\ncore = 1\nimage = \"x\"\nperiod = \"1s\"\nbudget = \"1ms\"\n{pool}\nmemory = [ {{ name = \"ram\", base = {:#x}, size = \"1MiB\" }} ]\n",
                base + ((i as u64) << 20)
            );
        }
        text
    }

    #[test]
    fn the_table_area_is_what_the_system_needs_in_whole_mibs_at_the_top_of_the_bound() {
        // The demo's 160 KiB: one MiB, where the area always was.
        let demo = system(include_str!("../../partitions/system.toml"));
        assert_eq!(table_bytes(&demo), 160 << 10);
        assert_eq!(
            table_area(&demo),
            mvm_board::PhysRange::new(0x60F0_0000, 1 << 20)
        );
        // 40 default pools: 2.5 MiB, so 3 MiB below the reservation's end.
        let forty = system(&shadow_guests("qemu-vexpress-a9", 0x7000_0000, 40, ""));
        assert_eq!(table_bytes(&forty), 40 * (64 << 10));
        let area = table_area(&forty);
        assert_eq!(area, mvm_board::PhysRange::new(0x60D0_0000, 3 << 20));
        let pools = pools(&forty);
        let first = pools[0].unwrap();
        let last = pools[39].unwrap();
        assert_eq!(u64::from(first.l1_base), area.base);
        assert!(u64::from(last.l2_base) + 32 * 1024 <= area.end());
        // Past the bound (15 MiB): 21 pools of 768 KiB are refused, at the
        // 20th (15 MiB exactly fit).
        let big = "address_spaces = 32\npage_tables = 256";
        let checked = crate::check(&shadow_guests("qemu-vexpress-a9", 0x7000_0000, 21, big));
        let d = checked
            .diagnostics
            .iter()
            .find(|d| d.code() == "table-area-full")
            .expect("refused");
        assert!(
            d.message()
                .contains("more than the table area [0x6010_0000..0x6100_0000)"),
            "{}",
            d.message()
        );
        assert!(
            d.message().contains("guest `g20` is the first"),
            "{}",
            d.message()
        );
        assert!(crate::check(&shadow_guests("qemu-vexpress-a9", 0x7000_0000, 20, big)).is_ok());
    }

    #[test]
    fn an_hrt_guest_gets_supersections_sections_and_device_pages() {
        let s = system(
            r#"
[system]
name = "t"
board = "qemu-vexpress-a9"
[[guest]]
name = "a"
level = "hrt"
core = 0
image = "x"
memory = [ { name = "ram", base = 0x7000_0000, size = "17MiB" } ]
devices = ["uart1", "timer0"]
[[guest]]
name = "b"
level = "srt"
core = 1
image = "y"
period = "10ms"
budget = "1ms"
memory = [ { name = "ram", base = 0x7200_0000, size = "1MiB" } ]
"#,
        );
        let tables = layout(&s).expect("fits");
        assert!(tables[1].is_none(), "shadow-paged guests get no tables");
        let t = tables[0].as_ref().expect("direct");
        assert_eq!(t.ttbr0, 0x60F0_006A);
        let l1 = &t.tables[0];
        assert_eq!((l1.address, l1.words), (0x60F0_0000, 4096));
        // 16 supersection entries, one section, one page-table pointer for
        // 0x100 (uart1, timer0), one for 0x1E0 (the MPCore page).
        assert_eq!(l1.entries.len(), 19);
        assert_eq!(l1.entries[0], (0x100, 0x60F0_4001));
        assert_eq!(l1.entries[1], (0x1E0, 0x60F0_4401));
        assert_eq!(l1.entries[2], (0x700, 0x7007_1C0E));
        assert_eq!(l1.entries[17], (0x70F, 0x7007_1C0E));
        assert_eq!(l1.entries[18], (0x710, 0x7103_1C0E));
        let devices = &t.tables[1];
        assert_eq!(devices.address, 0x60F0_4000);
        assert_eq!(
            devices.entries,
            vec![(0x0A, 0x1000_A837), (0x11, 0x1001_1837)]
        );
        assert_eq!(t.tables[2].entries, vec![(0x00, 0x1E00_0837)]);
        assert_eq!(t.table_bytes(), 16 * 1024 + 2 * 1024);
        // b's default pool after a's 18 KiB, from the next 16 KiB: two L1
        // tables, then 32 L2 tables.
        let pools = pools(&s);
        assert_eq!(pools[0], None);
        assert_eq!(
            pools[1],
            Some(PoolIr {
                l1_base: 0x60F0_8000,
                spaces: 2,
                l2_base: 0x60F1_0000,
                page_tables: 32
            })
        );
    }

    #[test]
    fn channel_ends_are_shared_pages_read_only_for_the_reader() {
        let s = system(
            r#"
[system]
name = "t"
board = "qemu-vexpress-a9"
[[guest]]
name = "a"
level = "hrt"
core = 0
image = "x"
memory = [ { name = "ram", base = 0x7000_0000, size = "1MiB" } ]
[[guest]]
name = "b"
level = "srt"
core = 1
image = "y"
period = "10ms"
budget = "1ms"
paging = "direct"
memory = [ { name = "ram", base = 0x7200_0000, size = "1MiB" } ]
[[guest]]
name = "c"
level = "srt"
core = 1
image = "z"
period = "10ms"
budget = "1ms"
memory = [ { name = "ram", base = 0x7300_0000, size = "1MiB" } ]
[[channel]]
name = "down"
writer = "a"
reader = "b"
size = "8KiB"
notify = true
[[channel]]
name = "up"
writer = "b"
reader = "a"
size = "4KiB"
notify = false
"#,
        );
        let down = &s.channels[0];
        let up = &s.channels[1];
        assert_eq!(down.base, 0x9FF0_0000);
        assert_eq!(up.base, 0x9FF0_2000);
        let tables = layout(&s).expect("fits");
        let mib = 0x9FFu32;
        // Each guest's page: (physical page, memory type, access, global).
        let pages = |t: &TranslationIr| -> Vec<(u32, Memory, vmsa::Access, bool)> {
            let l1 = &t.tables[0];
            let (_, pointer) = l1
                .entries
                .iter()
                .find(|(i, _)| *i == mib)
                .expect("the channel area's MiB has a page table");
            let table = vmsa::decode_page_table(*pointer).expect("a page table");
            let l2 = t
                .tables
                .iter()
                .find(|t| t.address == table)
                .expect("one of the guest's tables");
            l2.entries
                .iter()
                .map(|&(_, w)| vmsa::decode_small_page(w).expect("a small page"))
                .collect()
        };
        let rw = vmsa::Access {
            writable: true,
            executable: false,
        };
        let ro = vmsa::Access {
            writable: false,
            executable: false,
        };
        let a = tables[0].as_ref().expect("HRT: direct");
        assert_eq!(
            pages(a),
            [
                (0x9FF0_0000, Memory::Shared, rw, false),
                (0x9FF0_1000, Memory::Shared, rw, false),
                (0x9FF0_2000, Memory::Shared, ro, false),
            ],
            "a writes `down` and reads `up`"
        );
        let b = tables[1].as_ref().expect("paging = direct");
        assert_eq!(
            pages(b),
            [
                (0x9FF0_0000, Memory::Shared, ro, false),
                (0x9FF0_1000, Memory::Shared, ro, false),
                (0x9FF0_2000, Memory::Shared, rw, false),
            ],
            "b reads `down` and writes `up`"
        );
        assert!(tables[2].is_none());
        // a: L1, the MPCore page's L2, the channel MiB's L2; b the same.
        assert_eq!(a.tables.len(), 3);
        // 36 KiB of direct maps, c's default pool from the next 16 KiB.
        assert_eq!(table_bytes(&s), (48 + 64) * 1024);
        // c is no end: its boot space needs one L2 table (the MPCore page);
        // an end's boot space one more, for the channel area's MiB.
        let cpu_page = crate::boards::cpu_interface_page(s.board.name);
        assert_eq!(boot_page_tables(&s, 2, cpu_page), 1);
        assert_eq!(boot_page_tables(&s, 1, cpu_page), 2);
    }
}
