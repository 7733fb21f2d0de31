//! Short-descriptor translation table entries (ARMv7 VMSA), as `const fn`s.
//!
//! - One encoder per descriptor kind the monitor builds: section,
//!   supersection, L1 page-table pointer, L2 small page; and the TTBR0 walk
//!   attributes. Arm ARM (ARM DDI 0406C) B3.5.1 and B3.17.
//! - Assumes TTBCR.N = 0 (TTBR0 walks the whole 4 GiB, 16 KiB L1 table) and
//!   SCTLR.TRE = 0 (TEX remap off: TEX, C and B give the memory type).
//! - Access permissions are "full access at PL1 and PL0" (AP[2] = 0,
//!   AP[1:0] = 0b11, or read-only for shadow paging's read-only pages) in
//!   domain 0, and every entry the monitor writes is non-global (nG = 1),
//!   tagged with its guest's ASID.
//! - Pure data, host-tested against values computed by hand from the
//!   manual; `mvm-config` uses it at build time, the monitor at run time.
#![forbid(unsafe_code)]

/// Bytes covered by one section (L1 entry).
pub const SECTION: u32 = 1 << 20;
/// Bytes covered by one supersection (16 identical L1 entries).
pub const SUPERSECTION: u32 = 16 << 20;
/// Bytes covered by one small page (L2 entry).
pub const SMALL_PAGE: u32 = 4 << 10;
/// Entries of an L1 table with TTBCR.N = 0.
pub const L1_ENTRIES: usize = 4096;
/// Bytes (and alignment) of an L1 table with TTBCR.N = 0.
pub const L1_BYTES: u32 = 16 << 10;
/// Entries of an L2 table.
pub const L2_ENTRIES: usize = 256;
/// Bytes (and alignment) of an L2 table.
pub const L2_BYTES: u32 = 1 << 10;

/// The memory type of a mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Memory {
    /// Normal, inner and outer write-back write-allocate (TEX 0b001,
    /// C = 1, B = 1), shareable (S = 1), executable.
    Normal,
    /// Shareable Device (TEX 0b000, C = 0, B = 1), never executable (XN).
    Device,
    /// Channel memory (docs/channels.md): Normal, inner and outer
    /// non-cacheable (TEX 0b001, C = 0, B = 0), shareable, never
    /// executable. Every view of a channel uses it: Linux maps it uncached
    /// through /dev/mem, and two views of one page with different
    /// cacheability lose coherency on silicon (Arm ARM A3.5.7,
    /// "mismatched memory attributes"); non-cacheable in every guest also
    /// makes the monitor's own view (MMU off: Strongly-ordered) agree.
    Shared,
}

// L1 section and supersection fields (B3.5.1, figure B3-4).
const L1_SECTION: u32 = 0b10;
const L1_PAGE_TABLE: u32 = 0b01;
const L1_B: u32 = 1 << 2;
const L1_C: u32 = 1 << 3;
const L1_XN: u32 = 1 << 4;
const L1_AP_FULL: u32 = 0b11 << 10;
const L1_TEX_SHIFT: u32 = 12;
const L1_S: u32 = 1 << 16;
const L1_SUPERSECTION: u32 = 1 << 18;

// L2 small page fields (figure B3-5).
const L2_XN: u32 = 1 << 0;
const L2_SMALL: u32 = 1 << 1;
const L2_B: u32 = 1 << 2;
const L2_C: u32 = 1 << 3;
const L2_AP_FULL: u32 = 0b11 << 4;
const L2_TEX_SHIFT: u32 = 6;
const L2_S: u32 = 1 << 10;

const fn l1_attributes(memory: Memory) -> u32 {
    match memory {
        Memory::Normal => (0b001 << L1_TEX_SHIFT) | L1_C | L1_B | L1_S | L1_AP_FULL,
        Memory::Device => L1_B | L1_XN | L1_AP_FULL,
        Memory::Shared => (0b001 << L1_TEX_SHIFT) | L1_S | L1_XN | L1_AP_FULL,
    }
}

/// A 1 MiB section mapping `base` (1 MiB aligned; low bits are dropped).
pub const fn section(base: u32, memory: Memory) -> u32 {
    (base & !(SECTION - 1)) | l1_attributes(memory) | L1_SECTION
}

/// A 16 MiB supersection mapping `base` (16 MiB aligned; low bits are
/// dropped), domain 0. The same word goes into all 16 L1 entries of the
/// 16 MiB.
pub const fn supersection(base: u32, memory: Memory) -> u32 {
    (base & !(SUPERSECTION - 1)) | l1_attributes(memory) | L1_SUPERSECTION | L1_SECTION
}

/// An L1 entry pointing at the L2 table at `table` (1 KiB aligned),
/// domain 0.
pub const fn page_table(table: u32) -> u32 {
    (table & !(L2_BYTES - 1)) | L1_PAGE_TABLE
}

/// A 4 KiB small page mapping `base` (4 KiB aligned; low bits are dropped).
pub const fn small_page(base: u32, memory: Memory) -> u32 {
    let attributes = match memory {
        Memory::Normal => (0b001 << L2_TEX_SHIFT) | L2_C | L2_B | L2_S,
        Memory::Device => L2_B | L2_XN,
        Memory::Shared => (0b001 << L2_TEX_SHIFT) | L2_S | L2_XN,
    };
    (base & !(SMALL_PAGE - 1)) | attributes | L2_AP_FULL | L2_SMALL
}

/// L2 small page: not global (nG, bit 11): the entry is tagged with the
/// ASID current when it was walked, so it matches only that ASID.
pub const L2_NG: u32 = 1 << 11;
/// L1 section or supersection: not global (nG, bit 17).
pub const L1_NG: u32 = 1 << 17;
/// L2 small page: AP[2] (bit 9), read-only with AP[1:0] = 0b11.
const L2_AP2: u32 = 1 << 9;

/// What a shadow-paged guest may do with one of its pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    pub writable: bool,
    pub executable: bool,
}

/// A non-global 4 KiB small page mapping `base` (4 KiB aligned; low bits
/// are dropped), as shadow paging writes it: read-only unless `writable`
/// (AP[2] = 1, AP[1:0] = 0b11: read-only at PL1 and PL0), never executable
/// unless `executable` (Device memory is never executable).
pub const fn shadow_page(base: u32, memory: Memory, access: Access) -> u32 {
    let mut word = small_page(base, memory) | L2_NG;
    if !access.writable {
        word |= L2_AP2;
    }
    if !access.executable {
        word |= L2_XN;
    }
    word
}

/// The physical page, memory type and access a small-page word written by
/// [`shadow_page`] or [`small_page`] encodes; `None` for a word that is no
/// small page (a fault entry included). Used by tests to walk tables back.
pub const fn decode_small_page(word: u32) -> Option<(u32, Memory, Access, bool)> {
    if word & L2_SMALL == 0 {
        return None;
    }
    let memory = if word & L2_C != 0 {
        Memory::Normal
    } else if (word >> L2_TEX_SHIFT) & 0b111 == 0b001 {
        Memory::Shared
    } else {
        Memory::Device
    };
    let access = Access {
        writable: word & L2_AP2 == 0,
        executable: word & L2_XN == 0,
    };
    Some((word & !(SMALL_PAGE - 1), memory, access, word & L2_NG == 0))
}

/// A non-global 1 MiB section mapping `base`, read-write and executable
/// (shadow paging's boot space: a guest's own RAM).
pub const fn shadow_section(base: u32, memory: Memory) -> u32 {
    section(base, memory) | L1_NG
}

/// Whether an L1 word is a section (not a supersection, not a table).
pub const fn is_section(word: u32) -> bool {
    word & 0b11 == L1_SECTION && word & L1_SUPERSECTION == 0
}

/// The L2 table an L1 page-table entry points at; `None` for any other
/// kind of L1 entry.
pub const fn decode_page_table(word: u32) -> Option<u32> {
    if word & 0b11 == L1_PAGE_TABLE {
        Some(word & !(L2_BYTES - 1))
    } else {
        None
    }
}

/// The L1 index of `va`.
pub const fn l1_index(va: u32) -> usize {
    (va >> 20) as usize
}

/// The L2 index of `va`.
pub const fn l2_index(va: u32) -> usize {
    ((va >> 12) & 0xFF) as usize
}

/// TTBR0 for the L1 table at `table` (16 KiB aligned), with table walks
/// inner and outer write-back write-allocate, inner shareable, as Linux
/// sets them on an SMP Cortex-A9 (Multiprocessing Extensions format:
/// IRGN[0] = bit 6, NOS = bit 5, RGN = bits 4:3, S = bit 1, IRGN[1] =
/// bit 0).
pub const fn ttbr0(table: u32) -> u32 {
    const IRGN_WBWA: u32 = 1 << 6;
    const NOS: u32 = 1 << 5;
    const RGN_WBWA: u32 = 0b01 << 3;
    const S: u32 = 1 << 1;
    (table & !(L1_BYTES - 1)) | IRGN_WBWA | NOS | RGN_WBWA | S
}

/// DACR with domain 0 "client" (accesses checked against the descriptors)
/// and every other domain "no access".
pub const DACR_DOMAIN0_CLIENT: u32 = 0b01;

/// SCTLR bits the monitor sets for a direct-mapped guest: M (MMU), C (data
/// and unified caches), Z (branch prediction), I (instruction cache).
pub const SCTLR_M: u32 = 1 << 0;
pub const SCTLR_C: u32 = 1 << 2;
pub const SCTLR_Z: u32 = 1 << 11;
pub const SCTLR_I: u32 = 1 << 12;
/// SCTLR.TRE (TEX remap) and SCTLR.AFE (access flag): both must stay 0 for
/// the descriptors above to mean what they say.
pub const SCTLR_TRE: u32 = 1 << 28;
pub const SCTLR_AFE: u32 = 1 << 29;

/// A direct-mapped guest's SCTLR from the Non-secure reset value: MMU,
/// caches and branch prediction on, TEX remap and the access flag off,
/// everything else as at reset.
pub const fn direct_map_sctlr(reset: u32) -> u32 {
    (reset | SCTLR_M | SCTLR_C | SCTLR_Z | SCTLR_I) & !(SCTLR_TRE | SCTLR_AFE)
}

/// What a PAR value says about a translation (ATS1CPR and friends).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Par {
    /// The translation faulted; the fault status (FS, PAR[6:1]).
    Fault { status: u32 },
    /// The physical address of the page (PAR[31:12]), and whether the entry
    /// was a supersection (PAR.SS).
    Address { page: u32, supersection: bool },
}

impl Par {
    pub const fn decode(par: u32) -> Self {
        if par & 1 != 0 {
            Par::Fault {
                status: (par >> 1) & 0x3F,
            }
        } else {
            Par::Address {
                page: par & !0xFFF,
                supersection: par & (1 << 1) != 0,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_supersections_match_the_manual() {
        // Normal WBWA shareable section at 0x7000_0000:
        // base | S(16) | TEX=001(12) | AP=11(10) | C(3) | B(2) | 0b10.
        assert_eq!(section(0x7000_0000, Memory::Normal), 0x7001_1C0E);
        // The same as a supersection: bit 18 set as well.
        assert_eq!(supersection(0x7000_0000, Memory::Normal), 0x7005_1C0E);
        // Low address bits never leak into attributes.
        assert_eq!(section(0x700F_FFFF, Memory::Normal), 0x7001_1C0E);
        assert_eq!(supersection(0x70FF_FFFF, Memory::Normal), 0x7005_1C0E);
        // Device section: B, XN, AP=11.
        assert_eq!(section(0x1000_0000, Memory::Device), 0x1000_0C16);
    }

    #[test]
    fn page_tables_and_small_pages_match_the_manual() {
        assert_eq!(page_table(0x60F0_4000), 0x60F0_4001);
        assert_eq!(page_table(0x60F0_43FF), 0x60F0_4001);
        // Device small page: XN(0) | small(1) | B(2) | AP=11(5:4).
        assert_eq!(small_page(0x1000_A000, Memory::Device), 0x1000_A037);
        // Normal small page: S(10) | TEX=001(8:6) | AP=11 | C | B | small.
        assert_eq!(small_page(0x7000_1000, Memory::Normal), 0x7000_147E);
    }

    #[test]
    fn shadow_pages_are_non_global_and_decode_back() {
        let rw = Access {
            writable: true,
            executable: false,
        };
        // Normal small page | nG(11) | XN(0).
        assert_eq!(shadow_page(0x7000_1000, Memory::Normal, rw), 0x7000_1C7F);
        let rx = Access {
            writable: false,
            executable: true,
        };
        // Read-only: AP[2] (bit 9); executable: XN clear.
        assert_eq!(shadow_page(0x7000_1000, Memory::Normal, rx), 0x7000_1E7E);
        assert_eq!(
            decode_small_page(0x7000_1E7E),
            Some((0x7000_1000, Memory::Normal, rx, false))
        );
        let dev = shadow_page(0x1000_A000, Memory::Device, rw);
        assert_eq!(dev, 0x1000_A837);
        assert_eq!(
            decode_small_page(dev),
            Some((0x1000_A000, Memory::Device, rw, false))
        );
        assert_eq!(decode_small_page(0), None);
        assert_eq!(
            decode_page_table(page_table(0x60F0_4400)),
            Some(0x60F0_4400)
        );
        assert_eq!(
            decode_page_table(section(0x7000_0000, Memory::Normal)),
            None
        );
        assert_eq!(decode_page_table(0), None);
    }

    #[test]
    fn shared_memory_is_normal_non_cacheable_shareable_and_never_executable() {
        // Section: S(16) | TEX=001(14:12) | AP=11(11:10) | XN(4) | 0b10;
        // C and B clear.
        assert_eq!(section(0x9FF0_0000, Memory::Shared), 0x9FF1_1C12);
        // Small page: S(10) | TEX=001(8:6) | AP=11(5:4) | small(1) | XN(0).
        assert_eq!(small_page(0x9FF0_1000, Memory::Shared), 0x9FF0_1473);
        let rw = Access {
            writable: true,
            executable: false,
        };
        let ro = Access {
            writable: false,
            executable: false,
        };
        let writer = shadow_page(0x9FF0_1000, Memory::Shared, rw);
        assert_eq!(writer, 0x9FF0_1C73, "nG(11)");
        assert_eq!(
            decode_small_page(writer),
            Some((0x9FF0_1000, Memory::Shared, rw, false))
        );
        let reader = shadow_page(0x9FF0_1000, Memory::Shared, ro);
        assert_eq!(reader, 0x9FF0_1E73, "AP[2](9): read-only");
        assert_eq!(
            decode_small_page(reader),
            Some((0x9FF0_1000, Memory::Shared, ro, false))
        );
        // Asking for execution changes nothing: the type carries XN.
        let rwx = Access {
            writable: true,
            executable: true,
        };
        assert_eq!(shadow_page(0x9FF0_1000, Memory::Shared, rwx), writer);
        // Normal and Device still decode as before.
        assert_eq!(
            decode_small_page(small_page(0x7000_1000, Memory::Normal)).map(|d| d.1),
            Some(Memory::Normal)
        );
        assert_eq!(
            decode_small_page(small_page(0x1000_A000, Memory::Device)).map(|d| d.1),
            Some(Memory::Device)
        );
    }

    #[test]
    fn indices_and_walk_attributes() {
        assert_eq!(l1_index(0x1000_A000), 0x100);
        assert_eq!(l2_index(0x1000_A000), 0x0A);
        assert_eq!(l1_index(0xFFFF_FFFF), 4095);
        assert_eq!(ttbr0(0x60F0_0000), 0x60F0_006A);
        assert_eq!(ttbr0(0x60F0_3FFF), 0x60F0_006A);
        assert_eq!(DACR_DOMAIN0_CLIENT, 1);
    }

    #[test]
    fn direct_map_sctlr_keeps_the_reset_value_otherwise() {
        // Cortex-A9's SCTLR reset value (TRM 4.3.9): 0x00C5_0078.
        assert_eq!(direct_map_sctlr(0x00C5_0078), 0x00C5_187D);
        assert_eq!(direct_map_sctlr(0x30C5_0078), 0x00C5_187D);
    }

    #[test]
    fn par_decodes_faults_and_addresses() {
        assert_eq!(Par::decode(0x0000_000B), Par::Fault { status: 0b000101 });
        assert_eq!(
            Par::decode(0x7000_0282),
            Par::Address {
                page: 0x7000_0000,
                supersection: true
            }
        );
        assert_eq!(
            Par::decode(0x1000_A000),
            Par::Address {
                page: 0x1000_A000,
                supersection: false
            }
        );
    }
}
