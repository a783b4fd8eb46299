//! The `probabilistic` sampler: a fixed fraction of traces.

use clew_model::TraceId;

use super::{Sampler, SamplerKind, SamplingDecision};

/// Jaeger compares the low 63 bits of the trace ID against a boundary, so
/// every service with the same rate makes the same decision for a trace.
const MAX_RANDOM: u64 = 0x7fff_ffff_ffff_ffff;

/// Samples a trace when `(trace_id.low & 2^63-1) < rate × (2^63-1)`, as Jaeger
/// clients do.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProbabilisticSampler {
    rate: f64,
    boundary: u64,
}

impl ProbabilisticSampler {
    /// A sampler for `rate` (clamped into `[0, 1]`; NaN counts as 0).
    pub fn new(rate: f64) -> Self {
        let rate = if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        };
        ProbabilisticSampler {
            rate,
            boundary: (rate * MAX_RANDOM as f64) as u64,
        }
    }

    /// The sampling rate.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// The decision alone, without tags.
    #[inline]
    pub fn is_sampled(&self, trace_id: TraceId) -> bool {
        self.rate >= 1.0 || (trace_id.low & MAX_RANDOM) < self.boundary
    }
}

impl Sampler for ProbabilisticSampler {
    #[inline]
    fn sample(&self, trace_id: TraceId, _operation: &str) -> SamplingDecision {
        SamplingDecision::new(
            self.is_sampled(trace_id),
            SamplerKind::Probabilistic,
            self.rate,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn edges_are_all_or_nothing() {
        let all = ProbabilisticSampler::new(1.0);
        let none = ProbabilisticSampler::new(0.0);
        for low in [0u64, 1, MAX_RANDOM, u64::MAX] {
            assert!(all.is_sampled(TraceId::new(0, low)));
            assert!(!none.is_sampled(TraceId::new(0, low)));
        }
        assert_eq!(ProbabilisticSampler::new(7.0).rate(), 1.0);
        assert_eq!(ProbabilisticSampler::new(f64::NAN).rate(), 0.0);
    }

    #[test]
    fn boundary_matches_jaeger() {
        let s = ProbabilisticSampler::new(0.5);
        assert!(s.is_sampled(TraceId::new(0, 0x3fff_ffff_ffff_fffe)));
        assert!(!s.is_sampled(TraceId::new(0, 0x4000_0000_0000_0001)));
        // The top bit is ignored.
        assert!(s.is_sampled(TraceId::new(0, 0x8000_0000_0000_0001)));
    }

    #[test]
    fn rate_is_roughly_honoured() {
        let s = ProbabilisticSampler::new(0.25);
        let n = 20_000;
        let hits = (0..n)
            .filter(|_| s.is_sampled(TraceId::new(0, fastrand::u64(..))))
            .count();
        let frac = hits as f64 / n as f64;
        assert!((0.22..0.28).contains(&frac), "{frac}");
    }

    proptest! {
        #[test]
        fn decision_is_deterministic_per_trace(low: u64, rate in 0.0f64..1.0) {
            let s = ProbabilisticSampler::new(rate);
            let t = TraceId::new(0, low);
            prop_assert_eq!(s.is_sampled(t), s.is_sampled(t));
            prop_assert_eq!(s.sample(t, "a").sampled, s.sample(t, "b").sampled);
        }
    }
}
