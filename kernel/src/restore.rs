//! Restoring a guest whose images the board's loader placed (a Linux
//! guest's kernel and initrd) as a job in slices: what comes next, and
//! when a slice must end (docs/health.md, "Linux guests").
//!
//! Clearing 128 MiB and hashing 7 MiB take about half a second: far too
//! long to hold a shared core. So the restore is a job its server runs
//! instead of its guest: when EDF picks the restoring server, the monitor
//! does steps of it until the next step would pass the end of the
//! server's slice, then schedules again. The steps, in order: every region
//! of the guest zeroed ([`ZERO_CHUNK`] at a time), then every in-place
//! image copied from its pristine copy and hashed where it landed
//! ([`COPY_CHUNK`] at a time), each checked against its SHA-256 when it is
//! all in. The monitor's Arm shell carries the steps out; this is pure.
#![forbid(unsafe_code)]

use sha2::{Digest, Sha256};

use crate::config::Guest;

/// Bytes zeroed in one step: about 25 µs on QEMU (100 000 instructions a
/// MiB).
pub const ZERO_CHUNK: u32 = 256 << 10;
/// Bytes copied and hashed in one step: about 0.3 ms with the compact
/// SHA-256 (70 instructions a byte).
pub const COPY_CHUNK: u32 = 4 << 10;

/// One step of a restore.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Zero physical `[base, base + len)`: part of one of the guest's
    /// regions.
    Zero { base: u32, len: u32 },
    /// Copy `len` bytes from the pristine copy at physical `from` to
    /// physical `to` in the guest's memory, then hash them there
    /// ([`Job::absorb`]): what is checked is what the guest will run.
    Copy { from: u32, to: u32, len: u32 },
    /// In-place image `index` is all copied and hashed: [`Job::check`] it.
    Check { index: usize },
    /// Memory cleared, every image copied and checked.
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Clear,
    Copy,
    Done,
}

/// A restore in progress.
#[derive(Clone, Debug)]
pub struct Job {
    phase: Phase,
    /// The region (clearing) or in-place image (copying) being worked on.
    item: usize,
    /// Bytes of it done.
    offset: u32,
    hasher: Sha256,
    /// How long the latest whole step of each phase (clearing, copying)
    /// took, in global-timer ticks: a slice ends when less than this is
    /// left of it.
    estimate: [u64; 2],
    /// The most an estimate counts for: a quarter of the server's budget.
    /// A step measured too long (on QEMU, another core's turn in the
    /// round-robin of its one thread counts on the clock) would otherwise
    /// keep every later slice from starting a step, and the job would
    /// never end.
    cap: u64,
    /// Global-timer ticks spent clearing, copying and hashing.
    pub spent: [u64; 3],
}

impl Job {
    /// A job whose steps' estimates count for at most `cap` ticks (a
    /// quarter of its server's budget; `u64::MAX` on a core of its own).
    pub fn new(cap: u64) -> Self {
        Self {
            phase: Phase::Clear,
            item: 0,
            offset: 0,
            hasher: Sha256::new(),
            estimate: [0; 2],
            cap,
            spent: [0; 3],
        }
    }

    /// The next step for `guest`, and moves past it.
    pub fn next(&mut self, guest: &Guest) -> Step {
        loop {
            match self.phase {
                Phase::Clear => {
                    let Some(r) = guest.regions.get(self.item) else {
                        (self.phase, self.item, self.offset) = (Phase::Copy, 0, 0);
                        continue;
                    };
                    if self.offset >= r.size {
                        (self.item, self.offset) = (self.item + 1, 0);
                        continue;
                    }
                    let len = ZERO_CHUNK.min(r.size - self.offset);
                    let base = r.base + self.offset;
                    self.offset += len;
                    return Step::Zero { base, len };
                }
                Phase::Copy => {
                    let Some(p) = guest.image.in_place.get(self.item) else {
                        self.phase = Phase::Done;
                        continue;
                    };
                    if self.offset >= p.size {
                        let index = self.item;
                        (self.item, self.offset) = (self.item + 1, 0);
                        return Step::Check { index };
                    }
                    // `check_image` proved it lies in the guest's memory.
                    let to = guest.physical(p.base, p.size).unwrap_or(p.base);
                    let len = COPY_CHUNK.min(p.size - self.offset);
                    let step = Step::Copy {
                        from: p.pristine + self.offset,
                        to: to + self.offset,
                        len,
                    };
                    self.offset += len;
                    return step;
                }
                Phase::Done => return Step::Done,
            }
        }
    }

    /// Bytes of the image being copied, as they landed in the guest.
    pub fn absorb(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
    }

    /// Whether in-place image `index`, all absorbed, is the one the build
    /// made; the hash starts over for the next.
    pub fn check(&mut self, guest: &Guest, index: usize) -> bool {
        let digest: [u8; 32] = self.hasher.finalize_reset().into();
        guest
            .image
            .in_place
            .get(index)
            .is_some_and(|p| p.sha256 == digest)
    }

    /// Whether the next step fits between `now` and the slice's end
    /// `until` (global-timer ticks), judged by the latest whole step of
    /// its phase (at most `cap`).
    pub fn room(&self, now: u64, until: u64) -> bool {
        let estimate = match self.phase {
            Phase::Clear => self.estimate[0],
            Phase::Copy => self.estimate[1],
            Phase::Done => 0,
        };
        now.saturating_add(estimate.min(self.cap)) < until
    }

    /// A step of `kind` (0 clearing, 1 copying, 2 hashing) took `ticks`.
    pub fn took(&mut self, kind: usize, ticks: u64) {
        self.spent[kind] += ticks;
    }

    /// `step` took `ticks` in all (a copy's copy and hash): the estimate
    /// of its phase when it was a whole chunk (the last of a region or
    /// image may be shorter).
    pub fn stepped(&mut self, step: Step, ticks: u64) {
        match step {
            Step::Zero {
                len: ZERO_CHUNK, ..
            } => self.estimate[0] = ticks,
            Step::Copy {
                len: COPY_CHUNK, ..
            } => self.estimate[1] = ticks,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Health, Image, InPlace, Level, Paging, Region};

    fn guest(regions: &'static [Region], in_place: &'static [InPlace]) -> Guest {
        Guest {
            id: 0,
            name: "linux",
            level: Level::Srt,
            core: 1,
            paging: Paging::Guest,
            regions,
            channels: &[],
            devices: &[],
            image: Image {
                load: 0x6800_0000,
                entry: 0x6800_0000,
                bytes: &[],
                boot_arg: 0,
                in_place,
            },
            server: None,
            fpu: true,
            translation: None,
            shadow: None,
            health: Health::STOP,
        }
    }

    fn region(base: u32, size: u32) -> Region {
        Region {
            base,
            guest_base: base,
            size,
        }
    }

    #[test]
    fn it_clears_every_region_in_chunks_then_copies_and_checks_each_image() {
        let regions: &'static [Region] = Box::leak(Box::new([
            region(0x6800_0000, 0x8_0000),
            region(0x7000_0000, 0x1000),
        ]));
        let kernel = b"kernel bytes, more than one chunk?";
        let in_place: &'static [InPlace] = Box::leak(Box::new([
            InPlace {
                what: "kernel",
                base: 0x6800_1000,
                size: COPY_CHUNK + 10,
                sha256: [1; 32],
                pristine: 0x6020_0000,
            },
            InPlace {
                what: "initrd",
                base: 0x6804_0000,
                size: kernel.len() as u32,
                sha256: crate::plan::sha256(kernel),
                pristine: 0x6020_3000,
            },
        ]));
        let g = guest(regions, in_place);
        let mut job = Job::new(u64::MAX);
        let steps: Vec<Step> = core::iter::from_fn(|| match job.next(&g) {
            Step::Done => None,
            s => Some(s),
        })
        .collect();
        assert_eq!(
            steps,
            [
                Step::Zero {
                    base: 0x6800_0000,
                    len: ZERO_CHUNK
                },
                Step::Zero {
                    base: 0x6804_0000,
                    len: ZERO_CHUNK
                },
                Step::Zero {
                    base: 0x7000_0000,
                    len: 0x1000
                },
                Step::Copy {
                    from: 0x6020_0000,
                    to: 0x6800_1000,
                    len: COPY_CHUNK
                },
                Step::Copy {
                    from: 0x6020_0000 + COPY_CHUNK,
                    to: 0x6800_1000 + COPY_CHUNK,
                    len: 10
                },
                Step::Check { index: 0 },
                Step::Copy {
                    from: 0x6020_3000,
                    to: 0x6804_0000,
                    len: kernel.len() as u32
                },
                Step::Check { index: 1 },
            ]
        );
        assert_eq!(job.next(&g), Step::Done, "and stays done");
    }

    #[test]
    fn a_check_compares_what_was_absorbed_and_starts_over() {
        let regions: &'static [Region] = Box::leak(Box::new([region(0x6800_0000, 0x1000)]));
        let in_place: &'static [InPlace] = Box::leak(Box::new([
            InPlace {
                what: "kernel",
                base: 0x6800_0000,
                size: 6,
                sha256: crate::plan::sha256(b"kernel"),
                pristine: 0x6020_0000,
            },
            InPlace {
                what: "initrd",
                base: 0x6800_0100,
                size: 6,
                sha256: crate::plan::sha256(b"initrd"),
                pristine: 0x6020_1000,
            },
        ]));
        let g = guest(regions, in_place);
        let mut job = Job::new(u64::MAX);
        job.absorb(b"ker");
        job.absorb(b"nel");
        assert!(job.check(&g, 0));
        job.absorb(b"initrX");
        assert!(!job.check(&g, 1), "one byte differs");
        job.absorb(b"initrd");
        assert!(job.check(&g, 1), "the hash started over");
    }

    #[test]
    fn a_slice_ends_when_the_latest_whole_step_of_the_phase_no_longer_fits() {
        let regions: &'static [Region] = Box::leak(Box::new([region(0x6800_0000, 0x10_0000)]));
        let in_place: &'static [InPlace] = Box::leak(Box::new([InPlace {
            what: "kernel",
            base: 0x6800_0000,
            size: 2 * COPY_CHUNK,
            sha256: [0; 32],
            pristine: 0x6020_0000,
        }]));
        let g = guest(regions, in_place);
        let mut job = Job::new(1000);
        assert!(job.room(100, 101), "nothing measured yet");
        assert!(!job.room(101, 101));
        let zero = job.next(&g);
        job.stepped(zero, 30);
        assert!(job.room(100, 131));
        assert!(!job.room(100, 130));
        job.stepped(zero, 20);
        assert!(
            job.room(100, 121),
            "the latest step counts, not the longest"
        );
        job.stepped(
            Step::Zero {
                base: 0x6800_0000,
                len: 0x1000,
            },
            1,
        );
        assert!(!job.room(100, 120), "a short last chunk does not count");
        for _ in 0..3 {
            job.next(&g);
        }
        let copy = job.next(&g);
        assert!(job.room(100, 101), "copying: nothing measured yet");
        job.stepped(copy, 5000);
        assert!(
            job.room(100, 1101),
            "a step measured too long counts for the cap, so the job goes on"
        );
        job.took(2, 7);
        job.took(2, 5);
        assert_eq!(job.spent, [0, 0, 12]);
    }
}
