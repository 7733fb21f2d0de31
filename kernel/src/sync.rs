//! A ticket spin lock for the monitor's few shared resources (the console).
//!
//! - First come, first served: a core printing a long line cannot starve
//!   the other.
//! - Uses LDREX/STREX via `core::sync::atomic`. QEMU accepts these with the
//!   MMU off; on silicon exclusives need memory the global monitor covers,
//!   which the real board's memory map must provide.
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, Ordering};

pub struct SpinLock<T> {
    next: AtomicU32,
    serving: AtomicU32,
    value: UnsafeCell<T>,
}

// SAFETY: access to `value` is serialised by the ticket lock.
unsafe impl<T: Send> Sync for SpinLock<T> {}

impl<T> SpinLock<T> {
    pub const fn new(value: T) -> Self {
        Self {
            next: AtomicU32::new(0),
            serving: AtomicU32::new(0),
            value: UnsafeCell::new(value),
        }
    }

    /// Runs `f` with the lock held if it can be taken within `attempts`
    /// tries; `None` otherwise. For fault reports: a core that faulted while
    /// holding the lock must not wait for itself.
    pub fn try_with<R>(&self, attempts: u32, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        for _ in 0..attempts {
            let serving = self.serving.load(Ordering::Acquire);
            if self
                .next
                .compare_exchange(
                    serving,
                    serving.wrapping_add(1),
                    Ordering::Acquire,
                    Ordering::Relaxed,
                )
                .is_ok()
            {
                // SAFETY: taking ticket `serving` while it is being served
                // gives exclusive access until release.
                let r = f(unsafe { &mut *self.value.get() });
                self.serving
                    .store(serving.wrapping_add(1), Ordering::Release);
                return Some(r);
            }
            core::hint::spin_loop();
        }
        None
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let ticket = self.next.fetch_add(1, Ordering::Relaxed);
        while self.serving.load(Ordering::Acquire) != ticket {
            core::hint::spin_loop();
        }
        // SAFETY: holding the ticket gives exclusive access until release.
        let r = f(unsafe { &mut *self.value.get() });
        self.serving
            .store(ticket.wrapping_add(1), Ordering::Release);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_serialises() {
        let l = SpinLock::new(0u32);
        l.with(|v| *v += 1);
        l.with(|v| *v += 1);
        assert_eq!(l.with(|v| *v), 2);
        assert_eq!(l.try_with(1, |v| *v), Some(2));
        assert_eq!(
            l.with(|_| l.try_with(10, |_| ())),
            None,
            "held: try_with gives up"
        );
        assert_eq!(l.with(|v| *v), 2, "and leaves the lock usable");
    }
}
