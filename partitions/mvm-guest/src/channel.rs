//! This guest's ends of its channels (docs/channels.md).
//!
//! - The description declares every channel (`[[channel]]`); the build
//!   places its memory and gives each guest the list of its ends
//!   ([`ENDS`], generated from the description: `MVM_GUEST_CHANNELS`).
//! - The monitor maps each end at its physical address (a direct map, a
//!   shadow-paged guest's boot space, or none for a guest running with its
//!   MMU off), read-write for the writer and read-only for the reader, as
//!   shared non-cacheable memory.
//! - [`End::writer`] and [`End::reader`] hand out the ring
//!   (`mvm_channel`) over it, once per end: the ring's safety rests on a
//!   single writer.
//! - A notified reader's end has a line ([`End::irq`]): a Group 1 SPI the
//!   monitor sets pending when the writer rang the doorbell
//!   ([`Writer::notify`]); it comes through [`crate::irq`] like a device's
//!   line.

use core::sync::atomic::{AtomicU64, Ordering};

pub use mvm_channel::{capacity, Error, Reader, Stats, Writer};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// One end of a channel this guest is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct End {
    /// The channel's name in the description.
    pub name: &'static str,
    /// Its memory: physical, and virtual (identity-mapped).
    pub base: usize,
    pub size: usize,
    /// This guest is the channel's writer.
    pub writable: bool,
    /// A notified reader's line (its GIC interrupt ID).
    pub irq: Option<u32>,
    /// The guest at the other end.
    pub peer: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/channels.rs"));

/// The ends handed out, by index in [`ENDS`].
static TAKEN: AtomicU64 = AtomicU64::new(0);

/// Why an end's ring is not handed out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TakeError {
    /// A writer asked of a reader's end, or a reader of a writer's.
    WrongEnd,
    /// Handed out before.
    Taken,
    /// The ring does not fit the channel (a message too large).
    Ring(Error),
}

/// This guest's end of channel `name`.
pub fn end(name: &str) -> Option<&'static End> {
    ENDS.iter().find(|e| e.name == name)
}

impl End {
    /// Marks this end taken; `Err` if it was.
    fn take(&self) -> Result<(), TakeError> {
        let index = ENDS
            .iter()
            .position(|e| e.name == self.name)
            .filter(|&i| i < 64)
            .ok_or(TakeError::Taken)?;
        let bit = 1u64 << index;
        if TAKEN.fetch_or(bit, Ordering::AcqRel) & bit != 0 {
            return Err(TakeError::Taken);
        }
        Ok(())
    }

    /// The ring's writer over this end, once.
    pub fn writer<T>(&self) -> Result<Writer<T>, TakeError>
    where
        T: FromBytes + IntoBytes + Immutable + KnownLayout,
    {
        if !self.writable {
            return Err(TakeError::WrongEnd);
        }
        mvm_channel::capacity::<T>(self.size).map_err(TakeError::Ring)?;
        self.take()?;
        // SAFETY: the monitor maps the channel's memory read-write at its
        // physical address for this guest alone, for as long as the guest
        // runs; `take` makes this the only writer.
        unsafe { Writer::new(self.base as *mut u8, self.size) }.map_err(TakeError::Ring)
    }

    /// The ring's reader over this end, once, from the first message.
    pub fn reader<T>(&self) -> Result<Reader<T>, TakeError>
    where
        T: FromBytes + IntoBytes + Immutable + KnownLayout,
    {
        if self.writable {
            return Err(TakeError::WrongEnd);
        }
        mvm_channel::capacity::<T>(self.size).map_err(TakeError::Ring)?;
        self.take()?;
        // SAFETY: the monitor maps the channel's memory (read-only) at its
        // physical address for as long as the guest runs; the writer is
        // another guest, which the reader treats as hostile.
        unsafe { Reader::new(self.base as *const u8, self.size) }.map_err(TakeError::Ring)
    }
}
