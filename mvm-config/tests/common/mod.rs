//! Helpers the analysis' tests share.

use mvm_config::sched::Server;

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// H + D_max (H the hyperperiod): with U <= 1 a synchronous set that
/// misses, misses by then (Baruah, Rosier & Howell 1990); with U > 1
/// h(H) = U H > H, so it misses by H.
pub fn horizon(servers: &[Server]) -> u64 {
    let hyperperiod = servers
        .iter()
        .fold(1, |h, s| h / gcd(h, s.period) * s.period);
    hyperperiod + servers.iter().map(|s| s.deadline).max().unwrap_or(0)
}
