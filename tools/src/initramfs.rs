//! A Linux guest's initramfs: a gzipped cpio "newc" archive with busybox.
//!
//! - The same inputs give the same bytes: every timestamp is 0, owners are
//!   root, inode numbers count up in path order, and the gzip header has no
//!   time and no name. A rebuilt image therefore hashes the same.
//! - The cpio writer is ours (the format is a 110-byte text header per
//!   entry); compression is `flate2`'s, a well-kept crate whose default
//!   backend is pure Rust, so the host needs no zlib and no `gzip` program.
//! - `/init` is a busybox shell script ([`init`]): it brings up `/proc`,
//!   `/sys` and `/dev`, says `userspace up`, runs a CPU-bound benchmark when
//!   the kernel command line has `mvm.bench`, starts a reader
//!   (`mvm-channel`) for each channel the guest reads, and leaves a shell
//!   on the console.

use std::collections::BTreeMap;
use std::io::Write;

use flate2::{Compression, GzBuilder};
use mvm_config::dtb::ChannelEnd;

/// The `/init` script ([`init`] fills in the counter's address and rate):
/// run by busybox's `sh` (the kernel runs `/init` and the `#!` line names
/// the interpreter).
///
/// The benchmark's figures are lines `mvm-bench NAME=VALUE`, in ticks of
/// the vexpress 24 MHz counter (`SYS_24MHZ`, read with `devmem`; it counts
/// from 0 at reset and wraps after about 179 s):
/// - `init_ticks24`: the counter as `/init` starts (once `/dev` is there,
///   which `devmem` needs), i.e. reset to userspace;
/// - `md5_16mib_ticks24`: `md5sum` of 16 MiB from `/dev/zero`;
/// - `shell_loop_20000_ticks24`: 20 000 turns of a shell `while` loop;
/// - `counter_hz` (the counter's rate) first and `done` last, so a reader
///   knows the unit and when the figures are complete.
const INIT_TEMPLATE: &str = r#"#!/bin/busybox sh
# MVM's /init for a busybox initramfs (written by tools/src/initramfs.rs).
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
/bin/busybox mount -t devtmpfs devtmpfs /dev
# The vexpress 24 MHz counter (SYS_24MHZ), as a decimal number of ticks.
ticks24() {
    t=$(/bin/busybox devmem @SYS_24MHZ@ 32 2>/dev/null) || return 1
    echo $((t))
}
init_ticks=$(ticks24)
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox --install -s
echo "mvm: userspace up (Linux $(uname -r))"
@CHANNELS@# Ticks since $1, modulo the counter's 32 bits.
since() {
    now=$(ticks24)
    echo $(((now - $1) & 0xFFFFFFFF))
}
case " $(cat /proc/cmdline) " in
*" mvm.bench "*)
    if [ -z "$init_ticks" ]; then
        # IO_STRICT_DEVMEM refuses registers a driver has claimed (the
        # vexpress sysreg node of a full DTB); iomem=relaxed lifts that.
        echo "mvm-bench error: cannot read the 24 MHz counter at @SYS_24MHZ@ with devmem (a driver owns it? boot with iomem=relaxed)"
    else
        echo "mvm-bench counter_hz=@SYS_24MHZ_HZ@"
        echo "mvm-bench init_ticks24=$init_ticks"
        start=$(ticks24)
        head -c 16777216 /dev/zero | md5sum >/dev/null
        echo "mvm-bench md5_16mib_ticks24=$(since "$start")"
        start=$(ticks24)
        i=0
        while [ $i -lt 20000 ]; do i=$((i + 1)); done
        echo "mvm-bench shell_loop_20000_ticks24=$(since "$start")"
        echo "mvm-bench done"
    fi
    ;;
esac
# mvm.poweroff: power off once the above is done (under MVM, PSCI
# SYSTEM_OFF stops this guest alone; natively, QEMU ends).
case " $(cat /proc/cmdline) " in
*" mvm.poweroff "*) poweroff -f ;;
esac
# A shell on the console as its controlling terminal, so that Ctrl-C and
# job control work (cttyhack finds the console's real tty).
exec setsid cttyhack sh
"#;

/// Where the channel reader program and the input event module go.
pub const CHANNEL_PROGRAM: &str = "/bin/mvm-channel";
pub const EVDEV_MODULE: &str = "/lib/modules/evdev.ko";

/// The part of `/init` that starts a reader for each channel end the guest
/// reads: one that is notified sleeps on `/dev/input/event*` (so `evdev`
/// is loaded first: Debian builds it as a module), one that is not polls
/// (key code 0). Ends it writes have no reader to start: a program of the
/// guest's maps them itself.
fn channel_readers(channels: &[ChannelEnd]) -> String {
    let readers: Vec<&ChannelEnd> = channels.iter().filter(|end| !end.writable).collect();
    if readers.is_empty() {
        return String::new();
    }
    let mut text = String::from(
        "# Channels: a reader per channel the guest reads runs in the background\n\
         # (a notified one wakes on its key events, through evdev).\n",
    );
    if readers.iter().any(|end| end.irq.is_some()) {
        text.push_str(&format!(
            "[ -e {EVDEV_MODULE} ] && /bin/busybox insmod {EVDEV_MODULE}\n"
        ));
    }
    for end in readers {
        // A channel's name is a node name (letters, digits, `,._+-`):
        // nothing the shell would expand.
        text.push_str(&format!(
            "{CHANNEL_PROGRAM} read {} 0x{:08X} {} {} &\n",
            end.name,
            end.base,
            end.size,
            // Key code 0: no notification, the reader polls.
            if end.irq.is_some() { end.code } else { 0 }
        ));
    }
    text
}

/// The `/init` script, for the QEMU vexpress-a9 board's counter, starting
/// a reader for each of `channels` the guest reads.
pub fn init(channels: &[ChannelEnd]) -> String {
    INIT_TEMPLATE
        .replace("@CHANNELS@", &channel_readers(channels))
        .replace(
            "@SYS_24MHZ@",
            &format!("0x{:08X}", board_qemu_vexpress::SYS_24MHZ),
        )
        .replace(
            "@SYS_24MHZ_HZ@",
            &board_qemu_vexpress::SYS_24MHZ_HZ.to_string(),
        )
}

/// Folders every initramfs has (busybox `--install -s` fills the `bin`s).
const FOLDERS: [&str; 11] = [
    "bin", "dev", "etc", "proc", "root", "sbin", "sys", "tmp", "usr", "usr/bin", "usr/sbin",
];

/// What an archive entry is; permission bits are kept apart.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Folder,
    File(Vec<u8>),
    CharDevice { major: u32, minor: u32 },
}

impl Node {
    /// The file type bits of `st_mode`.
    fn type_bits(&self) -> u32 {
        match self {
            Node::Folder => 0o040000,
            Node::File(_) => 0o100000,
            Node::CharDevice { .. } => 0o020000,
        }
    }
}

/// A cpio "newc" archive being built. Entries are kept sorted by path, so
/// a folder always comes before what it holds (the kernel's unpacker does
/// not create missing parents) and the order does not depend on the order
/// of the calls.
#[derive(Debug, Default)]
pub struct Cpio {
    entries: BTreeMap<String, (Node, u32)>,
}

impl Cpio {
    pub fn new() -> Self {
        Self::default()
    }

    /// A folder (and its missing parents, mode 0755).
    pub fn folder(&mut self, path: &str, mode: u32) -> Result<(), String> {
        self.insert(path, Node::Folder, mode)
    }

    /// A regular file, replacing any file already at `path`; missing parent
    /// folders are added with mode 0755.
    pub fn file(&mut self, path: &str, bytes: Vec<u8>, mode: u32) -> Result<(), String> {
        self.insert(path, Node::File(bytes), mode)
    }

    /// A character device node.
    pub fn char_device(
        &mut self,
        path: &str,
        mode: u32,
        major: u32,
        minor: u32,
    ) -> Result<(), String> {
        self.insert(path, Node::CharDevice { major, minor }, mode)
    }

    fn insert(&mut self, path: &str, node: Node, mode: u32) -> Result<(), String> {
        let path = archive_path(path)?;
        if let Node::File(bytes) = &node {
            if u32::try_from(bytes.len()).is_err() {
                return Err(format!(
                    "initramfs file `{path}`: {} bytes, more than a cpio archive can hold (4 GiB)",
                    bytes.len()
                ));
            }
        }
        if mode & !0o7777 != 0 {
            return Err(format!(
                "initramfs entry `{path}`: mode {mode:#o} has bits other than permissions (0o7777)"
            ));
        }
        // Parents first: each must be a folder, or become one.
        let mut end = 0;
        while let Some(slash) = path[end..].find('/') {
            end += slash;
            let parent = &path[..end];
            match self.entries.get(parent) {
                Some((Node::Folder, _)) => {}
                Some(_) => {
                    return Err(format!(
                        "initramfs entry `{path}`: its parent `{parent}` is not a folder"
                    ))
                }
                None => {
                    self.entries
                        .insert(parent.to_string(), (Node::Folder, 0o755));
                }
            }
            end += 1;
        }
        let is_folder = node == Node::Folder;
        match self.entries.get(&path) {
            Some((Node::Folder, _)) if !is_folder => {
                return Err(format!(
                    "initramfs entry `{path}`: a folder of that name is already there"
                ))
            }
            Some((old, _)) if is_folder && *old != Node::Folder => {
                return Err(format!(
                    "initramfs folder `{path}`: a file of that name is already there"
                ))
            }
            _ => {}
        }
        self.entries.insert(path, (node, mode));
        Ok(())
    }

    /// The uncompressed archive, ending with the `TRAILER!!!` entry.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Inode numbers in path order, from 1; 0 stays for the trailer.
        for (ino, (path, (node, mode))) in (1u32..).zip(&self.entries) {
            let (data, nlink, rdev): (&[u8], u32, (u32, u32)) = match node {
                Node::Folder => (&[], 2, (0, 0)),
                Node::File(bytes) => (bytes, 1, (0, 0)),
                Node::CharDevice { major, minor } => (&[], 1, (*major, *minor)),
            };
            write_entry(
                &mut out,
                ino,
                node.type_bits() | mode,
                nlink,
                rdev,
                path,
                data,
            );
        }
        write_entry(&mut out, 0, 0, 1, (0, 0), TRAILER, &[]);
        out
    }

    /// The archive, gzipped (what the kernel's `initrd` takes).
    pub fn to_gzip(&self) -> Vec<u8> {
        gzip(&self.to_bytes())
    }
}

/// The name of the entry that ends a cpio archive.
const TRAILER: &str = "TRAILER!!!";

/// Writes one "newc" entry: the magic `070701`, thirteen 8-digit hex
/// fields, the name with its NUL, padding to 4 bytes, the data, padding.
fn write_entry(
    out: &mut Vec<u8>,
    ino: u32,
    mode: u32,
    nlink: u32,
    rdev: (u32, u32),
    name: &str,
    data: &[u8],
) {
    let size = u32::try_from(data.len()).expect("`Cpio::insert` refuses files of 4 GiB or more");
    let name_size = u32::try_from(name.len() + 1).expect("no path is 4 GiB long");
    // ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor,
    // rdevmajor, rdevminor, namesize, check.
    let fields = [
        ino, mode, 0, 0, nlink, 0, size, 0, 0, rdev.0, rdev.1, name_size, 0,
    ];
    out.extend_from_slice(b"070701");
    for field in fields {
        out.extend_from_slice(format!("{field:08X}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(data);
    pad4(out);
}

fn pad4(out: &mut Vec<u8>) {
    out.resize(out.len().next_multiple_of(4), 0);
}

/// Gzip with no timestamp and no file name in the header, at the best
/// compression (the image is embedded in the monitor's reservation).
fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), Compression::best());
    encoder
        .write_all(bytes)
        .expect("writing into a Vec cannot fail");
    encoder.finish().expect("writing into a Vec cannot fail")
}

/// `path` as stored in the archive: relative (a leading `/` is dropped),
/// no empty, `.` or `..` component.
fn archive_path(path: &str) -> Result<String, String> {
    let relative = path.strip_prefix('/').unwrap_or(path);
    let bad = relative.is_empty()
        || relative
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
        || relative.contains('\0');
    if bad {
        return Err(format!(
            "initramfs entry `{path}`: not a plain path (write e.g. `/bin/program`)"
        ));
    }
    Ok(relative.to_string())
}

/// A file to add to the initramfs: its path in the archive, its bytes and
/// its permission bits (e.g. 0o755 for a program).
pub type ExtraFile = (String, Vec<u8>, u32);

/// The gzipped initramfs: `busybox` as `/bin/busybox`, [`init`] as
/// `/init` (with readers for `channels`), the usual folders,
/// `/dev/console`, and `extra` files (which may replace `/init`; missing
/// folders on their paths are added).
pub fn busybox(
    busybox: &[u8],
    extra: &[ExtraFile],
    channels: &[ChannelEnd],
) -> Result<Vec<u8>, String> {
    let mut cpio = Cpio::new();
    for folder in FOLDERS {
        cpio.folder(folder, 0o755)?;
    }
    // The kernel opens /dev/console for /init's standard streams before
    // /init mounts devtmpfs, so the node must be in the archive.
    cpio.char_device("dev/console", 0o600, 5, 1)?;
    cpio.file("bin/busybox", busybox.to_vec(), 0o755)?;
    cpio.file("init", init(channels).into_bytes(), 0o755)?;
    for (path, bytes, mode) in extra {
        cpio.file(path, bytes.clone(), *mode)?;
    }
    Ok(cpio.to_gzip())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read;

    /// One parsed entry: name, mode, nlink, rdev, data.
    #[derive(Debug, PartialEq)]
    struct Parsed {
        ino: u32,
        name: String,
        mode: u32,
        nlink: u32,
        rdev: (u32, u32),
        data: Vec<u8>,
    }

    /// An independent reader of "newc" archives, checking every rule the
    /// kernel's unpacker relies on.
    fn parse(archive: &[u8]) -> Vec<Parsed> {
        let mut entries = Vec::new();
        let mut at = 0;
        loop {
            assert_eq!(at % 4, 0, "entry at {at} is not 4-byte aligned");
            let header = &archive[at..at + 110];
            assert_eq!(&header[..6], b"070701", "magic at {at}");
            let field = |i: usize| {
                let hex = std::str::from_utf8(&header[6 + 8 * i..14 + 8 * i]).unwrap();
                u32::from_str_radix(hex, 16).unwrap()
            };
            let (uid, gid, mtime, check) = (field(2), field(3), field(5), field(12));
            assert_eq!((uid, gid, mtime, check), (0, 0, 0, 0));
            let size = field(6) as usize;
            let name_size = field(11) as usize;
            let name_start = at + 110;
            let name = &archive[name_start..name_start + name_size];
            assert_eq!(name.last(), Some(&0), "name ends with NUL");
            let name = std::str::from_utf8(&name[..name_size - 1])
                .unwrap()
                .to_string();
            let data_start = (name_start + name_size).next_multiple_of(4);
            assert!(archive[name_start + name_size..data_start]
                .iter()
                .all(|&b| b == 0));
            let data = archive[data_start..data_start + size].to_vec();
            at = (data_start + size).next_multiple_of(4);
            assert!(archive[data_start + size..at].iter().all(|&b| b == 0));
            let last = name == TRAILER;
            entries.push(Parsed {
                ino: field(0),
                name,
                mode: field(1),
                nlink: field(4),
                rdev: (field(9), field(10)),
                data,
            });
            if last {
                assert_eq!(at, archive.len(), "nothing after the trailer");
                return entries;
            }
        }
    }

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn cpio_round_trips_names_modes_contents_and_trailer() {
        let mut cpio = Cpio::new();
        cpio.file("/usr/local/bin/tool", b"abcde".to_vec(), 0o755)
            .unwrap();
        cpio.folder("tmp", 0o1777).unwrap();
        cpio.char_device("dev/console", 0o600, 5, 1).unwrap();
        cpio.file("a", Vec::new(), 0o644).unwrap();
        let parsed = parse(&cpio.to_bytes());
        let got: Vec<_> = parsed
            .iter()
            .map(|p| (p.ino, p.name.as_str(), p.mode, p.nlink, p.rdev))
            .collect();
        assert_eq!(
            got,
            [
                (1, "a", 0o100644, 1, (0, 0)),
                (2, "dev", 0o040755, 2, (0, 0)),
                (3, "dev/console", 0o020600, 1, (5, 1)),
                (4, "tmp", 0o041777, 2, (0, 0)),
                (5, "usr", 0o040755, 2, (0, 0)),
                (6, "usr/local", 0o040755, 2, (0, 0)),
                (7, "usr/local/bin", 0o040755, 2, (0, 0)),
                (8, "usr/local/bin/tool", 0o100755, 1, (0, 0)),
                (0, "TRAILER!!!", 0, 1, (0, 0)),
            ]
        );
        assert_eq!(parsed[7].data, b"abcde");
        assert!(parsed[0].data.is_empty());
    }

    #[test]
    fn every_name_and_data_length_modulo_4_is_aligned() {
        // Names of 1 to 8 bytes and files of 0 to 8 bytes cover every
        // padding case of both the name and the data.
        let mut cpio = Cpio::new();
        for n in 1..=8 {
            cpio.file(&"x".repeat(n), vec![0xA5; n - 1], 0o644).unwrap();
            cpio.file(&format!("d/{}", "y".repeat(n)), vec![7; n], 0o600)
                .unwrap();
        }
        let parsed = parse(&cpio.to_bytes());
        for p in &parsed {
            if let Some(n) = p.name.strip_prefix("d/") {
                assert_eq!(p.data, vec![7; n.len()]);
            } else if p.name.starts_with('x') {
                assert_eq!(p.data, vec![0xA5; p.name.len() - 1]);
            }
        }
        assert_eq!(parsed.len(), 8 + 1 + 8 + 1);
    }

    #[test]
    fn busybox_initramfs_holds_init_busybox_folders_and_console() {
        let extra = vec![("/usr/bin/hello".to_string(), b"hi".to_vec(), 0o755)];
        let gz = busybox(b"\x7fELF-not-really", &extra, &[]).unwrap();
        let parsed = parse(&gunzip(&gz));
        let find = |name: &str| {
            parsed
                .iter()
                .find(|p| p.name == name)
                .unwrap_or_else(|| panic!("no `{name}` in {parsed:#?}"))
        };
        for folder in FOLDERS {
            assert_eq!(find(folder).mode, 0o040755, "{folder}");
        }
        let console = find("dev/console");
        assert_eq!((console.mode, console.rdev), (0o020600, (5, 1)));
        assert_eq!(find("bin/busybox").data, b"\x7fELF-not-really");
        assert_eq!(find("bin/busybox").mode, 0o100755);
        let init = find("init");
        assert_eq!(init.mode, 0o100755);
        assert!(init.data.starts_with(b"#!/bin/busybox sh\n"));
        assert_eq!(find("usr/bin/hello").data, b"hi");
        // Inode numbers count up in archive order.
        let inos: Vec<u32> = parsed.iter().map(|p| p.ino).collect();
        let expected: Vec<u32> = (1..parsed.len() as u32).chain([0]).collect();
        assert_eq!(inos, expected);
    }

    #[test]
    fn init_promises_what_the_harness_reads() {
        for needle in [
            "userspace up",
            "/proc/cmdline",
            "mvm.bench",
            "devmem 0x1000005C 32",
            "mvm-bench counter_hz=24000000",
            "mvm-bench init_ticks24=",
            "mvm-bench md5_16mib_ticks24=",
            "head -c 16777216 /dev/zero | md5sum",
            "mount -t proc proc /proc",
            "mount -t sysfs sysfs /sys",
            "mount -t devtmpfs devtmpfs /dev",
            "/bin/busybox --install -s",
            "exec setsid cttyhack sh",
        ] {
            assert!(init(&[]).contains(needle), "/init lacks `{needle}`");
        }
        assert!(
            !init(&[]).contains('@'),
            "a placeholder is left:\n{}",
            init(&[])
        );
        assert!(!init(&[]).contains("mvm-channel"));
        assert!(!init(&[]).contains("insmod"));
    }

    fn end(name: &str, base: u64, writable: bool, irq: Option<u32>, code: u32) -> ChannelEnd {
        ChannelEnd {
            name: name.into(),
            base,
            size: 0x2000,
            writable,
            irq,
            code,
        }
    }

    #[test]
    fn init_starts_a_reader_per_read_end_after_evdev_before_the_shell() {
        let channels = [
            end("telemetry", 0x9FF0_0000, false, Some(90), 752),
            end("commands", 0x9FF1_0000, true, Some(91), 753),
            end("quiet", 0x9FF2_0000, false, None, 0),
            end("status", 0x9FF3_0000, false, Some(92), 754),
        ];
        let init = init(&channels);
        let lines: Vec<&str> = init.lines().collect();
        let at = |needle: &str| {
            lines
                .iter()
                .position(|l| *l == needle)
                .unwrap_or_else(|| panic!("/init lacks the line `{needle}`:\n{init}"))
        };
        let up = lines
            .iter()
            .position(|l| l.contains("userspace up"))
            .unwrap();
        let insmod =
            at("[ -e /lib/modules/evdev.ko ] && /bin/busybox insmod /lib/modules/evdev.ko");
        let telemetry = at("/bin/mvm-channel read telemetry 0x9FF00000 8192 752 &");
        let quiet = at("/bin/mvm-channel read quiet 0x9FF20000 8192 0 &");
        let status = at("/bin/mvm-channel read status 0x9FF30000 8192 754 &");
        let shell = at("exec setsid cttyhack sh");
        assert!(
            up < insmod
                && insmod < telemetry
                && telemetry < quiet
                && quiet < status
                && status < shell
        );
        // The written end gets none; the end without a notification polls
        // (key code 0).
        assert_eq!(init.matches("mvm-channel read").count(), 3, "{init}");
        let polled = super::init(&[end("quiet", 0x9FF2_0000, false, None, 0)]);
        assert!(
            !polled.contains("insmod"),
            "no evdev for a reader that polls: {polled}"
        );
        assert!(!init.contains('@'));
    }

    #[test]
    fn channel_initramfs_holds_the_reader_and_evdev_and_is_reproducible() {
        let channels = [end("telemetry", 0x9FF0_0000, false, Some(90), 752)];
        let extra = vec![
            (
                CHANNEL_PROGRAM.to_string(),
                b"\x7fELF reader".to_vec(),
                0o755,
            ),
            (EVDEV_MODULE.to_string(), b"\x7fELF evdev".to_vec(), 0o644),
        ];
        let gz = busybox(b"bb", &extra, &channels).unwrap();
        assert_eq!(gz, busybox(b"bb", &extra, &channels).unwrap());
        let parsed = parse(&gunzip(&gz));
        let find = |name: &str| parsed.iter().find(|p| p.name == name).unwrap();
        assert_eq!(find("bin/mvm-channel").data, b"\x7fELF reader");
        assert_eq!(find("bin/mvm-channel").mode, 0o100755);
        assert_eq!(find("lib/modules/evdev.ko").data, b"\x7fELF evdev");
        assert_eq!(find("lib").mode, 0o040755);
        let text = String::from_utf8(find("init").data.clone()).unwrap();
        assert!(text.contains("/bin/mvm-channel read telemetry 0x9FF00000 8192 752 &"));
        // No channels: /init as it was before channels existed, line for
        // line (the initramfs is hashed into the build's manifest).
        assert!(
            init(&[]).contains("echo \"mvm: userspace up (Linux $(uname -r))\"\n# Ticks since $1")
        );
    }

    #[test]
    fn output_is_the_same_for_the_same_inputs() {
        let extra = vec![("opt/x".to_string(), vec![1, 2, 3], 0o700)];
        let a = busybox(&[9; 5000], &extra, &[]).unwrap();
        let b = busybox(&[9; 5000], &extra, &[]).unwrap();
        assert_eq!(a, b);
        // Gzip header: magic, deflate, no flags (no name), mtime 0, and
        // "unknown" for the operating system (whatever the host).
        assert_eq!(&a[..8], &[0x1F, 0x8B, 8, 0, 0, 0, 0, 0]);
        assert_eq!(a[9], 255);
        // The order of the extra files does not matter either.
        let mut cpio1 = Cpio::new();
        cpio1.file("b", vec![1], 0o644).unwrap();
        cpio1.file("a/c", vec![2], 0o644).unwrap();
        let mut cpio2 = Cpio::new();
        cpio2.file("a/c", vec![2], 0o644).unwrap();
        cpio2.file("b", vec![1], 0o644).unwrap();
        assert_eq!(cpio1.to_gzip(), cpio2.to_gzip());
    }

    #[test]
    fn extra_files_may_replace_init_but_not_a_folder() {
        let extra = vec![("/init".to_string(), b"#!/bin/sh\n".to_vec(), 0o755)];
        let parsed = parse(&gunzip(&busybox(b"bb", &extra, &[]).unwrap()));
        let init = parsed.iter().find(|p| p.name == "init").unwrap();
        assert_eq!(init.data, b"#!/bin/sh\n");

        let extra = vec![("/usr/bin".to_string(), b"x".to_vec(), 0o755)];
        assert_eq!(
            busybox(b"bb", &extra, &[]).unwrap_err(),
            "initramfs entry `usr/bin`: a folder of that name is already there"
        );
        let extra = vec![("/init/x".to_string(), b"x".to_vec(), 0o755)];
        assert_eq!(
            busybox(b"bb", &extra, &[]).unwrap_err(),
            "initramfs entry `init/x`: its parent `init` is not a folder"
        );
    }

    #[test]
    fn bad_paths_and_modes_are_refused() {
        for path in ["", "/", "a//b", "../etc/passwd", "a/./b", "a/"] {
            let err = Cpio::new().file(path, Vec::new(), 0o644).unwrap_err();
            assert!(err.contains("not a plain path"), "{path}: {err}");
        }
        assert_eq!(
            Cpio::new().file("a", Vec::new(), 0o100644).unwrap_err(),
            "initramfs entry `a`: mode 0o100644 has bits other than permissions (0o7777)"
        );
    }
}
