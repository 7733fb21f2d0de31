//! EDF over periodic servers on one core: the policy, with no hardware.
//!
//! - Pure and host-tested: the monitor calls [`Edf::schedule`] at every
//!   event on a shared core and programs its timer for [`Decision::until`];
//!   nothing here reads a clock or touches a register.
//! - Each SRT guest is a periodic server: every `period` a job with
//!   `budget` ns is released, due `deadline` ns later. The job with the
//!   earliest absolute deadline and budget left runs (ties: the lower guest
//!   index), until its budget is spent, it yields, or a release preempts it.
//! - Budget is enforced: a job that used its budget stops until its next
//!   release (counted as an overrun stopped, unless it yielded).
//! - A job that still wanted to run when its deadline came is a miss; its
//!   leftover budget is dropped, so a late server cannot push others late.
//! - Idle time (no job with budget) goes round-robin, in slices of at most
//!   [`SLACK_SLICE_NS`], to servers with `slack = true` that have not
//!   yielded it; never while any job has budget left.
//! - Fixed capacity `N` (the most servers on one core), no allocation.
#![forbid(unsafe_code)]

/// The longest slice of idle time given to one slack server before the
/// next one gets a turn.
pub const SLACK_SLICE_NS: u64 = 1_000_000;

/// A server's parameters, in nanoseconds (validated at build time:
/// `0 < budget <= deadline <= period`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    pub period: u64,
    pub budget: u64,
    pub deadline: u64,
    pub slack: bool,
}

/// What a server received and missed, since boot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Jobs released.
    pub jobs: u64,
    /// Jobs that wanted to run but had not received their budget by their
    /// deadline.
    pub misses: u64,
    /// Budget time received.
    pub used_ns: u64,
    /// Idle time received beyond the budget.
    pub slack_ns: u64,
    /// Jobs stopped by budget enforcement while they still wanted to run.
    pub overruns: u64,
}

/// How the running server runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// On its job's budget.
    Budget,
    /// In idle time beyond its budget.
    Slack,
}

/// What the core does until the next scheduling event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The server to run (its index), and how; `None`: the core waits.
    pub run: Option<(usize, Mode)>,
    /// The absolute time of the next event: the timer is set for it.
    pub until: u64,
}

/// A server's state that the decision reads at every event, kept compact
/// (the statistics live apart, in [`Edf::stats`]).
#[derive(Clone, Copy, Debug)]
struct Server {
    /// The earliest time at which [`Edf::release`] has work for this
    /// server: its next release, or its current job's deadline if that is
    /// not judged yet (`u64::MAX` once halted).
    due: u64,
    /// The server's next event as the decision sees it: its next release,
    /// or its job's deadline if earlier, unjudged and with budget left
    /// (`u64::MAX` once halted).
    event: u64,
    /// Absolute deadline of the current job.
    deadline: u64,
    /// Budget left of the current job.
    left: u64,
    /// When the next job is released.
    next_release: u64,
    params: Params,
    /// The current job gave up its budget (or the server its slack).
    yielded: bool,
    /// The current job's deadline has been checked for a miss.
    judged: bool,
    halted: bool,
}

impl Default for Server {
    fn default() -> Self {
        Server::IDLE
    }
}

impl Server {
    /// Recomputes `due` and `event` after `judged`, `left`, `deadline`,
    /// `next_release` or `halted` changed.
    #[inline(always)]
    fn refresh(&mut self) {
        if self.halted {
            self.due = u64::MAX;
            self.event = u64::MAX;
        } else {
            self.refresh_live();
        }
    }

    /// [`Server::refresh`] for a server that is not halted.
    #[inline(always)]
    fn refresh_live(&mut self) {
        if self.judged {
            self.due = self.next_release;
            self.event = self.next_release;
        } else {
            let first = self.deadline.min(self.next_release);
            self.due = first;
            self.event = if self.left > 0 {
                first
            } else {
                self.next_release
            };
        }
    }
}

/// EDF over at most `N` servers.
#[derive(Clone, Debug)]
pub struct Edf<const N: usize> {
    servers: [Server; N],
    stats: [Stats; N],
    len: usize,
    /// What runs since `since`.
    running: Option<(usize, Mode)>,
    since: u64,
    /// Where the next round-robin search for a slack server starts.
    slack_next: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            period: 1,
            budget: 0,
            deadline: 1,
            slack: false,
        }
    }
}

impl Server {
    const IDLE: Self = Server {
        due: u64::MAX,
        event: u64::MAX,
        deadline: 0,
        left: 0,
        next_release: 0,
        params: Params {
            period: 1,
            budget: 0,
            deadline: 1,
            slack: false,
        },
        yielded: false,
        judged: true,
        halted: false,
    };
}

impl Stats {
    const ZERO: Self = Stats {
        jobs: 0,
        misses: 0,
        used_ns: 0,
        slack_ns: 0,
        overruns: 0,
    };
}

impl<const N: usize> Edf<N> {
    /// No server: what a core that is not shared holds.
    pub const EMPTY: Self = Edf {
        servers: [Server::IDLE; N],
        stats: [Stats::ZERO; N],
        len: 0,
        running: None,
        since: 0,
        slack_next: 0,
    };

    /// Servers released together at `now` (the synchronous release that the
    /// build-time analysis assumed). Panics if more than `N` are given,
    /// which the generated tables rule out at compile time.
    pub fn new(params: &[Params], now: u64) -> Self {
        assert!(params.len() <= N, "more servers than the core's capacity");
        let mut servers = [Server::default(); N];
        for (s, p) in servers.iter_mut().zip(params) {
            *s = Server {
                params: *p,
                next_release: now,
                judged: true,
                ..Server::default()
            };
        }
        let mut edf = Edf {
            servers,
            stats: [Stats::default(); N],
            len: params.len(),
            running: None,
            since: now,
            slack_next: 0,
        };
        for (s, st) in edf.servers[..edf.len].iter_mut().zip(&mut edf.stats) {
            Self::release(s, st, now);
        }
        edf
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn stats(&self, server: usize) -> Stats {
        self.stats[server]
    }

    /// A server's figures as of `now`: as [`Edf::stats`], plus the time the
    /// running server has had since the last event (not yet accounted).
    pub fn stats_at(&self, server: usize, now: u64) -> Stats {
        let mut stats = self.stats[server];
        if let Some((i, mode)) = self.running {
            if i == server {
                let elapsed = now.saturating_sub(self.since);
                match mode {
                    Mode::Budget => stats.used_ns += elapsed.min(self.servers[i].left),
                    Mode::Slack => stats.slack_ns += elapsed,
                }
            }
        }
        stats
    }

    /// A server's parameters.
    pub fn params(&self, server: usize) -> Params {
        self.servers[server].params
    }

    /// When the server's latest job was released (releases handled so
    /// far; the next one is a period later).
    pub fn job_release(&self, server: usize) -> u64 {
        let s = &self.servers[server];
        s.next_release - s.params.period
    }

    /// The server running now, if any.
    pub fn running(&self) -> Option<(usize, Mode)> {
        self.running
    }

    /// The running server gives up the rest of its job's budget (or, in
    /// slack, its turn at idle time until its next release).
    pub fn yield_running(&mut self, now: u64) {
        self.account(now);
        if let Some((i, _)) = self.running {
            let s = &mut self.servers[i];
            s.yielded = true;
            s.left = 0;
            s.refresh();
        }
    }

    /// The running server stops for good.
    pub fn halt_running(&mut self, now: u64) {
        self.account(now);
        if let Some((i, _)) = self.running {
            let s = &mut self.servers[i];
            s.halted = true;
            s.left = 0;
            s.refresh();
        }
    }

    /// Charges the running server for the time since the last event.
    #[inline(always)]
    fn account(&mut self, now: u64) {
        let elapsed = now.saturating_sub(self.since);
        self.since = now;
        let Some((i, mode)) = self.running else {
            return;
        };
        match mode {
            Mode::Budget => {
                let s = &mut self.servers[i];
                let st = &mut self.stats[i];
                let used = elapsed.min(s.left);
                s.left -= used;
                st.used_ns += used;
                // Count the stop once, when the budget runs out.
                if used > 0 && s.left == 0 {
                    if !s.yielded {
                        st.overruns += 1;
                    }
                    // Without budget left only the next release is an
                    // event (`due` does not depend on the budget).
                    if !s.halted {
                        s.event = s.next_release;
                    }
                }
            }
            Mode::Slack => self.stats[i].slack_ns += elapsed,
        }
    }

    /// Judges a deadline that has come and releases a job that is due.
    #[inline(always)]
    fn release(s: &mut Server, st: &mut Stats, now: u64) {
        if !s.judged && s.deadline <= now {
            s.judged = true;
            if s.left > 0 && !s.yielded {
                st.misses += 1;
            }
            s.left = 0;
        }
        if s.next_release <= now {
            // A late event may have skipped whole periods: the jobs in
            // between were released and missed.
            let late = now - s.next_release;
            // The common case without a 64-bit divide (Cortex-A9 has no
            // divide instruction).
            let behind = if late < s.params.period {
                0
            } else {
                late / s.params.period
            };
            if !s.judged && s.left > 0 && !s.yielded {
                st.misses += 1;
            }
            st.jobs += 1 + behind;
            st.misses += behind;
            let release = s.next_release + behind * s.params.period;
            s.next_release = release + s.params.period;
            s.deadline = release + s.params.deadline;
            s.left = s.params.budget;
            s.yielded = false;
            s.judged = s.deadline <= now;
        }
        s.refresh_live();
    }

    /// Decides what runs from `now` on: call it at every event (the timer,
    /// a yield, a halt).
    ///
    /// One pass over the servers judges deadlines and releases jobs (only
    /// for servers with something due: one comparison with the server's
    /// cached `due` otherwise), finds the next event (each server's cached
    /// `event`) and the earliest deadline with budget left (the lowest index
    /// on a tie): this runs on every timer interrupt of a shared core.
    pub fn schedule(&mut self, now: u64) -> Decision {
        self.account(now);
        let mut next = u64::MAX;
        let mut earliest = usize::MAX;
        let mut earliest_deadline = u64::MAX;
        let len = self.len.min(N);
        for i in 0..len {
            let s = &mut self.servers[i];
            if s.due <= now && !s.halted {
                Self::release(s, &mut self.stats[i], now);
            }
            next = next.min(s.event);
            if s.left > 0 && s.deadline < earliest_deadline {
                earliest = i;
                earliest_deadline = s.deadline;
            }
        }
        let decision = if earliest < len {
            Decision {
                run: Some((earliest, Mode::Budget)),
                until: next.min(now.saturating_add(self.servers[earliest].left)),
            }
        } else if let Some(i) = self.slack_candidate() {
            self.slack_next = if i + 1 == self.len { 0 } else { i + 1 };
            Decision {
                run: Some((i, Mode::Slack)),
                until: next.min(now.saturating_add(SLACK_SLICE_NS)),
            }
        } else {
            Decision {
                run: None,
                until: next,
            }
        };
        self.running = decision.run;
        decision
    }

    /// The next slack server in round-robin order that has not given up its
    /// idle time for this period (no `%`: it would be a library call).
    fn slack_candidate(&self) -> Option<usize> {
        let mut i = self.slack_next;
        for _ in 0..self.len {
            if i >= self.len {
                i = 0;
            }
            let s = &self.servers[i];
            if s.params.slack && !s.halted && !s.yielded {
                return Some(i);
            }
            i += 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn p(period: u64, budget: u64, deadline: u64, slack: bool) -> Params {
        Params {
            period: period * MS,
            budget: budget * MS,
            deadline: deadline * MS,
            slack,
        }
    }

    #[test]
    fn earliest_deadline_runs_first_and_budget_is_enforced() {
        let mut edf: Edf<4> = Edf::new(&[p(10, 3, 10, false), p(20, 2, 5, false)], 0);
        // Server 1's deadline (5 ms) is earlier than server 0's (10 ms).
        assert_eq!(
            edf.schedule(0),
            Decision {
                run: Some((1, Mode::Budget)),
                until: 2 * MS
            }
        );
        assert_eq!(
            edf.schedule(2 * MS),
            Decision {
                run: Some((0, Mode::Budget)),
                until: 5 * MS
            }
        );
        assert_eq!(
            edf.schedule(5 * MS),
            Decision {
                run: None,
                until: 10 * MS
            }
        );
        assert_eq!(
            edf.stats(1),
            Stats {
                jobs: 1,
                used_ns: 2 * MS,
                overruns: 1,
                ..Stats::default()
            }
        );
        assert_eq!(edf.stats(0).used_ns, 3 * MS);
    }

    #[test]
    fn job_release_follows_the_period_grid() {
        let start = 7;
        let mut edf: Edf<2> = Edf::new(&[p(10, 3, 10, false), p(4, 1, 4, false)], start);
        assert_eq!((edf.job_release(0), edf.job_release(1)), (start, start));
        assert_eq!(edf.params(1), p(4, 1, 4, false));
        edf.schedule(start + 5 * MS);
        assert_eq!(edf.job_release(0), start);
        assert_eq!(edf.job_release(1), start + 4 * MS);
        // A late event skips whole periods; releases stay on the grid.
        edf.schedule(start + 31 * MS);
        assert_eq!(edf.job_release(0), start + 30 * MS);
        assert_eq!(edf.job_release(1), start + 28 * MS);
    }

    #[test]
    fn yield_gives_the_rest_of_the_budget_away() {
        let mut edf: Edf<2> = Edf::new(&[p(10, 4, 10, false), p(10, 4, 10, false)], 0);
        assert_eq!(edf.schedule(0).run, Some((0, Mode::Budget)));
        edf.yield_running(MS);
        assert_eq!(
            edf.schedule(MS),
            Decision {
                run: Some((1, Mode::Budget)),
                until: 5 * MS
            }
        );
        assert_eq!(
            edf.stats(0),
            Stats {
                jobs: 1,
                used_ns: MS,
                ..Stats::default()
            }
        );
    }

    #[test]
    fn slack_goes_round_robin_only_when_no_budget_is_left() {
        let mut edf: Edf<3> = Edf::new(
            &[p(10, 1, 10, true), p(10, 1, 10, false), p(10, 1, 10, true)],
            0,
        );
        assert_eq!(edf.schedule(0).run, Some((0, Mode::Budget)));
        assert_eq!(edf.schedule(MS).run, Some((1, Mode::Budget)));
        assert_eq!(edf.schedule(2 * MS).run, Some((2, Mode::Budget)));
        assert_eq!(
            edf.schedule(3 * MS),
            Decision {
                run: Some((0, Mode::Slack)),
                until: 4 * MS
            }
        );
        assert_eq!(
            edf.schedule(4 * MS).run,
            Some((2, Mode::Slack)),
            "server 1 has slack = false"
        );
        edf.yield_running(4 * MS + 10);
        assert_eq!(edf.schedule(4 * MS + 10).run, Some((0, Mode::Slack)));
        edf.yield_running(5 * MS);
        assert_eq!(
            edf.schedule(5 * MS),
            Decision {
                run: None,
                until: 10 * MS
            }
        );
        assert_eq!(edf.stats(0).slack_ns, 2 * MS - 10);
        assert_eq!(edf.stats(2).slack_ns, 10);
        assert_eq!(
            edf.schedule(10 * MS).run,
            Some((0, Mode::Budget)),
            "a release ends the slack yield"
        );
    }

    #[test]
    fn a_job_short_of_its_budget_at_its_deadline_is_a_miss() {
        // Overloaded on purpose: 2 x 6 ms in 10 ms.
        let mut edf: Edf<2> = Edf::new(&[p(10, 6, 10, false), p(10, 6, 10, false)], 0);
        let mut now = 0;
        while now < 20 * MS {
            now = edf.schedule(now).until;
        }
        assert_eq!(now, 20 * MS);
        edf.schedule(now);
        let total_misses = edf.stats(0).misses + edf.stats(1).misses;
        assert_eq!(
            total_misses, 2,
            "one of the two jobs misses in each of the first two periods"
        );
    }

    #[test]
    fn stats_at_includes_the_running_share() {
        let mut edf: Edf<2> = Edf::new(&[p(10, 2, 10, true), p(10, 2, 10, false)], 0);
        edf.schedule(0);
        assert_eq!(edf.stats_at(0, MS).used_ns, MS);
        assert_eq!(
            edf.stats_at(0, 5 * MS).used_ns,
            2 * MS,
            "capped at the budget"
        );
        assert_eq!(edf.stats_at(1, MS).used_ns, 0);
        assert_eq!(edf.stats(0).used_ns, 0, "nothing accounted yet");
        edf.schedule(2 * MS);
        edf.schedule(4 * MS);
        assert_eq!(edf.running(), Some((0, Mode::Slack)));
        assert_eq!(edf.stats_at(0, 4 * MS + 7).slack_ns, 7);
    }

    #[test]
    fn an_overrun_is_counted_once() {
        let mut edf: Edf<1> = Edf::new(&[p(10, 2, 10, false)], 0);
        edf.schedule(0);
        // The budget runs out just as the guest halts; both paths charge.
        edf.halt_running(2 * MS);
        edf.schedule(2 * MS);
        assert_eq!(edf.stats(0).overruns, 1);
    }

    #[test]
    fn a_late_event_counts_the_periods_it_skipped() {
        let mut edf: Edf<1> = Edf::new(&[p(10, 1, 10, false)], 0);
        assert_eq!(edf.schedule(0).run, Some((0, Mode::Budget)));
        // The core was away for 35 ms (say, a debugger): jobs at 10, 20, 30.
        edf.schedule(35 * MS);
        assert_eq!(edf.stats(0).jobs, 4);
        assert_eq!(edf.stats(0).misses, 2, "the jobs at 10 and 20 never ran");
    }
}
