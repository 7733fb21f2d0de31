//! The synthetic server sets: deterministic, the same on every run.
//!
//! - Periods are primes between 10 and 1000 in units of 100 µs (1.1 ms to
//!   99.7 ms, pairwise co-prime, so releases rarely coincide), spread over
//!   that range whatever the number of servers.
//! - Every server has the same share of the core, 0.9 in all.
//! - Every third server has a constrained deadline (3/4 of its period);
//!   every other server takes idle time (`slack = true`).

use mvm_kernel::edf::Params;

/// Periods are multiples of this many nanoseconds.
const PERIOD_UNIT_NS: u64 = 100_000;
/// The primes in `[10, 1000)`.
const PRIMES: usize = 164;

/// The `k`-th prime from 10 on (`k < PRIMES`).
fn prime(k: usize) -> u64 {
    let mut found = 0;
    let mut candidate = 10u32;
    loop {
        candidate += 1;
        if (2..candidate)
            .take_while(|d| d * d <= candidate)
            .all(|d| !candidate.is_multiple_of(d))
        {
            if found == k {
                return u64::from(candidate);
            }
            found += 1;
        }
    }
}

/// Server `i` of a set of `n` (`n <= PRIMES`).
pub fn server(i: usize, n: usize) -> Params {
    assert!(i < n && n <= PRIMES, "at most {PRIMES} servers");
    let period = prime(i * PRIMES / n) * PERIOD_UNIT_NS;
    let budget = period * 9 / 10 / n as u64;
    let deadline = if i % 3 == 2 { period / 4 * 3 } else { period };
    Params {
        period,
        budget,
        deadline,
        slack: i.is_multiple_of(2),
    }
}
