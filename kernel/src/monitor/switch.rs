//! The world switch's Arm half: carries out a [`crate::switch::Plan`] and
//! moves the registers (docs/world-switch.md).

use super::{Monitor, Platform};
use crate::arch;
use crate::context::{GicCpu, TrapFrame};
use crate::state::{bump, CoreState, GuestState};
use crate::switch::{self, Vfp};

/// The guest in slot `save` (mutable) and the one in slot `load`, which
/// differ.
#[inline(always)]
fn pair(guests: &mut [GuestState], save: usize, load: usize) -> (&mut GuestState, &GuestState) {
    if save < load {
        let (low, high) = guests.split_at_mut(load);
        (&mut low[save], &high[0])
    } else {
        let (low, high) = guests.split_at_mut(save);
        (&mut high[0], &low[load])
    }
}

impl<P: Platform, const G: usize, const S: usize> Monitor<P, G, S> {
    /// Switches the processor from the guest in it (if any) to server
    /// `server`'s guest: the outgoing guest's registers (from `frame`),
    /// banked registers and CP15 state are saved, and if it owns
    /// interrupts, its GIC CPU interface state, and its interrupts are
    /// disabled at the distributor (they stay pending); the incoming
    /// guest's are loaded into the processor and `frame`.
    pub(super) fn switch_to(&self, st: &mut CoreState<S>, server: usize, frame: &mut TrapFrame) {
        let outgoing = st.current.map(|slot| st.guests[slot].side(slot));
        let plan = switch::plan(
            st.unit,
            outgoing,
            st.guests[server].side(server),
            switch::KEEP_TLB_BETWEEN_ASIDS,
        );
        if let (Some(out), true) = (st.current, plan.gic_out) {
            let g = &mut st.guests[out];
            g.context.gic = GicCpu {
                enable_group1: Self::GICC.group1_enabled() as u32,
                pmr: Self::GICC.priority_mask(),
                abpr: Self::GICC.aliased_binary_point(),
            };
            switch::for_each_interrupt(g.guest, |irq| Self::GICD.disable_interrupt(irq));
        }
        if let Vfp::Load { save } = plan.vfp {
            match save {
                Some(owner) => {
                    let (owner, incoming) = pair(&mut st.guests, owner, server);
                    // SAFETY: the VFP registers hold the owner's state; the
                    // monitor is soft-float.
                    unsafe {
                        arch::vfp_switch(Some(&mut owner.context.vfp), &incoming.context.vfp)
                    };
                }
                // SAFETY: the VFP registers hold nobody's state.
                None => unsafe { arch::vfp_switch(None, &st.guests[server].context.vfp) },
            }
        }
        if let Some(nsacr) = plan.nsacr {
            // SAFETY: VFP for fpu guests only (docs/world-switch.md).
            unsafe { crate::sysreg::Nsacr::write(crate::sysreg::Nsacr(nsacr)) };
            st.unit.nsacr = nsacr;
        }
        st.unit.vfp_owner = plan.vfp_owner;
        if let Some(asid) = plan.asid {
            let cp15 = &mut st.guests[server].context.cp15;
            *cp15 = cp15.with_asid(asid);
        }
        // SAFETY: the processor's Non-secure state is the outgoing guest's
        // (saved by this call) or nobody's (first entry, or it halted). The
        // TLB is kept only when the plan says both guests' entries are
        // non-global under ASIDs of their own, and the incoming guest's
        // ASID was just set.
        unsafe {
            match st.current {
                Some(out) => {
                    let (out, incoming) = pair(&mut st.guests, out, server);
                    arch::switch(frame, Some(&mut out.context), &incoming.context, plan.tlb)
                }
                None => arch::switch(frame, None, &st.guests[server].context, plan.tlb),
            }
        }
        let g = &st.guests[server];
        if plan.gic_in {
            Self::GICC.set_priority_mask(g.context.gic.pmr);
            Self::GICC.set_aliased_binary_point(g.context.gic.abpr);
            Self::GICC.set_group1_enabled(g.context.gic.enable_group1 != 0);
            switch::for_each_interrupt(g.guest, |irq| Self::GICD.enable_interrupt(irq));
        }
        let figures = g.figures;
        arch::set_secure_thread_pointer(figures as *const _ as u32);
        bump(&figures.switches_in);
        st.switches += 1;
        st.current = Some(server);
    }
}
