//! `GET /api/ui/traces/{traceID}`: one trace in the compact, binary,
//! columnar form the web UI reads (`clew-ui-trace/3`), beside Jaeger's
//! `/api/traces/{id}`.
//!
//! Why a second shape: Jaeger's JSON repeats every key name per span and
//! embeds processes by key; a million-span trace is over 600 MB of it and
//! the browser spends seconds parsing objects it throws away. Here every
//! span attribute is one little-endian array the browser views as a typed
//! array without parsing (`start[i]`, `duration[i]`, …), every string is
//! stored once and referred to by index, the parent is already resolved to
//! a span index, and times are microseconds relative to `startTime`.
//!
//! The columns the timeline needs come first and the tags, logs and most
//! strings last, so the UI draws the first rows while the rest of the body
//! is still arriving. For the same reason the string table is split: the
//! header holds the strings the tree needs (service and operation names,
//! process tags), the `strings` column at the end holds the others
//! (indices continue after the header's).
//!
//! ```text
//! "CLEWUIT3"          8 bytes
//! header length       u32, bytes; the header is padded with spaces so the
//!                     first column starts at a multiple of 8
//! header              UTF-8 JSON:
//!   { "format": "clew-ui-trace/3", "traceID": hex, "startTime": µs,
//!     "spanCount": n, "warnings": [..], "strings": [..],
//!     "processes": [{"service": s, "tags": [k, type, v, …]}],
//!     "refs": {"i": [[refType, traceID, spanID], …]},
//!     "spanWarnings": {"i": [..]},
//!     "columns": [[name, type, count], …] }
//! columns             in the header's order, each at a multiple of 8 bytes
//!                     from the start of the body, zero-padded:
//!   parent i32[n] (-1: none)  start f64[n]  duration f64[n]
//!   process u32[n]  operation u32[n]  flags u8[n]
//!   spanID u32[2n] (high, low word per span)
//!   tagStart u32[n+1]  tagKey u32[T]  tagType u8[T]  tagValue f64[T]
//!   logStart u32[n+1]  logTime f64[L]  logFieldStart u32[L+1]
//!   logKey u32[F]  logType u8[F]  logValue f64[F]
//!   strings json[bytes] (a JSON array: string indices from the header's count on)
//! ```
//! Span `i`'s tags are `tagStart[i] .. tagStart[i+1]`; its logs are
//! `logStart[i] .. logStart[i+1]`, log `j`'s fields
//! `logFieldStart[j] .. logFieldStart[j+1]`.
//!
//! Tag type: 0 string (value = string index), 1 bool (0/1), 2 int64, 3
//! float64, 4 binary (hex text, string index), 5 other (its text form,
//! string index; also int64 beyond ±2^53). `flags` bits: 1 error, 2
//! sampled, kind in bits 2..4 (0 unspecified, 1 internal, 2 server,
//! 3 client, 4 producer, 5 consumer). `refType`: 0 CHILD_OF, 1
//! FOLLOWS_FROM. `refs` lists every reference of a span except the one
//! that is its parent.

use std::borrow::Cow;
use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clew_model::{KeyValue, Process, RefType, SpanKind, Trace, Value};
use serde_json::{Map, Value as Json, json};

use crate::api::store_error;
use crate::api::traces::TRACE_NOT_FOUND;
use crate::envelope::error_response;
use crate::params::{Params, parse_trace_id};
use crate::{QueryState, blocking, fetch};

/// The format name written into every header.
pub const FORMAT: &str = "clew-ui-trace/3";
/// The first bytes of every body.
pub const MAGIC: &[u8; 8] = b"CLEWUIT3";
/// The body's media type.
pub const CONTENT_TYPE: &str = "application/x-clew-ui-trace";

/// Strings interned by index, borrowed from the trace where possible.
#[derive(Default)]
struct Strings<'a> {
    index: HashMap<Cow<'a, str>, u32>,
    list: Vec<Cow<'a, str>>,
}

impl<'a> Strings<'a> {
    fn get(&mut self, s: Cow<'a, str>) -> u32 {
        if let Some(i) = self.index.get(s.as_ref()) {
            return *i;
        }
        let i = u32::try_from(self.list.len()).unwrap_or(u32::MAX);
        self.list.push(s.clone());
        self.index.insert(s, i);
        i
    }

    fn str(&mut self, s: &'a str) -> u32 {
        self.get(Cow::Borrowed(s))
    }
}

/// Largest integer a JS number holds exactly.
const MAX_SAFE: u64 = (1 << 53) - 1;

/// One tag as (key, type, value) in the format's encoding.
fn tag<'a>(strings: &mut Strings<'a>, kv: &'a KeyValue) -> (u32, u8, f64) {
    let k = strings.str(&kv.key);
    match &kv.value {
        Value::Str(s) => (k, 0, f64::from(strings.str(s))),
        Value::Bool(b) => (k, 1, f64::from(u8::from(*b))),
        // In range, so the conversion is exact.
        #[allow(clippy::cast_precision_loss)]
        Value::I64(v) if v.unsigned_abs() <= MAX_SAFE => (k, 2, *v as f64),
        Value::F64(v) if v.is_finite() => (k, 3, *v),
        Value::Binary(_) => (k, 4, f64::from(strings.get(Cow::Owned(kv.value.to_text())))),
        other => (k, 5, f64::from(strings.get(Cow::Owned(other.to_text())))),
    }
}

/// Tags as the header's flat `[k, type, v, …]` list.
fn header_tags<'a>(strings: &mut Strings<'a>, tags: &'a [KeyValue]) -> Json {
    let mut out = Vec::with_capacity(tags.len() * 3);
    for kv in tags {
        let (k, t, v) = tag(strings, kv);
        out.extend([json!(k), json!(t), json!(v)]);
    }
    Json::Array(out)
}

/// Little-endian columns, each aligned to 8 bytes, and their directory.
#[derive(Default)]
struct Columns {
    bytes: Vec<u8>,
    directory: Vec<Json>,
}

impl Columns {
    fn push(&mut self, name: &str, ty: &str, count: usize, write: impl FnOnce(&mut Vec<u8>)) {
        write(&mut self.bytes);
        self.bytes.resize(self.bytes.len().next_multiple_of(8), 0);
        self.directory.push(json!([name, ty, count]));
    }

    fn u32s(&mut self, name: &str, items: impl ExactSizeIterator<Item = u32>) {
        let n = items.len();
        self.push(name, "u32", n, |b| {
            items.for_each(|v| b.extend_from_slice(&v.to_le_bytes()))
        });
    }

    fn f64s(&mut self, name: &str, items: impl ExactSizeIterator<Item = f64>) {
        let n = items.len();
        self.push(name, "f64", n, |b| {
            items.for_each(|v| b.extend_from_slice(&v.to_le_bytes()))
        });
    }

    fn u8s(&mut self, name: &str, items: impl ExactSizeIterator<Item = u8>) {
        let n = items.len();
        self.push(name, "u8", n, |b| b.extend(items));
    }

    /// Tags (or log fields) as three columns `{prefix}Key`, `Type`, `Value`.
    fn tags(&mut self, prefix: &str, tags: &[(u32, u8, f64)]) {
        self.u32s(&format!("{prefix}Key"), tags.iter().map(|t| t.0));
        self.u8s(&format!("{prefix}Type"), tags.iter().map(|t| t.1));
        self.f64s(&format!("{prefix}Value"), tags.iter().map(|t| t.2));
    }
}

fn kind_code(kind: SpanKind) -> u8 {
    match kind {
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    }
}

/// A count or offset as the format's u32 (traces are bounded far below).
fn u32_of(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// Microseconds between two nanosecond times, as the format's f64.
#[allow(clippy::cast_precision_loss)] // µs since the trace start: far below 2^53
fn micros(ns: u64, since: u64) -> f64 {
    (ns.saturating_sub(since) / 1000) as f64
}

/// Each span's parent index (-1: none) and which of its references that is:
/// the first same-trace reference whose span is present.
fn parents(trace: &Trace) -> Vec<(i32, Option<usize>)> {
    let spans = &trace.spans;
    let by_id: HashMap<u64, usize> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| (s.span_id.0, i))
        .rev()
        .collect();
    let tid = trace.trace_id();
    spans
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
                        .map(|&p| (i32::try_from(p).unwrap_or(-1), Some(n)))
                })
                .unwrap_or((-1, None))
        })
        .collect()
}

/// Renders a trace (already adjusted) in the compact binary format.
pub fn render(trace: &Trace) -> Vec<u8> {
    let spans = &trace.spans;
    let n = spans.len();
    let start = trace.start_time();
    let parents = parents(trace);
    let mut strings = Strings::default();
    strings.str("");

    // Processes, deduplicated by identity first, then by value.
    let mut process_of: HashMap<*const Process, usize> = HashMap::new();
    let mut processes: Vec<&Process> = Vec::new();
    let mut span_process = Vec::with_capacity(n);
    for s in spans {
        let ptr = std::sync::Arc::as_ptr(&s.process);
        let i = *process_of.entry(ptr).or_insert_with(|| {
            processes
                .iter()
                .position(|p| **p == *s.process)
                .unwrap_or_else(|| {
                    processes.push(&s.process);
                    processes.len() - 1
                })
        });
        span_process.push(u32_of(i));
    }
    // The header's strings: what the tree and the timeline need.
    let header_processes: Vec<Json> = processes
        .iter()
        .map(|p| json!({"service": strings.str(&p.service_name), "tags": header_tags(&mut strings, &p.tags)}))
        .collect();
    let operations: Vec<u32> = spans
        .iter()
        .map(|s| strings.str(&s.operation_name))
        .collect();
    let header_strings = strings.list.len();

    let mut cols = Columns::default();
    cols.push("parent", "i32", n, |b| {
        parents
            .iter()
            .for_each(|p| b.extend_from_slice(&p.0.to_le_bytes()));
    });
    cols.f64s("start", spans.iter().map(|s| micros(s.start_time, start)));
    cols.f64s("duration", spans.iter().map(|s| micros(s.duration, 0)));
    cols.u32s("process", span_process.into_iter());
    cols.u32s("operation", operations.into_iter());
    cols.u8s(
        "flags",
        spans.iter().map(|s| {
            u8::from(s.is_error()) | (u8::from(s.flags & 1 == 1) << 1) | (kind_code(s.kind()) << 2)
        }),
    );
    cols.push("spanID", "u32", 2 * n, |b| {
        for s in spans {
            #[allow(clippy::cast_possible_truncation)] // the two halves of the ID
            let (hi, lo) = ((s.span_id.0 >> 32) as u32, s.span_id.0 as u32);
            b.extend_from_slice(&hi.to_le_bytes());
            b.extend_from_slice(&lo.to_le_bytes());
        }
    });

    let mut tag_start = Vec::with_capacity(n + 1);
    let mut tags = Vec::new();
    for s in spans {
        tag_start.push(u32_of(tags.len()));
        tags.extend(s.tags.iter().map(|kv| tag(&mut strings, kv)));
    }
    tag_start.push(u32_of(tags.len()));
    cols.u32s("tagStart", tag_start.into_iter());
    cols.tags("tag", &tags);

    let (mut log_start, mut log_time, mut field_start) =
        (Vec::with_capacity(n + 1), Vec::new(), vec![0]);
    let mut fields = Vec::new();
    for s in spans {
        log_start.push(u32_of(log_time.len()));
        for log in &s.logs {
            log_time.push(micros(log.timestamp, start));
            fields.extend(log.fields.iter().map(|kv| tag(&mut strings, kv)));
            field_start.push(u32_of(fields.len()));
        }
    }
    log_start.push(u32_of(log_time.len()));
    cols.u32s("logStart", log_start.into_iter());
    cols.f64s("logTime", log_time.into_iter());
    cols.u32s("logFieldStart", field_start.into_iter());
    cols.tags("log", &fields);
    let rest =
        serde_json::to_vec(&strings.list[header_strings..]).unwrap_or_else(|_| b"[]".to_vec());
    let rest_len = rest.len();
    cols.push("strings", "json", rest_len, |b| b.extend_from_slice(&rest));

    let header = json!({
        "format": FORMAT,
        "traceID": trace.trace_id().map(|t| t.to_string()).unwrap_or_default(),
        "startTime": start / 1000,
        "spanCount": n,
        "warnings": trace.warnings,
        "strings": &strings.list[..header_strings],
        "processes": header_processes,
        "refs": refs(trace, &parents),
        "spanWarnings": spans
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.warnings.is_empty())
            .map(|(i, s)| (i.to_string(), json!(s.warnings)))
            .collect::<Map<_, _>>(),
        "columns": cols.directory,
    });
    let mut head = serde_json::to_vec(&header).unwrap_or_default();
    head.resize(
        (MAGIC.len() + 4 + head.len()).next_multiple_of(8) - MAGIC.len() - 4,
        b' ',
    );
    let mut out = Vec::with_capacity(12 + head.len() + cols.bytes.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&u32_of(head.len()).to_le_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(&cols.bytes);
    out
}

/// Every reference of a span except its parent's, keyed by span index.
fn refs(trace: &Trace, parents: &[(i32, Option<usize>)]) -> Map<String, Json> {
    let mut out = Map::new();
    for (i, s) in trace.spans.iter().enumerate() {
        let skip = parents[i].1;
        let extra: Vec<Json> = s
            .references
            .iter()
            .enumerate()
            .filter(|(n, _)| Some(*n) != skip)
            .map(|(_, r)| {
                let t = u8::from(r.ref_type == RefType::FollowsFrom);
                json!([t, r.trace_id.to_string(), format!("{:016x}", r.span_id.0)])
            })
            .collect();
        if !extra.is_empty() {
            out.insert(i.to_string(), Json::Array(extra));
        }
    }
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
            blocking::respond(move || {
                let body = render(&trace);
                let content_type = [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))];
                (content_type, body).into_response()
            })
            .await
        }
        Ok(None) => error_response(StatusCode::NOT_FOUND, TRACE_NOT_FOUND),
        Err(e) => store_error(&e),
    }
}

#[cfg(test)]
#[path = "ui_trace_tests.rs"]
mod tests;
