use std::sync::Arc;

use clew_model::{Bytes, KeyValue, Log, Process, Reference, Span, SpanId, Trace, TraceId, Value};

use super::*;

fn json(trace: &Trace) -> Json {
    serde_json::to_value(render_trace(trace)).expect("renders")
}

#[test]
fn a_trace_renders_as_the_ui_model() {
    let fe = Arc::new(Process {
        service_name: "frontend".into(),
        tags: vec![KeyValue::string("hostname", "h1")],
    });
    let tid = TraceId::new(0, 0xab);
    let mut root = Span::new(tid, SpanId(1), "GET /", fe.clone());
    root.start_time = 1_500_000_000_123_456_789;
    root.duration = 2_000_999;
    root.flags = 1;
    root.tags = vec![
        KeyValue::string("s", "v"),
        KeyValue::bool("b", true),
        KeyValue::i64("i", 42),
        KeyValue::i64("big", 1 << 60),
        KeyValue::i64("neg", -(1 << 60)),
        KeyValue::f64("f", 1.5),
        KeyValue::binary("bin", Bytes::from_static(b"hi")),
        KeyValue::new(
            "arr",
            Value::Array(vec![Value::I64(1), Value::Str("x".into())]),
        ),
    ];
    root.logs.push(Log {
        timestamp: 1_500_000_000_124_000_000,
        fields: vec![KeyValue::string("event", "cache miss")],
    });
    let mut child = Span::new(tid, SpanId(2), "query", fe);
    child.start_time = 1_500_000_000_124_000_000;
    child.duration = 1_000;
    child.references.push(Reference::child_of(tid, SpanId(1)));
    child.warnings.push("clipped".into());
    let trace = Trace {
        spans: vec![root, child],
        warnings: vec![],
    };
    let expected: Json = serde_json::from_str(
        r#"{
        "traceID": "00000000000000ab",
        "spans": [
            {
                "traceID": "00000000000000ab", "spanID": "0000000000000001", "flags": 1,
                "operationName": "GET /", "references": [],
                "startTime": 1500000000123456, "duration": 2000,
                "tags": [
                    {"key": "s", "type": "string", "value": "v"},
                    {"key": "b", "type": "bool", "value": true},
                    {"key": "i", "type": "int64", "value": 42},
                    {"key": "big", "type": "int64", "value": "1152921504606846976"},
                    {"key": "neg", "type": "int64", "value": "-1152921504606846976"},
                    {"key": "f", "type": "float64", "value": 1.5},
                    {"key": "bin", "type": "binary", "value": "aGk="},
                    {"key": "arr", "type": "string", "value": "[1,\"x\"]"}
                ],
                "logs": [{"timestamp": 1500000000124000, "fields": [{"key": "event", "type": "string", "value": "cache miss"}]}],
                "processID": "p1", "warnings": null
            },
            {
                "traceID": "00000000000000ab", "spanID": "0000000000000002",
                "operationName": "query",
                "references": [{"refType": "CHILD_OF", "traceID": "00000000000000ab", "spanID": "0000000000000001"}],
                "startTime": 1500000000124000, "duration": 1,
                "tags": [], "logs": [], "processID": "p1", "warnings": ["clipped"]
            }
        ],
        "processes": {"p1": {"serviceName": "frontend", "tags": [{"key": "hostname", "type": "string", "value": "h1"}]}},
        "warnings": null
    }"#,
    )
    .expect("valid expected JSON");
    assert_eq!(json(&trace), expected);
}

#[test]
fn span_keys_come_in_jaeger_order() {
    let p = Arc::new(Process::new("svc"));
    let trace = Trace {
        spans: vec![Span::new(TraceId::new(1, 2), SpanId(3), "op", p)],
        warnings: vec!["w".into()],
    };
    let text = serde_json::to_string(&render_trace(&trace)).expect("renders");
    assert_eq!(
        text,
        concat!(
            r#"{"traceID":"00000000000000010000000000000002","spans":[{"traceID":"00000000000000010000000000000002","#,
            r#""spanID":"0000000000000003","operationName":"op","references":[],"startTime":0,"duration":0,"#,
            r#""tags":[],"logs":[],"processID":"p1","warnings":null}],"#,
            r#""processes":{"p1":{"serviceName":"svc","tags":[]}},"warnings":["w"]}"#
        )
    );
}

#[test]
fn equal_processes_share_a_key_and_keys_follow_first_appearance() {
    let a1 = Arc::new(Process::new("a"));
    let a2 = Arc::new(Process::new("a")); // equal but a different allocation
    let b = Arc::new(Process::new("b"));
    let a_tagged = Arc::new(Process {
        service_name: "a".into(),
        tags: vec![KeyValue::string("ip", "10.0.0.1")],
    });
    let t = TraceId::new(0, 1);
    let trace = Trace {
        spans: vec![
            Span::new(t, SpanId(1), "x", b.clone()),
            Span::new(t, SpanId(2), "x", a1),
            Span::new(t, SpanId(3), "x", a2),
            Span::new(t, SpanId(4), "x", a_tagged),
            Span::new(t, SpanId(5), "x", b),
        ],
        warnings: vec![],
    };
    let j = json(&trace);
    let ids: Vec<&str> = j["spans"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s["processID"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, vec!["p1", "p2", "p2", "p3", "p1"]);
    assert_eq!(j["processes"]["p1"]["serviceName"], "b");
    assert_eq!(j["processes"]["p2"]["serviceName"], "a");
    assert_eq!(j["processes"]["p3"]["tags"][0]["value"], "10.0.0.1");
}

#[test]
fn safe_integers_stay_numbers_at_the_boundary() {
    assert_eq!(
        value_json(&Value::I64((1 << 53) - 1)),
        Json::from((1i64 << 53) - 1)
    );
    assert_eq!(
        value_json(&Value::I64(1 << 53)),
        Json::String("9007199254740992".into())
    );
    assert_eq!(
        value_json(&Value::I64(-(1 << 53) + 1)),
        Json::from(-(1i64 << 53) + 1)
    );
    assert_eq!(
        value_json(&Value::F64(f64::NAN)),
        Json::String("NaN".into())
    );
}

#[test]
fn dependencies_render_with_call_count() {
    let links = vec![DependencyLink {
        parent: "a".into(),
        child: "b".into(),
        call_count: 3,
    }];
    assert_eq!(
        serde_json::to_string(&render_dependencies(&links)).expect("renders"),
        r#"[{"parent":"a","child":"b","callCount":3}]"#
    );
}

/// A Node client's `42` arrives as float64 and must read `42`, as Go's
/// `encoding/json` writes it; exponent forms and negative zero too.
#[test]
fn float_tags_print_exactly_as_go() {
    let p = Arc::new(Process::new("svc"));
    let mut s = Span::new(TraceId::new(0, 1), SpanId(1), "op", p);
    s.tags = [42.0, 72.5, -0.0, 1e21, 1e-7, 0.000001, 123456789.0, 1e20]
        .iter()
        .map(|v| KeyValue::f64("f", *v))
        .chain([
            KeyValue::f64("nan", f64::NAN),
            KeyValue::f64("inf", f64::INFINITY),
            KeyValue::f64("ninf", f64::NEG_INFINITY),
        ])
        .collect();
    let trace = Trace {
        spans: vec![s],
        warnings: vec![],
    };
    let text = String::from_utf8(to_go_json(&render_trace(&trace), false).expect("renders"))
        .expect("utf-8");
    let values: Vec<&str> = text
        .split(r#""value":"#)
        .skip(1)
        .map(|rest| rest.split('}').next().unwrap_or(""))
        .collect();
    assert_eq!(
        values,
        [
            "42",
            "72.5",
            "-0",
            "1e+21",
            "1e-7",
            "0.000001",
            "123456789",
            "100000000000000000000",
            r#""NaN""#,
            r#""+Inf""#,
            r#""-Inf""#
        ],
        "{text}"
    );
    let pretty = String::from_utf8(to_go_json(&render_trace(&trace), true).expect("renders"))
        .expect("utf-8");
    assert!(
        pretty.contains("\n                    \"value\": 42\n"),
        "{pretty}"
    );
}

/// Scope attributes are searchable but, as in Jaeger's translator, not tags.
#[test]
fn scope_attributes_are_not_rendered_as_tags() {
    let p = Arc::new(Process::new("svc"));
    let mut s = Span::new(TraceId::new(0, 1), SpanId(1), "op", p);
    s.scope = Some(Arc::new(clew_model::Scope {
        attributes: vec![KeyValue::string("lib.attr", "x")],
    }));
    let trace = Trace {
        spans: vec![s],
        warnings: vec![],
    };
    assert_eq!(json(&trace)["spans"][0]["tags"], serde_json::json!([]));
}
