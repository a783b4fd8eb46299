//! OTLP/JSON message shapes and their conversion to prost (the other way is in `output`).

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
    pub(super) resource_spans: Vec<JsonResourceSpans>,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct JsonResourceSpans {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) resource: Option<JsonResource>,
    #[serde(default, alias = "scope_spans", deserialize_with = "nullable")]
    pub(super) scope_spans: Vec<JsonScopeSpans>,
    #[serde(
        default,
        alias = "schema_url",
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub(super) schema_url: String,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct JsonResource {
    #[serde(default, deserialize_with = "nullable")]
    pub(super) attributes: Vec<JsonKeyValue>,
    #[serde(
        default,
        alias = "dropped_attributes_count",
        skip_serializing_if = "is_zero_u32"
    )]
    pub(super) dropped_attributes_count: U32,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct JsonScopeSpans {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) scope: Option<JsonScope>,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) spans: Vec<JsonSpan>,
    #[serde(
        default,
        alias = "schema_url",
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub(super) schema_url: String,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct JsonScope {
    #[serde(default, deserialize_with = "nullable")]
    pub(super) name: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub(super) version: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub(super) attributes: Vec<JsonKeyValue>,
    #[serde(
        default,
        alias = "dropped_attributes_count",
        skip_serializing_if = "is_zero_u32"
    )]
    pub(super) dropped_attributes_count: U32,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct JsonSpan {
    #[serde(default, alias = "trace_id")]
    pub(super) trace_id: Hex,
    #[serde(default, alias = "span_id")]
    pub(super) span_id: Hex,
    #[serde(
        default,
        alias = "trace_state",
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub(super) trace_state: String,
    #[serde(
        default,
        alias = "parent_span_id",
        skip_serializing_if = "is_empty_hex"
    )]
    pub(super) parent_span_id: Hex,
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub(super) flags: U32,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) name: String,
    #[serde(default)]
    pub(super) kind: Enum<SPAN_KIND>,
    #[serde(default, alias = "start_time_unix_nano")]
    pub(super) start_time_unix_nano: U64,
    #[serde(default, alias = "end_time_unix_nano")]
    pub(super) end_time_unix_nano: U64,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub(super) attributes: Vec<JsonKeyValue>,
    #[serde(
        default,
        alias = "dropped_attributes_count",
        skip_serializing_if = "is_zero_u32"
    )]
    pub(super) dropped_attributes_count: U32,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub(super) events: Vec<JsonEvent>,
    #[serde(
        default,
        alias = "dropped_events_count",
        skip_serializing_if = "is_zero_u32"
    )]
    pub(super) dropped_events_count: U32,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub(super) links: Vec<JsonLink>,
    #[serde(
        default,
        alias = "dropped_links_count",
        skip_serializing_if = "is_zero_u32"
    )]
    pub(super) dropped_links_count: U32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) status: Option<JsonStatus>,
}

fn is_empty_hex(h: &Hex) -> bool {
    h.0.is_empty()
}

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct JsonEvent {
    #[serde(default, alias = "time_unix_nano")]
    pub(super) time_unix_nano: U64,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) name: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub(super) attributes: Vec<JsonKeyValue>,
    #[serde(
        default,
        alias = "dropped_attributes_count",
        skip_serializing_if = "is_zero_u32"
    )]
    pub(super) dropped_attributes_count: U32,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct JsonLink {
    #[serde(default, alias = "trace_id")]
    pub(super) trace_id: Hex,
    #[serde(default, alias = "span_id")]
    pub(super) span_id: Hex,
    #[serde(
        default,
        alias = "trace_state",
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub(super) trace_state: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub(super) attributes: Vec<JsonKeyValue>,
    #[serde(
        default,
        alias = "dropped_attributes_count",
        skip_serializing_if = "is_zero_u32"
    )]
    pub(super) dropped_attributes_count: U32,
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub(super) flags: U32,
}

#[derive(Default, Serialize, Deserialize)]
pub(super) struct JsonStatus {
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub(super) message: String,
    #[serde(default)]
    pub(super) code: Enum<STATUS_CODE>,
}

#[derive(Default, Serialize, Deserialize)]
pub(super) struct JsonKeyValue {
    #[serde(default, deserialize_with = "nullable")]
    pub(super) key: String,
    #[serde(default)]
    pub(super) value: Option<JsonAnyValue>,
}

/// `AnyValue`: at most one key set; `{}` is the empty value.
#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct JsonAnyValue {
    #[serde(
        default,
        alias = "string_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub(super) string_value: Option<String>,
    #[serde(default, alias = "bool_value", skip_serializing_if = "Option::is_none")]
    pub(super) bool_value: Option<bool>,
    #[serde(default, alias = "int_value", skip_serializing_if = "Option::is_none")]
    pub(super) int_value: Option<I64>,
    #[serde(
        default,
        alias = "double_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub(super) double_value: Option<F64>,
    #[serde(
        default,
        alias = "array_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub(super) array_value: Option<JsonArray>,
    #[serde(
        default,
        alias = "kvlist_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub(super) kvlist_value: Option<JsonKvList>,
    #[serde(
        default,
        alias = "bytes_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub(super) bytes_value: Option<B64>,
}

#[derive(Default, Serialize, Deserialize)]
pub(super) struct JsonArray {
    #[serde(default, deserialize_with = "nullable")]
    pub(super) values: Vec<JsonAnyValue>,
}

#[derive(Default, Serialize, Deserialize)]
pub(super) struct JsonKvList {
    #[serde(default, deserialize_with = "nullable")]
    pub(super) values: Vec<JsonKeyValue>,
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
