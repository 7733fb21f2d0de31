//! A one-way SPSC ring of typed messages over a channel's shared memory.
//!
//! A channel is a region of physical memory mapped read-write for its one
//! writer partition and read-only for its one reader partition (and read by
//! the monitor, which polls the doorbell word). This crate is the protocol
//! both sides run over that region.
//!
//! - **One-way.** The reader cannot write the region, so the writer never
//!   reads anything back: a slow or dead reader can never delay a
//!   hard-real-time writer. The writer simply overwrites the oldest slot; the
//!   reader detects that it fell more than [`Reader::capacity`] behind and
//!   counts the lost messages.
//! - **The writer may be hostile.** It can write any value anywhere in the
//!   region at any time. The reader never panics, never indexes out of the
//!   region, does bounded work per call ([`MAX_SLOT_READS`] slot reads), and
//!   counts what it detects in [`Stats`]. Messages are `zerocopy::FromBytes`,
//!   so garbage bytes still make a valid (if meaningless) value.
//! - **Nothing about the geometry is read from memory.** Both sides derive
//!   the slot stride and count from the message type and the region size
//!   (see [`capacity`]), so a writer cannot make the reader index past the
//!   region by lying about the layout.
//! - **Every word of the region is accessed through `AtomicU32`** built from
//!   the raw pointer, never through a plain reference, since another address
//!   space changes the memory underneath us.
//! - **No platform code**: `core` atomics and fences only, so the same crate
//!   runs in a bare-metal partition and in a Linux user-space program.
//!
//! Why not `heapless::spsc::Queue`: it trusts its head and tail indices (a
//! hostile writer could make the consumer read out of bounds or spin), its
//! consumer writes the tail (impossible through a read-only mapping), and its
//! in-memory layout is a Rust type, not a documented ABI two programs built
//! separately can share.
//!
//! # Memory layout (an ABI)
//!
//! The monitor and Linux programs depend on this layout. All words are
//! little-endian `u32` and all are written only by the writer.
//!
//! | Offset | Constant | Contents |
//! |---|---|---|
//! | `0x00` | [`DOORBELL_OFFSET`] | Notification count: the writer adds 1 (wrapping) to ask for a notification; the monitor polls it. |
//! | `0x04` | [`PUBLISHED_OFFSET`] | Number of messages published so far (wrapping). |
//! | `0x08..0x40` | | Reserved, zero. |
//! | `0x40..` | [`SLOTS_OFFSET`] | The slots. |
//!
//! A slot is a sequence word followed by the message's bytes, padded with
//! zeros to a multiple of 4: `stride = 4 + round_up(size_of::<T>(), 4)`.
//! The slot count is the largest **power of two** not above
//! `(size - 0x40) / stride`, and at least 2. Message number `n` (counting
//! from 0, wrapping at 2^32) lives in slot `n % slots`.
//!
//! The power of two is what keeps `n % slots` continuous when the `u32`
//! counter wraps: with, say, 3 slots, message `2^32 - 1` and message `0` would
//! both land in slot 0, and a reader lagging at the wrap would lose a
//! message it could not account for. The price is up to half of the slot
//! area left unused; [`capacity`] says what a region size gives.
//!
//! # Protocol (a seqlock per slot)
//!
//! Writer, publishing message `n`: store `seq = !n` (being written); release
//! fence; store the payload words; release fence; store `seq = n`; store
//! `PUBLISHED = n + 1` (release). [`Writer::notify`] then bumps the doorbell.
//!
//! Reader, expecting message `next`: `avail = PUBLISHED - next` (wrapping).
//! Zero: nothing new. Above 2^31: `PUBLISHED` went backwards (a restarted or
//! hostile writer): an error, resynchronise to `PUBLISHED`. Above `slots`:
//! the writer lapped the reader; the oldest `avail - slots` messages are lost.
//! Otherwise read slot `next % slots`: sequence word, payload, acquire fence,
//! sequence word again. Both equal to `next`: the message is whole.
//! Otherwise, if `PUBLISHED` has since reached `next + slots` the writer is
//! overwriting the slot (the message is lost), else the slot is garbage (an
//! error) and is skipped.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::missing_safety_doc)]
#![deny(clippy::undocumented_unsafe_blocks)]

use core::fmt;
use core::marker::PhantomData;
use core::mem::size_of;
use core::sync::atomic::{fence, AtomicU32, Ordering};

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

#[cfg(test)]
mod tests;

/// Offset of the doorbell word, which the monitor polls.
pub const DOORBELL_OFFSET: usize = 0x00;
/// Offset of the count of messages published so far.
pub const PUBLISHED_OFFSET: usize = 0x04;
/// Offset of the first slot; the words between the header and here are
/// reserved and zero.
pub const SLOTS_OFFSET: usize = 0x40;
/// Slot reads one [`Reader::try_recv`] makes at most, so one call is
/// bounded even when a hostile writer has filled every slot with garbage.
pub const MAX_SLOT_READS: usize = 8;

/// Half the `u32` range: a distance above this between the published count
/// and the reader's position means the count went backwards.
const BACKWARDS: u32 = 1 << 31;

/// Why a region cannot hold a channel of a given message type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The message type has no bytes, so there is nothing to carry.
    ZeroSizedMessage,
    /// The region's base is not 4-byte aligned, so its words cannot be
    /// accessed atomically.
    Misaligned,
    /// The region holds fewer than 2 slots of this message type.
    TooSmall {
        /// The region size in bytes.
        size: usize,
        /// The smallest size that holds 2 slots.
        minimum: usize,
    },
    /// The region is 4 GiB or more, beyond the `u32` arithmetic of the
    /// protocol.
    TooLarge {
        /// The region size in bytes.
        size: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::ZeroSizedMessage => write!(f, "channel message type has size 0"),
            Error::Misaligned => write!(f, "channel region base is not 4-byte aligned"),
            Error::TooSmall { size, minimum } => write!(
                f,
                "channel region of {size:#x} bytes holds fewer than 2 slots (needs {minimum:#x} bytes)"
            ),
            Error::TooLarge { size } => {
                write!(f, "channel region of {size:#x} bytes is 4 GiB or more")
            }
        }
    }
}

/// Size in bytes of one slot for messages of type `T`: the sequence word and
/// the message padded to a multiple of 4.
pub const fn stride<T>() -> usize {
    4 + size_of::<T>().div_ceil(4) * 4
}

/// Number of slots (messages the ring holds) in a region of `size` bytes
/// for messages of type `T`: the largest power of two that fits.
///
/// ```
/// // 16-byte messages in 4 KiB: (4096 - 64) / 20 = 201 fit, 128 are used.
/// assert_eq!(mvm_channel::capacity::<[u32; 4]>(4096), Ok(128));
/// ```
pub const fn capacity<T>(size: usize) -> Result<usize, Error> {
    if size_of::<T>() == 0 {
        return Err(Error::ZeroSizedMessage);
    }
    if size > u32::MAX as usize {
        return Err(Error::TooLarge { size });
    }
    let minimum = SLOTS_OFFSET + 2 * stride::<T>();
    if size < minimum {
        return Err(Error::TooSmall { size, minimum });
    }
    let fit = (size - SLOTS_OFFSET) / stride::<T>();
    // `fit >= 2`, so the shift is in range.
    Ok(1 << (usize::BITS - 1 - fit.leading_zeros()))
}

/// The checked geometry shared by both ends.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    /// Slot count, a power of two, at least 2, below 2^30.
    slots: u32,
    /// Slot size in bytes, a multiple of 4.
    stride: usize,
}

impl Geometry {
    fn new<T>(base: usize, size: usize) -> Result<Self, Error> {
        let slots = capacity::<T>(size)?;
        if !base.is_multiple_of(4) {
            return Err(Error::Misaligned);
        }
        Ok(Self {
            // `capacity` bounds `size` to `u32`, and a slot is at least 8
            // bytes, so the count fits.
            slots: slots as u32,
            stride: stride::<T>(),
        })
    }

    /// Offset of the slot holding message `n`; the slot's words end within
    /// `SLOTS_OFFSET + slots * stride`, which `capacity` keeps within the
    /// region.
    fn slot_offset(self, n: u32) -> usize {
        SLOTS_OFFSET + (n & (self.slots - 1)) as usize * self.stride
    }
}

/// The region as raw parts, accessed only a word at a time through atomics.
#[derive(Clone, Copy, Debug)]
struct Region {
    base: *const u8,
    size: usize,
}

impl Region {
    /// The word at `offset`.
    ///
    /// Panics (a bug in this crate, not something a writer can cause) if the
    /// word is not inside the region or not aligned; every caller passes a
    /// header offset or an offset derived from [`Geometry::slot_offset`].
    fn word(&self, offset: usize) -> &AtomicU32 {
        assert!(offset.is_multiple_of(4) && offset + 4 <= self.size);
        // SAFETY: the constructors' callers vouch that `base..base + size`
        // stays mapped and is accessed by others only as words (their
        // `# Safety` contract); `base` is 4-byte aligned (checked by
        // `Geometry::new`) and the word is inside (asserted above). An atomic
        // load is fine on read-only memory for a lock-free size like `u32`
        // (see `core::sync::atomic`, "Atomic accesses to read-only memory").
        unsafe { AtomicU32::from_ptr(self.base.add(offset).cast::<u32>().cast_mut()) }
    }

    fn load(&self, offset: usize, order: Ordering) -> u32 {
        u32::from_le(self.word(offset).load(order))
    }
}

/// Message counters of a [`Reader`], which only grow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages returned to the caller.
    pub received: u64,
    /// Messages the writer overwrote before the reader got to them.
    pub lost: u64,
    /// Inconsistencies seen: a slot whose sequence word is not the expected
    /// one while the writer was not overwriting it, or a published count
    /// that went backwards. An honest writer causes none.
    pub errors: u64,
}

/// The writing end of a channel. It only ever stores to the region.
pub struct Writer<T> {
    region: Region,
    geometry: Geometry,
    /// Messages published so far (the number of the next one), wrapping.
    published: u32,
    /// Our copy of the doorbell word, so that ringing it is a store, not a
    /// read-modify-write of memory others observe.
    doorbell: u32,
    _message: PhantomData<fn(T) -> T>,
}

// SAFETY: a `Writer` is the sole owner of its role over a region that stays
// mapped (its constructor's contract); nothing in it is tied to a thread.
unsafe impl<T> Send for Writer<T> {}

impl<T: FromBytes + IntoBytes + Immutable + KnownLayout> Writer<T> {
    /// Takes the writing end of the region `base..base + size` and resets
    /// its header: doorbell and published count to 0, reserved words to 0.
    ///
    /// # Safety
    ///
    /// - `base..base + size` is mapped writable for the whole life of the
    ///   `Writer` and is not Rust-owned memory accessed through references.
    /// - There is one `Writer` per region at a time.
    /// - Every other party accesses the region only through this protocol
    ///   (a [`Reader`]), or is a hostile party the protocol tolerates, and
    ///   accesses it only as aligned 32-bit words.
    pub unsafe fn new(base: *mut u8, size: usize) -> Result<Self, Error> {
        let geometry = Geometry::new::<T>(base as usize, size)?;
        let writer = Self {
            region: Region { base, size },
            geometry,
            published: 0,
            doorbell: 0,
            _message: PhantomData,
        };
        for offset in (0..SLOTS_OFFSET).step_by(4) {
            writer.store(offset, 0, Ordering::Relaxed);
        }
        fence(Ordering::Release);
        Ok(writer)
    }

    /// A writer whose next message number is `published`, to test the
    /// wrap of the counters without sending 2^32 messages.
    #[cfg(test)]
    fn starting_at(mut self, published: u32) -> Self {
        self.published = published;
        self.store(PUBLISHED_OFFSET, published, Ordering::Release);
        self
    }

    fn store(&self, offset: usize, value: u32, order: Ordering) {
        self.region.word(offset).store(value.to_le(), order);
    }

    /// Publishes `message`, overwriting the oldest slot whether or not the
    /// reader has read it. Constant work: it never waits.
    pub fn send(&mut self, message: &T) {
        let n = self.published;
        let slot = self.geometry.slot_offset(n);
        // Release: a reader that sees `!n` also sees `PUBLISHED == n`, so it
        // can tell an overwrite in progress from garbage.
        self.store(slot, !n, Ordering::Release);
        fence(Ordering::Release);
        for (i, chunk) in message.as_bytes().chunks(4).enumerate() {
            let mut word = [0; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            // Raw bytes, not a number: stored as they are on any host.
            self.region
                .word(slot + 4 + 4 * i)
                .store(u32::from_ne_bytes(word), Ordering::Relaxed);
        }
        fence(Ordering::Release);
        self.store(slot, n, Ordering::Relaxed);
        self.published = n.wrapping_add(1);
        self.store(PUBLISHED_OFFSET, self.published, Ordering::Release);
    }

    /// Rings the doorbell: asks the monitor to notify the reader.
    pub fn notify(&mut self) {
        fence(Ordering::Release);
        self.doorbell = self.doorbell.wrapping_add(1);
        self.store(DOORBELL_OFFSET, self.doorbell, Ordering::Release);
    }

    /// Messages published so far (wrapping).
    pub fn published(&self) -> u32 {
        self.published
    }

    /// Messages the ring holds: a reader further behind loses messages.
    pub fn capacity(&self) -> usize {
        self.geometry.slots as usize
    }
}

/// The reading end of a channel. It never stores to the region.
pub struct Reader<T> {
    region: Region,
    geometry: Geometry,
    /// Number of the next message to read (wrapping).
    next: u32,
    stats: Stats,
    /// Slot reads of the last `try_recv`, for the tests of its bound.
    #[cfg(test)]
    last_reads: usize,
    /// Slots found being overwritten, for the tests of the race.
    #[cfg(test)]
    overwritten: u64,
    _message: PhantomData<fn() -> T>,
}

// SAFETY: a `Reader` only loads from a region that stays mapped (its
// constructor's contract); nothing in it is tied to a thread.
unsafe impl<T> Send for Reader<T> {}

impl<T: FromBytes + IntoBytes + Immutable + KnownLayout> Reader<T> {
    /// Takes the reading end of the region `base..base + size`, starting at
    /// message 0 (the writer's first after its construction).
    ///
    /// # Safety
    ///
    /// - `base..base + size` is mapped (read-only is enough) for the whole
    ///   life of the `Reader` and is not Rust-owned memory accessed through
    ///   references.
    /// - Every other party accesses the region only as aligned 32-bit words
    ///   (a [`Writer`], or a hostile writer the protocol tolerates).
    pub unsafe fn new(base: *const u8, size: usize) -> Result<Self, Error> {
        Ok(Self {
            region: Region { base, size },
            geometry: Geometry::new::<T>(base as usize, size)?,
            next: 0,
            stats: Stats::default(),
            #[cfg(test)]
            last_reads: 0,
            #[cfg(test)]
            overwritten: 0,
            _message: PhantomData,
        })
    }

    /// Like [`Reader::new`], but starting after the messages already
    /// published: for a reader joining a running writer.
    ///
    /// # Safety
    ///
    /// As for [`Reader::new`].
    pub unsafe fn from_now(base: *const u8, size: usize) -> Result<Self, Error> {
        // SAFETY: the caller upholds `new`'s contract, which is ours.
        let mut reader = unsafe { Self::new(base, size) }?;
        reader.next = reader.published();
        Ok(reader)
    }

    fn published(&self) -> u32 {
        self.region.load(PUBLISHED_OFFSET, Ordering::Acquire)
    }

    /// The next message, or `None` if there is none (or if
    /// [`MAX_SLOT_READS`] slots in a row were lost or garbage: call again).
    pub fn try_recv(&mut self) -> Option<T> {
        #[cfg(test)]
        {
            self.last_reads = 0;
        }
        let slots = self.geometry.slots;
        for _ in 0..MAX_SLOT_READS {
            let published = self.published();
            let avail = published.wrapping_sub(self.next);
            if avail == 0 {
                return None;
            }
            if avail > BACKWARDS {
                self.resync(published);
                return None;
            }
            if avail > slots {
                self.count_lost(avail - slots);
                self.next = published.wrapping_sub(slots);
            }
            #[cfg(test)]
            {
                self.last_reads += 1;
            }
            if let Some(message) = self.read_slot(self.next) {
                self.next = self.next.wrapping_add(1);
                self.stats.received = self.stats.received.saturating_add(1);
                return Some(message);
            }
            // Torn or stale. An honest writer tears a slot only while
            // writing a message `slots` or more ahead, and then (by the
            // release store of `!n` and the acquire loads of the sequence
            // word) `PUBLISHED` already shows it.
            let published = self.published();
            let ahead = published.wrapping_sub(self.next);
            if ahead > BACKWARDS {
                self.resync(published);
                return None;
            }
            if ahead >= slots {
                // Overwritten; any further loss is counted on the next pass.
                self.count_lost(1);
                #[cfg(test)]
                {
                    self.overwritten += 1;
                }
            } else {
                self.stats.errors = self.stats.errors.saturating_add(1);
            }
            self.next = self.next.wrapping_add(1);
        }
        None
    }

    /// Calls `f` with each message available now, at most
    /// [`Reader::capacity`] of them (so the call is bounded even against a
    /// writer that never stops), and returns how many.
    pub fn recv_all(&mut self, mut f: impl FnMut(T)) -> usize {
        let mut count = 0;
        while count < self.capacity() {
            let Some(message) = self.try_recv() else {
                break;
            };
            f(message);
            count += 1;
        }
        count
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Messages the ring holds: a reader further behind loses messages.
    pub fn capacity(&self) -> usize {
        self.geometry.slots as usize
    }

    /// The published count went backwards: count an error and start over
    /// from the writer's present.
    fn resync(&mut self, published: u32) {
        self.stats.errors = self.stats.errors.saturating_add(1);
        self.next = published;
    }

    fn count_lost(&mut self, messages: u32) {
        self.stats.lost = self.stats.lost.saturating_add(messages.into());
    }

    /// Message `n` from its slot if the slot holds it whole: the sequence
    /// word reads `n` before and after the payload is copied out.
    fn read_slot(&self, n: u32) -> Option<T> {
        let slot = self.geometry.slot_offset(n);
        if self.region.load(slot, Ordering::Acquire) != n {
            return None;
        }
        let mut message = T::new_zeroed();
        for (i, chunk) in message.as_mut_bytes().chunks_mut(4).enumerate() {
            let word = self.region.word(slot + 4 + 4 * i).load(Ordering::Relaxed);
            chunk.copy_from_slice(&word.to_ne_bytes()[..chunk.len()]);
        }
        // A payload word from a later write makes the second sequence load
        // see that write's `!m` or `m` (the seqlock argument).
        fence(Ordering::Acquire);
        (self.region.load(slot, Ordering::Acquire) == n).then_some(message)
    }
}
