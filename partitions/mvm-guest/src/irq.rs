//! A guest's interrupts through the GIC CPU interface's Non-secure view.
//!
//! The Cortex-A9 MPCore GIC is the same on every board, so the acknowledge /
//! end-of-interrupt protocol lives here once; a guest supplies what its own
//! device needs.

use mpcore::gic::Gicc;

/// Acknowledges the highest-priority pending interrupt, hands its ID to
/// `handle` and signals its end. A spurious acknowledge (an ID of 1020 or
/// above) calls nothing and ends nothing, as the GIC requires.
pub fn serve(gicc: &Gicc, handle: impl FnOnce(u32)) {
    let iar = gicc.acknowledge();
    let id = Gicc::interrupt_id(iar);
    if id >= Gicc::SPECIAL_IDS {
        return;
    }
    handle(id);
    gicc.end_of_interrupt(iar);
}
