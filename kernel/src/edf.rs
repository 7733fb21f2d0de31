//! EDF over periodic servers on one core: the policy, with no hardware.
//!
//! - Pure and host-tested: the monitor calls [`Edf::schedule`] at every
//!   event on a shared core and, once the chosen server is switched in,
//!   [`Edf::start`], and programs its timer for what `start` returns;
//!   nothing here reads a clock or touches a register.
//! - Each SRT guest is a periodic server: every `period` a job with
//!   `budget` ns is released, due `deadline` ns later. The job with the
//!   earliest absolute deadline and budget left runs (ties: the lower guest
//!   index), until its budget is spent, it yields, or a release preempts it.
//! - The budget is the server's own execution: its time counts from the
//!   instant given to [`Edf::start`] (the guest's first instruction), not
//!   from the decision. The world switch between the two is charged to no
//!   server; the schedulability analysis charges it as a per-job overhead.
//! - Budget is enforced: a job that used its budget stops until its next
//!   release (counted as an overrun stopped, unless it yielded).
//! - A job that still wanted to run when its deadline came is a miss; its
//!   leftover budget is dropped, so a late server cannot push others late.
//! - Idle time (no job with budget) goes round-robin, in slices of at most
//!   [`SLACK_SLICE_NS`], to servers with `slack = true` that have not
//!   yielded it; never while any job has budget left.
//! - An event touches only the servers with something due: two tournament
//!   trees keep the earliest next event and the earliest deadline with
//!   budget left, and a change climbs only as far as it changes a winner
//!   (O(log n) a change, no pass over the servers). No 64-bit division on
//!   the way (Cortex-A9 has none).
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
    /// The absolute time of the next event if the server starts at once:
    /// the timer is set for it, or for what [`Edf::start`] returns.
    pub until: u64,
}

/// No time: a key that nothing reaches, in the trees and as `until`.
const NEVER: u64 = u64::MAX;

/// A server's state that the decision reads, kept compact (the statistics
/// live apart, in [`Edf::stats`]).
#[derive(Clone, Copy, Debug)]
struct Server {
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
    /// `0 < budget` and `deadline <= period` (what the configuration
    /// validates): the fast path of a release applies.
    regular: bool,
    /// The server's leaf in both trees ([`Edf::leaf`]).
    leaf: u32,
}

impl Server {
    const IDLE: Self = Server {
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
        regular: false,
        leaf: 0,
    };

    /// The server's next event: its next release, or its job's deadline if
    /// earlier, unjudged and with budget left ([`NEVER`] once halted). A
    /// deadline without budget left changes nothing (no miss, no budget to
    /// drop), so it is judged only when the server is next due.
    #[inline(always)]
    fn event(&self) -> u64 {
        if self.halted {
            NEVER
        } else if !self.judged && self.left > 0 {
            self.deadline.min(self.next_release)
        } else {
            self.next_release
        }
    }

    /// The server's place among the jobs that may run: its job's deadline
    /// while the job has budget left, [`NEVER`] otherwise.
    #[inline(always)]
    fn ready_key(&self) -> u64 {
        if self.left > 0 {
            self.deadline
        } else {
            NEVER
        }
    }

    /// Whether the server takes idle time now.
    #[inline(always)]
    fn takes_slack(&self) -> bool {
        self.params.slack && !self.halted && !self.yielded
    }
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

impl Stats {
    const ZERO: Self = Stats {
        jobs: 0,
        misses: 0,
        used_ns: 0,
        slack_ns: 0,
        overruns: 0,
    };
}

/// A node of a [`Tree`]: the first key of its subtree, and whose it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Node {
    key: u64,
    server: u32,
}

impl Node {
    /// No server.
    const NONE: Self = Node {
        key: NEVER,
        server: u32::MAX,
    };
}

/// A tournament tree over the servers: every inner node holds the first of
/// its two children, the one with the earlier key or, on a tie, the left
/// one, so the root holds the first of all. The leaves are in server order
/// from left to right ([`Edf::leaf`]): a tie goes to the lower index, with
/// one 64-bit comparison a level.
#[derive(Clone, Debug)]
struct Tree<const N: usize> {
    /// Node `k` (`1 <= k < 2 * len`) is `nodes[k / 2][k % 2]`: the two
    /// children of node `p` (nodes `2p` and `2p + 1`) are `nodes[p]`, and
    /// the root is `nodes[0][1]`.
    nodes: [[Node; 2]; N],
}

impl<const N: usize> Tree<N> {
    const EMPTY: Self = Tree {
        nodes: [[Node::NONE; 2]; N],
    };

    /// The first key and its server ([`Node::NONE`] for none).
    #[inline(always)]
    fn min(&self) -> Node {
        match self.nodes.first() {
            Some(pair) => pair[1],
            None => Node::NONE,
        }
    }

    #[inline(always)]
    fn put(&mut self, k: usize, node: Node) {
        if let Some(slot) = self.nodes.as_flattened_mut().get_mut(k) {
            *slot = node;
        }
    }

    /// Fills every inner node from the leaves of `len` servers.
    fn build(&mut self, len: usize) {
        for p in (1..len).rev() {
            let [left, right] = self.nodes[p];
            self.put(p, if right.key < left.key { right } else { left });
        }
    }

    /// Puts `node` in leaf `leaf`, whatever its server's key was.
    #[inline(always)]
    fn set(&mut self, leaf: usize, node: Node) {
        let old = match self.nodes.as_flattened().get(leaf) {
            Some(old) => old.key,
            None => return,
        };
        if node.key < old {
            self.decrease(leaf, node);
        } else if node.key > old {
            self.increase(leaf, node);
        }
    }

    /// A server's key moved earlier: it climbs as long as it comes before
    /// what the parent holds (the first of the rest of the parent's
    /// subtree; on a tie the lower index, as the leaves are in index
    /// order).
    #[inline(always)]
    fn decrease(&mut self, leaf: usize, node: Node) {
        self.put(leaf, node);
        let mut p = leaf / 2;
        while p > 0 {
            let Some(parent) = self.nodes.as_flattened_mut().get_mut(p) else {
                return;
            };
            let first =
                node.key < parent.key || (node.key == parent.key && node.server <= parent.server);
            if !first {
                return;
            }
            *parent = node;
            p /= 2;
        }
    }

    /// A server's key moved later: every node that held the server takes
    /// the first of its two children again. A node that held another
    /// server keeps it, and so does everything above it.
    #[inline(always)]
    fn increase(&mut self, leaf: usize, node: Node) {
        self.put(leaf, node);
        let mut p = leaf / 2;
        while let Some(pair) = self.nodes.get(p) {
            if p == 0 {
                return;
            }
            let first = pair[Self::first(pair)];
            // Node `p` is below `nodes[p]`, in bounds.
            let parent = &mut self.nodes.as_flattened_mut()[p];
            if parent.server != node.server {
                return;
            }
            *parent = first;
            p /= 2;
        }
    }

    /// Puts `node` in leaf `leaf` and every node above it takes the first
    /// of its two children again: right whatever the leaf's key was, and
    /// the cheapest climb when the leaf's server was first all the way up
    /// (nothing to stop at).
    #[inline(always)]
    fn refill(&mut self, leaf: usize, node: Node) {
        self.put(leaf, node);
        let mut p = leaf / 2;
        while let Some(pair) = self.nodes.get(p) {
            if p == 0 {
                return;
            }
            let first = pair[Self::first(pair)];
            // Node `p` is below `nodes[p]`, in bounds.
            self.nodes.as_flattened_mut()[p] = first;
            p /= 2;
        }
    }

    /// Which of two children comes first: 1 for the right one (only with
    /// an earlier key), 0 for the left.
    #[inline(always)]
    fn first(pair: &[Node; 2]) -> usize {
        usize::from(pair[1].key < pair[0].key)
    }
}

/// EDF over at most `N` servers.
#[derive(Clone, Debug)]
pub struct Edf<const N: usize> {
    servers: [Server; N],
    /// Every server by its next event ([`Server::event`]).
    events: Tree<N>,
    /// The servers with budget left, by deadline ([`Server::ready_key`]).
    ready: Tree<N>,
    /// The servers that take idle time now ([`Server::takes_slack`]), a
    /// bit each: word `w` holds servers `32w..32w + 32` (only the first
    /// `len / 32` words, rounded up, are used).
    slack: [u32; N],
    len: usize,
    /// What runs since `since`.
    running: Option<(usize, Mode)>,
    since: u64,
    /// Where the next round-robin search for a slack server starts.
    slack_next: usize,
    stats: [Stats; N],
}

impl<const N: usize> Edf<N> {
    /// No server: what a core that is not shared holds.
    pub const EMPTY: Self = Edf {
        servers: [Server::IDLE; N],
        events: Tree::EMPTY,
        ready: Tree::EMPTY,
        slack: [0; N],
        len: 0,
        running: None,
        since: 0,
        slack_next: 0,
        stats: [Stats::ZERO; N],
    };

    /// Servers released together at `now` (the synchronous release that the
    /// build-time analysis assumed). Panics if more than `N` are given,
    /// which the generated tables rule out at compile time.
    pub fn new(params: &[Params], now: u64) -> Self {
        let mut edf = Self::EMPTY;
        edf.restart(params, now);
        edf
    }

    /// [`Edf::new`] in place: what the monitor uses, whose stack is smaller
    /// than a scheduler of many servers (64 servers take over 11 KiB).
    pub fn restart(&mut self, params: &[Params], now: u64) {
        assert!(params.len() <= N, "more servers than the core's capacity");
        let len = params.len();
        *self = Self::EMPTY;
        self.len = len;
        self.since = now;
        for (i, p) in params.iter().enumerate() {
            let leaf = Self::leaf(i, len);
            let s = &mut self.servers[i];
            *s = Server {
                params: *p,
                next_release: now,
                regular: p.budget > 0 && p.deadline <= p.period,
                leaf: leaf as u32,
                ..Server::IDLE
            };
            Self::advance(s, &mut self.stats[i], now);
            let server = i as u32;
            let (event, ready, slack) = (s.event(), s.ready_key(), s.takes_slack());
            self.events.put(leaf, Node { key: event, server });
            self.ready.put(leaf, Node { key: ready, server });
            self.set_slack(i, slack);
        }
        self.events.build(len);
        self.ready.build(len);
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
    /// running server has had since the last event, or since it started
    /// ([`Edf::start`]) if that is later (not yet accounted).
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
            self.change(i, |s, _| {
                s.yielded = true;
                s.left = 0;
            });
        }
    }

    /// The running server stops for good.
    pub fn halt_running(&mut self, now: u64) {
        self.account(now);
        if let Some((i, _)) = self.running {
            self.change(i, |s, _| {
                s.halted = true;
                s.left = 0;
            });
        }
    }

    /// Server `server`'s guest failed and is being restarted
    /// (docs/health.md): its current job is dropped, neither a miss nor an
    /// overrun, and it takes no idle time until its next release, on its
    /// period grid, where its restarted guest runs first. Charges the
    /// running server up to `now` first; if `server` was running, nothing
    /// runs until the next decision.
    pub fn restart_server(&mut self, server: usize, now: u64) {
        self.account(now);
        if self.running.is_some_and(|(i, _)| i == server) {
            self.running = None;
        }
        self.change(server, |s, _| {
            debug_assert!(!s.halted, "a stopped server is not restarted");
            s.left = 0;
            s.judged = true;
            s.yielded = true;
        });
    }

    /// Server `server`, not running, stops for good (a guest refused at
    /// boot): it is never chosen and never judged.
    pub fn halt(&mut self, server: usize) {
        debug_assert!(self.running.is_none_or(|(i, _)| i != server));
        self.change(server, |s, _| {
            s.halted = true;
            s.left = 0;
        });
    }

    /// The leaf of server `i` of `len` in both trees: the deepest level
    /// holds the first servers, the level above it the others, each from
    /// left to right (in a complete binary tree the leaves one level up lie
    /// right of the deepest ones).
    fn leaf(i: usize, len: usize) -> usize {
        // The deepest level's first node: the largest power of two at most
        // `2 * len - 1` (the trees' nodes fill every level above it).
        let deep = 1 << (usize::BITS - 1 - (2 * len - 1).leading_zeros());
        if i + deep < 2 * len {
            deep + i
        } else {
            deep + i - len
        }
    }

    /// Applies `f` to server `i` and its figures, then puts the server in
    /// its new place in both trees and the slack set.
    fn change(&mut self, i: usize, f: impl FnOnce(&mut Server, &mut Stats)) {
        let (s, st) = (&mut self.servers[i], &mut self.stats[i]);
        let leaf = s.leaf as usize;
        f(s, st);
        let server = i as u32;
        let (new_event, new_ready, slack) = (s.event(), s.ready_key(), s.takes_slack());
        let new_event = Node {
            key: new_event,
            server,
        };
        self.events.set(leaf, new_event);
        let new_ready = Node {
            key: new_ready,
            server,
        };
        self.ready.set(leaf, new_ready);
        self.set_slack(i, slack);
    }

    #[inline(always)]
    fn set_slack(&mut self, i: usize, on: bool) {
        if let Some(word) = self.slack.get_mut(i / 32) {
            let bit = 1 << (i % 32);
            if on {
                *word |= bit;
            } else {
                *word &= !bit;
            }
        }
    }

    /// Charges the running server for the time since the last event (or
    /// since it started).
    #[inline(never)]
    fn account(&mut self, now: u64) {
        let elapsed = now.saturating_sub(self.since);
        self.since = now;
        match self.running {
            Some((i, Mode::Budget)) => {
                let (Some(s), Some(st)) = (self.servers.get_mut(i), self.stats.get_mut(i)) else {
                    return;
                };
                if elapsed < s.left {
                    s.left -= elapsed;
                    st.used_ns += elapsed;
                } else if s.left > 0 {
                    st.used_ns += s.left;
                    s.left = 0;
                    self.exhausted(i);
                }
            }
            Some((i, Mode::Slack)) => {
                if let Some(st) = self.stats.get_mut(i) {
                    st.slack_ns += elapsed;
                }
            }
            None => {}
        }
    }

    /// Server `i`'s budget has just run out (counted once, as an overrun):
    /// its deadline drops out of both trees.
    #[inline(always)]
    fn exhausted(&mut self, i: usize) {
        let (Some(s), Some(st)) = (self.servers.get(i), self.stats.get_mut(i)) else {
            return;
        };
        let leaf = s.leaf as usize;
        // It had budget left, so it had not yielded (a yield drops the
        // budget) and was not halted.
        debug_assert!(!s.yielded && !s.halted);
        st.overruns += 1;
        let server = i as u32;
        // With budget left its event was its deadline if unjudged and
        // earlier than its next release; now it is its next release.
        if !s.judged && s.deadline < s.next_release {
            let event = Node {
                key: s.next_release,
                server,
            };
            self.events.increase(leaf, event);
        }
        // It ran on its budget: it was first in the ready tree.
        self.ready.refill(leaf, Node { key: NEVER, server });
    }

    /// Judges the deadline of server `s`'s job if it has come and releases
    /// its next job if that is due: the server's own state only. Returns
    /// whether a job was released.
    fn advance(s: &mut Server, st: &mut Stats, now: u64) -> bool {
        // A job with budget left has not yielded (a yield drops the
        // budget), so budget left at its deadline is a miss.
        if s.next_release <= now {
            // The job before is judged now if it was not yet (its deadline
            // is at most its period).
            if !s.judged && s.left > 0 {
                st.misses += 1;
            }
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
            st.jobs += 1 + behind;
            st.misses += behind;
            let release = s.next_release + behind * s.params.period;
            s.next_release = release + s.params.period;
            s.deadline = release + s.params.deadline;
            s.left = s.params.budget;
            s.yielded = false;
            s.judged = s.deadline <= now;
            true
        } else {
            if !s.judged && s.deadline <= now {
                s.judged = true;
                if s.left > 0 {
                    st.misses += 1;
                }
                s.left = 0;
            }
            false
        }
    }

    /// Server `i` is due (its event has come): judges, releases, and puts
    /// it in its new place. Out of line: inlined, its setup would be
    /// hoisted into every decision.
    #[inline(never)]
    fn release(&mut self, i: usize, now: u64) {
        let (Some(s), Some(st)) = (self.servers.get_mut(i), self.stats.get_mut(i)) else {
            return;
        };
        let (leaf, release) = (s.leaf as usize, s.next_release);
        // The common case: a release on time (no period skipped, the new
        // deadline ahead) after a job that had no budget left (no miss).
        // Without budget left the server's event is its release, and it is
        // due.
        if s.regular && s.left == 0 && now.wrapping_sub(release) < s.params.deadline {
            st.jobs += 1;
            let deadline = release + s.params.deadline;
            s.next_release = release + s.params.period;
            s.deadline = deadline;
            s.left = s.params.budget;
            s.yielded = false;
            s.judged = false;
            let slack = s.params.slack;
            // The deadline is the next event: it is at most the next
            // release.
            let node = Node {
                key: deadline,
                server: i as u32,
            };
            // It was due: first in the event tree.
            self.events.refill(leaf, node);
            self.ready.decrease(leaf, node);
            if slack {
                self.set_slack(i, true);
            }
        } else {
            self.release_slow(i, now);
        }
    }

    /// [`Edf::release`] in general: late, after a miss, or a deadline
    /// only.
    #[cold]
    #[inline(never)]
    fn release_slow(&mut self, i: usize, now: u64) {
        self.change(i, |s, st| {
            Self::advance(s, st, now);
        });
    }

    /// Decides what runs from `now` on: call it at every event (the timer,
    /// a yield, a halt).
    ///
    /// Releases the jobs and judges the deadlines that are due (the
    /// servers first in the event tree, one after the other), then reads
    /// the earliest deadline with budget left and the next event off the
    /// trees' roots; only in idle time does it look for a slack server
    /// (one bit search). This runs on every timer interrupt of a shared
    /// core.
    pub fn schedule(&mut self, now: u64) -> Decision {
        self.account(now);
        loop {
            let due = self.events.min();
            if due.key > now || due.key == NEVER {
                break;
            }
            self.release(due.server as usize, now);
        }
        let next = self.events.min().key;
        let ready = self.ready.min();
        let decision = if ready.key != NEVER {
            let i = ready.server as usize;
            let left = self.servers.get(i).map_or(0, |s| s.left);
            Decision {
                run: Some((i, Mode::Budget)),
                until: next.min(now.saturating_add(left)),
            }
        } else {
            self.slack_decision(now, next)
        };
        self.running = decision.run;
        decision
    }

    /// What runs when no job has budget left: the next slack server, if
    /// any, for one slice.
    #[inline(never)]
    fn slack_decision(&mut self, now: u64, next: u64) -> Decision {
        match self.slack_candidate() {
            Some(i) => {
                self.slack_next = if i + 1 == self.len { 0 } else { i + 1 };
                Decision {
                    run: Some((i, Mode::Slack)),
                    until: next.min(now.saturating_add(SLACK_SLICE_NS)),
                }
            }
            None => Decision {
                run: None,
                until: next,
            },
        }
    }

    /// The chosen server starts at `at` (`>= now` of the [`Edf::schedule`]
    /// that chose it, after the world switch): its time counts from `at`,
    /// nothing is charged for the switch. Returns when the timer must
    /// fire: the earlier of the core's next event and the end of the
    /// server's budget (in slack, of its slice) counted from `at`; with
    /// `at == now` that is the decision's `until`. Call it only after a
    /// decision that runs a server.
    pub fn start(&mut self, at: u64) -> u64 {
        self.since = self.since.max(at);
        let next = self.events.min().key;
        match self.running {
            Some((i, Mode::Budget)) => {
                let left = self.servers.get(i).map_or(0, |s| s.left);
                next.min(self.since.saturating_add(left))
            }
            Some((_, Mode::Slack)) => next.min(self.since.saturating_add(SLACK_SLICE_NS)),
            None => next,
        }
    }

    /// The next slack server in round-robin order that has not given up its
    /// idle time for this period: the first bit set from `slack_next` on,
    /// then from 0.
    fn slack_candidate(&self) -> Option<usize> {
        let words = self.len.div_ceil(32);
        let from = self.slack_next;
        let first = from / 32;
        let bits = |w: usize| self.slack.get(w).copied().unwrap_or(0);
        let here = bits(first) & (!0u32 << (from % 32));
        if here != 0 {
            return Some(first * 32 + here.trailing_zeros() as usize);
        }
        (first + 1..words).chain(0..=first).find_map(|w| {
            let b = bits(w);
            (b != 0).then(|| w * 32 + b.trailing_zeros() as usize)
        })
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

    #[test]
    fn start_counts_the_budget_from_the_first_instruction() {
        let mut edf: Edf<2> = Edf::new(&[p(10, 3, 10, false), p(10, 2, 10, true)], 0);
        let d = edf.schedule(0);
        assert_eq!(d.run, Some((0, Mode::Budget)));
        // Without a switch the timer is the decision's.
        assert_eq!(edf.clone().start(0), d.until);
        // The switch takes 40 ns: the budget of 3 ms ends 40 ns later.
        assert_eq!(edf.start(40), 3 * MS + 40);
        assert_eq!(edf.stats_at(0, 40).used_ns, 0, "the switch is nobody's");
        assert_eq!(edf.stats_at(0, MS + 40).used_ns, MS);
        let d = edf.schedule(3 * MS + 40);
        assert_eq!(edf.stats(0).used_ns, 3 * MS, "the whole budget");
        assert_eq!(edf.stats(0).overruns, 1);
        assert_eq!(d.run, Some((1, Mode::Budget)));
        assert_eq!(edf.start(3 * MS + 100), 5 * MS + 100);
        // Slack: a slice from the start.
        let d = edf.schedule(5 * MS + 100);
        assert_eq!(d.run, Some((1, Mode::Slack)));
        assert_eq!(edf.start(5 * MS + 130), 6 * MS + 130);
        edf.schedule(6 * MS + 130);
        assert_eq!(edf.stats(1).slack_ns, MS);
    }

    #[test]
    fn a_restarted_server_runs_again_at_its_next_period_boundary() {
        let mut edf: Edf<2> = Edf::new(&[p(10, 4, 10, true), p(10, 2, 10, true)], 0);
        assert_eq!(edf.schedule(0).run, Some((0, Mode::Budget)));
        // Server 0's guest fails 1 ms into its job.
        edf.restart_server(0, MS);
        assert_eq!(edf.running(), None);
        assert_eq!(
            edf.schedule(MS),
            Decision {
                run: Some((1, Mode::Budget)),
                until: 3 * MS
            }
        );
        // Idle time goes to server 1 only: server 0 waits for its release.
        assert_eq!(edf.schedule(3 * MS).run, Some((1, Mode::Slack)));
        assert_eq!(edf.schedule(4 * MS).run, Some((1, Mode::Slack)));
        edf.yield_running(4 * MS);
        assert_eq!(
            edf.schedule(4 * MS),
            Decision {
                run: None,
                until: 10 * MS
            }
        );
        assert_eq!(
            edf.stats(0),
            Stats {
                jobs: 1,
                used_ns: MS,
                ..Stats::default()
            },
            "the dropped job is neither a miss nor an overrun"
        );
        assert_eq!(edf.schedule(10 * MS).run, Some((0, Mode::Budget)));
        assert_eq!(edf.stats(0).jobs, 2);
        // A server that is not running (a watchdog seen at another
        // server's event) loses its job just the same.
        edf.start(10 * MS);
        assert_eq!(edf.schedule(14 * MS).run, Some((1, Mode::Budget)));
        edf.restart_server(0, 15 * MS);
        assert_eq!(edf.running(), Some((1, Mode::Budget)));
        assert_eq!(edf.schedule(16 * MS).run, Some((1, Mode::Slack)));
        assert_eq!(edf.stats(0).misses + edf.stats(1).misses, 0);
    }

    #[test]
    fn an_event_during_the_switch_comes_first() {
        let mut edf: Edf<2> = Edf::new(&[p(10, 5, 10, false), p(2, 1, 2, false)], 0);
        assert_eq!(edf.schedule(0).run, Some((1, Mode::Budget)));
        edf.start(10);
        assert_eq!(edf.schedule(MS + 10).run, Some((0, Mode::Budget)));
        // Server 1 is released again at 2 ms, before server 0's switch ends.
        assert_eq!(edf.start(2 * MS + 500), 2 * MS);
        let d = edf.schedule(2 * MS);
        assert_eq!(edf.stats(0).used_ns, 0, "server 0 never started");
        assert_eq!(d.run, Some((1, Mode::Budget)));
    }
}
