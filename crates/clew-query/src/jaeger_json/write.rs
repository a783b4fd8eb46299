//! Compact Jaeger JSON written straight from the model, without DTOs.
//!
//! A 1,500-trace search spent more of its CPU building [`super::TraceDto`]s
//! (a `String` per ID, key and value, a `serde_json::Value` per tag) and
//! walking them through serde than reading the traces from disk. This
//! writer produces the same bytes as `to_go_json(&render_trace(t), false)`
//! — key order, omission rules, escaping, Go's float text, processes keyed
//! `p1`, `p2`, … and sorted as strings — in one pass over the spans; the
//! tests beside it compare the two on varied traces. Pretty output still
//! goes through the DTOs (indentation is rare and not worth a second
//! writer).

use std::io::Write;

use base64::Engine;
use clew_model::{GoFloat, KeyValue, Log, Process, Reference, Span, Trace, Value};

use super::{MAX_SAFE_INTEGER, ProcessKeys, micros};

/// Appends one trace in compact UI form to `out`: the bytes
/// `to_go_json(&render_trace(trace), false)` gives.
pub fn write_trace(out: &mut Vec<u8>, trace: &Trace) {
    let mut keys = ProcessKeys::default();
    // The process of each key, in key order (index = key number - 1).
    let mut processes: Vec<&Process> = Vec::new();
    out.extend_from_slice(b"{\"traceID\":\"");
    if let Some(id) = trace.trace_id() {
        write_trace_id(out, id);
    }
    out.extend_from_slice(b"\",\"spans\":[");
    for (i, s) in trace.spans.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let key = keys.number_for(&s.process);
        if key > processes.len() {
            processes.push(&s.process);
        }
        write_span(out, s, key);
    }
    out.extend_from_slice(b"],\"processes\":{");
    // Go sorts map keys as strings: `p10` precedes `p2`.
    let mut order: Vec<(String, usize)> = (1..=processes.len())
        .map(|n| (format!("p{n}"), n - 1))
        .collect();
    order.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    write_items(out, &order, |out, (name, at)| {
        write_str(out, name);
        out.extend_from_slice(b":{\"serviceName\":");
        let p = processes[*at];
        write_str(out, &p.service_name);
        out.extend_from_slice(b",\"tags\":");
        write_key_values(out, &p.tags);
        out.push(b'}');
    });
    out.extend_from_slice(b"},\"warnings\":");
    write_warnings(out, &trace.warnings);
    out.push(b'}');
}

fn write_span(out: &mut Vec<u8>, s: &Span, process: usize) {
    out.extend_from_slice(b"{\"traceID\":\"");
    write_trace_id(out, s.trace_id);
    out.extend_from_slice(b"\",\"spanID\":\"");
    write_hex16(out, s.span_id.0);
    out.push(b'"');
    if s.flags != 0 {
        out.extend_from_slice(b",\"flags\":");
        write_u64(out, u64::from(s.flags));
    }
    out.extend_from_slice(b",\"operationName\":");
    write_str(out, &s.operation_name);
    out.extend_from_slice(b",\"references\":[");
    write_items(out, &s.references, write_reference);
    out.extend_from_slice(b"],\"startTime\":");
    write_u64(out, micros(s.start_time));
    out.extend_from_slice(b",\"duration\":");
    write_u64(out, micros(s.duration));
    out.extend_from_slice(b",\"tags\":");
    write_key_values(out, &s.tags);
    out.extend_from_slice(b",\"logs\":[");
    write_items(out, &s.logs, write_log);
    out.extend_from_slice(b"],\"processID\":\"p");
    write_u64(out, process as u64);
    out.extend_from_slice(b"\",\"warnings\":");
    write_warnings(out, &s.warnings);
    out.push(b'}');
}

fn write_reference(out: &mut Vec<u8>, r: &Reference) {
    out.extend_from_slice(b"{\"refType\":\"");
    out.extend_from_slice(r.ref_type.jaeger_name().as_bytes());
    out.extend_from_slice(b"\",\"traceID\":\"");
    write_trace_id(out, r.trace_id);
    out.extend_from_slice(b"\",\"spanID\":\"");
    write_hex16(out, r.span_id.0);
    out.extend_from_slice(b"\"}");
}

fn write_log(out: &mut Vec<u8>, l: &Log) {
    out.extend_from_slice(b"{\"timestamp\":");
    write_u64(out, micros(l.timestamp));
    out.extend_from_slice(b",\"fields\":");
    write_key_values(out, &l.fields);
    out.push(b'}');
}

/// `null` when empty, as the DTOs' `Option<Vec<String>>`.
fn write_warnings(out: &mut Vec<u8>, warnings: &[String]) {
    if warnings.is_empty() {
        out.extend_from_slice(b"null");
        return;
    }
    out.push(b'[');
    write_items(out, warnings, |out, w| write_str(out, w));
    out.push(b']');
}

/// `items` written by `write`, separated by commas.
fn write_items<T>(out: &mut Vec<u8>, items: &[T], mut write: impl FnMut(&mut Vec<u8>, &T)) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(out, item);
    }
}

fn write_key_values(out: &mut Vec<u8>, kvs: &[KeyValue]) {
    out.push(b'[');
    write_items(out, kvs, |out, kv| {
        out.extend_from_slice(b"{\"key\":");
        write_str(out, &kv.key);
        out.extend_from_slice(b",\"type\":\"");
        out.extend_from_slice(kv.value.value_type().jaeger_name().as_bytes());
        out.extend_from_slice(b"\",\"value\":");
        write_value(out, &kv.value);
        out.push(b'}');
    });
    out.push(b']');
}

/// A tag value as [`super::value_json`] renders it.
fn write_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Str(s) => write_str(out, s),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::I64(i) if (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(i) => write_i64(out, *i),
        Value::I64(i) => {
            out.push(b'"');
            write_i64(out, *i);
            out.push(b'"');
        }
        Value::F64(f) if f.is_finite() => {
            // Writing to a Vec cannot fail.
            let _ = write!(out, "{}", GoFloat(*f));
        }
        Value::F64(f) => write_str(out, &GoFloat(*f).to_string()),
        Value::Binary(b) => {
            out.push(b'"');
            let at = out.len();
            out.resize(at + base64::encoded_len(b.len(), true).unwrap_or(0), 0);
            let n = base64::engine::general_purpose::STANDARD
                .encode_slice(b, &mut out[at..])
                .unwrap_or(0);
            out.truncate(at + n);
            out.push(b'"');
        }
        Value::Array(_) | Value::Map(_) => write_str(out, &v.to_text()),
    }
}

/// A JSON string escaped as serde_json escapes it: `"`, `\` and control
/// characters only (`\b`, `\t`, `\n`, `\f`, `\r`, else `\u00xx` in lower
/// case); everything else, `/` and non-ASCII included, as it is.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut from = 0;
    // Most strings need no escape: one table lookup per byte, one copy.
    while let Some(at) = bytes[from..]
        .iter()
        .position(|&b| ESCAPE[usize::from(b)] != 0)
    {
        let i = from + at;
        let b = bytes[i];
        out.extend_from_slice(&bytes[from..i]);
        from = i + 1;
        match ESCAPE[usize::from(b)] {
            b'u' => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
            escape => {
                out.push(b'\\');
                out.push(escape);
            }
        }
    }
    out.extend_from_slice(&bytes[from..]);
    out.push(b'"');
}

/// For each byte, 0 when it is written as it is, else the letter after the
/// backslash (`u` for `\u00xx`).
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = b'u';
        b += 1;
    }
    t[0x08] = b'b';
    t[b'\t' as usize] = b't';
    t[b'\n' as usize] = b'n';
    t[0x0c] = b'f';
    t[b'\r' as usize] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// 16 lower-case hex digits.
fn write_hex16(out: &mut Vec<u8>, v: u64) {
    let mut buf = [0u8; 16];
    for (i, d) in buf.iter_mut().enumerate() {
        *d = HEX[((v >> (60 - 4 * i)) & 0xf) as usize];
    }
    out.extend_from_slice(&buf);
}

/// Jaeger's text form of a trace ID (16 digits when the high half is 0).
fn write_trace_id(out: &mut Vec<u8>, id: clew_model::TraceId) {
    if id.high != 0 {
        write_hex16(out, id.high);
    }
    write_hex16(out, id.low);
}

fn write_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[at..]);
}

fn write_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    write_u64(out, v.unsigned_abs());
}

#[cfg(test)]
mod tests;
