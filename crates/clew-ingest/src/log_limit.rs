//! Rate-limited warnings, so a flood of bad datagrams or failing writes
//! produces one log line per interval instead of one per packet.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Lets one event through per interval; callers log only when [`LogLimiter::allow`] says so.
#[derive(Debug)]
pub(crate) struct LogLimiter {
    origin: Instant,
    interval_ms: u64,
    /// Milliseconds since `origin` at which the next event may pass (+1 so 0 means "never logged").
    next_ms: AtomicU64,
    suppressed: AtomicU64,
}

impl LogLimiter {
    pub(crate) fn new(interval: Duration) -> Self {
        LogLimiter {
            origin: Instant::now(),
            interval_ms: interval.as_millis().max(1) as u64,
            next_ms: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// `Some(n)` when this event should be logged, `n` being how many were
    /// suppressed since the last logged one; `None` to stay quiet.
    pub(crate) fn allow(&self) -> Option<u64> {
        let now = self.origin.elapsed().as_millis() as u64 + 1;
        let next = self.next_ms.load(Ordering::Relaxed);
        if now >= next
            && self
                .next_ms
                .compare_exchange(
                    next,
                    now + self.interval_ms,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            return Some(self.suppressed.swap(0, Ordering::Relaxed));
        }
        self.suppressed.fetch_add(1, Ordering::Relaxed);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_event_per_interval() {
        let l = LogLimiter::new(Duration::from_secs(3600));
        assert_eq!(l.allow(), Some(0));
        assert_eq!(l.allow(), None);
        assert_eq!(l.allow(), None);
        let fast = LogLimiter::new(Duration::from_millis(1));
        assert_eq!(fast.allow(), Some(0));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(fast.allow(), Some(0));
    }
}
