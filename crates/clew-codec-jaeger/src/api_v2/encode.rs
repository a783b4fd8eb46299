//! Model → api_v2 messages (query replies, the client's gRPC reporter,
//! round-trip tests).

use std::sync::Arc;

use bytes::Bytes;
use clew_model::{KeyValue, Log, Process, RefType, Reference, Span, SpanId, Trace, TraceId, Value};

use super::pb;
use super::time::{duration_from_ns, timestamp_from_ns};

/// A trace ID as api_v2 writes it: always 16 bytes, high half first.
pub fn trace_id_bytes(id: TraceId) -> Bytes {
    Bytes::copy_from_slice(&id.to_bytes())
}

/// A span ID as 8 big-endian bytes.
pub fn span_id_bytes(id: SpanId) -> Bytes {
    Bytes::copy_from_slice(&id.to_bytes())
}

/// One tag. Arrays and maps have no api_v2 type and become strings holding
/// their text form, the same text the search matcher compares against.
pub fn key_value_to_pb(kv: &KeyValue) -> pb::KeyValue {
    let mut out = pb::KeyValue {
        key: kv.key.to_string(),
        ..Default::default()
    };
    match &kv.value {
        Value::Str(s) => out.v_str = s.to_string(),
        Value::Bool(b) => {
            out.v_type = pb::ValueType::Bool as i32;
            out.v_bool = *b;
        }
        Value::I64(v) => {
            out.v_type = pb::ValueType::Int64 as i32;
            out.v_int64 = *v;
        }
        Value::F64(v) => {
            out.v_type = pb::ValueType::Float64 as i32;
            out.v_float64 = *v;
        }
        Value::Binary(b) => {
            out.v_type = pb::ValueType::Binary as i32;
            out.v_binary = b.clone();
        }
        v @ (Value::Array(_) | Value::Map(_)) => out.v_str = v.to_text(),
    }
    out
}

fn tags_to_pb(tags: &[KeyValue]) -> Vec<pb::KeyValue> {
    tags.iter().map(key_value_to_pb).collect()
}

/// A process with its tags.
pub fn process_to_pb(p: &Process) -> pb::Process {
    pb::Process {
        service_name: p.service_name.to_string(),
        tags: tags_to_pb(&p.tags),
    }
}

fn reference_to_pb(r: &Reference) -> pb::SpanRef {
    let ref_type = match r.ref_type {
        RefType::ChildOf => pb::SpanRefType::ChildOf,
        RefType::FollowsFrom => pb::SpanRefType::FollowsFrom,
    };
    pb::SpanRef {
        trace_id: trace_id_bytes(r.trace_id),
        span_id: span_id_bytes(r.span_id),
        ref_type: ref_type as i32,
    }
}

fn log_to_pb(l: &Log) -> pb::Log {
    pb::Log {
        timestamp: Some(timestamp_from_ns(l.timestamp)),
        fields: tags_to_pb(&l.fields),
    }
}

/// Every span field except the process, which callers place (embedded,
/// by batch, or by `process_id`).
fn span_without_process(s: &Span) -> pb::Span {
    pb::Span {
        trace_id: trace_id_bytes(s.trace_id),
        span_id: span_id_bytes(s.span_id),
        operation_name: s.operation_name.to_string(),
        references: s.references.iter().map(reference_to_pb).collect(),
        flags: s.flags,
        start_time: Some(timestamp_from_ns(s.start_time)),
        duration: Some(duration_from_ns(s.duration)),
        tags: tags_to_pb(&s.tags),
        logs: s.logs.iter().map(log_to_pb).collect(),
        process: None,
        process_id: String::new(),
        warnings: s.warnings.clone(),
    }
}

/// A span with its process embedded, the form Jaeger's `QueryService`
/// streams in `SpansResponseChunk`s.
pub fn span_to_pb(s: &Span) -> pb::Span {
    pb::Span {
        process: Some(process_to_pb(&s.process)),
        ..span_without_process(s)
    }
}

/// A `Batch`: spans whose process equals `process` leave theirs unset and
/// inherit the batch's; others carry their own.
pub fn batch_to_pb(process: &Process, spans: &[Span]) -> pb::Batch {
    pb::Batch {
        spans: spans
            .iter()
            .map(|s| {
                if *s.process == *process {
                    span_without_process(s)
                } else {
                    span_to_pb(s)
                }
            })
            .collect(),
        process: Some(process_to_pb(process)),
    }
}

/// A `Trace` with a process map: distinct processes get keys `p1`, `p2`, …
/// in order of first appearance (as in Jaeger's UI JSON) and spans refer to
/// them by `process_id`.
pub fn trace_to_pb(t: &Trace) -> pb::Trace {
    let mut seen: Vec<&Arc<Process>> = Vec::new();
    let mut process_map = Vec::new();
    let spans = t
        .spans
        .iter()
        .map(|s| {
            let i = match seen
                .iter()
                .position(|p| Arc::ptr_eq(p, &s.process) || ***p == *s.process)
            {
                Some(i) => i,
                None => {
                    seen.push(&s.process);
                    process_map.push(pb::trace::ProcessMapping {
                        process_id: format!("p{}", seen.len()),
                        process: Some(process_to_pb(&s.process)),
                    });
                    seen.len() - 1
                }
            };
            pb::Span {
                process_id: format!("p{}", i + 1),
                ..span_without_process(s)
            }
        })
        .collect();
    pb::Trace {
        spans,
        process_map,
        warnings: t.warnings.clone(),
    }
}

/// A dependency edge. `source` is "jaeger", the value Jaeger fills in for
/// links computed from its own spans.
pub fn dependency_link(parent: &str, child: &str, call_count: u64) -> pb::DependencyLink {
    pb::DependencyLink {
        parent: parent.to_owned(),
        child: child.to_owned(),
        call_count,
        source: "jaeger".to_owned(),
    }
}
