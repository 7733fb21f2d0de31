//! Linux guests: `[guest.linux]`, its rules, and where the kernel, the
//! device tree and the initrd go in the guest's memory.
//!
//! - An unmodified Linux boots by its Arm booting protocol: MMU and caches
//!   off, r0 = 0, r1 = ~0, r2 = the device tree; the monitor enters it in
//!   Non-secure SVC mode at the zImage's first instruction.
//! - It owns its MMU (`paging = "guest"`): the monitor writes no table for
//!   it (docs/threat-model.md says what that costs).
//! - The zImage decompresses itself to the start of its memory bank plus
//!   its TEXT_OFFSET and uses memory past its own end as scratch, so the
//!   kernel is placed above what the decompressed kernel occupies (read
//!   from the zImage's own size table), and the device tree and the initrd
//!   above the zImage's scratch (docs/guests/linux.md).
//! - Which files and packages: the command-line tool fetches and builds
//!   them (`tools/src/debian.rs`); this module only sees bytes.

use crate::diag::{Diagnostic, ErrorKind, Span};
use crate::model::{GuestDevice, Level, Paging, Region};
use crate::raw::{Located, RawArtefact, RawLinux};
use crate::units::{format_size, hex};

/// `hz` when not declared: Linux's own default (`CONFIG_HZ_250`), and
/// Debian's armhf kernels'.
pub const DEFAULT_HZ: u32 = 250;
/// The least a Linux guest's first region may hold: the decompressed
/// kernel (about 20 MiB for Debian's armmp), the zImage, its initrd and
/// room to run a shell.
pub const MIN_MEMORY: u64 = 64 << 20;
/// A Linux guest's first region starts on this boundary: the decompressor
/// and the kernel's phys-to-virt patching assume the kernel's memory bank
/// starts on a 2 MiB boundary.
pub const MEMORY_ALIGN: u64 = 2 << 20;
/// Room kept for the device tree (it is a few KiB).
pub const DTB_ROOM: u64 = 64 << 10;

/// A kernel or initrd: a file, or a package the tool fetches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Artefact {
    /// A path, relative to the description's folder (then the workspace).
    File(String),
    /// A Debian armhf package at a pinned version: the kernel
    /// (`linux-image-*`) or, for an initrd, the static busybox the tool
    /// builds an initramfs around.
    Package { package: String, version: String },
}

/// `[guest.linux]`, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Linux {
    pub kernel: Artefact,
    pub initrd: Option<Artefact>,
    /// The command line as written (the tool adds `lpj=` unless given).
    pub cmdline: String,
    /// The passthrough UART its console is on (`stdout-path`).
    pub console: &'static mvm_board::Device,
    /// The kernel's tick rate, for `lpj=`.
    pub hz: u32,
    pub spans: LinuxSpans,
}

/// Where `[guest.linux]` and its keys were written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinuxSpans {
    pub table: Span,
    pub kernel: Span,
    pub initrd: Option<Span>,
}

fn rule(code: &'static str, message: String, span: Span, label: &str) -> Diagnostic {
    Diagnostic::new(
        ErrorKind::LinuxRule { code, message },
        span,
        label.to_string(),
    )
}

/// Whether a catalogue device is a UART Linux can take as its console.
pub fn is_uart(d: &mvm_board::Device) -> bool {
    d.model.contains("UART")
}

/// What validation knows of the guest when it reads `[guest.linux]`.
pub struct GuestFacts<'a> {
    pub name: &'a str,
    pub level: Option<Level>,
    /// `paging` as written, if it was.
    pub paging: Option<Located<Paging>>,
    pub fpu: Option<&'a Located<bool>>,
    pub memory: &'a [Region],
    pub devices: &'a [(GuestDevice, Span)],
    pub image: Option<&'a Located<String>>,
}

/// Checks `[guest.linux]` and what it requires of the rest of the guest.
pub fn validate(
    raw: &Located<RawLinux>,
    g: GuestFacts<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Linux> {
    let name = g.name;
    let mut ok = true;
    if let Some(image) = g.image {
        diags.push(
            rule(
                "image-and-linux",
                format!("guest `{name}` has both an `image` and a [guest.linux]: a guest runs one program"),
                image.span.clone(),
                "remove this, or the [guest.linux] table",
            )
            .with_secondary(raw.span.clone(), "its Linux"),
        );
        ok = false;
    }
    if g.level == Some(Level::Hrt) {
        diags.push(rule(
            "linux-hrt",
            format!("Linux guest `{name}` is declared HRT, but an unmodified Linux owns its MMU and HRT guests are direct-mapped: make it an SRT guest (`level = \"srt\"`, with `period` and `budget`)"),
            raw.span.clone(),
            "a Linux guest",
        ));
        ok = false;
    }
    if let Some(p) = &g.paging {
        if p.value != Paging::Guest {
            diags.push(
                rule(
                    "linux-paging",
                    format!("Linux guest `{name}` must own its MMU, but `paging` says otherwise: an unmodified Linux writes its own translation tables"),
                    p.span.clone(),
                    "not `guest`",
                )
                .with_help("write `paging = \"guest\"`, or remove `paging` (it is the default for a Linux guest)"),
            );
            ok = false;
        }
    }
    if let Some(f) = g.fpu {
        if !f.value {
            diags.push(rule(
                "linux-without-fpu",
                format!("Linux guest `{name}` has `fpu = false`: Debian's armhf userspace uses VFP, and its first floating-point instruction would be undefined"),
                f.span.clone(),
                "no VFP for this guest",
            ).with_help("remove `fpu` (a Linux guest has VFP by default) unless its kernel and userspace are soft-float"));
        }
    }
    if let Some(first) = g.memory.first() {
        if !first.base.is_multiple_of(MEMORY_ALIGN) {
            diags.push(rule(
                "linux-memory-misaligned",
                format!(
                    "Linux guest `{name}`'s first region `{}` starts at {}, which is not on a 2 MiB boundary: Linux's decompressor places the kernel relative to it",
                    first.name,
                    hex(first.base)
                ),
                first.span.clone(),
                "not 2 MiB aligned",
            ));
            ok = false;
        }
        if first.size < MIN_MEMORY {
            diags.push(rule(
                "linux-memory-too-small",
                format!(
                    "Linux guest `{name}`'s first region `{}` holds {}; a Linux guest needs at least {} there (the decompressed kernel, the zImage, the initrd and room to run)",
                    first.name,
                    format_size(first.size),
                    format_size(MIN_MEMORY)
                ),
                first.span.clone(),
                "too small for Linux",
            ));
            ok = false;
        }
    }
    let console = console(raw, &g, diags);
    let hz = match &raw.value.hz {
        None => Some(DEFAULT_HZ),
        Some(h) => match u32::try_from(h.value) {
            Ok(v @ 1..=10_000) => Some(v),
            _ => {
                diags.push(Diagnostic::new(
                    ErrorKind::IntegerOutOfRange {
                        key: "hz",
                        value: h.value,
                        min: 1,
                        max: 10_000,
                    },
                    h.span.clone(),
                    "not a kernel tick rate",
                ));
                None
            }
        },
    };
    let artefact = |a: &Located<RawArtefact>| match &a.value {
        RawArtefact::File(path) => Some(Artefact::File(path.clone())),
        RawArtefact::Package { package, version } => Some(Artefact::Package {
            package: package.value.clone(),
            version: version.as_ref()?.value.clone(),
        }),
    };
    let kernel = raw.value.kernel.as_ref().and_then(artefact);
    let initrd = match &raw.value.initrd {
        Some(i) => Some(artefact(i)?),
        None => None,
    };
    if !ok {
        return None;
    }
    Some(Linux {
        kernel: kernel?,
        initrd,
        cmdline: raw
            .value
            .cmdline
            .as_ref()
            .map_or(String::new(), |c| c.value.clone()),
        console: console?,
        hz: hz?,
        spans: LinuxSpans {
            table: raw.span.clone(),
            kernel: raw.value.kernel.as_ref()?.span.clone(),
            initrd: raw.value.initrd.as_ref().map(|i| i.span.clone()),
        },
    })
}

/// The console: `console` if given (one of the guest's UARTs), else its
/// first UART.
fn console(
    raw: &Located<RawLinux>,
    g: &GuestFacts<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<&'static mvm_board::Device> {
    let name = g.name;
    let uarts: Vec<&'static mvm_board::Device> = g
        .devices
        .iter()
        .map(|(d, _)| d.device)
        .filter(|d| is_uart(d))
        .collect();
    match &raw.value.console {
        Some(c) => {
            let owned = g.devices.iter().find(|(d, _)| d.device.name == c.value);
            match owned {
                Some((d, _)) if is_uart(d.device) => Some(d.device),
                Some(_) => {
                    diags.push(rule(
                        "linux-console",
                        format!(
                            "the console of Linux guest `{name}` is `{}`, which is not a UART",
                            c.value
                        ),
                        c.span.clone(),
                        "not a UART",
                    ));
                    None
                }
                None => {
                    diags.push(
                        rule(
                            "linux-console",
                            format!(
                                "the console of Linux guest `{name}` is `{}`, which is not one of its devices",
                                c.value
                            ),
                            c.span.clone(),
                            "not its device",
                        )
                        .with_help(format!("add \"{}\" to its `devices`", c.value)),
                    );
                    None
                }
            }
        }
        None => match uarts.first() {
            Some(u) => Some(*u),
            None => {
                // Only when its devices were read: an unknown device was
                // reported already.
                diags.push(
                    rule(
                        "linux-no-console",
                        format!("Linux guest `{name}` has no UART for its console"),
                        raw.span.clone(),
                        "its console would be nowhere",
                    )
                    .with_help("pass a UART through to it (e.g. `devices = [\"uart2\", ...]`)"),
                );
                None
            }
        },
    }
}

/// What the zImage's header and size table say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ZImage {
    /// The file's size.
    pub size: u64,
    /// Bytes the decompressed kernel takes from the start of its memory
    /// bank: TEXT_OFFSET, the kernel and its .bss, when the zImage carries
    /// its size table (Linux 4.x and later); `None` for older ones.
    pub footprint: Option<u64>,
}

fn word(bytes: &[u8], at: usize) -> Option<u32> {
    let w = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(w.try_into().ok()?))
}

/// Reads an Arm zImage's header (magic 0x016F2818 at 0x24, endianness
/// word 0x04030201 at 0x30) and, when present, its size table (0x45454545
/// at 0x34, the table's offset at 0x38: a count, "KLSZ", the offset of the
/// decompressed size, the kernel's .bss size, TEXT_OFFSET, the
/// decompressor's malloc size).
pub fn zimage(bytes: &[u8]) -> Result<ZImage, String> {
    if word(bytes, 0x24) != Some(0x016F_2818) {
        return Err("not an Arm zImage (no 0x016F2818 magic at offset 0x24)".into());
    }
    if word(bytes, 0x30) == Some(0x0102_0304) {
        return Err("a big-endian zImage; the guest runs little-endian".into());
    }
    let (start, end) = (
        word(bytes, 0x28).unwrap_or(0),
        word(bytes, 0x2C).unwrap_or(0),
    );
    match end.checked_sub(start) {
        Some(0) | None => {
            return Err(format!(
            "not a valid zImage: its header's end {end:#010x} is not past its start {start:#010x}"
        ))
        }
        Some(n) if n as usize > bytes.len() => {
            return Err(format!(
                "a truncated zImage: its header gives {n} bytes but the file has {}",
                bytes.len()
            ))
        }
        Some(_) => {}
    }
    // The file's size: more than the header's when a DTB is appended.
    let size = bytes.len() as u64;
    let footprint = (|| {
        if word(bytes, 0x34)? != 0x4545_4545 {
            return None;
        }
        let table = word(bytes, 0x38)? as usize;
        let count = word(bytes, table)? as usize;
        if count < 5 || word(bytes, table + 4)? != 0x5A53_4C4B {
            return None;
        }
        let inflated = word(bytes, word(bytes, table + 8)? as usize)?;
        let bss = word(bytes, table + 12)?;
        let text_offset = word(bytes, table + 16)?;
        Some(u64::from(text_offset) + u64::from(inflated) + u64::from(bss))
    })();
    Ok(ZImage { size, footprint })
}

/// Where a Linux guest's pieces go, guest-physical (= physical).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The zImage's first byte, and the guest's entry point.
    pub kernel: u64,
    pub kernel_size: u64,
    pub dtb: u64,
    /// `[start, end)` of the initrd.
    pub initrd: Option<(u64, u64)>,
    /// One past the last byte used.
    pub end: u64,
}

/// The decompressed kernel's room when the zImage does not say (older
/// kernels): 32 MiB from the bank's start.
const DEFAULT_FOOTPRINT: u64 = 32 << 20;
/// Past the zImage's end: its .bss, stack and malloc area (64 KiB in
/// Linux 6.1), with a margin.
const SCRATCH: u64 = 1 << 20;

fn align_up(v: u64, to: u64) -> u64 {
    v.div_ceil(to) * to
}

/// Places the zImage above what its decompressed kernel will occupy (and
/// 1 MiB more), the device tree above the zImage's scratch, the initrd
/// after it; `region` is the guest's first region.
pub fn layout(region: &Region, z: &ZImage, initrd_size: Option<u64>) -> Layout {
    let footprint = z.footprint.unwrap_or(DEFAULT_FOOTPRINT);
    let kernel = region.base + align_up(footprint + SCRATCH, MEMORY_ALIGN);
    let dtb = align_up(kernel + z.size + SCRATCH, SCRATCH);
    let initrd = initrd_size.map(|s| {
        let start = dtb + DTB_ROOM;
        (start, start + s)
    });
    let end = initrd.map_or(dtb + DTB_ROOM, |(_, e)| e);
    Layout {
        kernel,
        kernel_size: z.size,
        dtb,
        initrd,
        end,
    }
}

/// The room a running Linux needs beyond its boot images, below which the
/// layout is refused.
pub const RUN_ROOM: u64 = 16 << 20;

/// The layout, or the rule it breaks: everything must fit the first
/// region with [`RUN_ROOM`] to spare.
pub fn checked_layout(
    guest: &str,
    region: &Region,
    z: &ZImage,
    initrd_size: Option<u64>,
    span: Span,
) -> Result<Layout, Box<Diagnostic>> {
    let l = layout(region, z, initrd_size);
    if l.end + RUN_ROOM > region.end() {
        return Err(Box::new(rule(
            "linux-memory-too-small",
            format!(
                "Linux guest `{guest}`'s first region `{}` ({}) cannot hold its boot images: the decompressed kernel and the zImage ({}){} end at {}, and Linux needs {} beyond them to run",
                region.name,
                format_size(region.size),
                format_size(z.size),
                initrd_size.map_or(String::new(), |s| format!(", the device tree and the initrd ({})", format_size(s))),
                hex(l.end),
                format_size(RUN_ROOM)
            ),
            span,
            "too small for this kernel and initrd",
        )));
    }
    Ok(l)
}

/// The files of a Linux guest in the folder of built guest programs.
pub fn kernel_file(guest: &str) -> String {
    format!("{guest}.zImage")
}

/// See [`kernel_file`].
pub fn initrd_file(guest: &str) -> String {
    format!("{guest}.initrd")
}

/// The device tree the build generates, beside the other two.
pub fn dtb_file(guest: &str) -> String {
    format!("{guest}.dtb")
}

/// Checks a Linux guest's kernel and initrd and places them: what the
/// image build and the loader both use, so that they agree.
pub fn guest_layout(
    guest: &crate::model::Guest,
    linux: &Linux,
    kernel: &[u8],
    initrd: Option<&[u8]>,
) -> Result<Layout, Box<Diagnostic>> {
    let z = zimage(kernel).map_err(|e| {
        Box::new(rule(
            "linux-not-zimage",
            format!("the kernel of Linux guest `{}` is {e}", guest.name),
            linux.spans.kernel.clone(),
            "this kernel",
        ))
    })?;
    if let Some(bytes) = initrd {
        initrd_format(bytes).map_err(|e| {
            Box::new(rule(
                "linux-initrd-format",
                format!("the initrd of Linux guest `{}` is {e}", guest.name),
                linux
                    .spans
                    .initrd
                    .clone()
                    .unwrap_or(linux.spans.table.clone()),
                "this initrd",
            ))
        })?;
    }
    checked_layout(
        &guest.name,
        &guest.memory[0],
        &z,
        initrd.map(|i| i.len() as u64),
        guest.memory[0].span.clone(),
    )
}

/// Room kept at the start of the monitor's load address for the monitor
/// itself (its image, data, stacks): the pristine copies start above it.
pub const MONITOR_ROOM: u64 = 2 << 20;

/// Where the pristine copies of the Linux guests' in-place images may go:
/// RAM that no guest may use, in the monitor's reservation from
/// [`MONITOR_ROOM`] past the monitor's load address up to the system's
/// table area (or the reservation's end when the table area lies beyond
/// it). On QEMU that is Non-secure RAM no guest is given; on the ZC702 the
/// Secure block, which no guest can reach (docs/health.md).
pub fn pristine_area(system: &crate::model::System) -> mvm_board::PhysRange {
    let board = system.board;
    let r = board.monitor_reservation;
    let start = (board.monitor_load + MONITOR_ROOM).next_multiple_of(1 << 20);
    let tables = crate::directmap::table_area(system);
    let end = if r.contains_range(tables.base, tables.size) {
        tables.base
    } else {
        r.end()
    };
    mvm_board::PhysRange::new(start, end.saturating_sub(start))
}

/// Places the pristine copies of in-place images of `sizes` bytes (every
/// Linux guest's kernel then initrd, in the guests' order) one after the
/// other, each on a 4 KiB boundary, in [`pristine_area`]; an error when
/// they do not fit.
pub fn pristine_places(system: &crate::model::System, sizes: &[u64]) -> Result<Vec<u64>, String> {
    let area = pristine_area(system);
    let mut next = area.base;
    let mut places = Vec::new();
    for &size in sizes {
        places.push(next);
        next = (next + size).next_multiple_of(4096);
    }
    if next > area.end() {
        return Err(format!(
            "the pristine copies of the Linux guests' kernels and initrds take {} but the monitor's reservation has {} free for them ([{}, {})): a restart needs them (docs/health.md); use a smaller kernel or initrd, or fewer Linux guests",
            format_size(next - area.base),
            format_size(area.size),
            hex(area.base),
            hex(area.end()),
        ));
    }
    Ok(places)
}

/// [`pristine_places`] for the files in `dir` (the built guest programs):
/// for each guest, its copies' bases (empty for a guest that is not Linux).
pub fn pristine_layout(
    system: &crate::model::System,
    dir: &std::path::Path,
) -> Result<Vec<Vec<u64>>, String> {
    let len = |name: String| -> Result<u64, String> {
        let path = dir.join(name);
        std::fs::metadata(&path)
            .map(|m| m.len())
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))
    };
    let mut sizes = Vec::new();
    let mut counts = Vec::new();
    for g in &system.guests {
        let Some(l) = &g.linux else {
            counts.push(0);
            continue;
        };
        sizes.push(len(kernel_file(&g.name))?);
        if l.initrd.is_some() {
            sizes.push(len(initrd_file(&g.name))?);
        }
        counts.push(1 + usize::from(l.initrd.is_some()));
    }
    let mut places = pristine_places(system, &sizes)?.into_iter();
    Ok(counts
        .into_iter()
        .map(|n| places.by_ref().take(n).collect())
        .collect())
}

/// Everything the image build makes of a Linux guest's files: where they
/// go, and its device tree.
pub struct Boot {
    pub layout: Layout,
    pub bootargs: String,
    pub dtb: Vec<u8>,
}

/// Places a Linux guest's kernel and initrd and generates its device tree.
pub fn boot(
    system: &crate::model::System,
    guest: &crate::model::Guest,
    linux: &Linux,
    kernel: &[u8],
    initrd: Option<&[u8]>,
) -> Result<Boot, String> {
    let layout = guest_layout(guest, linux, kernel, initrd)
        .map_err(|d| format!("guest `{}`: {}", guest.name, d.message()))?;
    let bootargs = bootargs(
        &linux.cmdline,
        system.board.linux_delay_loops_per_second,
        linux.hz,
    );
    let memory: Vec<(u64, u64)> = guest.memory.iter().map(|r| (r.base, r.size)).collect();
    let devices: Vec<_> = guest
        .devices
        .iter()
        .map(|d| (d.device, d.trigger))
        .collect();
    let dtb = crate::dtb::linux_dtb(
        system.board,
        &crate::dtb::DtbGuest {
            name: &guest.name,
            core: guest.core,
            memory: &memory,
            devices: &devices,
            console: linux.console,
            bootargs: &bootargs,
            initrd: layout.initrd,
            channels: &channel_ends(system, guest),
        },
    )
    .map_err(|e| format!("guest `{}`: its device tree: {e}", guest.name))?;
    if dtb.len() as u64 > DTB_ROOM {
        return Err(format!(
            "guest `{}`: its device tree takes {} bytes, more than the {} kept for it",
            guest.name,
            dtb.len(),
            DTB_ROOM
        ));
    }
    Ok(Boot {
        layout,
        bootargs,
        dtb,
    })
}

/// The command line Linux gets: the declared one, with `lpj=` (loops per
/// jiffy of its delay loop) unless it sets one: calibrating the delay loop
/// under a budget gives a figure 20-60 times too small.
/// The first `linux,code` a Linux guest's channel keys get: unassigned
/// codes up to `KEY_MAX` (0x2ff), one per end in declaration order.
pub const FIRST_CHANNEL_KEY: u32 = 0x2F0;

/// A Linux guest's channel ends (docs/channels.md), as its device tree
/// describes them and its `/init` starts readers for: a reader's end
/// carries its notification line and the key code it comes as.
pub fn channel_ends(
    system: &crate::model::System,
    guest: &crate::model::Guest,
) -> Vec<crate::dtb::ChannelEnd> {
    let Some(index) = system.guests.iter().position(|g| g.name == guest.name) else {
        return Vec::new();
    };
    system
        .channel_ends(index)
        .zip(FIRST_CHANNEL_KEY..)
        .map(|((c, writable), code)| crate::dtb::ChannelEnd {
            name: c.name.clone(),
            base: c.base,
            size: c.size,
            writable,
            irq: if writable { None } else { c.irq },
            code,
        })
        .collect()
}

pub fn bootargs(cmdline: &str, delay_loops_per_second: u64, hz: u32) -> String {
    let mut args = cmdline.trim().to_string();
    if !args.split_whitespace().any(|a| a.starts_with("lpj=")) {
        let lpj = crate::dtb::lpj(delay_loops_per_second, hz.max(1));
        if !args.is_empty() {
            args.push(' ');
        }
        args.push_str(&format!("lpj={lpj}"));
    }
    args
}

/// Recognised initrd formats: a cpio archive or one of the compressions
/// Linux can unpack (gzip, xz, zstd, lz4, bzip2, lzma, lzo).
pub fn initrd_format(bytes: &[u8]) -> Result<&'static str, String> {
    let formats: &[(&[u8], &str)] = &[
        (b"070701", "cpio"),
        (b"070702", "cpio"),
        (&[0x1F, 0x8B], "gzip"),
        (&[0xFD, b'7', b'z', b'X', b'Z', 0], "xz"),
        (&[0x28, 0xB5, 0x2F, 0xFD], "zstd"),
        (&[0x02, 0x21, 0x4C, 0x18], "lz4"),
        (b"BZh", "bzip2"),
        (&[0x5D, 0x00, 0x00], "lzma"),
        (&[0x89, b'L', b'Z', b'O'], "lzo"),
    ];
    formats
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
        .map(|(_, name)| *name)
        .ok_or_else(|| {
            "not an initramfs: neither a cpio archive nor gzip, xz, zstd, lz4, bzip2, lzma or lzo"
                .into()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zimage_bytes(table: Option<(u32, u32, u32)>) -> Vec<u8> {
        let mut b = vec![0u8; 0x2000];
        b[0x24..0x28].copy_from_slice(&0x016F_2818u32.to_le_bytes());
        b[0x2C..0x30].copy_from_slice(&0x2000u32.to_le_bytes());
        b[0x30..0x34].copy_from_slice(&0x0403_0201u32.to_le_bytes());
        if let Some((inflated, bss, text)) = table {
            b[0x34..0x38].copy_from_slice(&0x4545_4545u32.to_le_bytes());
            b[0x38..0x3C].copy_from_slice(&0x1000u32.to_le_bytes());
            for (i, w) in [6u32, 0x5A53_4C4B, 0x1801, bss, text, 0x10000]
                .iter()
                .enumerate()
            {
                b[0x1000 + 4 * i..0x1004 + 4 * i].copy_from_slice(&w.to_le_bytes());
            }
            // The decompressed size, unaligned as Linux leaves it.
            b[0x1801..0x1805].copy_from_slice(&inflated.to_le_bytes());
        }
        b
    }

    fn region(base: u64, size: u64) -> Region {
        Region {
            name: "ram".into(),
            base,
            size,
            span: 0..0,
        }
    }

    #[test]
    fn the_size_table_gives_the_decompressed_footprint() {
        let z = zimage(&zimage_bytes(Some((20_582_580, 0x5E4D4, 0x20_8000)))).unwrap();
        assert_eq!(z.footprint, Some(0x20_8000 + 20_582_580 + 0x5E4D4));
        assert_eq!(zimage(&zimage_bytes(None)).unwrap().footprint, None);
        let mut big = zimage_bytes(None);
        big[0x30..0x34].copy_from_slice(&0x0102_0304u32.to_le_bytes());
        assert!(zimage(&big).unwrap_err().contains("big-endian"));
        assert!(zimage(b"\x7fELF")
            .unwrap_err()
            .contains("not an Arm zImage"));
        let mut truncated = zimage_bytes(None);
        truncated.truncate(0x1000);
        assert!(zimage(&truncated)
            .unwrap_err()
            .contains("gives 8192 bytes but the file has 4096"));
        let mut backwards = zimage_bytes(None);
        backwards[0x28..0x2C].copy_from_slice(&0x9000u32.to_le_bytes());
        assert!(zimage(&backwards)
            .unwrap_err()
            .contains("end 0x00002000 is not past its start 0x00009000"));
        // A table offset past the end is no table, not a panic.
        let mut broken = zimage_bytes(Some((1, 2, 3)));
        broken[0x38..0x3C].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
        assert_eq!(zimage(&broken).unwrap().footprint, None);
    }

    #[test]
    fn nothing_the_decompressor_writes_overlaps_the_zimage_dtb_or_initrd() {
        let r = region(0x6800_0000, 128 << 20);
        let z = zimage(&zimage_bytes(Some((20_582_580, 0x5E4D4, 0x20_8000)))).unwrap();
        let z = ZImage {
            size: 5_448_192,
            ..z
        };
        let l = layout(&r, &z, Some(900_000));
        // The decompressed kernel ends below the zImage, with a margin.
        assert!(r.base + z.footprint.unwrap() + SCRATCH <= l.kernel);
        assert_eq!(l.kernel % MEMORY_ALIGN, 0);
        // The zImage's scratch ends below the device tree.
        assert!(l.kernel + z.size + SCRATCH <= l.dtb);
        let (start, end) = l.initrd.unwrap();
        assert!(l.dtb + DTB_ROOM <= start && end == start + 900_000);
        assert_eq!(l.end, end);
        assert!(checked_layout("l", &r, &z, Some(900_000), 0..0).is_ok());
        let small = region(0x6800_0000, 40 << 20);
        let e = checked_layout("l", &small, &z, Some(900_000), 0..0).unwrap_err();
        assert_eq!(e.code(), "linux-memory-too-small");
    }

    #[test]
    fn lpj_is_added_unless_given() {
        assert_eq!(bootargs("", 500_000_000, 250), "lpj=2000000");
        assert_eq!(bootargs(" quiet ", 500_000_000, 100), "quiet lpj=5000000");
        assert_eq!(bootargs("lpj=7 quiet", 500_000_000, 250), "lpj=7 quiet");
    }

    #[test]
    fn initrd_formats_are_recognised() {
        assert_eq!(initrd_format(&[0x1F, 0x8B, 8]).unwrap(), "gzip");
        assert_eq!(initrd_format(b"070701000").unwrap(), "cpio");
        assert!(initrd_format(b"\x7fELF").is_err());
    }
}
