//! api_v2 messages → model (the `PostSpans` ingest path, client tests).
//!
//! prost has already parsed the bytes; what can still be wrong is the
//! content: IDs of the wrong length, times before 1970, unknown enum values.
//! Bad IDs reject one span; everything else is repaired and noted as a span
//! warning, like the thrift decoder does.

use std::collections::HashMap;
use std::sync::Arc;

use clew_model::{KeyValue, Log, Process, RefType, Reference, Span, Str, Trace, Value};

use super::time::{duration_to_ns, timestamp_to_ns};
use super::{ConvertError, pb, span_id_from_bytes, trace_id_from_bytes};

/// Most warnings a decoded span gets; hostile input cannot grow them further.
const MAX_WARNINGS: usize = 16;

/// Spans converted from api_v2, and the ones refused.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Converted {
    /// Accepted spans, in input order.
    pub spans: Vec<Span>,
    /// One entry per refused span.
    pub rejected: Vec<ConvertError>,
}

/// Hands out one `Arc<Process>` per distinct process, so spans that carry
/// equal embedded processes share them as spans of one thrift batch do.
#[derive(Default)]
struct Processes(Vec<Arc<Process>>);

impl Processes {
    fn intern(&mut self, p: Process) -> Arc<Process> {
        if let Some(found) = self.0.iter().find(|q| ***q == p) {
            return found.clone();
        }
        let p = Arc::new(p);
        self.0.push(p.clone());
        p
    }
}

fn warn(warnings: &mut Vec<String>, msg: impl FnOnce() -> String) {
    if warnings.len() < MAX_WARNINGS {
        warnings.push(msg());
    }
}

fn kv(kv: pb::KeyValue, warnings: &mut Vec<String>) -> KeyValue {
    let value = match pb::ValueType::try_from(kv.v_type) {
        Ok(pb::ValueType::String) => Value::Str(Str::from(kv.v_str)),
        Ok(pb::ValueType::Bool) => Value::Bool(kv.v_bool),
        Ok(pb::ValueType::Int64) => Value::I64(kv.v_int64),
        Ok(pb::ValueType::Float64) => Value::F64(kv.v_float64),
        Ok(pb::ValueType::Binary) => Value::Binary(kv.v_binary),
        Err(_) => {
            let (key, t) = (&kv.key, kv.v_type);
            warn(warnings, || {
                format!("tag {key:?} has unknown type {t}; read as string")
            });
            Value::Str(Str::from(kv.v_str))
        }
    };
    KeyValue::new(Str::from(kv.key), value)
}

fn kvs(list: Vec<pb::KeyValue>, warnings: &mut Vec<String>) -> Vec<KeyValue> {
    list.into_iter().map(|t| kv(t, warnings)).collect()
}

/// One tag; an unknown `v_type` reads as a string tag holding `v_str`.
pub fn key_value_to_model(tag: pb::KeyValue) -> KeyValue {
    kv(tag, &mut Vec::new())
}

/// A process (tag warnings have no span to go on and are dropped).
pub fn process_to_model(p: pb::Process) -> Process {
    process(p, &mut Vec::new())
}

fn process(p: pb::Process, warnings: &mut Vec<String>) -> Process {
    Process {
        service_name: Str::from(p.service_name),
        tags: kvs(p.tags, warnings),
    }
}

fn reference(r: pb::SpanRef, warnings: &mut Vec<String>) -> Option<Reference> {
    let ids = trace_id_from_bytes(&r.trace_id)
        .and_then(|t| span_id_from_bytes(&r.span_id).map(|s| (t, s)));
    let (trace_id, span_id) = match ids {
        Ok(ids) => ids,
        Err(e) => {
            warn(warnings, || format!("reference dropped: {e}"));
            return None;
        }
    };
    let ref_type = match pb::SpanRefType::try_from(r.ref_type) {
        Ok(pb::SpanRefType::ChildOf) => RefType::ChildOf,
        Ok(pb::SpanRefType::FollowsFrom) => RefType::FollowsFrom,
        Err(_) => {
            let t = r.ref_type;
            warn(warnings, || {
                format!("unknown reference type {t}; read as CHILD_OF")
            });
            RefType::ChildOf
        }
    };
    Some(Reference {
        ref_type,
        trace_id,
        span_id,
        tags: Vec::new(),
    })
}

fn time_or_zero(ns: Option<Option<u64>>, what: &str, warnings: &mut Vec<String>) -> u64 {
    match ns {
        None => 0,
        Some(Some(ns)) => ns,
        Some(None) => {
            warn(warnings, || {
                format!("{what} is negative or out of range; set to 0")
            });
            0
        }
    }
}

/// One span; `fallback` is the process it gets when it carries none.
pub fn span_to_model(s: pb::Span, fallback: &Arc<Process>) -> Result<Span, ConvertError> {
    span(s, fallback, &mut Processes::default())
}

fn span(s: pb::Span, fallback: &Arc<Process>, procs: &mut Processes) -> Result<Span, ConvertError> {
    let trace_id = trace_id_from_bytes(&s.trace_id)?;
    let span_id = span_id_from_bytes(&s.span_id)?;
    let mut warnings = s.warnings;
    let start = s.start_time.as_ref().map(timestamp_to_ns);
    let start_time = time_or_zero(start, "start time", &mut warnings);
    let dur = s.duration.as_ref().map(duration_to_ns);
    let duration = time_or_zero(dur, "duration", &mut warnings);
    let references = s
        .references
        .into_iter()
        .filter_map(|r| reference(r, &mut warnings))
        .collect();
    let tags = kvs(s.tags, &mut warnings);
    let logs = s
        .logs
        .into_iter()
        .map(|l| {
            let ts = l.timestamp.as_ref().map(timestamp_to_ns);
            Log {
                timestamp: time_or_zero(ts, "log timestamp", &mut warnings),
                fields: kvs(l.fields, &mut warnings),
            }
        })
        .collect();
    let process = match s.process {
        Some(p) => procs.intern(process(p, &mut warnings)),
        None => fallback.clone(),
    };
    Ok(Span {
        trace_id,
        span_id,
        operation_name: Str::from(s.operation_name),
        references,
        flags: s.flags,
        start_time,
        duration,
        tags,
        logs,
        process,
        scope: None,
        warnings,
    })
}

fn convert_all(spans: Vec<pb::Span>, fallback: &Arc<Process>) -> Converted {
    let mut procs = Processes::default();
    let mut out = Converted::default();
    for s in spans {
        match span(s, fallback, &mut procs) {
            Ok(s) => out.spans.push(s),
            Err(e) => out.rejected.push(e),
        }
    }
    out
}

/// A `PostSpans` batch: spans without a process inherit the batch's (an
/// absent batch process reads as an empty one; ingest picks the default
/// service name).
pub fn batch_to_model(batch: pb::Batch) -> Converted {
    let batch_process = Arc::new(batch.process.map(process_to_model).unwrap_or_default());
    convert_all(batch.spans, &batch_process)
}

/// Spans that each embed their process (`SpansResponseChunk`); a span
/// without one gets an empty process.
pub fn spans_to_model(spans: Vec<pb::Span>) -> Converted {
    convert_all(spans, &Arc::new(Process::default()))
}

/// A `Trace`: spans without an embedded process look theirs up in
/// `process_map` by `process_id`; an unknown ID gives an empty process and
/// a span warning.
pub fn trace_to_model(t: pb::Trace) -> (Trace, Vec<ConvertError>) {
    let mut procs = Processes::default();
    let mut map: HashMap<String, Arc<Process>> = HashMap::new();
    for m in t.process_map {
        let p = procs.intern(m.process.map(process_to_model).unwrap_or_default());
        map.insert(m.process_id, p);
    }
    let empty = Arc::new(Process::default());
    let mut out = Converted::default();
    for s in t.spans {
        let known = s.process.is_some() || map.contains_key(&s.process_id);
        let fb = map.get(&s.process_id).unwrap_or(&empty).clone();
        let pid = s.process_id.clone();
        match span(s, &fb, &mut procs) {
            Ok(mut s) => {
                if !known {
                    warn(&mut s.warnings, || format!("unknown process ID {pid:?}"));
                }
                out.spans.push(s);
            }
            Err(e) => out.rejected.push(e),
        }
    }
    let trace = Trace {
        spans: out.spans,
        warnings: t.warnings,
    };
    (trace, out.rejected)
}

#[cfg(test)]
mod tests;
