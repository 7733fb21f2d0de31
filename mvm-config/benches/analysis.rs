//! Cost of the exact EDF analysis on large, pairwise coprime server sets.
//!
//! - Coprime periods make the hyperperiod astronomical, the worst case for
//!   any test that would enumerate it.
//! - Generation is a fixed LCG, so every run measures the same sets.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use mvm_config::sched::{analyze, Server, Verdict};

/// Knuth's MMIX LCG: deterministic and dependency-free.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

fn is_prime(n: u64) -> bool {
    n >= 2
        && (2..)
            .take_while(|d| d * d <= n)
            .all(|d| !n.is_multiple_of(d))
}

/// `count` servers on distinct prime periods in [1 ms, 100 ms], total
/// utilization just under `utilization_permille`, deadlines at 50–95% of
/// the period when `constrained`, else equal to it.
fn servers(count: usize, utilization_permille: u64, constrained: bool, seed: u64) -> Vec<Server> {
    let mut lcg = Lcg(seed);
    let mut periods: Vec<u64> = Vec::with_capacity(count);
    while periods.len() < count {
        let mut period = 1_000_000 + lcg.below(99_000_000);
        while !is_prime(period) || periods.contains(&period) {
            period += 1;
        }
        periods.push(period);
    }
    let weights: Vec<u64> = (0..count).map(|_| 1 + lcg.below(3)).collect();
    let total: u64 = weights.iter().sum();
    periods
        .iter()
        .zip(&weights)
        .map(|(&period, &weight)| {
            let share = u128::from(period) * u128::from(weight * utilization_permille);
            let cost = (share / u128::from(total * 1000)).max(1) as u64;
            let deadline = if constrained {
                period / 100 * (50 + lcg.below(46))
            } else {
                period
            };
            Server {
                cost,
                period,
                deadline: deadline.max(cost),
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("analyze");
    // (name, servers, utilization in permille, constrained deadlines)
    let cases = [
        ("constrained", 8, 850, true),
        ("constrained", 64, 850, true),
        ("constrained", 256, 850, true),
        ("implicit", 64, 850, false),
        ("implicit", 256, 850, false),
        // Near U = 1 QPA's jumps shrink: the hard end, for reference.
        ("constrained-u99", 64, 990, true),
    ];
    for (kind, count, utilization, constrained) in cases {
        let set = servers(count, utilization, constrained, 0x5eed + count as u64);
        let analysis = analyze(&set);
        // A rejected set would stop early and flatter the figures.
        assert_eq!(analysis.verdict, Verdict::Schedulable, "{kind} {count}");
        eprintln!(
            "{kind}/{count}: utilization {} ppm, {:?}",
            analysis.utilization_ppm, analysis.test
        );
        group.bench_with_input(BenchmarkId::new(kind, count), &set, |b, set| {
            b.iter(|| analyze(black_box(set)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
