//! The messages the demo guests send each other over channels.
//!
//! - Plain `#[repr(C)]` records with no padding: the same bytes on every
//!   side of a channel, whatever the guest's language or build.
//! - `zerocopy` derives prove each type may be read from any bytes and
//!   written as bytes, which is what the ring (`mvm-channel`) asks of a
//!   message.
#![no_std]

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// One measurement.
#[repr(C)]
#[derive(FromBytes, IntoBytes, Immutable, KnownLayout, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    /// Counts up from 0 with every sample the writer sends.
    pub seq: u32,
    /// The measured value.
    pub value: i32,
    /// The Cortex-A9 global timer's count when it was sent (the clock every
    /// core shares).
    pub sent: u64,
}

const _: () = assert!(core::mem::size_of::<Sample>() == 16);
const _: () = assert!(core::mem::align_of::<Sample>() == 8);
