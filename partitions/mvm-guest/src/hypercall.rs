//! Hypercall ABI v1 wrappers (`smc #0`; see `docs/hypercalls.md`).

use core::sync::atomic::{AtomicU32, Ordering};

pub use mvm_kernel::hypercall::abi;
pub use mvm_kernel::stats::GuestStats as Stats;

/// Hypercalls this guest has made (every `smc` through [`call`]), so a
/// guest can compare its own count with the monitor's figures.
static CALLS: AtomicU32 = AtomicU32::new(0);

/// How many hypercalls this guest has made so far.
pub fn count() -> u32 {
    CALLS.load(Ordering::Relaxed)
}

/// A refusal: the negative r0 the monitor returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error(pub i32);

impl Error {
    pub fn name(self) -> &'static str {
        match self.0 {
            abi::NOT_SUPPORTED => "not supported",
            abi::INVALID_PARAMETER => "invalid parameter",
            abi::TOO_LONG => "too long",
            abi::DENIED => "denied",
            abi::NO_MEMORY => "no memory",
            abi::ALREADY_MAPPED => "already mapped",
            abi::NOT_MAPPED => "not mapped",
            _ => "unknown error",
        }
    }
}

pub(crate) fn result(r0: u32) -> Result<u32, Error> {
    if (r0 as i32) < 0 {
        Err(Error(r0 as i32))
    } else {
        Ok(r0)
    }
}

/// Issues hypercall `id` with r1..r3 = `args`; returns r0..r3.
///
/// # Safety
/// The monitor writes the caller's memory named by the arguments of some
/// calls (INFO's buffer): such a buffer must be memory the caller may write.
/// Calls that only read guest memory, or none, are safe with any arguments:
/// the monitor checks every pointer against the caller's own memory.
pub unsafe fn call(id: u32, args: [u32; 3]) -> [u32; 4] {
    CALLS.fetch_add(1, Ordering::Relaxed);
    let r: [u32; 4];
    // SAFETY: `smc` enters the monitor, which changes only r0-r3 and
    // touches only guest memory named by the arguments (the caller vouches
    // for writable buffers); memory is a clobber, so buffers are in memory.
    unsafe {
        let (r0, r1, r2, r3): (u32, u32, u32, u32);
        core::arch::asm!(
            ".arch_extension sec",
            "smc #0",
            inout("r0") id => r0,
            inout("r1") args[0] => r1,
            inout("r2") args[1] => r2,
            inout("r3") args[2] => r3,
            options(nostack)
        );
        r = [r0, r1, r2, r3];
    }
    r
}

/// A call that neither writes guest memory nor needs the caller's
/// guarantees.
pub(crate) fn call_checked(id: u32, args: [u32; 3]) -> [u32; 4] {
    // SAFETY: `id` is not a call that writes guest memory (INFO goes through
    // `info`), so any arguments are safe: the monitor checks them.
    unsafe { call(id, args) }
}

/// The ABI version (major << 16 | minor); the cheapest call, the monitor's
/// fast path.
pub fn version() -> u32 {
    call_checked(abi::VERSION, [0; 3])[0]
}

/// Writes `bytes` (at most [`abi::CONSOLE_WRITE_MAX`]) to the console;
/// the number of bytes written.
pub fn console_write(bytes: &[u8]) -> Result<u32, Error> {
    result(
        call_checked(
            abi::CONSOLE_WRITE,
            [bytes.as_ptr() as u32, bytes.len() as u32, 0],
        )[0],
    )
}

/// A guest's real-time level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Hrt,
    Srt,
}

/// Who the caller is, from INFO.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Info {
    /// Its index in the system's guest table.
    pub id: u32,
    pub level: Level,
    /// The core it runs on.
    pub core: u32,
    /// Its name's full length; `info` copies at most the buffer's length.
    pub name_len: usize,
}

/// Asks who the caller is; its name is copied into `name` (truncated to it).
pub fn info(name: &mut [u8]) -> Result<Info, Error> {
    // SAFETY: `name` is a buffer the caller may write, of the length given.
    let r = unsafe { call(abi::INFO, [name.as_mut_ptr() as u32, name.len() as u32, 0]) };
    let id = result(r[0])?;
    Ok(Info {
        id,
        level: if r[1] == abi::LEVEL_HRT {
            Level::Hrt
        } else {
            Level::Srt
        },
        core: r[2],
        name_len: r[3] as usize,
    })
}

/// Gives the rest of this job's budget away: on a shared core the guest
/// runs again at its next release (or earlier in idle time, if it takes
/// slack); on a dedicated core it returns at once.
pub fn yield_now() {
    call_checked(abi::YIELD, [0; 3]);
}

/// Nanoseconds since the board's reset.
pub fn time_ns() -> u64 {
    let r = call_checked(abi::TIME, [0; 3]);
    (r[2] as u64) << 32 | r[1] as u64
}

/// Waits until TIME reaches `deadline_ns`, yielding and checking about
/// every 100 000 instructions (0.1 ms under QEMU `-icount shift=0`), so
/// that waiting costs few monitor entries.
pub fn sleep_until(deadline_ns: u64) {
    while time_ns() < deadline_ns {
        yield_now();
        crate::cpu::spin(50_000);
    }
}

/// This guest's own figures (jobs, misses, budget used, slack, overruns,
/// monitor entries), from the STATS hypercall.
pub fn stats() -> Stats {
    let mut record = [0u8; Stats::BYTES];
    // SAFETY: `record` is a buffer on our own stack, of the length given.
    let r = unsafe {
        call(
            abi::STATS,
            [record.as_mut_ptr() as u32, record.len() as u32, 0],
        )
    };
    if (r[0] as i32) < 0 {
        return Stats::default();
    }
    Stats::from_bytes(&record)
}

/// Tells the monitor this guest is alive: its watchdog starts over
/// (docs/health.md). Harmless without a watchdog.
pub fn heartbeat() {
    call_checked(abi::HEARTBEAT, [0; 3]);
}

/// This guest failed with `code` (not 0): its `on_failure` decides what
/// follows (a restart from its pristine image, a stop, the system's
/// action). Does not return.
pub fn fail(code: u32) -> ! {
    call_checked(abi::HALT_SELF, [code.max(1), 0, 0]);
    loop {
        crate::cpu::wait_for_interrupt();
    }
}

/// Stops this guest for good: its core stops running it.
pub fn halt() -> ! {
    call_checked(abi::HALT_SELF, [0; 3]);
    // The monitor never returns from HALT_SELF; if it did, stay put.
    loop {
        crate::cpu::wait_for_interrupt();
    }
}
