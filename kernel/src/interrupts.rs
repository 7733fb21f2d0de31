//! Who owns which GIC line, how it is delivered, and what the monitor
//! restores when another guest rewrites the distributor (pure; the policy
//! behind docs/interrupts.md).
//!
//! - An HRT guest's lines are **Group 0**, signalled as FIQ and taken in
//!   the guest's own Non-secure FIQ mode (its core runs with SCR.FIQ = 0 and
//!   SCR.FW = 1): the monitor never sees them, and no Non-secure write can
//!   reach a Group 0 line's configuration (GICv1 with the Security
//!   Extensions makes it RAZ/WI), so no other guest can disable, retarget,
//!   reprioritise or clear them. Their priority is above anything a
//!   Non-secure write to the priority mask can set, so only the guest's
//!   own CPSR.F masks them. The guest serves its level-sensitive devices
//!   without a GIC acknowledge (a Non-secure read of GICC_IAR never returns
//!   a Group 0 line): the line stops being pending when the device drops
//!   it.
//! - The exception: an HRT core that also times a bounded run (a system
//!   with neither a shared nor an idle core) keeps SCR.FIQ = 1 for the
//!   monitor's timer, and its guest's lines are Group 1 (IRQ) there.
//! - Every other line (SRT guests') is **Group 1**: IRQ through the
//!   Non-secure CPU interface, enabled while its guest runs. A guest that
//!   reaches the distributor (its MMU off, or tables of its own) can rewrite
//!   Group 1 lines, so every scheduling event on a shared core runs the
//!   **guard**: each Group 1 line's priority, target and trigger are put
//!   back, its enable set as its owner's state says, and the distributor's
//!   Group 1 forwarding switched on again ([`guarded`]). (Under QEMU, whose
//!   GIC lets a Non-secure write retarget even a Group 0 line, the guard
//!   puts Group 0 lines' targets back too.)
//! - Each line's priority and trigger are the system description's
//!   (`priority` 0 to 14, `trigger` level or edge, per device);
//!   [`gic_priority`] turns the level into the GIC's priority byte, in the
//!   Secure half for Group 0 lines and the Non-secure half for Group 1
//!   lines, and the guard keeps a Group 1 line's trigger as declared.
//!   (`mvm-config` refuses an edge-triggered line on an HRT guest: without
//!   a GIC acknowledge nothing could clear its pending state.)
//! - A channel reader's notification line (docs/channels.md) is one of its
//!   guest's lines like a device's, but always Group 1 and edge-triggered
//!   whatever the guest's level: no device drives it, the monitor sets it
//!   pending ([`crate::channels`]), and only an acknowledge clears it.
#![forbid(unsafe_code)]

use crate::config::{Guest, Interrupt, Level, Trigger};
use crate::sysreg::Scr;

/// The GIC priority byte of a line of urgency `level` (0 most urgent,
/// [`Interrupt::MAX_PRIORITY`] least; larger values count as the least),
/// delivered as `delivery`. A Cortex-A9 GIC implements 32 priorities, the
/// upper five bits of the byte, so levels are 8 apart:
/// - Group 0 (FIQ) lines take `0x00 + 8 * level`, all below 0x80: no
///   Non-secure write to GICC_PMR (its values map to 0x80..0xFF) can mask
///   them;
/// - Group 1 lines take `0x80 + 8 * level`, the Non-secure half, where a
///   Non-secure GIC driver expects its priorities; never 0xF8, the lowest,
///   which the GIC does not signal under any mask (hence 15 levels).
pub const fn gic_priority(level: u8, delivery: Delivery) -> u8 {
    let level = if level > Interrupt::MAX_PRIORITY {
        Interrupt::MAX_PRIORITY
    } else {
        level
    };
    let base = match delivery {
        Delivery::Fiq => 0x00,
        Delivery::Irq => 0x80,
    };
    base + 8 * level
}

/// How a guest's device interrupts reach it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Group 0, FIQ straight into the guest's own FIQ vector.
    Fiq,
    /// Group 1, IRQ through the Non-secure CPU interface.
    Irq,
}

/// How `guest`'s lines are delivered; `monitor_timer_on_its_core`: the
/// monitor needs FIQs on the guest's core (it times a bounded run there).
/// An HRT guest with a watchdog needs the monitor's timer on its core too
/// (docs/health.md), so its lines come as IRQs, as on a core that times
/// the run.
pub fn delivery(guest: &Guest, monitor_timer_on_its_core: bool) -> Delivery {
    let watched = guest.health.watchdog_ns != 0;
    if guest.level == Level::Hrt && !monitor_timer_on_its_core && !watched {
        Delivery::Fiq
    } else {
        Delivery::Irq
    }
}

/// One line as the monitor sets it up at boot (and the guard restores it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line {
    pub irq: u32,
    /// Group 0 (Secure) rather than Group 1.
    pub group0: bool,
    /// The GIC priority byte ([`gic_priority`]).
    pub priority: u8,
    /// GICD_ICFGR: edge-triggered rather than level-sensitive.
    pub edge: bool,
    /// GICD_ITARGETSR: the owner's core.
    pub targets: u8,
    /// Enabled from boot on (a dedicated core's guest owns its lines for
    /// good); otherwise only while its guest runs.
    pub always_enabled: bool,
}

/// The setting of `irq`, a line of `guest`, delivered as `delivery`.
pub fn line(guest: &Guest, irq: &Interrupt, delivery: Delivery) -> Line {
    Line {
        irq: irq.id,
        group0: delivery == Delivery::Fiq,
        priority: gic_priority(irq.priority, delivery),
        edge: irq.trigger == Trigger::Edge,
        targets: 1u8 << (guest.core & 7),
        always_enabled: guest.level == Level::Hrt,
    }
}

/// SCR while a guest of a core whose guest lines are delivered as
/// `delivery` runs: FIQ stays in the Non-secure world for an FIQ-delivered
/// HRT guest, which may also mask it (SCR.FW); otherwise every FIQ is the
/// monitor's and CPSR.F is out of the guest's reach.
pub const fn guest_scr(delivery: Delivery) -> u32 {
    match delivery {
        Delivery::Fiq => (crate::SCR_GUEST & !Scr::FIQ) | Scr::FW,
        Delivery::Irq => crate::SCR_GUEST,
    }
}

/// The most guest lines the guard's list holds: more than the GIC lines of
/// either board (96), each of which has one owner at most.
pub const MAX_GUARDED: usize = 128;

/// A line on the guard's list, with its owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuardedLine {
    pub line: Line,
    pub core: u32,
    pub guest: u32,
    /// For a channel's notification line, the channel's index
    /// (crate::channels: it may not be armed yet).
    pub channel: Option<u32>,
}

/// Calls `f` with every guest line the guard looks at on a shared core
/// (each guest's devices' lines, delivered as `delivery_of` says, then its
/// channels' notification lines, [`notify_line`]). Group 1 lines get
/// their whole setting back; a Group 0 line only its target: the GIC
/// ignores Non-secure writes to a Group 0 line's priority, trigger and
/// enable, and should ignore them to its target too, but QEMU's GIC model
/// does not (`arm_gic.c` writes `irq_target` for any access), so the guard
/// puts the target back as well.
pub fn guarded(
    guests: &[Guest],
    delivery_of: impl Fn(&Guest) -> Delivery,
    mut f: impl FnMut(&Guest, Line, Option<u32>),
) {
    for g in guests {
        let delivery = delivery_of(g);
        for device in g.devices {
            for irq in device.interrupts {
                f(g, line(g, irq, delivery), None);
            }
        }
        for end in g.channels {
            if let Some(irq) = &end.notify {
                f(g, notify_line(g, irq), Some(end.channel));
            }
        }
    }
}

/// The setting of `irq`, `guest`'s notification line of a channel it
/// reads: Group 1 and edge-triggered (the monitor pends it, the guest's
/// acknowledge clears it), at its core, enabled while it runs.
pub fn notify_line(guest: &Guest, irq: &Interrupt) -> Line {
    Line {
        edge: true,
        ..line(guest, irq, Delivery::Irq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Device, Image, Paging, Region};

    const REGS: Region = Region {
        base: 0x1001_1000,
        size: 0x1000,
        guest_base: 0x1001_1000,
    };
    const TIMER0: Interrupt = Interrupt {
        id: 34,
        priority: Interrupt::DEFAULT_PRIORITY,
        trigger: Trigger::Level,
    };
    const UART1: Interrupt = Interrupt {
        id: 37,
        priority: 2,
        trigger: Trigger::Edge,
    };
    static HRT_DEVICES: [Device; 1] = [Device {
        name: "timer0",
        regs: REGS,
        interrupts: &[TIMER0],
    }];
    static SRT_DEVICES: [Device; 1] = [Device {
        name: "uart1",
        regs: REGS,
        interrupts: &[UART1],
    }];

    fn guest(level: Level, core: u32, devices: &'static [Device]) -> Guest {
        Guest {
            id: core,
            name: "g",
            level,
            core,
            paging: Paging::Shadow,
            regions: &[],
            channels: &[],
            devices,
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
            health: crate::config::Health::STOP,
        }
    }

    #[test]
    fn hrt_lines_are_group0_fiq_above_any_nonsecure_mask() {
        let g = guest(Level::Hrt, 0, &HRT_DEVICES);
        let d = delivery(&g, false);
        assert_eq!(d, Delivery::Fiq);
        let l = line(&g, &TIMER0, d);
        assert!(l.group0 && l.always_enabled && !l.edge);
        assert_eq!(l.priority, 0x40);
        assert!(l.priority < 0x80, "no Non-secure PMR value masks it");
        assert_eq!(l.targets, 0b01);
        let scr = guest_scr(d);
        assert_eq!(scr & Scr::FIQ, 0, "FIQ taken in the guest's own FIQ mode");
        assert_ne!(scr & Scr::FW, 0, "the guest may mask its own FIQs");
        assert_ne!(scr & Scr::NS, 0);
    }

    #[test]
    fn an_hrt_guest_with_a_watchdog_leaves_its_cores_fiqs_to_the_monitor() {
        let g = Guest {
            health: crate::config::Health {
                watchdog_ns: 50_000_000,
                ..crate::config::Health::STOP
            },
            ..guest(Level::Hrt, 0, &HRT_DEVICES)
        };
        let d = delivery(&g, false);
        assert_eq!(d, Delivery::Irq);
        assert_eq!(guest_scr(d), crate::SCR_GUEST);
        assert!(line(&g, &TIMER0, d).always_enabled);
    }

    #[test]
    fn an_hrt_core_that_times_the_run_keeps_its_fiqs_for_the_monitor() {
        let g = guest(Level::Hrt, 0, &HRT_DEVICES);
        let d = delivery(&g, true);
        assert_eq!(d, Delivery::Irq);
        let l = line(&g, &TIMER0, d);
        assert!(!l.group0 && l.always_enabled);
        assert_eq!(l.priority, 0xC0, "level 8 in the Non-secure half");
        assert_eq!(guest_scr(d), crate::SCR_GUEST);
    }

    #[test]
    fn srt_lines_are_group1_and_enabled_only_while_their_guest_runs() {
        let g = guest(Level::Srt, 1, &SRT_DEVICES);
        for timer in [false, true] {
            let d = delivery(&g, timer);
            assert_eq!(d, Delivery::Irq);
            let l = line(&g, &UART1, d);
            assert!(!l.group0 && !l.always_enabled);
            assert_eq!(l.priority, 0x90, "level 2: 0x80 + 8 * 2");
            assert!(l.edge, "the declared trigger");
            assert_eq!(l.targets, 0b10);
        }
    }

    #[test]
    fn the_guard_restores_every_group1_line_and_the_targets_of_group0_lines() {
        let guests = [
            guest(Level::Hrt, 0, &HRT_DEVICES),
            guest(Level::Srt, 1, &SRT_DEVICES),
        ];
        let mut seen = Vec::new();
        guarded(
            &guests,
            |g| delivery(g, false),
            |_, l, _| seen.push((l.irq, l.group0)),
        );
        assert_eq!(
            seen,
            [(34, true), (37, false)],
            "the HRT line is Group 0 (only its target is put back), the SRT line Group 1"
        );
        let mut seen = Vec::new();
        guarded(
            &guests,
            |g| delivery(g, g.core == 0),
            |_, l, _| seen.push((l.irq, l.group0)),
        );
        assert_eq!(
            seen,
            [(34, false), (37, false)],
            "an IRQ-delivered HRT line is Group 1"
        );
    }

    static NOTIFIED: [crate::config::ChannelEnd; 2] = [
        crate::config::ChannelEnd {
            name: "down",
            channel: 0,
            region: Region {
                base: 0x9FF0_0000,
                size: 0x1000,
                guest_base: 0x9FF0_0000,
            },
            writable: false,
            notify: Some(Interrupt {
                id: 75,
                priority: Interrupt::DEFAULT_PRIORITY,
                trigger: Trigger::Edge,
            }),
        },
        crate::config::ChannelEnd {
            name: "up",
            channel: 1,
            region: Region {
                base: 0x9FF0_1000,
                size: 0x1000,
                guest_base: 0x9FF0_1000,
            },
            writable: true,
            notify: None,
        },
    ];

    #[test]
    fn a_readers_notification_line_is_guarded_group1_edge_at_its_core() {
        let reader = Guest {
            channels: &NOTIFIED,
            ..guest(Level::Srt, 1, &SRT_DEVICES)
        };
        let guests = [guest(Level::Hrt, 0, &HRT_DEVICES), reader];
        let mut seen = Vec::new();
        guarded(
            &guests,
            |g| delivery(g, false),
            |g, l, c| seen.push((g.core, l, c)),
        );
        assert_eq!(
            seen.len(),
            3,
            "timer0, uart1, the reader's line; none for the writer's end"
        );
        let (core, l, channel) = seen[2];
        assert_eq!(core, 1);
        assert_eq!(
            channel,
            Some(NOTIFIED[0].channel),
            "marked as a channel's line"
        );
        assert!(
            seen[..2].iter().all(|s| s.2.is_none()),
            "device lines are not"
        );
        assert_eq!(
            l,
            Line {
                irq: 75,
                group0: false,
                priority: 0xC0,
                edge: true,
                targets: 0b10,
                always_enabled: false,
            },
            "Group 1, edge, at the reader's core, enabled only while it runs"
        );
        // Edge and Group 1 even if the description said otherwise.
        let level = Interrupt {
            trigger: Trigger::Level,
            ..NOTIFIED[0].notify.unwrap()
        };
        let l = notify_line(&guests[1], &level);
        assert!(l.edge && !l.group0);
    }

    #[test]
    fn levels_map_to_distinct_priorities_in_each_groups_half() {
        for level in 0..=Interrupt::MAX_PRIORITY {
            let fiq = gic_priority(level, Delivery::Fiq);
            let irq = gic_priority(level, Delivery::Irq);
            assert_eq!(fiq, 8 * level);
            assert_eq!(irq, 0x80 + 8 * level);
            assert!(fiq < 0x80, "Group 0: above any Non-secure mask");
            assert!(irq >= 0x80, "Group 1: the Non-secure half");
            assert_eq!(fiq & 7, 0, "a priority the Cortex-A9's 5 bits hold exactly");
            assert_eq!(irq & 7, 0);
            if level > 0 {
                assert!(
                    gic_priority(level - 1, Delivery::Fiq) < fiq,
                    "a lower level is more urgent"
                );
                assert!(gic_priority(level - 1, Delivery::Irq) < irq);
            }
        }
        assert_eq!(gic_priority(0, Delivery::Fiq), 0x00);
        assert_eq!(gic_priority(14, Delivery::Fiq), 0x70);
        assert_eq!(gic_priority(0, Delivery::Irq), 0x80);
        assert_eq!(gic_priority(14, Delivery::Irq), 0xF0);
        assert!(
            gic_priority(u8::MAX, Delivery::Irq) < 0xF8,
            "never the GIC's lowest priority, which no mask lets through"
        );
        assert_eq!(
            gic_priority(200, Delivery::Irq),
            0xF0,
            "beyond 14 counts as 14"
        );
    }
}
