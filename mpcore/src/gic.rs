//! Arm Generic Interrupt Controller v1 with Security Extensions (Cortex-A9
//! MPCore): distributor (GICD) and CPU interface (GICC).
//!
//! The monitor drives both from the Secure world: it owns Group 0 (its own
//! timer, signalled as FIQ) and hands each passthrough interrupt to its
//! guest as Group 1. A guest uses [`Gicc::acknowledge`] and
//! [`Gicc::end_of_interrupt`] from the Non-secure world, where the same
//! addresses show the Non-secure (Group 1) view.
use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::{
    register_bitfields, register_structs, registers::ReadOnly, registers::ReadWrite,
    registers::WriteOnly,
};

register_bitfields![u32,
    /// GICD_CTLR, Secure copy.
    pub GICD_CTLR [
        /// Forward Group 1 (Non-secure) interrupts.
        EnableGrp1 OFFSET(1) NUMBITS(1) [],
        /// Forward Group 0 (Secure) interrupts.
        EnableGrp0 OFFSET(0) NUMBITS(1) []
    ],
    /// GICC_CTLR, Secure copy.
    pub GICC_CTLR [
        /// Secure binary point also used for Group 1.
        CBPR OFFSET(4) NUMBITS(1) [],
        /// Signal Group 0 interrupts as FIQ.
        FIQEn OFFSET(3) NUMBITS(1) [],
        /// A Secure read of GICC_IAR may acknowledge a Group 1 interrupt.
        AckCtl OFFSET(2) NUMBITS(1) [],
        /// Signal Group 1 interrupts.
        EnableGrp1 OFFSET(1) NUMBITS(1) [],
        /// Signal Group 0 interrupts.
        EnableGrp0 OFFSET(0) NUMBITS(1) []
    ],
    /// GICD_TYPER.
    pub GICD_TYPER [
        SecurityExtn OFFSET(10) NUMBITS(1) [],
        CPUNumber OFFSET(5) NUMBITS(3) [],
        ITLinesNumber OFFSET(0) NUMBITS(5) []
    ]
];

register_structs! {
    /// GIC distributor (GICv1 architecture, IHI0048).
    pub GicdRegisters {
        /// GICD_CTLR: distributor control.
        (0x000 => gicd_ctlr: ReadWrite<u32, GICD_CTLR::Register>),
        /// GICD_TYPER: interrupt controller type.
        (0x004 => gicd_typer: ReadOnly<u32, GICD_TYPER::Register>),
        /// GICD_IIDR: implementer identification.
        (0x008 => gicd_iidr: ReadOnly<u32>),
        (0x00C => _reserved0),
        /// GICD_IGROUPRn: interrupt group (0 = Secure/Group 0).
        (0x080 => gicd_igroupr: [ReadWrite<u32>; 32]),
        /// GICD_ISENABLERn: interrupt set-enable.
        (0x100 => gicd_isenabler: [ReadWrite<u32>; 32]),
        /// GICD_ICENABLERn: interrupt clear-enable.
        (0x180 => gicd_icenabler: [ReadWrite<u32>; 32]),
        /// GICD_ISPENDRn: interrupt set-pending.
        (0x200 => gicd_ispendr: [ReadWrite<u32>; 32]),
        /// GICD_ICPENDRn: interrupt clear-pending.
        (0x280 => gicd_icpendr: [ReadWrite<u32>; 32]),
        /// GICD_ISACTIVERn: interrupt set-active.
        (0x300 => gicd_isactiver: [ReadWrite<u32>; 32]),
        /// GICD_ICACTIVERn: interrupt clear-active.
        (0x380 => gicd_icactiver: [ReadWrite<u32>; 32]),
        /// GICD_IPRIORITYRn: interrupt priority, one byte per interrupt.
        (0x400 => gicd_ipriorityr: [ReadWrite<u32>; 255]),
        (0x7FC => _reserved1),
        /// GICD_ITARGETSRn: interrupt processor targets, one byte each.
        (0x800 => gicd_itargetsr: [ReadWrite<u32>; 255]),
        (0xBFC => _reserved2),
        /// GICD_ICFGRn: interrupt configuration.
        (0xC00 => gicd_icfgr: [ReadWrite<u32>; 64]),
        (0xD00 => _reserved3),
        /// GICD_SGIR: software generated interrupt.
        (0xF00 => gicd_sgir: WriteOnly<u32>),
        (0xF04 => @END),
    }
}

register_structs! {
    /// GIC CPU interface (GICv1 architecture, IHI0048), banked per core.
    pub GiccRegisters {
        /// GICC_CTLR: CPU interface control.
        (0x00 => gicc_ctlr: ReadWrite<u32, GICC_CTLR::Register>),
        /// GICC_PMR: priority mask.
        (0x04 => gicc_pmr: ReadWrite<u32>),
        /// GICC_BPR: binary point.
        (0x08 => gicc_bpr: ReadWrite<u32>),
        /// GICC_IAR: interrupt acknowledge.
        (0x0C => gicc_iar: ReadOnly<u32>),
        /// GICC_EOIR: end of interrupt.
        (0x10 => gicc_eoir: WriteOnly<u32>),
        /// GICC_RPR: running priority.
        (0x14 => gicc_rpr: ReadOnly<u32>),
        /// GICC_HPPIR: highest priority pending interrupt.
        (0x18 => gicc_hppir: ReadOnly<u32>),
        /// GICC_ABPR: aliased binary point (Group 1).
        (0x1C => gicc_abpr: ReadWrite<u32>),
        (0x20 => @END),
    }
}

/// Which world owns an interrupt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// Group 0: Secure, the monitor's; signalled as FIQ.
    Secure,
    /// Group 1: Non-secure, a guest's; signalled as IRQ.
    NonSecure,
}

/// Secure-world handle on the distributor.
pub struct Gicd {
    regs: *const GicdRegisters,
}

/// Secure-world handle on this core's CPU interface.
pub struct Gicc {
    regs: *const GiccRegisters,
}

impl Gicd {
    /// # Safety
    /// `base` is the GIC distributor; it is driven from the Secure world.
    pub const unsafe fn new(base: usize) -> Self {
        Self {
            regs: base as *const GicdRegisters,
        }
    }

    fn regs(&self) -> &GicdRegisters {
        // SAFETY: `new`'s caller vouched that the pointer is the device's
        // register block, which lives for the whole run.
        unsafe { &*self.regs }
    }

    /// Number of interrupt IDs the distributor implements.
    pub fn lines(&self) -> u32 {
        32 * (self.regs().gicd_typer.read(GICD_TYPER::ITLinesNumber) + 1)
    }

    pub fn has_security_extensions(&self) -> bool {
        self.regs().gicd_typer.is_set(GICD_TYPER::SecurityExtn)
    }

    /// Stop forwarding both groups (while the tables are rewritten).
    pub fn disable(&self) {
        self.regs().gicd_ctlr.set(0);
    }

    /// Disable every shared peripheral interrupt, clear its pending state
    /// and make it Group 0: nothing reaches a guest unless given to it.
    pub fn reset_spis(&self) {
        for n in 1..(self.lines() / 32) as usize {
            self.regs().gicd_icenabler[n].set(!0);
            self.regs().gicd_icpendr[n].set(!0);
            self.regs().gicd_igroupr[n].set(0);
        }
    }

    /// As [`Gicd::reset_spis`], for this core's banked SGIs and PPIs
    /// (IDs 0..32). SGIs are always enabled in GICv1.
    pub fn reset_banked(&self) {
        self.regs().gicd_icenabler[0].set(!0);
        self.regs().gicd_icpendr[0].set(!0);
        self.regs().gicd_igroupr[0].set(0);
    }

    /// Enable forwarding of both groups.
    pub fn enable(&self) {
        self.regs()
            .gicd_ctlr
            .write(GICD_CTLR::EnableGrp0::SET + GICD_CTLR::EnableGrp1::SET);
    }

    /// Put every shared peripheral interrupt (ID >= 32) into `group`.
    /// Banked IDs 0..32 are per core: see [`Gicd::set_group`].
    pub fn set_all_spi_group(&self, group: Group) {
        let value = if group == Group::NonSecure { !0 } else { 0 };
        for n in 1..(self.lines() / 32) as usize {
            self.regs().gicd_igroupr[n].set(value);
        }
    }

    pub fn set_group(&self, id: u32, group: Group) {
        let (n, bit) = ((id / 32) as usize, 1u32 << (id % 32));
        let r = &self.regs().gicd_igroupr[n];
        match group {
            Group::Secure => r.set(r.get() & !bit),
            Group::NonSecure => r.set(r.get() | bit),
        }
    }

    pub fn set_priority(&self, id: u32, priority: u8) {
        let (n, shift) = ((id / 4) as usize, (id % 4) * 8);
        let r = &self.regs().gicd_ipriorityr[n];
        r.set((r.get() & !(0xFF << shift)) | ((priority as u32) << shift));
    }

    /// Route a shared peripheral interrupt to the cores in `cpu_mask`.
    pub fn set_targets(&self, id: u32, cpu_mask: u8) {
        let (n, shift) = ((id / 4) as usize, (id % 4) * 8);
        let r = &self.regs().gicd_itargetsr[n];
        r.set((r.get() & !(0xFF << shift)) | ((cpu_mask as u32) << shift));
    }

    /// Makes a line edge-triggered (`edge`) or level-sensitive
    /// (GICD_ICFGR: the upper bit of its two is 1 for edge). A Non-secure
    /// write can flip a Group 1 line's trigger; the monitor puts it back.
    /// Writes only when the bit differs: the guard calls it at every
    /// scheduling event, and changing an enabled line's trigger is
    /// UNPREDICTABLE in the GIC architecture.
    pub fn set_trigger(&self, id: u32, edge: bool) {
        let (n, bit) = ((id / 16) as usize, 1u32 << ((id % 16) * 2 + 1));
        let r = &self.regs().gicd_icfgr[n];
        let value = r.get();
        let wanted = if edge { value | bit } else { value & !bit };
        if wanted != value {
            r.set(wanted);
        }
    }

    pub fn enable_interrupt(&self, id: u32) {
        self.regs().gicd_isenabler[(id / 32) as usize].set(1 << (id % 32));
    }

    /// Whether line `id` is enabled (GICD_ISENABLER).
    pub fn is_enabled(&self, id: u32) -> bool {
        self.regs().gicd_isenabler[(id / 32) as usize].get() & (1 << (id % 32)) != 0
    }

    /// Whether line `id` is pending (GICD_ISPENDR).
    pub fn is_pending(&self, id: u32) -> bool {
        self.regs().gicd_ispendr[(id / 32) as usize].get() & (1 << (id % 32)) != 0
    }

    pub fn disable_interrupt(&self, id: u32) {
        self.regs().gicd_icenabler[(id / 32) as usize].set(1 << (id % 32));
    }

    /// Sets line `id` pending (GICD_ISPENDR): how the monitor raises a
    /// line no device drives (a channel's notification). An edge-triggered
    /// line stays pending until it is acknowledged.
    pub fn set_pending(&self, id: u32) {
        self.regs().gicd_ispendr[(id / 32) as usize].set(1 << (id % 32));
    }

    /// Clears line `id`'s pending state (a level-sensitive line its device
    /// still holds is pending again at once).
    pub fn clear_pending(&self, id: u32) {
        self.regs().gicd_icpendr[(id / 32) as usize].set(1 << (id % 32));
    }

    /// Sends software-generated interrupt `id` (0..16) to the cores in
    /// `cpu_mask`, as a Group 0 (Secure) interrupt: GICD_SGIR.SATT = 0.
    pub fn send_secure_sgi(&self, id: u32, cpu_mask: u8) {
        self.regs()
            .gicd_sgir
            .set(((cpu_mask as u32) << 16) | (id & 0xF));
    }
}

impl Gicc {
    /// # Safety
    /// `base` is the GIC CPU interface; it is driven from the Secure world.
    pub const unsafe fn new(base: usize) -> Self {
        Self {
            regs: base as *const GiccRegisters,
        }
    }

    fn regs(&self) -> &GiccRegisters {
        // SAFETY: `new`'s caller vouched that the pointer is the device's
        // register block, which lives for the whole run.
        unsafe { &*self.regs }
    }

    /// Group 0 on, as FIQ, Group 1 off (a Non-secure write may turn it on),
    /// all priorities unmasked: the CPU interface of a core whose only
    /// interrupts are its HRT guest's Group 0 lines.
    pub fn enable_group0_only(&self) {
        self.regs().gicc_pmr.set(0xFF);
        self.regs().gicc_bpr.set(0);
        self.regs()
            .gicc_ctlr
            .write(GICC_CTLR::EnableGrp0::SET + GICC_CTLR::FIQEn::SET);
    }

    /// Both groups on, Group 0 as FIQ, all priorities unmasked.
    pub fn enable(&self) {
        self.regs().gicc_pmr.set(0xFF);
        self.regs().gicc_bpr.set(0);
        self.regs()
            .gicc_ctlr
            .write(GICC_CTLR::EnableGrp0::SET + GICC_CTLR::EnableGrp1::SET + GICC_CTLR::FIQEn::SET);
    }

    pub fn ctlr(&self) -> u32 {
        self.regs().gicc_ctlr.get()
    }

    /// Whether Group 1 (the Non-secure world's interrupts) is signalled:
    /// the Non-secure GICC_CTLR.Enable, as the Secure view shows it.
    pub fn group1_enabled(&self) -> bool {
        self.regs().gicc_ctlr.is_set(GICC_CTLR::EnableGrp1)
    }

    /// Sets or clears GICC_CTLR.EnableGrp1, keeping the Secure bits.
    pub fn set_group1_enabled(&self, on: bool) {
        let ctlr = &self.regs().gicc_ctlr;
        if on {
            ctlr.set(ctlr.get() | (1 << 1));
        } else {
            ctlr.set(ctlr.get() & !(1 << 1));
        }
    }

    /// GICC_PMR as the Secure world sees it (a Non-secure write of `v`
    /// lands as `0x80 | v >> 1`).
    pub fn priority_mask(&self) -> u32 {
        self.regs().gicc_pmr.get()
    }

    pub fn set_priority_mask(&self, value: u32) {
        self.regs().gicc_pmr.set(value);
    }

    /// GICC_ABPR: the Non-secure world's binary point, from the Secure side.
    pub fn aliased_binary_point(&self) -> u32 {
        self.regs().gicc_abpr.get()
    }

    pub fn set_aliased_binary_point(&self, value: u32) {
        self.regs().gicc_abpr.set(value);
    }

    /// The highest priority pending interrupt's ID (1023: none), without
    /// acknowledging it.
    pub fn highest_pending(&self) -> u32 {
        self.regs().gicc_hppir.get() & 0x3FF
    }

    /// Acknowledge the highest priority pending interrupt; 1023 = spurious.
    pub fn acknowledge(&self) -> u32 {
        self.regs().gicc_iar.get()
    }

    pub fn end_of_interrupt(&self, iar: u32) {
        self.regs().gicc_eoir.set(iar);
    }

    /// The interrupt ID in a [`Gicc::acknowledge`] value.
    pub const fn interrupt_id(iar: u32) -> u32 {
        iar & 0x3FF
    }

    /// IDs 1020..1023 are special (1023: spurious): no end of interrupt.
    pub const SPECIAL_IDS: u32 = 1020;
}

// SAFETY: a handle is only a pointer to the distributor's MMIO block;
// every access is a single volatile load or store. Read-modify-write
// sequences are serialised by the caller (boot code on one core, or a lock).
unsafe impl Send for Gicd {}
// SAFETY: as for `Send`.
unsafe impl Sync for Gicd {}

// SAFETY: a handle is only a pointer to the CPU interface's MMIO block (banked
// per core, so each core sees its own);
// every access is a single volatile load or store. Read-modify-write
// sequences are serialised by the caller (boot code on one core, or a lock).
unsafe impl Send for Gicc {}
// SAFETY: as for `Send`.
unsafe impl Sync for Gicc {}
