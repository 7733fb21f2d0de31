//! Channel notifications: which doorbells a shared core polls, and which
//! readers' lines it sets pending (pure; docs/channels.md).
//!
//! - A channel's writer asks for a notification by incrementing the
//!   doorbell, the channel's first word; nothing traps that store. The
//!   monitor on the **reader's** core compares the doorbell with the value
//!   it saw last at every scheduling event of that core and sets the
//!   reader's line pending when it changed: no monitor entry on any other
//!   core, none on an HRT core (an HRT reader polls; the build refuses
//!   `notify` for it), and no inter-processor interrupt.
//! - The latency that buys: a ring is noticed at the reader core's next
//!   scheduling event, so within the longest gap between two of them (the
//!   reader's own period bounds how long it waits to run anyway).
//! - Any change counts, not only an increase: the doorbell wraps, and a
//!   writer that rings twice between two polls gets one notification
//!   (the reader drains the ring, not the count).
//! - The last-seen values are one `AtomicU32` per channel, written only by
//!   the reader's core (relaxed: no other core reads them), so no
//!   allocation and no lock; both views start at 0 because core 0 zeroes
//!   every channel's memory before any guest runs.
#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicU32, Ordering};

use crate::config::{Channel, Guest};

/// Most channels a system may declare: the size of the monitor's
/// last-seen table.
pub const MAX_CHANNELS: usize = 64;

/// The doorbell values the monitor saw last, by channel index.
pub struct Doorbells([AtomicU32; MAX_CHANNELS]);

impl Default for Doorbells {
    fn default() -> Self {
        Self::new()
    }
}

impl Doorbells {
    /// Every doorbell seen as 0: the value core 0 leaves in every channel
    /// at boot.
    pub const fn new() -> Self {
        Self([const { AtomicU32::new(0) }; MAX_CHANNELS])
    }

    /// Polls, on core `core`, the doorbell of every notified channel whose
    /// reader runs there: `read(address)` reads the doorbell word at its
    /// physical address; `pend(line)` is called for each channel whose
    /// doorbell changed since the last poll, which then counts as seen.
    /// Channels beyond [`MAX_CHANNELS`] are never polled (the monitor
    /// refuses such a system at boot).
    pub fn poll(
        &self,
        channels: &[Channel],
        guests: &[Guest],
        core: u32,
        mut read: impl FnMut(u32) -> u32,
        mut pend: impl FnMut(u32),
    ) {
        for (c, seen) in channels.iter().zip(&self.0) {
            let Some(line) = c.notify else { continue };
            if guests.get(c.reader as usize).map(|g| g.core) != Some(core) {
                continue;
            }
            let now = read(c.base + Channel::DOORBELL_OFFSET);
            if seen.load(Ordering::Relaxed) != now {
                seen.store(now, Ordering::Relaxed);
                pend(line);
            }
        }
    }

    /// What the monitor last saw of channel `channel`'s doorbell.
    pub fn seen(&self, channel: usize) -> Option<u32> {
        self.0.get(channel).map(|s| s.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Health, Image, Level, Paging};
    use std::collections::BTreeMap;

    fn guest(id: u32, core: u32) -> Guest {
        Guest {
            id,
            name: "g",
            level: Level::Srt,
            core,
            paging: Paging::Shadow,
            regions: &[],
            channels: &[],
            devices: &[],
            image: Image {
                load: 0,
                entry: 0,
                bytes: &[],
                boot_arg: 0,
                in_place: &[],
            },
            server: None,
            fpu: false,
            translation: None,
            shadow: None,
            health: Health::STOP,
        }
    }

    fn channel(writer: u32, reader: u32, base: u32, notify: Option<u32>) -> Channel {
        Channel {
            name: "c",
            writer,
            reader,
            base,
            size: 0x1000,
            notify,
        }
    }

    /// Guests 0 (core 0), 1 and 2 (core 1). Channels: 0 → 1 notified on
    /// line 75, 2 → 1 notified on 76, 1 → 2 polled, 1 → 0 notified on 77.
    fn system() -> ([Guest; 3], [Channel; 4]) {
        (
            [guest(0, 0), guest(1, 1), guest(2, 1)],
            [
                channel(0, 1, 0x9FF0_0000, Some(75)),
                channel(2, 1, 0x9FF0_1000, Some(76)),
                channel(1, 2, 0x9FF0_2000, None),
                channel(1, 0, 0x9FF0_3000, Some(77)),
            ],
        )
    }

    fn poll(d: &Doorbells, core: u32, memory: &BTreeMap<u32, u32>) -> (Vec<u32>, Vec<u32>) {
        let (guests, channels) = system();
        let mut read = Vec::new();
        let mut pended = Vec::new();
        d.poll(
            &channels,
            &guests,
            core,
            |a| {
                read.push(a);
                memory.get(&a).copied().unwrap_or(0)
            },
            |l| pended.push(l),
        );
        (read, pended)
    }

    #[test]
    fn a_changed_doorbell_pends_its_readers_line_once_on_the_readers_core() {
        let d = Doorbells::new();
        let mut memory = BTreeMap::new();
        // Nothing rung: the reader's core reads its two notified
        // doorbells, pends nothing; the polled channel is never read.
        assert_eq!(
            poll(&d, 1, &memory),
            (vec![0x9FF0_0000, 0x9FF0_1000], vec![])
        );
        memory.insert(0x9FF0_0000, 1);
        memory.insert(0x9FF0_2000, 5);
        // Core 0 reads only its own reader's doorbell.
        assert_eq!(poll(&d, 0, &memory), (vec![0x9FF0_3000], vec![]));
        assert_eq!(poll(&d, 1, &memory).1, [75]);
        assert_eq!(d.seen(0), Some(1));
        assert_eq!(poll(&d, 1, &memory).1, [] as [u32; 0], "seen: once");
        // Two rings between polls: one notification; a wrapped doorbell
        // still counts as a change.
        memory.insert(0x9FF0_0000, 3);
        memory.insert(0x9FF0_1000, u32::MAX);
        assert_eq!(poll(&d, 1, &memory).1, [75, 76]);
        memory.insert(0x9FF0_1000, 0);
        assert_eq!(poll(&d, 1, &memory).1, [76]);
        memory.insert(0x9FF0_3000, 9);
        assert_eq!(poll(&d, 0, &memory).1, [77]);
        assert_eq!(poll(&d, 1, &memory).1, [] as [u32; 0]);
        assert_eq!(d.seen(2), Some(0), "a polled channel is never looked at");
        assert_eq!(d.seen(MAX_CHANNELS), None);
    }

    #[test]
    fn a_system_without_notified_channels_reads_nothing() {
        let d = Doorbells::new();
        let (guests, _) = system();
        let polled = [channel(0, 1, 0x9FF0_0000, None)];
        for channels in [&[][..], &polled[..]] {
            d.poll(
                channels,
                &guests,
                1,
                |_| panic!("no doorbell to read"),
                |_| panic!("no line to pend"),
            );
        }
    }
}
