//! The whole check (parse, every rule, the exact EDF analysis) in-process,
//! on synthetic systems of 8, 64 and 256 SRT guests.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

mod synthetic;

fn check(c: &mut Criterion) {
    let mut group = c.benchmark_group("check");
    for n in [8, 64, 256] {
        let text = synthetic::system(n);
        let checked = mvm_config::check(&text);
        assert!(
            checked.is_ok(),
            "the synthetic {n}-guest system is valid: {:?}",
            checked.diagnostics
        );
        group.bench_with_input(BenchmarkId::from_parameter(n), &text, |b, text| {
            b.iter(|| mvm_config::check(std::hint::black_box(text)))
        });
    }
    group.finish();
}

criterion_group!(benches, check);
criterion_main!(benches);
