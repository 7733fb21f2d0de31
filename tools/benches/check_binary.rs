//! The `mvm check` binary itself (not cargo), start to exit, on synthetic
//! descriptions of 8, 64 and 256 SRT guests. Target: under 20 ms for 64.

use std::process::Command;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

#[path = "../../mvm-config/benches/synthetic.rs"]
mod synthetic;

fn check_binary(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("mvm-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let mut group = c.benchmark_group("check_binary");
    for n in [8, 64, 256] {
        let path = dir.join(format!("bench-{n}.toml"));
        std::fs::write(&path, synthetic::system(n)).expect("write the description");
        let run = || {
            Command::new(env!("CARGO_BIN_EXE_mvm"))
                .arg("check")
                .arg(&path)
                .output()
                .expect("runs")
        };
        assert!(
            run().status.success(),
            "the synthetic {n}-guest system is accepted"
        );
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| b.iter(run));
    }
    // Compositional analysis (docs/schedulability.md, "Inside a guest"):
    // 64 guests of 16 tasks each, budgets given or left to the check.
    // Target: under 50 ms.
    for auto in [false, true] {
        let path = dir.join(format!("bench-tasks-{auto}.toml"));
        std::fs::write(&path, synthetic::system_with_tasks(64, 16, auto))
            .expect("write the description");
        let run = || {
            Command::new(env!("CARGO_BIN_EXE_mvm"))
                .arg("check")
                .arg(&path)
                .output()
                .expect("runs")
        };
        let out = run();
        assert!(
            out.status.success(),
            "the synthetic system with tasks is accepted: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let name = if auto {
            "64x16 tasks, auto"
        } else {
            "64x16 tasks"
        };
        group.bench_function(name, |b| b.iter(run));
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, check_binary);
criterion_main!(benches);
