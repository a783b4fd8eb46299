//! Rendering traces as the Jaeger UI's JSON model (reference §4.4).
//!
//! Private DTOs mirror the Go structs field for field, so serde emits keys in
//! the same order and with the same omission rules: `flags` only when
//! non-zero, `warnings` as `null` when empty, arrays never `null`, processes
//! deduplicated into `p1`, `p2`, … in order of first appearance.
//!
//! Numbers must read as Go writes them, too: a float64 tag `42.0` is `42`,
//! `1e21` is `1e+21` ([`clew_model::GoFloat`]). serde_json prints `42.0`, so
//! every JSON reply is written through [`GoFormatter`]. Go's `encoding/json`
//! refuses NaN and ±Inf — Jaeger then fails the whole request with a 500 —
//! so Clew writes them as the strings `"NaN"`, `"+Inf"`, `"-Inf"` (the text
//! Jaeger's own OTLP/JSON writer uses) and the trace stays readable.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use clew_model::{GoFloat, KeyValue, Log, Process, Reference, Span, Trace, Value};
use clew_store::DependencyLink;
use serde::Serialize;
use serde_json::Value as Json;

/// Largest integer a JavaScript number holds exactly; larger int64 tag values
/// are sent as strings so the UI does not round them.
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// One trace in UI form.
#[derive(Serialize, Debug)]
pub struct TraceDto {
    #[serde(rename = "traceID")]
    trace_id: String,
    spans: Vec<SpanDto>,
    /// Go marshals map keys sorted, so `p10` precedes `p2`; a BTreeMap of
    /// strings sorts the same way.
    processes: BTreeMap<String, ProcessDto>,
    warnings: Option<Vec<String>>,
}

#[derive(Serialize, Debug)]
struct SpanDto {
    #[serde(rename = "traceID")]
    trace_id: String,
    #[serde(rename = "spanID")]
    span_id: String,
    #[serde(skip_serializing_if = "is_zero")]
    flags: u32,
    #[serde(rename = "operationName")]
    operation_name: String,
    references: Vec<ReferenceDto>,
    #[serde(rename = "startTime")]
    start_time: u64,
    duration: u64,
    tags: Vec<KeyValueDto>,
    logs: Vec<LogDto>,
    #[serde(rename = "processID")]
    process_id: String,
    warnings: Option<Vec<String>>,
}

#[derive(Serialize, Debug)]
struct ReferenceDto {
    #[serde(rename = "refType")]
    ref_type: &'static str,
    #[serde(rename = "traceID")]
    trace_id: String,
    #[serde(rename = "spanID")]
    span_id: String,
}

#[derive(Serialize, Debug)]
struct LogDto {
    timestamp: u64,
    fields: Vec<KeyValueDto>,
}

#[derive(Serialize, Debug)]
struct ProcessDto {
    #[serde(rename = "serviceName")]
    service_name: String,
    tags: Vec<KeyValueDto>,
}

#[derive(Serialize, Debug)]
struct KeyValueDto {
    key: String,
    #[serde(rename = "type")]
    value_type: &'static str,
    value: Json,
}

/// One dependency link in UI form.
#[derive(Serialize, Debug)]
pub struct DependencyDto {
    parent: String,
    child: String,
    #[serde(rename = "callCount")]
    call_count: u64,
}

/// An operation with its span kind (`/api/operations`).
#[derive(Serialize, Debug)]
pub struct OperationDto {
    /// Operation name.
    pub name: String,
    /// `span.kind` value, empty when unknown.
    #[serde(rename = "spanKind")]
    pub span_kind: String,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

fn none_if_empty(v: &[String]) -> Option<Vec<String>> {
    if v.is_empty() { None } else { Some(v.to_vec()) }
}

/// Model nanoseconds → UI microseconds.
fn micros(ns: u64) -> u64 {
    ns / 1_000
}

fn value_json(v: &Value) -> Json {
    match v {
        Value::Str(s) => Json::String(s.to_string()),
        Value::Bool(b) => Json::Bool(*b),
        Value::I64(i) if (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(i) => Json::from(*i),
        Value::I64(i) => Json::String(i.to_string()),
        // JSON has no NaN or infinities; Go's text keeps the value visible.
        // Finite floats print through `GoFormatter`.
        Value::F64(f) => serde_json::Number::from_f64(*f)
            .map_or_else(|| Json::String(GoFloat(*f).to_string()), Json::Number),
        Value::Binary(b) => Json::String(base64::engine::general_purpose::STANDARD.encode(b)),
        Value::Array(_) | Value::Map(_) => Json::String(v.to_text()),
    }
}

fn key_values(kvs: &[KeyValue]) -> Vec<KeyValueDto> {
    kvs.iter()
        .map(|kv| KeyValueDto {
            key: kv.key.to_string(),
            value_type: kv.value.value_type().jaeger_name(),
            value: value_json(&kv.value),
        })
        .collect()
}

fn reference(r: &Reference) -> ReferenceDto {
    ReferenceDto {
        ref_type: r.ref_type.jaeger_name(),
        trace_id: r.trace_id.to_string(),
        span_id: r.span_id.to_string(),
    }
}

fn log(l: &Log) -> LogDto {
    LogDto {
        timestamp: micros(l.timestamp),
        fields: key_values(&l.fields),
    }
}

/// Assigns `p1`, `p2`, … to distinct processes in order of first appearance.
#[derive(Default)]
struct ProcessKeys<'a> {
    seen: Vec<&'a Arc<Process>>,
}

impl<'a> ProcessKeys<'a> {
    /// The number `n` of `p`'s key `pn` (from 1).
    fn number_for(&mut self, p: &'a Arc<Process>) -> usize {
        // Pointer equality first: spans of one batch share their process.
        let found = self
            .seen
            .iter()
            .position(|q| Arc::ptr_eq(p, q))
            .or_else(|| self.seen.iter().position(|q| ***q == **p));
        match found {
            Some(i) => i + 1,
            None => {
                self.seen.push(p);
                self.seen.len()
            }
        }
    }

    fn key_for(&mut self, p: &'a Arc<Process>) -> String {
        format!("p{}", self.number_for(p))
    }
}

/// Renders a trace. The trace ID is that of the first span (all spans of a
/// stored trace share it).
pub fn render_trace(trace: &Trace) -> TraceDto {
    let mut keys = ProcessKeys::default();
    let mut processes = BTreeMap::new();
    let spans = trace
        .spans
        .iter()
        .map(|s: &Span| {
            let key = keys.key_for(&s.process);
            processes.entry(key.clone()).or_insert_with(|| ProcessDto {
                service_name: s.process.service_name.to_string(),
                tags: key_values(&s.process.tags),
            });
            SpanDto {
                trace_id: s.trace_id.to_string(),
                span_id: s.span_id.to_string(),
                flags: s.flags,
                operation_name: s.operation_name.to_string(),
                references: s.references.iter().map(reference).collect(),
                start_time: micros(s.start_time),
                duration: micros(s.duration),
                tags: key_values(&s.tags),
                logs: s.logs.iter().map(log).collect(),
                process_id: key,
                warnings: none_if_empty(&s.warnings),
            }
        })
        .collect();
    TraceDto {
        trace_id: trace
            .trace_id()
            .map(|id| id.to_string())
            .unwrap_or_default(),
        spans,
        processes,
        warnings: none_if_empty(&trace.warnings),
    }
}

/// A serde_json formatter that writes floats as Go's `encoding/json` does
/// (`42`, `0.1`, `1e+21`, `1e-7`) and otherwise behaves as `inner` (compact
/// or pretty). serde_json writes non-finite floats as `null` without asking
/// the formatter, so callers turn those into strings first.
pub struct GoFormatter<F>(pub F);

impl GoFormatter<serde_json::ser::CompactFormatter> {
    /// Compact output.
    pub fn compact() -> Self {
        GoFormatter(serde_json::ser::CompactFormatter)
    }
}

impl GoFormatter<serde_json::ser::PrettyFormatter<'static>> {
    /// Output indented by four spaces (Jaeger's `prettyPrint`).
    pub fn pretty() -> Self {
        GoFormatter(serde_json::ser::PrettyFormatter::with_indent(b"    "))
    }
}

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for GoFormatter<F> {
    fn write_f64<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        value: f64,
    ) -> std::io::Result<()> {
        write!(w, "{}", GoFloat(value))
    }
    fn write_f32<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        value: f32,
    ) -> std::io::Result<()> {
        write!(w, "{}", GoFloat(f64::from(value)))
    }
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Serialises `value` as Go would: floats in Go's form, indented by four
/// spaces when `pretty`.
pub fn to_go_json<T: Serialize + ?Sized>(
    value: &T,
    pretty: bool,
) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::new();
    if pretty {
        value.serialize(&mut serde_json::Serializer::with_formatter(
            &mut out,
            GoFormatter::pretty(),
        ))?;
    } else {
        value.serialize(&mut serde_json::Serializer::with_formatter(
            &mut out,
            GoFormatter::compact(),
        ))?;
    }
    Ok(out)
}

/// Renders dependency links.
pub fn render_dependencies(links: &[DependencyLink]) -> Vec<DependencyDto> {
    links
        .iter()
        .map(|l| DependencyDto {
            parent: l.parent.clone(),
            child: l.child.clone(),
            call_count: l.call_count,
        })
        .collect()
}

mod write;

pub use write::write_trace;

#[cfg(test)]
mod tests;
