//! The messages the demo systems send over their channels
//! (docs/channels.md): plain data that any bit pattern makes valid
//! (`zerocopy::FromBytes`), so a reader needs no trust in its writer to
//! decode one.
#![no_std]

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// One sample of the control loop, sent every tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct Sample {
    /// The tick that took it, from 1.
    pub seq: u32,
    /// What the loop measured (the demo: a value derived from the tick).
    pub value: i32,
    /// The Cortex-A9 global timer when it was sent: every core reads the
    /// same counter, so a reader on another core can tell how long the
    /// sample took to reach it.
    pub sent: u64,
}
