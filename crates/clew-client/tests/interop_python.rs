//! Contexts injected by Clew are read by real third-party libraries
//! (Python `jaeger-client` 4.8 and `opentelemetry-api`), and the reverse.
//!
//! Needs `CLEW_PYTHON` pointing at a Python with those packages (the test
//! command sets it to the project's venv); skipped with a message otherwise.

mod common;

use std::collections::HashMap;

use clew_client::propagation::{
    B3MultiPropagator, CompositePropagator, JaegerPropagator, Propagator, TraceContextPropagator,
    W3cBaggagePropagator,
};
use clew_client::{SpanContext, SpanId, TraceId};
use common::{driver, python};
use serde_json::{Value, json};

fn context() -> SpanContext {
    SpanContext::new(
        TraceId::new(0x4bf92f3577b34da6, 0xa3ce929d0e0e4736),
        SpanId(0x00f067aa0ba902b7),
        SpanId(0x1234),
        1,
    )
    .with_baggage_item("user", "alice smith")
    .with_baggage_item("tenant", "t=1")
}

fn as_json(c: &SpanContext, parent: bool) -> Value {
    let baggage: HashMap<&str, &str> = c.baggage_items().collect();
    json!({
        "trace_id": format!("{:x}", c.trace_id().as_u128()),
        "span_id": format!("{:x}", c.span_id().0),
        "parent_id": if parent { format!("{:x}", c.parent_id().0) } else { "0".into() },
        "flags": c.flags(),
        "baggage": baggage,
    })
}

fn inject(p: &dyn Propagator, c: &SpanContext) -> Value {
    let mut m: HashMap<String, String> = HashMap::new();
    p.inject(c, &mut m);
    serde_json::to_value(m).expect("carrier json")
}

fn extract(p: &dyn Propagator, carrier: &Value) -> SpanContext {
    let m: HashMap<String, String> = serde_json::from_value(carrier.clone()).expect("carrier");
    p.extract(&m).expect("clew extracts the library's headers")
}

#[test]
fn jaeger_headers_round_trip_with_python_jaeger_client() {
    let Some(py) = python() else { return };
    let c = context();
    let p = JaegerPropagator::default();
    let read = driver(&py, "jaeger", "extract", &inject(&p, &c));
    assert_eq!(read, as_json(&c, true));
    let written = driver(&py, "jaeger", "inject", &as_json(&c, true));
    // Baggage order is not part of the format; compare as maps.
    assert_eq!(as_json(&extract(&p, &written), true), as_json(&c, true));
}

#[test]
fn b3_headers_round_trip_with_python_jaeger_client() {
    let Some(py) = python() else { return };
    let c = SpanContext::new(
        TraceId::new(0, 0xa3ce929d0e0e4736),
        SpanId(0xf067aa0ba902b7),
        SpanId(7),
        1,
    );
    let read = driver(&py, "b3", "extract", &inject(&B3MultiPropagator, &c));
    assert_eq!(read, as_json(&c, true));
    let written = driver(&py, "b3", "inject", &as_json(&c, true));
    assert_eq!(extract(&B3MultiPropagator, &written), c);
}

#[test]
fn w3c_trace_context_and_baggage_round_trip_with_opentelemetry() {
    let Some(py) = python() else { return };
    let p = CompositePropagator::new(vec![
        std::sync::Arc::new(TraceContextPropagator),
        std::sync::Arc::new(W3cBaggagePropagator),
    ]);
    let c = SpanContext::new(context().trace_id(), context().span_id(), SpanId(0), 1)
        .with_baggage_item("user", "alice smith")
        .with_baggage_item("tenant", "t=1");
    let read = driver(&py, "w3c", "extract", &inject(&p, &c));
    assert_eq!(read, as_json(&c, false));
    let written = driver(&py, "w3c", "inject", &as_json(&c, false));
    // Baggage order is not part of the format; compare as maps.
    assert_eq!(as_json(&extract(&p, &written), false), as_json(&c, false));
}
