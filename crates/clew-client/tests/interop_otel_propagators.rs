//! clew's B3 (single and multi), AWS X-Ray, Google Cloud Trace and W3C
//! Baggage propagators against OpenTelemetry's official Python ones
//! (`opentelemetry-propagator-b3`, `-aws-xray`, `-gcp` and the API's
//! baggage propagator), both directions, and the edge cases of issue 12 read
//! by both sides from the same headers.
//!
//! Needs `CLEW_PYTHON` (see `common::python`); skipped with a message
//! otherwise, and failing instead when `CLEW_REQUIRE_INTEROP` is set.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use clew_client::propagation::{CompositePropagator, PropagationFormat, Propagator};
use clew_client::{SpanContext, SpanId, TraceId};
use common::{driver, python};
use serde_json::{Value, json};

/// The Python driver's format name and the same format in clew, each with
/// W3C baggage beside it.
const FORMATS: [(&str, PropagationFormat); 4] = [
    ("otel-b3", PropagationFormat::B3),
    ("otel-b3multi", PropagationFormat::B3Multi),
    ("otel-xray", PropagationFormat::XRay),
    ("otel-gcp", PropagationFormat::CloudTrace),
];

fn clew(format: PropagationFormat) -> CompositePropagator {
    CompositePropagator::new(vec![
        format.propagator(),
        Arc::new(clew_client::propagation::W3cBaggagePropagator),
    ])
}

/// The driver's JSON shape. OpenTelemetry has no parent ID and one
/// sampled bit, so those are all that is compared.
fn as_json(c: &SpanContext) -> Value {
    let baggage: HashMap<&str, &str> = c.baggage_items().collect();
    json!({
        "trace_id": format!("{:x}", c.trace_id().as_u128()),
        "span_id": format!("{:x}", c.span_id().0),
        "parent_id": "0",
        "flags": c.flags() & 1,
        "baggage": baggage,
    })
}

fn carrier_json(p: &dyn Propagator, c: &SpanContext) -> Value {
    let mut m: HashMap<String, String> = HashMap::new();
    p.inject(c, &mut m);
    serde_json::to_value(m).expect("carrier json")
}

fn contexts() -> Vec<SpanContext> {
    let bag = |c: SpanContext| {
        c.with_baggage_item("user", "alice smith")
            .with_baggage_item("tenant", "t=1")
            .with_baggage_item("city", "z\u{fc}rich")
    };
    vec![
        bag(SpanContext::new(
            TraceId::new(0x4bf92f3577b34da6, 0xa3ce929d0e0e4736),
            SpanId(0x00f067aa0ba902b7),
            SpanId(0),
            1,
        )),
        SpanContext::new(
            TraceId::new(0x5759e988bd862e3f, 0xe1be46a994272793),
            SpanId(0x53995c3f42cd8ad8),
            SpanId(0),
            0,
        ),
        // A 64-bit trace ID, as Jaeger clients make by default.
        bag(SpanContext::new(
            TraceId::new(0, 0xa3ce929d0e0e4736),
            SpanId(7),
            SpanId(0),
            1,
        )),
    ]
}

#[test]
fn official_propagators_read_what_clew_writes_and_the_reverse() {
    let Some(py) = python() else { return };
    for (name, format) in FORMATS {
        let p = clew(format);
        for c in contexts() {
            let written = carrier_json(&p, &c);
            let read = driver(&py, name, "extract", &written);
            assert_eq!(read, as_json(&c), "{name} reads clew's {written}");

            let theirs = driver(&py, name, "inject", &as_json(&c));
            let m: HashMap<String, String> =
                serde_json::from_value(theirs.clone()).expect("carrier");
            let back = p.extract(&m).expect("clew reads the library's headers");
            assert_eq!(as_json(&back), as_json(&c), "clew reads {name}'s {theirs}");
            assert!(!back.is_sampling_deferred());
        }
    }
}

/// How clew reads a header set.
fn state(c: Option<&SpanContext>) -> &'static str {
    match c {
        None => "none",
        Some(c) if c.is_debug() => "debug",
        Some(c) if c.is_sampled() => "sampled",
        Some(c) if c.is_sampling_deferred() => "deferred",
        Some(_) => "unsampled",
    }
}

/// Driver format, clew format, headers, how OpenTelemetry reads them (its
/// sampled bit, or "none"), how clew reads them.
type Case = (
    &'static str,
    PropagationFormat,
    Vec<(&'static str, String)>,
    &'static str,
    &'static str,
);

#[test]
fn edge_cases_read_by_both_sides() {
    let Some(py) = python() else { return };
    const T: &str = "80f198ee56343ba864fe8b2a57d3eff7";
    const S: &str = "e457b5a2e4d86bd1";
    let xray =
        |sampled: &str| format!("Root=1-80f198ee-56343ba864fe8b2a57d3eff7;Parent={S}{sampled}");
    let cases: Vec<Case> = vec![
        // 1. No sampling state: the receiver decides. OpenTelemetry's Python
        //    B3 reads the single form as sampled and the multi form as not;
        //    clew defers both to its sampler (always-on keeps the trace).
        (
            "otel-b3",
            PropagationFormat::B3,
            vec![("b3", format!("{T}-{S}"))],
            "1",
            "deferred",
        ),
        (
            "otel-b3multi",
            PropagationFormat::B3Multi,
            vec![("x-b3-traceid", T.into()), ("x-b3-spanid", S.into())],
            "0",
            "deferred",
        ),
        // 2. Legacy and debug spellings.
        (
            "otel-b3multi",
            PropagationFormat::B3Multi,
            vec![
                ("x-b3-traceid", T.into()),
                ("x-b3-spanid", S.into()),
                ("x-b3-sampled", "true".into()),
            ],
            "1",
            "sampled",
        ),
        (
            "otel-b3multi",
            PropagationFormat::B3Multi,
            vec![
                ("x-b3-traceid", T.into()),
                ("x-b3-spanid", S.into()),
                ("x-b3-sampled", "True".into()),
            ],
            "1",
            "sampled",
        ),
        (
            "otel-b3multi",
            PropagationFormat::B3Multi,
            vec![
                ("x-b3-traceid", T.into()),
                ("x-b3-spanid", S.into()),
                ("x-b3-sampled", "d".into()),
            ],
            "1",
            "debug",
        ),
        (
            "otel-b3",
            PropagationFormat::B3,
            vec![("b3", format!("{T}-{S}-true"))],
            "1",
            "sampled",
        ),
        (
            "otel-b3",
            PropagationFormat::B3,
            vec![("b3", format!("{T}-{S}-d"))],
            "1",
            "debug",
        ),
        (
            "otel-gcp",
            PropagationFormat::CloudTrace,
            vec![(
                "x-cloud-trace-context",
                format!("{T}/16453819474850114513;o=01"),
            )],
            "1",
            "sampled",
        ),
        (
            "otel-gcp",
            PropagationFormat::CloudTrace,
            vec![(
                "x-cloud-trace-context",
                format!("{T}/16453819474850114513;o=3"),
            )],
            "1",
            "sampled",
        ),
        (
            "otel-gcp",
            PropagationFormat::CloudTrace,
            vec![(
                "x-cloud-trace-context",
                format!("{T}/16453819474850114513;o=2"),
            )],
            "0",
            "unsampled",
        ),
        // 3. X-Ray `Sampled=?`: OpenTelemetry's Python drops the header;
        //    clew defers to its sampler.
        (
            "otel-xray",
            PropagationFormat::XRay,
            vec![("X-Amzn-Trace-Id", xray(";Sampled=?"))],
            "none",
            "deferred",
        ),
        (
            "otel-xray",
            PropagationFormat::XRay,
            vec![("X-Amzn-Trace-Id", xray(";Sampled=0"))],
            "0",
            "unsampled",
        ),
        // 4. A bad parent ID keeps the context (OpenTelemetry ignores the
        //    parent field altogether).
        (
            "otel-b3",
            PropagationFormat::B3,
            vec![("b3", format!("{T}-{S}-1-zz"))],
            "1",
            "sampled",
        ),
        // 7. Any case is read (a plain dict on the Python side is case-
        //    sensitive, so it finds only the canonical spelling).
        (
            "otel-xray",
            PropagationFormat::XRay,
            vec![("x-amzn-trace-id", xray(";Sampled=1"))],
            "none",
            "sampled",
        ),
    ];
    let batch: Vec<Value> = cases
        .iter()
        .map(|(name, _, hs, _, _)| {
            let m: HashMap<&str, &str> = hs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            json!([name, m])
        })
        .collect();
    let theirs = driver(&py, "batch-extract", "extract", &Value::Array(batch));
    for ((name, format, hs, want_py, want_clew), py_read) in
        cases.iter().zip(theirs.as_array().expect("array"))
    {
        let m: HashMap<String, String> =
            hs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        let ours = format.propagator().extract(&m);
        let py_state = match py_read {
            Value::Null => "none".to_string(),
            v => (v["flags"].as_u64().expect("flags") & 1).to_string(),
        };
        assert_eq!(
            (py_state.as_str(), state(ours.as_ref())),
            (*want_py, *want_clew),
            "{name} {hs:?}"
        );
        if let (Some(c), false) = (&ours, py_read.is_null()) {
            assert_eq!(
                py_read["trace_id"],
                json!(format!("{:x}", c.trace_id().as_u128()))
            );
            assert_eq!(py_read["span_id"], json!(format!("{:x}", c.span_id().0)));
        }
    }
}

/// 5. Baggage members are judged one by one by both sides: the same valid
///    members survive a header with a non-ASCII member, a key outside the
///    token grammar, a raw space and a bad escape.
#[test]
fn baggage_members_are_dropped_one_by_one_by_both_sides() {
    let Some(py) = python() else { return };
    let header = "user=alice,city=z\u{fc}rich,bad key=1,k=a b,tenant=t1,sp=x%20y,esc=%zz,plus=a+b";
    let mut m: HashMap<String, String> = HashMap::new();
    m.insert(
        "b3".into(),
        "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1".into(),
    );
    m.insert("baggage".into(), header.into());
    let theirs = driver(
        &py,
        "otel-b3",
        "extract",
        &serde_json::to_value(&m).expect("json"),
    );
    let mut headers = http::HeaderMap::new();
    for (k, v) in &m {
        headers.insert(
            http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
            http::HeaderValue::from_str(v).expect("value"),
        );
    }
    for ours in [
        clew(PropagationFormat::B3).extract(&m),
        clew(PropagationFormat::B3).extract(&headers),
    ] {
        let ours = ours.expect("context");
        let bag: HashMap<&str, &str> = ours.baggage_items().collect();
        assert_eq!(json!(bag), theirs["baggage"], "{header}");
    }
    assert_eq!(
        theirs["baggage"],
        json!({"user": "alice", "tenant": "t1", "sp": "x y", "esc": "%zz", "plus": "a b"})
    );
}
