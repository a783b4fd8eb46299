//! A plain JSON rendering of model spans for golden files: every field,
//! typed values, times in nanoseconds.

use clew_model::{KeyValue, Span, Value};
use serde_json::{Value as J, json};

fn value(v: &Value) -> J {
    match v {
        Value::Str(s) => json!({"string": &**s}),
        Value::Bool(b) => json!({"bool": b}),
        Value::I64(i) => json!({"int64": i}),
        Value::F64(f) => json!({"float64": f}),
        Value::Binary(b) => {
            json!({"binary": b.iter().map(|x| format!("{x:02x}")).collect::<String>()})
        }
        Value::Array(items) => json!({"array": items.iter().map(value).collect::<Vec<_>>()}),
        Value::Map(kvs) => json!({"map": tags(kvs)}),
    }
}

fn tags(kvs: &[KeyValue]) -> J {
    J::Array(
        kvs.iter()
            .map(|kv| json!([&*kv.key, value(&kv.value)]))
            .collect(),
    )
}

pub fn spans(spans: &[Span]) -> J {
    J::Array(
        spans
            .iter()
            .map(|s| {
                json!({
                    "traceID": s.trace_id.to_string(),
                    "spanID": s.span_id.to_string(),
                    "operationName": &*s.operation_name,
                    "references": s.references.iter().map(|r| json!({
                        "refType": r.ref_type.jaeger_name(),
                        "traceID": r.trace_id.to_string(),
                        "spanID": r.span_id.to_string(),
                        "tags": tags(&r.tags),
                    })).collect::<Vec<_>>(),
                    "flags": s.flags,
                    "startTime": s.start_time,
                    "duration": s.duration,
                    "tags": tags(&s.tags),
                    "logs": s.logs.iter().map(|l| json!({
                        "timestamp": l.timestamp,
                        "fields": tags(&l.fields),
                    })).collect::<Vec<_>>(),
                    "process": {
                        "serviceName": &*s.process.service_name,
                        "tags": tags(&s.process.tags),
                    },
                    "warnings": s.warnings,
                })
            })
            .collect(),
    )
}

/// Compares `actual` with the golden file at `path` (under `tests/data/`);
/// `UPDATE_GOLDEN=1` rewrites the file instead.
pub fn check(path: &str, actual: &J) {
    let full = format!("{}/tests/data/{path}", env!("CARGO_MANIFEST_DIR"));
    let pretty = serde_json::to_string_pretty(actual).expect("renders") + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&full, &pretty).expect("writes golden");
        return;
    }
    let expected = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    let expected: J = serde_json::from_str(&expected).expect("golden is JSON");
    assert_eq!(
        actual, &expected,
        "{path} differs; run with UPDATE_GOLDEN=1 to review"
    );
}
