//! `jaeger.api_v2.SamplingManager/GetSamplingStrategy`: the strategies of
//! HTTP 5778, as protobuf, for remote samplers that poll over gRPC.

use std::sync::Arc;

use clew_codec_jaeger::api_v2::pb;
use tonic::{Request, Response, Status};

use super::proto::sampling_manager_server::SamplingManager;
use crate::sampling::{SamplingStrategies, StrategyResponse, StrategyType};

/// The `SamplingManager` implementation.
#[derive(Clone)]
pub struct JaegerSampling {
    strategies: Arc<SamplingStrategies>,
}

impl JaegerSampling {
    /// Answers from `strategies` (reloads show up at once).
    pub fn new(strategies: Arc<SamplingStrategies>) -> Self {
        JaegerSampling { strategies }
    }
}

#[tonic::async_trait]
impl SamplingManager for JaegerSampling {
    async fn get_sampling_strategy(
        &self,
        request: Request<pb::SamplingStrategyParameters>,
    ) -> Result<Response<pb::SamplingStrategyResponse>, Status> {
        let service = request.into_inner().service_name;
        // An empty name gets the default strategy, as on 5778's table; the
        // HTTP endpoint's "service must be given" check is about the query string.
        let strategy = self.strategies.for_service(&service);
        Ok(Response::new(strategy_to_pb(&strategy)))
    }
}

/// A strategy as the api_v2 message: the same blocks the proto-JSON form of
/// `GET /sampling` carries, absent where that form leaves them out.
pub fn strategy_to_pb(s: &StrategyResponse) -> pb::SamplingStrategyResponse {
    let strategy_type = match s.strategy_type {
        StrategyType::Probabilistic => pb::SamplingStrategyType::Probabilistic,
        StrategyType::RateLimiting => pb::SamplingStrategyType::RateLimiting,
    };
    let probabilistic = |sampling_rate| pb::ProbabilisticSamplingStrategy { sampling_rate };
    pb::SamplingStrategyResponse {
        strategy_type: strategy_type as i32,
        probabilistic_sampling: s.sampling_rate.map(probabilistic),
        rate_limiting_sampling: s.max_traces_per_second.map(|max_traces_per_second| {
            pb::RateLimitingSamplingStrategy {
                max_traces_per_second,
            }
        }),
        operation_sampling: s.operation_sampling.as_ref().map(|ops| {
            pb::PerOperationSamplingStrategies {
                default_sampling_probability: ops.default_sampling_probability,
                default_lower_bound_traces_per_second: ops.default_lower_bound_traces_per_second,
                per_operation_strategies: ops
                    .per_operation
                    .iter()
                    .map(|o| pb::OperationSamplingStrategy {
                        operation: o.operation.clone(),
                        probabilistic_sampling: Some(probabilistic(o.sampling_rate)),
                    })
                    .collect(),
                default_upper_bound_traces_per_second: ops.default_upper_bound_traces_per_second,
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampling::{OperationProbability, PerOperationSampling};

    #[test]
    fn rate_limiting_with_operations_maps_every_block() {
        let mut s = StrategyResponse::rate_limiting(7);
        s.operation_sampling = Some(PerOperationSampling {
            default_sampling_probability: 0.25,
            default_lower_bound_traces_per_second: 0.5,
            per_operation: vec![OperationProbability {
                operation: "GET /".into(),
                sampling_rate: 0.125,
            }],
            default_upper_bound_traces_per_second: 0.0,
        });
        let pb = strategy_to_pb(&s);
        assert_eq!(
            pb.strategy_type,
            pb::SamplingStrategyType::RateLimiting as i32
        );
        assert_eq!(pb.probabilistic_sampling, None);
        assert_eq!(
            pb.rate_limiting_sampling.map(|r| r.max_traces_per_second),
            Some(7)
        );
        let ops = pb.operation_sampling.expect("operation sampling");
        assert_eq!(ops.default_sampling_probability, 0.25);
        assert_eq!(ops.default_lower_bound_traces_per_second, 0.5);
        assert_eq!(ops.per_operation_strategies.len(), 1);
        assert_eq!(ops.per_operation_strategies[0].operation, "GET /");
        assert_eq!(
            ops.per_operation_strategies[0]
                .probabilistic_sampling
                .as_ref()
                .map(|p| p.sampling_rate),
            Some(0.125)
        );
    }

    #[test]
    fn probabilistic_has_only_its_block() {
        let pb = strategy_to_pb(&StrategyResponse::probabilistic(0.5));
        assert_eq!(
            pb.strategy_type,
            pb::SamplingStrategyType::Probabilistic as i32
        );
        assert_eq!(
            pb.probabilistic_sampling.map(|p| p.sampling_rate),
            Some(0.5)
        );
        assert!(pb.rate_limiting_sampling.is_none());
        assert!(pb.operation_sampling.is_none());
    }
}
