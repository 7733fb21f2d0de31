//! A guest's saved Non-secure context: what a world switch saves and loads.
//!
//! - Plain `#[repr(C)]` data whose offsets the assembly in [`crate::arch`]
//!   relies on; the offsets are constants here, checked at compile time and
//!   by host tests, so layout and assembly cannot drift apart silently.
//! - [`TrapFrame`]: r0-r12, the return address and the interrupted CPSR,
//!   as the full monitor entry stores them on the monitor stack.
//! - [`Banked`]: SP, LR and SPSR of every Non-secure mode, and FIQ's
//!   r8-r12. Cortex-A9 banks these by mode only, not by security state, so
//!   the monitor reads them by switching modes with SCR.NS = 0.
//! - [`Cp15`]: the CP15 state a Non-secure guest can change; the banked
//!   registers are read and written from Monitor mode with SCR.NS = 1.
//! - [`Vfp`]: FPEXC, FPSCR and d0-d31, only for guests with `fpu = true`.
//! - Why each register is (or is not) here: `docs/world-switch.md`.
#![forbid(unsafe_code)]

use crate::{mode, GuestEntry, GUEST_ENTRY_SPSR};

/// The general registers of an interrupted guest (64 bytes, so that the
/// monitor stack stays 8-byte aligned).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrapFrame {
    pub r: [u32; 13],
    /// Where the guest resumes (LR_mon, adjusted for FIQ).
    pub pc: u32,
    /// The guest's CPSR (SPSR_mon).
    pub cpsr: u32,
    pub pad: u32,
}

/// SPSR, SP and LR of each Non-secure mode (in the order of a register
/// list: the assembly moves each mode's with one LDM/STM); System mode
/// stands for User (they share SP and LR, and neither has an SPSR).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Banked {
    /// SP, LR.
    pub usr: [u32; 2],
    /// SPSR, SP, LR (so are `abt`, `und`, `irq`).
    pub svc: [u32; 3],
    pub abt: [u32; 3],
    pub und: [u32; 3],
    pub irq: [u32; 3],
    /// SPSR, r8, r9, r10, r11, r12, SP, LR of FIQ mode.
    pub fiq: [u32; 8],
}

/// The Non-secure CP15 registers a guest owns, in the order the assembly
/// reads them. See `docs/world-switch.md` for the ones left out.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cp15 {
    pub sctlr: u32,
    /// Common to both worlds; the Non-secure world can change only its SMP
    /// bit (NSACR.NS_SMP), but a guest may, so it follows the guest.
    pub actlr: u32,
    /// Common to both worlds (CP10/CP11 access as the guest set it).
    pub cpacr: u32,
    pub ttbr0: u32,
    pub ttbr1: u32,
    pub ttbcr: u32,
    pub dacr: u32,
    pub dfsr: u32,
    pub ifsr: u32,
    pub dfar: u32,
    pub ifar: u32,
    pub par: u32,
    pub prrr: u32,
    pub nmrr: u32,
    pub vbar: u32,
    pub contextidr: u32,
    pub tpidrurw: u32,
    pub tpidruro: u32,
    pub tpidrprw: u32,
    pub csselr: u32,
}

impl Cp15 {
    /// The CP15 state a direct-mapped guest starts with: `self` (the
    /// Non-secure reset values) with TTBCR = 0 (TTBR0 walks all 4 GiB),
    /// TTBR0 = `ttbr0` (the guest's L1 table and walk attributes), domain 0
    /// client, and SCTLR with the MMU, caches and branch prediction on (TEX
    /// remap and the access flag off, the rest as at reset).
    pub const fn with_direct_map(self, ttbr0: u32) -> Self {
        Cp15 {
            sctlr: crate::vmsa::direct_map_sctlr(self.sctlr),
            ttbr0,
            ttbcr: 0,
            dacr: crate::vmsa::DACR_DOMAIN0_CLIENT,
            ..self
        }
    }
}

impl Cp15 {
    /// This state with CONTEXTIDR's ASID field (bits [7:0]) set to `asid`
    /// and its PROCID (bits [31:8]) kept: how the monitor gives a guest
    /// whose tables it keeps its own ASID at every switch in.
    pub const fn with_asid(self, asid: u8) -> Self {
        Cp15 {
            contextidr: (self.contextidr & !0xFF) | asid as u32,
            ..self
        }
    }
}

/// The guest's view of the GIC CPU interface that it can change: its
/// Group 1 enable (GICC_CTLR.EnableGrp1 in the Secure view), the priority
/// mask and its binary point (GICC_ABPR from the Secure side).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GicCpu {
    pub enable_group1: u32,
    pub pmr: u32,
    pub abpr: u32,
}

/// VFP/NEON state (VFPv3-D32 with NEON on Cortex-A9).
#[repr(C, align(8))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Vfp {
    pub fpexc: u32,
    pub fpscr: u32,
    pub d: [u64; 32],
}

/// Everything a guest leaves behind when it is switched out.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GuestContext {
    pub frame: TrapFrame,
    pub banked: Banked,
    pub cp15: Cp15,
    pub gic: GicCpu,
    pub vfp: Vfp,
}

/// Byte offsets the assembly uses.
pub mod offset {
    pub const FRAME_PC: usize = 13 * 4;
    pub const FRAME_CPSR: usize = 14 * 4;
    pub const FRAME_SIZE: usize = 16 * 4;
    pub const BANKED_SIZE: usize = 22 * 4;
    pub const CP15_SIZE: usize = 20 * 4;
    pub const VFP_D: usize = 8;
    pub const VFP_SIZE: usize = 8 + 32 * 8;
}

const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(offset_of!(TrapFrame, pc) == offset::FRAME_PC);
    assert!(offset_of!(TrapFrame, cpsr) == offset::FRAME_CPSR);
    assert!(size_of::<TrapFrame>() == offset::FRAME_SIZE);
    assert!(size_of::<Banked>() == offset::BANKED_SIZE);
    assert!(offset_of!(Banked, fiq) == 14 * 4);
    assert!(size_of::<Cp15>() == offset::CP15_SIZE);
    assert!(offset_of!(Cp15, csselr) == 19 * 4);
    assert!(offset_of!(Vfp, d) == offset::VFP_D);
    assert!(size_of::<Vfp>() == offset::VFP_SIZE);
};

impl GuestContext {
    /// All zero: the state of a guest before the monitor sets it up.
    pub const ZERO: GuestContext = GuestContext {
        frame: TrapFrame {
            r: [0; 13],
            pc: 0,
            cpsr: 0,
            pad: 0,
        },
        banked: Banked {
            usr: [0; 2],
            svc: [0; 3],
            abt: [0; 3],
            und: [0; 3],
            irq: [0; 3],
            fiq: [0; 8],
        },
        cp15: Cp15 {
            sctlr: 0,
            actlr: 0,
            cpacr: 0,
            ttbr0: 0,
            ttbr1: 0,
            ttbcr: 0,
            dacr: 0,
            dfsr: 0,
            ifsr: 0,
            dfar: 0,
            ifar: 0,
            par: 0,
            prrr: 0,
            nmrr: 0,
            vbar: 0,
            contextidr: 0,
            tpidrurw: 0,
            tpidruro: 0,
            tpidrprw: 0,
            csselr: 0,
        },
        gic: GicCpu {
            enable_group1: 0,
            pmr: 0,
            abpr: 0,
        },
        vfp: Vfp {
            fpexc: 0,
            fpscr: 0,
            d: [0; 32],
        },
    };

    /// A guest that has not run yet: it starts at its entry point in
    /// Non-secure SVC with the boot registers of [`GuestEntry`], every
    /// banked register zero, and the CP15 state `reset` (the Non-secure
    /// world's reset values, read once at boot).
    pub fn fresh(entry: GuestEntry, reset: Cp15, gic: GicCpu) -> Self {
        let mut r = [0; 13];
        r[1] = !0;
        r[2] = entry.boot_arg;
        GuestContext {
            frame: TrapFrame {
                r,
                pc: entry.entry,
                cpsr: GUEST_ENTRY_SPSR,
                pad: 0,
            },
            banked: Banked::default(),
            cp15: reset,
            gic,
            vfp: Vfp::default(),
        }
    }

    /// Whether the saved CPSR is a Non-secure PL0/PL1 mode a guest may be
    /// resumed in (never Monitor mode, never Thumb-less garbage modes).
    pub fn resumable(&self) -> bool {
        matches!(
            self.frame.cpsr & 0x1F,
            mode::USR | mode::FIQ | mode::IRQ | mode::SVC | mode::ABT | mode::UND | mode::SYS
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_the_assembly() {
        use core::mem::{align_of, offset_of, size_of};
        assert_eq!(size_of::<TrapFrame>(), 64);
        assert_eq!(offset_of!(Banked, svc), 8);
        assert_eq!(offset_of!(Banked, irq), 11 * 4);
        assert_eq!(offset_of!(Cp15, vbar), 14 * 4);
        assert_eq!(offset_of!(Cp15, tpidrprw), 18 * 4);
        assert_eq!(align_of::<Vfp>(), 8);
        assert_eq!(offset_of!(GuestContext, banked), 64);
        assert_eq!(offset_of!(GuestContext, cp15), 64 + 88);
        assert_eq!(offset_of!(GuestContext, vfp) % 8, 0);
    }

    #[test]
    fn a_fresh_guest_starts_like_the_first_entry() {
        let c = GuestContext::fresh(
            GuestEntry {
                entry: 0x7200_0000,
                boot_arg: 0x7300_0000,
            },
            Cp15 {
                sctlr: 0x00C5_0078,
                ..Cp15::default()
            },
            GicCpu::default(),
        );
        assert_eq!(c.frame.pc, 0x7200_0000);
        assert_eq!(c.frame.r[0], 0);
        assert_eq!(c.frame.r[1], !0);
        assert_eq!(c.frame.r[2], 0x7300_0000);
        assert_eq!(c.frame.cpsr, GUEST_ENTRY_SPSR);
        assert_eq!(c.cp15.sctlr, 0x00C5_0078);
        assert_eq!(c.banked, Banked::default());
        assert!(c.resumable());
        let monitor = GuestContext {
            frame: TrapFrame {
                cpsr: 0x1D6,
                ..c.frame
            },
            ..c
        };
        assert!(!monitor.resumable());
        assert_eq!(GuestContext::ZERO, GuestContext::default());
    }

    #[test]
    fn a_direct_mapped_guest_starts_with_its_mmu_on() {
        let reset = Cp15 {
            sctlr: 0x00C5_0078,
            ttbcr: 0x7,
            ttbr1: 0x1234_0000,
            vbar: 0x10,
            ..Cp15::default()
        };
        assert_eq!(
            Cp15 {
                contextidr: 0x1234_56FF,
                ..reset
            }
            .with_asid(7)
            .contextidr,
            0x1234_5607
        );
        let c = reset.with_direct_map(0x60F0_006A);
        assert_eq!(c.sctlr, 0x00C5_187D, "M, C, Z, I set");
        assert_eq!((c.ttbr0, c.ttbcr, c.dacr), (0x60F0_006A, 0, 1));
        assert_eq!(
            (c.ttbr1, c.vbar),
            (0x1234_0000, 0x10),
            "the rest as at reset"
        );
    }
}
