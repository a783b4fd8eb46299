//! proptest strategies for OTLP requests shaped like real SDK output, and
//! the golden-file renderer.
#![allow(dead_code)]

pub mod render;

use clew_codec_otlp::proto::collector::trace::v1::ExportTraceServiceRequest;
use clew_codec_otlp::proto::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value::Value,
};
use clew_codec_otlp::proto::resource::v1::Resource;
use clew_codec_otlp::proto::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use proptest::collection::vec;
use proptest::prelude::*;

/// Attribute keys that never collide with the keys the mapping reserves.
fn key() -> impl Strategy<Value = String> {
    "[a-z]{1,6}(\\.[a-z]{1,4})?"
}

fn text() -> impl Strategy<Value = String> {
    "[ -~é☃]{0,12}"
}

fn any_value() -> impl Strategy<Value = AnyValue> {
    let leaf = prop_oneof![
        text().prop_map(Value::StringValue),
        any::<bool>().prop_map(Value::BoolValue),
        any::<i64>().prop_map(Value::IntValue),
        (-1e12f64..1e12).prop_map(Value::DoubleValue),
        vec(any::<u8>(), 0..6).prop_map(Value::BytesValue),
    ];
    leaf.prop_map(|v| AnyValue { value: Some(v) })
        .prop_recursive(3, 12, 4, |inner| {
            prop_oneof![
                vec(inner.clone(), 0..4).prop_map(|values| AnyValue {
                    value: Some(Value::ArrayValue(ArrayValue { values }))
                }),
                vec((key(), inner), 0..4).prop_map(|kvs| AnyValue {
                    value: Some(Value::KvlistValue(KeyValueList {
                        values: kvs
                            .into_iter()
                            .map(|(key, v)| KeyValue {
                                key,
                                value: Some(v)
                            })
                            .collect()
                    }))
                }),
            ]
        })
}

pub fn attributes(max: usize) -> impl Strategy<Value = Vec<KeyValue>> {
    vec(
        (key(), any_value()).prop_map(|(key, v)| KeyValue {
            key,
            value: Some(v),
        }),
        0..max,
    )
}

fn string_attr(key: &str, v: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(v.to_owned())),
        }),
    }
}

fn nonzero_bytes(n: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), n).prop_filter("non-zero ID", |b| b.iter().any(|x| *x != 0))
}

fn link(span_trace: Vec<u8>) -> impl Strategy<Value = span::Link> {
    (
        prop_oneof![Just(span_trace), nonzero_bytes(16)],
        nonzero_bytes(8),
        prop_oneof![Just(String::new()), "[a-z]{1,3}=[0-9]{1,3}"],
        attributes(3),
        prop_oneof![
            Just(None),
            Just(Some("child_of")),
            Just(Some("follows_from"))
        ],
        prop_oneof![Just(0u32), any::<u32>()],
        prop_oneof![Just(0u32), Just(0x100u32), Just(0x301u32)],
    )
        .prop_map(
            |(trace_id, span_id, trace_state, mut attributes, ref_type, dropped, flags)| {
                if let Some(t) = ref_type {
                    attributes.push(string_attr("opentracing.ref_type", t));
                }
                span::Link {
                    trace_id,
                    span_id,
                    trace_state,
                    attributes,
                    dropped_attributes_count: dropped,
                    flags,
                }
            },
        )
}

fn event() -> impl Strategy<Value = span::Event> {
    (
        any::<u64>(),
        text(),
        attributes(3),
        prop_oneof![Just(0u32), any::<u32>()],
    )
        .prop_map(|(time_unix_nano, name, attributes, dropped)| span::Event {
            time_unix_nano,
            name,
            attributes,
            dropped_attributes_count: dropped,
        })
}

/// A valid span (16/8-byte non-zero IDs, end ≥ start).
pub fn valid_span() -> BoxedStrategy<Span> {
    nonzero_bytes(16)
        .prop_flat_map(|trace_id| {
            (
                (
                    Just(trace_id.clone()),
                    nonzero_bytes(8),
                    prop_oneof![Just(Vec::new()), nonzero_bytes(8)],
                    prop_oneof![Just(String::new()), "[a-z]{1,3}=[0-9]{1,3}"],
                    any::<u32>(),
                    text(),
                    0i32..6,
                ),
                (0u64..u64::MAX / 2, 0u64..1_000_000_000_000),
                attributes(6),
                vec(event(), 0..3),
                vec(link(trace_id), 0..3),
                (any::<u32>(), any::<u32>(), any::<u32>()).prop_map(|(a, b, c)| (a % 3, b % 3, c)),
                prop_oneof![
                    Just(None),
                    (0i32..3, text()).prop_map(|(code, message)| Some(Status { message, code }))
                ],
            )
                .prop_map(
                    |(
                        (trace_id, span_id, parent_span_id, trace_state, flags, name, kind),
                        (start, len),
                        attributes,
                        events,
                        links,
                        (da, de, dl),
                        status,
                    )| Span {
                        trace_id,
                        span_id,
                        trace_state,
                        parent_span_id,
                        flags,
                        name,
                        kind,
                        start_time_unix_nano: start,
                        end_time_unix_nano: start + len,
                        attributes,
                        dropped_attributes_count: da,
                        events,
                        dropped_events_count: de,
                        links,
                        dropped_links_count: dl,
                        status,
                    },
                )
        })
        .boxed()
}

/// A span that may carry malformed IDs (to exercise rejections).
pub fn any_span() -> BoxedStrategy<Span> {
    (
        valid_span(),
        prop_oneof![6 => Just(None), 1 => vec(any::<u8>(), 0..20).prop_map(Some)],
        prop_oneof![6 => Just(None), 1 => vec(any::<u8>(), 0..10).prop_map(Some)],
        prop_oneof![6 => Just(None), 1 => vec(any::<u8>(), 1..10).prop_map(Some)],
    )
        .prop_map(|(mut s, t, i, p)| {
            if let Some(t) = t {
                s.trace_id = t;
            }
            if let Some(i) = i {
                s.span_id = i;
            }
            if let Some(p) = p {
                s.parent_span_id = p;
            }
            s
        })
        .boxed()
}

fn scope() -> impl Strategy<Value = Option<InstrumentationScope>> {
    prop_oneof![
        Just(None),
        (
            "[a-z.]{0,10}",
            "[0-9.]{0,5}",
            attributes(2),
            prop_oneof![Just(0u32), any::<u32>()]
        )
            .prop_map(
                |(name, version, attributes, dropped)| Some(InstrumentationScope {
                    name,
                    version,
                    attributes,
                    dropped_attributes_count: dropped,
                })
            )
    ]
}

fn resource() -> impl Strategy<Value = Option<Resource>> {
    prop_oneof![
        1 => Just(None),
        4 => (proptest::option::of("[a-z-]{1,8}"), attributes(4), prop_oneof![Just(0u32), any::<u32>()])
            .prop_map(|(service, mut attributes, dropped)| {
                if let Some(s) = service {
                    attributes.insert(0, string_attr("service.name", &s));
                }
                Some(Resource {
                    attributes,
                    dropped_attributes_count: dropped,
                    entity_refs: Vec::new(),
                })
            })
    ]
}

fn schema_url() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("https://opentelemetry.io/schemas/1.21.0".to_owned())
    ]
}

/// A request of valid spans, or, with `any_span`, spans that may be refused.
pub fn request<S: Strategy<Value = Span> + Clone>(
    spans: S,
) -> impl Strategy<Value = ExportTraceServiceRequest> {
    vec(
        (
            resource(),
            vec((scope(), vec(spans, 0..4), schema_url()), 0..3),
            schema_url(),
        ),
        0..3,
    )
    .prop_map(|rs| ExportTraceServiceRequest {
        resource_spans: rs
            .into_iter()
            .map(|(resource, scopes, schema_url)| ResourceSpans {
                resource,
                scope_spans: scopes
                    .into_iter()
                    .map(|(scope, spans, schema_url)| ScopeSpans {
                        scope,
                        spans,
                        schema_url,
                    })
                    .collect(),
                schema_url,
            })
            .collect(),
    })
}

/// (resource, resource schema, scope, scope schema, span) for every span, with
/// absent optional messages replaced by their defaults: the information an
/// OTLP request carries, independent of how spans are grouped.
pub type FlatSpan = (Resource, String, InstrumentationScope, String, Span);

pub fn flatten(req: &ExportTraceServiceRequest) -> Vec<FlatSpan> {
    let mut out = Vec::new();
    for rs in &req.resource_spans {
        let resource = rs.resource.clone().unwrap_or_default();
        for ss in &rs.scope_spans {
            let scope = ss.scope.clone().unwrap_or_default();
            for s in &ss.spans {
                let mut s = s.clone();
                if s.status.as_ref().is_some_and(|st| *st == Status::default()) {
                    s.status = None;
                }
                out.push((
                    resource.clone(),
                    rs.schema_url.clone(),
                    scope.clone(),
                    ss.schema_url.clone(),
                    s,
                ));
            }
        }
    }
    out
}
