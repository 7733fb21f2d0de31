//! The world switch's decisions, apart from the registers it moves (pure).
//!
//! - What a switch between two guests on a shared core must do besides
//!   saving and loading their registers: who owns the VFP unit afterwards
//!   (lazy: a guest's VFP registers stay in the unit until another `fpu`
//!   guest needs it), whether NSACR changes, whether the Non-secure TLB is
//!   invalidated, which ASID the incoming guest's CONTEXTIDR carries, and
//!   which interrupt lines change hands at the distributor.
//! - The monitor's Arm shell (`crate::monitor`) carries a [`Plan`] out;
//!   the rules live here, where host tests check them.
#![forbid(unsafe_code)]

use crate::config::{Guest, Interrupt};

/// Whether a switch between two guests whose translation entries are all
/// non-global under ASIDs of their own keeps the Non-secure TLB. `false`:
/// every switch invalidates it (TLBIALL), which measured faster under
/// QEMU, whose TLB refills cost no instructions (docs/memory.md, "ASIDs");
/// to be measured again on silicon before it changes.
pub const KEEP_TLB_BETWEEN_ASIDS: bool = false;

/// What the switch needs to know of a guest on the core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Side {
    /// Its slot on the core (the index of its state, and of its server).
    pub slot: usize,
    /// It uses VFP/NEON (`fpu = true`).
    pub fpu: bool,
    /// The ASID its translation entries carry (0: it keeps none that the
    /// monitor tagged: MMU off, or tables of its own).
    pub asid: u8,
    /// It owns device interrupts (and so a GIC CPU interface state).
    pub interrupts: bool,
}

/// The Non-secure TLB across the switch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tlb {
    /// TLBIALL: nothing of the outgoing guest can be hit by the incoming.
    InvalidateAll,
    /// Kept: both guests' entries are non-global under their own ASIDs.
    Keep,
}

/// The VFP unit across the switch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vfp {
    /// Left as it is: the incoming guest has no `fpu` (it cannot reach the
    /// unit: NSACR denies CP10/CP11), or its registers are still there.
    Untouched,
    /// Load the incoming guest's registers, after saving those of the
    /// guest in `save` (the unit's previous owner) if there is one.
    Load { save: Option<usize> },
}

/// What one switch does besides the registers every switch moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    pub vfp: Vfp,
    /// The VFP unit's owner after the switch.
    pub vfp_owner: Option<usize>,
    /// NSACR to write, if it changes.
    pub nsacr: Option<u32>,
    pub tlb: Tlb,
    /// The ASID the incoming guest's CONTEXTIDR[7:0] gets (the monitor's
    /// to give: whatever the guest wrote there lasts until it is switched
    /// out); `None` leaves its saved CONTEXTIDR as it is.
    pub asid: Option<u8>,
    /// Save the outgoing guest's GIC CPU interface state (its Group 1
    /// enable, priority mask, binary point) and disable its interrupts at
    /// the distributor: only a guest that owns interrupts has any.
    pub gic_out: bool,
    /// Load the incoming guest's CPU interface state and enable its
    /// interrupts. A guest without interrupts finds the interface as the
    /// last guest with interrupts left it, with that guest's interrupts
    /// disabled at the distributor (docs/threat-model.md).
    pub gic_in: bool,
}

/// The core's switch state that survives from one switch to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unit {
    /// The slot whose VFP registers are in the unit.
    pub vfp_owner: Option<usize>,
    /// NSACR as last written.
    pub nsacr: u32,
}

/// Plans the switch from `outgoing` (`None`: no guest's state is live, as
/// before a core's first guest and after a halt) to `incoming`.
pub fn plan(unit: Unit, outgoing: Option<Side>, incoming: Side, keep_tlb: bool) -> Plan {
    let vfp = if incoming.fpu && unit.vfp_owner != Some(incoming.slot) {
        Vfp::Load {
            save: unit.vfp_owner,
        }
    } else {
        Vfp::Untouched
    };
    let vfp_owner = match vfp {
        Vfp::Load { .. } => Some(incoming.slot),
        Vfp::Untouched => unit.vfp_owner,
    };
    let nsacr = crate::nsacr_for(incoming.fpu);
    let tagged = |side: Option<Side>| side.is_some_and(|s| s.asid != 0);
    let tlb = if keep_tlb && tagged(outgoing) && tagged(Some(incoming)) {
        Tlb::Keep
    } else {
        Tlb::InvalidateAll
    };
    Plan {
        vfp,
        vfp_owner,
        nsacr: (nsacr != unit.nsacr).then_some(nsacr),
        tlb,
        asid: (incoming.asid != 0).then_some(incoming.asid),
        gic_out: outgoing.is_some_and(|o| o.interrupts),
        gic_in: incoming.interrupts,
    }
}

/// Calls `f` with each interrupt line of `guest`'s passthrough devices:
/// the lines a switch on a shared core disables for the outgoing guest
/// (they stay pending) and enables for the incoming one. (Two plain loops:
/// on the switch path they cost less than a flattening iterator.)
#[inline(always)]
pub fn for_each_interrupt(guest: &Guest, mut f: impl FnMut(&Interrupt)) {
    for device in guest.devices {
        for irq in device.interrupts {
            f(irq);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Device, Image, Level, Paging, Region, Trigger};

    const FPU: u32 = crate::NSACR_VALUE;
    const NO_FPU: u32 = crate::NSACR_NO_FPU;

    fn side(slot: usize, fpu: bool, asid: u8) -> Side {
        Side {
            slot,
            fpu,
            asid,
            interrupts: false,
        }
    }

    #[test]
    fn the_gic_changes_hands_only_for_guests_with_interrupts() {
        let unit = Unit {
            vfp_owner: None,
            nsacr: NO_FPU,
        };
        let quiet = side(0, false, 0);
        let loud = Side {
            interrupts: true,
            ..side(1, false, 0)
        };
        let p = |out, inc| {
            let p = plan(unit, out, inc, false);
            (p.gic_out, p.gic_in)
        };
        assert_eq!(p(Some(quiet), quiet), (false, false));
        assert_eq!(p(Some(loud), quiet), (true, false));
        assert_eq!(p(Some(quiet), loud), (false, true));
        assert_eq!(p(Some(loud), loud), (true, true));
        assert_eq!(p(None, loud), (false, true), "nobody's state to save");
    }

    #[test]
    fn vfp_moves_lazily_and_only_for_fpu_guests() {
        let empty = Unit {
            vfp_owner: None,
            nsacr: NO_FPU,
        };
        // First fpu guest: load, nothing to save.
        let p = plan(empty, None, side(0, true, 0), false);
        assert_eq!(p.vfp, Vfp::Load { save: None });
        assert_eq!(p.vfp_owner, Some(0));
        assert_eq!(p.nsacr, Some(FPU));
        // Back to it after a guest without fpu: its registers never left.
        let owned = Unit {
            vfp_owner: Some(0),
            nsacr: NO_FPU,
        };
        let p = plan(owned, Some(side(1, false, 0)), side(0, true, 0), false);
        assert_eq!(p.vfp, Vfp::Untouched);
        assert_eq!(p.vfp_owner, Some(0));
        assert_eq!(p.nsacr, Some(FPU), "CP10/CP11 opened again");
        // Another fpu guest: save the owner's, load the incoming's.
        let p = plan(owned, Some(side(1, false, 0)), side(2, true, 0), false);
        assert_eq!(p.vfp, Vfp::Load { save: Some(0) });
        assert_eq!(p.vfp_owner, Some(2));
        // A guest without fpu leaves the unit alone and closes it.
        let open = Unit {
            vfp_owner: Some(0),
            nsacr: FPU,
        };
        let p = plan(open, Some(side(0, true, 0)), side(1, false, 0), false);
        assert_eq!(p.vfp, Vfp::Untouched);
        assert_eq!(p.vfp_owner, Some(0), "still the owner's registers");
        assert_eq!(
            p.nsacr,
            Some(NO_FPU),
            "a guest without fpu cannot reach them"
        );
        // NSACR is written only when it changes.
        let p = plan(open, Some(side(0, true, 0)), side(2, true, 0), false);
        assert_eq!(p.nsacr, None);
    }

    #[test]
    fn the_tlb_is_kept_only_between_two_guests_with_asids() {
        let unit = Unit {
            vfp_owner: None,
            nsacr: NO_FPU,
        };
        let tagged = side(0, false, 3);
        let untagged = side(1, false, 0);
        let p = |out, inc, keep| plan(unit, out, inc, keep).tlb;
        assert_eq!(p(Some(tagged), side(2, false, 4), true), Tlb::Keep);
        assert_eq!(
            p(Some(tagged), side(2, false, 4), false),
            Tlb::InvalidateAll
        );
        assert_eq!(p(Some(untagged), tagged, true), Tlb::InvalidateAll);
        assert_eq!(p(Some(tagged), untagged, true), Tlb::InvalidateAll);
        assert_eq!(p(None, tagged, true), Tlb::InvalidateAll, "nobody's state");
    }

    #[test]
    fn the_monitor_gives_the_asid_of_guests_it_keeps_tables_for() {
        let unit = Unit {
            vfp_owner: None,
            nsacr: NO_FPU,
        };
        assert_eq!(plan(unit, None, side(0, false, 7), false).asid, Some(7));
        assert_eq!(plan(unit, None, side(0, false, 0), false).asid, None);
    }

    #[test]
    fn interrupts_are_every_line_of_every_device() {
        const fn line(id: u32) -> Interrupt {
            Interrupt {
                id,
                priority: Interrupt::DEFAULT_PRIORITY,
                trigger: Trigger::Level,
            }
        }
        const REGS: Region = Region {
            base: 0x1000_9000,
            size: 0x1000,
            guest_base: 0x1000_9000,
        };
        let guest = Guest {
            id: 0,
            name: "g",
            level: Level::Srt,
            core: 1,
            paging: Paging::Shadow,
            regions: &[],
            channels: &[],
            devices: &[
                Device {
                    name: "uart1",
                    regs: REGS,
                    interrupts: &[const { line(38) }],
                },
                Device {
                    name: "none",
                    regs: REGS,
                    interrupts: &[],
                },
                Device {
                    name: "two",
                    regs: REGS,
                    interrupts: &const { [line(40), line(41)] },
                },
            ],
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
        };
        let mut lines = Vec::new();
        for_each_interrupt(&guest, |irq| lines.push(irq.id));
        assert_eq!(lines, [38, 40, 41]);
    }
}
