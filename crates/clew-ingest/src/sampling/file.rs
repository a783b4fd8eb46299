//! The strategies file as Jaeger defines it (`--sampling.strategies-file`).
//! Only the shape lives here; what it means is in [`super::strategy`].

use serde::Deserialize;

/// The whole file.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct StrategiesFile {
    /// Used for services without their own entry.
    #[serde(default)]
    pub default_strategy: Option<ServiceStrategy>,
    /// Per-service entries.
    #[serde(default)]
    pub service_strategies: Vec<ServiceStrategy>,
}

/// A service's (or the default) strategy with optional per-operation ones.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct ServiceStrategy {
    /// Service name (absent for the default strategy).
    #[serde(default)]
    pub service: String,
    /// `probabilistic` or `ratelimiting`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Probability, or traces per second.
    #[serde(default)]
    pub param: f64,
    /// Per-operation overrides (probabilistic only).
    #[serde(default)]
    pub operation_strategies: Vec<OperationStrategy>,
}

/// One operation's strategy.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct OperationStrategy {
    /// Operation name.
    #[serde(default)]
    pub operation: String,
    /// `probabilistic` (others are ignored with a warning).
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Probability.
    #[serde(default)]
    pub param: f64,
}
