//! Stage 2b: what each core does, and the proof that EDF meets every deadline.
//!
//! - A core is *dedicated* to its HRT guest, *shared* by EDF servers (the SRT
//!   guests placed on it), or *idle*.
//! - Each shared core is analysed on its own ([`crate::sched`]): every SRT
//!   guest is a periodic server whose jobs cost its budget plus the switch
//!   overhead. The analysis is exact; a rejection names the core, each
//!   guest's utilization, the total and the first time demand exceeds supply.
//! - A core is analysed only when every guest on it is otherwise valid, so a
//!   typo elsewhere in the file does not hide a schedulability problem.

pub use mvm_kernel::config::CorePlan;
use serde::Serialize;

use crate::diag::{Diagnostic, ErrorKind, Span, Unschedulable};
use crate::model::{Level, Params};
use crate::sched::{self, Analysis, Server, Test, Verdict};
use crate::units::{format_ppm, format_time};

/// What one core does, as the kernel's tables say it (an idle core is
/// parked; an EDF core's guests are in declaration order), and for an EDF
/// core the analysis that proved it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedCore {
    pub plan: CorePlan<Vec<u32>>,
    /// `Some` exactly for an EDF core.
    pub analysis: Option<AnalysisSummary>,
}

impl PlannedCore {
    /// Why an EDF core's `analysis` can be unwrapped.
    pub const ANALYSED: &'static str = "the planner analyses every EDF core";

    fn without_analysis(plan: CorePlan<Vec<u32>>) -> Self {
        PlannedCore {
            plan,
            analysis: None,
        }
    }
}

/// The result of a core's analysis, kept for reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AnalysisSummary {
    pub test: Test,
    /// Total utilization including overhead, in millionths (rounded up).
    pub utilization_ppm: u64,
    /// Each guest's utilization including overhead, in millionths (rounded up).
    pub guest_utilization_ppm: Vec<u64>,
    /// The instants at which the demand h(t) was evaluated (0 when the
    /// utilization alone decided).
    pub demand_points: u64,
    /// What the analysis concluded.
    #[serde(flatten)]
    pub verdict: CoreVerdict,
}

/// An EDF core's verdict, as reports and the manifest give it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum CoreVerdict {
    Schedulable,
    /// Demand exceeds the time available at `t_ns` after the synchronous
    /// release (the first such instant when `first`).
    Unschedulable {
        t_ns: u64,
        demand_ns: u64,
        first: bool,
    },
    /// The test could not decide within its budget: a rejection.
    Inconclusive {
        reason: String,
    },
}

impl CoreVerdict {
    fn of(verdict: &Verdict) -> Self {
        match verdict {
            Verdict::Schedulable => CoreVerdict::Schedulable,
            Verdict::Unschedulable(v) => CoreVerdict::Unschedulable {
                t_ns: v.t,
                demand_ns: u64::try_from(v.demand).unwrap_or(u64::MAX),
                first: v.first,
            },
            Verdict::Inconclusive { reason } => CoreVerdict::Inconclusive {
                reason: reason.clone(),
            },
        }
    }
}

/// What the planner needs to know of one guest, whether or not the rest of
/// the guest is valid.
#[derive(Clone, Debug)]
pub struct PlanEntry<'a> {
    pub name: &'a str,
    pub level: Option<Level>,
    pub core: Option<u32>,
    pub server: Option<Params>,
    pub header: Span,
    pub budget_span: Option<Span>,
}

/// Plans every core of a board with `cores` cores and reports each core that
/// cannot be proven schedulable. Cores with an invalid guest are left out
/// (their guests' own errors are reported elsewhere); they plan as idle.
pub fn plan(
    cores: u32,
    overhead: u64,
    entries: &[PlanEntry<'_>],
    diags: &mut Vec<Diagnostic>,
) -> Vec<PlannedCore> {
    (0..cores)
        .map(|core| plan_core(core, overhead, entries, diags))
        .collect()
}

fn plan_core(
    core: u32,
    overhead: u64,
    entries: &[PlanEntry<'_>],
    diags: &mut Vec<Diagnostic>,
) -> PlannedCore {
    let on_core: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].core == Some(core))
        .collect();
    if on_core.is_empty() {
        return PlannedCore::without_analysis(CorePlan::Idle);
    }
    if let [only] = on_core[..] {
        if entries[only].level == Some(Level::Hrt) {
            return PlannedCore::without_analysis(CorePlan::Dedicated { guest: index(only) });
        }
    }
    let complete = on_core
        .iter()
        .all(|&i| entries[i].level == Some(Level::Srt) && entries[i].server.is_some());
    if !complete {
        return PlannedCore::without_analysis(CorePlan::Idle);
    }
    let servers: Vec<Server> = on_core
        .iter()
        .map(|&i| {
            let params = entries[i].server.expect("checked complete above");
            Server::charged(&params, overhead)
        })
        .collect();
    // The budget contract leaves the monitor's own time outside every
    // budget: the exact test is run on deadlines shortened by it, and a
    // violation is reported in the description's terms.
    let blocking = sched::monitor_blocking(servers.len(), overhead);
    let plain = sched::analyze(&servers);
    let overloaded = matches!(
        (&plain.test, &plain.verdict),
        (Test::Utilization, Verdict::Unschedulable(_))
    );
    let Analysis {
        test,
        utilization_ppm,
        verdict,
        points,
    } = match sched::with_blocking(&servers, blocking) {
        // More than the whole core: the utilization says it, and its first
        // overload stands without the monitor's time.
        _ if overloaded => plain,
        Some(reduced) => {
            let mut a = sched::analyze(&reduced);
            if let Verdict::Unschedulable(v) = &mut a.verdict {
                v.t += blocking;
                v.demand += blocking as u128;
            }
            a
        }
        None => {
            // A deadline no longer than the monitor's blocking: the first
            // job due there cannot be proven to make it.
            let short = servers
                .iter()
                .min_by_key(|s| s.deadline)
                .expect("a shared core has servers");
            Analysis {
                test: Test::ProcessorDemand,
                verdict: Verdict::Unschedulable(sched::Violation {
                    t: short.deadline,
                    demand: short.cost as u128 + blocking as u128,
                    first: false,
                }),
                // h at that one deadline.
                points: 1,
                ..plain
            }
        }
    };
    let guest_utilization_ppm: Vec<u64> = servers.iter().map(sched::utilization_ppm).collect();
    let summary = CoreVerdict::of(&verdict);
    match verdict {
        Verdict::Schedulable => {}
        Verdict::Unschedulable(v) => diags.push(unschedulable(
            core,
            overhead,
            entries,
            &on_core,
            &guest_utilization_ppm,
            utilization_ppm,
            test,
            v,
        )),
        Verdict::Inconclusive { reason } => {
            let first = &entries[on_core[0]];
            diags.push(Diagnostic::new(
                ErrorKind::AnalysisInconclusive { core, reason },
                first.budget_span.clone().unwrap_or(first.header.clone()),
                format!("core {core}"),
            ))
        }
    }
    PlannedCore {
        plan: CorePlan::Edf {
            guests: on_core.into_iter().map(index).collect(),
        },
        analysis: Some(AnalysisSummary {
            test,
            utilization_ppm,
            guest_utilization_ppm,
            demand_points: points,
            verdict: summary,
        }),
    }
}

/// A guest's index as the kernel's tables hold it.
pub(crate) fn index(guest: usize) -> u32 {
    // Regions of at least 4 KiB that do not overlap bound the guest count far
    // below 2^32.
    u32::try_from(guest).expect("fewer guests than 4 KiB pages in 4 GiB")
}

#[allow(clippy::too_many_arguments)]
fn unschedulable(
    core: u32,
    overhead: u64,
    entries: &[PlanEntry<'_>],
    on_core: &[usize],
    shares: &[u64],
    total_ppm: u64,
    test: Test,
    v: sched::Violation,
) -> Diagnostic {
    // Point at the budget of the guest with the largest share; the others
    // are secondary labels, so every party is named at its own line.
    let largest = (0..on_core.len())
        .max_by_key(|&k| shares[k])
        .expect("a shared core has guests");
    let place = |k: usize| {
        let e = &entries[on_core[k]];
        e.budget_span.clone().unwrap_or(e.header.clone())
    };
    let mut d = Diagnostic::new(
        ErrorKind::Unschedulable(Box::new(Unschedulable {
            core,
            guests: on_core
                .iter()
                .zip(shares)
                .map(|(&i, &ppm)| (entries[i].name.to_string(), ppm))
                .collect(),
            total_ppm,
            test,
            t: v.t,
            demand: v.demand,
            first: v.first,
            overhead,
        })),
        place(largest),
        format!(
            "`{}`: {} of core {core}",
            entries[on_core[largest]].name,
            format_ppm(shares[largest])
        ),
    );
    for k in (0..on_core.len()).filter(|&k| k != largest) {
        d = d.with_secondary(
            place(k),
            format!("`{}`: {}", entries[on_core[k]].name, format_ppm(shares[k])),
        );
    }
    let why = match test {
        Test::Utilization => {
            "all deadlines equal periods, so EDF is feasible exactly when the total utilization is at most 100%"
        }
        Test::ProcessorDemand => {
            "the exact processor-demand test (QPA) decides (some deadline is shorter than its \
             period, or the monitor's time shortens them): the jobs released together at 0 with \
             deadlines up to t must fit in t"
        }
    };
    d.with_note(why)
        .with_note(format!(
            "every job is charged the switch overhead of {} on top of its budget, and every \
             interval up to a deadline {} more of the monitor's time ({} entries: one under way \
             when it starts, one release per guest due after it)",
            format_time(overhead),
            format_time(sched::monitor_blocking(on_core.len(), overhead)),
            on_core.len() + 1
        ))
        .with_help(
            "shorten a budget, lengthen a period or deadline, or move a guest to another core",
        )
}
