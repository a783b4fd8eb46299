//! The sampling-strategy JSON served by the agent's `/sampling?service=`.
//!
//! Both forms are accepted: the proto-JSON one (`"strategyType":
//! "PROBABILISTIC"`) and the legacy thrift-JSON one (`"strategyType": 0`).

use std::sync::Arc;

use serde::Deserialize;

use super::{
    PerOperationSampler, PerOperationSettings, ProbabilisticSampler, RateLimitingSampler, Sampler,
};

/// Why a strategy response could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StrategyError {
    /// The body is not the expected JSON.
    #[error("invalid sampling strategy JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The JSON names a strategy this client does not know.
    #[error("unknown sampling strategy type {0}")]
    UnknownType(String),
}

/// `strategyType` as a string or the legacy integer.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum StrategyType {
    Name(String),
    Number(i64),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probabilistic {
    #[serde(default)]
    sampling_rate: f64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RateLimiting {
    #[serde(default)]
    max_traces_per_second: f64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OperationStrategy {
    operation: String,
    probabilistic_sampling: Option<Probabilistic>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OperationSampling {
    #[serde(default)]
    default_sampling_probability: f64,
    #[serde(default)]
    default_lower_bound_traces_per_second: f64,
    #[serde(default)]
    per_operation_strategies: Vec<OperationStrategy>,
}

/// A parsed `/sampling` answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StrategyResponse {
    strategy_type: Option<StrategyType>,
    probabilistic_sampling: Option<Probabilistic>,
    rate_limiting_sampling: Option<RateLimiting>,
    operation_sampling: Option<OperationSampling>,
}

impl StrategyResponse {
    /// Parses a response body.
    pub fn parse(body: &str) -> Result<Self, StrategyError> {
        Ok(serde_json::from_str(body)?)
    }

    /// Builds the sampler the strategy describes. Per-operation strategies
    /// win over the top-level type, as in Jaeger clients.
    pub fn to_sampler(&self, max_operations: usize) -> Result<Arc<dyn Sampler>, StrategyError> {
        if let Some(ops) = &self.operation_sampling {
            let settings = PerOperationSettings {
                default_probability: ops.default_sampling_probability,
                lower_bound_per_second: ops.default_lower_bound_traces_per_second,
                operations: ops
                    .per_operation_strategies
                    .iter()
                    .map(|o| {
                        let rate = o
                            .probabilistic_sampling
                            .as_ref()
                            .map_or(ops.default_sampling_probability, |p| p.sampling_rate);
                        (o.operation.clone(), rate)
                    })
                    .collect(),
                max_operations,
            };
            return Ok(Arc::new(PerOperationSampler::new(settings)));
        }
        let rate_limiting = match &self.strategy_type {
            Some(StrategyType::Name(n)) if n == "RATE_LIMITING" => true,
            Some(StrategyType::Number(1)) => true,
            Some(StrategyType::Name(n)) if n == "PROBABILISTIC" => false,
            Some(StrategyType::Number(0)) | None => false,
            Some(StrategyType::Name(n)) => return Err(StrategyError::UnknownType(n.clone())),
            Some(StrategyType::Number(n)) => return Err(StrategyError::UnknownType(n.to_string())),
        };
        if rate_limiting {
            let rate = self
                .rate_limiting_sampling
                .as_ref()
                .map_or(0.0, |r| r.max_traces_per_second);
            Ok(Arc::new(RateLimitingSampler::new(rate)))
        } else {
            let rate = self
                .probabilistic_sampling
                .as_ref()
                .map_or(0.0, |p| p.sampling_rate);
            Ok(Arc::new(ProbabilisticSampler::new(rate)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clew_model::TraceId;

    fn sampler(body: &str) -> Arc<dyn Sampler> {
        StrategyResponse::parse(body)
            .and_then(|s| s.to_sampler(10))
            .expect("valid strategy")
    }

    #[test]
    fn probabilistic_both_enum_forms() {
        for body in [
            r#"{"strategyType":"PROBABILISTIC","probabilisticSampling":{"samplingRate":1}}"#,
            r#"{"strategyType":0,"probabilisticSampling":{"samplingRate":1.0}}"#,
        ] {
            let d = sampler(body).sample(TraceId::new(0, 5), "op");
            assert!(d.sampled);
            assert_eq!(d.tags.kind, "probabilistic");
        }
    }

    #[test]
    fn rate_limiting_strategy() {
        let s = sampler(
            r#"{"strategyType":"RATE_LIMITING","rateLimitingSampling":{"maxTracesPerSecond":2}}"#,
        );
        assert_eq!(s.sample(TraceId::new(0, 1), "op").tags.kind, "ratelimiting");
    }

    #[test]
    fn per_operation_strategy_applies_operation_rates() {
        let s = sampler(
            r#"{"strategyType":"PROBABILISTIC","probabilisticSampling":{"samplingRate":0},
            "operationSampling":{"defaultSamplingProbability":0,"defaultLowerBoundTracesPerSecond":0,
            "perOperationStrategies":[{"operation":"always","probabilisticSampling":{"samplingRate":1}}]}}"#,
        );
        assert!(s.sample(TraceId::new(0, 77), "always").sampled);
        assert!(!s.sample(TraceId::new(0, 77), "other").sampled);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(StrategyResponse::parse("{").is_err());
        assert!(
            StrategyResponse::parse(r#"{"strategyType":"WEIRD"}"#)
                .and_then(|s| s.to_sampler(1))
                .is_err()
        );
    }
}
