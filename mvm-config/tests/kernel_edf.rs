//! The schedulability analysis against the kernel's own EDF scheduler.
//!
//! - The model the analysis proves: every job of a server takes its budget
//!   plus the switch overhead of core time (`sched::Server::charged`), and
//!   EDF runs them from a synchronous release. The simulation runs exactly
//!   that on `mvm_kernel::edf::Edf`, driven event by event as the monitor
//!   drives it: each server's budget inflated by the overhead, and a guest
//!   that wants exactly that much of each job and then yields. The inflated
//!   demand is computed here from the declared budget, not taken from the
//!   analysis, so a wrong charge in the analysis shows as a miss.
//! - Accepted: no miss from the synchronous release to one hyperperiod plus
//!   the longest deadline, and every job due by then got its whole demand.
//! - Rejected at t (h(t) > t): the kernel misses at t and not before, when t
//!   is the proven first overload (EDF misses first where demand first
//!   exceeds supply; synchronous release is its worst case), and at the
//!   latest at t otherwise.
//! - Periods divide 10^8 ns and are at least 100 us, so the hyperperiod is
//!   at most 0.1 s and a set at most 8000 jobs; budgets, deadlines and the
//!   overhead are arbitrary integers of ns. Besides random sets, each set is
//!   pushed to the edge: the largest budget of its first server that the
//!   analysis accepts, and one ns more.

use mvm_config::sched::{analyze_with_limits, Limits, Server, Verdict};
use mvm_kernel::edf::{Edf, Mode, Params};
use proptest::prelude::*;

mod common;
use common::horizon;

/// The most servers a set has (the kernel's capacity in this test).
const N: usize = 8;

/// What the kernel did with one set, as far as the simulation ran.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    /// When the scheduler first counted a miss.
    first_miss: Option<u64>,
    /// A job due by the end that got less than its demand: (server, job
    /// index, time it got).
    short: Option<(usize, u64, u64)>,
}

/// Runs the kernel's EDF over `servers` (each job wanting its whole budget)
/// from a synchronous release at 0 until `end`, and stops early after the
/// first miss when `stop_at_miss`. Every scheduling event that runs a server
/// costs the monitor `switch` ns before the server starts (`Edf::start`),
/// charged to no server: the budget contract run literally (0: the
/// analysis' model, in which the caller inflates each budget by the
/// overhead instead).
fn simulate(
    servers: &[Params],
    end: u64,
    stop_at_miss: bool,
    switch: u64,
) -> Result<Outcome, TestCaseError> {
    let n = servers.len();
    let mut edf: Edf<N> = Edf::new(servers, 0);
    // Per server: the index + 1 of its current job, what that job got, and
    // what the server got in all.
    let mut jobs = vec![0u64; n];
    let mut got = vec![0u64; n];
    let mut total = vec![0u64; n];
    let mut outcome = Outcome {
        first_miss: None,
        short: None,
    };
    let mut now = 0;
    loop {
        for (i, &total) in total.iter().enumerate() {
            // Includes the running server's time since the last event.
            prop_assert_eq!(
                edf.stats_at(i, now).used_ns,
                total,
                "server {} at {}",
                i,
                now
            );
        }
        let d = edf.schedule(now);
        for i in 0..n {
            let stats = edf.stats(i);
            if stats.misses > 0 && outcome.first_miss.is_none() {
                outcome.first_miss = Some(now);
            }
            if stats.jobs != jobs[i] {
                // Deadlines are within periods: the previous job is judged.
                prop_assert_eq!(stats.jobs, jobs[i] + 1, "a release was skipped");
                if jobs[i] > 0 && got[i] < servers[i].budget && outcome.short.is_none() {
                    outcome.short = Some((i, jobs[i] - 1, got[i]));
                }
                jobs[i] = stats.jobs;
                got[i] = 0;
            }
        }
        if now >= end || (stop_at_miss && outcome.first_miss.is_some()) {
            break;
        }
        prop_assert!(
            d.until > now || d.run.is_some(),
            "time stands still at {}",
            now
        );
        let Some((i, mode)) = d.run else {
            now = d.until.min(end);
            continue;
        };
        // The monitor's time, then the guest's.
        now += switch;
        let until = edf.start(now).min(end);
        match mode {
            Mode::Budget => {
                let wish = servers[i].budget - got[i];
                prop_assert!(wish > 0, "server {} runs with nothing left to do", i);
                let ran = wish.min(until.saturating_sub(now));
                got[i] += ran;
                total[i] += ran;
                now += ran;
                if got[i] == servers[i].budget {
                    edf.yield_running(now);
                }
            }
            // The job is done: the guest has no use for idle time.
            Mode::Slack => edf.yield_running(now),
        }
    }
    for i in 0..n {
        let release = (jobs[i] - 1) * servers[i].period;
        if release + servers[i].deadline <= now
            && got[i] < servers[i].budget
            && outcome.short.is_none()
        {
            outcome.short = Some((i, jobs[i] - 1, got[i]));
        }
    }
    Ok(outcome)
}

/// Search budgets for the sets at the edge: a bisection towards the largest
/// accepted budget often ends a hair below U = 1 with constrained
/// deadlines, where the exact test walks deadline by deadline up to its
/// full budget (about a second each, unoptimized). With these budgets it
/// answers `Inconclusive` there instead, and the case is skipped; every
/// verdict it does give is as exact as with the default budgets.
const EDGE: Limits = Limits {
    scan_steps: 1 << 14,
    qpa_work: 1 << 18,
    busy_period_work: 1 << 18,
};

/// The analysis' verdict on `servers` with `overhead`, checked against the
/// kernel. Returns whether the set was accepted, `None` if the analysis
/// was inconclusive within `limits`.
fn check(
    servers: &[Params],
    overhead: u64,
    limits: &Limits,
) -> Result<Option<bool>, TestCaseError> {
    let charged: Vec<Server> = servers
        .iter()
        .map(|p| Server::charged(p, overhead))
        .collect();
    // What each job really takes of the core, budget and switch.
    let demanding: Vec<Params> = servers
        .iter()
        .map(|p| Params {
            budget: p.budget + overhead,
            ..*p
        })
        .collect();
    match analyze_with_limits(&charged, limits).verdict {
        Verdict::Schedulable => {
            let outcome = simulate(&demanding, horizon(&charged), false, 0)?;
            prop_assert_eq!(
                outcome,
                Outcome {
                    first_miss: None,
                    short: None
                },
                "accepted with overhead {} ns, yet the kernel fails it",
                overhead
            );
            Ok(Some(true))
        }
        Verdict::Unschedulable(v) => {
            let outcome = simulate(&demanding, v.t, true, 0)?;
            let Some(miss) = outcome.first_miss else {
                return Err(TestCaseError::fail(format!(
                    "rejected at t = {} ns (demand {} ns) with overhead {overhead} ns, yet the \
                     kernel meets every deadline up to t",
                    v.t, v.demand
                )));
            };
            prop_assert!(miss <= v.t);
            if v.first {
                prop_assert_eq!(
                    miss,
                    v.t,
                    "the first overload is at {} ns but the kernel misses first at {} ns",
                    v.t,
                    miss
                );
            }
            Ok(Some(false))
        }
        Verdict::Inconclusive { .. } => Ok(None),
    }
}

/// The largest budget of the first server that the analysis accepts (the
/// others as they are), if any: acceptance only gets harder as a budget
/// grows, so a bisection finds it.
/// `None` also when the analysis is inconclusive within [`EDGE`] on the way.
fn largest_accepted_budget(servers: &[Params], overhead: u64) -> Option<u64> {
    let accepts = |budget: u64| {
        let mut set: Vec<Server> = servers
            .iter()
            .map(|p| Server::charged(p, overhead))
            .collect();
        set[0] = Server::charged(
            &Params {
                budget,
                ..servers[0]
            },
            overhead,
        );
        match analyze_with_limits(&set, &EDGE).verdict {
            Verdict::Schedulable => Some(true),
            Verdict::Unschedulable(_) => Some(false),
            Verdict::Inconclusive { .. } => None,
        }
    };
    if !accepts(1)? {
        return None;
    }
    let (mut low, mut high) = (1, servers[0].deadline);
    while low < high {
        let mid = low + (high - low).div_ceil(2);
        if accepts(mid)? {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    Some(low)
}

/// Every divisor of 10^8 ns from 100 us up.
fn periods() -> Vec<u64> {
    let mut all: Vec<u64> = (0..=8u32)
        .flat_map(|a| (0..=8u32).map(move |b| 2u64.pow(a) * 5u64.pow(b)))
        .filter(|p| (100_000..=100_000_000).contains(p))
        .collect();
    all.sort_unstable();
    all
}

/// A server of a set of `count`: deadlines equal to the period half of the
/// time, budgets around the set's fair share of the deadline, so that sets
/// land on both sides of the verdict.
fn server(count: usize) -> impl Strategy<Value = Params> {
    (
        prop::sample::select(periods()),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_flat_map(move |(period, implicit, slack)| {
            let deadline = if implicit {
                Just(period).boxed()
            } else {
                (period / 8..=period).boxed()
            };
            (Just(period), deadline, Just(slack), 1..=2_000u64)
        })
        .prop_map(move |(period, deadline, slack, share)| Params {
            period,
            budget: (deadline * share / 1_000 / count as u64).clamp(1, deadline),
            deadline,
            slack,
        })
}

fn set() -> impl Strategy<Value = Vec<Params>> {
    (1..=N).prop_flat_map(|count| prop::collection::vec(server(count), count))
}

/// Mostly a switch overhead of the size the boards measure (a few us), now
/// and then none or a large one.
fn overhead() -> impl Strategy<Value = u64> {
    prop_oneof![
        1 => Just(0u64),
        4 => 1..=10_000u64,
        1 => 10_000..=100_000u64,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn the_kernel_meets_what_the_analysis_accepts_and_misses_what_it_rejects(
        servers in set(),
        overhead in overhead(),
    ) {
        let verdict = check(&servers, overhead, &Limits::DEFAULT)?;
        prop_assert!(verdict.is_some(), "inconclusive on a small set");
    }

    /// At the edge, where an inexact analysis or a kernel that loses time
    /// would show: the largest accepted budget must fit, one ns more must
    /// miss exactly at the analysis' first overload.
    #[test]
    fn at_the_edge_of_schedulability_the_kernel_agrees(
        servers in set(),
        overhead in overhead(),
    ) {
        let budget = largest_accepted_budget(&servers, overhead);
        prop_assume!(budget.is_some(), "nothing accepted, or inconclusive within EDGE");
        let mut edge = servers.clone();
        edge[0].budget = budget.unwrap();
        prop_assert_eq!(check(&edge, overhead, &EDGE)?, Some(true));
        if edge[0].budget < edge[0].deadline {
            edge[0].budget += 1;
            let verdict = check(&edge, overhead, &EDGE)?;
            prop_assume!(verdict.is_some(), "inconclusive within EDGE");
            prop_assert_eq!(verdict, Some(false), "one ns more is rejected");
        }
    }
}

proptest! {
    // Misses without the monitor's allowance show up within a few thousand
    // cases (found at 5 000 and 20 000 when it was missing or too small).
    #![proptest_config(ProptestConfig {
        cases: 3000,
        max_global_rejects: 1 << 20,
        ..ProptestConfig::default()
    })]

    /// The budget contract (docs/schedulability.md): the analysis charges
    /// each job `overhead`, two of the monitor's switches; the kernel
    /// gives each server its declared budget of its own execution and
    /// charges the monitor's time to nobody. With every scheduling event
    /// costing one switch (the worst case), a set accepted at the edge
    /// still meets every deadline with every job executing its budget.
    #[test]
    fn the_budget_contract_holds_at_the_edge(
        servers in set(),
        switch in 0..=5_000u64,
    ) {
        // At most what keeps every deadline longer than the blocking.
        let shortest = servers.iter().map(|p| p.deadline).min().unwrap_or(1);
        let switch = switch.min((shortest - 1) / (servers.len() as u64 + 1));
        let overhead = 2 * switch;
        // The analysis' own allowance for the monitor's time (what `check`
        // and `build` use), not a copy of its formula.
        let blocking = mvm_config::sched::monitor_blocking(servers.len(), overhead);
        let reduced: Vec<Params> = servers
            .iter()
            .map(|p| Params { deadline: p.deadline - blocking, ..*p })
            .collect();
        let budget = largest_accepted_budget(&reduced, overhead);
        prop_assume!(budget.is_some(), "nothing accepted, or inconclusive within EDGE");
        let mut edge = servers.clone();
        edge[0].budget = budget.unwrap();
        let charged: Vec<Server> = edge
            .iter()
            .map(|p| Server::charged(p, overhead))
            .collect();
        let outcome = simulate(&edge, horizon(&charged) + blocking, false, switch)?;
        prop_assert_eq!(
            outcome,
            Outcome { first_miss: None, short: None },
            "accepted at the edge with {} ns per switch, yet the kernel fails it",
            switch
        );
    }
}

/// The random sets above fall on both sides of the verdict, or they prove
/// little: count a fixed sample.
#[test]
fn random_sets_land_on_both_sides() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new(Config::default());
    let (mut accepted, mut rejected) = (0, 0);
    for _ in 0..200 {
        let servers = set().new_tree(&mut runner).unwrap().current();
        let overhead = overhead().new_tree(&mut runner).unwrap().current();
        let charged: Vec<Server> = servers
            .iter()
            .map(|p| Server::charged(p, overhead))
            .collect();
        match analyze_with_limits(&charged, &Limits::DEFAULT).verdict {
            Verdict::Schedulable => accepted += 1,
            _ => rejected += 1,
        }
    }
    assert!(accepted >= 40 && rejected >= 40, "{accepted} / {rejected}");
}
