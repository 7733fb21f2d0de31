//! Tasks inside a periodic server: compositional analysis, exact, in integers.
//!
//! - The periodic resource model (Shin & Lee, "Periodic Resource Model for
//!   Compositional Real-Time Guarantees", RTSS 2003): a server Γ = (Π, Θ)
//!   guarantees Θ of supply in every period Π. Under MVM's budget contract
//!   (docs/schedulability.md) a server receives its whole budget of its own
//!   execution per period, so Θ is the declared budget; a dedicated core
//!   supplies all of the time.
//! - A guest schedules its periodic tasks (period T, worst-case execution
//!   C, relative deadline D <= T, synchronous release) by EDF or by fixed
//!   priority inside that supply; [`check`] decides whether every job meets
//!   its deadline under every supply pattern the server may deliver.
//! - A verdict is a proof: nanoseconds as `u64`, products in `u128`, big
//!   integers for the one bound that needs exact rationals. No floating
//!   point.
//! - Every search has a step budget ([`Limits`]); exhausting one gives
//!   [`Verdict::Inconclusive`], never a hang, a panic or an accept. So does
//!   an input outside the validated ranges.
//!
//! # The API
//!
//! - [`sbf`]`(supply, t)`: the least supply in any interval of length `t`.
//! - [`check`]`(tasks, policy, supply)` (and [`check_with_limits`]):
//!   [`Verdict::Schedulable`], [`Verdict::Unschedulable`] with a
//!   [`Violation`] naming where demand first exceeds supply, or
//!   [`Verdict::Inconclusive`] with the reason.
//! - [`minimal_budget`]`(tasks, policy, period)` (and
//!   [`minimal_budget_with_limits`]): the smallest budget in `[1, period]`
//!   that [`check`] accepts, `None` when not even the whole period does.
//!
//! # The formulas
//!
//! With the blackout `B = Π − Θ`, the worst supply pattern gives Θ as early
//! as possible in one period and as late as possible in every later one, so
//! an interval that starts where the early supply ends sees nothing for
//! `2B`, then Θ, then nothing for `B`, and so on:
//!
//! - `sbf(t) = 0` for `t < B`; otherwise, with `k = ⌊(t − B)/Π⌋`,
//!   `sbf(t) = k Θ + min(Θ, max(0, t − 2B − k Π))`. With Θ = Π it is `t`.
//! - EDF: schedulable iff `dbf(t) = Σ_i (⌊(t − D_i)/T_i⌋ + 1) C_i <= sbf(t)`
//!   at every absolute deadline `t = D_i + k T_i` (dbf steps there, sbf
//!   never decreases), up to the least of three bounds past which no first
//!   overload can lie (`edf_horizon`). The deadlines are scanned in
//!   increasing order, so a rejection names the first overload; a long
//!   interval is handed over to QPA (Zhang & Burns 2009) with `sbf⁻¹` in
//!   place of the identity: from the top, `dbf(t) <= sbf(t)` clears every
//!   instant down to `sbf⁻¹(dbf(t))`; an overload found that way is
//!   narrowed to the first by bisection.
//! - Fixed priority (lower number = higher priority): task `i` is
//!   schedulable iff some `t` in `(0, D_i]` has
//!   `rbf_i(t) = C_i + Σ_{j before i} ⌈t/T_j⌉ C_j <= sbf(t)`. The least such
//!   `t` is found by the fixed-point iteration `t ← sbf⁻¹(rbf_i(t))`, from
//!   `sbf⁻¹(C_i + Σ_j C_j)`, where `sbf⁻¹(w)` is the least `t` with
//!   `sbf(t) >= w`: every `t` it skips has `rbf_i(t) > sbf(t)`. That visits
//!   a subset of the instants `{D_i} ∪ {k T_j <= D_i}` the textbook test
//!   checks, and stops early when `rbf_i(t) > sbf(D_i)`.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use num_bigint::BigUint;

use crate::units::plural;

/// One periodic task of a guest: every `period` ns a job of at most `wcet`
/// ns is released that must finish within `deadline` ns of its release.
/// `priority` is used under [`Policy::FixedPriority`] only (lower number =
/// higher priority); tasks of equal priority are each counted as
/// interfering with the other, which is safe whichever runs first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Task {
    pub period: u64,
    pub wcet: u64,
    pub deadline: u64,
    pub priority: u32,
}

/// How the guest schedules its tasks inside the supply it is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    Edf,
    FixedPriority,
}

/// What the guest is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Supply {
    /// A periodic server: `budget` ns in every `period` ns.
    Server { period: u64, budget: u64 },
    /// A core of its own (an HRT guest): all of the time.
    Dedicated,
}

impl Supply {
    /// (Π, Θ): a dedicated core is the server (1, 1), whose sbf is `t`.
    fn server(self) -> (u64, u64) {
        match self {
            Supply::Server { period, budget } => (period, budget),
            Supply::Dedicated => (1, 1),
        }
    }
}

/// Where demand first exceeds supply, counted from the synchronous release
/// at the start of the longest blackout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// EDF: the smallest absolute deadline `t` with `dbf(t) > sbf(t)`.
    /// `first` is false only when the searches for the first one ran out
    /// of their [`Limits`]: `t` is then an overload, but an earlier one may
    /// exist.
    Edf {
        t: u64,
        demand: u128,
        supply: u64,
        first: bool,
    },
    /// Fixed priority: the first task, in priority order, whose request
    /// never fits the supply by its deadline. `task` indexes the slice
    /// given to [`check`]; `request` is `rbf(deadline)`, `supply` is
    /// `sbf(deadline)` (the request exceeds the supply at every earlier
    /// instant too, but those values vary).
    FixedPriority {
        task: usize,
        deadline: u64,
        request: u128,
        supply: u64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Schedulable,
    Unschedulable(Violation),
    /// A search ran out of its [`Limits`], or the input was outside the
    /// ranges [`check`] accepts; callers treat it as a rejection, with the
    /// reason.
    Inconclusive {
        reason: String,
    },
}

/// Step budgets of [`check_with_limits`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// EDF: absolute deadlines the forward scan may visit, before it
    /// hands over to the backward walk.
    pub edf_deadlines: u64,
    /// EDF: steps of the backward walk (QPA), over all its runs in one
    /// check; a step evaluates dbf and sbf once.
    pub edf_walk_steps: u64,
    /// Fixed priority: fixed-point iterations, over all tasks of one check.
    pub fixed_priority_steps: u64,
}

impl Limits {
    /// About a tenth of a second each for a handful of tasks. Sets whose
    /// utilization is not within a hair of the server's bandwidth use a
    /// few thousand steps.
    pub const DEFAULT: Limits = Limits {
        edf_deadlines: 1 << 16,
        edf_walk_steps: 1 << 20,
        fixed_priority_steps: 1 << 20,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The supply bound function: the least supply `supply` delivers in any
/// interval of length `t` ns. A budget above the period counts as the
/// whole period, a zero period or budget as no supply (inputs [`check`]
/// rejects).
pub fn sbf(supply: Supply, t: u64) -> u64 {
    let (period, budget) = supply.server();
    if period == 0 || budget == 0 {
        return 0;
    }
    server_sbf(period, budget.min(period), t)
}

/// [`sbf`] of the server (period, budget), `1 <= budget <= period`.
fn server_sbf(period: u64, budget: u64, t: u64) -> u64 {
    let blackout = period - budget;
    if t < blackout {
        return 0;
    }
    let periods = (t - blackout) / period;
    // In [0, period): the budget of this period comes after a blackout.
    let into = t - blackout - periods * period;
    // periods * budget <= periods * period <= t: no overflow. The clamp to
    // the budget never binds (into - blackout < period - blackout), it
    // only states the model.
    periods * budget + into.saturating_sub(blackout).min(budget)
}

/// The least `t` with `sbf(t) >= work`, for `work` at most some `sbf`
/// value (so the result is at most that `t`, below 2^64).
fn supply_time(period: u64, budget: u64, work: u64) -> u64 {
    if work == 0 {
        return 0;
    }
    let blackout = period - budget;
    let periods = (work - 1) / budget;
    // In [1, budget]: the budget of the last period runs right after its
    // blackout, which follows the previous period's budget or the start.
    let last = work - periods * budget;
    2 * blackout + periods * period + last
}

/// [`check_with_limits`] with [`Limits::DEFAULT`].
pub fn check(tasks: &[Task], policy: Policy, supply: Supply) -> Verdict {
    check_with_limits(tasks, policy, supply, &Limits::DEFAULT)
}

/// Whether every job of `tasks`, scheduled by `policy`, meets its deadline
/// under every pattern `supply` may deliver.
///
/// Accepted ranges: task `1 <= deadline <= period`, any `wcet` (one above
/// its deadline is unschedulable); server `1 <= budget <= period`. Outside
/// them the verdict is [`Verdict::Inconclusive`]. An empty set is
/// schedulable.
pub fn check_with_limits(
    tasks: &[Task],
    policy: Policy,
    supply: Supply,
    limits: &Limits,
) -> Verdict {
    if let Some(reason) = invalid(tasks, supply) {
        return Verdict::Inconclusive { reason };
    }
    let (period, budget) = supply.server();
    match policy {
        Policy::Edf => edf(tasks, period, budget, limits),
        Policy::FixedPriority => fixed_priority(tasks, period, budget, limits),
    }
}

fn invalid(tasks: &[Task], supply: Supply) -> Option<String> {
    if let Supply::Server { period, budget } = supply {
        if budget == 0 || budget > period {
            return Some(format!(
                "the server's budget of {budget} ns is not in [1, {period}] ns, its period"
            ));
        }
    }
    tasks.iter().enumerate().find_map(|(i, task)| {
        (task.deadline == 0 || task.deadline > task.period).then(|| {
            format!(
                "task {i}'s deadline of {} ns is not in [1, {}] ns, its period",
                task.deadline, task.period
            )
        })
    })
}

/// The smallest budget in `[1, period]` that [`check`] accepts for `tasks`
/// under `policy` in a server of `period` ns; `None` when not even the
/// whole period is accepted (or `period` is 0).
///
/// Schedulability only grows with the budget (sbf does, pointwise), so a
/// binary search. Should a check be inconclusive, the search treats it as
/// a rejection: the answer is then still a budget [`check`] accepts, but
/// perhaps not the smallest.
pub fn minimal_budget(tasks: &[Task], policy: Policy, period: u64) -> Option<u64> {
    minimal_budget_with_limits(tasks, policy, period, &Limits::DEFAULT)
}

/// [`minimal_budget`] with explicit search budgets for each check.
pub fn minimal_budget_with_limits(
    tasks: &[Task],
    policy: Policy,
    period: u64,
    limits: &Limits,
) -> Option<u64> {
    let accepts = |budget: u64| {
        check_with_limits(tasks, policy, Supply::Server { period, budget }, limits)
            == Verdict::Schedulable
    };
    if period == 0 || !accepts(period) {
        return None;
    }
    // Invariant: `low` is rejected (0: no supply at all), `high` accepted.
    let (mut low, mut high) = (0, period);
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if accepts(middle) {
            high = middle;
        } else {
            low = middle;
        }
    }
    Some(high)
}

fn edf(tasks: &[Task], period: u64, budget: u64, limits: &Limits) -> Verdict {
    if tasks.is_empty() {
        return Verdict::Schedulable;
    }
    let supply = Server { period, budget };
    let horizon = edf_horizon(tasks, period, budget);
    let reached = match scan_forward(tasks, supply, horizon, limits.edf_deadlines) {
        Scan::Clear => return Verdict::Schedulable,
        Scan::First(violation) => return Verdict::Unschedulable(violation),
        Scan::Capped { reached } => reached,
        Scan::Exhausted => return beyond_time_range(),
    };
    let Some(horizon) = horizon else {
        return Verdict::Inconclusive {
            reason: format!(
                "the demand test visited {} up to {reached} ns, and no end of the interval \
                 to check is known (utilization equals the bandwidth, periods too large \
                 for their lcm)",
                plural(limits.edf_deadlines, "deadline", "deadlines"),
            ),
        };
    };
    let end = u64::try_from(horizon).unwrap_or(u64::MAX);
    let mut steps = limits.edf_walk_steps;
    let capped = || Verdict::Inconclusive {
        reason: format!(
            "the demand test visited {} up to {reached} ns, and the backward walk over \
             the rest of the interval to check, up to {horizon} ns, did not finish within {}",
            plural(limits.edf_deadlines, "deadline", "deadlines"),
            plural(limits.edf_walk_steps, "step", "steps"),
        ),
    };
    let mut high = match walk_back(tasks, supply, reached, end, &mut steps) {
        Walk::Clear if horizon <= u128::from(u64::MAX) => return Verdict::Schedulable,
        Walk::Clear => return beyond_time_range(),
        Walk::Capped => return capped(),
        Walk::Overload(t) => t,
    };
    // Bisection for the first overload in (low, high]: every deadline up
    // to `low` is clear, `high` is overloaded.
    let mut low = reached;
    let first = loop {
        let Some(below) = latest_deadline(tasks, high - 1).filter(|&d| d > low) else {
            break true;
        };
        let middle = low + (below - low).div_ceil(2);
        match walk_back(tasks, supply, low, middle, &mut steps) {
            Walk::Overload(t) => high = t,
            Walk::Clear => low = middle,
            Walk::Capped => break false,
        }
    };
    Verdict::Unschedulable(Violation::Edf {
        t: high,
        demand: demand(tasks, high),
        supply: server_sbf(period, budget, high),
        first,
    })
}

fn beyond_time_range() -> Verdict {
    Verdict::Inconclusive {
        reason: "no overload up to 2^64 ns, but the interval to check reaches beyond \
                 the representable time range"
            .into(),
    }
}

/// A server with `1 <= budget <= period`.
#[derive(Clone, Copy)]
struct Server {
    period: u64,
    budget: u64,
}

impl Server {
    fn sbf(self, t: u64) -> u64 {
        server_sbf(self.period, self.budget, t)
    }
}

enum Scan {
    /// Every deadline up to the horizon is clear.
    Clear,
    First(Violation),
    /// Stopped after the step budget; every deadline up to `reached` is clear.
    Capped {
        reached: u64,
    },
    /// Every deadline below 2^64 is clear, and the horizon is beyond.
    Exhausted,
}

/// Visits the deadlines in increasing order, keeping dbf incrementally,
/// until the first overload, the horizon or `max_steps` deadlines. Cheap
/// when the overload is early or the horizon near, the usual cases.
fn scan_forward(tasks: &[Task], supply: Server, horizon: Option<u128>, max_steps: u64) -> Scan {
    let mut deadlines: BinaryHeap<Reverse<(u64, usize)>> = tasks
        .iter()
        .enumerate()
        .map(|(i, task)| Reverse((task.deadline, i)))
        .collect();
    let mut demand: u128 = 0;
    let mut visited: u64 = 0;
    let mut reached = 0;
    while let Some(&Reverse((t, _))) = deadlines.peek() {
        if horizon.is_some_and(|h| u128::from(t) > h) {
            return Scan::Clear;
        }
        if visited >= max_steps {
            return Scan::Capped { reached };
        }
        while let Some(&Reverse((deadline, i))) = deadlines.peek() {
            if deadline != t {
                break;
            }
            deadlines.pop();
            visited += 1;
            let task = &tasks[i];
            demand = demand.saturating_add(task.wcet.into());
            // Deadlines past 2^64 ns cannot be reported; see Exhausted.
            if let Some(next) = deadline.checked_add(task.period) {
                deadlines.push(Reverse((next, i)));
            }
        }
        let supply = supply.sbf(t);
        if demand > u128::from(supply) {
            return Scan::First(Violation::Edf {
                t,
                demand,
                supply,
                first: true,
            });
        }
        reached = t;
    }
    Scan::Exhausted
}

enum Walk {
    Clear,
    Overload(u64),
    Capped,
}

/// QPA (Zhang & Burns 2009) with sbf for t: over the deadlines in
/// (`low`, `high`], from the top. When `dbf(t) <= sbf(t)`, every instant
/// from `sbf⁻¹(dbf(t))` to `t` is clear (dbf only grows, sbf reaches
/// dbf(t) there), so the walk jumps below it. Finds an overload if one
/// exists, not necessarily the first.
fn walk_back(tasks: &[Task], supply: Server, low: u64, high: u64, steps: &mut u64) -> Walk {
    let mut t = latest_deadline(tasks, high);
    while let Some(now) = t.filter(|&t| t > low) {
        if *steps == 0 {
            return Walk::Capped;
        }
        *steps -= 1;
        let wanted = demand(tasks, now);
        let available = supply.sbf(now);
        if wanted > u128::from(available) {
            return Walk::Overload(now);
        }
        // wanted <= sbf(now) < 2^64, and the least time reaching it is <= now.
        let clear_from = supply_time(supply.period, supply.budget, wanted as u64);
        t = match clear_from.checked_sub(1) {
            Some(before) => latest_deadline(tasks, before),
            None => None,
        };
    }
    Walk::Clear
}

/// dbf(t) = Σ_i max(0, ⌊(t − D_i)/T_i⌋ + 1) C_i, saturating.
fn demand(tasks: &[Task], t: u64) -> u128 {
    tasks.iter().fold(0u128, |total, task| {
        let jobs = match t.checked_sub(task.deadline) {
            Some(after) => u128::from(after / task.period) + 1,
            None => 0,
        };
        // jobs <= 2^64 and wcet < 2^64: the product fits.
        total.saturating_add(jobs * u128::from(task.wcet))
    })
}

/// dbf(t) of a task set under EDF: what `cargo mvm report` draws against
/// [`sbf`].
pub fn edf_demand(tasks: &[Task], t: u64) -> u128 {
    demand(tasks, t)
}

/// rbf_i(t) of task `i` under fixed priority (it and the tasks of its
/// priority or above): what `cargo mvm report` draws against [`sbf`].
pub fn fp_request(tasks: &[Task], i: usize, t: u64) -> u128 {
    let task = &tasks[i];
    let interfering: Vec<&Task> = tasks
        .iter()
        .enumerate()
        .filter(|&(j, other)| j != i && other.priority <= task.priority)
        .map(|(_, other)| other)
        .collect();
    request_of(task, &interfering, t)
}

/// rbf_i(t): `task`'s own job and the `interfering` tasks' jobs released
/// in `[0, t)`; at t = 0 every interfering task counts one job, the limit
/// of rbf_i from the right.
fn request_of(task: &Task, interfering: &[&Task], t: u64) -> u128 {
    interfering.iter().fold(u128::from(task.wcet), |r, other| {
        let jobs = u128::from(t.div_ceil(other.period).max(1));
        r.saturating_add(jobs * u128::from(other.wcet))
    })
}

/// The latest absolute deadline at or before `t`, `None` if there is none.
fn latest_deadline(tasks: &[Task], t: u64) -> Option<u64> {
    tasks
        .iter()
        .filter_map(|task| {
            let after = t.checked_sub(task.deadline)?;
            Some(t - after % task.period)
        })
        .max()
}

/// An instant past which no first overload `dbf(t) > sbf(t)` lies, `None`
/// when none is known. The least of:
///
/// - periodicity: with `H` the lcm of every period and Π, for `t >= B`,
///   `dbf(t + H) = dbf(t) + U H` (D <= T, so no job count is clipped at 0)
///   and `sbf(t + H) = sbf(t) + (Θ/Π) H`. With U <= Θ/Π an overload at
///   `t >= H + B` implies one at `t − H >= B`; with U > Θ/Π,
///   `dbf(H) = U H > (Θ/Π) H >= sbf(H)`. So the first is before `H + B`.
///   (With U = Θ/Π and B > 0, `sbf(H) < (Θ/Π) H = dbf(H)`: such a set is
///   always overloaded by H; only a whole core runs a set at its bandwidth.)
/// - U < Θ/Π: `dbf(t) <= U t + Σ C_i (T_i − D_i)/T_i` and
///   `sbf(t) >= (Θ/Π)(t − 2B)`, so an overload needs
///   `t < (Σ C_i (T_i − D_i)/T_i + 2B Θ/Π) / (Θ/Π − U)`.
/// - U > Θ/Π: `dbf(t) > U t − Σ C_i D_i/T_i` and `sbf(t) <= (Θ/Π) t`, so
///   every `t >= Σ C_i D_i/T_i / (U − Θ/Π)` is overloaded, and so is the
///   latest deadline at or before it.
fn edf_horizon(tasks: &[Task], period: u64, budget: u64) -> Option<u128> {
    let blackout = period - budget;
    let periodic = tasks
        .iter()
        .try_fold(u128::from(period), |h, task| lcm(h, task.period.into()))
        .and_then(|h| h.checked_add(blackout.into()));
    // Everything over the common denominator Π P, P the product of the
    // task periods: U = Σ C_i (P/T_i) / P, Θ/Π = Θ P / (Π P).
    let product = tasks
        .iter()
        .fold(BigUint::from(1u32), |p, task| p * task.period);
    let (mut utilization, mut slack, mut lead) =
        (BigUint::default(), BigUint::default(), BigUint::default());
    for task in tasks {
        let share = &product / task.period * task.wcet;
        slack += &share * (task.period - task.deadline);
        lead += &share * task.deadline;
        utilization += share;
    }
    let demand_rate = utilization * period;
    let supply_rate = &product * budget;
    let linear = match demand_rate.cmp(&supply_rate) {
        Ordering::Less => {
            let numerator = slack * period + product * (2 * u128::from(blackout)) * budget;
            Some(numerator / (supply_rate - demand_rate))
        }
        Ordering::Greater => {
            let numerator = lead * period;
            let denominator = demand_rate - supply_rate;
            Some((numerator + &denominator - 1u32) / denominator)
        }
        Ordering::Equal => None,
    }
    // Beyond u128 the bound is as good as none.
    .and_then(|bound| u128::try_from(bound).ok());
    match (periodic, linear) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn lcm(a: u128, b: u128) -> Option<u128> {
    fn gcd(a: u128, b: u128) -> u128 {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    (a / gcd(a, b)).checked_mul(b)
}

fn fixed_priority(tasks: &[Task], period: u64, budget: u64, limits: &Limits) -> Verdict {
    let mut order: Vec<usize> = (0..tasks.len()).collect();
    order.sort_by_key(|&i| (tasks[i].priority, i));
    let mut steps = limits.fixed_priority_steps;
    let mut capped: Option<usize> = None;
    for &i in &order {
        let task = &tasks[i];
        let interfering: Vec<&Task> = tasks
            .iter()
            .enumerate()
            .filter(|&(j, other)| j != i && other.priority <= task.priority)
            .map(|(_, other)| other)
            .collect();
        let request = |t: u64| request_of(task, &interfering, t);
        let by_deadline = server_sbf(period, budget, task.deadline);
        let mut t = 0;
        let fits = loop {
            let wanted = request(t);
            if wanted <= u128::from(server_sbf(period, budget, t)) && t > 0 {
                break Some(true);
            }
            if wanted > u128::from(by_deadline) {
                break Some(false);
            }
            if steps == 0 {
                break None;
            }
            steps -= 1;
            // wanted <= sbf(D_i) < 2^64, and sbf(t) < wanted (or t = 0),
            // so this is in (t, D_i].
            t = supply_time(period, budget, wanted as u64);
        };
        match fits {
            Some(true) => {}
            Some(false) => {
                return Verdict::Unschedulable(Violation::FixedPriority {
                    task: i,
                    deadline: task.deadline,
                    request: request(task.deadline),
                    supply: by_deadline,
                })
            }
            None => {
                capped.get_or_insert(i);
            }
        }
    }
    match capped {
        None => Verdict::Schedulable,
        Some(i) => Verdict::Inconclusive {
            reason: format!(
                "the response-time iteration for task {i} did not settle within {}",
                plural(limits.fixed_priority_steps, "step", "steps")
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(wcet: u64, deadline: u64, period: u64) -> Task {
        Task {
            period,
            wcet,
            deadline,
            priority: 0,
        }
    }

    fn prioritized(wcet: u64, deadline: u64, period: u64, priority: u32) -> Task {
        Task {
            priority,
            ..task(wcet, deadline, period)
        }
    }

    fn server(period: u64, budget: u64) -> Supply {
        Supply::Server { period, budget }
    }

    #[test]
    fn prm_sbf_of_four_in_ten() {
        // Blackout 2 * 6 = 12, then 4 on, 6 off, 4 on, ...
        let supply = server(10, 4);
        let expected = [
            (0, 0),
            (5, 0),
            (6, 0),
            (12, 0),
            (13, 1),
            (16, 4),
            (17, 4),
            (22, 4),
            (23, 5),
            (26, 8),
            (30, 8),
            (36, 12),
        ];
        for (t, s) in expected {
            assert_eq!(sbf(supply, t), s, "sbf({t})");
        }
    }

    #[test]
    fn prm_sbf_of_a_full_server_and_a_dedicated_core_is_t() {
        for t in [0, 1, 9, 10, 11, 1_000_000_007, u64::MAX] {
            assert_eq!(sbf(server(10, 10), t), t);
            assert_eq!(sbf(Supply::Dedicated, t), t);
        }
    }

    #[test]
    fn prm_sbf_never_overflows() {
        let max = u64::MAX;
        assert_eq!(sbf(server(max, 1), max), 0);
        assert_eq!(sbf(server(max, max - 1), max), max - 2);
        assert_eq!(sbf(server(max, 0), max), 0);
        assert_eq!(sbf(server(0, 0), max), 0);
    }

    #[test]
    fn prm_supply_time_inverts_sbf() {
        for (period, budget) in [(10, 4), (10, 10), (7, 1), (1, 1)] {
            for work in 0..40 {
                let t = supply_time(period, budget, work);
                assert!(server_sbf(period, budget, t) >= work);
                assert!(t == 0 || server_sbf(period, budget, t - 1) < work);
            }
        }
    }

    /// U = 1/2. Θ = 6 of 10: blackout 8, sbf = 0 to 8, 6 at 14, 6 to 18,
    /// 12 at 24, ...; dbf = 2, 4, 6, 8, ... at 10, 20, 30, ... fits. Θ = 5:
    /// blackout 10, so sbf(10) = 0 < dbf(10) = 2.
    #[test]
    fn prm_edf_fits_six_in_ten_but_not_five() {
        let tasks = [task(2, 10, 10), task(3, 20, 20)];
        assert_eq!(
            check(&tasks, Policy::Edf, server(10, 6)),
            Verdict::Schedulable
        );
        assert_eq!(
            check(&tasks, Policy::Edf, server(10, 5)),
            Verdict::Unschedulable(Violation::Edf {
                t: 10,
                demand: 2,
                supply: 0,
                first: true
            })
        );
    }

    #[test]
    fn prm_edf_reports_the_first_overload() {
        // Θ = 6 of 10 (sbf 0 to 8, +1 to 6 at 14, 12 at 24, 18 at 34)
        // with one task of 6 every 10: dbf(10) = 6 > sbf(10) = 2.
        // With a deadline of 20 every 20: dbf(20) = 6 <= sbf(20) = 8, 12 at
        // 40 <= 20, and the slopes are 6/20 < 6/10: fits.
        assert_eq!(
            check(&[task(6, 10, 10)], Policy::Edf, server(10, 6)),
            Verdict::Unschedulable(Violation::Edf {
                t: 10,
                demand: 6,
                supply: 2,
                first: true
            })
        );
        assert_eq!(
            check(&[task(6, 20, 20)], Policy::Edf, server(10, 6)),
            Verdict::Schedulable
        );
    }

    #[test]
    fn prm_dedicated_core_is_plain_edf() {
        let tasks = [task(2, 2, 5), task(2, 3, 5)];
        assert_eq!(
            check(&tasks, Policy::Edf, Supply::Dedicated),
            Verdict::Unschedulable(Violation::Edf {
                t: 3,
                demand: 4,
                supply: 3,
                first: true
            })
        );
        let tasks = [task(1, 2, 2), task(1, 2, 2)];
        assert_eq!(
            check(&tasks, Policy::Edf, Supply::Dedicated),
            Verdict::Schedulable
        );
    }

    /// Θ = 6 of 10. The high-priority task (1 every 5, due 5) needs
    /// sbf(t) >= 1: t = 9 > 5. With due 10 it fits at 9 (rbf(9) = 1).
    /// The low one (2 every 20) then needs rbf(t) = 2 + ⌈t/10⌉ <= sbf(t):
    /// at 10, 3 > 2; at 11, 4 > 3; ... at 12, 4 = 4. Fits, if due by 12.
    #[test]
    fn prm_fixed_priority_by_hand() {
        let supply = server(10, 6);
        let tasks = [prioritized(1, 5, 5, 0)];
        assert_eq!(
            check(&tasks, Policy::FixedPriority, supply),
            Verdict::Unschedulable(Violation::FixedPriority {
                task: 0,
                deadline: 5,
                request: 1,
                supply: 0
            })
        );
        let tasks = [prioritized(2, 12, 20, 7), prioritized(1, 10, 10, 3)];
        assert_eq!(
            check(&tasks, Policy::FixedPriority, supply),
            Verdict::Schedulable
        );
        let tasks = [prioritized(2, 11, 20, 7), prioritized(1, 10, 10, 3)];
        assert_eq!(
            check(&tasks, Policy::FixedPriority, supply),
            Verdict::Unschedulable(Violation::FixedPriority {
                task: 0,
                deadline: 11,
                request: 4,
                supply: 3
            })
        );
        // Swapping the priorities: the long task first needs 2 by 12
        // (sbf(10) = 2 fits), the short one then 1 + 2 = 3 by 10: no.
        let tasks = [prioritized(2, 12, 20, 3), prioritized(1, 10, 10, 7)];
        assert_eq!(
            check(&tasks, Policy::FixedPriority, supply),
            Verdict::Unschedulable(Violation::FixedPriority {
                task: 1,
                deadline: 10,
                request: 3,
                supply: 2
            })
        );
    }

    /// Equal priorities interfere both ways: safe whichever runs first.
    #[test]
    fn prm_equal_priorities_count_each_other() {
        let tasks = [prioritized(1, 2, 2, 5), prioritized(1, 2, 2, 5)];
        assert_eq!(
            check(&tasks, Policy::FixedPriority, Supply::Dedicated),
            Verdict::Schedulable
        );
        // Both due by 1: whichever runs second misses.
        let tasks = [prioritized(1, 1, 2, 5), prioritized(1, 1, 2, 5)];
        assert_eq!(
            check(&tasks, Policy::FixedPriority, Supply::Dedicated),
            Verdict::Unschedulable(Violation::FixedPriority {
                task: 0,
                deadline: 1,
                request: 2,
                supply: 1
            })
        );
    }

    /// One task of 2 every 10, due 10: a server (10, Θ) gives it
    /// sbf(10) = max(0, 10 − 2(10 − Θ)) >= 2 iff Θ >= 6.
    #[test]
    fn prm_minimal_budget_by_hand() {
        let tasks = [task(2, 10, 10)];
        for policy in [Policy::Edf, Policy::FixedPriority] {
            assert_eq!(minimal_budget(&tasks, policy, 10), Some(6));
            assert_ne!(check(&tasks, policy, server(10, 5)), Verdict::Schedulable);
            // U = 11/10: not even a whole core fits.
            let overloaded = [task(6, 10, 10), task(5, 10, 10)];
            assert_eq!(minimal_budget(&overloaded, policy, 10), None);
        }
        // 2 every 10 and 3 every 20 (U = 1/2) in a server of 5: sbf must
        // reach 2 by 10, 7 by 20, 9 by 30, 14 by 40. Θ = 3 (blackout 4,
        // then 3 in every 5): 4, 10, 16, 22. Θ = 2 (blackout 6, then 2 in
        // every 5): sbf(20) = 6 < 7.
        let tasks = [task(2, 10, 10), task(3, 20, 20)];
        assert_eq!(minimal_budget(&tasks, Policy::Edf, 5), Some(3));
        assert_ne!(
            check(&tasks, Policy::Edf, server(5, 2)),
            Verdict::Schedulable
        );
    }

    #[test]
    fn prm_invalid_input_is_inconclusive_not_a_panic() {
        let bad = [
            (vec![task(1, 0, 10)], server(10, 5)),
            (vec![task(1, 11, 10)], server(10, 5)),
            (vec![task(1, 1, 0)], server(10, 5)),
            (vec![task(1, 10, 10)], server(10, 0)),
            (vec![task(1, 10, 10)], server(10, 11)),
            (vec![task(1, 10, 10)], server(0, 0)),
        ];
        for (tasks, supply) in bad {
            for policy in [Policy::Edf, Policy::FixedPriority] {
                assert!(
                    matches!(check(&tasks, policy, supply), Verdict::Inconclusive { .. }),
                    "{tasks:?} {supply:?}"
                );
            }
        }
        assert_eq!(minimal_budget(&[task(1, 1, 1)], Policy::Edf, 0), None);
    }

    #[test]
    fn prm_empty_set_is_schedulable() {
        for policy in [Policy::Edf, Policy::FixedPriority] {
            assert_eq!(check(&[], policy, server(10, 1)), Verdict::Schedulable);
            assert_eq!(minimal_budget(&[], policy, 10), Some(1));
        }
    }

    #[test]
    fn prm_huge_parameters_do_not_overflow() {
        let big = 1_000_000_000_000u64;
        let tasks = [
            prioritized(big / 4, big, big, 0),
            prioritized(big / 8, big - 1, big, 1),
            prioritized(3, 999_999_999_989, 999_999_999_989, 2),
        ];
        for policy in [Policy::Edf, Policy::FixedPriority] {
            assert_eq!(
                check(&tasks, policy, server(big, big)),
                Verdict::Schedulable
            );
            assert_eq!(
                check(&tasks, policy, Supply::Dedicated),
                Verdict::Schedulable
            );
        }
        let budget = minimal_budget(&tasks, Policy::FixedPriority, big).unwrap();
        assert_eq!(
            check(&tasks, Policy::FixedPriority, server(big, budget)),
            Verdict::Schedulable
        );
        assert!(matches!(
            check(&tasks, Policy::FixedPriority, server(big, budget - 1)),
            Verdict::Unschedulable(_)
        ));
        let max = u64::MAX;
        let tasks = [prioritized(max, max, max, 0), prioritized(max, max, max, 1)];
        for policy in [Policy::Edf, Policy::FixedPriority] {
            assert!(matches!(
                check(&tasks, policy, server(max, max)),
                Verdict::Unschedulable(_)
            ));
        }
    }

    #[test]
    fn prm_exhausted_limits_are_inconclusive() {
        // U = 1 exactly on a whole core, with coprime periods: the interval
        // to check is the hyperperiod, 10^18 ns of deadlines every 10^9.
        let (p, q) = (1_000_000_007u64, 998_244_353u64);
        let tasks = [task(p - 1, p, p), task(q, p * q, p * q)];
        let verdict = check(&tasks, Policy::Edf, Supply::Dedicated);
        assert!(
            matches!(verdict, Verdict::Inconclusive { .. }),
            "{verdict:?}"
        );
        let starved = Limits {
            edf_deadlines: 0,
            edf_walk_steps: 0,
            fixed_priority_steps: 0,
        };
        // The linear bound is 4.8 / (0.6 - 0.2) = 12: deadline 10 must be
        // visited. (With 1 every 10 it is 9.6, and no step is needed.)
        let tasks = [task(2, 10, 10)];
        assert_eq!(
            check(&tasks, Policy::Edf, server(10, 6)),
            Verdict::Schedulable
        );
        assert_eq!(
            check_with_limits(&[task(1, 10, 10)], Policy::Edf, server(10, 6), &starved),
            Verdict::Schedulable
        );
        for policy in [Policy::Edf, Policy::FixedPriority] {
            let verdict = check_with_limits(&tasks, policy, server(10, 6), &starved);
            assert!(
                matches!(verdict, Verdict::Inconclusive { .. }),
                "{verdict:?}"
            );
        }
    }
}
