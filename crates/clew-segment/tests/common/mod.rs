//! Spans shared by the segment crate's test binaries: a fixture touching
//! every column and a generator of values of every type.
// Each test binary compiles this module and uses part of it.
#![allow(dead_code)]

use std::sync::Arc;

use clew_model::{KeyValue, Log, Process, Reference, Scope, Span, SpanId, TraceId, Value};
use proptest::prelude::*;

pub const T0: u64 = 1_700_000_000_000_000_000;

/// A small fixture touching every column: parents by index and explicit,
/// links with attributes, logs, every value type, warnings, two processes.
pub fn fixture() -> Vec<Span> {
    let fe = Arc::new(Process {
        service_name: "frontend".into(),
        tags: vec![KeyValue::string("hostname", "h1"), KeyValue::i64("pid", 42)],
    });
    let be = Arc::new(Process::new("backend"));
    let t1 = TraceId::new(0, 1);
    let t2 = TraceId::new(0xabcd, 2);
    let mut root = Span::new(t1, SpanId(10), "GET /", fe.clone());
    root.start_time = T0;
    root.duration = 5_000_000;
    root.flags = 1;
    root.tags = vec![
        KeyValue::string("span.kind", "server"),
        KeyValue::bool("error", true),
        KeyValue::f64("ratio", 0.25),
        KeyValue::binary("raw", vec![1u8, 2, 3]),
        KeyValue::new(
            "list",
            Value::Array(vec![Value::I64(-1), Value::Str("x".into())]),
        ),
        KeyValue::new("map", Value::Map(vec![KeyValue::bool("k", false)])),
    ];
    root.logs = vec![Log {
        timestamp: T0 + 1_234,
        fields: vec![KeyValue::string("event", "retry")],
    }];
    // Child written before its parent would be: parent index points ahead.
    let mut early = Span::new(t1, SpanId(12), "query", be.clone());
    early.start_time = T0 + 2_000_000;
    early.duration = 1_000_000;
    early.references = vec![Reference::child_of(t1, SpanId(11))];
    let mut mid = Span::new(t1, SpanId(11), "call", fe.clone());
    mid.start_time = T0 + 1_000_000;
    mid.duration = 3_000_000;
    mid.references = vec![Reference::child_of(t1, SpanId(10))];
    mid.warnings = vec!["clock skew adjusted".into()];
    mid.scope = Some(Arc::new(Scope {
        attributes: vec![KeyValue::string("library.language", "rust")],
    }));
    let mut linked = Span::new(t2, SpanId(20), "consume", be);
    linked.start_time = T0 + 7;
    linked.duration = 3;
    let mut link = Reference::follows_from(t1, SpanId(10));
    link.tags = vec![KeyValue::string("link.kind", "batch")];
    linked.references = vec![link, Reference::child_of(t2, SpanId(99))];
    vec![root, early, mid, linked]
}

pub fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        ".{0,8}".prop_map(|s| Value::Str(s.into())),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::I64),
        any::<u64>().prop_map(|b| Value::F64(f64::from_bits(b & !(0x7ff << 52)))),
        proptest::collection::vec(any::<u8>(), 0..4).prop_map(|b| Value::Binary(b.into())),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            proptest::collection::vec(("[a-c]{1,2}", inner), 0..3).prop_map(|kvs| Value::Map(
                kvs.into_iter().map(|(k, v)| KeyValue::new(k, v)).collect()
            )),
        ]
    })
}

/// Three lists of spans (a WAL record's or a block's worth each) whose
/// long one-off values are written in place and close pages early; a value
/// repeated across lists becomes a table string; `span.kind` is in place
/// once; one value is also an operation name met later (added to the
/// tables mid-page); log fields carry one-off strings too.
pub fn one_off_string_spans() -> Vec<Vec<Span>> {
    let p = Arc::new(Process::new("svc"));
    let mut inputs = Vec::new();
    for b in 0..3u64 {
        let mut spans = Vec::new();
        for i in 0..40u64 {
            let t = TraceId::new(0, 1 + (b * 40 + i) % 17);
            let mut s = Span::new(
                t,
                SpanId(b * 100 + i + 1),
                format!("op{}", i % 3),
                p.clone(),
            );
            s.start_time = T0 + i * 1_000 + b;
            s.duration = 1_000;
            s.tags = vec![
                KeyValue::string(
                    "sql",
                    format!("select {} {}", "x".repeat(9_000), b * 100 + i),
                ),
                KeyValue::string(
                    "span.kind",
                    if i == 7 {
                        format!("k{b}")
                    } else {
                        "server".into()
                    },
                ),
                KeyValue::string("across", format!("a{i}")),
                KeyValue::string(
                    "name",
                    if i == 5 {
                        "op2".to_string()
                    } else {
                        format!("n{b}{i}")
                    },
                ),
            ];
            s.logs = vec![Log {
                timestamp: s.start_time + 1,
                fields: vec![KeyValue::string("event", format!("e{b}{i}"))],
            }];
            spans.push(s);
        }
        inputs.push(spans);
    }
    inputs
}

/// [`fixture`] plus a span of its first trace that starts before the
/// others and is a child of a span by ID: written in a later batch or
/// block than its parent, its parent index and the trace's start must be
/// re-based on the merged trace.
pub fn fixture_with_late_span() -> Vec<Span> {
    let mut spans = fixture();
    let mut late = spans[0].clone();
    late.span_id = SpanId(13);
    late.start_time = T0 - 5;
    late.references = vec![Reference::child_of(late.trace_id, SpanId(11))];
    late.tags.push(KeyValue::string("attr_1", "val_1"));
    spans.push(late);
    spans
}
