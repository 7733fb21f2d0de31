//! Decoding of faults taken by the monitor itself (pure; host-tested).
//!
//! - A fault in the monitor is a bug: the report names the core, the mode,
//!   the faulting instruction, the fault address and the fault status (in
//!   the Arm manual's words), and only that core stops.
//! - Guests' own faults never come here: SCR.EA = 0 and the guests' own
//!   vector tables take them in the Non-secure world.
#![forbid(unsafe_code)]

use core::fmt;

/// Which vector a monitor fault came through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum FaultKind {
    Undefined = 1,
    PrefetchAbort = 3,
    DataAbort = 4,
}

impl FaultKind {
    pub fn from_raw(raw: u32) -> Option<Self> {
        match raw {
            1 => Some(Self::Undefined),
            3 => Some(Self::PrefetchAbort),
            4 => Some(Self::DataAbort),
            _ => None,
        }
    }

    /// The faulting instruction's address from the exception's LR (ARM
    /// state: LR is PC + 8 for a data abort, PC + 4 otherwise; Thumb
    /// undefined instructions: PC + 2).
    pub fn faulting_pc(self, lr: u32, spsr: u32) -> u32 {
        let thumb = spsr & (1 << 5) != 0;
        match self {
            Self::DataAbort => lr.wrapping_sub(8),
            Self::Undefined if thumb => lr.wrapping_sub(2),
            Self::Undefined | Self::PrefetchAbort => lr.wrapping_sub(4),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Undefined => "undefined instruction",
            Self::PrefetchAbort => "prefetch abort",
            Self::DataAbort => "data abort",
        }
    }
}

/// DFSR/IFSR fault status (short-descriptor format: FS[4] is bit 10).
pub fn status(fsr: u32) -> u32 {
    (fsr & 0xF) | ((fsr >> 6) & 0x10)
}

/// The Arm manual's name for a short-descriptor fault status.
pub fn status_name(fsr: u32) -> &'static str {
    match status(fsr) {
        0x01 => "alignment fault",
        0x02 => "debug event",
        0x03 | 0x06 => "access flag fault",
        0x04 => "instruction cache maintenance fault",
        0x05 | 0x07 => "translation fault",
        0x08 => "synchronous external abort",
        0x09 | 0x0B => "domain fault",
        0x0D | 0x0F => "permission fault",
        0x16 => "asynchronous external abort",
        _ => "other fault",
    }
}

/// Everything a monitor fault report says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MonitorFault {
    pub core: u32,
    /// Which vector; `None` for an SVC (semihosting without a host).
    pub kind: Option<FaultKind>,
    /// SPSR of the fault: the mode the monitor was in.
    pub spsr: u32,
    /// LR of the fault.
    pub lr: u32,
    pub dfar: u32,
    pub dfsr: u32,
    pub ifar: u32,
    pub ifsr: u32,
}

impl MonitorFault {
    /// The faulting instruction.
    pub fn pc(&self) -> u32 {
        self.kind.map_or(self.lr.wrapping_sub(4), |k| {
            k.faulting_pc(self.lr, self.spsr)
        })
    }

    /// The fault address and status that matter for this kind.
    pub fn address_and_status(&self) -> (&'static str, u32, &'static str, u32) {
        match self.kind {
            Some(FaultKind::DataAbort) => ("DFAR", self.dfar, "DFSR", self.dfsr),
            Some(FaultKind::PrefetchAbort) => ("IFAR", self.ifar, "IFSR", self.ifsr),
            _ => ("PC", self.pc(), "status", 0),
        }
    }
}

impl fmt::Display for MonitorFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = self.kind.map_or("SVC", |k| k.name());
        let (far_name, far, fsr_name, fsr) = self.address_and_status();
        write!(
            f,
            "mvm: monitor FAULT on core {}: {what} in {} mode at pc {:#010x}, {far_name} {far:#010x}, {fsr_name} {fsr:#x}",
            self.core,
            crate::mode::name(self.spsr),
            self.pc(),
        )?;
        if matches!(
            self.kind,
            Some(FaultKind::DataAbort | FaultKind::PrefetchAbort)
        ) {
            write!(f, " ({})", status_name(fsr))?;
        }
        write!(f, "; core {} parked", self.core)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_includes_bit_10() {
        assert_eq!(status(0x001), 1);
        assert_eq!(status(0x406), 0x16);
        assert_eq!(status_name(0x001), "alignment fault");
        assert_eq!(status_name(0x808), "synchronous external abort");
        assert_eq!(status_name(0x005), "translation fault");
    }

    #[test]
    fn faulting_pc_per_kind() {
        assert_eq!(
            FaultKind::DataAbort.faulting_pc(0x6000_0A64, 0x1D6),
            0x6000_0A5C
        );
        assert_eq!(FaultKind::PrefetchAbort.faulting_pc(0x104, 0x1D3), 0x100);
        assert_eq!(FaultKind::Undefined.faulting_pc(0x104, 0x1D3), 0x100);
        assert_eq!(FaultKind::Undefined.faulting_pc(0x102, 0x1F3), 0x100);
    }

    #[test]
    fn report_names_core_mode_address_and_status() {
        let fault = MonitorFault {
            core: 1,
            kind: Some(FaultKind::DataAbort),
            spsr: 0x1D6,
            lr: 0x6000_0A64,
            dfar: 0x6000_0001,
            dfsr: 0x1,
            ifar: 0,
            ifsr: 0,
        };
        assert_eq!(
            fault.to_string(),
            "mvm: monitor FAULT on core 1: data abort in mon mode at pc 0x60000a5c, \
             DFAR 0x60000001, DFSR 0x1 (alignment fault); core 1 parked"
        );
        let prefetch = MonitorFault {
            kind: Some(FaultKind::PrefetchAbort),
            lr: 0x104,
            ifar: 0x100,
            ifsr: 0x5,
            ..fault
        };
        assert!(prefetch
            .to_string()
            .contains("prefetch abort in mon mode at pc 0x00000100, IFAR 0x00000100, IFSR 0x5 (translation fault)"));
        let undef = MonitorFault {
            kind: Some(FaultKind::Undefined),
            spsr: 0x1D3,
            lr: 0x6000_0104,
            ..fault
        };
        assert!(undef.to_string().starts_with(
            "mvm: monitor FAULT on core 1: undefined instruction in svc mode at pc 0x60000100"
        ));
        let svc = MonitorFault {
            kind: None,
            ..undef
        };
        assert!(svc.to_string().contains("SVC in svc mode"));
    }

    #[test]
    fn kinds_round_trip() {
        for k in [
            FaultKind::Undefined,
            FaultKind::PrefetchAbort,
            FaultKind::DataAbort,
        ] {
            assert_eq!(FaultKind::from_raw(k as u32), Some(k));
        }
        assert_eq!(FaultKind::from_raw(0), None);
    }
}
