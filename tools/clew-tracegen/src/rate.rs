//! A shared rate cap across workers (`--rate` spans/s).
//!
//! Instead of a token bucket with a lock, every worker claims its spans from
//! one atomic counter: the claim's position says when, on an ideal schedule
//! starting at `start`, those spans are due, and the worker sleeps until then.
//! Workers that fall behind the schedule send at once, so the average rate
//! converges on the target without bursts above it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Paces sends to `spans_per_s` across all workers sharing it.
#[derive(Debug)]
pub struct Pacer {
    start: Instant,
    spans_per_s: u64,
    claimed: AtomicU64,
}

impl Pacer {
    /// A pacer whose schedule starts at `start`. `spans_per_s` must be > 0.
    pub fn new(start: Instant, spans_per_s: u64) -> Self {
        Pacer {
            start,
            spans_per_s: spans_per_s.max(1),
            claimed: AtomicU64::new(0),
        }
    }

    /// Claims `spans` and returns when they may be sent.
    pub fn claim(&self, spans: u64) -> Instant {
        let before = self.claimed.fetch_add(spans, Ordering::Relaxed);
        self.start + Duration::from_secs_f64(before as f64 / self.spans_per_s as f64)
    }
}

/// Sleeps until `due` (returns at once if it has passed).
pub fn sleep_until(due: Instant) {
    let now = Instant::now();
    if due > now {
        std::thread::sleep(due - now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_spread_on_the_schedule() {
        let start = Instant::now();
        let p = Pacer::new(start, 1000);
        assert_eq!(p.claim(500), start);
        assert_eq!(p.claim(500), start + Duration::from_millis(500));
        assert_eq!(p.claim(1), start + Duration::from_secs(1));
    }

    #[test]
    fn sharing_threads_never_claim_the_same_slot() {
        let p = Pacer::new(Instant::now(), 100);
        let dues: Vec<Instant> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4)
                .map(|_| s.spawn(|| (0..50).map(|_| p.claim(1)).collect::<Vec<_>>()))
                .collect();
            hs.into_iter()
                .flat_map(|h| h.join().expect("thread"))
                .collect()
        });
        let mut sorted = dues.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 200);
        assert_eq!(sorted[199] - sorted[0], Duration::from_millis(1990));
    }
}
