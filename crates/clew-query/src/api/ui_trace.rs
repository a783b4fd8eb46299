//! `GET /api/ui/traces/{traceID}`: one trace in the compact, columnar JSON
//! the web UI reads (`clew-ui-trace/2`), beside Jaeger's `/api/traces/{id}`.
//!
//! Why a second shape: Jaeger's JSON repeats every key name per span and
//! embeds processes by key; a million-span trace is over 600 MB of it and
//! the browser spends seconds parsing objects it throws away. Here every
//! string (service, operation, tag keys and string values) is stored once
//! in `strings` and referred to by index, each span attribute is one array
//! (`start[i]`, `duration[i]`, …), the parent is already resolved to a span
//! index, and times are microseconds relative to `startTime`. The document
//! is written straight into a byte buffer, without an intermediate tree.
//!
//! ```text
//! { "format": "clew-ui-trace/2", "traceID": hex, "startTime": µs,
//!   "warnings": [..], "strings": [..],
//!   "processes": [{"service": s, "tags": [k, type, v, …]}],
//!   "spanID": "<16 hex per span, concatenated>",
//!   "parent": [i | -1], "start": [µs], "duration": [µs], "process": [p],
//!   "operation": [s], "flags": [bits],
//!   "tagStart": [n + 1 offsets], "tagData": [k, type, v, …],
//!   "logStart": [n + 1 offsets into the logs], "logTime": [µs],
//!   "logFieldStart": [logs + 1 offsets], "logData": [k, type, v, …],
//!   "refs": {"i": [[refType, traceID, spanID], …]},
//!   "spanWarnings": {"i": [..]} }
//! ```
//! Span `i`'s tags are `tagData[tagStart[i] .. tagStart[i+1]]`; its logs are
//! `logStart[i] .. logStart[i+1]`, log `j`'s fields
//! `logData[logFieldStart[j] .. logFieldStart[j+1]]`.
//!
//! Tag `type`: 0 string (`v` = string index), 1 bool (0/1), 2 int64
//! (number), 3 float64, 4 binary (hex text, string index), 5 other (its
//! text form, string index; also int64 beyond ±2^53). `flags` bits: 1 error,
//! 2 sampled, kind in bits 2..4 (0 unspecified, 1 internal, 2 server,
//! 3 client, 4 producer, 5 consumer). `refType`: 0 CHILD_OF, 1 FOLLOWS_FROM.
//! `refs` lists every reference of a span except the one that is its parent.

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clew_model::{KeyValue, RefType, SpanKind, Trace, Value};

use crate::api::store_error;
use crate::api::traces::TRACE_NOT_FOUND;
use crate::envelope::error_response;
use crate::params::{Params, parse_trace_id};
use crate::{QueryState, fetch};

/// The format name written into every document.
pub const FORMAT: &str = "clew-ui-trace/2";

/// Strings interned by index.
#[derive(Default)]
struct Strings<'a> {
    index: HashMap<&'a str, u32>,
    owned: HashMap<String, u32>,
    list: Vec<&'a str>,
    owned_list: Vec<(u32, String)>,
    next: u32,
}

impl<'a> Strings<'a> {
    fn get(&mut self, s: &'a str) -> u32 {
        if let Some(i) = self.index.get(s) {
            return *i;
        }
        if let Some(i) = self.owned.get(s) {
            return *i;
        }
        let i = self.next;
        self.next += 1;
        self.index.insert(s, i);
        self.list.push(s);
        i
    }

    fn get_owned(&mut self, s: String) -> u32 {
        if let Some(i) = self.index.get(s.as_str()) {
            return *i;
        }
        if let Some(i) = self.owned.get(&s) {
            return *i;
        }
        let i = self.next;
        self.next += 1;
        self.owned.insert(s.clone(), i);
        self.owned_list.push((i, s));
        i
    }

    /// Every string in index order.
    fn write(&self, out: &mut String) {
        let mut all: Vec<(u32, &str)> = Vec::with_capacity(self.next as usize);
        all.extend(self.index.iter().map(|(s, i)| (*i, *s)));
        all.extend(self.owned_list.iter().map(|(i, s)| (*i, s.as_str())));
        all.sort_unstable_by_key(|(i, _)| *i);
        out.push('[');
        for (n, (_, s)) in all.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            json_str(out, s);
        }
        out.push(']');
    }
}

fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Largest integer a JS number holds exactly.
const MAX_SAFE: u64 = (1 << 53) - 1;

fn write_tags<'a>(out: &mut String, strings: &mut Strings<'a>, tags: &'a [KeyValue]) {
    out.push('[');
    for (n, kv) in tags.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        let k = strings.get(&kv.key);
        let _ = match &kv.value {
            Value::Str(s) => write!(out, "{k},0,{}", strings.get(s)),
            Value::Bool(b) => write!(out, "{k},1,{}", u8::from(*b)),
            Value::I64(v) if v.unsigned_abs() <= MAX_SAFE => write!(out, "{k},2,{v}"),
            Value::F64(v) if v.is_finite() => write!(out, "{k},3,{v:?}"),
            Value::Binary(_) => write!(out, "{k},4,{}", strings.get_owned(kv.value.to_text())),
            other => write!(out, "{k},5,{}", strings.get_owned(other.to_text())),
        };
    }
    out.push(']');
}

/// Appends `k,type,v,` per tag (trailing comma); returns how many numbers.
fn write_flat_tags<'a>(out: &mut String, strings: &mut Strings<'a>, tags: &'a [KeyValue]) -> usize {
    for kv in tags {
        let k = strings.get(&kv.key);
        let _ = match &kv.value {
            Value::Str(s) => write!(out, "{k},0,{},", strings.get(s)),
            Value::Bool(b) => write!(out, "{k},1,{},", u8::from(*b)),
            Value::I64(v) if v.unsigned_abs() <= MAX_SAFE => write!(out, "{k},2,{v},"),
            Value::F64(v) if v.is_finite() => write!(out, "{k},3,{v:?},"),
            Value::Binary(_) => write!(out, "{k},4,{},", strings.get_owned(kv.value.to_text())),
            other => write!(out, "{k},5,{},", strings.get_owned(other.to_text())),
        };
    }
    tags.len() * 3
}

fn kind_code(kind: SpanKind) -> u32 {
    match kind {
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    }
}

fn write_array<T: std::fmt::Display>(out: &mut String, name: &str, items: impl Iterator<Item = T>) {
    let _ = write!(out, ",\"{name}\":[");
    for (n, v) in items.enumerate() {
        if n > 0 {
            out.push(',');
        }
        let _ = write!(out, "{v}");
    }
    out.push(']');
}

/// Renders a trace (already adjusted) in the compact format.
pub fn render(trace: &Trace) -> String {
    let spans = &trace.spans;
    let mut out = String::with_capacity(64 + spans.len() * 120);
    let mut strings = Strings::default();
    strings.get("");
    let start = trace.start_time();
    let trace_id = trace.trace_id().map(|t| t.to_string()).unwrap_or_default();
    let by_id: HashMap<u64, usize> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| (s.span_id.0, i))
        .rev()
        .collect();
    let tid = trace.trace_id();
    // The parent: the first same-trace reference whose span is present.
    let parents: Vec<(i64, Option<usize>)> = spans
        .iter()
        .map(|s| {
            s.references
                .iter()
                .enumerate()
                .filter(|(_, r)| Some(r.trace_id) == tid)
                .find_map(|(n, r)| {
                    by_id
                        .get(&r.span_id.0)
                        .filter(|&&p| spans[p].span_id != s.span_id)
                        .map(|&p| (i64::try_from(p).unwrap_or(-1), Some(n)))
                })
                .unwrap_or((-1, None))
        })
        .collect();

    let _ = write!(out, "{{\"format\":\"{FORMAT}\",\"traceID\":");
    json_str(&mut out, &trace_id);
    let _ = write!(
        out,
        ",\"startTime\":{},\"spanCount\":{}",
        start / 1000,
        spans.len()
    );
    out.push_str(",\"warnings\":[");
    for (n, w) in trace.warnings.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        json_str(&mut out, w);
    }
    out.push(']');

    // Processes, deduplicated by identity first, then by value.
    let mut process_of: HashMap<*const clew_model::Process, usize> = HashMap::new();
    let mut processes: Vec<&clew_model::Process> = Vec::new();
    let mut span_process = Vec::with_capacity(spans.len());
    for s in spans {
        let ptr = std::sync::Arc::as_ptr(&s.process);
        let i = *process_of.entry(ptr).or_insert_with(|| {
            if let Some(i) = processes.iter().position(|p| **p == *s.process) {
                i
            } else {
                processes.push(&s.process);
                processes.len() - 1
            }
        });
        span_process.push(i);
    }
    out.push_str(",\"processes\":[");
    for (n, p) in processes.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"service\":{},\"tags\":",
            strings.get(&p.service_name)
        );
        write_tags(&mut out, &mut strings, &p.tags);
        out.push('}');
    }
    out.push(']');

    out.push_str(",\"spanID\":\"");
    for s in spans {
        let _ = write!(out, "{:016x}", s.span_id.0);
    }
    out.push('"');
    write_array(&mut out, "parent", parents.iter().map(|p| p.0));
    write_array(
        &mut out,
        "start",
        spans
            .iter()
            .map(|s| s.start_time.saturating_sub(start) / 1000),
    );
    write_array(
        &mut out,
        "duration",
        spans.iter().map(|s| s.duration / 1000),
    );
    write_array(&mut out, "process", span_process.iter());
    let ops: Vec<u32> = spans
        .iter()
        .map(|s| strings.get(&s.operation_name))
        .collect();
    write_array(&mut out, "operation", ops.iter());
    write_array(
        &mut out,
        "flags",
        spans
            .iter()
            .map(|s| u32::from(s.is_error()) | ((s.flags & 1) << 1) | (kind_code(s.kind()) << 2)),
    );
    // Tags and logs as flat columns: one array of [key, type, value]
    // triples for all spans, with each span's start offset (in numbers), so
    // the browser parses a few big arrays instead of a million small ones.
    let mut data = String::with_capacity(spans.len() * 32);
    let mut starts = String::with_capacity(spans.len() * 6);
    let mut n = 0usize;
    for s in spans {
        let _ = write!(starts, "{n},");
        n += write_flat_tags(&mut data, &mut strings, &s.tags);
    }
    let _ = write!(starts, "{n}");
    let _ = write!(
        out,
        ",\"tagStart\":[{starts}],\"tagData\":[{}]",
        data.trim_end_matches(',')
    );
    data.clear();
    starts.clear();
    let mut log_start = String::with_capacity(spans.len() * 3);
    let mut log_time = String::new();
    let (mut logs, mut fields) = (0usize, 0usize);
    for s in spans {
        let _ = write!(log_start, "{logs},");
        for log in &s.logs {
            let _ = write!(starts, "{fields},");
            let _ = write!(log_time, "{},", log.timestamp.saturating_sub(start) / 1000);
            fields += write_flat_tags(&mut data, &mut strings, &log.fields);
            logs += 1;
        }
    }
    let _ = write!(log_start, "{logs}");
    let _ = write!(starts, "{fields}");
    let _ = write!(
        out,
        ",\"logStart\":[{log_start}],\"logTime\":[{}],\"logFieldStart\":[{starts}],\"logData\":[{}]",
        log_time.trim_end_matches(','),
        data.trim_end_matches(',')
    );
    out.push_str(",\"refs\":{");
    let mut first = true;
    for (i, s) in spans.iter().enumerate() {
        let skip = parents[i].1;
        let extra: Vec<_> = s
            .references
            .iter()
            .enumerate()
            .filter(|(n, _)| Some(*n) != skip)
            .collect();
        if extra.is_empty() {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        let _ = write!(out, "\"{i}\":[");
        for (m, (_, r)) in extra.iter().enumerate() {
            if m > 0 {
                out.push(',');
            }
            let t = u8::from(r.ref_type == RefType::FollowsFrom);
            let _ = write!(out, "[{t},\"{}\",\"{:016x}\"]", r.trace_id, r.span_id.0);
        }
        out.push(']');
    }
    out.push_str("},\"spanWarnings\":{");
    let mut first = true;
    for (i, s) in spans
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.warnings.is_empty())
    {
        if !first {
            out.push(',');
        }
        first = false;
        let _ = write!(out, "\"{i}\":[");
        for (m, w) in s.warnings.iter().enumerate() {
            if m > 0 {
                out.push(',');
            }
            json_str(&mut out, w);
        }
        out.push(']');
    }
    out.push_str("},\"strings\":");
    strings.write(&mut out);
    out.push('}');
    out
}

/// The handler: adjusted like `/api/traces/{id}` unless `raw=true`.
pub async fn get_ui_trace(
    State(state): State<QueryState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let p = Params::parse(q.as_deref());
    let id = match parse_trace_id(&id) {
        Ok(id) => id,
        Err(e) => return error_response(StatusCode::BAD_REQUEST, &e),
    };
    match fetch::trace(&*state.reader, id, p.flag("raw")).await {
        Ok(Some(trace)) => {
            let body = tokio::task::spawn_blocking(move || render(&trace)).await;
            match body {
                Ok(body) => (
                    [(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    )],
                    body,
                )
                    .into_response(),
                Err(_) => error_response(StatusCode::INTERNAL_SERVER_ERROR, "render failed"),
            }
        }
        Ok(None) => error_response(StatusCode::NOT_FOUND, TRACE_NOT_FOUND),
        Err(e) => store_error(&e),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use clew_model::{Log, Process, Reference, Span, SpanId, TraceId};

    use super::*;

    #[test]
    fn renders_columns_strings_parents_and_refs() {
        let t = TraceId::new(0, 0xab);
        let p = Arc::new(Process {
            service_name: "svc".into(),
            tags: vec![KeyValue::string("host", "h1")],
        });
        let mut root = Span::new(t, SpanId(1), "root", p.clone());
        root.start_time = 1_000_000;
        root.duration = 5_000_000;
        let mut child = Span::new(t, SpanId(2), "child \"q\"", p);
        child.start_time = 2_000_000;
        child.duration = 1_000_000;
        child.references.push(Reference::child_of(t, SpanId(1)));
        child.references.push(Reference::follows_from(t, SpanId(9)));
        child.tags.push(KeyValue::bool("error", true));
        child.tags.push(KeyValue::i64("n", 7));
        child.logs.push(Log {
            timestamp: 2_500_000,
            fields: vec![KeyValue::string("event", "svc")],
        });
        let trace = Trace {
            spans: vec![root, child],
            warnings: vec![],
        };
        let v: serde_json::Value = serde_json::from_str(&render(&trace)).expect("valid JSON");
        assert_eq!(v["format"], FORMAT);
        assert_eq!(v["traceID"], "00000000000000ab");
        assert_eq!(v["startTime"], 1000);
        assert_eq!(v["spanID"], "00000000000000010000000000000002");
        assert_eq!(v["parent"], serde_json::json!([-1, 0]));
        assert_eq!(v["start"], serde_json::json!([0, 1000]));
        assert_eq!(v["duration"], serde_json::json!([5000, 1000]));
        assert_eq!(v["flags"][1].as_u64().map(|f| f & 1), Some(1));
        let strings = v["strings"].as_array().expect("strings");
        let s = |i: &serde_json::Value| strings[i.as_u64().expect("index") as usize].clone();
        assert_eq!(s(&v["operation"][1]), "child \"q\"");
        assert_eq!(s(&v["processes"][0]["service"]), "svc");
        // Span 1's tags start after span 0's (none): error=true, n=7.
        assert_eq!(v["tagStart"], serde_json::json!([0, 0, 6]));
        assert_eq!(v["tagData"][1], 1);
        assert_eq!(v["tagData"][4], 2);
        assert_eq!(v["tagData"][5], 7);
        assert_eq!(v["logStart"], serde_json::json!([0, 0, 1]));
        assert_eq!(v["logTime"], serde_json::json!([1500]));
        assert_eq!(v["logFieldStart"], serde_json::json!([0, 3]));
        assert_eq!(s(&v["logData"][2]), "svc");
        assert_eq!(v["refs"]["1"][0][0], 1);
        assert_eq!(v["refs"]["1"][0][2], "0000000000000009");
    }
}
