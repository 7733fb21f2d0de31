//! Partition health: what a guest's failure leads to (pure; host-tested).
//!
//! - A failure is something the monitor sees: HALT_SELF with a non-zero
//!   error code, a watchdog that expired without a HEARTBEAT, PSCI
//!   SYSTEM_RESET ([`Failure`]). A guest's own exceptions go to its own
//!   vectors and are not the monitor's to see (docs/health.md).
//! - The guest's `on_failure` decides ([`Restarts::decide`]): stop it,
//!   restart it (at most `max_restarts` times within `restart_window`, then
//!   stop it), or, for a critical guest, the system-wide action.
//! - No clock here: times are given, in nanoseconds since reset.
#![forbid(unsafe_code)]

use core::fmt;

use crate::config::{Health, OnFailure};
use crate::stats::Duration;

/// The most restarts a window may allow (`max_restarts`): the length of
/// the record of recent restarts each guest keeps.
pub const MAX_RESTARTS: u32 = 16;

/// No time: a watchdog that never expires.
pub const NEVER: u64 = u64::MAX;

/// Why the monitor judges a guest failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// HALT_SELF with this non-zero error code.
    ErrorHalt { code: u32 },
    /// No HEARTBEAT for its whole watchdog interval.
    Watchdog { interval_ns: u64 },
    /// PSCI SYSTEM_RESET: the guest asked to be restarted.
    Reset,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Failure::ErrorHalt { code } => {
                write!(f, "halted with error code {code:#x}")
            }
            Failure::Watchdog { interval_ns } => write!(
                f,
                "missed its heartbeat (none for its watchdog's {})",
                Duration(interval_ns)
            ),
            Failure::Reset => f.write_str("asked for a reset (PSCI SYSTEM_RESET)"),
        }
    }
}

/// What the monitor does about a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Restore the guest's image, clear its memory, reset its state and
    /// start it again (an SRT guest at its server's next period boundary).
    Restart,
    /// Stop the guest for good; the others run on.
    Stop,
    /// The guest is critical: the system-wide action (the run ends).
    System,
}

/// The decision on one failure, with what the console line says of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub failure: Failure,
    pub action: Action,
    /// Restarts within the window, this one included when it restarts.
    pub recent: u32,
    /// The guest's policy.
    pub health: Health,
}

/// `failed: <failure>; <what happens>`, after ``mvm: guest `<name>` ``.
impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "failed: {}; ", self.failure)?;
        let h = &self.health;
        match (self.action, h.on_failure) {
            (Action::Restart, _) => write!(
                f,
                "restarting it (restart {} of at most {} within {})",
                self.recent,
                h.max_restarts,
                Duration(h.restart_window_ns)
            ),
            (Action::Stop, OnFailure::Restart) => write!(
                f,
                "it stops: {} restarts within {} already",
                self.recent,
                Duration(h.restart_window_ns)
            ),
            (Action::Stop, _) => f.write_str("it stops (on_failure = \"stop\")"),
            (Action::System, _) => {
                f.write_str("it is critical (on_failure = \"system\"): the system stops")
            }
        }
    }
}

/// A guest's restarts: how many in all, and when the latest
/// `max_restarts` happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Restarts {
    total: u32,
    /// The latest restarts' times, a ring; `next` is where the next goes.
    times: [u64; MAX_RESTARTS as usize],
    next: usize,
}

impl Restarts {
    pub const NONE: Self = Restarts {
        total: 0,
        times: [0; MAX_RESTARTS as usize],
        next: 0,
    };

    /// Restarts since boot.
    pub fn total(&self) -> u32 {
        self.total
    }

    /// Restarts in the window that ends at `now`: `(now - window, now]`.
    pub fn within(&self, health: &Health, now: u64) -> u32 {
        let kept = (self.total as usize).min(MAX_RESTARTS as usize);
        self.times[..kept]
            .iter()
            .filter(|&&t| now.saturating_sub(t) < health.restart_window_ns)
            .count() as u32
    }

    /// Decides what `failure` at `now` leads to under `health`, and
    /// records the restart if it is one.
    pub fn decide(&mut self, health: &Health, failure: Failure, now: u64) -> Verdict {
        let recent = self.within(health, now);
        let (action, recent) = match health.on_failure {
            OnFailure::Stop => (Action::Stop, recent),
            OnFailure::System => (Action::System, recent),
            OnFailure::Restart if recent < health.max_restarts.min(MAX_RESTARTS) => {
                self.times[self.next] = now;
                self.next = (self.next + 1) % MAX_RESTARTS as usize;
                self.total += 1;
                (Action::Restart, recent + 1)
            }
            OnFailure::Restart => (Action::Stop, recent),
        };
        Verdict {
            failure,
            action,
            recent,
            health: *health,
        }
    }
}

/// When a guest's watchdog expires if it beats at `now` (or starts then):
/// [`NEVER`] without a watchdog.
pub fn watchdog_due(health: &Health, now: u64) -> u64 {
    match health.watchdog_ns {
        0 => NEVER,
        interval => now.saturating_add(interval),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn restart(max: u32, window_ms: u64) -> Health {
        Health {
            on_failure: OnFailure::Restart,
            max_restarts: max,
            restart_window_ns: window_ms * MS,
            watchdog_ns: 0,
        }
    }

    #[test]
    fn restarts_up_to_the_limit_within_the_window_then_stops() {
        let h = restart(2, 100);
        let mut r = Restarts::NONE;
        let fail = Failure::ErrorHalt { code: 7 };
        assert_eq!(r.decide(&h, fail, 10 * MS).action, Action::Restart);
        assert_eq!(r.decide(&h, fail, 20 * MS).action, Action::Restart);
        let v = r.decide(&h, fail, 30 * MS);
        assert_eq!((v.action, v.recent), (Action::Stop, 2));
        assert_eq!(r.total(), 2);
        assert_eq!(
            v.to_string(),
            "failed: halted with error code 0x7; it stops: 2 restarts within 100 ms already"
        );
    }

    #[test]
    fn old_restarts_leave_the_window() {
        let h = restart(2, 100);
        let mut r = Restarts::NONE;
        let fail = Failure::Reset;
        r.decide(&h, fail, 0);
        r.decide(&h, fail, 50 * MS);
        // The first is 100 ms old at 100 ms: out of (0, 100].
        let v = r.decide(&h, fail, 100 * MS);
        assert_eq!((v.action, v.recent), (Action::Restart, 2));
        assert_eq!(
            v.to_string(),
            "failed: asked for a reset (PSCI SYSTEM_RESET); restarting it (restart 2 of at most 2 within 100 ms)"
        );
        assert_eq!(r.decide(&h, fail, 120 * MS).action, Action::Stop);
        assert_eq!(r.total(), 3);
        // Much later the window is empty again.
        assert_eq!(r.decide(&h, fail, 10_000 * MS).action, Action::Restart);
    }

    #[test]
    fn the_ring_keeps_the_latest_restarts() {
        let h = restart(MAX_RESTARTS, 1);
        let mut r = Restarts::NONE;
        for k in 0..3 * MAX_RESTARTS as u64 {
            assert_eq!(r.decide(&h, Failure::Reset, k * MS).action, Action::Restart);
        }
        assert_eq!(r.total(), 3 * MAX_RESTARTS);
        // A window as long as the whole run sees MAX_RESTARTS (the most
        // it can allow) and stops.
        let wide = restart(MAX_RESTARTS, 1_000_000);
        assert_eq!(r.within(&wide, 100 * MS), MAX_RESTARTS);
        assert_eq!(
            r.decide(&wide, Failure::Reset, 100 * MS).action,
            Action::Stop
        );
    }

    #[test]
    fn stop_and_system_never_restart() {
        let mut r = Restarts::NONE;
        let stop = Health::STOP;
        let v = r.decide(
            &stop,
            Failure::Watchdog {
                interval_ns: 30 * MS,
            },
            5,
        );
        assert_eq!(v.action, Action::Stop);
        assert_eq!(
            v.to_string(),
            "failed: missed its heartbeat (none for its watchdog's 30 ms); it stops (on_failure = \"stop\")"
        );
        let system = Health {
            on_failure: OnFailure::System,
            ..stop
        };
        let v = r.decide(&system, Failure::ErrorHalt { code: 1 }, 5);
        assert_eq!(v.action, Action::System);
        assert!(v.to_string().ends_with("the system stops"));
        assert_eq!(r.total(), 0);
    }

    #[test]
    fn the_watchdog_is_due_an_interval_after_a_beat() {
        assert_eq!(watchdog_due(&Health::STOP, 5), NEVER);
        let h = Health {
            watchdog_ns: 30 * MS,
            ..Health::STOP
        };
        assert_eq!(watchdog_due(&h, 5), 30 * MS + 5);
        assert_eq!(watchdog_due(&h, u64::MAX - 1), u64::MAX);
    }
}
