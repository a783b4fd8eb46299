//! The two JSON forms of a strategy response.
//!
//! * Proto JSON (`GET /sampling`): `strategyType` is the enum name, absent
//!   blocks are left out, zero-valued numbers inside present blocks are kept.
//! * Legacy Thrift JSON (`GET /?service=`, jaeger-client-java): the same keys,
//!   but `strategyType` is the enum's integer (0 probabilistic, 1 rate limiting).

use serde::Serialize;

use super::strategy::{StrategyResponse, StrategyType};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Wire<'a, T: Serialize> {
    strategy_type: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    probabilistic_sampling: Option<Probabilistic>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_limiting_sampling: Option<RateLimiting>,
    #[serde(skip_serializing_if = "Option::is_none")]
    operation_sampling: Option<Operations<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Probabilistic {
    sampling_rate: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RateLimiting {
    max_traces_per_second: i32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Operations<'a> {
    default_sampling_probability: f64,
    default_lower_bound_traces_per_second: f64,
    per_operation_strategies: Vec<Operation<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_upper_bound_traces_per_second: Option<f64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Operation<'a> {
    operation: &'a str,
    probabilistic_sampling: Probabilistic,
}

fn wire<T: Serialize>(r: &StrategyResponse, strategy_type: T, legacy: bool) -> Wire<'_, T> {
    Wire {
        strategy_type,
        probabilistic_sampling: r
            .sampling_rate
            .map(|sampling_rate| Probabilistic { sampling_rate }),
        rate_limiting_sampling: r
            .max_traces_per_second
            .map(|max_traces_per_second| RateLimiting {
                max_traces_per_second,
            }),
        operation_sampling: r.operation_sampling.as_ref().map(|ops| Operations {
            default_sampling_probability: ops.default_sampling_probability,
            default_lower_bound_traces_per_second: ops.default_lower_bound_traces_per_second,
            per_operation_strategies: ops
                .per_operation
                .iter()
                .map(|o| Operation {
                    operation: &o.operation,
                    probabilistic_sampling: Probabilistic {
                        sampling_rate: o.sampling_rate,
                    },
                })
                .collect(),
            // Optional in the Thrift IDL (omitted when unset), a plain double in the proto.
            default_upper_bound_traces_per_second: (!legacy
                || ops.default_upper_bound_traces_per_second != 0.0)
                .then_some(ops.default_upper_bound_traces_per_second),
        }),
    }
}

/// Serialises in field order (`strategyType` first, as Jaeger writes it).
fn render<T: Serialize>(w: &Wire<'_, T>) -> String {
    // Serialising plain structs of numbers and strings cannot fail; NaN
    // parameters become `null`, which clients reject like any bad strategy.
    serde_json::to_string(w).unwrap_or_else(|_| "{}".to_string())
}

/// The proto-JSON form served by `GET /sampling`.
pub fn to_proto_json(r: &StrategyResponse) -> String {
    let name = match r.strategy_type {
        StrategyType::Probabilistic => "PROBABILISTIC",
        StrategyType::RateLimiting => "RATE_LIMITING",
    };
    render(&wire(r, name, false))
}

/// The legacy Thrift-JSON form served by `GET /?service=`.
pub fn to_legacy_json(r: &StrategyResponse) -> String {
    let code: i32 = match r.strategy_type {
        StrategyType::Probabilistic => 0,
        StrategyType::RateLimiting => 1,
    };
    render(&wire(r, code, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampling::strategy::{OperationProbability, PerOperationSampling};
    use serde_json::{Value, json};

    fn proto(r: &StrategyResponse) -> Value {
        serde_json::from_str(&to_proto_json(r)).expect("valid JSON")
    }
    fn legacy(r: &StrategyResponse) -> Value {
        serde_json::from_str(&to_legacy_json(r)).expect("valid JSON")
    }

    #[test]
    fn probabilistic_and_rate_limiting_shapes() {
        assert_eq!(
            to_proto_json(&StrategyResponse::probabilistic(0.001)),
            r#"{"strategyType":"PROBABILISTIC","probabilisticSampling":{"samplingRate":0.001}}"#
        );
        assert_eq!(
            proto(&StrategyResponse::probabilistic(0.001)),
            json!({"strategyType": "PROBABILISTIC", "probabilisticSampling": {"samplingRate": 0.001}})
        );
        assert_eq!(
            proto(&StrategyResponse::rate_limiting(5)),
            json!({"strategyType": "RATE_LIMITING", "rateLimitingSampling": {"maxTracesPerSecond": 5}})
        );
        assert_eq!(
            legacy(&StrategyResponse::rate_limiting(5)),
            json!({"strategyType": 1, "rateLimitingSampling": {"maxTracesPerSecond": 5}})
        );
    }

    #[test]
    fn per_operation_shape() {
        let mut r = StrategyResponse::probabilistic(0.8);
        r.operation_sampling = Some(PerOperationSampling {
            default_sampling_probability: 0.8,
            default_lower_bound_traces_per_second: 0.0,
            per_operation: vec![OperationProbability {
                operation: "op1".into(),
                sampling_rate: 0.2,
            }],
            default_upper_bound_traces_per_second: 0.0,
        });
        assert_eq!(
            proto(&r),
            json!({
                "strategyType": "PROBABILISTIC",
                "probabilisticSampling": {"samplingRate": 0.8},
                "operationSampling": {
                    "defaultSamplingProbability": 0.8,
                    "defaultLowerBoundTracesPerSecond": 0.0,
                    "perOperationStrategies": [
                        {"operation": "op1", "probabilisticSampling": {"samplingRate": 0.2}}
                    ],
                    "defaultUpperBoundTracesPerSecond": 0.0
                }
            })
        );
        let old = legacy(&r);
        assert_eq!(old["strategyType"], json!(0));
        assert!(
            old["operationSampling"]
                .get("defaultUpperBoundTracesPerSecond")
                .is_none()
        );
        assert_eq!(
            old["operationSampling"]["perOperationStrategies"][0]["operation"],
            "op1"
        );
    }
}
