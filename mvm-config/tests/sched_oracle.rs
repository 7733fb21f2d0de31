//! The EDF analysis against an independent oracle: a discrete-time schedule.
//!
//! - The oracle shares no code with `sched`: it runs EDF unit by unit from a
//!   synchronous release and watches for a job past its deadline.
//! - Horizon H + D_max (H the hyperperiod): with U <= 1 a synchronous set
//!   that misses, misses by then (Baruah, Rosier & Howell 1990); with U > 1
//!   h(H) = U H > H, so it misses by H.
//! - Small integers keep H small (at most lcm(1..=12) = 27720) and the whole
//!   file within a few seconds in debug builds.

use mvm_config::sched::{
    analyze, analyze_with_limits, demand, Analysis, Limits, Server, Test, Verdict, Violation,
};
use proptest::prelude::*;

mod common;
use common::horizon;

/// True when preemptive EDF misses a deadline in [0, horizon].
fn edf_misses(servers: &[Server]) -> bool {
    let end = horizon(servers);
    // (absolute deadline, remaining work) of released, unfinished jobs.
    let mut jobs: Vec<(u64, u64)> = Vec::new();
    for now in 0..=end {
        if jobs.iter().any(|&(deadline, _)| deadline <= now) {
            return true;
        }
        for s in servers {
            if now % s.period == 0 {
                jobs.push((now + s.deadline, s.cost));
            }
        }
        if let Some(earliest) = (0..jobs.len()).min_by_key(|&i| jobs[i].0) {
            jobs[earliest].1 -= 1;
            if jobs[earliest].1 == 0 {
                jobs.swap_remove(earliest);
            }
        }
    }
    false
}

/// Demand by counting jobs one by one, independent of `sched::demand`.
fn brute_demand(servers: &[Server], t: u64) -> u128 {
    let mut total = 0u128;
    for s in servers {
        let mut release = 0;
        while release + s.deadline <= t {
            total += u128::from(s.cost);
            release += s.period;
        }
    }
    total
}

fn first_overload(servers: &[Server]) -> Option<(u64, u128)> {
    (1..=horizon(servers))
        .map(|t| (t, brute_demand(servers, t)))
        .find(|&(t, h)| h > u128::from(t))
}

/// The verdict agrees with the schedule, and a rejection names the first
/// overload exactly.
fn check_against_oracle(servers: &[Server], analysis: &Analysis) -> Result<(), TestCaseError> {
    let misses = edf_misses(servers);
    let overload = first_overload(servers);
    prop_assert_eq!(misses, overload.is_some(), "oracle disagrees with itself");
    match (&analysis.verdict, overload) {
        (Verdict::Schedulable, None) => {}
        (Verdict::Unschedulable(v), Some((t, h))) => {
            prop_assert_eq!(
                v,
                &Violation {
                    t,
                    demand: h,
                    first: true
                }
            );
            prop_assert_eq!(demand(servers, t), h);
        }
        (verdict, overload) => {
            prop_assert!(
                false,
                "verdict {:?} but first overload {:?}",
                verdict,
                overload
            );
        }
    }
    let implicit = servers.iter().all(|s| s.deadline == s.period);
    let expected_test = if implicit {
        Test::Utilization
    } else {
        Test::ProcessorDemand
    };
    prop_assert_eq!(analysis.test, expected_test);
    Ok(())
}

/// Deadline 1..=period. Costs mostly small so that a fair share of sets
/// fit, sometimes up to two past the deadline so that some jobs cannot fit
/// even alone.
fn constrained_server() -> impl Strategy<Value = Server> {
    (1..=12u64)
        .prop_flat_map(|period| (Just(period), 1..=period))
        .prop_flat_map(|(period, deadline)| {
            let cost = prop_oneof![
                3 => 1..=period.div_ceil(4),
                1 => 1..=deadline + 2,
            ];
            (Just(period), Just(deadline), cost)
        })
        .prop_map(|(period, deadline, cost)| Server {
            cost,
            period,
            deadline,
        })
}

/// Costs mostly small so that a fair share of sets fit.
fn implicit_server() -> impl Strategy<Value = Server> {
    (1..=12u64)
        .prop_flat_map(|period| {
            let cost = prop_oneof![
                3 => 1..=period.div_ceil(4),
                1 => 1..=period + 1,
            ];
            (Just(period), cost)
        })
        .prop_map(|(period, cost)| Server {
            cost,
            period,
            deadline: period,
        })
}

fn scaled(servers: &[Server], factor: u64) -> Vec<Server> {
    servers
        .iter()
        .map(|s| Server {
            cost: s.cost * factor,
            period: s.period * factor,
            deadline: s.deadline * factor,
        })
        .collect()
}

/// Scaling every parameter by k scales h and t alike: the same verdict,
/// the first overload at k t with demand k h.
fn check_scaled(servers: &[Server], factor: u64) -> Result<(), TestCaseError> {
    let small = analyze(servers).verdict;
    let large = analyze(&scaled(servers, factor)).verdict;
    match (small, large) {
        (Verdict::Schedulable, Verdict::Schedulable) => {}
        (Verdict::Unschedulable(v), Verdict::Unschedulable(w)) => {
            prop_assert_eq!(w.t, v.t * factor);
            prop_assert_eq!(w.demand, v.demand * u128::from(factor));
            prop_assert!(v.first && w.first);
        }
        (small, large) => prop_assert!(false, "{:?} became {:?}", small, large),
    }
    Ok(())
}

const NO_SCAN: Limits = Limits {
    scan_steps: 0,
    ..Limits::DEFAULT
};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn constrained_deadlines_match_the_schedule(
        servers in prop::collection::vec(constrained_server(), 1..=5),
    ) {
        check_against_oracle(&servers, &analyze(&servers))?;
    }

    #[test]
    fn implicit_deadlines_match_the_schedule(
        servers in prop::collection::vec(implicit_server(), 1..=5),
    ) {
        check_against_oracle(&servers, &analyze(&servers))?;
    }

    /// Without the forward scan, the QPA bisection alone must find the same
    /// first overload.
    #[test]
    fn bisection_matches_the_schedule(
        servers in prop::collection::vec(constrained_server(), 1..=5),
    ) {
        check_against_oracle(&servers, &analyze_with_limits(&servers, &NO_SCAN))?;
    }

    #[test]
    fn scaling_keeps_the_verdict(
        servers in prop::collection::vec(constrained_server(), 1..=5),
        factor in prop::sample::select(vec![1_000_003u64, 1_099_511_627_791]),
    ) {
        check_scaled(&servers, factor)?;
    }
}

/// Every (period, deadline, cost) with period <= 6 and cost <= deadline + 1.
fn small_servers(max_period: u64) -> Vec<Server> {
    let mut all = Vec::new();
    for period in 1..=max_period {
        for deadline in 1..=period {
            for cost in 1..=deadline + 1 {
                all.push(Server {
                    cost,
                    period,
                    deadline,
                });
            }
        }
    }
    all
}

#[test]
fn every_small_pair_matches_the_schedule() {
    let all = small_servers(6);
    let (mut accepted, mut rejected) = (0, 0);
    for (i, &a) in all.iter().enumerate() {
        for &b in &all[i..] {
            let servers = [a, b];
            let analysis = analyze(&servers);
            check_against_oracle(&servers, &analysis).unwrap();
            match analysis.verdict {
                Verdict::Schedulable => accepted += 1,
                _ => rejected += 1,
            }
        }
    }
    // Both outcomes are well represented, or the sweep proves little.
    assert!(accepted > 300 && rejected > 300, "{accepted} / {rejected}");
}

#[test]
fn every_small_triple_matches_the_schedule() {
    let all = small_servers(4);
    for (i, &a) in all.iter().enumerate() {
        for (j, &b) in all.iter().enumerate().skip(i) {
            for &c in &all[j..] {
                let servers = [a, b, c];
                check_against_oracle(&servers, &analyze(&servers)).unwrap();
            }
        }
    }
}
