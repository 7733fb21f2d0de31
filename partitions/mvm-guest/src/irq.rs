//! A guest's device interrupts, as the monitor delivers them
//! (docs/interrupts.md).
//!
//! - On an HRT guest's own core its lines are Group 0 and come as **FIQ**
//!   straight from the GIC: there is no acknowledge (a Non-secure read of
//!   GICC_IAR never returns a Group 0 line), the handler asks its devices
//!   and clears them, and the line stops being pending when the device
//!   drops it.
//! - Elsewhere (SRT guests, and an HRT guest whose core also times a
//!   bounded run) its lines are Group 1 and come as **IRQ** through the GIC
//!   CPU interface's Non-secure view: acknowledge, handle, end.
//! - [`take`] installs one handler for both and unmasks both, so a guest
//!   need not know which way its lines come; [`serve`] is the IRQ half,
//!   for a guest that installs its own exception handlers.
//! - A guest never writes the distributor: its lines are the monitor's to
//!   configure, and writes to other guests' lines would be undone anyway.

use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use mpcore::gic::Gicc;

use crate::exception::{self, Exception, ExceptionFrame};

/// Where a device interrupt came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// One of the guest's Group 0 lines, as FIQ: which one is for the
    /// guest's devices to say (there is no acknowledge).
    Fiq,
    /// A Group 1 line, acknowledged: its GIC ID. It is ended when the
    /// handler returns.
    Line(u32),
}

/// The handler [`take`] calls for each interrupt.
pub type Handler = fn(Source);

static HANDLER: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());
/// The Non-secure GIC CPU interface's base (0: none given).
static GICC_BASE: AtomicUsize = AtomicUsize::new(0);

/// Takes device interrupts both ways, FIQ and IRQ, hands each to
/// `handler`, and unmasks both. `gicc_base` is the board's GIC CPU
/// interface (the IRQ path acknowledges through it).
///
/// # Safety
/// `gicc_base` is the GIC CPU interface of the board the guest runs on
/// (its Non-secure view is banked per core and per world: this guest's
/// own).
pub unsafe fn take(gicc_base: usize, handler: Handler) {
    GICC_BASE.store(gicc_base, Ordering::Release);
    HANDLER.store(handler as *mut (), Ordering::Release);
    exception::set_handler(Exception::Fiq, on_fiq);
    exception::set_handler(Exception::Irq, on_irq);
    crate::cpu::enable_irq();
    crate::cpu::enable_fiq();
}

fn handler() -> Option<Handler> {
    let h = HANDLER.load(Ordering::Acquire);
    // SAFETY: only `take` stores into HANDLER, and only `Handler` function
    // pointers; a function pointer round-trips through `*mut ()`.
    (!h.is_null()).then(|| unsafe { core::mem::transmute::<*mut (), Handler>(h) })
}

fn on_fiq(_frame: &mut ExceptionFrame) {
    if let Some(h) = handler() {
        h(Source::Fiq);
    }
}

fn on_irq(_frame: &mut ExceptionFrame) {
    let base = GICC_BASE.load(Ordering::Acquire);
    let Some(h) = handler() else { return };
    if base == 0 {
        return;
    }
    // SAFETY: `take`'s caller vouched for the base.
    let gicc = unsafe { Gicc::new(base) };
    serve(&gicc, |id| h(Source::Line(id)));
}

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
