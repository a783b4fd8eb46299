//! Model → OTLP: the inverse of [`crate::assemble`], for the API v3 read
//! path, the client library and round-trip tests.
//!
//! Spans are grouped by process (one `ResourceSpans` each, in order of first
//! appearance) and, within that, by scope. The tags the decoder appended
//! (see [`crate::keys`]) are taken back out — the *last* one with each key, so
//! a client attribute that happens to use the same key survives. Spans from
//! Jaeger clients map the way Jaeger's translator maps them: `error=true`
//! without `otel.status_code` becomes an ERROR status, the first same-trace
//! CHILD_OF reference becomes the parent, and other references become links
//! with an `opentracing.ref_type` attribute when they are CHILD_OF.

use std::sync::Arc;

use clew_model::{KeyValue, Log, Process, RefType, Reference, Span, Value, keys as mkeys};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1 as common;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1 as pb;

use crate::keys;
use crate::value::{any_value_to_pb, attributes_to_pb, key_value_to_pb};

/// Model spans as an export request.
pub fn spans_to_request(spans: &[Span]) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: spans_to_resource_spans(spans),
    }
}

/// Model spans as `ResourceSpans` (also the body of a `TracesData`).
pub fn spans_to_resource_spans(spans: &[Span]) -> Vec<pb::ResourceSpans> {
    let mut groups: Vec<(Arc<Process>, pb::ResourceSpans)> = Vec::new();
    for span in spans {
        let i = match groups
            .iter()
            .position(|(p, _)| Arc::ptr_eq(p, &span.process) || **p == *span.process)
        {
            Some(i) => i,
            None => {
                groups.push((span.process.clone(), resource_spans_of(&span.process)));
                groups.len() - 1
            }
        };
        let (scope, out) = span_to_pb(span);
        let rs = &mut groups[i].1;
        match rs
            .scope_spans
            .iter_mut()
            .find(|ss| ss.scope == scope.0 && ss.schema_url == scope.1)
        {
            Some(ss) => ss.spans.push(out),
            None => rs.scope_spans.push(pb::ScopeSpans {
                scope: scope.0,
                spans: vec![out],
                schema_url: scope.1,
            }),
        }
    }
    groups.into_iter().map(|(_, rs)| rs).collect()
}

fn resource_spans_of(p: &Process) -> pb::ResourceSpans {
    let mut tags = p.tags.clone();
    let dropped = take_last(&mut tags, keys::RESOURCE_DROPPED_ATTRIBUTES, as_u32).unwrap_or(0);
    let schema_url = take_last(&mut tags, keys::RESOURCE_SCHEMA_URL, as_string).unwrap_or_default();
    let mut attributes = Vec::with_capacity(tags.len() + 1);
    if &*p.service_name != keys::NO_SERVICE_NAME {
        attributes.push(key_value_to_pb(&KeyValue::string(
            keys::SERVICE_NAME,
            p.service_name.clone(),
        )));
    }
    attributes.extend(tags.iter().map(key_value_to_pb));
    pb::ResourceSpans {
        resource: Some(Resource {
            attributes,
            dropped_attributes_count: dropped,
            entity_refs: Vec::new(),
        }),
        scope_spans: Vec::new(),
        schema_url,
    }
}

type ScopeKey = (Option<common::InstrumentationScope>, String);

fn span_to_pb(span: &Span) -> (ScopeKey, pb::Span) {
    let mut tags = span.tags.clone();
    let kind = take_last(&mut tags, mkeys::SPAN_KIND, |v| kind_number(v.as_str()?)).unwrap_or(0);
    let code = take_last(&mut tags, keys::STATUS_CODE, |v| match v.as_str()? {
        "OK" => Some(1),
        "ERROR" => Some(2),
        _ => None,
    });
    let message = take_last(&mut tags, keys::STATUS_DESCRIPTION, as_string).unwrap_or_default();
    let code = match code {
        Some(2) => {
            take_last(&mut tags, mkeys::ERROR, is_true);
            2
        }
        Some(c) => c,
        None if take_last(&mut tags, mkeys::ERROR, is_true).is_some() => 2,
        None => 0,
    };

    let scope_name = take_last(&mut tags, keys::SCOPE_NAME, as_string).unwrap_or_default();
    let scope_version = take_last(&mut tags, keys::SCOPE_VERSION, as_string).unwrap_or_default();
    let scope_attrs = span
        .scope
        .as_deref()
        .map(|s| attributes_to_pb(&s.attributes))
        .unwrap_or_default();
    let scope_dropped = take_last(&mut tags, keys::SCOPE_DROPPED_ATTRIBUTES, as_u32).unwrap_or(0);
    let scope_schema = take_last(&mut tags, keys::SCOPE_SCHEMA_URL, as_string).unwrap_or_default();
    let scope = common::InstrumentationScope {
        name: scope_name,
        version: scope_version,
        attributes: scope_attrs,
        dropped_attributes_count: scope_dropped,
    };
    let scope = (scope != common::InstrumentationScope::default()).then_some(scope);

    let trace_state = take_last(&mut tags, keys::TRACE_STATE, as_string).unwrap_or_default();
    let dropped_attributes = take_last(&mut tags, keys::DROPPED_ATTRIBUTES, as_u32).unwrap_or(0);
    let dropped_events = take_last(&mut tags, keys::DROPPED_EVENTS, as_u32).unwrap_or(0);
    let dropped_links = take_last(&mut tags, keys::DROPPED_LINKS, as_u32).unwrap_or(0);

    let mut attributes = attributes_to_pb(&tags);
    if !span.warnings.is_empty() {
        let warnings = Value::Array(
            span.warnings
                .iter()
                .map(|w| Value::Str(w.as_str().into()))
                .collect(),
        );
        attributes.push(common::KeyValue {
            key: keys::WARNINGS.to_owned(),
            value: Some(any_value_to_pb(&warnings)),
        });
    }

    let parent_at = span.references.iter().position(|r| {
        r.ref_type == RefType::ChildOf && r.trace_id == span.trace_id && r.tags.is_empty()
    });
    let links = span
        .references
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != parent_at)
        .map(|(_, r)| link_to_pb(r))
        .collect();

    let out = pb::Span {
        trace_id: span.trace_id.to_bytes().to_vec(),
        span_id: span.span_id.to_bytes().to_vec(),
        trace_state,
        parent_span_id: parent_at
            .map(|i| span.references[i].span_id.to_bytes().to_vec())
            .unwrap_or_default(),
        flags: span.flags,
        name: span.operation_name.to_string(),
        kind,
        start_time_unix_nano: span.start_time,
        end_time_unix_nano: span.end_time(),
        attributes,
        dropped_attributes_count: dropped_attributes,
        events: span.logs.iter().map(log_to_event).collect(),
        dropped_events_count: dropped_events,
        links,
        dropped_links_count: dropped_links,
        status: (code != 0 || !message.is_empty()).then_some(pb::Status { message, code }),
    };
    ((scope, scope_schema), out)
}

fn link_to_pb(r: &Reference) -> pb::span::Link {
    let mut tags = r.tags.clone();
    let flags = take_last(&mut tags, keys::LINK_FLAGS, as_u32).unwrap_or(0);
    let dropped = take_last(&mut tags, keys::DROPPED_ATTRIBUTES, as_u32).unwrap_or(0);
    let trace_state = take_last(&mut tags, keys::TRACE_STATE, as_string).unwrap_or_default();
    let says_child_of = tags
        .iter()
        .rev()
        .find(|kv| &*kv.key == keys::REF_TYPE)
        .is_some_and(|kv| kv.value.as_str() == Some(keys::REF_CHILD_OF));
    if r.ref_type == RefType::ChildOf && !says_child_of {
        tags.push(KeyValue::string(keys::REF_TYPE, keys::REF_CHILD_OF));
    }
    pb::span::Link {
        trace_id: r.trace_id.to_bytes().to_vec(),
        span_id: r.span_id.to_bytes().to_vec(),
        trace_state,
        attributes: attributes_to_pb(&tags),
        dropped_attributes_count: dropped,
        flags,
    }
}

fn log_to_event(log: &Log) -> pb::span::Event {
    let mut fields = log.fields.clone();
    let name = fields
        .iter()
        .position(|kv| &*kv.key == mkeys::EVENT && matches!(kv.value, Value::Str(_)))
        .map(|i| {
            fields
                .remove(i)
                .value
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .unwrap_or_default();
    let dropped = take_last(&mut fields, keys::DROPPED_ATTRIBUTES, as_u32).unwrap_or(0);
    pb::span::Event {
        time_unix_nano: log.timestamp,
        name,
        attributes: attributes_to_pb(&fields),
        dropped_attributes_count: dropped,
    }
}

fn kind_number(s: &str) -> Option<i32> {
    Some(match s {
        "internal" => 1,
        "server" => 2,
        "client" => 3,
        "producer" => 4,
        "consumer" => 5,
        _ => return None,
    })
}

fn as_string(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

fn as_u32(v: &Value) -> Option<u32> {
    match v {
        Value::I64(n) => u32::try_from(*n).ok(),
        _ => None,
    }
}

fn is_true(v: &Value) -> Option<()> {
    match v {
        Value::Bool(true) => Some(()),
        Value::Str(s) if &**s == "true" => Some(()),
        _ => None,
    }
}

/// Removes the last tag with `key` that `f` accepts and returns what `f` made of it.
fn take_last<T>(tags: &mut Vec<KeyValue>, key: &str, f: impl Fn(&Value) -> Option<T>) -> Option<T> {
    let (i, out) = tags
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, kv)| &*kv.key == key)
        .find_map(|(i, kv)| f(&kv.value).map(|o| (i, o)))?;
    tags.remove(i);
    Some(out)
}
