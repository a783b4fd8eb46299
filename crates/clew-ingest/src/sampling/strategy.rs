//! What each service is told: the strategy table computed from a strategies
//! file. Pure: no I/O, no clock, so every merge rule is unit-tested.
//!
//! The rules follow Jaeger's file-based provider:
//! * `probabilistic` → sampling rate = param; `ratelimiting` → max traces per
//!   second = param truncated to an integer; any other type → the default
//!   probability, with a warning.
//! * Per-operation entries must be probabilistic; others are dropped with a warning.
//! * A strategy with operation entries gets `operationSampling` whose default
//!   probability is its own rate when probabilistic, else the default probability.
//! * A service without operation entries, when the default strategy has them,
//!   gets a copy of the default's `operationSampling` (with its own rate as the
//!   default probability when it is probabilistic).
//! * A service with operation entries, when the default has them too, gets
//!   both lists merged; its own entries win per operation name.
//! * Unknown services get the default strategy.

use std::collections::{HashMap, HashSet};

use super::file::{ServiceStrategy, StrategiesFile};

/// Which sampler the client should run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrategyType {
    /// Sample each trace with a fixed probability.
    Probabilistic,
    /// Sample at most N traces per second.
    RateLimiting,
}

/// One operation's probability.
#[derive(Clone, Debug, PartialEq)]
pub struct OperationProbability {
    /// Operation name.
    pub operation: String,
    /// Sampling rate in [0, 1].
    pub sampling_rate: f64,
}

/// The `operationSampling` block.
#[derive(Clone, Debug, PartialEq)]
pub struct PerOperationSampling {
    /// Probability for operations not listed.
    pub default_sampling_probability: f64,
    /// Guaranteed traces per second per operation.
    pub default_lower_bound_traces_per_second: f64,
    /// Listed operations.
    pub per_operation: Vec<OperationProbability>,
    /// Proto field kept for shape compatibility (always 0 for file strategies).
    pub default_upper_bound_traces_per_second: f64,
}

/// The answer for one service (`SamplingStrategyResponse`).
#[derive(Clone, Debug, PartialEq)]
pub struct StrategyResponse {
    /// Sampler type.
    pub strategy_type: StrategyType,
    /// `probabilisticSampling.samplingRate`, when probabilistic.
    pub sampling_rate: Option<f64>,
    /// `rateLimitingSampling.maxTracesPerSecond`, when rate limiting.
    pub max_traces_per_second: Option<i32>,
    /// Per-operation strategies, if any.
    pub operation_sampling: Option<PerOperationSampling>,
}

impl StrategyResponse {
    /// A plain probabilistic strategy.
    pub fn probabilistic(rate: f64) -> Self {
        StrategyResponse {
            strategy_type: StrategyType::Probabilistic,
            sampling_rate: Some(rate),
            max_traces_per_second: None,
            operation_sampling: None,
        }
    }

    /// A plain rate-limiting strategy.
    pub fn rate_limiting(max_traces_per_second: i32) -> Self {
        StrategyResponse {
            strategy_type: StrategyType::RateLimiting,
            sampling_rate: None,
            max_traces_per_second: Some(max_traces_per_second),
            operation_sampling: None,
        }
    }
}

/// Strategies for every service, ready to serve.
#[derive(Clone, Debug, PartialEq)]
pub struct StrategyTable {
    default: StrategyResponse,
    services: HashMap<String, StrategyResponse>,
}

impl StrategyTable {
    /// Every service gets probabilistic `probability`.
    pub fn uniform(probability: f64) -> Self {
        StrategyTable {
            default: StrategyResponse::probabilistic(probability),
            services: HashMap::new(),
        }
    }

    /// Computes the table; `default_probability` fills gaps (no default
    /// strategy, unknown types). Returns the warnings found along the way.
    pub fn compute(file: &StrategiesFile, default_probability: f64) -> (Self, Vec<String>) {
        let mut warnings = Vec::new();
        let default = match &file.default_strategy {
            Some(s) => parse_service(s, default_probability, &mut warnings),
            None => StrategyResponse::probabilistic(default_probability),
        };
        let mut services = HashMap::new();
        for s in &file.service_strategies {
            let mut resp = parse_service(s, default_probability, &mut warnings);
            if let Some(default_ops) = &default.operation_sampling {
                match &mut resp.operation_sampling {
                    None => {
                        let mut ops = default_ops.clone();
                        if let Some(rate) = resp.sampling_rate {
                            ops.default_sampling_probability = rate;
                        }
                        resp.operation_sampling = Some(ops);
                    }
                    Some(own) => {
                        merge_operations(&mut own.per_operation, &default_ops.per_operation)
                    }
                }
            }
            services.insert(s.service.clone(), resp);
        }
        (StrategyTable { default, services }, warnings)
    }

    /// The strategy for `service` (the default one when it has no entry).
    pub fn for_service(&self, service: &str) -> &StrategyResponse {
        self.services.get(service).unwrap_or(&self.default)
    }
}

fn parse_kind(
    kind: &str,
    param: f64,
    default_probability: f64,
    what: &str,
    warnings: &mut Vec<String>,
) -> StrategyResponse {
    match kind {
        "probabilistic" => StrategyResponse::probabilistic(param),
        // Jaeger truncates towards zero (Go's int32 conversion); `as` saturates
        // instead of wrapping on absurd values, which is the safer reading.
        "ratelimiting" => StrategyResponse::rate_limiting(param as i32),
        other => {
            warnings.push(format!(
                "{what}: unknown sampling strategy type {other:?}; using probabilistic {default_probability}"
            ));
            StrategyResponse::probabilistic(default_probability)
        }
    }
}

fn parse_service(
    s: &ServiceStrategy,
    default_probability: f64,
    warnings: &mut Vec<String>,
) -> StrategyResponse {
    let what = if s.service.is_empty() {
        "default strategy".to_string()
    } else {
        format!("service {:?}", s.service)
    };
    let mut resp = parse_kind(&s.kind, s.param, default_probability, &what, warnings);
    if s.operation_strategies.is_empty() {
        return resp;
    }
    let own_default = resp.sampling_rate.unwrap_or(default_probability);
    let mut per_operation = Vec::new();
    for op in &s.operation_strategies {
        let op_what = format!("{what}, operation {:?}", op.operation);
        let parsed = parse_kind(&op.kind, op.param, default_probability, &op_what, warnings);
        match parsed.sampling_rate {
            Some(rate) => per_operation.push(OperationProbability {
                operation: op.operation.clone(),
                sampling_rate: rate,
            }),
            None => warnings.push(format!(
                "{op_what}: operation strategies must be probabilistic; entry ignored"
            )),
        }
    }
    resp.operation_sampling = Some(PerOperationSampling {
        default_sampling_probability: own_default,
        default_lower_bound_traces_per_second: 0.0,
        per_operation,
        default_upper_bound_traces_per_second: 0.0,
    });
    resp
}

/// Appends the default's entries for operations the service does not list.
fn merge_operations(own: &mut Vec<OperationProbability>, defaults: &[OperationProbability]) {
    let listed: HashSet<String> = own.iter().map(|o| o.operation.clone()).collect();
    own.extend(
        defaults
            .iter()
            .filter(|d| !listed.contains(&d.operation))
            .cloned(),
    );
}

#[cfg(test)]
mod tests;
