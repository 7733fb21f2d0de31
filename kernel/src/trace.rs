//! A fixed-size trace of what a shared core's monitor decided: releases,
//! the guest it ran (on budget or in slack) or idleness, budget ends,
//! deadline misses, hypercalls, the notification lines it set pending, and
//! the lines pending as it switched their guest in.
//!
//! - No allocation: [`EVENTS`] events per core, in the core's own state;
//!   once full, further events are counted ([`Trace::dropped`]) and
//!   dropped, never waited for.
//! - Off unless the loader asked for it (`cargo mvm run --trace FILE`
//!   writes `MVM_TRACE`): the scheduling path then pays one branch.
//! - Releases, misses and budget ends are read off the scheduler's own
//!   counters after each decision ([`Trace::counters`]), so the trace
//!   shows exactly what the EDF state says happened.
//! - At the end of a bounded run each core prints its events as
//!   `mvm-trace` lines ([`write_event`]), which the tool turns into
//!   Chrome/Perfetto trace-event JSON.

use core::fmt;

/// Events each core keeps.
pub const EVENTS: usize = 2048;

/// What happened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kind {
    /// A job of server `server` was released.
    #[default]
    Release,
    /// Server `server` runs on its budget from here.
    Run,
    /// Server `server` runs in slack (idle time beyond its budget).
    Slack,
    /// Nothing runs until the next event.
    Idle,
    /// A job of `server` was stopped at the end of its budget.
    BudgetEnd,
    /// A job of `server` missed its deadline.
    Miss,
    /// `server`'s guest made hypercall `arg` (the function ID).
    Hypercall,
    /// A channel's doorbell rang: the monitor set line `arg`, `server`'s
    /// notification line, pending.
    Notify,
    /// Line `arg` of `server`'s guest was pending as the monitor switched
    /// the guest in and enabled it: the guest takes it as it resumes.
    /// (A line that comes while its guest runs reaches it without the
    /// monitor, which cannot record it.)
    Interrupt,
}

impl Kind {
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Release => "release",
            Kind::Run => "run",
            Kind::Slack => "slack",
            Kind::Idle => "idle",
            Kind::BudgetEnd => "budget-end",
            Kind::Miss => "miss",
            Kind::Hypercall => "hypercall",
            Kind::Notify => "notify",
            Kind::Interrupt => "interrupt",
        }
    }
}

/// One event, at `ns` since boot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Event {
    pub ns: u64,
    pub kind: Kind,
    /// The server (slot on its core); 0 where none applies.
    pub server: u16,
    pub arg: u32,
}

/// A core's events: all zero when empty, so that the monitor keeps one per
/// core in `.bss`, outside its image.
pub struct Ring {
    events: [Event; EVENTS],
    len: usize,
    /// Events that did not fit.
    pub dropped: u32,
}

impl Ring {
    pub const EMPTY: Self = Self {
        events: [Event {
            ns: 0,
            kind: Kind::Release,
            server: 0,
            arg: 0,
        }; EVENTS],
        len: 0,
        dropped: 0,
    };

    /// Records `e`, or counts it as dropped when the ring is full.
    #[inline]
    pub fn record(&mut self, e: Event) {
        match self.events.get_mut(self.len) {
            Some(slot) => {
                *slot = e;
                self.len += 1;
            }
            None => self.dropped = self.dropped.saturating_add(1),
        }
    }

    pub fn events(&self) -> &[Event] {
        &self.events[..self.len]
    }

    /// Forgets every event (after they were printed).
    pub fn clear(&mut self) {
        self.len = 0;
        self.dropped = 0;
    }
}

/// Whether a core traces, and the scheduler counters it last saw.
pub struct Trace<const S: usize> {
    /// Whether the loader asked for a trace.
    pub on: bool,
    seen: [[u64; 3]; S],
}

impl<const S: usize> Trace<S> {
    pub const EMPTY: Self = Self {
        on: false,
        seen: [[0; 3]; S],
    };

    /// Server `server`'s jobs, misses and overruns as the scheduler counts
    /// them at `ns`: one event into `ring` for each that the trace had not
    /// seen.
    pub fn counters(&mut self, ring: &mut Ring, ns: u64, server: usize, counts: [u64; 3]) {
        let Some(seen) = self.seen.get(server).copied() else {
            return;
        };
        for (i, kind) in [Kind::Release, Kind::Miss, Kind::BudgetEnd]
            .into_iter()
            .enumerate()
        {
            for _ in seen[i]..counts[i] {
                ring.record(Event {
                    ns,
                    kind,
                    server: server as u16,
                    arg: 0,
                });
            }
        }
        self.seen[server] = counts;
    }
}

/// `mvm-trace core=C ns=T ev=KIND server=I arg=A`: one line of the dump.
pub fn write_event(w: &mut impl fmt::Write, core: u32, e: &Event) -> fmt::Result {
    writeln!(
        w,
        "mvm-trace core={core} ns={} ev={} server={} arg={:#x}",
        e.ns,
        e.kind.name(),
        e.server,
        e.arg
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_become_events_once_and_a_full_trace_counts_what_it_drops() {
        let mut t: Trace<2> = Trace::EMPTY;
        let mut ring: Box<Ring> = Box::new(Ring::EMPTY);
        t.counters(&mut ring, 10, 0, [1, 0, 0]);
        t.counters(&mut ring, 20, 0, [1, 0, 0]);
        t.counters(&mut ring, 30, 1, [2, 1, 1]);
        let kinds: Vec<(u64, Kind, u16)> = ring
            .events()
            .iter()
            .map(|e| (e.ns, e.kind, e.server))
            .collect();
        assert_eq!(
            kinds,
            [
                (10, Kind::Release, 0),
                (30, Kind::Release, 1),
                (30, Kind::Release, 1),
                (30, Kind::Miss, 1),
                (30, Kind::BudgetEnd, 1)
            ]
        );
        // A server the trace has no room for is ignored, not a panic.
        t.counters(&mut ring, 40, 7, [9, 9, 9]);
        for _ in 0..EVENTS {
            ring.record(Event::default());
        }
        assert_eq!(ring.events().len(), EVENTS);
        assert_eq!(ring.dropped, 5);
        let mut line = String::new();
        write_event(
            &mut line,
            1,
            &Event {
                ns: 5,
                kind: Kind::Hypercall,
                server: 1,
                arg: 0x8600_0001,
            },
        )
        .unwrap();
        assert_eq!(
            line,
            "mvm-trace core=1 ns=5 ev=hypercall server=1 arg=0x86000001\n"
        );
    }
}
