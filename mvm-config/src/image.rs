//! Guest programs: from an ELF to the flat image the monitor copies at boot.
//!
//! - Only `PT_LOAD` segments count; their physical addresses are where the
//!   guest runs (guests start with their MMU off, PA = VA).
//! - Every byte a segment occupies in memory (`p_memsz`, not just the file
//!   part) and the entry point must lie inside the guest's own regions: this
//!   is the rule `check` cannot test because it needs no image.
//! - The flat image spans the lowest to the highest file byte; gaps are
//!   zero. `.bss` beyond the file is not stored: the guest runtime zeroes it.

use core::fmt;

use object::read::elf::{ElfFile32, ProgramHeader};
use object::{elf, Endianness, Object};

use crate::model::Region;
use crate::units::format_range;

/// A guest program ready to be embedded in the monitor image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlatImage {
    /// Where the first byte goes.
    pub load: u32,
    /// The first instruction.
    pub entry: u32,
    pub bytes: Vec<u8>,
}

/// Why a guest ELF cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageError {
    /// Not a 32-bit little-endian Arm executable ELF.
    NotArmElf { reason: String },
    /// No loadable byte at all.
    Empty,
    /// A segment outside the guest's regions.
    SegmentOutside { base: u64, size: u64 },
    /// The entry point outside the guest's regions.
    EntryOutside { entry: u64 },
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageError::NotArmElf { reason } => {
                write!(f, "not a 32-bit Arm ELF executable: {reason}")
            }
            ImageError::Empty => write!(f, "the ELF has no loadable segment"),
            ImageError::SegmentOutside { base, size } => write!(
                f,
                "a loadable segment at {} lies outside its owner's memory (or across two areas)",
                format_range(*base, *size)
            ),
            ImageError::EntryOutside { entry } => {
                write!(
                    f,
                    "the entry point {} lies outside its owner's memory",
                    crate::units::hex(*entry)
                )
            }
        }
    }
}

fn inside(regions: &[Region], base: u64, size: u64) -> bool {
    regions
        .iter()
        .any(|r| base >= r.base && size <= r.size && base - r.base <= r.size - size)
}

/// One `PT_LOAD` segment: where a loader writes it and what it writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment<'a> {
    /// `p_paddr`.
    pub base: u64,
    /// `p_memsz`: the file bytes and the zeroed rest (`.bss`).
    pub size: u64,
    /// The file bytes (`p_filesz` of them).
    pub data: &'a [u8],
}

/// The entry point and the non-empty loadable segments of a 32-bit
/// little-endian Arm ELF executable.
pub fn load_segments(elf_bytes: &[u8]) -> Result<(u64, Vec<Segment<'_>>), ImageError> {
    let file = ElfFile32::<Endianness>::parse(elf_bytes).map_err(|e| ImageError::NotArmElf {
        reason: e.to_string(),
    })?;
    let endian = file.endian();
    if !file.is_little_endian() || file.elf_header().e_machine.get(endian) != elf::EM_ARM {
        return Err(ImageError::NotArmElf {
            reason: "not a little-endian Arm (EM_ARM) file".into(),
        });
    }
    let entry = u64::from(file.elf_header().e_entry.get(endian));
    let mut segments = Vec::new();
    for ph in file.elf_program_headers() {
        if ph.p_type(endian) != elf::PT_LOAD || ph.p_memsz(endian) == 0 {
            continue;
        }
        let base = u64::from(ph.p_paddr(endian));
        let data = ph
            .data(endian, elf_bytes)
            .map_err(|()| ImageError::NotArmElf {
                reason: format!(
                    "segment at {} runs past the end of the file",
                    crate::units::hex(base)
                ),
            })?;
        segments.push(Segment {
            base,
            size: u64::from(ph.p_memsz(endian)),
            data,
        });
    }
    if segments.is_empty() {
        return Err(ImageError::Empty);
    }
    Ok((entry, segments))
}

/// Reads a guest ELF and checks it against the guest's regions.
pub fn flatten(elf_bytes: &[u8], regions: &[Region]) -> Result<FlatImage, ImageError> {
    let (entry, segments) = load_segments(elf_bytes)?;
    for s in &segments {
        if !inside(regions, s.base, s.size) {
            return Err(ImageError::SegmentOutside {
                base: s.base,
                size: s.size,
            });
        }
    }
    if !inside(regions, entry, 4) {
        return Err(ImageError::EntryOutside { entry });
    }
    let pieces: Vec<&Segment<'_>> = segments.iter().filter(|s| !s.data.is_empty()).collect();
    let start = pieces
        .iter()
        .map(|s| s.base)
        .min()
        .ok_or(ImageError::Empty)?;
    let end = pieces
        .iter()
        .map(|s| s.base + s.data.len() as u64)
        .max()
        .ok_or(ImageError::Empty)?;
    // Both ends lie in the guest's regions, which are below 4 GiB.
    let mut bytes = vec![0u8; usize::try_from(end - start).expect("a region fits in memory")];
    for s in pieces {
        let at = usize::try_from(s.base - start).expect("inside the image");
        bytes[at..at + s.data.len()].copy_from_slice(s.data);
    }
    let load = u32::try_from(start).expect("regions are below 4 GiB");
    let entry = u32::try_from(entry).expect("regions are below 4 GiB");
    Ok(FlatImage { load, entry, bytes })
}

/// Who owns an area of physical memory, for [`check_layout`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner<'a> {
    /// The monitor's reservation.
    Monitor,
    /// A guest's region, by guest name.
    Guest(&'a str),
}

/// The areas of a system's memory: the monitor's reservation and every
/// guest region, each with its owner.
pub fn areas(system: &crate::model::System) -> Vec<(Owner<'_>, Region)> {
    let r = system.board.monitor_reservation;
    let monitor = Region {
        name: "monitor".into(),
        base: r.base,
        size: r.size,
        span: 0..0,
    };
    core::iter::once((Owner::Monitor, monitor))
        .chain(system.guests.iter().flat_map(|g| {
            g.memory
                .iter()
                .map(|m| (Owner::Guest(g.name.as_str()), m.clone()))
        }))
        .collect()
}

/// A loadable segment's `(base, size)` and the area that holds it.
pub type Placed<'a> = ((u64, u64), Owner<'a>);

/// Checks a whole image as a boot loader would load it (JTAG, U-Boot
/// `bootelf`, QEMU `-kernel`): every loadable byte, `.bss` included, lies
/// inside one area, and the entry point is the monitor's. Returns each
/// segment's `(base, size)` and owner.
pub fn check_layout<'a>(
    elf_bytes: &[u8],
    areas: &[(Owner<'a>, Region)],
) -> Result<Vec<Placed<'a>>, ImageError> {
    let (entry, segments) = load_segments(elf_bytes)?;
    let owner = |base: u64, size: u64| {
        areas
            .iter()
            .find(|(_, r)| inside(core::slice::from_ref(r), base, size))
            .map(|(o, _)| *o)
    };
    let mut out = Vec::with_capacity(segments.len());
    for s in &segments {
        let o = owner(s.base, s.size).ok_or(ImageError::SegmentOutside {
            base: s.base,
            size: s.size,
        })?;
        out.push(((s.base, s.size), o));
    }
    if owner(entry, 4) != Some(Owner::Monitor) {
        return Err(ImageError::EntryOutside { entry });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF32 little-endian Arm executable with the given program
    /// headers `(p_type, paddr, data, memsz)` and entry.
    fn elf(entry: u32, segments: &[(u32, u32, &[u8], u32)]) -> Vec<u8> {
        let phoff = 52u32;
        let data_start = phoff + 32 * segments.len() as u32;
        let mut out = vec![0u8; data_start as usize];
        out[..4].copy_from_slice(b"\x7fELF");
        out[4] = 1; // ELFCLASS32
        out[5] = 1; // little-endian
        out[6] = 1; // EV_CURRENT
        out[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
        out[18..20].copy_from_slice(&40u16.to_le_bytes()); // EM_ARM
        out[20..24].copy_from_slice(&1u32.to_le_bytes());
        out[24..28].copy_from_slice(&entry.to_le_bytes());
        out[28..32].copy_from_slice(&phoff.to_le_bytes());
        out[40..42].copy_from_slice(&52u16.to_le_bytes()); // e_ehsize
        out[42..44].copy_from_slice(&32u16.to_le_bytes()); // e_phentsize
        out[44..46].copy_from_slice(&(segments.len() as u16).to_le_bytes());
        let mut offset = data_start;
        for (i, (p_type, paddr, data, memsz)) in segments.iter().enumerate() {
            let ph = (phoff as usize) + 32 * i;
            let fields = [
                *p_type,
                offset,
                *paddr,
                *paddr,
                data.len() as u32,
                *memsz,
                5,
                4,
            ];
            for (k, v) in fields.iter().enumerate() {
                out[ph + 4 * k..ph + 4 * k + 4].copy_from_slice(&v.to_le_bytes());
            }
            offset += data.len() as u32;
        }
        for (_, _, data, _) in segments {
            out.extend_from_slice(data);
        }
        out
    }

    fn ram() -> Vec<Region> {
        vec![Region {
            name: "ram".into(),
            base: 0x7000_0000,
            size: 0x10_0000,
            span: 0..0,
        }]
    }

    #[test]
    fn segments_are_laid_out_flat_with_zero_gaps() {
        let image = elf(
            0x7000_0000,
            &[
                (1, 0x7000_0000, &[1, 2, 3, 4], 4),
                (1, 0x7000_0008, &[9], 0x100),
            ],
        );
        let flat = flatten(&image, &ram()).expect("valid");
        assert_eq!(
            flat,
            FlatImage {
                load: 0x7000_0000,
                entry: 0x7000_0000,
                bytes: vec![1, 2, 3, 4, 0, 0, 0, 0, 9]
            }
        );
    }

    #[test]
    fn a_segment_outside_the_regions_is_refused() {
        let image = elf(
            0x7000_0000,
            &[(1, 0x7000_0000, &[0; 4], 4), (1, 0x700F_FFFC, &[0; 4], 8)],
        );
        assert_eq!(
            flatten(&image, &ram()),
            Err(ImageError::SegmentOutside {
                base: 0x700F_FFFC,
                size: 8
            })
        );
    }

    #[test]
    fn an_entry_outside_the_regions_is_refused() {
        let image = elf(0x6000_0000, &[(1, 0x7000_0000, &[0; 4], 4)]);
        assert_eq!(
            flatten(&image, &ram()),
            Err(ImageError::EntryOutside { entry: 0x6000_0000 })
        );
    }

    #[test]
    fn garbage_is_not_an_elf() {
        assert!(matches!(
            flatten(b"not an elf", &ram()),
            Err(ImageError::NotArmElf { .. })
        ));
        let mut image = elf(0x7000_0000, &[(1, 0x7000_0000, &[0; 4], 4)]);
        image[18] = 62; // EM_X86_64
        assert!(matches!(
            flatten(&image, &ram()),
            Err(ImageError::NotArmElf { .. })
        ));
        let image = elf(0x7000_0000, &[(4, 0x7000_0000, &[0; 4], 4)]);
        assert_eq!(flatten(&image, &ram()), Err(ImageError::Empty));
    }

    fn layout() -> Vec<(Owner<'static>, Region)> {
        let region = |base, size| Region {
            name: "r".into(),
            base,
            size,
            span: 0..0,
        };
        vec![
            (Owner::Monitor, region(0x0, 16 << 20)),
            (Owner::Guest("control"), region(0x1000_0000, 16 << 20)),
            (Owner::Guest("telemetry"), region(0x1200_0000, 16 << 20)),
        ]
    }

    #[test]
    fn a_layout_names_each_segments_owner() {
        let image = elf(
            0x0010_0000,
            &[
                (1, 0x0010_0000, &[0; 16], 16),
                (1, 0x0010_1000, &[1], 0x8000),
                (1, 0x12FF_FFF0, &[0; 16], 16),
            ],
        );
        let owners: Vec<Owner<'_>> = check_layout(&image, &layout())
            .expect("valid")
            .into_iter()
            .map(|(_, o)| o)
            .collect();
        assert_eq!(
            owners,
            [Owner::Monitor, Owner::Monitor, Owner::Guest("telemetry")]
        );
    }

    #[test]
    fn a_layout_refuses_bss_past_an_area_a_segment_across_two_and_a_foreign_entry() {
        let bss_past = elf(0x0010_0000, &[(1, 0x00FF_FFF0, &[0; 8], 0x20)]);
        assert_eq!(
            check_layout(&bss_past, &layout()),
            Err(ImageError::SegmentOutside {
                base: 0x00FF_FFF0,
                size: 0x20
            })
        );
        let across = elf(0x0010_0000, &[(1, 0x10FF_FF00, &[0; 0x200], 0x200)]);
        assert!(matches!(
            check_layout(&across, &layout()),
            Err(ImageError::SegmentOutside { .. })
        ));
        let entry = elf(0x1000_0000, &[(1, 0x0010_0000, &[0; 4], 4)]);
        assert_eq!(
            check_layout(&entry, &layout()),
            Err(ImageError::EntryOutside { entry: 0x1000_0000 })
        );
    }
}
