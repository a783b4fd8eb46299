//! One OTLP export request as an SDK would build it, and the checks that
//! every part of it reached the store mapped the Jaeger way.

use clew_codec_otlp::proto::collector::trace::v1::ExportTraceServiceRequest;
use clew_codec_otlp::proto::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue as PbKeyValue, any_value,
};
use clew_codec_otlp::proto::resource::v1::Resource;
use clew_codec_otlp::proto::trace::v1::span::{Event, Link};
use clew_codec_otlp::proto::trace::v1::{ResourceSpans, ScopeSpans, Span as PbSpan, Status};
use clew_model::{RefType, Span, SpanId, TraceId, Value};

use crate::harness::tag;

pub const TRACE: TraceId = TraceId::new(0x0af7651916cd43dd, 0x8448eb211c80319c);
pub const LINKED_TRACE: TraceId = TraceId::new(0x1111, 0x2222);
pub const ROOT: SpanId = SpanId(0xb7ad6b7169203331);
pub const CHILD: SpanId = SpanId(0x00f067aa0ba902b7);
pub const START: u64 = 1_700_000_000_123_456_789;

fn kv(key: &str, v: any_value::Value) -> PbKeyValue {
    PbKeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(v) }),
    }
}

fn s(v: &str) -> any_value::Value {
    any_value::Value::StringValue(v.into())
}

/// A two-span trace of service `checkout`: a failing SERVER root with an
/// event, a link, typed and array attributes and trace state, and a CLIENT child.
pub fn request() -> ExportTraceServiceRequest {
    let root = PbSpan {
        trace_id: TRACE.to_bytes().to_vec(),
        span_id: ROOT.0.to_be_bytes().to_vec(),
        trace_state: "vendor=abc".into(),
        name: "GET /cart".into(),
        kind: 2,
        start_time_unix_nano: START,
        end_time_unix_nano: START + 5_000_000,
        attributes: vec![
            kv("http.method", s("GET")),
            kv("http.status_code", any_value::Value::IntValue(500)),
            kv("retry", any_value::Value::BoolValue(true)),
            kv("ratio", any_value::Value::DoubleValue(0.25)),
            kv(
                "items",
                any_value::Value::ArrayValue(ArrayValue {
                    values: vec![
                        AnyValue {
                            value: Some(s("a")),
                        },
                        AnyValue {
                            value: Some(any_value::Value::IntValue(2)),
                        },
                    ],
                }),
            ),
        ],
        events: vec![Event {
            time_unix_nano: START + 1_000,
            name: "cache miss".into(),
            attributes: vec![kv("key", s("cart:42"))],
            dropped_attributes_count: 0,
        }],
        links: vec![Link {
            trace_id: LINKED_TRACE.to_bytes().to_vec(),
            span_id: 0x3333u64.to_be_bytes().to_vec(),
            attributes: vec![kv("link.reason", s("batch"))],
            ..Default::default()
        }],
        status: Some(Status {
            message: "boom".into(),
            code: 2,
        }),
        ..Default::default()
    };
    let child = PbSpan {
        trace_id: TRACE.to_bytes().to_vec(),
        span_id: CHILD.0.to_be_bytes().to_vec(),
        parent_span_id: ROOT.0.to_be_bytes().to_vec(),
        name: "SELECT cart".into(),
        kind: 3,
        start_time_unix_nano: START + 1_000_000,
        end_time_unix_nano: START + 2_000_000,
        ..Default::default()
    };
    with_spans(vec![root, child])
}

/// The request with `spans` under the `checkout` resource and test scope.
pub fn with_spans(spans: Vec<PbSpan>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", s("checkout")),
                    kv("host.name", s("box-1")),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "io.clew.test".into(),
                    version: "1.2.3".into(),
                    ..Default::default()
                }),
                spans,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// A span of [`TRACE`] whose span ID has `span_id_len` bytes.
pub fn span_with_id_len(span_id_len: usize, name: &str) -> PbSpan {
    PbSpan {
        trace_id: TRACE.to_bytes().to_vec(),
        span_id: vec![7; span_id_len],
        name: name.into(),
        start_time_unix_nano: START,
        end_time_unix_nano: START + 1,
        ..Default::default()
    }
}

/// Asserts the stored trace is [`request`]'s, mapped field by field.
pub fn assert_mapped(spans: &[Span]) {
    let root = spans
        .iter()
        .find(|s| s.span_id == ROOT)
        .expect("root stored");
    let child = spans
        .iter()
        .find(|s| s.span_id == CHILD)
        .expect("child stored");

    // resource → process
    assert_eq!(&*root.process.service_name, "checkout");
    assert!(
        root.process
            .tags
            .iter()
            .any(|t| &*t.key == "host.name" && t.value.as_str() == Some("box-1")),
        "{:?}",
        root.process.tags
    );
    assert!(!root.process.tags.iter().any(|t| &*t.key == "service.name"));

    // names, times
    assert_eq!(&*root.operation_name, "GET /cart");
    assert_eq!(root.start_time, START);
    assert_eq!(root.duration, 5_000_000);

    // kind → span.kind; status → otel.status_code / description / error
    assert_eq!(tag(root, "span.kind").as_str(), Some("server"));
    assert_eq!(tag(child, "span.kind").as_str(), Some("client"));
    assert_eq!(tag(root, "otel.status_code").as_str(), Some("ERROR"));
    assert_eq!(tag(root, "otel.status_description").as_str(), Some("boom"));
    assert_eq!(tag(root, "error"), &Value::Bool(true));

    // scope, trace state, typed and array attributes
    assert_eq!(tag(root, "otel.scope.name").as_str(), Some("io.clew.test"));
    assert_eq!(tag(root, "otel.scope.version").as_str(), Some("1.2.3"));
    assert_eq!(tag(root, "w3c.tracestate").as_str(), Some("vendor=abc"));
    assert_eq!(tag(root, "http.status_code"), &Value::I64(500));
    assert_eq!(tag(root, "retry"), &Value::Bool(true));
    assert_eq!(tag(root, "ratio"), &Value::F64(0.25));
    assert_eq!(
        tag(root, "items"),
        &Value::Array(vec![Value::Str("a".into()), Value::I64(2)])
    );

    // events → logs with an `event` field
    assert_eq!(root.logs.len(), 1);
    assert_eq!(root.logs[0].timestamp, START + 1_000);
    let fields = &root.logs[0].fields;
    assert!(
        fields
            .iter()
            .any(|f| &*f.key == "event" && f.value.as_str() == Some("cache miss"))
    );
    assert!(
        fields
            .iter()
            .any(|f| &*f.key == "key" && f.value.as_str() == Some("cart:42"))
    );

    // links → references (FOLLOWS_FROM without opentracing.ref_type), parent → CHILD_OF
    let link = root
        .references
        .iter()
        .find(|r| r.trace_id == LINKED_TRACE)
        .expect("link kept");
    assert_eq!(link.ref_type, RefType::FollowsFrom);
    assert_eq!(link.span_id, SpanId(0x3333));
    assert!(
        link.tags
            .iter()
            .any(|t| &*t.key == "link.reason" && t.value.as_str() == Some("batch"))
    );
    assert_eq!(child.parent_span_id(), Some(ROOT));
    assert_eq!(child.references[0].ref_type, RefType::ChildOf);
}
