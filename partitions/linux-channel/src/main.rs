//! `mvm-channel`: reads a channel's ring from a Linux guest's userspace.
//!
//! - `mvm-channel read <name> <base> <size> <code>`: maps the region
//!   read-only from `/dev/mem`, prints each message, then sleeps on the
//!   input device `mvm-channels` (the gpio-keys device the monitor's
//!   notification interrupt is a key of) and drains the ring at each press
//!   of key `code`.
//! - A static EABI executable with no C library: raw system calls
//!   (`svc 0`, number in r7), so it needs nothing in the initramfs but
//!   itself, and it builds with the toolchain the guests use.
//! - Never panics on what it reads: the ring crate tolerates any bytes,
//!   and arguments are checked; a panic (a bug) prints a line and exits.
#![no_std]
#![no_main]

mod sys;

use core::fmt::Write;

use demo_messages::Sample;
use mvm_channel::{Reader, Stats};

/// The input device the notifications are keys of (`mvm_config::dtb`'s
/// `CHANNEL_KEYS`).
const KEYS: &[u8] = b"mvm-channels";

/// A line of output, written with one system call so that lines of two
/// readers never interleave.
struct Line {
    buf: [u8; 160],
    len: usize,
}

impl Line {
    fn new() -> Self {
        Self {
            buf: [0; 160],
            len: 0,
        }
    }

    fn print(mut self) {
        let len = self.len.min(self.buf.len() - 1);
        self.buf[len] = b'\n';
        sys::write_all(1, &self.buf[..=len]);
    }
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        // Room for the newline; a longer line is cut.
        let room = self.buf.len() - 1 - self.len;
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

macro_rules! say {
    ($($arg:tt)*) => {{
        let mut line = Line::new();
        let _ = write!(line, $($arg)*);
        line.print();
    }};
}

/// What the command line asks for.
struct Args<'a> {
    name: &'a str,
    base: u64,
    size: u64,
    code: u16,
}

const USAGE: &str = "usage: mvm-channel read <name> <base-hex> <size> <code>  (code 0: poll)";

/// How often a reader without a notification looks at its channel.
const POLL_MS: u32 = 10;

/// A number in decimal, or in hex after `0x`; `_` may group digits
/// (`0x9FF0_0000`).
fn parse_number(text: &str) -> Option<u64> {
    let (digits, radix) = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => (hex, 16),
        None => (text, 10),
    };
    let mut value: u64 = 0;
    let mut any = false;
    for c in digits.chars().filter(|&c| c != '_') {
        let digit = c.to_digit(radix)?;
        value = value
            .checked_mul(u64::from(radix))?
            .checked_add(u64::from(digit))?;
        any = true;
    }
    any.then_some(value)
}

fn parse<'a>(argv: &[&'a str]) -> Result<Args<'a>, &'static str> {
    let [_, command, name, base, size, code] = argv else {
        return Err(USAGE);
    };
    if *command != "read" {
        return Err(USAGE);
    }
    let base = parse_number(base).ok_or("the base is not a number (write it as 0x9FF00000)")?;
    let size = parse_number(size).ok_or("the size is not a number")?;
    let code = parse_number(code)
        .and_then(|c| u16::try_from(c).ok())
        .ok_or("the key code is not a number below 65536")?;
    if base % sys::PAGE != 0 || size == 0 || size % sys::PAGE != 0 {
        return Err("the region is not a whole number of 4 KiB pages");
    }
    if base.checked_add(size).is_none_or(|end| end > 1 << 32) {
        return Err("the region is not below 4 GiB");
    }
    Ok(Args {
        name,
        base,
        size,
        code,
    })
}

/// The first `/dev/input/event*` whose name is [`KEYS`].
fn find_keys() -> Option<i32> {
    for i in 0..32u8 {
        let mut path = *b"/dev/input/event00\0";
        let tail = if i < 10 {
            path[16] = b'0' + i;
            path[17] = 0;
            17
        } else {
            path[16] = b'0' + i / 10;
            path[17] = b'0' + i % 10;
            18
        };
        let Ok(fd) = sys::open(&path[..=tail], sys::O_RDONLY | sys::O_CLOEXEC) else {
            continue;
        };
        let mut name = [0u8; 64];
        if let Ok(len) = sys::ioctl(fd, sys::eviocgname(name.len()), name.as_mut_ptr()) {
            // The length counts the NUL.
            let len = (len as usize).min(name.len());
            let name = name[..len].split(|&b| b == 0).next().unwrap_or(&[]);
            if name == KEYS {
                return Some(fd);
            }
        }
        sys::close(fd);
    }
    None
}

/// Rounds of [`drain`] at most: each is bounded by the ring, and a
/// writer that never stops publishing must not keep the reader here.
const DRAIN_ROUNDS: usize = 64;

/// Prints every message there is now, and the counters when they changed.
fn drain(name: &str, reader: &mut Reader<Sample>, last: &mut Stats) {
    // A round ends early after a few lost or garbage slots in a row
    // (`try_recv`'s bound): go on while rounds make progress.
    for _ in 0..DRAIN_ROUNDS {
        let before = reader.stats();
        let received = reader.recv_all(|s: Sample| {
            say!("mvm-channel {name}: sample seq={} value={}", s.seq, s.value)
        });
        if received == 0 && reader.stats() == before {
            break;
        }
    }
    let stats = reader.stats();
    if (stats.lost, stats.errors) != (last.lost, last.errors) {
        say!(
            "mvm-channel {name}: lost={} errors={}",
            stats.lost,
            stats.errors
        );
    }
    *last = stats;
}

fn run(argv: &[&str]) -> i32 {
    let args = match parse(argv) {
        Ok(args) => args,
        Err(message) => {
            say!("mvm-channel: {message}");
            return 2;
        }
    };
    let name = args.name;
    let mem = match sys::open(b"/dev/mem\0", sys::O_RDONLY | sys::O_SYNC | sys::O_CLOEXEC) {
        Ok(fd) => fd,
        Err(errno) => {
            say!("mvm-channel {name}: error: cannot open /dev/mem (errno {errno})");
            return 1;
        }
    };
    // Checked by `parse`: below 4 GiB, page aligned, so this fits.
    let (size, page) = (args.size as usize, (args.base / sys::PAGE) as usize);
    let base = match sys::mmap2_read_shared(mem, size, page) {
        Ok(base) => base,
        Err(errno) => {
            say!(
                "mvm-channel {name}: error: cannot map [{:#x}..{:#x}) from /dev/mem (errno {errno}; is it inside Linux's memory or claimed by a driver?)",
                args.base,
                args.base + args.size
            );
            return 1;
        }
    };
    // SAFETY: `base..base + size` is a shared read-only mapping this
    // program never unmaps; the writer (another guest) accesses the region
    // only as 32-bit words, which the ring tolerates even when hostile.
    let mut reader = match unsafe { Reader::<Sample>::new(base, size) } {
        Ok(reader) => reader,
        Err(e) => {
            say!("mvm-channel {name}: error: the region cannot hold the ring: {e}");
            return 1;
        }
    };
    if args.code == 0 {
        say!(
            "mvm-channel {name}: reading [{:#x}..{:#x}), {} slots, every {POLL_MS} ms",
            args.base,
            args.base + args.size,
            reader.capacity()
        );
    } else {
        say!(
            "mvm-channel {name}: reading [{:#x}..{:#x}), {} slots, woken by key {} of mvm-channels",
            args.base,
            args.base + args.size,
            reader.capacity(),
            args.code
        );
    }
    // What is there already is printed even when nothing can wake us.
    let mut last = Stats::default();
    drain(name, &mut reader, &mut last);
    if args.code == 0 {
        // No notification (`notify = false`): look every POLL_MS.
        loop {
            sys::sleep_ms(POLL_MS);
            drain(name, &mut reader, &mut last);
        }
    }
    let Some(keys) = find_keys() else {
        say!("mvm-channel {name}: error: no input device named `mvm-channels` in /dev/input/event* (is evdev loaded, and the device tree's gpio-keys node there?)");
        return 1;
    };
    let mut events = [0u8; sys::INPUT_EVENT * 16];
    loop {
        let n = match sys::read(keys, &mut events) {
            Ok(n) => n,
            Err(sys::EINTR) => continue,
            Err(errno) => {
                say!("mvm-channel {name}: error: reading the input device (errno {errno})");
                return 1;
            }
        };
        let woken = events[..n].chunks_exact(sys::INPUT_EVENT).any(|e| {
            let kind = u16::from_le_bytes([e[8], e[9]]);
            let code = u16::from_le_bytes([e[10], e[11]]);
            let value = i32::from_le_bytes([e[12], e[13], e[14], e[15]]);
            kind == sys::EV_KEY && code == args.code && value == 1
        });
        if woken {
            drain(name, &mut reader, &mut last);
        }
    }
}

/// Called by `_start` with the initial stack: argc, then argv.
///
/// # Safety
///
/// `sp` is the stack Linux's exec built.
#[no_mangle]
unsafe extern "C" fn mvm_channel_main(sp: *const usize) -> ! {
    let mut argv: [&str; 8] = [""; 8];
    // SAFETY: exec puts argc at sp and argc pointers to NUL-terminated
    // strings after it.
    let argc = unsafe { *sp };
    let n = argc.min(argv.len());
    for (i, slot) in argv.iter_mut().enumerate().take(n) {
        // SAFETY: as above; i < argc.
        let arg = unsafe { *sp.add(1 + i) } as *const u8;
        // SAFETY: a NUL-terminated string from exec.
        let bytes = unsafe { core::ffi::CStr::from_ptr(arg.cast()) }.to_bytes();
        *slot = core::str::from_utf8(bytes).unwrap_or("\u{FFFD}");
    }
    // More than 8 arguments is a usage error, as fewer than 6 is.
    let code = if argc > argv.len() {
        say!("mvm-channel: {USAGE}");
        2
    } else {
        run(&argv[..n])
    };
    sys::exit(code)
}

core::arch::global_asm!(
    ".globl _start",
    ".type _start, %function",
    "_start:",
    "mov r0, sp",
    "bic sp, sp, #7",
    "bl mvm_channel_main",
    "udf #0",
);

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    say!("mvm-channel: bug: {info}");
    sys::exit(101)
}
