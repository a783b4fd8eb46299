//! prost → OTLP/JSON message shapes.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1 as common;
use opentelemetry_proto::tonic::trace::v1 as pb;

use super::messages::*;
use super::scalars::{B64, Enum, F64, Hex, I64, U32, U64};

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
