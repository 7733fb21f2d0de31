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
    let (save, load) = pair_mut(guests, save, load);
    (save, load)
}

/// The guests in slots `a` and `b`, which differ, both mutable.
#[inline(always)]
fn pair_mut(guests: &mut [GuestState], a: usize, b: usize) -> (&mut GuestState, &mut GuestState) {
    if a < b {
        let (low, high) = guests.split_at_mut(b);
        (&mut low[a], &mut high[0])
    } else {
        let (low, high) = guests.split_at_mut(a);
        (&mut high[0], &mut low[b])
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
        let current = st.current;
        let plan = {
            let guests = &st.guests;
            switch::plan(
                st.unit,
                current.map(|slot| guests[slot].side(slot)),
                guests[server].side(server),
                switch::KEEP_TLB_BETWEEN_ASIDS,
            )
        };
        // The VFP unit's previous owner may be neither guest.
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
        st.unit.vfp_owner = plan.vfp_owner;
        if let Some(nsacr) = plan.nsacr {
            // SAFETY: VFP for fpu guests only (docs/world-switch.md).
            unsafe { crate::sysreg::Nsacr::write(crate::sysreg::Nsacr(nsacr)) };
            st.unit.nsacr = nsacr;
        }
        let (mut out, g) = match current {
            Some(out) => {
                let (out, g) = pair_mut(&mut st.guests, out, server);
                (Some(out), g)
            }
            None => (None, &mut st.guests[server]),
        };
        if let (Some(out), true) = (out.as_deref_mut(), plan.gic_out) {
            out.context.gic = GicCpu {
                enable_group1: Self::GICC.group1_enabled() as u32,
                pmr: Self::GICC.priority_mask(),
                abpr: Self::GICC.aliased_binary_point(),
            };
            self.disable_lines(out.guest);
        }
        if let Some(asid) = plan.asid {
            g.context.cp15 = g.context.cp15.with_asid(asid);
        }
        // SAFETY: the processor's Non-secure state is the outgoing guest's
        // (saved by this call) or nobody's (first entry, or it halted). The
        // TLB is kept only when the plan says both guests' entries are
        // non-global under ASIDs of their own, and the incoming guest's
        // ASID was just set.
        unsafe { arch::switch(frame, out.map(|o| &mut o.context), &g.context, plan.tlb) };
        if plan.gic_in {
            Self::GICC.set_priority_mask(g.context.gic.pmr);
            Self::GICC.set_aliased_binary_point(g.context.gic.abpr);
            Self::GICC.set_group1_enabled(g.context.gic.enable_group1 != 0);
            self.enable_lines(g.guest);
        }
        let incoming = g.guest;
        let figures = g.figures;
        arch::set_secure_thread_pointer(figures as *const _ as u32);
        bump(&figures.switches_in);
        st.switches += 1;
        st.current = Some(server);
        if plan.gic_in && st.trace.on {
            self.trace_pending_lines(st, incoming);
        }
        if st.guests[server].restarting_since != 0 {
            self.first_instruction(st, server);
        }
    }
}
