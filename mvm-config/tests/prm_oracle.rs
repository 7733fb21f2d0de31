//! The analysis of tasks inside a periodic server against an independent
//! oracle: a unit-step schedule on the worst supply pattern.
//!
//! - The oracle shares no code with `prm`. The server (Π, Θ) gives its
//!   budget at the start of its first period, [0, Θ), and at the end of
//!   every later one, [jΠ − Θ, jΠ) for j >= 2; the tasks are released
//!   together at Θ, where the longest gap without supply starts. The
//!   oracle runs the tasks unit by unit on that supply under their policy
//!   and watches for a job past its deadline.
//! - That pattern is the worst case of the periodic resource model: the
//!   analysis must accept exactly the sets the schedule does not miss, and
//!   the cumulative supply of the pattern must be `sbf` at every length.
//! - Horizon 2H + 2Π + D_max, H the lcm of the task periods and Π: from H
//!   on releases and supply repeat with period H, and the supply after the
//!   first period only has the short gaps, so a first miss comes earlier
//!   (the analysis bounds it by H + Π − Θ; the oracle takes a margin).
//! - Small integers keep H small (at most lcm(1..=12) = 27720).

use mvm_config::prm::{
    check, check_with_limits, minimal_budget, minimal_budget_with_limits, sbf, Limits, Policy,
    Supply, Task, Verdict, Violation,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The supply as the oracle sees it: whether the unit [s, s + 1) after the
/// release is supplied.
#[derive(Clone, Copy, Debug)]
enum Pattern {
    Worst { period: u64, budget: u64 },
    Always,
}

impl Pattern {
    fn supplied(self, s: u64) -> bool {
        match self {
            Pattern::Always => true,
            Pattern::Worst { period, budget } => {
                // Absolute time: the release is at Θ, when the early budget
                // of the first period is spent.
                let absolute = budget + s;
                absolute >= period && absolute % period >= period - budget
            }
        }
    }

    fn supply(self) -> Supply {
        match self {
            Pattern::Always => Supply::Dedicated,
            Pattern::Worst { period, budget } => Supply::Server { period, budget },
        }
    }

    fn period(self) -> u64 {
        match self {
            Pattern::Always => 1,
            Pattern::Worst { period, .. } => period,
        }
    }

    /// Supply in [0, t).
    fn cumulative(self, t: u64) -> u64 {
        (0..t).filter(|&s| self.supplied(s)).count() as u64
    }
}

fn horizon(tasks: &[Task], pattern: Pattern) -> u64 {
    let hyperperiod = tasks.iter().fold(pattern.period(), |h, task| {
        h / gcd(h, task.period) * task.period
    });
    let longest = tasks.iter().map(|task| task.deadline).max().unwrap_or(0);
    2 * hyperperiod + 2 * pattern.period() + longest
}

/// The tasks that miss a deadline in [0, horizon], in the order of the slice.
fn misses(tasks: &[Task], policy: Policy, pattern: Pattern) -> Vec<bool> {
    let end = horizon(tasks, pattern);
    let mut missed = vec![false; tasks.len()];
    // (absolute deadline, remaining work, task) of released, unfinished jobs.
    let mut jobs: Vec<(u64, u64, usize)> = Vec::new();
    for now in 0..=end {
        jobs.retain(|&(deadline, _, i)| {
            if deadline <= now {
                missed[i] = true;
            }
            deadline > now
        });
        for (i, task) in tasks.iter().enumerate() {
            if now % task.period == 0 {
                jobs.push((now + task.deadline, task.wcet, i));
            }
        }
        if !pattern.supplied(now) {
            continue;
        }
        let next = match policy {
            Policy::Edf => (0..jobs.len()).min_by_key(|&j| jobs[j].0),
            Policy::FixedPriority => (0..jobs.len()).min_by_key(|&j| tasks[jobs[j].2].priority),
        };
        if let Some(j) = next {
            jobs[j].1 -= 1;
            if jobs[j].1 == 0 {
                jobs.swap_remove(j);
            }
        }
    }
    missed
}

/// dbf by counting jobs one by one.
fn brute_demand(tasks: &[Task], t: u64) -> u128 {
    let mut total = 0;
    for task in tasks {
        let mut release = 0;
        while release + task.deadline <= t {
            total += u128::from(task.wcet);
            release += task.period;
        }
    }
    total
}

/// rbf of task `i` at `t`: its own job and every job of a higher-priority
/// task released in [0, t).
fn brute_request(tasks: &[Task], i: usize, t: u64) -> u128 {
    let mut total = u128::from(tasks[i].wcet);
    for other in tasks.iter().filter(|o| o.priority < tasks[i].priority) {
        let mut release = 0;
        while release < t {
            total += u128::from(other.wcet);
            release += other.period;
        }
    }
    total
}

fn agrees(tasks: &[Task], policy: Policy, pattern: Pattern) -> Result<bool, TestCaseError> {
    let missed = misses(tasks, policy, pattern);
    let verdict = check(tasks, policy, pattern.supply());
    match (&verdict, policy) {
        (Verdict::Schedulable, _) => {
            prop_assert!(!missed.contains(&true), "accepted, but {:?} miss", missed);
        }
        (
            Verdict::Unschedulable(Violation::Edf {
                t,
                demand,
                supply,
                first,
            }),
            Policy::Edf,
        ) => {
            prop_assert!(*first);
            prop_assert!(missed.contains(&true), "rejected, but nothing misses");
            let first = (1..=horizon(tasks, pattern))
                .find(|&t| brute_demand(tasks, t) > u128::from(pattern.cumulative(t)));
            prop_assert_eq!(Some(*t), first);
            prop_assert_eq!(*demand, brute_demand(tasks, *t));
            prop_assert_eq!(*supply, pattern.cumulative(*t));
        }
        (
            Verdict::Unschedulable(Violation::FixedPriority {
                task,
                deadline,
                request,
                supply,
            }),
            Policy::FixedPriority,
        ) => {
            // Lower priorities never delay higher ones: the first to miss
            // by priority is the one the analysis names.
            let first = (0..tasks.len())
                .filter(|&i| missed[i])
                .min_by_key(|&i| tasks[i].priority);
            prop_assert_eq!(Some(*task), first, "missed {:?}", missed);
            prop_assert_eq!(*deadline, tasks[*task].deadline);
            prop_assert_eq!(*request, brute_request(tasks, *task, *deadline));
            prop_assert_eq!(*supply, pattern.cumulative(*deadline));
        }
        _ => prop_assert!(false, "{:?} under {:?}", verdict, policy),
    }
    Ok(verdict == Verdict::Schedulable)
}

/// Deadline 1..=period, wcet 1..=deadline, mostly small so that a fair
/// share of sets fit in a server.
fn task() -> impl Strategy<Value = Task> {
    (1..=12u64)
        .prop_flat_map(|period| (Just(period), 1..=period))
        .prop_flat_map(|(period, deadline)| {
            let wcet = prop_oneof![
                3 => 1..=deadline.div_ceil(4),
                1 => 1..=deadline,
            ];
            (Just(period), Just(deadline), wcet)
        })
        .prop_map(|(period, deadline, wcet)| Task {
            period,
            wcet,
            deadline,
            priority: 0,
        })
}

/// 1..=4 tasks with distinct priorities in a random order.
fn task_set() -> impl Strategy<Value = Vec<Task>> {
    prop::collection::vec(task(), 1..=4).prop_flat_map(|tasks| {
        let ranks: Vec<u32> = (0..tasks.len() as u32).collect();
        (Just(tasks), Just(ranks).prop_shuffle()).prop_map(|(tasks, ranks)| {
            tasks
                .into_iter()
                .zip(ranks)
                .map(|(task, priority)| Task { priority, ..task })
                .collect()
        })
    })
}

fn server() -> impl Strategy<Value = Pattern> {
    (1..=12u64)
        .prop_flat_map(|period| (Just(period), 1..=period))
        .prop_map(|(period, budget)| Pattern::Worst { period, budget })
}

fn policy() -> impl Strategy<Value = Policy> {
    prop_oneof![Just(Policy::Edf), Just(Policy::FixedPriority)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn prm_verdict_matches_the_schedule(
        tasks in task_set(),
        policy in policy(),
        pattern in server(),
    ) {
        agrees(&tasks, policy, pattern)?;
    }

    /// Without the forward scan, the backward walk and its bisection alone
    /// must reach the same verdict and the same first overload.
    #[test]
    fn prm_backward_walk_alone_matches(
        tasks in task_set(),
        pattern in server(),
    ) {
        let supply = pattern.supply();
        let no_scan = Limits { edf_deadlines: 0, ..Limits::DEFAULT };
        prop_assert_eq!(
            check_with_limits(&tasks, Policy::Edf, supply, &no_scan),
            check(&tasks, Policy::Edf, supply)
        );
    }

    #[test]
    fn prm_dedicated_core_matches_the_schedule(tasks in task_set(), policy in policy()) {
        agrees(&tasks, policy, Pattern::Always)?;
    }

    #[test]
    fn prm_minimal_budget_is_the_least_the_schedule_accepts(
        tasks in task_set(),
        policy in policy(),
        period in 1..=12u64,
    ) {
        let least = (1..=period).find(|&budget| {
            !misses(&tasks, policy, Pattern::Worst { period, budget }).contains(&true)
        });
        prop_assert_eq!(minimal_budget(&tasks, policy, period), least);
    }
}

fn scaled(tasks: &[Task], factor: u64) -> Vec<Task> {
    tasks
        .iter()
        .map(|task| Task {
            period: task.period * factor,
            wcet: task.wcet * factor,
            deadline: task.deadline * factor,
            priority: task.priority,
        })
        .collect()
}

/// Scaling every time by k scales demand, request and supply alike: the
/// same verdict, every figure of a rejection times k.
fn scale_verdict(verdict: Verdict, factor: u64) -> Verdict {
    let k = u128::from(factor);
    match verdict {
        Verdict::Unschedulable(Violation::Edf {
            t,
            demand,
            supply,
            first,
        }) => Verdict::Unschedulable(Violation::Edf {
            t: t * factor,
            demand: demand * k,
            supply: supply * factor,
            first,
        }),
        Verdict::Unschedulable(Violation::FixedPriority {
            task,
            deadline,
            request,
            supply,
        }) => Verdict::Unschedulable(Violation::FixedPriority {
            task,
            deadline: deadline * factor,
            request: request * k,
            supply: supply * factor,
        }),
        other => other,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn prm_scaling_keeps_the_verdict(
        tasks in task_set(),
        policy in policy(),
        pattern in server(),
        factor in prop::sample::select(vec![1_000_003u64, 83_333_333_329]),
    ) {
        let Pattern::Worst { period, budget } = pattern else { unreachable!() };
        let small = check(&tasks, policy, pattern.supply());
        let large = check(
            &scaled(&tasks, factor),
            policy,
            Supply::Server { period: period * factor, budget: budget * factor },
        );
        prop_assert_eq!(large, scale_verdict(small, factor));
    }
}

/// Any time up to 2^64 ns, half the time up to 10^12 (the validated range).
fn time() -> impl Strategy<Value = u64> {
    prop_oneof![1..=1_000_000_000_000u64, 1..=u64::MAX]
}

/// Up to `limit`: near it, small, or anywhere.
fn at_most(limit: u64) -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(limit),
        (0..=limit.min(1_000)).prop_map(move |d| limit - d.min(limit - 1)),
        1..=limit.min(1_000),
        1..=limit,
    ]
}

fn large_task() -> impl Strategy<Value = Task> {
    time()
        .prop_flat_map(|period| (Just(period), at_most(period)))
        .prop_flat_map(|(period, deadline)| (Just(period), Just(deadline), at_most(deadline)))
        .prop_map(|(period, deadline, wcet)| Task {
            period,
            wcet,
            deadline,
            priority: (period % 7) as u32,
        })
}

const TIGHT: Limits = Limits {
    edf_deadlines: 1_000,
    edf_walk_steps: 10_000,
    fixed_priority_steps: 10_000,
};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// No panic and no accept that the figures contradict, anywhere in
    /// the time range.
    #[test]
    fn prm_large_inputs_give_an_answer(
        tasks in prop::collection::vec(large_task(), 1..=6),
        period in time(),
        policy in policy(),
        share in 0..=1_000u64,
    ) {
        let budget = u64::try_from(u128::from(period) * u128::from(share) / 1_000)
            .unwrap()
            .max(1);
        let supply = Supply::Server { period, budget };
        match check_with_limits(&tasks, policy, supply, &TIGHT) {
            Verdict::Unschedulable(Violation::Edf { t, demand, supply: s, .. }) => {
                prop_assert!(demand > u128::from(s));
                prop_assert_eq!(s, sbf(supply, t));
            }
            Verdict::Unschedulable(Violation::FixedPriority { task, deadline, request, supply: s }) => {
                prop_assert!(request > u128::from(s));
                prop_assert_eq!(deadline, tasks[task].deadline);
                prop_assert_eq!(s, sbf(supply, deadline));
            }
            _ => {}
        }
        if let Some(least) = minimal_budget_with_limits(&tasks, policy, period, &TIGHT) {
            let verdict = check_with_limits(
                &tasks,
                policy,
                Supply::Server { period, budget: least },
                &TIGHT,
            );
            prop_assert_eq!(verdict, Verdict::Schedulable);
        }
    }
}

#[test]
fn prm_sbf_is_the_worst_pattern_cumulative_supply() {
    for period in 1..=12 {
        for budget in 1..=period {
            let pattern = Pattern::Worst { period, budget };
            for t in 0..=4 * period + 3 {
                assert_eq!(
                    sbf(pattern.supply(), t),
                    pattern.cumulative(t),
                    "Π = {period}, Θ = {budget}, t = {t}"
                );
            }
        }
    }
}

/// The worst pattern is the worst: every window of the periodic pattern,
/// wherever it starts, gets at least `sbf` of its length.
#[test]
fn prm_sbf_bounds_every_window_of_a_periodic_supply() {
    for period in 1..=12u64 {
        for budget in 1..=period {
            for offset in 0..period {
                let supplied = |s: u64| (s + offset) % period < budget;
                for start in 0..2 * period {
                    let mut got = 0;
                    for length in 0..=3 * period {
                        let supply = Supply::Server { period, budget };
                        assert!(got >= sbf(supply, length), "Π {period} Θ {budget}");
                        got += u64::from(supplied(start + length));
                    }
                }
            }
        }
    }
}

/// Both outcomes are well represented, or agreement proves little.
#[test]
fn prm_sweep_has_both_outcomes() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut accepted, mut rejected) = (0, 0);
    for _ in 0..500 {
        let tasks = task_set().new_tree(&mut runner).unwrap().current();
        let pattern = server().new_tree(&mut runner).unwrap().current();
        for policy in [Policy::Edf, Policy::FixedPriority] {
            if agrees(&tasks, policy, pattern).unwrap() {
                accepted += 1;
            } else {
                rejected += 1;
            }
        }
    }
    assert!(accepted > 150 && rejected > 150, "{accepted} / {rejected}");
}
