//! EDF schedulability of periodic servers on one core: exact, in integers.
//!
//! - A verdict is a proof, so it uses integers only: nanoseconds as `u64`,
//!   products in `u128`, big integers when fixed point cannot decide. No
//!   floating point touches a verdict.
//! - Implicit deadlines (D = T): utilization U <= 1 is exact (Liu & Layland).
//! - Constrained deadlines (D < T): processor demand h(t) <= t at every
//!   deadline, checked with QPA (Zhang & Burns, "Schedulability Analysis for
//!   Real-Time Systems with EDF Scheduling", IEEE Trans. Computers 58(9),
//!   2009), which visits a handful of instants instead of every deadline.
//! - A rejection names the first instant where demand exceeds supply, so the
//!   integrator sees which window to fix.
//! - Every search has a step budget; exhausting one gives a stated answer
//!   (`first: false` or `Inconclusive`), never a hang, a panic or an accept.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use mvm_kernel::edf::Params;
use num_bigint::BigUint;

use crate::units::plural;

/// One periodic server: every `period` ns a job of `cost` ns is released that must
/// finish within `deadline` ns of its release. `cost` already includes the switch overhead.
///
/// Not the kernel's [`Params`]: the analysis speaks of what a job costs the
/// core (budget plus the switch), not of what the scheduler grants, and it
/// has no use for `slack`. [`Server::charged`] is the one way from one to
/// the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Server {
    pub cost: u64,
    pub period: u64,
    pub deadline: u64,
}

impl Server {
    /// The job the analysis charges for a kernel server: its budget plus
    /// the per-job switch `overhead` (ns), in the server's period and
    /// deadline.
    pub fn charged(params: &Params, overhead: u64) -> Server {
        Server {
            cost: params.budget.saturating_add(overhead),
            period: params.period,
            deadline: params.deadline,
        }
    }
}

/// The monitor's time that no job's budget pays for, in any window that
/// ends at a deadline (the budget contract, docs/schedulability.md): the
/// kernel starts a job's budget after the world switch, so its entries are
/// the monitor's own. Each job is charged `overhead`, its release and its
/// end (two entries of at most `overhead / 2` each); what is left over is
/// one entry in progress when the window opens, and the release of each
/// server's job that falls in the window but is due after it (at most one
/// per server, since deadlines are within periods). So a core of
/// `servers` servers needs `(servers + 1) * ceil(overhead / 2)` ns in
/// every window beyond what the jobs due in it are charged.
pub fn monitor_blocking(servers: usize, overhead: u64) -> u64 {
    (servers as u64 + 1).saturating_mul(overhead.div_ceil(2))
}

/// `servers` with every deadline shortened by `blocking`: the exact test
/// on them is the exact test of `h(t) + blocking <= t` on the originals
/// (for `t` from the shortest deadline on). `None` when a deadline is not
/// longer than `blocking` (nothing could be proven).
pub fn with_blocking(servers: &[Server], blocking: u64) -> Option<Vec<Server>> {
    servers
        .iter()
        .map(|s| {
            (s.deadline > blocking).then_some(Server {
                deadline: s.deadline - blocking,
                ..*s
            })
        })
        .collect()
}

/// Which test decided: the report names it because the two reject differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Test {
    Utilization,
    ProcessorDemand,
}

/// Where EDF first runs out of time, counted from the synchronous release.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The time t (ns after the synchronous release) at which demand exceeds t.
    /// Always an absolute deadline of some job.
    pub t: u64,
    /// The processor demand h(t): the total cost of jobs released at or after 0 with deadline <= t.
    /// Exact; it could only saturate (see [`demand`]) when `first` is false.
    pub demand: u128,
    /// True when `t` is proven to be the FIRST such time. False only when both
    /// searches for it ran out of budget (see [`Limits`]): the forward scan
    /// after a million deadlines, then the QPA bisection. `t` is then a
    /// proven overload, but an earlier one may exist. That needs U within a
    /// hair of 1 (where QPA degrades to a deadline-by-deadline walk) and a
    /// first overload millions of deadlines away.
    pub first: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Schedulable,
    Unschedulable(Violation),
    /// The exact test could not finish within its iteration bound (only
    /// conceivable for U exactly 1 with huge hyperperiods); callers treat
    /// this as a rejection, with the reason.
    ///
    /// In practice also when U is within about 10^-6 of 1 with constrained
    /// deadlines and hundreds of servers: the interval QPA must cover grows
    /// like 1/(1 - U), and so does its walk. And when a set is proven
    /// unschedulable but no overload below 2^64 ns is known, which
    /// `Violation::t` could not express.
    Inconclusive {
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Analysis {
    pub test: Test,
    /// Total utilization sum(cost/period), in millionths, rounded UP (display only).
    /// Exact ceiling of the true sum, saturating at `u64::MAX`.
    pub utilization_ppm: u64,
    pub verdict: Verdict,
    /// The instants at which the processor demand h(t) was evaluated
    /// (QPA's steps and the forward scan's deadlines); 0 when the
    /// utilization alone decided. What the proof cost, for the manifest.
    pub points: u64,
}

/// Step budgets of the searches in [`analyze_with_limits`]. Each turns an
/// unbounded search into a stated answer when exhausted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deadlines the forward scan for the first overload visits before it
    /// hands over to the QPA bisection.
    pub scan_steps: u64,
    /// Work shared by every QPA run of one analysis, in server evaluations
    /// (one division each); a step costs its server count plus
    /// [`STEP_OVERHEAD`], so the worst case takes about the same time for
    /// any set size.
    pub qpa_work: u64,
    /// Work the busy-period iteration may spend, counted the same way.
    pub busy_period_work: u64,
}

impl Limits {
    /// Each budget takes at most about 0.1–0.3 s on a current x86 core
    /// (three times that for instants past 2^64 ns). Realistic sets well
    /// below U = 1 use a few thousandths of it.
    pub const DEFAULT: Limits = Limits {
        scan_steps: 1 << 20,
        qpa_work: 1 << 26,
        busy_period_work: 1 << 26,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The fixed cost of one QPA or busy-period step, in server evaluations.
pub const STEP_OVERHEAD: u64 = 8;

/// Busy-period iterations tried when the closed-form bound L_a already exists:
/// L_b only pays off when it converges fast, QPA handles a long L_a well.
const BUSY_PERIOD_STEPS_WITH_LA: u64 = 64;

/// 1.0 in the 2^64-scaled fixed point that brackets utilization.
const ONE: u128 = 1 << 64;

const PPM: u128 = 1_000_000;

/// Per-server utilization cost/period in millionths rounded up (display only).
pub fn utilization_ppm(s: &Server) -> u64 {
    let ppm = (u128::from(s.cost) * PPM).div_ceil(u128::from(s.period.max(1)));
    u64::try_from(ppm).unwrap_or(u64::MAX)
}

/// h(t) = sum over servers of max(0, floor((t - D)/T) + 1) * C.
///
/// Saturates at `u128::MAX`, which needs costs far above their periods; it
/// never happens at a first violation, where h(t) <= t + sum of costs.
pub fn demand(servers: &[Server], t: u64) -> u128 {
    servers.iter().fold(0u128, |h, s| {
        let jobs = if t < s.deadline {
            0
        } else {
            u128::from((t - s.deadline) / s.period) + 1
        };
        // jobs <= 2^64 and cost < 2^64, so the product fits.
        h.saturating_add(jobs * u128::from(s.cost))
    })
}

/// Preconditions (the caller validated them; debug_assert them): period > 0, cost > 0,
/// deadline > 0, deadline <= period. cost MAY exceed deadline (then unschedulable).
/// An empty slice is schedulable.
pub fn analyze(servers: &[Server]) -> Analysis {
    analyze_with_limits(servers, &Limits::DEFAULT)
}

/// [`analyze`] with explicit search budgets, for tests that drive the capped
/// paths and for tools that would rather wait longer than be told
/// `Inconclusive`.
pub fn analyze_with_limits(servers: &[Server], limits: &Limits) -> Analysis {
    for s in servers {
        debug_assert!(s.period > 0, "period must be positive: {s:?}");
        debug_assert!(s.cost > 0, "cost must be positive: {s:?}");
        debug_assert!(s.deadline > 0, "deadline must be positive: {s:?}");
        debug_assert!(
            s.deadline <= s.period,
            "deadline must not exceed period: {s:?}"
        );
    }
    let load = Load::new(servers);
    let implicit = servers.iter().all(|s| s.deadline == s.period);
    let mut work = Work {
        qpa: limits.qpa_work,
        points: 0,
    };
    let verdict = decide(servers, &load, implicit, limits, &mut work);
    Analysis {
        test: if implicit {
            Test::Utilization
        } else {
            Test::ProcessorDemand
        },
        utilization_ppm: load.ppm(servers),
        verdict,
        points: work.points,
    }
}

/// What the searches of one analysis may still spend, and what they spent.
struct Work {
    /// QPA's budget left, in server evaluations (shared by every QPA run).
    qpa: u64,
    /// Instants at which h(t) was evaluated so far.
    points: u64,
}

fn decide(
    servers: &[Server],
    load: &Load,
    implicit: bool,
    limits: &Limits,
    work: &mut Work,
) -> Verdict {
    if servers.is_empty() {
        return Verdict::Schedulable;
    }
    // A job longer than its own window misses whatever the others do: the
    // cheapest proof of infeasibility, and a tight limit for the forward scan.
    let oversized = servers
        .iter()
        .filter(|s| s.cost > s.deadline)
        .map(|s| u128::from(s.deadline))
        .min();
    match load.compare_with_one(servers) {
        Ordering::Greater => {
            let known = match (oversized, overload_bound(servers, load)) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            locate(servers, load, known, limits, work)
        }
        // C > D = T would make U > 1, so no oversized job reaches here.
        _ if implicit => Verdict::Schedulable,
        _ if oversized.is_some() => locate(servers, load, oversized, limits, work),
        utilization => {
            let Some(horizon) = search_horizon(servers, load, utilization, limits) else {
                return Verdict::Inconclusive {
                    reason: format!(
                        "utilization is {} 1 and the synchronous busy period did not converge \
                         within {}, so no finite interval to check is known",
                        if utilization == Ordering::Equal {
                            "exactly"
                        } else {
                            "just below"
                        },
                        plural(
                            limits.busy_period_work,
                            "server evaluation",
                            "server evaluations"
                        )
                    ),
                };
            };
            match qpa(servers, load, horizon, work) {
                Search::Clear => Verdict::Schedulable,
                Search::Violation(t) => locate(servers, load, Some(t), limits, work),
                Search::Capped => Verdict::Inconclusive {
                    reason: format!(
                        "the processor-demand test (QPA) did not finish within {} over an \
                         interval of {horizon} ns",
                        plural(limits.qpa_work, "server evaluation", "server evaluations")
                    ),
                },
            }
        }
    }
}

/// Utilization bracketed in 2^64 fixed point, `floor <= U * 2^64 <= ceil`,
/// plus the aggregates every bound needs, gathered in one pass.
struct Load {
    /// Saturating: a saturated floor is still a lower bound.
    floor: u128,
    /// `None` on overflow: a saturated ceiling would not be an upper bound.
    ceil: Option<u128>,
    cost_sum: u128,
    min_deadline: u64,
}

impl Load {
    fn new(servers: &[Server]) -> Self {
        let mut load = Load {
            floor: 0,
            ceil: Some(0),
            cost_sum: 0,
            min_deadline: u64::MAX,
        };
        for s in servers {
            // cost < 2^64, so the shifted cost fits in u128.
            let scaled = u128::from(s.cost) << 64;
            let period = u128::from(s.period);
            let quotient = scaled / period;
            let inexact = u128::from(quotient * period != scaled);
            load.floor = load.floor.saturating_add(quotient);
            load.ceil = load.ceil.and_then(|c| c.checked_add(quotient + inexact));
            load.cost_sum += u128::from(s.cost);
            load.min_deadline = load.min_deadline.min(s.deadline);
        }
        load
    }

    /// U against 1, exactly: fixed point decides unless its bracket holds 1.
    fn compare_with_one(&self, servers: &[Server]) -> Ordering {
        if let Some(ceil) = self.ceil {
            if ceil < ONE {
                return Ordering::Less;
            }
            // Every term was exact, so the sum is too.
            if ceil == self.floor {
                return ceil.cmp(&ONE);
            }
        }
        if self.floor > ONE {
            return Ordering::Greater;
        }
        let (utilization, periods) = exact_sum(servers, |s| s.cost.into());
        utilization.cmp(&periods)
    }

    /// ceil(10^6 U), exactly: the fixed-point bracket decides unless it
    /// straddles a whole millionth, which matters at U = 1 (100%, not 100.0001%).
    fn ppm(&self, servers: &[Server]) -> u64 {
        let Some(low) = self.floor.checked_mul(PPM) else {
            // U * 10^6 >= 2^64 already.
            return u64::MAX;
        };
        let low = low.div_ceil(ONE);
        let high = self
            .ceil
            .and_then(|c| c.checked_mul(PPM))
            .map(|c| c.div_ceil(ONE));
        let ppm = if high == Some(low) {
            low
        } else {
            let (utilization, periods) = exact_sum(servers, |s| s.cost.into());
            let ppm = (utilization * PPM + &periods - 1u32) / periods;
            u128::try_from(&ppm).unwrap_or(u128::MAX)
        };
        u64::try_from(ppm).unwrap_or(u64::MAX)
    }
}

/// `sum weight(s) / period` over `servers` as (numerator, product of periods).
///
/// The product rather than the lcm keeps it gcd-free; it is only the
/// fallback, and 256 periods of 64 bits are 16 kbit, cheap to multiply.
fn exact_sum(servers: &[Server], weight: impl Fn(&Server) -> u128) -> (BigUint, BigUint) {
    let mut numerator = BigUint::default();
    let mut denominator = BigUint::from(1u32);
    for s in servers {
        numerator = numerator * s.period + &denominator * weight(s);
        denominator *= s.period;
    }
    (numerator, denominator)
}

fn ceil_div(numerator: &BigUint, denominator: &BigUint) -> Option<u128> {
    let quotient = (numerator + denominator - 1u32) / denominator;
    u128::try_from(&quotient).ok()
}

/// For U < 1, an upper bound on Zhang & Burns' L_a =
/// max(D_max, sum (T_i - D_i) U_i / (1 - U)): no first overload lies beyond it.
/// `None` when it exceeds `u128`.
fn bound_la(servers: &[Server], load: &Load) -> Option<u128> {
    let max_deadline = servers.iter().map(|s| s.deadline).max().unwrap_or(0);
    // Rounding each term up keeps the result an upper bound; each is <= C.
    let numerator: u128 = servers
        .iter()
        .map(|s| (u128::from(s.period - s.deadline) * u128::from(s.cost)).div_ceil(s.period.into()))
        .sum();
    let fixed = match load.ceil {
        // 1 - U >= (ONE - ceil) / ONE, and numerator * ONE fits below 2^128.
        Some(ceil) if ceil < ONE && numerator < ONE => Some((numerator * ONE).div_ceil(ONE - ceil)),
        _ => None,
    };
    let bound = fixed.or_else(|| {
        let (slack_weighted, periods) = exact_sum(servers, |s| {
            u128::from(s.period - s.deadline) * u128::from(s.cost)
        });
        let (utilization, _) = exact_sum(servers, |s| s.cost.into());
        ceil_div(&slack_weighted, &(periods - utilization))
    })?;
    Some(bound.max(max_deadline.into()))
}

/// For U > 1, a t with h(t) > t: h(t) > U t - sum U_i D_i for every t >= 0,
/// so any t >= sum U_i D_i / (U - 1) is an overload. Returns an upper bound on
/// that quotient, `None` when it exceeds `u128`.
fn overload_bound(servers: &[Server], load: &Load) -> Option<u128> {
    // Each rounded-up term is <= C, so the sum stays far below 2^128.
    let numerator: u128 = servers
        .iter()
        .map(|s| (u128::from(s.cost) * u128::from(s.deadline)).div_ceil(s.period.into()))
        .sum();
    // U - 1 >= (floor - ONE) / ONE; a saturated floor only makes this smaller.
    if load.floor > ONE && numerator < ONE {
        return Some((numerator * ONE).div_ceil(load.floor - ONE));
    }
    let (weighted, periods) = exact_sum(servers, |s| u128::from(s.cost) * u128::from(s.deadline));
    let (utilization, _) = exact_sum(servers, |s| s.cost.into());
    ceil_div(&weighted, &(utilization - periods))
}

/// The interval QPA must cover: min(L_a, L_b) for U < 1, L_b for U = 1.
/// `None` when neither is known.
fn search_horizon(
    servers: &[Server],
    load: &Load,
    utilization: Ordering,
    limits: &Limits,
) -> Option<u128> {
    let work_steps = limits.busy_period_work / (servers.len() as u64 + STEP_OVERHEAD);
    match utilization {
        Ordering::Less => {
            let la = bound_la(servers, load);
            let (limit, steps) = match la {
                Some(la) => (la, BUSY_PERIOD_STEPS_WITH_LA.min(work_steps)),
                None => (u128::MAX, work_steps),
            };
            match busy_period(servers, load, limit, steps) {
                Some(lb) => Some(la.map_or(lb, |la| la.min(lb))),
                None => la,
            }
        }
        _ => busy_period(servers, load, u128::MAX, work_steps),
    }
}

/// The synchronous busy period L_b: least w > 0 with w = sum ceil(w/T_i) C_i.
/// No deadline is first missed after it. `None` when it passes `limit` or
/// does not converge within `steps` iterations.
fn busy_period(servers: &[Server], load: &Load, limit: u128, steps: u64) -> Option<u128> {
    let mut busy = load.cost_sum;
    for _ in 0..steps {
        let next = workload(servers, busy)?;
        if next == busy {
            return Some(busy);
        }
        if next > limit {
            return None;
        }
        busy = next;
    }
    None
}

/// sum ceil(w/T_i) C_i, the work released in [0, w); `None` on overflow.
fn workload(servers: &[Server], w: u128) -> Option<u128> {
    let mut total: u128 = 0;
    if let Ok(w) = u64::try_from(w) {
        // u64 division is several times cheaper than u128.
        for s in servers {
            let jobs = u128::from(w.div_ceil(s.period));
            total = total.checked_add(jobs * u128::from(s.cost))?;
        }
    } else {
        for s in servers {
            let jobs = w.div_ceil(s.period.into());
            total = total.checked_add(jobs.checked_mul(s.cost.into())?)?;
        }
    }
    Some(total)
}

/// h(t) (saturating) and the latest deadline strictly before t (0 if none):
/// the two values a QPA step needs, for one division per server.
fn demand_and_previous(servers: &[Server], t: u128) -> (u128, u128) {
    let mut demand: u128 = 0;
    let mut previous: u128 = 0;
    if let Ok(t) = u64::try_from(t) {
        let mut latest = 0u64;
        for s in servers {
            if t > s.deadline {
                let k = (t - 1 - s.deadline) / s.period;
                // Below t, so no overflow.
                let last = s.deadline + k * s.period;
                let jobs = u128::from(k) + 1 + u128::from(t - last == s.period);
                demand = demand.saturating_add(jobs * u128::from(s.cost));
                latest = latest.max(last);
            } else if t == s.deadline {
                demand = demand.saturating_add(s.cost.into());
            }
        }
        previous = latest.into();
    } else {
        for s in servers {
            let (deadline, period) = (u128::from(s.deadline), u128::from(s.period));
            // t > u64::MAX >= deadline.
            let k = (t - 1 - deadline) / period;
            let last = deadline + k * period;
            let jobs = k + 1 + u128::from(t - last == period);
            let cost = jobs.saturating_mul(s.cost.into());
            demand = demand.saturating_add(cost);
            previous = previous.max(last);
        }
    }
    (demand, previous)
}

/// The latest deadline at or before t, 0 if none.
fn latest_deadline(servers: &[Server], t: u128) -> u128 {
    servers
        .iter()
        .filter(|s| t >= u128::from(s.deadline))
        .map(|s| {
            let (deadline, period) = (u128::from(s.deadline), u128::from(s.period));
            deadline + (t - deadline) / period * period
        })
        .max()
        .unwrap_or(0)
}

enum Search {
    Clear,
    Violation(u128),
    Capped,
}

/// Zhang & Burns' QPA over [0, horizon]: walks t down, jumping to h(t) when
/// h(t) < t (every instant in [h(t), t] is then safe, since h only grows).
/// Finds an overload if one exists, not necessarily the first.
fn qpa(servers: &[Server], load: &Load, horizon: u128, work: &mut Work) -> Search {
    let mut t = latest_deadline(servers, horizon);
    if t == 0 {
        return Search::Clear;
    }
    let cost = servers.len() as u64 + STEP_OVERHEAD;
    while work.qpa >= cost {
        work.qpa -= cost;
        work.points += 1;
        let (demand, previous) = demand_and_previous(servers, t);
        if demand > t {
            return Search::Violation(t);
        }
        if demand <= u128::from(load.min_deadline) {
            return Search::Clear;
        }
        t = if demand < t { demand } else { previous };
    }
    Search::Capped
}

enum Scan {
    First {
        t: u64,
        demand: u128,
    },
    /// Stopped early; every deadline up to `reached` is free of overload.
    Capped {
        reached: u128,
    },
    /// Every deadline representable in u64 was visited without an overload.
    Exhausted,
}

/// Visits deadlines in increasing order, keeping h(t) incrementally, until
/// the first overload, `limit` (a known overload) or `max_steps` deadlines.
/// Cheap when the overload is early, which is the usual case.
/// Counts each instant it evaluates in `points`.
fn scan_forward(servers: &[Server], limit: u128, max_steps: u64, points: &mut u64) -> Scan {
    let mut heap: BinaryHeap<Reverse<(u64, usize)>> = servers
        .iter()
        .enumerate()
        .map(|(i, s)| Reverse((s.deadline, i)))
        .collect();
    let mut demand: u128 = 0;
    let mut reached: u128 = 0;
    let mut steps: u64 = 0;
    while let Some(&Reverse((t, _))) = heap.peek() {
        if u128::from(t) > limit || steps >= max_steps {
            return Scan::Capped { reached };
        }
        while let Some(&Reverse((deadline, i))) = heap.peek() {
            if deadline != t {
                break;
            }
            heap.pop();
            steps += 1;
            let s = &servers[i];
            demand += u128::from(s.cost);
            // Deadlines past u64::MAX cannot be reported; drop them.
            if let Some(next) = deadline.checked_add(s.period) {
                heap.push(Reverse((next, i)));
            }
        }
        *points += 1;
        if demand > u128::from(t) {
            return Scan::First { t, demand };
        }
        reached = t.into();
    }
    Scan::Exhausted
}

/// Turns a proven overload (`known`: an instant with h > t) into the first
/// one: a forward scan from 0, then, if that runs long, a bisection between
/// the scan's reach and `known` that asks QPA "any overload up to mid?".
fn locate(
    servers: &[Server],
    load: &Load,
    known: Option<u128>,
    limits: &Limits,
    work: &mut Work,
) -> Verdict {
    let limit = known.unwrap_or(u128::MAX);
    let mut low = match scan_forward(servers, limit, limits.scan_steps, &mut work.points) {
        Scan::First { t, demand } => {
            return Verdict::Unschedulable(Violation {
                t,
                demand,
                first: true,
            })
        }
        Scan::Capped { reached } => reached,
        Scan::Exhausted => {
            return Verdict::Inconclusive {
                reason: "demand exceeds supply, but only after 2^64 ns, beyond the \
                         representable time range"
                    .into(),
            }
        }
    };
    let Some(known) = known else {
        return Verdict::Inconclusive {
            reason: "utilization exceeds 1, but the first overload lies beyond 2^128 ns".into(),
        };
    };
    // h is flat between deadlines, so the deadline at or before an
    // overloaded instant is overloaded too.
    let mut high = latest_deadline(servers, known);
    let first = loop {
        // A proven overload lies at or after the smallest deadline.
        debug_assert!(high > 0);
        let below = latest_deadline(servers, high.saturating_sub(1));
        if below <= low {
            break true;
        }
        // In (low, below], so each round strictly shrinks the interval.
        let mid = low + (below - low).div_ceil(2);
        match qpa(servers, load, mid, work) {
            Search::Violation(t) => high = latest_deadline(servers, t),
            Search::Clear => low = mid,
            Search::Capped => break false,
        }
    };
    match u64::try_from(high) {
        Ok(t) => Verdict::Unschedulable(Violation {
            t,
            demand: demand(servers, t),
            first,
        }),
        Err(_) => Verdict::Inconclusive {
            reason: if first {
                format!(
                    "demand first exceeds supply at {high} ns, beyond the representable \
                     time range of 2^64 ns"
                )
            } else {
                format!(
                    "demand exceeds supply at {high} ns, beyond the representable time \
                     range of 2^64 ns, and the search for an earlier overload ran out of budget"
                )
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(cost: u64, deadline: u64, period: u64) -> Server {
        Server {
            cost,
            period,
            deadline,
        }
    }

    fn violation(t: u64, demand: u128) -> Verdict {
        Verdict::Unschedulable(Violation {
            t,
            demand,
            first: true,
        })
    }

    #[test]
    fn empty_set_is_schedulable() {
        let analysis = analyze(&[]);
        assert_eq!(analysis.verdict, Verdict::Schedulable);
        assert_eq!(analysis.utilization_ppm, 0);
        assert_eq!(analysis.test, Test::Utilization);
    }

    #[test]
    fn implicit_deadlines_at_exactly_full_utilization_are_schedulable() {
        let analysis = analyze(&[server(1, 2, 2), server(1, 2, 2)]);
        assert_eq!(analysis.test, Test::Utilization);
        assert_eq!(analysis.utilization_ppm, 1_000_000);
        assert_eq!(analysis.verdict, Verdict::Schedulable);
    }

    #[test]
    fn thirds_need_the_exact_fallback_and_still_sum_to_one() {
        let analysis = analyze(&[server(1, 3, 3); 3]);
        assert_eq!(analysis.utilization_ppm, 1_000_000);
        assert_eq!(analysis.verdict, Verdict::Schedulable);
        let analysis = analyze(&[server(1, 3, 3), server(1, 3, 3), server(2, 7, 7)]);
        assert_eq!(analysis.utilization_ppm, 952_381);
        assert_eq!(analysis.verdict, Verdict::Schedulable);
    }

    #[test]
    fn implicit_overload_reports_first_violation() {
        // U = 2/3 + 1/2. Deadlines 3, 4, 6, 8, 9: h = 2, 4, 6, 8, 10.
        let analysis = analyze(&[server(2, 3, 3), server(2, 4, 4)]);
        assert_eq!(analysis.test, Test::Utilization);
        assert_eq!(analysis.utilization_ppm, 1_166_667);
        assert_eq!(analysis.verdict, violation(9, 10));
    }

    #[test]
    fn constrained_set_below_full_utilization_is_rejected_by_demand() {
        // U = 0.8 but both jobs are due by 3: h(3) = 4.
        let analysis = analyze(&[server(2, 2, 5), server(2, 3, 5)]);
        assert_eq!(analysis.test, Test::ProcessorDemand);
        assert_eq!(analysis.utilization_ppm, 800_000);
        assert_eq!(analysis.verdict, violation(3, 4));
    }

    #[test]
    fn first_violation_is_not_the_first_deadline() {
        // U = 13/15. Deadlines 2, 4, 5: h = 1, 3, 6 (two jobs of the first).
        let servers = [server(1, 2, 3), server(2, 4, 6), server(2, 5, 10)];
        let analysis = analyze(&servers);
        assert_eq!(analysis.verdict, violation(5, 6));
        assert_eq!(demand(&servers, 5), 6);
        assert_eq!(demand(&servers, 4), 3);
    }

    #[test]
    fn constrained_schedulable_set() {
        // U = 0.5: h(2) = 1, h(4) = 3, h(7) = 4, h(8) = 5, ...
        let servers = [server(1, 2, 4), server(2, 4, 8)];
        let analysis = analyze(&servers);
        assert_eq!(analysis.test, Test::ProcessorDemand);
        assert_eq!(analysis.verdict, Verdict::Schedulable);
    }

    #[test]
    fn constrained_at_exactly_full_utilization_uses_the_busy_period() {
        // A runs [0, 1), B runs [1, 2), forever.
        let analysis = analyze(&[server(1, 1, 2), server(1, 2, 2)]);
        assert_eq!(analysis.test, Test::ProcessorDemand);
        assert_eq!(analysis.verdict, Verdict::Schedulable);
        let analysis = analyze(&[server(1, 1, 2), server(1, 1, 2)]);
        assert_eq!(analysis.verdict, violation(1, 2));
    }

    #[test]
    fn job_longer_than_its_deadline_fails_at_that_deadline() {
        let analysis = analyze(&[server(5, 4, 10)]);
        assert_eq!(analysis.verdict, violation(4, 5));
        // Even when the other server is harmless and U < 1.
        let analysis = analyze(&[server(1, 100, 100), server(5, 4, 10)]);
        assert_eq!(analysis.verdict, violation(4, 5));
    }

    #[test]
    fn demand_counts_jobs_due_by_t() {
        let servers = [server(3, 4, 10)];
        assert_eq!(demand(&servers, 3), 0);
        assert_eq!(demand(&servers, 4), 3);
        assert_eq!(demand(&servers, 13), 3);
        assert_eq!(demand(&servers, 14), 6);
    }

    #[test]
    fn per_server_utilization_rounds_up() {
        assert_eq!(utilization_ppm(&server(1, 3, 3)), 333_334);
        assert_eq!(utilization_ppm(&server(1, 4, 4)), 250_000);
        assert_eq!(utilization_ppm(&server(u64::MAX, 1, 1)), u64::MAX);
    }

    #[test]
    fn large_coprime_periods_at_exactly_one_are_decided_exactly() {
        // (p - 1)/p + q/(p q) = 1 exactly, which no fixed point represents.
        let (p, q) = (1_000_000_007u64, 998_244_353u64);
        let servers = [server(p - 1, p, p), server(q, p * q, p * q)];
        let analysis = analyze(&servers);
        assert_eq!(analysis.utilization_ppm, 1_000_000);
        assert_eq!(analysis.verdict, Verdict::Schedulable);
        // One more ns of cost tips it over by 1/(p q).
        // Its first overload is near 10^27 ns; only the rejection matters.
        let servers = [server(p - 1, p, p), server(q + 1, p * q, p * q)];
        let analysis = analyze_with_limits(&servers, &TIGHT);
        assert_eq!(analysis.utilization_ppm, 1_000_001);
        assert_ne!(analysis.verdict, Verdict::Schedulable);
    }

    #[test]
    fn huge_parameters_do_not_overflow() {
        let max = u64::MAX;
        let servers = [server(max / 4, max / 2, max), server(max / 4, max - 1, max)];
        assert_eq!(analyze(&servers).verdict, Verdict::Schedulable);
        // U = 1 exactly, yet both jobs are due by max - 1.
        let servers = [
            server(max / 2, max / 2, max),
            server(max / 2 + 1, max - 1, max),
        ];
        assert_eq!(analyze(&servers).verdict, violation(max - 1, max.into()));
        let servers = [server(max, 1, 1), server(max, 1, 1)];
        assert_eq!(analyze(&servers).verdict, violation(1, u128::from(max) * 2));
        let servers = [server(max - 1, max, max), server(max - 1, max, max)];
        let analysis = analyze(&servers);
        assert_eq!(analysis.test, Test::Utilization);
        assert_eq!(analysis.verdict, violation(max, u128::from(max - 1) * 2));
    }

    /// U - 1 = 1/(p q) with q = c p - 1: h(t) <= U t < t + 1 below the
    /// hyperperiod p q, and h(p q) = p q + 1, so the first overload is there.
    fn barely_overloaded(p: u64, c: u64) -> ([Server; 2], u128) {
        let q = c * p - 1;
        let hyperperiod = u128::from(p) * u128::from(q);
        ([server(p - 1, p, p), server(c, q, q)], hyperperiod)
    }

    const TIGHT: Limits = Limits {
        scan_steps: 1_000,
        qpa_work: 100_000,
        busy_period_work: 100_000,
    };

    #[test]
    fn far_overload_within_budget_is_found_exactly() {
        let (servers, first) = barely_overloaded(1_009, 3);
        let first_t = u64::try_from(first).unwrap();
        let analysis = analyze(&servers);
        assert_eq!(analysis.verdict, violation(first_t, first + 1));
        // Thousands of deadlines away: the bisection has to get there.
        let analysis = analyze_with_limits(
            &servers,
            &Limits {
                scan_steps: 10,
                ..Limits::DEFAULT
            },
        );
        assert_eq!(analysis.verdict, violation(first_t, first + 1));
    }

    #[test]
    fn exhausted_budgets_report_a_later_overload() {
        let (servers, first) = barely_overloaded(1_000_003, 2);
        let analysis = analyze_with_limits(&servers, &TIGHT);
        let Verdict::Unschedulable(v) = analysis.verdict else {
            panic!("{analysis:?}");
        };
        assert!(!v.first);
        assert!(u128::from(v.t) >= first);
        assert!(v.demand > u128::from(v.t));
        assert_eq!(v.demand, demand(&servers, v.t));
    }

    #[test]
    fn overload_beyond_u64_time_is_inconclusive() {
        // The first overload is at about 2^93 ns.
        let (servers, _) = barely_overloaded(2_147_483_647, 1 << 31);
        let analysis = analyze_with_limits(&servers, &TIGHT);
        assert!(
            matches!(analysis.verdict, Verdict::Inconclusive { .. }),
            "{analysis:?}"
        );
    }

    #[test]
    fn bisection_alone_finds_the_same_first_violation() {
        let no_scan = Limits {
            scan_steps: 0,
            ..Limits::DEFAULT
        };
        let sets: [&[Server]; 5] = [
            &[server(2, 3, 3), server(2, 4, 4)],
            &[server(2, 2, 5), server(2, 3, 5)],
            &[server(1, 2, 3), server(2, 4, 6), server(2, 5, 10)],
            &[server(1, 1, 2), server(1, 1, 2)],
            &[server(1, 100, 100), server(5, 4, 10)],
        ];
        for servers in sets {
            assert_eq!(
                analyze_with_limits(servers, &no_scan).verdict,
                analyze(servers).verdict,
                "{servers:?}"
            );
        }
    }

    #[test]
    fn the_points_counted_are_the_instants_whose_demand_was_evaluated() {
        // Utilization alone decides implicit deadlines.
        assert_eq!(analyze(&[server(2, 4, 4), server(1, 3, 3)]).points, 0);
        // QPA's first step (the last deadline before its horizon) is
        // already an overload; the forward scan then locates the first:
        // h(2) = 2 fits, h(3) = 4 does not.
        let a = analyze(&[server(2, 2, 5), server(2, 3, 5)]);
        assert_eq!(a.verdict, violation(3, 4));
        assert_eq!(a.points, 1 + 2);
        // An oversized job goes straight to the scan.
        let a = analyze(&[server(3, 2, 5), server(1, 3, 5)]);
        assert_eq!(a.verdict, violation(2, 3));
        assert_eq!(a.points, 1);
        // QPA over the synchronous busy period, L = 2 (1 + 1 fits in
        // [0, 2)): one step at its last deadline, t = 2, where h(2) = 1 is
        // no more than the shortest deadline, which ends the walk.
        let a = analyze(&[server(1, 2, 4), server(1, 3, 6)]);
        assert_eq!(a.verdict, Verdict::Schedulable);
        assert_eq!(a.points, 1, "{a:?}");
        // QPA visits a subset of the deadlines within the busy period, each
        // at most once (t only falls), and at least one.
        let many: Vec<Server> = (1..=20).map(|i| server(3, 10 * i, 40 * i)).collect();
        let a = analyze(&many);
        assert_eq!(a.verdict, Verdict::Schedulable);
        let load = Load::new(&many);
        let busy = busy_period(&many, &load, u128::MAX, 1 << 20).expect("U < 1") as u64;
        let deadlines: std::collections::BTreeSet<u64> = many
            .iter()
            .flat_map(|s| {
                (0..=busy / s.period)
                    .map(move |k| s.deadline + k * s.period)
                    .filter(move |&d| d <= busy)
            })
            .collect();
        assert!(
            a.points >= 1 && a.points <= deadlines.len() as u64,
            "{} points, {} deadlines up to L = {busy}: {a:?}",
            a.points,
            deadlines.len()
        );
    }

    #[test]
    fn constrained_exactly_full_with_long_busy_period_is_inconclusive_when_capped() {
        let servers = [server(1, 2, 3), server(1, 3, 3), server(1, 3, 3)];
        assert_eq!(analyze(&servers).verdict, Verdict::Schedulable);
        let starved = Limits {
            busy_period_work: 0,
            ..Limits::DEFAULT
        };
        assert!(matches!(
            analyze_with_limits(&servers, &starved).verdict,
            Verdict::Inconclusive { .. }
        ));
    }
}
