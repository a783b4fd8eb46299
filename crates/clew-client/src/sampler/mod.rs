//! Samplers decide, once per trace at its root span, whether it is recorded.
//!
//! Jaeger's sampler types are all here: [`ConstSampler`],
//! [`ProbabilisticSampler`], [`RateLimitingSampler`], the per-operation
//! [`PerOperationSampler`] that remote strategies configure, and the
//! [`RemoteSampler`] that polls the agent for those strategies. Sampled root
//! spans carry the deciding sampler's `sampler.type` and `sampler.param`
//! tags, which the server's adaptive sampling reads.

mod constant;
mod per_operation;
mod probabilistic;
mod rate_limiting;
mod remote;
mod strategy;

pub use constant::ConstSampler;
pub use per_operation::{PerOperationSampler, PerOperationSettings};
pub use probabilistic::ProbabilisticSampler;
pub use rate_limiting::{RateLimiter, RateLimitingSampler};
pub use remote::{DEFAULT_SAMPLING_ENDPOINT, RemoteSampler, RemoteSamplerOptions};
pub use strategy::{StrategyError, StrategyResponse};

use std::fmt::Debug;

use clew_model::TraceId;

/// Which sampler decided; written as the `sampler.type` tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SamplerKind {
    /// [`ConstSampler`] (`sampler.param` is written as a bool).
    Const,
    /// [`ProbabilisticSampler`] or a per-operation rate.
    Probabilistic,
    /// [`RateLimitingSampler`].
    RateLimiting,
    /// The lower-bound limiter of [`PerOperationSampler`].
    LowerBound,
}

impl SamplerKind {
    /// The `sampler.type` value Jaeger clients write.
    pub fn as_str(self) -> &'static str {
        match self {
            SamplerKind::Const => "const",
            SamplerKind::Probabilistic => "probabilistic",
            SamplerKind::RateLimiting => "ratelimiting",
            SamplerKind::LowerBound => "lowerbound",
        }
    }
}

impl PartialEq<&str> for SamplerKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The `sampler.type` / `sampler.param` pair put on sampled root spans.
///
/// Sixteen bytes, so a decision comes back from the sampler in registers:
/// it is produced for every root span.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SamplerTags {
    /// The deciding sampler.
    pub kind: SamplerKind,
    /// Its parameter (1 or 0 for `const`).
    pub param: f64,
}

impl SamplerTags {
    /// `sampler.param` as Jaeger clients write it: a bool for `const`, a
    /// float for every other sampler.
    pub(crate) fn param_value(&self) -> clew_model::Value {
        match self.kind {
            SamplerKind::Const => clew_model::Value::Bool(self.param != 0.0),
            _ => clew_model::Value::F64(self.param),
        }
    }

    /// The two tags a sampled root span carries first, in Jaeger's order.
    pub(crate) fn model_tags(&self) -> [clew_model::KeyValue; 2] {
        [
            clew_model::KeyValue::string(clew_model::keys::SAMPLER_TYPE, self.kind.as_str()),
            clew_model::KeyValue::new(clew_model::keys::SAMPLER_PARAM, self.param_value()),
        ]
    }
}

/// A sampler's answer for one new trace.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SamplingDecision {
    /// Whether the trace is recorded.
    pub sampled: bool,
    /// Tags for the root span when sampled.
    pub tags: SamplerTags,
}

impl SamplingDecision {
    /// A decision with the given tags.
    #[inline]
    pub const fn new(sampled: bool, kind: SamplerKind, param: f64) -> Self {
        SamplingDecision {
            sampled,
            tags: SamplerTags { kind, param },
        }
    }
}

/// Decides whether a new trace is sampled. Called on the hot path for every
/// root span, so implementations avoid locks and allocation.
pub trait Sampler: Send + Sync + Debug {
    /// The decision for a trace whose root span has this ID and operation.
    fn sample(&self, trace_id: TraceId, operation: &str) -> SamplingDecision;

    /// The decision this sampler gives for every trace, if it never varies.
    /// The tracer asks once, when it is built, and then no longer calls
    /// [`Self::sample`]: each root span saves an indirect call, a fair part
    /// of the cost of an unsampled span. Return `Some` only when the answer
    /// depends on nothing: not the trace ID, the operation, the time, or
    /// configuration that may change later.
    fn constant_decision(&self) -> Option<SamplingDecision> {
        None
    }

    /// Stops background work (remote polling). Idempotent.
    fn close(&self) {}
}
