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

/// The value of the `sampler.param` tag (bool for `const`, else a number).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SamplerParam {
    /// `const` samplers report their decision.
    Bool(bool),
    /// Rates and limits.
    F64(f64),
}

/// The `sampler.type` / `sampler.param` pair put on sampled root spans.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SamplerTags {
    /// `const`, `probabilistic`, `ratelimiting` or `lowerbound`.
    pub kind: &'static str,
    /// The sampler's parameter.
    pub param: SamplerParam,
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
    pub const fn new(sampled: bool, kind: &'static str, param: SamplerParam) -> Self {
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

    /// Stops background work (remote polling). Idempotent.
    fn close(&self) {}
}

/// `sampler.type` values as Jaeger clients write them.
pub mod kinds {
    /// [`super::ConstSampler`].
    pub const CONST: &str = "const";
    /// [`super::ProbabilisticSampler`].
    pub const PROBABILISTIC: &str = "probabilistic";
    /// [`super::RateLimitingSampler`].
    pub const RATE_LIMITING: &str = "ratelimiting";
    /// The lower-bound limiter of [`super::PerOperationSampler`].
    pub const LOWER_BOUND: &str = "lowerbound";
    /// [`super::RemoteSampler`] (configuration name only; never a tag).
    pub const REMOTE: &str = "remote";
}
