//! The monitor's state: one [`GuestState`] per guest, one [`CoreState`]
//! per core, and the figures other cores read.
//!
//! - A guest runs on one core only, so its state lives in its core's
//!   [`CoreState`]: a core's monitor entry holds the one `&mut` to all the
//!   state it may touch, and passes it down.
//! - What another core reads (counters, figures published for the end of
//!   a run) is atomics, apart: [`GuestFigures`], [`CoreFigures`].
//! - Plain data, no hardware: the monitor's Arm shell (`crate::monitor`)
//!   holds it in its statics.
#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use crate::config::Guest;
use crate::context::{Cp15, GicCpu, GuestContext};
use crate::edf::{Edf, Stats};
use crate::shadow::{self, Shadow};
use crate::switch;

/// One guest's state, owned by its core.
pub struct GuestState {
    pub guest: &'static Guest,
    /// Its counters (the monitor's, found without an index on the switch
    /// path).
    pub figures: &'static GuestFigures,
    /// `guest.fpu`, kept here for the switch path.
    pub fpu: bool,
    /// Its saved registers while it is not in the processor.
    pub context: GuestContext,
    /// Shadow paging: its pool's bookkeeping and its current space.
    pub shadow: Shadow,
    pub space: u32,
    /// The ASID its translation entries carry (the current space's for a
    /// shadow-paged guest); 0: none the monitor tagged (MMU off), so a
    /// switch to or from it invalidates the whole TLB.
    pub asid: u8,
    /// The shadow-paging space it boots in (MMU on from its first
    /// instruction), if its pool could hold one.
    pub boot_space: Option<shadow::Switch>,
    /// It owns device interrupts (a world switch hands the GIC over).
    pub interrupts: bool,
    /// Its restarts after failures (docs/health.md).
    pub restarts: crate::health::Restarts,
    /// The global-timer count at which its watchdog expires
    /// ([`crate::health::NEVER`]: no watchdog, or stopped).
    pub watchdog_due: u64,
    /// The global-timer count of the failure it is restarting from, until
    /// its first instruction after the restart (0: none).
    pub restarting_since: u64,
    /// How long its latest restore took, in global-timer ticks: clearing
    /// its memory, copying its image, checking it, all of it.
    pub restore_ticks: [u64; 4],
    /// Its restore in progress, for a guest whose images the board's
    /// loader placed: its server runs it instead of the guest.
    pub restore: Option<crate::restore::Job>,
}

impl GuestState {
    pub fn new(guest: &'static Guest, figures: &'static GuestFigures) -> Self {
        Self {
            guest,
            figures,
            fpu: guest.fpu,
            context: GuestContext::ZERO,
            shadow: Shadow::new(),
            space: 0,
            asid: guest.translation.map_or(0, |t| t.asid),
            boot_space: None,
            // Device lines or a channel's notification line: either makes
            // the guest's GIC CPU interface state its own across switches.
            interrupts: guest.devices.iter().any(|d| !d.interrupts.is_empty())
                || guest.channels.iter().any(|e| e.notify.is_some()),
            restarts: crate::health::Restarts::NONE,
            watchdog_due: crate::health::NEVER,
            restarting_since: 0,
            restore_ticks: [0; 4],
            restore: None,
        }
    }

    /// What the world switch needs to know of it, in slot `slot`.
    pub fn side(&self, slot: usize) -> switch::Side {
        switch::Side {
            slot,
            fpu: self.fpu,
            asid: self.asid,
            interrupts: self.interrupts,
        }
    }
}

/// What a core does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// No guest (or its guests could not be loaded): parked.
    Idle,
    /// Handed to its one HRT guest (slot 0).
    Dedicated,
    /// EDF over its SRT guests (server `i` is slot `i`).
    Shared,
}

/// One core's state: its guests and its scheduler. Only that core touches
/// it once the cores are released (core 0 fills every core's at boot,
/// before).
pub struct CoreState<const S: usize> {
    pub role: Role,
    pub guests: heapless::Vec<GuestState, S>,
    /// A shared core's scheduler (empty elsewhere).
    pub edf: Edf<S>,
    /// The slot whose state is in the processor (`None` before the first
    /// guest and after a halt).
    pub current: Option<usize>,
    /// VFP ownership and NSACR, as the last switch left them.
    pub unit: switch::Unit,
    /// This core's private timer also ends a bounded run.
    pub run_timer: bool,
    /// The global-timer count at which it does (0: not this core's job).
    pub run_end: u64,
    pub idle_ticks: u64,
    /// When the current wait for the next event began (0: not waiting).
    pub idle_since: u64,
    pub switches: u64,
    /// The global-timer tick the private timer was armed for (0: not
    /// armed).
    pub timer_due: u64,
    /// The private timer runs one-shots with prescaler 0 (a re-arm is one
    /// store of its load register).
    pub timer_running: bool,
    /// How late this core took its timer interrupts.
    pub late: crate::stats::Lateness,
    /// The Non-secure CP15 reset values and GIC CPU interface, read before
    /// the core's first guest ran: a restarted guest starts from them.
    pub reset_cp15: Cp15,
    pub reset_gic: GicCpu,
    /// The earliest of its guests' watchdogs, in global-timer ticks
    /// ([`crate::health::NEVER`]: none).
    pub watchdog_due: u64,
    /// What a shared core decided, when the loader asked for a trace.
    pub trace: crate::trace::Trace<S>,
}

impl<const S: usize> CoreState<S> {
    pub const EMPTY: Self = Self {
        role: Role::Idle,
        guests: heapless::Vec::new(),
        edf: Edf::EMPTY,
        current: None,
        unit: switch::Unit {
            vfp_owner: None,
            nsacr: crate::NSACR_NO_FPU,
        },
        run_timer: false,
        run_end: 0,
        idle_ticks: 0,
        idle_since: 0,
        switches: 0,
        timer_due: 0,
        timer_running: false,
        late: crate::stats::Lateness::ZERO,
        reset_cp15: GuestContext::ZERO.cp15,
        reset_gic: GuestContext::ZERO.gic,
        watchdog_due: crate::health::NEVER,
        trace: crate::trace::Trace::EMPTY,
    };

    /// The guest whose state is in the processor.
    pub fn running(&self) -> Option<&'static Guest> {
        self.current.map(|slot| self.guests[slot].guest)
    }

    /// Recomputes [`CoreState::watchdog_due`] from its guests'.
    pub fn update_watchdog(&mut self) {
        self.watchdog_due = self
            .guests
            .iter()
            .map(|g| g.watchdog_due)
            .min()
            .unwrap_or(crate::health::NEVER);
    }

    /// The slot of guest `id` on this core.
    pub fn slot_of(&self, id: u32) -> Option<usize> {
        self.guests.iter().position(|g| g.guest.id == id)
    }
}

/// Plain increment of a counter only its own core writes (no
/// read-modify-write loop: the core that ends a run only reads it).
#[inline(always)]
pub fn bump(counter: &AtomicU32) {
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Relaxed,
    );
}

/// A guest's counters and published figures. Its core writes them; the
/// core that ends a run reads them.
#[repr(C)]
pub struct GuestFigures {
    /// Hypercalls. The SMC entry finds it through the Secure TPIDRPRW,
    /// which points at the running guest's figures.
    pub smc: AtomicU32,
    pub fiq: AtomicU32,
    pub switches_in: AtomicU32,
    /// jobs, misses, used_ns, slack_ns, overruns, as published last.
    published: [AtomicU64; 5],
    /// Not started: an image in its memory was not the build's (set by
    /// core 0 at boot, before the cores are released).
    pub refused: AtomicBool,
    /// Restarts after failures.
    pub restarts: AtomicU32,
    /// Stopped for good (halted, or failed and not restarted): the guard
    /// on other cores no longer enables its lines.
    pub stopped: AtomicBool,
}

impl GuestFigures {
    pub const fn new() -> Self {
        Self {
            smc: AtomicU32::new(0),
            fiq: AtomicU32::new(0),
            switches_in: AtomicU32::new(0),
            published: [const { AtomicU64::new(0) }; 5],
            refused: AtomicBool::new(false),
            restarts: AtomicU32::new(0),
            stopped: AtomicBool::new(false),
        }
    }

    pub fn publish(&self, s: &Stats) {
        for (slot, value) in self
            .published
            .iter()
            .zip([s.jobs, s.misses, s.used_ns, s.slack_ns, s.overruns])
        {
            slot.store(value, Ordering::Relaxed);
        }
    }

    pub fn published(&self) -> Stats {
        let [jobs, misses, used_ns, slack_ns, overruns] =
            self.published.each_ref().map(|v| v.load(Ordering::Relaxed));
        Stats {
            jobs,
            misses,
            used_ns,
            slack_ns,
            overruns,
        }
    }
}

impl Default for GuestFigures {
    fn default() -> Self {
        Self::new()
    }
}

/// A core's figures that other cores read.
pub struct CoreFigures {
    /// Core 0 loaded this core's guests.
    pub loaded: AtomicBool,
    /// Global timer count just before the core's first guest entry.
    pub entry_ticks: AtomicU64,
    pub idle_ticks: AtomicU64,
    pub switches: AtomicU64,
    /// The figure request this core answered last.
    pub answered: AtomicU32,
    /// Monitor entries caused only by the end of the run.
    pub run_end_entries: AtomicU32,
    /// Timer lateness, as published: worst and mean, in ticks.
    pub late_max_ticks: AtomicU64,
    pub late_mean_ticks: AtomicU64,
}

impl CoreFigures {
    pub const fn new() -> Self {
        Self {
            loaded: AtomicBool::new(false),
            entry_ticks: AtomicU64::new(0),
            idle_ticks: AtomicU64::new(0),
            switches: AtomicU64::new(0),
            answered: AtomicU32::new(0),
            run_end_entries: AtomicU32::new(0),
            late_max_ticks: AtomicU64::new(0),
            late_mean_ticks: AtomicU64::new(0),
        }
    }
}

impl Default for CoreFigures {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ChannelEnd, Health, Image, Interrupt, Level, Paging, Region, Trigger};

    const REGION: Region = Region {
        base: 0x9FF0_0000,
        size: 0x1000,
        guest_base: 0x9FF0_0000,
    };

    fn guest(channels: &'static [ChannelEnd]) -> &'static Guest {
        Box::leak(Box::new(Guest {
            id: 0,
            name: "reader",
            level: Level::Srt,
            core: 1,
            paging: Paging::Shadow,
            regions: &[],
            devices: &[],
            channels,
            image: Image {
                load: 0,
                entry: 0,
                bytes: &[],
                boot_arg: 0,
                in_place: &[],
            },
            server: None,
            fpu: false,
            translation: None,
            shadow: None,
            health: Health::STOP,
        }))
    }

    #[test]
    fn a_guest_with_a_notification_line_and_no_device_owns_its_gic_state() {
        let figures: &'static GuestFigures = Box::leak(Box::new(GuestFigures::new()));
        let notified = [ChannelEnd {
            name: "c",
            channel: 0,
            region: REGION,
            writable: false,
            notify: Some(Interrupt {
                id: 75,
                priority: Interrupt::DEFAULT_PRIORITY,
                trigger: Trigger::Edge,
            }),
        }];
        let polled = [ChannelEnd {
            notify: None,
            ..notified[0]
        }];
        assert!(GuestState::new(guest(Box::leak(Box::new(notified))), figures).interrupts);
        assert!(!GuestState::new(guest(Box::leak(Box::new(polled))), figures).interrupts);
        assert!(!GuestState::new(guest(&[]), figures).interrupts);
    }
}
