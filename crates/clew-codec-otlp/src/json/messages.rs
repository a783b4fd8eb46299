//! OTLP/JSON message shapes and their conversion to and from prost.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1 as common;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1 as pb;
use pb::span::{Event, Link};
use serde::{Deserialize, Serialize};

use super::scalars::{B64, Enum, F64, Hex, I64, SPAN_KIND, STATUS_CODE, U32, U64, nullable};

fn is_zero_u32(v: &U32) -> bool {
    v.0 == 0
}

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct JsonRequest {
    #[serde(default, alias = "resource_spans", deserialize_with = "nullable")]
    resource_spans: Vec<JsonResourceSpans>,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct JsonResourceSpans {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resource: Option<JsonResource>,
    #[serde(default, alias = "scope_spans", deserialize_with = "nullable")]
    scope_spans: Vec<JsonScopeSpans>,
    #[serde(
        default,
        alias = "schema_url",
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    schema_url: String,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonResource {
    #[serde(default, deserialize_with = "nullable")]
    attributes: Vec<JsonKeyValue>,
    #[serde(
        default,
        alias = "dropped_attributes_count",
        skip_serializing_if = "is_zero_u32"
    )]
    dropped_attributes_count: U32,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonScopeSpans {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<JsonScope>,
    #[serde(default, deserialize_with = "nullable")]
    spans: Vec<JsonSpan>,
    #[serde(
        default,
        alias = "schema_url",
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    schema_url: String,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonScope {
    #[serde(default, deserialize_with = "nullable")]
    name: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    version: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    attributes: Vec<JsonKeyValue>,
    #[serde(
        default,
        alias = "dropped_attributes_count",
        skip_serializing_if = "is_zero_u32"
    )]
    dropped_attributes_count: U32,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonSpan {
    #[serde(default, alias = "trace_id")]
    trace_id: Hex,
    #[serde(default, alias = "span_id")]
    span_id: Hex,
    #[serde(
        default,
        alias = "trace_state",
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    trace_state: String,
    #[serde(
        default,
        alias = "parent_span_id",
        skip_serializing_if = "is_empty_hex"
    )]
    parent_span_id: Hex,
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    flags: U32,
    #[serde(default, deserialize_with = "nullable")]
    name: String,
    #[serde(default)]
    kind: Enum<SPAN_KIND>,
    #[serde(default, alias = "start_time_unix_nano")]
    start_time_unix_nano: U64,
    #[serde(default, alias = "end_time_unix_nano")]
    end_time_unix_nano: U64,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    attributes: Vec<JsonKeyValue>,
    #[serde(
        default,
        alias = "dropped_attributes_count",
        skip_serializing_if = "is_zero_u32"
    )]
    dropped_attributes_count: U32,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    events: Vec<JsonEvent>,
    #[serde(
        default,
        alias = "dropped_events_count",
        skip_serializing_if = "is_zero_u32"
    )]
    dropped_events_count: U32,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    links: Vec<JsonLink>,
    #[serde(
        default,
        alias = "dropped_links_count",
        skip_serializing_if = "is_zero_u32"
    )]
    dropped_links_count: U32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<JsonStatus>,
}

fn is_empty_hex(h: &Hex) -> bool {
    h.0.is_empty()
}

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonEvent {
    #[serde(default, alias = "time_unix_nano")]
    time_unix_nano: U64,
    #[serde(default, deserialize_with = "nullable")]
    name: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    attributes: Vec<JsonKeyValue>,
    #[serde(
        default,
        alias = "dropped_attributes_count",
        skip_serializing_if = "is_zero_u32"
    )]
    dropped_attributes_count: U32,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonLink {
    #[serde(default, alias = "trace_id")]
    trace_id: Hex,
    #[serde(default, alias = "span_id")]
    span_id: Hex,
    #[serde(
        default,
        alias = "trace_state",
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    trace_state: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    attributes: Vec<JsonKeyValue>,
    #[serde(
        default,
        alias = "dropped_attributes_count",
        skip_serializing_if = "is_zero_u32"
    )]
    dropped_attributes_count: U32,
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    flags: U32,
}

#[derive(Default, Serialize, Deserialize)]
struct JsonStatus {
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    message: String,
    #[serde(default)]
    code: Enum<STATUS_CODE>,
}

#[derive(Default, Serialize, Deserialize)]
struct JsonKeyValue {
    #[serde(default, deserialize_with = "nullable")]
    key: String,
    #[serde(default)]
    value: Option<JsonAnyValue>,
}

/// `AnyValue`: at most one key set; `{}` is the empty value.
#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonAnyValue {
    #[serde(
        default,
        alias = "string_value",
        skip_serializing_if = "Option::is_none"
    )]
    string_value: Option<String>,
    #[serde(default, alias = "bool_value", skip_serializing_if = "Option::is_none")]
    bool_value: Option<bool>,
    #[serde(default, alias = "int_value", skip_serializing_if = "Option::is_none")]
    int_value: Option<I64>,
    #[serde(
        default,
        alias = "double_value",
        skip_serializing_if = "Option::is_none"
    )]
    double_value: Option<F64>,
    #[serde(
        default,
        alias = "array_value",
        skip_serializing_if = "Option::is_none"
    )]
    array_value: Option<JsonArray>,
    #[serde(
        default,
        alias = "kvlist_value",
        skip_serializing_if = "Option::is_none"
    )]
    kvlist_value: Option<JsonKvList>,
    #[serde(
        default,
        alias = "bytes_value",
        skip_serializing_if = "Option::is_none"
    )]
    bytes_value: Option<B64>,
}

#[derive(Default, Serialize, Deserialize)]
struct JsonArray {
    #[serde(default, deserialize_with = "nullable")]
    values: Vec<JsonAnyValue>,
}

#[derive(Default, Serialize, Deserialize)]
struct JsonKvList {
    #[serde(default, deserialize_with = "nullable")]
    values: Vec<JsonKeyValue>,
}

// ---- JSON → prost ----

impl From<JsonRequest> for ExportTraceServiceRequest {
    fn from(j: JsonRequest) -> Self {
        ExportTraceServiceRequest {
            resource_spans: j.resource_spans.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<JsonResourceSpans> for pb::ResourceSpans {
    fn from(j: JsonResourceSpans) -> Self {
        pb::ResourceSpans {
            resource: j.resource.map(|r| Resource {
                attributes: kvs(r.attributes),
                dropped_attributes_count: r.dropped_attributes_count.0,
                entity_refs: Vec::new(),
            }),
            scope_spans: j.scope_spans.into_iter().map(Into::into).collect(),
            schema_url: j.schema_url,
        }
    }
}

impl From<JsonScopeSpans> for pb::ScopeSpans {
    fn from(j: JsonScopeSpans) -> Self {
        pb::ScopeSpans {
            scope: j.scope.map(|s| common::InstrumentationScope {
                name: s.name,
                version: s.version,
                attributes: kvs(s.attributes),
                dropped_attributes_count: s.dropped_attributes_count.0,
            }),
            spans: j.spans.into_iter().map(Into::into).collect(),
            schema_url: j.schema_url,
        }
    }
}

impl From<JsonSpan> for pb::Span {
    fn from(j: JsonSpan) -> Self {
        pb::Span {
            trace_id: j.trace_id.0,
            span_id: j.span_id.0,
            trace_state: j.trace_state,
            parent_span_id: j.parent_span_id.0,
            flags: j.flags.0,
            name: j.name,
            kind: j.kind.0,
            start_time_unix_nano: j.start_time_unix_nano.0,
            end_time_unix_nano: j.end_time_unix_nano.0,
            attributes: kvs(j.attributes),
            dropped_attributes_count: j.dropped_attributes_count.0,
            events: j
                .events
                .into_iter()
                .map(|e| Event {
                    time_unix_nano: e.time_unix_nano.0,
                    name: e.name,
                    attributes: kvs(e.attributes),
                    dropped_attributes_count: e.dropped_attributes_count.0,
                })
                .collect(),
            dropped_events_count: j.dropped_events_count.0,
            links: j
                .links
                .into_iter()
                .map(|l| Link {
                    trace_id: l.trace_id.0,
                    span_id: l.span_id.0,
                    trace_state: l.trace_state,
                    attributes: kvs(l.attributes),
                    dropped_attributes_count: l.dropped_attributes_count.0,
                    flags: l.flags.0,
                })
                .collect(),
            dropped_links_count: j.dropped_links_count.0,
            status: j.status.map(|s| pb::Status {
                message: s.message,
                code: s.code.0,
            }),
        }
    }
}

fn kvs(list: Vec<JsonKeyValue>) -> Vec<common::KeyValue> {
    list.into_iter()
        .map(|kv| common::KeyValue {
            key: kv.key,
            value: kv.value.map(any_value),
        })
        .collect()
}

fn any_value(j: JsonAnyValue) -> common::AnyValue {
    use common::any_value::Value as V;
    let value = if let Some(s) = j.string_value {
        Some(V::StringValue(s))
    } else if let Some(b) = j.bool_value {
        Some(V::BoolValue(b))
    } else if let Some(i) = j.int_value {
        Some(V::IntValue(i.0))
    } else if let Some(d) = j.double_value {
        Some(V::DoubleValue(d.0))
    } else if let Some(a) = j.array_value {
        Some(V::ArrayValue(common::ArrayValue {
            values: a.values.into_iter().map(any_value).collect(),
        }))
    } else if let Some(l) = j.kvlist_value {
        Some(V::KvlistValue(common::KeyValueList {
            values: kvs(l.values),
        }))
    } else {
        j.bytes_value.map(|b| V::BytesValue(b.0))
    };
    common::AnyValue { value }
}

// ---- prost → JSON ----

impl From<&ExportTraceServiceRequest> for JsonRequest {
    fn from(p: &ExportTraceServiceRequest) -> Self {
        JsonRequest {
            resource_spans: p.resource_spans.iter().map(Into::into).collect(),
        }
    }
}

impl From<&pb::ResourceSpans> for JsonResourceSpans {
    fn from(p: &pb::ResourceSpans) -> Self {
        JsonResourceSpans {
            resource: p.resource.as_ref().map(|r| JsonResource {
                attributes: json_kvs(&r.attributes),
                dropped_attributes_count: U32(r.dropped_attributes_count),
            }),
            scope_spans: p
                .scope_spans
                .iter()
                .map(|ss| JsonScopeSpans {
                    scope: ss.scope.as_ref().map(|s| JsonScope {
                        name: s.name.clone(),
                        version: s.version.clone(),
                        attributes: json_kvs(&s.attributes),
                        dropped_attributes_count: U32(s.dropped_attributes_count),
                    }),
                    spans: ss.spans.iter().map(json_span).collect(),
                    schema_url: ss.schema_url.clone(),
                })
                .collect(),
            schema_url: p.schema_url.clone(),
        }
    }
}

fn json_span(s: &pb::Span) -> JsonSpan {
    JsonSpan {
        trace_id: Hex(s.trace_id.clone()),
        span_id: Hex(s.span_id.clone()),
        trace_state: s.trace_state.clone(),
        parent_span_id: Hex(s.parent_span_id.clone()),
        flags: U32(s.flags),
        name: s.name.clone(),
        kind: Enum(s.kind),
        start_time_unix_nano: U64(s.start_time_unix_nano),
        end_time_unix_nano: U64(s.end_time_unix_nano),
        attributes: json_kvs(&s.attributes),
        dropped_attributes_count: U32(s.dropped_attributes_count),
        events: s
            .events
            .iter()
            .map(|e| JsonEvent {
                time_unix_nano: U64(e.time_unix_nano),
                name: e.name.clone(),
                attributes: json_kvs(&e.attributes),
                dropped_attributes_count: U32(e.dropped_attributes_count),
            })
            .collect(),
        dropped_events_count: U32(s.dropped_events_count),
        links: s
            .links
            .iter()
            .map(|l| JsonLink {
                trace_id: Hex(l.trace_id.clone()),
                span_id: Hex(l.span_id.clone()),
                trace_state: l.trace_state.clone(),
                attributes: json_kvs(&l.attributes),
                dropped_attributes_count: U32(l.dropped_attributes_count),
                flags: U32(l.flags),
            })
            .collect(),
        dropped_links_count: U32(s.dropped_links_count),
        status: s.status.as_ref().map(|st| JsonStatus {
            message: st.message.clone(),
            code: Enum(st.code),
        }),
    }
}

fn json_kvs(list: &[common::KeyValue]) -> Vec<JsonKeyValue> {
    list.iter()
        .map(|kv| JsonKeyValue {
            key: kv.key.clone(),
            value: kv.value.as_ref().map(json_any_value),
        })
        .collect()
}

fn json_any_value(v: &common::AnyValue) -> JsonAnyValue {
    use common::any_value::Value as V;
    let mut j = JsonAnyValue::default();
    match &v.value {
        None => {}
        Some(V::StringValue(s)) => j.string_value = Some(s.clone()),
        Some(V::BoolValue(b)) => j.bool_value = Some(*b),
        Some(V::IntValue(i)) => j.int_value = Some(I64(*i)),
        Some(V::DoubleValue(d)) => j.double_value = Some(F64(*d)),
        Some(V::ArrayValue(a)) => {
            j.array_value = Some(JsonArray {
                values: a.values.iter().map(json_any_value).collect(),
            })
        }
        Some(V::KvlistValue(l)) => {
            j.kvlist_value = Some(JsonKvList {
                values: json_kvs(&l.values),
            })
        }
        Some(V::BytesValue(b)) => j.bytes_value = Some(B64(b.clone())),
    }
    j
}
