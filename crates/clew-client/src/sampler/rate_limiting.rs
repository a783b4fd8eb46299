//! The `ratelimiting` sampler: at most N traces per second.

use std::time::Instant;

use clew_model::TraceId;
use parking_lot::Mutex;

use super::{Sampler, SamplerKind, SamplingDecision};

/// A credit bucket: credits accrue at `rate` per second up to `max_balance`,
/// and each admitted item spends one. The lock is uncontended in practice:
/// it is taken once per new trace, never per span.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    max_balance: f64,
    state: Mutex<(f64, Instant)>,
}

impl RateLimiter {
    /// A limiter that starts full.
    pub fn new(rate: f64, max_balance: f64) -> Self {
        let rate = if rate.is_finite() { rate.max(0.0) } else { 0.0 };
        let max_balance = if max_balance.is_finite() {
            max_balance.max(0.0)
        } else {
            0.0
        };
        RateLimiter {
            rate,
            max_balance,
            state: Mutex::new((max_balance, Instant::now())),
        }
    }

    /// Spends `cost` credits if available.
    pub fn check_credit(&self, cost: f64) -> bool {
        self.check_credit_at(cost, Instant::now())
    }

    fn check_credit_at(&self, cost: f64, now: Instant) -> bool {
        let mut st = self.state.lock();
        let elapsed = now.saturating_duration_since(st.1).as_secs_f64();
        st.1 = now;
        st.0 = (st.0 + elapsed * self.rate).min(self.max_balance);
        if st.0 >= cost {
            st.0 -= cost;
            true
        } else {
            false
        }
    }
}

/// Samples at most `max_traces_per_second` traces per second, with a burst of
/// `max(rate, 1)` as Jaeger clients allow.
#[derive(Debug)]
pub struct RateLimitingSampler {
    max_per_second: f64,
    limiter: RateLimiter,
}

impl RateLimitingSampler {
    /// A sampler for this many traces per second.
    pub fn new(max_traces_per_second: f64) -> Self {
        let rate = if max_traces_per_second.is_finite() {
            max_traces_per_second.max(0.0)
        } else {
            0.0
        };
        RateLimitingSampler {
            max_per_second: rate,
            limiter: RateLimiter::new(rate, rate.max(1.0)),
        }
    }

    /// The configured rate.
    pub fn max_traces_per_second(&self) -> f64 {
        self.max_per_second
    }
}

impl Sampler for RateLimitingSampler {
    fn sample(&self, _trace_id: TraceId, _operation: &str) -> SamplingDecision {
        SamplingDecision::new(
            self.limiter.check_credit(1.0),
            SamplerKind::RateLimiting,
            self.max_per_second,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn limiter_refills_with_time() {
        let l = RateLimiter::new(2.0, 2.0);
        let t0 = Instant::now();
        assert!(l.check_credit_at(1.0, t0));
        assert!(l.check_credit_at(1.0, t0));
        assert!(!l.check_credit_at(1.0, t0));
        assert!(l.check_credit_at(1.0, t0 + Duration::from_millis(500)));
        assert!(!l.check_credit_at(1.0, t0 + Duration::from_millis(500)));
        // Balance is capped at max_balance even after a long pause.
        let later = t0 + Duration::from_secs(100);
        assert!(l.check_credit_at(1.0, later));
        assert!(l.check_credit_at(1.0, later));
        assert!(!l.check_credit_at(1.0, later));
    }

    #[test]
    fn sampler_admits_the_burst_then_stops() {
        let s = RateLimitingSampler::new(3.0);
        let hits = (0..10)
            .filter(|_| s.sample(TraceId::new(0, 1), "op").sampled)
            .count();
        assert_eq!(hits, 3);
        let d = s.sample(TraceId::new(0, 1), "op");
        assert_eq!(d.tags.kind, "ratelimiting");
        assert_eq!(d.tags.param, 3.0);
    }

    #[test]
    fn fractional_rates_still_allow_one() {
        let s = RateLimitingSampler::new(0.1);
        assert!(s.sample(TraceId::new(0, 1), "op").sampled);
        assert!(!s.sample(TraceId::new(0, 1), "op").sampled);
    }
}
