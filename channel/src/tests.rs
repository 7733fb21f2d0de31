//! Host tests: the geometry, the ABI layout, the counters' wrap, overruns,
//! a model-based property, a hostile writer, and two threads racing.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::vec::Vec;

use proptest::prelude::*;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use super::*;

/// A region in host memory, made of atomics so that the tests' own
/// (hostile) accesses are word accesses too.
struct Memory {
    words: Vec<AtomicU32>,
}

impl Memory {
    fn new(size: usize) -> Self {
        Self {
            words: (0..size.div_ceil(4)).map(|_| AtomicU32::new(0)).collect(),
        }
    }

    fn base(&self) -> *mut u8 {
        self.words.as_ptr().cast_mut().cast()
    }

    fn size(&self) -> usize {
        self.words.len() * 4
    }

    /// The word at byte `offset`, as the other side sees it (little-endian).
    fn word(&self, offset: usize) -> u32 {
        u32::from_le(self.words[offset / 4].load(Ordering::Relaxed))
    }

    fn writer<T: FromBytes + IntoBytes + Immutable + KnownLayout>(&self) -> Writer<T> {
        // SAFETY: `self` outlives every test's channel ends and is accessed
        // only as atomic words.
        unsafe { Writer::new(self.base(), self.size()) }.expect("test region fits")
    }

    fn reader<T: FromBytes + IntoBytes + Immutable + KnownLayout>(&self) -> Reader<T> {
        // SAFETY: as for `writer`.
        unsafe { Reader::new(self.base(), self.size()) }.expect("test region fits")
    }

    fn reader_from_now<T: FromBytes + IntoBytes + Immutable + KnownLayout>(&self) -> Reader<T> {
        // SAFETY: as for `writer`.
        unsafe { Reader::from_now(self.base(), self.size()) }.expect("test region fits")
    }
}

/// A 12-byte message whose words all derive from its number.
fn message12(n: u32) -> [u32; 3] {
    [n, !n, n.wrapping_mul(0x9E37_79B9)]
}

/// A 5-byte message: a size that is not a multiple of the word.
fn message5(n: u32) -> [u8; 5] {
    let b = n.to_le_bytes();
    [b[0], b[1], b[2], b[3], b[0] ^ 0x5A]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
struct Sample {
    channel: u16,
    flags: u16,
    value: i32,
    time: u64,
}

#[test]
fn geometry() {
    assert_eq!(stride::<u8>(), 8);
    assert_eq!(stride::<[u8; 5]>(), 12);
    assert_eq!(stride::<[u32; 4]>(), 20);
    // (4096 - 64) / 20 = 201 slots fit; the power of two below is used.
    assert_eq!(capacity::<[u32; 4]>(4096), Ok(128));
    assert_eq!(capacity::<[u32; 4]>(0x40 + 256 * 20), Ok(256));
    assert_eq!(capacity::<[u32; 4]>(0x40 + 256 * 20 - 1), Ok(128));
    assert_eq!(capacity::<[u32; 1]>(1 << 20), Ok(1 << 16));
    assert_eq!(capacity::<u8>(0x40 + 16), Ok(2));
    assert_eq!(
        capacity::<u8>(0x40 + 15),
        Err(Error::TooSmall {
            size: 0x4F,
            minimum: 0x50
        })
    );
    assert_eq!(capacity::<()>(4096), Err(Error::ZeroSizedMessage));
    assert_eq!(
        capacity::<u8>(1 << 32),
        Err(Error::TooLarge { size: 1 << 32 })
    );

    let memory = Memory::new(4096 + 4);
    // SAFETY: inside `memory`, which outlives the attempt.
    let misaligned = unsafe { memory.base().add(2) };
    // SAFETY: as above; the constructor fails before any access.
    let writer = unsafe { Writer::<u32>::new(misaligned, 4096) };
    assert!(matches!(writer, Err(Error::Misaligned)));
    // SAFETY: as above.
    let reader = unsafe { Reader::<u32>::new(misaligned, 4096) };
    assert!(matches!(reader, Err(Error::Misaligned)));
    // SAFETY: as above.
    let zero_sized = unsafe { Reader::<()>::new(memory.base(), 4096) };
    assert!(matches!(zero_sized, Err(Error::ZeroSizedMessage)));
}

/// The bytes in memory are the documented ABI.
#[test]
fn layout() {
    let memory = Memory::new(0x40 + 4 * 12);
    for i in 0..memory.words.len() {
        memory.words[i].store(0xFFFF_FFFF, Ordering::Relaxed);
    }
    let mut writer = memory.writer::<[u8; 5]>();
    assert_eq!(writer.capacity(), 4);
    for offset in (0..SLOTS_OFFSET).step_by(4) {
        assert_eq!(memory.word(offset), 0, "header word {offset:#x} reset");
    }
    writer.send(&[1, 2, 3, 4, 5]);
    writer.send(&[6, 7, 8, 9, 10]);
    writer.notify();
    assert_eq!(memory.word(DOORBELL_OFFSET), 1);
    assert_eq!(memory.word(PUBLISHED_OFFSET), 2);
    assert_eq!(memory.word(SLOTS_OFFSET), 0);
    assert_eq!(memory.word(SLOTS_OFFSET + 4), 0x0403_0201);
    // The message's tail is padded with zeros.
    assert_eq!(memory.word(SLOTS_OFFSET + 8), 0x0000_0005);
    assert_eq!(memory.word(SLOTS_OFFSET + 12), 1);
    assert_eq!(memory.word(SLOTS_OFFSET + 16), 0x0908_0706);
    writer.notify();
    assert_eq!(memory.word(DOORBELL_OFFSET), 2);
}

#[test]
fn round_trip() {
    let memory = Memory::new(4096);
    let mut writer = memory.writer::<Sample>();
    let mut reader = memory.reader::<Sample>();
    assert_eq!(reader.try_recv(), None);
    let sample = Sample {
        channel: 3,
        flags: 0x8001,
        value: -42,
        time: 0x0123_4567_89AB_CDEF,
    };
    writer.send(&sample);
    assert_eq!(writer.published(), 1);
    assert_eq!(reader.try_recv(), Some(sample));
    assert_eq!(reader.try_recv(), None);
    for n in 0..10 {
        writer.send(&Sample { time: n, ..sample });
    }
    let mut times = Vec::new();
    assert_eq!(reader.recv_all(|s| times.push(s.time)), 10);
    assert_eq!(times, (0..10).collect::<Vec<_>>());
    assert_eq!(
        reader.stats(),
        Stats {
            received: 11,
            lost: 0,
            errors: 0
        }
    );
}

#[test]
fn counters_wrap() {
    let memory = Memory::new(0x40 + 4 * 16);
    let start = u32::MAX - 5;
    let mut writer = memory.writer::<[u32; 3]>().starting_at(start);
    let mut reader = memory.reader_from_now::<[u32; 3]>();
    assert_eq!(reader.capacity(), 4);
    let mut n = start;
    // In steps of 3 through the wrap: never more than the capacity behind.
    for _ in 0..6 {
        for k in 0..3 {
            writer.send(&message12(n.wrapping_add(k)));
        }
        for _ in 0..3 {
            assert_eq!(reader.try_recv(), Some(message12(n)));
            n = n.wrapping_add(1);
        }
        assert_eq!(reader.try_recv(), None);
    }
    assert_eq!(writer.published(), start.wrapping_add(18));
    assert_eq!(reader.stats().received, 18);
    assert_eq!(reader.stats().lost, 0);
    assert_eq!(reader.stats().errors, 0);
}

#[test]
fn overrun_counts_the_lost_and_keeps_the_newest() {
    for start in [0, u32::MAX - 3] {
        let memory = Memory::new(0x40 + 8 * 16);
        let mut writer = memory.writer::<[u32; 3]>().starting_at(start);
        let mut reader = memory.reader_from_now::<[u32; 3]>();
        let slots = reader.capacity() as u32;
        assert_eq!(slots, 8);
        for k in 0..slots + 7 {
            writer.send(&message12(start.wrapping_add(k)));
        }
        for k in 7..slots + 7 {
            assert_eq!(reader.try_recv(), Some(message12(start.wrapping_add(k))));
            assert_eq!(reader.stats().lost, 7);
        }
        assert_eq!(reader.try_recv(), None);
        assert_eq!(
            reader.stats(),
            Stats {
                received: slots.into(),
                lost: 7,
                errors: 0
            }
        );
    }
}

/// A writer that restarts (its count goes back to 0) is an error once, and
/// the reader follows it from there.
#[test]
fn restarted_writer() {
    let memory = Memory::new(4096);
    let mut writer = memory.writer::<u32>();
    let mut reader = memory.reader::<u32>();
    for n in 0..5 {
        writer.send(&n);
    }
    assert_eq!(reader.recv_all(|_| {}), 5);
    let mut writer = memory.writer::<u32>();
    assert_eq!(reader.try_recv(), None);
    assert_eq!(reader.stats().errors, 1);
    writer.send(&100);
    assert_eq!(reader.try_recv(), Some(100));
}

/// A slot whose sequence word is wrong while the writer is not lapping it
/// is skipped as an error; the next one is still read.
#[test]
fn garbage_slot_is_skipped() {
    let memory = Memory::new(0x40 + 4 * 16);
    let mut writer = memory.writer::<[u32; 3]>();
    let mut reader = memory.reader::<[u32; 3]>();
    writer.send(&message12(0));
    writer.send(&message12(1));
    memory.words[SLOTS_OFFSET / 4].store(77, Ordering::Relaxed);
    assert_eq!(reader.try_recv(), Some(message12(1)));
    assert_eq!(reader.stats().errors, 1);
    assert_eq!(reader.stats().received, 1);
}

#[derive(Clone, Debug)]
enum Op {
    Send(u32),
    Receive(u32),
    ReceiveAll,
    /// Overwrite the word with this index (modulo the region's words).
    Corrupt(usize, u32),
}

fn model_ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        (0..40u32).prop_map(Op::Send),
        (0..40u32).prop_map(Op::Receive),
        Just(Op::ReceiveAll),
    ];
    proptest::collection::vec(op, 0..40)
}

fn start_count() -> impl Strategy<Value = u32> {
    prop_oneof![Just(0), (u32::MAX - 100)..=u32::MAX, any::<u32>()]
}

/// Runs `ops` against a channel and against a queue that keeps the newest
/// `capacity` messages; both must agree on every result and counter.
fn check_against_model<T>(size: usize, start: u32, ops: &[Op], make: fn(u32) -> T)
where
    T: FromBytes + IntoBytes + Immutable + KnownLayout + PartialEq + core::fmt::Debug,
{
    let memory = Memory::new(size);
    let mut writer = memory.writer::<T>().starting_at(start);
    let mut reader = memory.reader_from_now::<T>();
    let capacity = reader.capacity();
    assert_eq!(Ok(capacity), super::capacity::<T>(memory.size()));
    let mut queue = VecDeque::new();
    let mut overwritten = 0u64;
    let mut expected = Stats::default();
    let mut next = start;
    let receive =
        |queue: &mut VecDeque<u32>, overwritten: &mut u64, expected: &mut Stats, got: Option<T>| {
            match queue.pop_front() {
                None => assert_eq!(got, None),
                Some(n) => {
                    expected.lost += core::mem::take(overwritten);
                    expected.received += 1;
                    assert_eq!(got, Some(make(n)), "message {n}");
                }
            }
        };
    for op in ops {
        match *op {
            Op::Send(k) => {
                for _ in 0..k {
                    writer.send(&make(next));
                    queue.push_back(next);
                    if queue.len() > capacity {
                        queue.pop_front();
                        overwritten += 1;
                    }
                    next = next.wrapping_add(1);
                }
            }
            Op::Receive(j) => {
                for _ in 0..j {
                    let got = reader.try_recv();
                    receive(&mut queue, &mut overwritten, &mut expected, got);
                    assert_eq!(reader.stats(), expected);
                }
            }
            Op::ReceiveAll => {
                let mut got = Vec::new();
                let count = reader.recv_all(|m| got.push(m));
                assert_eq!(count, got.len());
                assert_eq!(count, queue.len());
                for m in got {
                    receive(&mut queue, &mut overwritten, &mut expected, Some(m));
                }
                assert_eq!(reader.stats(), expected);
                assert_eq!(reader.try_recv(), None);
            }
            Op::Corrupt(..) => unreachable!("the model has an honest writer"),
        }
    }
    assert_eq!(writer.published(), next);
}

proptest! {
    #[test]
    fn matches_model_12_byte(
        slots in 2usize..70,
        extra in 0usize..16,
        start in start_count(),
        ops in model_ops(),
    ) {
        check_against_model(0x40 + slots * 16 + extra * 4, start, &ops, message12);
    }

    #[test]
    fn matches_model_5_byte(
        slots in 2usize..70,
        extra in 0usize..12,
        start in start_count(),
        ops in model_ops(),
    ) {
        check_against_model(0x40 + slots * 12 + extra * 4, start, &ops, message5);
    }

    /// Garbage written anywhere, any time: no panic, a bounded number of
    /// slot reads per call, counters that only grow, and any message read
    /// from a slot nobody corrupted since it was written is the one sent.
    #[test]
    fn hostile_writer(
        slots in 2usize..40,
        ops in proptest::collection::vec(
            prop_oneof![
                (0..50u32).prop_map(Op::Send),
                (0..50u32).prop_map(Op::Receive),
                Just(Op::ReceiveAll),
                (any::<usize>(), any::<u32>()).prop_map(|(i, v)| Op::Corrupt(i, v)),
                // Small values and near-misses of the counters are the
                // interesting garbage for sequence and published words.
                (any::<usize>(), 0..200u32).prop_map(|(i, v)| Op::Corrupt(i, v)),
            ],
            0..60,
        ),
    ) {
        let memory = Memory::new(0x40 + slots * 16);
        let mut writer = memory.writer::<[u32; 3]>();
        let mut reader = memory.reader::<[u32; 3]>();
        let capacity = reader.capacity() as u64;
        let stride = stride::<[u32; 3]>();
        // Per slot: the writer's count when it was last corrupted.
        let mut corrupted = std::vec![None::<u64>; capacity as usize];
        let mut sent = 0u64;
        let mut stats = reader.stats();
        let check = |reader: &Reader<[u32; 3]>,
                     stats: &mut Stats,
                     sent: u64,
                     corrupted: &[Option<u64>],
                     got: Option<[u32; 3]>|
         -> Result<(), TestCaseError> {
            prop_assert!(reader.last_reads <= MAX_SLOT_READS);
            let now = reader.stats();
            prop_assert!(now.received >= stats.received);
            prop_assert!(now.lost >= stats.lost);
            prop_assert!(now.errors >= stats.errors);
            prop_assert_eq!(now.received - stats.received, u64::from(got.is_some()));
            *stats = now;
            if let Some(message) = got {
                let n = u64::from(reader.next.wrapping_sub(1));
                let slot = (n % capacity) as usize;
                let live = n < sent && n + capacity >= sent;
                let clean = corrupted[slot].is_none_or(|at| at <= n);
                if live && clean {
                    prop_assert_eq!(message, message12(n as u32));
                }
            }
            Ok(())
        };
        for op in &ops {
            match *op {
                Op::Send(k) => {
                    for _ in 0..k {
                        writer.send(&message12(sent as u32));
                        sent += 1;
                    }
                }
                Op::Receive(j) => {
                    for _ in 0..j {
                        let got = reader.try_recv();
                        check(&reader, &mut stats, sent, &corrupted, got)?;
                    }
                }
                Op::ReceiveAll => {
                    let mut got = Vec::new();
                    reader.recv_all(|m| got.push(m));
                    prop_assert!(got.len() <= reader.capacity());
                    let now = reader.stats();
                    prop_assert_eq!(now.received - stats.received, got.len() as u64);
                    prop_assert!(now.lost >= stats.lost && now.errors >= stats.errors);
                    stats = now;
                }
                Op::Corrupt(index, value) => {
                    let index = index % memory.words.len();
                    memory.words[index].store(value, Ordering::Relaxed);
                    let offset = index * 4;
                    if offset >= SLOTS_OFFSET {
                        let slot = (offset - SLOTS_OFFSET) / stride;
                        if let Some(at) = corrupted.get_mut(slot) {
                            *at = Some(sent);
                        }
                    }
                }
            }
        }
    }
}

/// A 16-byte message all of whose words derive from its number, so that a
/// torn one is recognisable.
fn message16(n: u32) -> [u32; 4] {
    [n, !n, n.wrapping_mul(3), n ^ 0xDEAD_BEEF]
}

/// A writer and a reader on two threads: no torn message is ever accepted,
/// messages arrive in order, and every published message is either
/// received or counted lost.
fn race(size: usize, messages: u32) -> (Stats, u64) {
    let memory = Memory::new(size);
    let mut writer = memory.writer::<[u32; 4]>();
    let mut reader = memory.reader::<[u32; 4]>();
    let done = AtomicBool::new(false);
    let ready = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            // Start together, or the writer is done before the reader runs.
            while !ready.load(Ordering::Acquire) {
                std::hint::spin_loop();
            }
            for n in 0..messages {
                writer.send(&message16(n));
                // Paced a little, so that the reader keeps up sometimes
                // and the two really overlap even in a release build.
                for _ in 0..n % 32 {
                    std::hint::spin_loop();
                }
                if n % 64 == 0 {
                    writer.notify();
                }
            }
            done.store(true, Ordering::Release);
        });
        ready.store(true, Ordering::Release);
        let mut last = None::<u32>;
        let mut check = |message: [u32; 4]| {
            let n = message[0];
            assert_eq!(message, message16(n), "torn message accepted");
            assert!(last.is_none_or(|last| n > last), "{n} after {last:?}");
            last = Some(n);
        };
        loop {
            let finished = done.load(Ordering::Acquire);
            while let Some(message) = reader.try_recv() {
                check(message);
            }
            if finished {
                break;
            }
        }
        assert_eq!(last, Some(messages - 1), "the last message is read");
    });
    let stats = reader.stats();
    assert_eq!(stats.received + stats.lost, u64::from(messages));
    assert_eq!(stats.errors, 0, "an honest writer causes no errors");
    (stats, reader.overwritten)
}

#[test]
fn two_threads() {
    let (stats, overwritten) = race(4096, 1_000_000);
    std::println!("128 slots: {stats:?}, {overwritten} caught being overwritten");
}

/// The smallest ring: the writer is nearly always overwriting the slot
/// the reader is reading, so tears are frequent.
#[test]
fn two_threads_two_slots() {
    let (stats, overwritten) = race(0x40 + 2 * 20, 300_000);
    std::println!("2 slots: {stats:?}, {overwritten} caught being overwritten");
}

#[test]
fn the_monitor_polls_the_doorbell_where_the_writer_rings_it() {
    assert_eq!(
        mvm_kernel::config::Channel::DOORBELL_OFFSET as usize,
        crate::DOORBELL_OFFSET,
        "the ring's layout and the monitor's poll (kernel/src/channels.rs) name the same word"
    );
}
