//! Hostile and normal request bodies, built by hand where the point is to
//! lie (list sizes, nesting, lengths) and with Clew's own encoders where a
//! valid payload is wanted.

use std::io::Write;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use clew_codec_jaeger::Protocol;
use clew_model::{KeyValue, Process, Span, Str};
use clew_tracegen::TraceShape;
use clew_tracegen::shape::TraceGenerator;
use flate2::Compression;
use flate2::write::GzEncoder;

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// `n` valid spans of Jaeger tracegen's shape (one trace per 10 spans).
pub fn valid_spans(n: usize, seed: u64) -> (Arc<Process>, Vec<Span>) {
    let mut g = TraceGenerator::new(TraceShape::default(), seed, now_ns());
    let mut spans = Vec::with_capacity(n);
    let mut high = seed;
    while spans.len() < n {
        high += 1;
        spans.extend(g.trace(0, high));
    }
    spans.truncate(n);
    (g.process(0), spans)
}

/// A valid Jaeger thrift binary `Batch` (collector `POST /api/traces`).
pub fn jaeger_batch(spans: usize, seed: u64) -> Vec<u8> {
    let (process, spans) = valid_spans(spans, seed);
    let mut out = Vec::new();
    clew_codec_jaeger::encode_batch(&process, &spans, Protocol::Binary, &mut out);
    out
}

/// A Jaeger batch of one span whose operation name and one tag value are
/// `size` bytes each (the "50 MB string" case, capped by the caller).
pub fn jaeger_batch_big_strings(size: usize, protocol: Protocol) -> Vec<u8> {
    let (process, mut spans) = valid_spans(1, 7);
    let big: Str = Str::from("x".repeat(size));
    spans[0].operation_name = big.clone();
    spans[0].tags.push(KeyValue::string("big", big));
    let mut out = Vec::new();
    clew_codec_jaeger::encode_batch(&process, &spans, protocol, &mut out);
    out
}

/// A valid agent `emitBatch` datagram in `protocol`.
pub fn emit_batch(spans: usize, seed: u64, protocol: Protocol) -> Vec<u8> {
    let (process, spans) = valid_spans(spans, seed);
    let mut out = Vec::new();
    clew_codec_jaeger::encode_emit_batch_message(&process, &spans, 1, protocol, &mut out);
    out
}

// ---- thrift binary by hand ------------------------------------------------

/// Jaeger `Batch` (binary): a process, then `list<Span>` declaring
/// `declared` elements, followed by `present` empty structs (one stop byte
/// each).
pub fn jaeger_batch_empty_structs(declared: u32, present: usize) -> Vec<u8> {
    let mut b = Vec::with_capacity(present + 64);
    b.extend_from_slice(&[0x0c, 0x00, 0x01]); // field 1: Process
    b.extend_from_slice(&[0x0b, 0x00, 0x01]); // serviceName
    b.extend_from_slice(&7u32.to_be_bytes());
    b.extend_from_slice(b"torture");
    b.push(0x00); // end Process
    b.extend_from_slice(&[0x0f, 0x00, 0x02, 0x0c]); // field 2: list<struct>
    b.extend_from_slice(&declared.to_be_bytes());
    b.resize(b.len() + present, 0x00);
    b.push(0x00); // end Batch
    b
}

/// zipkincore `list<Span>` (binary) declaring `declared` elements, then
/// `present` empty structs.
pub fn zipkin_thrift_empty_structs(declared: u32, present: usize) -> Vec<u8> {
    let mut b = Vec::with_capacity(present + 8);
    b.push(0x0c);
    b.extend_from_slice(&declared.to_be_bytes());
    b.resize(b.len() + present, 0x00);
    b
}

/// A compact `emitBatch` datagram whose span list declares `declared`
/// elements and holds `present` empty structs (UDP amplification).
pub fn emit_batch_compact_empty_structs(declared: u32, present: usize) -> Vec<u8> {
    let mut b = vec![0x82, 0x81, 0x01, 0x09];
    b.extend_from_slice(b"emitBatch");
    b.push(0x1c); // args field 1: struct Batch
    b.push(0x1c); // Batch field 1: struct Process
    b.push(0x18); // Process field 1: string
    b.push(7);
    b.extend_from_slice(b"torture");
    b.push(0x00); // end Process
    b.push(0x19); // Batch field 2: list
    b.push(0xfc); // size in varint follows, element type struct
    varint(&mut b, u64::from(declared));
    b.resize(b.len() + present, 0x00);
    b
}

/// An `emitZipkinBatch` datagram (5775) with a lying list of empty structs.
pub fn emit_zipkin_batch_empty_structs(declared: u32, present: usize) -> Vec<u8> {
    let mut b = vec![0x82, 0x81, 0x01, 0x0f];
    b.extend_from_slice(b"emitZipkinBatch");
    b.push(0x19);
    b.push(0xfc);
    varint(&mut b, u64::from(declared));
    b.resize(b.len() + present, 0x00);
    b
}

// ---- protobuf by hand -------------------------------------------------------

/// Appends a base-128 varint.
pub fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A length-delimited field.
pub fn pb_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    varint(out, u64::from(field << 3 | 2));
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// The header of a length-delimited field whose `len` bytes follow.
pub fn pb_header(out: &mut Vec<u8>, field: u32, len: usize) {
    varint(out, u64::from(field << 3 | 2));
    varint(out, len as u64);
}

/// OTLP `ExportTraceServiceRequest` prefix for `inner_len` bytes of
/// `ScopeSpans.spans` entries; the caller appends them.
pub fn otlp_prefix(spans_len: usize) -> Vec<u8> {
    let mut resource = Vec::new();
    let mut kv = Vec::new();
    pb_bytes(&mut kv, 1, b"service.name");
    let mut any = Vec::new();
    pb_bytes(&mut any, 1, b"torture");
    pb_bytes(&mut kv, 2, &any);
    pb_bytes(&mut resource, 1, &kv);
    let mut rs_head = Vec::new();
    pb_bytes(&mut rs_head, 1, &resource);
    let scope_len = spans_len; // ScopeSpans holds only the span entries
    let mut rs = rs_head;
    pb_header(&mut rs, 2, scope_len);
    let rs_len = rs.len() + spans_len;
    let mut req = Vec::new();
    pb_header(&mut req, 1, rs_len);
    req.extend_from_slice(&rs);
    req
}

/// OTLP protobuf request holding `n` empty `Span` messages (2 bytes each).
pub fn otlp_empty_spans(n: usize) -> Vec<u8> {
    let mut b = otlp_prefix(2 * n);
    b.reserve(2 * n);
    for _ in 0..n {
        b.extend_from_slice(&[0x12, 0x00]); // ScopeSpans.spans, empty
    }
    b
}

/// One OTLP span with valid IDs; `name` and one attribute value as given,
/// and an array attribute of `array_len` empty values.
pub fn otlp_span(name: &[u8], attr_value: &[u8], array_len: usize) -> Vec<u8> {
    let mut span = Vec::new();
    pb_bytes(&mut span, 1, &[0x11; 16]);
    pb_bytes(&mut span, 2, &[0x22; 8]);
    pb_bytes(&mut span, 5, name);
    span.push(7 << 3 | 1);
    span.extend_from_slice(&now_ns().to_le_bytes());
    span.push(8 << 3 | 1);
    span.extend_from_slice(&(now_ns() + 1000).to_le_bytes());
    let mut kv = Vec::new();
    pb_bytes(&mut kv, 1, b"big");
    let mut any = Vec::new();
    pb_bytes(&mut any, 1, attr_value);
    pb_bytes(&mut kv, 2, &any);
    pb_bytes(&mut span, 9, &kv);
    if array_len > 0 {
        let mut arr = Vec::with_capacity(array_len * 2);
        for _ in 0..array_len {
            arr.extend_from_slice(&[0x0a, 0x00]); // ArrayValue.values: empty AnyValue
        }
        let mut any = Vec::new();
        pb_bytes(&mut any, 5, &arr);
        let mut kv = Vec::new();
        pb_bytes(&mut kv, 1, b"array");
        pb_bytes(&mut kv, 2, &any);
        pb_bytes(&mut span, 9, &kv);
    }
    let mut entry = Vec::new();
    pb_bytes(&mut entry, 2, &span);
    let mut b = otlp_prefix(entry.len());
    b.extend_from_slice(&entry);
    b
}

/// Jaeger api_v2 `PostSpansRequest` with `n` empty spans.
pub fn jaeger_proto_empty_spans(n: usize) -> Vec<u8> {
    let mut process = Vec::new();
    pb_bytes(&mut process, 1, b"torture");
    let mut batch_tail = Vec::new();
    pb_bytes(&mut batch_tail, 2, &process);
    let batch_len = 2 * n + batch_tail.len();
    let mut b = Vec::with_capacity(batch_len + 8);
    pb_header(&mut b, 1, batch_len);
    for _ in 0..n {
        b.extend_from_slice(&[0x0a, 0x00]);
    }
    b.extend_from_slice(&batch_tail);
    b
}

/// Zipkin proto3 `ListOfSpans` with `n` empty spans.
pub fn zipkin_proto_empty_spans(n: usize) -> Vec<u8> {
    [0x0a, 0x00].repeat(n)
}

/// A Zipkin proto3 span whose name is `name` (any bytes).
pub fn zipkin_proto_span(name: &[u8]) -> Vec<u8> {
    let mut span = Vec::new();
    pb_bytes(&mut span, 1, &[0x11; 16]);
    pb_bytes(&mut span, 3, &[0x22; 8]);
    pb_bytes(&mut span, 5, name);
    let mut b = Vec::new();
    pb_bytes(&mut b, 1, &span);
    b
}

// ---- JSON -----------------------------------------------------------------

/// A Zipkin v2 JSON array of one span with `name` spliced in raw (so it can
/// hold invalid UTF-8).
pub fn zipkin_json_span(name: &[u8]) -> Vec<u8> {
    let mut b = br#"[{"traceId":"1111111111111111","id":"2222222222222222","name":""#.to_vec();
    b.extend_from_slice(name);
    b.extend_from_slice(br#"","localEndpoint":{"serviceName":"torture"}}]"#);
    b
}

/// A Zipkin v1 JSON array of one span with `name` spliced in raw.
pub fn zipkin_v1_json_span(name: &[u8]) -> Vec<u8> {
    let mut b = br#"[{"traceId":"1111111111111111","id":"2222222222222222","name":""#.to_vec();
    b.extend_from_slice(name);
    b.extend_from_slice(br#"","annotations":[]}]"#);
    b
}

/// `[{},{},…]` of `size` bytes at most.
pub fn json_empty_objects(size: usize) -> Vec<u8> {
    let n = (size.saturating_sub(2) / 3).max(1);
    let mut b = Vec::with_capacity(n * 3 + 2);
    b.push(b'[');
    for i in 0..n {
        if i > 0 {
            b.push(b',');
        }
        b.extend_from_slice(b"{}");
    }
    b.push(b']');
    b
}

/// OTLP JSON with `size` bytes' worth of empty spans.
pub fn otlp_json_empty_spans(size: usize) -> Vec<u8> {
    let mut b =
        br#"{"resourceSpans":[{"resource":{"attributes":[]},"scopeSpans":[{"spans":"#.to_vec();
    b.extend_from_slice(&json_empty_objects(size.saturating_sub(80)));
    b.extend_from_slice(b"}]}]}");
    b
}

/// OTLP JSON of one span with `name` spliced in raw.
pub fn otlp_json_span(name: &[u8]) -> Vec<u8> {
    let mut b = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"torture"}}]},"scopeSpans":[{"spans":[{"traceId":"11111111111111111111111111111111","spanId":"2222222222222222","name":""#.to_vec();
    b.extend_from_slice(name);
    b.extend_from_slice(br#"","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}"#);
    b
}

/// `prefix` followed by `depth` opening brackets (never closed).
pub fn deep_json(prefix: &[u8], depth: usize) -> Vec<u8> {
    let mut b = prefix.to_vec();
    b.resize(prefix.len() + depth, b'[');
    b
}

// ---- gzip bombs ---------------------------------------------------------------

/// Gzips `head`, then `fill` repeated until `total` bytes, then `tail`,
/// without holding the expanded body.
pub fn gzip_bomb(head: &[u8], fill: &[u8], total: usize, tail: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    let block: Vec<u8> = fill.repeat((1 << 20) / fill.len().max(1));
    let _ = gz.write_all(head);
    let mut written = head.len();
    while written + tail.len() < total {
        let n = block.len().min(total - written - tail.len());
        let n = n - n % fill.len().max(1);
        if n == 0 {
            break;
        }
        let _ = gz.write_all(&block[..n]);
        written += n;
    }
    let _ = gz.write_all(tail);
    gz.finish().unwrap_or_default()
}

/// Random bytes from a SplitMix64 stream.
pub fn random_bytes(rng: &mut clew_tracegen::shape::SplitMix64, n: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(n + 8);
    while v.len() < n {
        v.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    v.truncate(n);
    v
}
