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

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use crate::config::{Channel, Guest, Paging};

/// Most channels a system may declare: the size of the monitor's
/// last-seen table.
pub const MAX_CHANNELS: usize = 64;

/// The doorbell values the monitor saw last, and whether each channel's
/// notification line is *armed*, by channel index.
///
/// A reader that owns its GIC configuration (`paging = "guest"`: Linux)
/// binds a handler to the line some time into its boot and enables the
/// line itself then. A line set pending before that is taken by its
/// interrupt loop with no handler, never ended, and stays active, which
/// keeps the running priority at the level of its own timer and UART lines:
/// it never gets another interrupt. So such a reader's line is armed only
/// once the monitor sees the reader has enabled it ([`Doorbells::arm_if`]),
/// and again only after that following a restart; until then the monitor
/// neither enables nor sets it pending (a ring rung meanwhile is drained by
/// the reader's program when it starts). Every other reader's line is armed
/// from boot: its runtime takes any line the monitor enables.
pub struct Doorbells {
    seen: [AtomicU32; MAX_CHANNELS],
    armed: [AtomicBool; MAX_CHANNELS],
}

/// Whether `reader`'s notification lines are armed before it enables them
/// itself.
pub fn armed_at_start(reader: &Guest) -> bool {
    reader.paging != Paging::Guest
}

impl Default for Doorbells {
    fn default() -> Self {
        Self::new()
    }
}

impl Doorbells {
    /// Every doorbell seen as 0: the value core 0 leaves in every channel
    /// at boot.
    pub const fn new() -> Self {
        Self {
            seen: [const { AtomicU32::new(0) }; MAX_CHANNELS],
            armed: [const { AtomicBool::new(false) }; MAX_CHANNELS],
        }
    }

    /// Arms or disarms every channel `reader` (a guest index) reads as at
    /// its start: at boot, and when it restarts.
    pub fn reset_reader(&self, channels: &[Channel], guests: &[Guest], reader: u32) {
        let Some(g) = guests.get(reader as usize) else {
            return;
        };
        for (c, armed) in channels.iter().zip(&self.armed) {
            if c.reader == reader {
                armed.store(armed_at_start(g), Ordering::Relaxed);
            }
        }
    }

    /// Whether channel `channel`'s line is armed.
    pub fn armed(&self, channel: usize) -> bool {
        self.armed
            .get(channel)
            .is_some_and(|a| a.load(Ordering::Relaxed))
    }

    /// Arms channel `channel` when `enabled` (its line found enabled in
    /// the distributor while the monitor had not enabled it: the reader
    /// did). Returns whether it is armed.
    pub fn arm_if(&self, channel: usize, enabled: bool) -> bool {
        let Some(armed) = self.armed.get(channel) else {
            return false;
        };
        if enabled {
            armed.store(true, Ordering::Relaxed);
        }
        armed.load(Ordering::Relaxed)
    }

    /// Polls, on core `core`, the doorbell of every notified channel whose
    /// reader runs there: `read(address)` reads the doorbell word at its
    /// physical address; `pend(line, reader)` is called for each armed channel
    /// whose doorbell changed since the last poll, which then counts as
    /// seen (an unarmed channel's change too, without a pend).
    /// Channels beyond [`MAX_CHANNELS`] are never polled (the monitor
    /// refuses such a system at boot).
    pub fn poll(
        &self,
        channels: &[Channel],
        guests: &[Guest],
        core: u32,
        mut read: impl FnMut(u32) -> u32,
        mut pend: impl FnMut(u32, u32),
    ) {
        for ((c, seen), armed) in channels.iter().zip(&self.seen).zip(&self.armed) {
            let Some(line) = c.notify else { continue };
            if guests.get(c.reader as usize).map(|g| g.core) != Some(core) {
                continue;
            }
            let now = read(c.base + Channel::DOORBELL_OFFSET);
            if seen.load(Ordering::Relaxed) != now {
                seen.store(now, Ordering::Relaxed);
                if armed.load(Ordering::Relaxed) {
                    pend(line, c.reader);
                }
            }
        }
    }

    /// What the monitor last saw of channel `channel`'s doorbell.
    pub fn seen(&self, channel: usize) -> Option<u32> {
        self.seen.get(channel).map(|s| s.load(Ordering::Relaxed))
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

    /// Doorbells as at boot for [`system`]'s readers (all shadow-paged:
    /// armed from the start).
    fn armed() -> Doorbells {
        let d = Doorbells::new();
        let (guests, channels) = system();
        for g in 0..guests.len() as u32 {
            d.reset_reader(&channels, &guests, g);
        }
        d
    }

    #[test]
    fn a_reader_that_owns_its_gic_is_notified_only_once_it_enabled_its_line() {
        let (mut guests, channels) = system();
        guests[1].paging = Paging::Guest;
        let d = Doorbells::new();
        for g in 0..guests.len() as u32 {
            d.reset_reader(&channels, &guests, g);
        }
        let mut memory = BTreeMap::new();
        memory.insert(0x9FF0_0000, 1);
        let mut pended = Vec::new();
        d.poll(
            &channels,
            &guests,
            1,
            |a| memory.get(&a).copied().unwrap_or(0),
            |l, _| pended.push(l),
        );
        assert!(
            pended.is_empty(),
            "not armed: the ring is seen, nothing pends"
        );
        assert_eq!(d.seen(0), Some(1));
        assert!(!d.arm_if(0, false), "its line is still off");
        assert!(d.arm_if(0, true), "the reader enabled it");
        memory.insert(0x9FF0_0000, 2);
        d.poll(
            &channels,
            &guests,
            1,
            |a| memory.get(&a).copied().unwrap_or(0),
            |l, _| pended.push(l),
        );
        assert_eq!(pended, [75]);
        // A restart disarms it again.
        d.reset_reader(&channels, &guests, 1);
        assert!(!d.armed(0));
        guests[1].paging = Paging::Shadow;
        d.reset_reader(&channels, &guests, 1);
        assert!(d.armed(0), "a reader of ours is armed from its start");
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
            |l, _| pended.push(l),
        );
        (read, pended)
    }

    #[test]
    fn a_changed_doorbell_pends_its_readers_line_once_on_the_readers_core() {
        let d = armed();
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
        let d = armed();
        let (guests, _) = system();
        let polled = [channel(0, 1, 0x9FF0_0000, None)];
        for channels in [&[][..], &polled[..]] {
            d.poll(
                channels,
                &guests,
                1,
                |_| panic!("no doorbell to read"),
                |_, _| panic!("no line to pend"),
            );
        }
    }
}
