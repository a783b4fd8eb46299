//! One test per merge rule of the strategies file.

use super::*;

fn table(json: &str) -> (StrategyTable, Vec<String>) {
    let file: StrategiesFile = serde_json::from_str(json).expect("valid strategies JSON");
    StrategyTable::compute(&file, 0.001)
}

fn ops(list: &[(&str, f64)]) -> Vec<OperationProbability> {
    list.iter()
        .map(|(o, r)| OperationProbability {
            operation: o.to_string(),
            sampling_rate: *r,
        })
        .collect()
}

fn per_op(default_p: f64, list: &[(&str, f64)]) -> PerOperationSampling {
    PerOperationSampling {
        default_sampling_probability: default_p,
        default_lower_bound_traces_per_second: 0.0,
        per_operation: ops(list),
        default_upper_bound_traces_per_second: 0.0,
    }
}

#[test]
fn empty_file_gives_default_probability_to_everyone() {
    let (t, w) = table("{}");
    assert_eq!(
        t.for_service("any"),
        &StrategyResponse::probabilistic(0.001)
    );
    assert!(w.is_empty());
}

#[test]
fn probabilistic_and_truncated_rate_limiting() {
    let (t, _) = table(
        r#"{"default_strategy": {"type": "probabilistic", "param": 0.5},
            "service_strategies": [{"service": "rl", "type": "ratelimiting", "param": 10.9}]}"#,
    );
    assert_eq!(
        t.for_service("unknown"),
        &StrategyResponse::probabilistic(0.5)
    );
    assert_eq!(t.for_service("rl"), &StrategyResponse::rate_limiting(10));
}

#[test]
fn unknown_type_falls_back_to_default_probability_with_warning() {
    let (t, w) = table(
        r#"{"default_strategy": {"type": "adaptive", "param": 0.5},
            "service_strategies": [{"service": "s", "type": "", "param": 3}]}"#,
    );
    assert_eq!(t.for_service("x"), &StrategyResponse::probabilistic(0.001));
    assert_eq!(t.for_service("s"), &StrategyResponse::probabilistic(0.001));
    assert_eq!(w.len(), 2, "{w:?}");
}

#[test]
fn rate_limited_operation_entries_are_dropped_with_warning() {
    let (t, w) = table(
        r#"{"service_strategies": [{"service": "s", "type": "probabilistic", "param": 0.8,
            "operation_strategies": [
              {"operation": "op1", "type": "probabilistic", "param": 0.2},
              {"operation": "op2", "type": "ratelimiting", "param": 5}]}]}"#,
    );
    let s = t.for_service("s");
    assert_eq!(s.operation_sampling, Some(per_op(0.8, &[("op1", 0.2)])));
    assert_eq!(w.len(), 1);
    assert!(w[0].contains("op2"));
}

#[test]
fn rate_limited_service_with_operations_uses_default_probability() {
    let (t, _) = table(
        r#"{"service_strategies": [{"service": "s", "type": "ratelimiting", "param": 4,
            "operation_strategies": [{"operation": "op1", "type": "probabilistic", "param": 0.3}]}]}"#,
    );
    let s = t.for_service("s");
    assert_eq!(s.strategy_type, StrategyType::RateLimiting);
    assert_eq!(s.max_traces_per_second, Some(4));
    assert_eq!(s.operation_sampling, Some(per_op(0.001, &[("op1", 0.3)])));
}

#[test]
fn service_without_operations_copies_defaults_with_own_rate() {
    let (t, _) = table(
        r#"{"default_strategy": {"type": "probabilistic", "param": 0.5,
              "operation_strategies": [{"operation": "health", "type": "probabilistic", "param": 0.0}]},
            "service_strategies": [
              {"service": "p", "type": "probabilistic", "param": 0.9},
              {"service": "r", "type": "ratelimiting", "param": 3}]}"#,
    );
    assert_eq!(
        t.for_service("p").operation_sampling,
        Some(per_op(0.9, &[("health", 0.0)]))
    );
    // A rate-limited service keeps the default's default probability.
    let r = t.for_service("r");
    assert_eq!(r.max_traces_per_second, Some(3));
    assert_eq!(r.operation_sampling, Some(per_op(0.5, &[("health", 0.0)])));
    assert_eq!(
        t.for_service("other").operation_sampling,
        Some(per_op(0.5, &[("health", 0.0)]))
    );
}

#[test]
fn service_operations_merge_with_defaults_and_win_by_name() {
    let (t, _) = table(
        r#"{"default_strategy": {"type": "probabilistic", "param": 0.5,
              "operation_strategies": [
                {"operation": "a", "type": "probabilistic", "param": 0.1},
                {"operation": "b", "type": "probabilistic", "param": 0.2}]},
            "service_strategies": [{"service": "s", "type": "probabilistic", "param": 0.7,
              "operation_strategies": [
                {"operation": "b", "type": "probabilistic", "param": 0.9},
                {"operation": "c", "type": "probabilistic", "param": 0.3}]}]}"#,
    );
    assert_eq!(
        t.for_service("s").operation_sampling,
        Some(per_op(0.7, &[("b", 0.9), ("c", 0.3), ("a", 0.1)]))
    );
}

#[test]
fn service_without_operations_and_default_without_operations_stays_plain() {
    let (t, _) = table(
        r#"{"default_strategy": {"type": "probabilistic", "param": 0.5},
            "service_strategies": [{"service": "s", "type": "probabilistic", "param": 0.2}]}"#,
    );
    assert_eq!(t.for_service("s"), &StrategyResponse::probabilistic(0.2));
}

#[test]
fn uniform_table() {
    let t = StrategyTable::uniform(1.0);
    assert_eq!(t.for_service("x"), &StrategyResponse::probabilistic(1.0));
}
