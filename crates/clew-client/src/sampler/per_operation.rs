//! The per-operation ("guaranteed throughput") sampler of remote strategies.

use std::collections::HashMap;

use clew_model::TraceId;
use parking_lot::RwLock;

use super::{ProbabilisticSampler, RateLimiter, Sampler, SamplerKind, SamplingDecision};

/// What a per-operation strategy says.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PerOperationSettings {
    /// Rate for operations without their own entry.
    pub default_probability: f64,
    /// Every operation may sample at least this many traces per second.
    pub lower_bound_per_second: f64,
    /// Rates for named operations.
    pub operations: Vec<(String, f64)>,
    /// Operations beyond this many share the default sampler (Jaeger: 2000).
    pub max_operations: usize,
}

#[derive(Debug)]
struct OperationSampler {
    probabilistic: ProbabilisticSampler,
    lower_bound: RateLimiter,
}

impl OperationSampler {
    fn new(rate: f64, lower_bound: f64) -> Self {
        OperationSampler {
            probabilistic: ProbabilisticSampler::new(rate),
            lower_bound: RateLimiter::new(lower_bound, lower_bound.max(1.0)),
        }
    }

    fn sample(&self, trace_id: TraceId, has_lower_bound: bool) -> SamplingDecision {
        let rate = self.probabilistic.rate();
        if self.probabilistic.is_sampled(trace_id) {
            return SamplingDecision::new(true, SamplerKind::Probabilistic, rate);
        }
        let lb = has_lower_bound && self.lower_bound.check_credit(1.0);
        SamplingDecision::new(lb, SamplerKind::LowerBound, rate)
    }
}

/// Per operation: sample by the operation's probability, or else by a
/// lower-bound rate limiter so rare operations still appear. New operations
/// get the default probability until `max_operations` is reached.
#[derive(Debug)]
pub struct PerOperationSampler {
    settings: PerOperationSettings,
    operations: RwLock<HashMap<String, OperationSampler>>,
    default: ProbabilisticSampler,
}

impl PerOperationSampler {
    /// A sampler for these settings.
    pub fn new(settings: PerOperationSettings) -> Self {
        let lb = settings.lower_bound_per_second;
        let operations = settings
            .operations
            .iter()
            .map(|(op, rate)| (op.clone(), OperationSampler::new(*rate, lb)))
            .collect();
        PerOperationSampler {
            default: ProbabilisticSampler::new(settings.default_probability),
            settings,
            operations: RwLock::new(operations),
        }
    }

    /// The settings this sampler was built from.
    pub fn settings(&self) -> &PerOperationSettings {
        &self.settings
    }
}

impl Sampler for PerOperationSampler {
    fn sample(&self, trace_id: TraceId, operation: &str) -> SamplingDecision {
        let has_lb = self.settings.lower_bound_per_second > 0.0;
        if let Some(s) = self.operations.read().get(operation) {
            return s.sample(trace_id, has_lb);
        }
        let mut ops = self.operations.write();
        if ops.len() >= self.settings.max_operations {
            drop(ops);
            return self.default.sample(trace_id, operation);
        }
        let s = ops.entry(operation.to_owned()).or_insert_with(|| {
            OperationSampler::new(
                self.settings.default_probability,
                self.settings.lower_bound_per_second,
            )
        });
        s.sample(trace_id, has_lb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(lb: f64, max: usize) -> PerOperationSettings {
        PerOperationSettings {
            default_probability: 0.0,
            lower_bound_per_second: lb,
            operations: vec![("hot".into(), 1.0)],
            max_operations: max,
        }
    }

    #[test]
    fn operation_rate_wins_and_is_tagged_probabilistic() {
        let s = PerOperationSampler::new(settings(0.0, 10));
        let d = s.sample(TraceId::new(0, 42), "hot");
        assert!(d.sampled);
        assert_eq!(d.tags.kind, "probabilistic");
        assert!(!s.sample(TraceId::new(0, 42), "cold").sampled);
    }

    #[test]
    fn lower_bound_admits_rare_operations() {
        let s = PerOperationSampler::new(settings(1.0, 10));
        let d = s.sample(TraceId::new(0, 42), "rare");
        assert!(d.sampled);
        assert_eq!(d.tags.kind, "lowerbound");
        assert!(
            !s.sample(TraceId::new(0, 42), "rare").sampled,
            "bucket spent"
        );
    }

    #[test]
    fn operations_beyond_the_cap_use_the_default() {
        let s = PerOperationSampler::new(settings(1.0, 1));
        // "hot" fills the only slot; "new" falls back to default probability 0
        // without the lower bound.
        assert!(!s.sample(TraceId::new(0, 42), "new").sampled);
        assert_eq!(s.operations.read().len(), 1);
    }
}
