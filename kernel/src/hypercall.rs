//! Hypercall ABI v1 and its argument checks (pure; host-tested).
//!
//! - A hypercall is `smc #0` from the Non-secure world: the function ID in
//!   r0, arguments in r1..r3, results in r0..r3; every other register is
//!   preserved. Function IDs are SMC Calling Convention SMC32 fast calls in
//!   the vendor-specific hypervisor range (owner 6), so PSCI (owner 4) can
//!   join later.
//! - r0 < 0 (as `i32`) is an error code, SMCCC style; r0 >= 0 is success.
//! - Every guest pointer is checked against the calling guest's own regions,
//!   without overflow; the monitor's memory and other guests' memory are
//!   never in a guest's regions (the generator proves it), so no argument
//!   can make the monitor read or write them, or fault.
//! - Unused result registers are zeroed so that no monitor value leaks.
//! - The reference for guest authors is `docs/hypercalls.md`.

use crate::config::{Guest, Level};
use crate::stats::GuestStats;

/// The ABI as a guest sees it: function IDs, results and error codes.
/// Guests depend on this crate without its `monitor` feature for this alone.
pub mod abi {
    /// r0 out: [`ABI_VERSION`]. The null call: the monitor's fast path.
    pub const VERSION: u32 = 0x8600_0000;
    /// r1 = address, r2 = length. r0 out: bytes written.
    pub const CONSOLE_WRITE: u32 = 0x8600_0001;
    /// r1 = buffer address, r2 = buffer length. r0..r3 out: guest id, level,
    /// core, length of the name (the name is copied, truncated to the
    /// buffer).
    pub const INFO: u32 = 0x8600_0002;
    /// Gives the rest of the current budget away. r0 out: 0.
    pub const YIELD: u32 = 0x8600_0003;
    /// r0 out: 0; r1 = low word, r2 = high word of the nanoseconds since
    /// boot (the global timer, started at reset).
    pub const TIME: u32 = 0x8600_0004;
    /// Stops the calling guest; does not return. r1 = 0: it stops on
    /// purpose, for good; r1 = an error code: it failed, and its
    /// `on_failure` decides (a restart, a stop, the system's action).
    pub const HALT_SELF: u32 = 0x8600_0005;
    /// r1 = buffer address, r2 = buffer length. The caller's own figures
    /// (a STATS record, truncated to the buffer) are copied; r0 out: the
    /// record's full length.
    pub const STATS: u32 = 0x8600_0006;

    /// Shadow paging (a shadow-paged guest with a pool only; others get
    /// [`NOT_SUPPORTED`]). r0 out: the new address space's id.
    pub const SPACE_CREATE: u32 = 0x8600_0007;
    /// r1 = space: load its tables (TTBR0) and its ASID (CONTEXTIDR).
    pub const SPACE_SWITCH: u32 = 0x8600_0008;
    /// r1 = space (not the current one): free it and its L2 tables.
    pub const SPACE_DESTROY: u32 = 0x8600_0009;
    /// r1 = virtual page | flags ([`MAP_WRITABLE`], [`MAP_EXECUTABLE`],
    /// [`MAP_DEVICE`] in bits [11:0]), r2 = guest-physical page, r3 = space.
    pub const MAP: u32 = 0x8600_000A;
    /// r1 = virtual page, r2 = space.
    pub const UNMAP: u32 = 0x8600_000B;
    /// r1 = space: invalidate its TLB entries.
    pub const FLUSH: u32 = 0x8600_000C;
    /// The caller is alive: its watchdog starts over (a guest without a
    /// watchdog may call it too). r0 out: 0.
    pub const HEARTBEAT: u32 = 0x8600_000D;

    /// MAP flag: writable (otherwise read-only).
    pub const MAP_WRITABLE: u32 = 1 << 0;
    /// MAP flag: executable (otherwise never executable).
    pub const MAP_EXECUTABLE: u32 = 1 << 1;
    /// MAP flag: Device memory (a device page always is).
    pub const MAP_DEVICE: u32 = 1 << 2;

    /// Major version in bits [31:16], minor in [15:0] (SMCCC style).
    pub const ABI_VERSION: u32 = 0x0001_0000;

    /// Longest console write served in one call; bounds the time a call
    /// spends in the monitor.
    pub const CONSOLE_WRITE_MAX: u32 = 256;

    /// INFO's level register: hard real-time.
    pub const LEVEL_HRT: u32 = 0;
    /// INFO's level register: soft real-time.
    pub const LEVEL_SRT: u32 = 1;

    /// SMCCC `NOT_SUPPORTED`: unknown function ID.
    pub const NOT_SUPPORTED: i32 = -1;
    /// SMCCC `INVALID_PARAMETER`: a buffer that is not entirely inside one
    /// of the caller's own memory regions (this includes the monitor's
    /// memory, another guest's memory and ranges that wrap around the
    /// address space).
    pub const INVALID_PARAMETER: i32 = -3;
    /// A length above the call's limit ([`CONSOLE_WRITE_MAX`]).
    pub const TOO_LONG: i32 = -4;
    /// MAP: the guest-physical page is not the caller's (another guest's,
    /// the monitor's, the table area, a device it does not own).
    pub const DENIED: i32 = -5;
    /// SPACE_CREATE or MAP: the caller's pool is full.
    pub const NO_MEMORY: i32 = -6;
    /// MAP: the virtual page is already mapped in that space.
    pub const ALREADY_MAPPED: i32 = -7;
    /// UNMAP: the virtual page is not mapped in that space.
    pub const NOT_MAPPED: i32 = -8;
}

/// PSCI 1.0 (Arm DEN 0022), the part a guest OS that owns one core needs:
/// it finds the monitor through its device tree's `/psci` node (`method =
/// "smc"`). SMC32 function IDs (owner 4, standard secure service);
/// results are PSCI's own codes, not the MVM ABI's.
pub mod psci {
    /// r0 out: [`VERSION_1_0`].
    pub const PSCI_VERSION: u32 = 0x8400_0000;
    /// Refused with [`DENIED`]: a guest has exactly its declared core.
    pub const CPU_ON: u32 = 0x8400_0003;
    /// The guest stops for good; the others run on. Does not return.
    pub const SYSTEM_OFF: u32 = 0x8400_0008;
    /// The guest asks to be restarted: a failure whose action is a
    /// restart when its `on_failure` allows one (docs/health.md). Does not
    /// return.
    pub const SYSTEM_RESET: u32 = 0x8400_0009;
    /// r1 = a function ID. r0 out: 0 if implemented, [`NOT_SUPPORTED`]
    /// otherwise.
    pub const PSCI_FEATURES: u32 = 0x8400_000A;

    /// PSCI 1.0: major version in bits [31:16], minor in [15:0].
    pub const VERSION_1_0: u32 = 0x0001_0000;
    pub const SUCCESS: i32 = 0;
    pub const NOT_SUPPORTED: i32 = -1;
    pub const DENIED: i32 = -3;

    /// The functions PSCI_FEATURES reports as implemented.
    pub const IMPLEMENTED: &[u32] = &[PSCI_VERSION, PSCI_FEATURES, SYSTEM_OFF, SYSTEM_RESET];

    /// Whether a function ID lies in PSCI's SMC32 range; any other PSCI
    /// function is answered [`NOT_SUPPORTED`].
    pub const fn is_psci(id: u32) -> bool {
        id & 0xFFFF_FFE0 == 0x8400_0000
    }
}

/// Why a hypercall was refused; [`Error::code`] is what r0 returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    NotSupported,
    InvalidParameter,
    TooLong,
    Denied,
    NoMemory,
    AlreadyMapped,
    NotMapped,
}

impl From<crate::shadow::Error> for Error {
    fn from(e: crate::shadow::Error) -> Self {
        use crate::shadow::Error as S;
        match e {
            S::InvalidParameter => Self::InvalidParameter,
            S::Denied => Self::Denied,
            S::NoMemory => Self::NoMemory,
            S::AlreadyMapped => Self::AlreadyMapped,
            S::NotMapped => Self::NotMapped,
        }
    }
}

impl Error {
    pub const fn code(self) -> i32 {
        match self {
            Self::NotSupported => abi::NOT_SUPPORTED,
            Self::InvalidParameter => abi::INVALID_PARAMETER,
            Self::TooLong => abi::TOO_LONG,
            Self::Denied => abi::DENIED,
            Self::NoMemory => abi::NO_MEMORY,
            Self::AlreadyMapped => abi::ALREADY_MAPPED,
            Self::NotMapped => abi::NOT_MAPPED,
        }
    }

    /// The error for r0, as the register holds it.
    pub const fn register(self) -> u32 {
        self.code() as u32
    }
}

/// A decoded hypercall whose arguments have been checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    Version,
    /// `[addr, addr + len)` lies in one of the caller's regions (or `len`
    /// is 0 and nothing is read).
    ConsoleWrite {
        addr: u32,
        len: u32,
    },
    /// `[addr, addr + len)` lies in one of the caller's regions (or `len`
    /// is 0 and nothing is written).
    Info {
        addr: u32,
        len: u32,
    },
    Yield,
    Time,
    /// HALT_SELF: `code` 0 stops on purpose, any other is a failure.
    HaltSelf {
        code: u32,
    },
    Heartbeat,
    /// `[addr, addr + len)` lies in one of the caller's regions (or `len`
    /// is 0 and nothing is written).
    Stats {
        addr: u32,
        len: u32,
    },
    /// A shadow-paging request from a guest with a pool; its arguments
    /// are checked by [`crate::shadow`].
    Mmu(MmuOp),
    /// A PSCI call that returns: r0..r3 out as given (PSCI_VERSION,
    /// PSCI_FEATURES, CPU_ON's refusal, and NOT_SUPPORTED for the rest).
    Psci([u32; 4]),
    /// PSCI SYSTEM_OFF (`reset` false) or SYSTEM_RESET (`reset` true).
    PowerOff {
        reset: bool,
    },
}

/// A shadow-paging request, as decoded from r1..r3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MmuOp {
    Create,
    Switch {
        space: u32,
    },
    Destroy {
        space: u32,
    },
    Map {
        space: u32,
        va: u32,
        gpa: u32,
        flags: u32,
    },
    Unmap {
        space: u32,
        va: u32,
    },
    Flush {
        space: u32,
    },
}

/// Checks that guest-physical `[addr, addr + len)` is the caller's own
/// memory and returns its physical address. An empty buffer names no
/// memory, so any address is accepted with it (and returned unchanged).
fn own_buffer(guest: &Guest, addr: u32, len: u32) -> Result<u32, Error> {
    if len == 0 {
        return Ok(addr);
    }
    guest.physical(addr, len).ok_or(Error::InvalidParameter)
}

/// Decodes r0..r3 of a call from `guest`.
pub fn decode(regs: &[u32; 4], guest: &Guest) -> Result<Call, Error> {
    let [id, a1, a2, a3] = *regs;
    match id {
        abi::VERSION => Ok(Call::Version),
        abi::CONSOLE_WRITE => {
            if a2 > abi::CONSOLE_WRITE_MAX {
                return Err(Error::TooLong);
            }
            let addr = own_buffer(guest, a1, a2)?;
            Ok(Call::ConsoleWrite { addr, len: a2 })
        }
        abi::INFO => {
            let addr = own_buffer(guest, a1, a2)?;
            Ok(Call::Info { addr, len: a2 })
        }
        abi::YIELD => Ok(Call::Yield),
        abi::TIME => Ok(Call::Time),
        abi::HALT_SELF => Ok(Call::HaltSelf { code: a1 }),
        abi::HEARTBEAT => Ok(Call::Heartbeat),
        abi::STATS => {
            let addr = own_buffer(guest, a1, a2)?;
            Ok(Call::Stats { addr, len: a2 })
        }
        abi::SPACE_CREATE..=abi::FLUSH => {
            if guest.shadow.is_none_or(|p| p.spaces == 0) {
                return Err(Error::NotSupported);
            }
            Ok(Call::Mmu(match id {
                abi::SPACE_CREATE => MmuOp::Create,
                abi::SPACE_SWITCH => MmuOp::Switch { space: a1 },
                abi::SPACE_DESTROY => MmuOp::Destroy { space: a1 },
                abi::MAP => MmuOp::Map {
                    space: a3,
                    va: a1 & !0xFFF,
                    gpa: a2,
                    flags: a1 & 0xFFF,
                },
                abi::UNMAP => MmuOp::Unmap { space: a2, va: a1 },
                _ => MmuOp::Flush { space: a1 },
            }))
        }
        id if psci::is_psci(id) => Ok(match id {
            psci::PSCI_VERSION => Call::Psci([psci::VERSION_1_0, 0, 0, 0]),
            psci::PSCI_FEATURES => {
                let code = if psci::IMPLEMENTED.contains(&a1) {
                    psci::SUCCESS
                } else {
                    psci::NOT_SUPPORTED
                };
                Call::Psci([code as u32, 0, 0, 0])
            }
            psci::CPU_ON => Call::Psci([psci::DENIED as u32, 0, 0, 0]),
            psci::SYSTEM_OFF => Call::PowerOff { reset: false },
            psci::SYSTEM_RESET => Call::PowerOff { reset: true },
            _ => Call::Psci([psci::NOT_SUPPORTED as u32, 0, 0, 0]),
        }),
        _ => Err(Error::NotSupported),
    }
}

/// What serving hypercalls needs from the monitor: one call's view of it
/// (the calling core's state, taken once for the call).
pub trait Services {
    /// The calling guest.
    fn caller(&self) -> &'static Guest;
    /// Copies guest bytes `[addr, addr + out.len())` into `out`.
    ///
    /// # Safety
    /// The range lies inside the calling guest's regions, as [`decode`]
    /// checks.
    unsafe fn read_guest_bytes(&mut self, addr: u32, out: &mut [u8]);
    /// Copies `bytes` to guest memory at `addr`.
    ///
    /// # Safety
    /// `[addr, addr + bytes.len())` lies inside the calling guest's regions.
    unsafe fn write_guest_bytes(&mut self, addr: u32, bytes: &[u8]);
    /// Appends `bytes` to `guest`'s console output.
    fn console_write(&mut self, guest: &Guest, bytes: &[u8]);
    /// Nanoseconds since boot.
    fn now_ns(&mut self) -> u64;
    /// Stops `guest` on this core for good: it stopped on purpose.
    fn halt(&mut self, guest: &Guest) -> !;
    /// `guest` failed: its `on_failure` decides what follows (a restart, a
    /// stop, the system's action); does not return to it.
    fn fail(&mut self, guest: &Guest, failure: crate::health::Failure) -> !;
    /// `guest` asked PSCI to power it off: it stops on purpose (after a
    /// console line that says so).
    fn power_off(&mut self, guest: &Guest) -> ! {
        self.halt(guest)
    }
    /// `guest` is alive: its watchdog starts over.
    fn heartbeat(&mut self, guest: &Guest) {
        let _ = guest;
    }
    /// `guest` gives up the rest of its budget; whether the core must now
    /// choose what runs next (false: the guest simply continues).
    fn yield_now(&mut self, guest: &Guest) -> bool;
    /// `guest`'s own figures, as of now.
    fn stats(&mut self, guest: &Guest) -> GuestStats;
    /// Serves a shadow-paging request of `guest` (which has a pool); r0's
    /// value on success.
    fn mmu(&mut self, guest: &Guest, op: MmuOp) -> Result<u32, Error> {
        let _ = (guest, op);
        Err(Error::NotSupported)
    }
}

/// What the monitor does once a hypercall has been served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Outcome {
    /// Return to the caller.
    Resume = 0,
    /// Choose what runs next (the caller yielded): a full world switch may
    /// follow.
    Reschedule = 1,
}

/// Serves one hypercall in place: `regs` holds r0..r3 on entry and the
/// results on return. The null call ([`abi::VERSION`]) is answered inline,
/// without the monitor's state, so the fast path needs no callee-saved
/// registers; `services` gives that state for every other call.
#[inline(always)]
pub fn serve<S: Services>(regs: &mut [u32; 4], services: impl FnOnce() -> S) -> Outcome {
    if regs[0] == abi::VERSION {
        *regs = [abi::ABI_VERSION, 0, 0, 0];
        Outcome::Resume
    } else {
        serve_slow(regs, &mut services())
    }
}

#[inline(never)]
/// Serves a call other than the null call (see [`serve`]).
pub fn serve_slow<S: Services>(regs: &mut [u32; 4], services: &mut S) -> Outcome {
    let guest = services.caller();
    let mut outcome = Outcome::Resume;
    *regs = match decode(regs, guest) {
        Ok(Call::Version) => [abi::ABI_VERSION, 0, 0, 0],
        Ok(Call::ConsoleWrite { addr, len }) => {
            if len > 0 {
                let mut bytes = [0; abi::CONSOLE_WRITE_MAX as usize];
                let bytes = &mut bytes[..len as usize];
                // SAFETY: `decode` checked that the range is the caller's.
                unsafe { services.read_guest_bytes(addr, bytes) };
                services.console_write(guest, bytes);
            }
            [len, 0, 0, 0]
        }
        Ok(Call::Info { addr, len }) => {
            let name = guest.name.as_bytes();
            let copied = name.len().min(len as usize);
            if copied > 0 {
                // SAFETY: `decode` checked `[addr, addr + len)` is the
                // caller's, and `copied <= len`.
                unsafe { services.write_guest_bytes(addr, &name[..copied]) };
            }
            let level = match guest.level {
                Level::Hrt => abi::LEVEL_HRT,
                Level::Srt => abi::LEVEL_SRT,
            };
            [guest.id, level, guest.core, name.len() as u32]
        }
        Ok(Call::Yield) => {
            if services.yield_now(guest) {
                outcome = Outcome::Reschedule;
            }
            [0, 0, 0, 0]
        }
        Ok(Call::Time) => {
            let ns = services.now_ns();
            [0, ns as u32, (ns >> 32) as u32, 0]
        }
        Ok(Call::HaltSelf { code: 0 }) => services.halt(guest),
        Ok(Call::HaltSelf { code }) => {
            services.fail(guest, crate::health::Failure::ErrorHalt { code })
        }
        Ok(Call::Heartbeat) => {
            services.heartbeat(guest);
            [0, 0, 0, 0]
        }
        Ok(Call::Stats { addr, len }) => {
            let record = services.stats(guest).to_bytes();
            let copied = record.len().min(len as usize);
            if copied > 0 {
                // SAFETY: `decode` checked `[addr, addr + len)` is the
                // caller's, and `copied <= len`.
                unsafe { services.write_guest_bytes(addr, &record[..copied]) };
            }
            [record.len() as u32, 0, 0, 0]
        }
        Ok(Call::Psci(results)) => results,
        Ok(Call::PowerOff { reset: false }) => services.power_off(guest),
        Ok(Call::PowerOff { reset: true }) => services.fail(guest, crate::health::Failure::Reset),
        Ok(Call::Mmu(op)) => match services.mmu(guest, op) {
            Ok(r0) => [r0, 0, 0, 0],
            Err(e) => [e.register(), 0, 0, 0],
        },
        Err(e) => [e.register(), 0, 0, 0],
    };
    outcome
}

#[cfg(test)]
mod tests {
    use super::abi::*;
    use super::*;
    use crate::config::{Image, Paging, Region};
    use core::cell::RefCell;

    const RAM: Region = Region {
        base: 0x7200_0000,
        size: 0x0100_0000,
        guest_base: 0x7200_0000,
    };
    const EXTRA: Region = Region {
        base: 0x7400_0000,
        size: 0x1000,
        guest_base: 0x7400_0000,
    };
    const GUEST: Guest = Guest {
        id: 1,
        name: "hostile",
        level: Level::Srt,
        core: 1,
        paging: Paging::Shadow,
        regions: &[RAM, EXTRA],
        channels: &[],
        devices: &[],
        image: Image {
            load: 0x7200_0000,
            entry: 0x7200_0000,
            bytes: &[],
            boot_arg: 0,
            in_place: &[],
        },
        server: None,
        fpu: false,
        translation: None,
        shadow: None,
        health: crate::config::Health::STOP,
    };
    /// The monitor's reservation and another guest's region, as the demo
    /// system lays them out.
    const MONITOR: u32 = 0x6000_0000;
    const OTHER_GUEST: u32 = 0x7000_0000;

    fn call(regs: [u32; 4]) -> Result<Call, Error> {
        decode(&regs, &GUEST)
    }

    #[test]
    fn console_write_accepts_own_memory_in_any_region() {
        assert_eq!(
            call([CONSOLE_WRITE, 0x7200_0100, 5, 0]),
            Ok(Call::ConsoleWrite {
                addr: 0x7200_0100,
                len: 5
            })
        );
        assert_eq!(
            call([CONSOLE_WRITE, 0x7400_0FFF, 1, 0]),
            Ok(Call::ConsoleWrite {
                addr: 0x7400_0FFF,
                len: 1
            })
        );
        assert!(call([CONSOLE_WRITE, 0x7300_0000 - 256, 256, 0]).is_ok());
    }

    #[test]
    fn console_write_refuses_everything_else() {
        let refused = [
            (MONITOR, 16, "the monitor's memory"),
            (MONITOR + 0x00FF_FFF0, 16, "the end of the monitor's memory"),
            (OTHER_GUEST, 16, "another guest's memory"),
            (0, 1, "a null pointer"),
            (0xFFFF_FFF0, 0x20, "a range that wraps around"),
            (0xFFFF_FFFF, 2, "a range that wraps by one"),
            (0x72FF_FFF8, 16, "a range across the end of its region"),
            (0x71FF_FFF8, 16, "a range across the start of its region"),
            (0x7400_0FF0, 0x20, "a range past a small region"),
            (0x1000_9000, 4, "the monitor's UART"),
        ];
        for (addr, len, what) in refused {
            assert_eq!(
                call([CONSOLE_WRITE, addr, len, 0]),
                Err(Error::InvalidParameter),
                "{what}: [{addr:#x}, +{len:#x})"
            );
        }
    }

    #[test]
    fn shadow_paging_calls_decode_for_guests_with_a_pool_only() {
        // No pool: not supported, whatever the arguments.
        for id in SPACE_CREATE..=FLUSH {
            assert_eq!(decode(&[id, 0, 0, 0], &GUEST), Err(Error::NotSupported));
        }
        let pool = crate::shadow::Pool {
            l1_base: 0x60F1_0000,
            spaces: 2,
            l2_base: 0x60F1_8000,
            page_tables: 4,
            asid: 3,
        };
        let g = Guest {
            shadow: Some(pool),
            ..GUEST
        };
        assert_eq!(
            decode(&[MAP, 0x4000_0000 | MAP_WRITABLE, 0x8000_0000, 1], &g),
            Ok(Call::Mmu(MmuOp::Map {
                space: 1,
                va: 0x4000_0000,
                gpa: 0x8000_0000,
                flags: MAP_WRITABLE
            }))
        );
        assert_eq!(
            decode(&[UNMAP, 0x4000_0000, 1, 0], &g),
            Ok(Call::Mmu(MmuOp::Unmap {
                space: 1,
                va: 0x4000_0000
            }))
        );
        assert_eq!(
            decode(&[SPACE_CREATE, 0, 0, 0], &g),
            Ok(Call::Mmu(MmuOp::Create))
        );
        assert_eq!(
            decode(&[FLUSH, 1, 0, 0], &g),
            Ok(Call::Mmu(MmuOp::Flush { space: 1 }))
        );
        // An empty pool is no pool.
        let none = Guest {
            shadow: Some(crate::shadow::Pool { spaces: 0, ..pool }),
            ..GUEST
        };
        assert_eq!(
            decode(&[SPACE_CREATE, 0, 0, 0], &none),
            Err(Error::NotSupported)
        );
        // The default `mmu` service refuses, with the error in r0.
        let fake = Fake::new();
        let mut regs = [SPACE_CREATE, 0, 0, 0];
        let g: &'static Guest = Box::leak(Box::new(g));
        serve(&mut regs, || FakeCall {
            fake: &fake,
            guest: g,
        });
        assert_eq!(regs, [NOT_SUPPORTED as u32, 0, 0, 0]);
        for (e, code) in [
            (crate::shadow::Error::Denied, DENIED),
            (crate::shadow::Error::NoMemory, NO_MEMORY),
            (crate::shadow::Error::AlreadyMapped, ALREADY_MAPPED),
            (crate::shadow::Error::NotMapped, NOT_MAPPED),
            (crate::shadow::Error::InvalidParameter, INVALID_PARAMETER),
        ] {
            assert_eq!(Error::from(e).code(), code);
        }
    }

    #[test]
    fn buffers_are_guest_physical() {
        const MOVED: Region = Region {
            base: 0x7200_0000,
            size: 0x1000,
            guest_base: 0x8000_0000,
        };
        let g = Guest {
            regions: &[MOVED],
            ..GUEST
        };
        assert_eq!(
            decode(&[CONSOLE_WRITE, 0x8000_0010, 4, 0], &g),
            Ok(Call::ConsoleWrite {
                addr: 0x7200_0010,
                len: 4
            })
        );
        // Its physical address is not one of its guest-physical ones.
        assert_eq!(
            decode(&[CONSOLE_WRITE, 0x7200_0010, 4, 0], &g),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            decode(&[STATS, 0x8000_0FF0, 0x20, 0], &g),
            Err(Error::InvalidParameter)
        );
    }

    #[test]
    fn console_write_spanning_two_regions_is_refused() {
        // Even if two of its regions were adjacent, one buffer must lie in
        // one region: the check never merges regions.
        const A: Region = Region {
            base: 0x7000_0000,
            size: 0x1000,
            guest_base: 0x7000_0000,
        };
        const B: Region = Region {
            base: 0x7000_1000,
            size: 0x1000,
            guest_base: 0x7000_1000,
        };
        let g = Guest {
            regions: &[A, B],
            ..GUEST
        };
        assert_eq!(
            decode(&[CONSOLE_WRITE, 0x7000_0FF0, 0x20, 0], &g),
            Err(Error::InvalidParameter)
        );
    }

    #[test]
    fn console_write_length_limit() {
        assert_eq!(
            call([CONSOLE_WRITE, 0x7200_0000, CONSOLE_WRITE_MAX + 1, 0]),
            Err(Error::TooLong)
        );
        assert_eq!(
            call([CONSOLE_WRITE, MONITOR, u32::MAX, 0]),
            Err(Error::TooLong),
            "the length is checked first"
        );
    }

    #[test]
    fn empty_buffers_name_no_memory() {
        assert_eq!(
            call([CONSOLE_WRITE, MONITOR, 0, 0]),
            Ok(Call::ConsoleWrite {
                addr: MONITOR,
                len: 0
            })
        );
        assert_eq!(
            call([INFO, 0xFFFF_FFFF, 0, 0]),
            Ok(Call::Info {
                addr: 0xFFFF_FFFF,
                len: 0
            })
        );
    }

    #[test]
    fn info_buffer_is_checked() {
        assert_eq!(
            call([INFO, 0x7200_0000, 32, 0]),
            Ok(Call::Info {
                addr: 0x7200_0000,
                len: 32
            })
        );
        assert_eq!(call([INFO, MONITOR, 32, 0]), Err(Error::InvalidParameter));
        assert_eq!(
            call([INFO, OTHER_GUEST, 32, 0]),
            Err(Error::InvalidParameter)
        );
        assert_eq!(
            call([INFO, 0xFFFF_FFF0, 0x20, 0]),
            Err(Error::InvalidParameter)
        );
    }

    #[test]
    fn unknown_calls_are_not_supported() {
        for id in [
            0,
            0x8600_0007,
            0x8600_000E,
            0x8600_00FF,
            0x8600_FF00,
            // PSCI's SMC64 range and the word past its SMC32 range.
            0xC400_0003,
            0x8400_0020,
            0xC600_0001,
            0x0600_0001,
            u32::MAX,
        ] {
            assert_eq!(call([id, 1, 2, 3]), Err(Error::NotSupported), "{id:#x}");
        }
        assert_eq!(call([VERSION, 1, 2, 3]), Ok(Call::Version));
        assert_eq!(call([YIELD, 1, 2, 3]), Ok(Call::Yield));
        assert_eq!(call([TIME, 1, 2, 3]), Ok(Call::Time));
        assert_eq!(call([HALT_SELF, 1, 2, 3]), Ok(Call::HaltSelf { code: 1 }));
        assert_eq!(call([HALT_SELF, 0, 2, 3]), Ok(Call::HaltSelf { code: 0 }));
        assert_eq!(call([HEARTBEAT, 1, 2, 3]), Ok(Call::Heartbeat));
        assert_eq!(
            call([STATS, 0x7200_0000, 64, 3]),
            Ok(Call::Stats {
                addr: 0x7200_0000,
                len: 64
            })
        );
        assert_eq!(call([STATS, MONITOR, 64, 0]), Err(Error::InvalidParameter));
        assert_eq!(
            call([STATS, OTHER_GUEST, 8, 0]),
            Err(Error::InvalidParameter)
        );
    }

    #[test]
    fn error_codes_are_smccc_style() {
        assert_eq!(Error::NotSupported.register(), 0xFFFF_FFFF);
        assert_eq!(Error::InvalidParameter.register(), 0xFFFF_FFFD);
        assert_eq!(Error::TooLong.register(), 0xFFFF_FFFC);
    }

    /// A guest whose memory is a byte vector at `RAM.base`.
    struct Fake {
        ram: RefCell<Vec<u8>>,
        console: RefCell<Vec<u8>>,
        now: u64,
    }

    impl Fake {
        fn new() -> Self {
            Self {
                ram: RefCell::new(vec![0xAA; 0x100]),
                console: RefCell::default(),
                now: 0x1_2345_6789,
            }
        }
        fn offset(addr: u32, len: usize) -> core::ops::Range<usize> {
            let start = (addr - RAM.base) as usize;
            start..start + len
        }
    }

    /// One call of `guest` served by a [`Fake`].
    struct FakeCall<'a> {
        fake: &'a Fake,
        guest: &'static Guest,
    }

    impl Services for FakeCall<'_> {
        fn caller(&self) -> &'static Guest {
            self.guest
        }
        unsafe fn read_guest_bytes(&mut self, addr: u32, out: &mut [u8]) {
            out.copy_from_slice(&self.fake.ram.borrow()[Fake::offset(addr, out.len())])
        }
        unsafe fn write_guest_bytes(&mut self, addr: u32, bytes: &[u8]) {
            self.fake.ram.borrow_mut()[Fake::offset(addr, bytes.len())].copy_from_slice(bytes)
        }
        fn console_write(&mut self, guest: &Guest, bytes: &[u8]) {
            assert_eq!(guest.name, "hostile");
            self.fake.console.borrow_mut().extend_from_slice(bytes);
        }
        fn now_ns(&mut self) -> u64 {
            self.fake.now
        }
        fn halt(&mut self, guest: &Guest) -> ! {
            panic!("halt {}", guest.name)
        }
        fn fail(&mut self, guest: &Guest, failure: crate::health::Failure) -> ! {
            panic!("fail {}: {failure}", guest.name)
        }
        fn heartbeat(&mut self, guest: &Guest) {
            self.fake
                .console
                .borrow_mut()
                .extend_from_slice(guest.name.as_bytes());
        }
        fn yield_now(&mut self, _guest: &Guest) -> bool {
            true
        }
        fn stats(&mut self, _guest: &Guest) -> GuestStats {
            GuestStats {
                jobs: 0x0102,
                fiq: 9,
                ..GuestStats::default()
            }
        }
    }

    fn serve_fake(fake: &Fake, regs: [u32; 4]) -> [u32; 4] {
        serve_outcome(fake, regs).0
    }

    fn serve_outcome(fake: &Fake, regs: [u32; 4]) -> ([u32; 4], Outcome) {
        let mut regs = regs;
        let outcome = serve(&mut regs, || FakeCall {
            fake,
            guest: &GUEST,
        });
        (regs, outcome)
    }

    #[test]
    fn yield_asks_for_a_reschedule() {
        let fake = Fake::new();
        assert_eq!(
            serve_outcome(&fake, [YIELD, 1, 2, 3]),
            ([0, 0, 0, 0], Outcome::Reschedule)
        );
        assert_eq!(serve_outcome(&fake, [TIME, 0, 0, 0]).1, Outcome::Resume);
    }

    #[test]
    fn stats_copies_the_record_truncated_to_the_buffer() {
        let fake = Fake::new();
        let len = GuestStats::BYTES as u32;
        assert_eq!(
            serve_fake(&fake, [STATS, 0x7200_0010, 3, 0]),
            [len, 0, 0, 0]
        );
        assert_eq!(&fake.ram.borrow()[0x10..0x14], b"\x02\x01\x00\xAA");
        assert_eq!(
            serve_fake(&fake, [STATS, 0x7200_0040, 200, 0]),
            [len, 0, 0, 0]
        );
        let end = 0x40 + GuestStats::BYTES;
        let record = GuestStats::from_bytes(&fake.ram.borrow()[0x40..end]);
        assert_eq!(record.jobs, 0x0102);
        assert_eq!(record.fiq, 9);
        assert_eq!(fake.ram.borrow()[end], 0xAA, "nothing past the record");
        assert_eq!(
            serve_fake(&fake, [STATS, MONITOR, 8, 0])[0],
            Error::InvalidParameter.register()
        );
    }

    #[test]
    fn console_write_reads_guest_bytes() {
        let fake = Fake::new();
        fake.ram.borrow_mut()[0x10..0x15].copy_from_slice(b"hello");
        assert_eq!(
            serve_fake(&fake, [CONSOLE_WRITE, 0x7200_0010, 5, 0xDEAD]),
            [5, 0, 0, 0]
        );
        assert_eq!(&*fake.console.borrow(), b"hello");
    }

    #[test]
    fn refused_calls_touch_nothing_and_scrub_results() {
        let fake = Fake::new();
        for regs in [
            [CONSOLE_WRITE, MONITOR, 16, 0xDEAD],
            [CONSOLE_WRITE, 0xFFFF_FFF0, 0x20, 0xDEAD],
            [CONSOLE_WRITE, 0x7200_0000, 4096, 0xDEAD],
            [INFO, OTHER_GUEST, 8, 0xDEAD],
            [0x8600_00FF, 1, 2, 3],
        ] {
            let out = serve_fake(&fake, regs);
            assert!((out[0] as i32) < 0, "{regs:x?} -> {out:x?}");
            assert_eq!(out[1..], [0, 0, 0], "{regs:x?}");
        }
        assert!(fake.console.borrow().is_empty());
        assert!(fake.ram.borrow().iter().all(|&b| b == 0xAA));
    }

    #[test]
    fn info_copies_the_name_truncated_to_the_buffer() {
        let fake = Fake::new();
        assert_eq!(
            serve_fake(&fake, [INFO, 0x7200_0020, 4, 0]),
            [1, LEVEL_SRT, 1, 7]
        );
        assert_eq!(&fake.ram.borrow()[0x20..0x25], b"host\xAA");
        assert_eq!(
            serve_fake(&fake, [INFO, 0x7200_0040, 64, 0]),
            [1, LEVEL_SRT, 1, 7]
        );
        assert_eq!(&fake.ram.borrow()[0x40..0x48], b"hostile\xAA");
        assert_eq!(serve_fake(&fake, [INFO, 0, 0, 0]), [1, LEVEL_SRT, 1, 7]);
    }

    #[test]
    fn version_yield_and_time() {
        let fake = Fake::new();
        let mut regs = [VERSION, 1, 2, 3];
        let outcome = serve(&mut regs, || -> FakeCall<'_> {
            unreachable!("the fast path needs no monitor state")
        });
        assert_eq!(outcome, Outcome::Resume);
        assert_eq!(regs, [ABI_VERSION, 0, 0, 0]);
        assert_eq!(serve_fake(&fake, [YIELD, 1, 2, 3]), [0, 0, 0, 0]);
        assert_eq!(serve_fake(&fake, [TIME, 1, 2, 3]), [0, 0x2345_6789, 0x1, 0]);
    }

    #[test]
    #[should_panic(expected = "halt hostile")]
    fn halt_self_halts_the_caller() {
        serve_fake(&Fake::new(), [HALT_SELF, 0, 0, 0]);
    }

    #[test]
    fn psci_answers_what_a_linux_guest_asks_at_boot() {
        let fake = Fake::new();
        let minus = |c: i32| c as u32;
        assert_eq!(
            serve_fake(&fake, [psci::PSCI_VERSION, 9, 9, 9]),
            [0x0001_0000, 0, 0, 0]
        );
        for f in [
            psci::PSCI_VERSION,
            psci::PSCI_FEATURES,
            psci::SYSTEM_OFF,
            psci::SYSTEM_RESET,
        ] {
            assert_eq!(serve_fake(&fake, [psci::PSCI_FEATURES, f, 0, 0])[0], 0);
        }
        // CPU_ON, CPU_SUSPEND, MIGRATE_INFO_TYPE, SMCCC_VERSION, ours: not
        // implemented as PSCI functions.
        for f in [psci::CPU_ON, 0x8400_0001, 0x8400_0006, 0x8000_0000, VERSION] {
            assert_eq!(
                serve_fake(&fake, [psci::PSCI_FEATURES, f, 0, 0])[0],
                minus(-1),
                "{f:#x}"
            );
        }
        // CPU_ON is refused, whatever core and entry it names.
        assert_eq!(
            serve_fake(&fake, [psci::CPU_ON, 0, 0x6800_8000, 0]),
            [minus(-3), 0, 0, 0]
        );
        // The rest of PSCI's range: not supported, nothing leaks.
        for id in 0x8400_0000..0x8400_0020 {
            if ![
                psci::PSCI_VERSION,
                psci::PSCI_FEATURES,
                psci::CPU_ON,
                psci::SYSTEM_OFF,
                psci::SYSTEM_RESET,
            ]
            .contains(&id)
            {
                assert_eq!(serve_fake(&fake, [id, 1, 2, 3]), [minus(-1), 0, 0, 0]);
            }
        }
        // Just past it: the MVM ABI's NOT_SUPPORTED.
        assert_eq!(serve_fake(&fake, [0x8400_0020, 0, 0, 0])[0], minus(-1));
    }

    #[test]
    #[should_panic(expected = "halt hostile")]
    fn psci_system_off_stops_the_caller_on_purpose() {
        serve_fake(&Fake::new(), [psci::SYSTEM_OFF, 0, 0, 0]);
    }

    #[test]
    #[should_panic(expected = "fail hostile: asked for a reset (PSCI SYSTEM_RESET)")]
    fn psci_system_reset_is_a_failure() {
        serve_fake(&Fake::new(), [psci::SYSTEM_RESET, 0, 0, 0]);
    }

    #[test]
    #[should_panic(expected = "fail hostile: halted with error code 0x2a")]
    fn halt_self_with_an_error_code_is_a_failure() {
        serve_fake(&Fake::new(), [HALT_SELF, 42, 0, 0]);
    }

    #[test]
    fn heartbeat_is_served_and_returns_zero() {
        let fake = Fake::new();
        assert_eq!(serve_fake(&fake, [HEARTBEAT, 1, 2, 3]), [0, 0, 0, 0]);
        assert_eq!(&*fake.console.borrow(), b"hostile");
    }
}
