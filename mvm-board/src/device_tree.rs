//! How a board's devices are described to a Linux guest in a device tree.
//!
//! - A fragment per device, written once beside the device in the board's
//!   catalogue: its binding's compatible strings, the clocks it takes and
//!   the few properties its Linux driver needs. `reg` and `interrupts` are
//!   not repeated here: they come from the catalogue's [`Device::regs`] and
//!   [`Device::interrupts`], so the two cannot disagree.
//! - Clocks are fixed-rate: a guest cannot reach the board's clock
//!   controller (the monitor keeps it), so every clock is described at the
//!   rate the boot loader left it at, and nothing may change it.
//! - Nodes a device points at that have no registers of their own (a fixed
//!   regulator, a PHY with nothing to program) are [`Provider`]s, written
//!   once per tree however many devices refer to them.
//! - `mvm-config`'s `dtb` module assembles the tree; this module only
//!   holds the data.
//!
//! [`Device::regs`]: crate::Device::regs
//! [`Device::interrupts`]: crate::Device::interrupts

use crate::PhysRange;

/// A clock whose rate nobody changes: an oscillator, or a divider the boot
/// loader set. Written as a `fixed-clock` node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedClock {
    /// Its `clock-output-names`; the node is `clock-<name>`, so only
    /// letters, digits and `,._+-` may be used. Unique on a board.
    pub name: &'static str,
    /// Its `clock-frequency`, in hertz.
    pub hz: u32,
}

/// One clock a device takes: an entry of its `clocks` and `clock-names`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockInput {
    /// The name the device's binding gives this input (`clock-names`).
    pub name: &'static str,
    pub clock: &'static FixedClock,
}

/// A property's value, in the encodings the Devicetree Specification
/// names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// A property that is there or not (`gpio-controller;`).
    Empty,
    U32(u32),
    String(&'static str),
    /// A reference to a provider node, by its phandle.
    Reference(&'static Provider),
}

/// A property beyond `compatible`, `reg`, `interrupts` and `clocks`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Property {
    pub name: &'static str,
    pub value: Value,
}

impl Property {
    pub const fn empty(name: &'static str) -> Self {
        Self {
            name,
            value: Value::Empty,
        }
    }

    pub const fn u32(name: &'static str, value: u32) -> Self {
        Self {
            name,
            value: Value::U32(value),
        }
    }

    pub const fn string(name: &'static str, value: &'static str) -> Self {
        Self {
            name,
            value: Value::String(value),
        }
    }

    pub const fn reference(name: &'static str, provider: &'static Provider) -> Self {
        Self {
            name,
            value: Value::Reference(provider),
        }
    }
}

/// A node without registers that a device's properties refer to (a fixed
/// regulator, a PHY with nothing to program); a child of the root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Provider {
    /// The node's name, unique on a board.
    pub name: &'static str,
    pub compatible: &'static [&'static str],
    /// Its properties; they may not refer to other providers.
    pub properties: &'static [Property],
}

/// How one catalogue device appears in a Linux guest's device tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Node {
    /// The generic node name (`serial`, `timer`, `mmc`...); the node is
    /// `<name>@<register base>`.
    pub name: &'static str,
    /// The binding's compatible strings, most specific first.
    pub compatible: &'static [&'static str],
    /// Its clocks, in the order of its binding's `clock-names`.
    pub clocks: &'static [ClockInput],
    /// Whatever else its driver needs.
    pub properties: &'static [Property],
}

/// What a device tree says about the processor: the CPU and the interrupt
/// controller every device's interrupts go to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Processor {
    /// The cpu nodes' `compatible`.
    pub cpu_compatible: &'static str,
    /// The GIC's `compatible`.
    pub gic_compatible: &'static [&'static str],
    /// The GIC distributor's registers.
    pub gic_distributor: PhysRange,
    /// The GIC CPU interface's registers.
    pub gic_cpu_interface: PhysRange,
}
