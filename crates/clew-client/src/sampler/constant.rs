//! The `const` sampler: all or nothing.

use clew_model::TraceId;

use super::{Sampler, SamplerKind, SamplingDecision};

/// Samples every trace (`ConstSampler(true)`) or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConstSampler(pub bool);

impl Sampler for ConstSampler {
    #[inline]
    fn sample(&self, _trace_id: TraceId, _operation: &str) -> SamplingDecision {
        SamplingDecision::new(self.0, SamplerKind::Const, if self.0 { 1.0 } else { 0.0 })
    }

    fn constant_decision(&self) -> Option<SamplingDecision> {
        Some(self.sample(TraceId::default(), ""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn const_sampler_always_answers_the_same() {
        for low in [1u64, 2, u64::MAX] {
            assert!(
                ConstSampler(true)
                    .sample(TraceId::new(0, low), "op")
                    .sampled
            );
            assert!(
                !ConstSampler(false)
                    .sample(TraceId::new(0, low), "op")
                    .sampled
            );
        }
        let d = ConstSampler(true).sample(TraceId::new(0, 1), "op");
        assert_eq!(d.tags.kind, "const");
        assert_eq!(d.tags.param, 1.0);
        for yes in [true, false] {
            assert_eq!(
                ConstSampler(yes).constant_decision(),
                Some(ConstSampler(yes).sample(TraceId::new(0, 7), "x"))
            );
        }
    }
}
