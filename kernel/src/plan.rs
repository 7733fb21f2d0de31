//! What each core does at boot, read from the generated tables (pure).
//!
//! - A core is idle, dedicated to one HRT guest, or shared by SRT guests
//!   under EDF (one or more servers, at most the scheduler's capacity). A
//!   table naming a guest that does not exist, or one placed on another
//!   core, is refused here as well as by the build, so a hand-made table
//!   cannot slip through.
//! - Guest images are checked against their guest's regions before the
//!   monitor copies them, so a bad table cannot make the monitor write
//!   outside guest memory.
//! - The banner text is produced here, so the host build of the image prints
//!   exactly what the monitor prints on UART0.
#![forbid(unsafe_code)]

use core::fmt;

use crate::config::{CorePlan, Guest, Level, System};
use crate::context::Cp15;
use crate::shadow;

/// What a core does once the monitor is ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoreAction {
    /// Hand the core to this HRT guest: enter it in Non-secure SVC.
    Enter(&'static Guest),
    /// Run EDF over these SRT guests (indices into the guest table, each
    /// checked to be an SRT guest on this core).
    Edf { guests: &'static [u32] },
    /// No guest: park.
    Idle,
    /// More servers than the scheduler was built for.
    TooManyServers { guests: usize, capacity: usize },
    /// The table names a guest that does not exist, or one on another core.
    BadTable,
}

/// The action of `core`, for an EDF scheduler of `capacity` servers.
pub fn core_action(system: &System, core: u32, capacity: usize) -> CoreAction {
    let Some(plan) = system.cores.get(core as usize) else {
        return CoreAction::Idle;
    };
    let on_core = |index: u32, level: Level| {
        system
            .guests
            .get(index as usize)
            .filter(|g| g.core == core && g.level == level)
    };
    match *plan {
        CorePlan::Idle => CoreAction::Idle,
        CorePlan::Dedicated { guest } => match on_core(guest, Level::Hrt) {
            Some(g) => CoreAction::Enter(g),
            None => CoreAction::BadTable,
        },
        CorePlan::Edf { guests: [] } => CoreAction::Idle,
        CorePlan::Edf { guests } => {
            let valid = guests.iter().enumerate().all(|(i, &index)| {
                on_core(index, Level::Srt).is_some_and(|g| g.server.is_some())
                    && !guests[..i].contains(&index)
            });
            if !valid {
                CoreAction::BadTable
            } else if guests.len() > capacity {
                CoreAction::TooManyServers {
                    guests: guests.len(),
                    capacity,
                }
            } else {
                CoreAction::Edf { guests }
            }
        }
    }
}

/// The guests (indices into the guest table) `action` runs: a dedicated
/// core's one, a shared core's servers in server order, or none.
pub fn guests_of(action: &CoreAction) -> &[u32] {
    match action {
        CoreAction::Enter(g) => core::slice::from_ref(&g.id),
        CoreAction::Edf { guests } => guests,
        _ => &[],
    }
}

/// The CP15 state a guest's first instruction runs with: `reset` (the
/// Non-secure reset values, read on the guest's core) with its direct map
/// installed (MMU on, its tables, its ASID), or its shadow-paging boot
/// space (`boot_space`, likewise), or as it is (MMU off).
pub fn initial_cp15(reset: Cp15, guest: &Guest, boot_space: Option<shadow::Switch>) -> Cp15 {
    match (guest.translation, boot_space) {
        (Some(t), _) => reset.with_direct_map(t.ttbr0).with_asid(t.asid),
        (None, Some(space)) => reset.with_direct_map(space.ttbr0).with_asid(space.asid),
        (None, None) => reset,
    }
}

/// Whether `action` runs guests.
fn runs(action: CoreAction) -> bool {
    matches!(action, CoreAction::Enter(_) | CoreAction::Edf { .. })
}

/// The cores, below `max_cores`, whose guests will run.
pub fn running_cores(
    system: &System,
    max_cores: u32,
    capacity: usize,
) -> impl Iterator<Item = u32> + '_ {
    (0..max_cores).filter(move |&c| runs(core_action(system, c, capacity)))
}

/// The core that times the end of a bounded run: the first EDF core (its
/// private timer runs anyway), else the first idle core (parked, it waits
/// for the timer), so that a dedicated core keeps its FIQs for its HRT
/// guest (docs/interrupts.md); only when every core is dedicated, the
/// first of them.
pub fn run_timer_core(system: &System, max_cores: u32, capacity: usize) -> u32 {
    let first = |want: fn(&CoreAction) -> bool| {
        (0..max_cores).find(|&c| want(&core_action(system, c, capacity)))
    };
    first(|a| matches!(a, CoreAction::Edf { .. }))
        .or_else(|| first(|a| matches!(a, CoreAction::Idle)))
        .or_else(|| running_cores(system, max_cores, capacity).next())
        .unwrap_or(0)
}

/// Why a guest's image cannot be loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageError {
    /// `[load, load + len)` is not inside one of the guest's regions.
    OutsideMemory { load: u32, len: usize },
    /// The entry point is not inside one of the guest's regions, or is not
    /// word-aligned (guests start in ARM state).
    BadEntry { entry: u32 },
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::OutsideMemory { load, len } => write!(
                f,
                "image [{load:#010x}, +{len:#x}) is not inside the guest's memory"
            ),
            Self::BadEntry { entry } => write!(
                f,
                "entry point {entry:#010x} is not a word-aligned address in the guest's memory"
            ),
        }
    }
}

/// Checks that `guest`'s image can be copied to its load address and
/// entered.
pub fn check_image(guest: &Guest) -> Result<(), ImageError> {
    let image = &guest.image;
    let len = image.bytes.len();
    let fits = u32::try_from(len).is_ok_and(|l| guest.owns(image.load, l));
    if !fits {
        return Err(ImageError::OutsideMemory {
            load: image.load,
            len,
        });
    }
    if image.entry & 3 != 0 || !guest.owns(image.entry, 4) {
        return Err(ImageError::BadEntry { entry: image.entry });
    }
    for p in image.in_place {
        if !guest.owns(p.base, p.size) {
            return Err(ImageError::OutsideMemory {
                load: p.base,
                len: p.size as usize,
            });
        }
    }
    Ok(())
}

/// SHA-256, as the build computes it for every guest image.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).into()
}

/// An image in a guest's memory that is not the one the build made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The in-place image's [`crate::config::InPlace::what`].
    pub what: &'static str,
    /// Guest-physical.
    pub base: u32,
    pub size: u32,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "its {} at [{:#010x}, +{:#x}) is not the one it was built with (SHA-256 differs)",
            self.what, self.base, self.size
        )
    }
}

/// Checks the images the board's loader placed in a guest's memory (a
/// Linux guest's kernel and initrd) against the build's SHA-256, on the
/// guest's own core before its first instruction: hashing megabytes takes
/// a while, and no other core should wait for it. `memory(base, size)`
/// reads guest-physical bytes. (The embedded image is part of the
/// monitor's own image, copied from it at boot.)
pub fn verify_images<'m>(
    guest: &Guest,
    memory: impl Fn(u32, u32) -> &'m [u8],
) -> Result<(), Mismatch> {
    for p in guest.image.in_place {
        if sha256(memory(p.base, p.size)) != p.sha256 {
            return Err(Mismatch {
                what: p.what,
                base: p.base,
                size: p.size,
            });
        }
    }
    Ok(())
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Hrt => "hrt",
        Level::Srt => "srt",
    }
}

/// One core's banner line, e.g. ``core 0: dedicated to `control` (hrt)``.
pub fn write_core_line(w: &mut impl fmt::Write, system: &System, core: u32) -> fmt::Result {
    write!(w, "core {core}: ")?;
    let name = |index: u32| system.guests.get(index as usize).map_or("?", |g| g.name);
    match system.cores.get(core as usize) {
        None | Some(CorePlan::Idle) | Some(CorePlan::Edf { guests: [] }) => write!(w, "idle"),
        Some(CorePlan::Dedicated { guest }) => {
            write!(w, "dedicated to `{}` (hrt)", name(*guest))
        }
        Some(CorePlan::Edf { guests: [one] }) => {
            let level = system
                .guests
                .get(*one as usize)
                .map_or("?", |g| level_name(g.level));
            write!(w, "`{}` ({level})", name(*one))
        }
        Some(CorePlan::Edf { guests }) => {
            write!(w, "edf over ")?;
            for (i, g) in guests.iter().enumerate() {
                let sep = if i == 0 { "" } else { ", " };
                write!(w, "{sep}`{}`", name(*g))?;
            }
            write!(w, " (srt)")
        }
    }
}

/// The boot banner: the system line, then one line per core of the board.
pub fn write_banner(w: &mut impl fmt::Write, system: &System, version: &str) -> fmt::Result {
    writeln!(
        w,
        "MVM {version}: system `{}` on {}, description sha256 {}, manifest sha256 {}",
        system.name, system.board, system.hash, system.manifest
    )?;
    for core in 0..system.cores.len() as u32 {
        write_core_line(w, system, core)?;
        writeln!(w)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Image, Paging, Region};
    use crate::edf::Params;

    const fn guest(id: u32, name: &'static str, level: Level, core: u32, base: u32) -> Guest {
        Guest {
            id,
            name,
            level,
            core,
            paging: Paging::Direct,
            regions: &[],
            channels: &[],
            devices: &[],
            image: Image {
                load: base,
                entry: base,
                bytes: &[],
                boot_arg: 0,
                in_place: &[],
            },
            server: None,
            fpu: false,
            translation: None,
            shadow: None,
            health: crate::config::Health::STOP,
        }
    }

    const SERVER: Option<Params> = Some(Params {
        period: 10,
        budget: 1,
        deadline: 10,
        slack: true,
    });

    static GUESTS: [Guest; 3] = [
        guest(0, "control", Level::Hrt, 0, 0x7000_0000),
        Guest {
            server: SERVER,
            ..guest(1, "telemetry", Level::Srt, 1, 0x7200_0000)
        },
        Guest {
            server: SERVER,
            ..guest(2, "logger", Level::Srt, 1, 0x7400_0000)
        },
    ];

    const DEMO: System = System {
        name: "demo",
        board: "qemu-vexpress-a9",
        hash: "ab12",
        manifest: "cd34",
        switch_overhead_ns: 2000,
        channels: &[],
        guests: &GUESTS,
        cores: &[
            CorePlan::Dedicated { guest: 0 },
            CorePlan::Edf { guests: &[1] },
        ],
    };

    #[test]
    fn the_boot_plan_names_each_cores_guests_and_their_first_cp15() {
        let action = core_action(&DEMO, 0, 4);
        assert_eq!(guests_of(&action), [0]);
        let action = core_action(&DEMO, 1, 4);
        assert_eq!(guests_of(&action), [1]);
        assert_eq!(guests_of(&CoreAction::Idle), [] as [u32; 0]);

        let reset = Cp15 {
            sctlr: 0x00C5_0078,
            contextidr: 0xABCD_0000,
            ..Cp15::default()
        };
        // MMU off: the reset state as it is.
        assert_eq!(initial_cp15(reset, &GUESTS[1], None), reset);
        // A direct map: its tables, its ASID, PROCID kept.
        let direct = Guest {
            translation: Some(crate::config::Translation {
                ttbr0: 0x60F0_006A,
                asid: 3,
                tables: &[],
            }),
            ..GUESTS[0]
        };
        let cp15 = initial_cp15(reset, &direct, None);
        assert_eq!(cp15.ttbr0, 0x60F0_006A);
        assert_eq!(cp15.contextidr, 0xABCD_0003);
        assert_eq!(cp15.sctlr & 1, 1, "MMU on");
        assert_eq!(cp15.ttbcr, 0);
        // A shadow-paging boot space.
        let space = shadow::Switch {
            ttbr0: 0x60F4_006A,
            asid: 9,
        };
        let cp15 = initial_cp15(reset, &GUESTS[1], Some(space));
        assert_eq!((cp15.ttbr0, cp15.contextidr), (0x60F4_006A, 0xABCD_0009));
        assert_eq!(cp15.sctlr & 1, 1, "MMU on");
    }

    fn banner(system: &System) -> String {
        let mut s = String::new();
        write_banner(&mut s, system, "0.1.0").unwrap();
        s
    }

    #[test]
    fn demo_plan() {
        assert_eq!(core_action(&DEMO, 0, 2), CoreAction::Enter(&GUESTS[0]));
        assert_eq!(core_action(&DEMO, 1, 2), CoreAction::Edf { guests: &[1] });
        assert_eq!(core_action(&DEMO, 2, 2), CoreAction::Idle);
        assert_eq!(running_cores(&DEMO, 2, 2).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(
            run_timer_core(&DEMO, 2, 2),
            1,
            "the EDF core ends the run, not the dedicated one"
        );
        assert_eq!(
            banner(&DEMO),
            "MVM 0.1.0: system `demo` on qemu-vexpress-a9, description sha256 ab12, manifest sha256 cd34\n\
             core 0: dedicated to `control` (hrt)\n\
             core 1: `telemetry` (srt)\n"
        );
    }

    #[test]
    fn shared_core_and_idle_core() {
        let s = System {
            cores: &[CorePlan::Idle, CorePlan::Edf { guests: &[1, 2] }],
            ..DEMO
        };
        assert_eq!(core_action(&s, 0, 2), CoreAction::Idle);
        assert_eq!(core_action(&s, 1, 2), CoreAction::Edf { guests: &[1, 2] });
        assert_eq!(
            core_action(&s, 1, 1),
            CoreAction::TooManyServers {
                guests: 2,
                capacity: 1
            }
        );
        assert_eq!(running_cores(&s, 2, 2).collect::<Vec<_>>(), [1]);
        assert_eq!(run_timer_core(&s, 2, 2), 1);
        assert_eq!(
            banner(&s).lines().skip(1).collect::<Vec<_>>(),
            [
                "core 0: idle",
                "core 1: edf over `telemetry`, `logger` (srt)"
            ]
        );
    }

    #[test]
    fn timer_goes_to_a_shared_core_then_an_idle_one_then_a_dedicated_one() {
        let s = System {
            cores: &[CorePlan::Idle, CorePlan::Edf { guests: &[1] }],
            ..DEMO
        };
        assert_eq!(run_timer_core(&s, 2, 2), 1);
        let hrt_only = System {
            cores: &[CorePlan::Dedicated { guest: 0 }, CorePlan::Idle],
            ..DEMO
        };
        assert_eq!(
            run_timer_core(&hrt_only, 2, 2),
            1,
            "the idle core: the HRT core keeps its FIQs"
        );
        let all_dedicated = System {
            cores: &[
                CorePlan::Dedicated { guest: 0 },
                CorePlan::Dedicated { guest: 1 },
            ],
            ..DEMO
        };
        assert_eq!(run_timer_core(&all_dedicated, 2, 2), 0);
        let nothing = System {
            cores: &[CorePlan::Idle, CorePlan::Idle],
            ..DEMO
        };
        assert_eq!(run_timer_core(&nothing, 2, 2), 0);
    }

    #[test]
    fn bad_tables_are_refused() {
        let s = System {
            cores: &[
                CorePlan::Dedicated { guest: 1 },
                CorePlan::Dedicated { guest: 7 },
            ],
            ..DEMO
        };
        assert_eq!(core_action(&s, 0, 2), CoreAction::BadTable, "wrong core");
        assert_eq!(core_action(&s, 1, 2), CoreAction::BadTable, "no such guest");
        let twice = System {
            cores: &[CorePlan::Idle, CorePlan::Edf { guests: &[1, 1] }],
            ..DEMO
        };
        assert_eq!(core_action(&twice, 1, 2), CoreAction::BadTable, "twice");
        let hrt_in_edf = System {
            cores: &[CorePlan::Edf { guests: &[0] }, CorePlan::Idle],
            ..DEMO
        };
        assert_eq!(
            core_action(&hrt_in_edf, 0, 2),
            CoreAction::BadTable,
            "an HRT guest is no server"
        );
    }

    #[test]
    fn images_must_fit_their_guest() {
        static BYTES: [u8; 64] = [0; 64];
        const RAM: Region = Region {
            base: 0x7000_0000,
            size: 0x100_0000,
            guest_base: 0x7000_0000,
        };
        let ok = Guest {
            regions: &[RAM],
            image: Image {
                load: 0x7000_0000,
                entry: 0x7000_0000,
                bytes: &BYTES,
                boot_arg: 0,
                in_place: &[],
            },
            server: Some(Params {
                period: 1,
                budget: 1,
                deadline: 1,
                slack: false,
            }),
            ..GUESTS[0]
        };
        assert_eq!(check_image(&ok), Ok(()));
        let late = Guest {
            image: Image {
                load: 0x70FF_FFF0,
                ..ok.image
            },
            ..ok
        };
        assert_eq!(
            check_image(&late),
            Err(ImageError::OutsideMemory {
                load: 0x70FF_FFF0,
                len: 64
            })
        );
        let monitor = Guest {
            image: Image {
                load: 0x6000_0000,
                ..ok.image
            },
            ..ok
        };
        assert!(check_image(&monitor).is_err());
        for entry in [0x6000_0000, 0x7000_0002, 0x70FF_FFFE, 0x7100_0000] {
            let g = Guest {
                image: Image { entry, ..ok.image },
                ..ok
            };
            assert_eq!(check_image(&g), Err(ImageError::BadEntry { entry }));
        }
        assert_eq!(
            check_image(&late).unwrap_err().to_string(),
            "image [0x70fffff0, +0x40) is not inside the guest's memory"
        );
        let outside = [crate::config::InPlace {
            what: "kernel",
            base: 0x70FF_F000,
            size: 0x2000,
            sha256: [0; 32],
            pristine: 0x6020_0000,
        }];
        let leaking: &'static [crate::config::InPlace] = Box::leak(Box::new(outside));
        let g = Guest {
            image: Image {
                in_place: leaking,
                ..ok.image
            },
            ..ok
        };
        assert_eq!(
            check_image(&g),
            Err(ImageError::OutsideMemory {
                load: 0x70FF_F000,
                len: 0x2000
            }),
            "an in-place image must lie in the guest's memory too"
        );
    }

    #[test]
    fn images_are_checked_byte_for_byte_against_the_build() {
        // A guest's memory, as a test buffer at guest-physical 0x7000_0000.
        let mut memory = vec![0u8; 0x3000];
        memory[..5].copy_from_slice(b"embed");
        memory[0x1000..0x1006].copy_from_slice(b"kernel");
        memory[0x2000..0x2006].copy_from_slice(b"initrd");
        static EMBEDDED: [u8; 5] = *b"embed";
        let places: &'static [crate::config::InPlace] = Box::leak(Box::new([
            crate::config::InPlace {
                what: "kernel",
                base: 0x7000_1000,
                size: 6,
                sha256: sha256(b"kernel"),
                pristine: 0x6020_0000,
            },
            crate::config::InPlace {
                what: "initrd",
                base: 0x7000_2000,
                size: 6,
                sha256: sha256(b"initrd"),
                pristine: 0x6020_1000,
            },
        ]));
        let g = Guest {
            image: Image {
                load: 0x7000_0000,
                entry: 0x7000_1000,
                bytes: &EMBEDDED,
                boot_arg: 0x7000_0000,
                in_place: places,
            },
            ..GUESTS[0]
        };
        let check = |memory: &[u8]| {
            verify_images(&g, |base, size| {
                let at = (base - 0x7000_0000) as usize;
                // The monitor's reads, copied out of the test buffer.
                Box::leak(memory[at..at + size as usize].to_vec().into_boxed_slice())
            })
        };
        assert_eq!(check(&memory), Ok(()));
        // The embedded image is not the loader's: not checked here.
        memory[0] = b'E';
        assert_eq!(check(&memory), Ok(()));
        // One byte of the initrd changed: that image is named.
        memory[0x2005] ^= 1;
        let m = check(&memory).unwrap_err();
        assert_eq!(
            m,
            Mismatch {
                what: "initrd",
                base: 0x7000_2000,
                size: 6
            }
        );
        assert_eq!(
            m.to_string(),
            "its initrd at [0x70002000, +0x6) is not the one it was built with (SHA-256 differs)"
        );
        memory[0x1000] = b'K';
        assert_eq!(
            check(&memory).unwrap_err().what,
            "kernel",
            "the first that differs"
        );
        // A known vector: SHA-256("abc").
        assert_eq!(
            sha256(b"abc")[..4],
            [0xba, 0x78, 0x16, 0xbf],
            "FIPS 180-2's first example"
        );
    }
}
