//! Model → thrift, for the client library, the load generator and tests.

use clew_model::{KeyValue, Log, Process, RefType, Reference, Span, Value};
use clew_thrift::{ByteCounter, CompactWriter, MessageType, ProtocolWriter, TType};

use crate::{BatchMeta, ClientStats, EMIT_BATCH};

/// `TagType` values from jaeger.thrift.
const STRING: i32 = 0;
const DOUBLE: i32 = 1;
const BOOL: i32 = 2;
const LONG: i32 = 3;
const BINARY: i32 = 4;

/// Writes a `Batch` struct: `process`, then `spans` (their own `process`
/// fields are ignored; the batch carries one), then `seqNo` and `stats`
/// when `meta` has them.
pub(crate) fn write_batch(
    w: &mut impl ProtocolWriter,
    process: &Process,
    spans: &[Span],
    meta: &BatchMeta,
) {
    w.write_struct_begin();
    w.write_field_begin(TType::Struct, 1);
    write_process(w, process);
    w.write_field_begin(TType::List, 2);
    w.write_list_begin(TType::Struct, spans.len());
    for s in spans {
        write_span(w, s);
    }
    if let Some(seq_no) = meta.seq_no {
        w.write_field_begin(TType::I64, 3);
        w.write_i64(seq_no);
    }
    if let Some(stats) = &meta.stats {
        w.write_field_begin(TType::Struct, 4);
        write_client_stats(w, stats);
    }
    w.write_field_stop();
    w.write_struct_end();
}

/// Writes an agent datagram: envelope, `emitBatch` args struct, batch.
pub(crate) fn write_emit_batch(
    w: &mut impl ProtocolWriter,
    process: &Process,
    spans: &[Span],
    seq_id: i32,
    meta: &BatchMeta,
) {
    w.write_message_begin(EMIT_BATCH, MessageType::Oneway, seq_id);
    w.write_struct_begin();
    w.write_field_begin(TType::Struct, 1);
    write_batch(w, process, spans, meta);
    w.write_field_stop();
    w.write_struct_end();
}

fn write_client_stats(w: &mut impl ProtocolWriter, s: &ClientStats) {
    w.write_struct_begin();
    w.write_field_begin(TType::I64, 1);
    w.write_i64(s.full_queue_dropped_spans);
    w.write_field_begin(TType::I64, 2);
    w.write_i64(s.too_large_dropped_spans);
    w.write_field_begin(TType::I64, 3);
    w.write_i64(s.failed_to_emit_spans);
    w.write_field_stop();
    w.write_struct_end();
}

fn write_process(w: &mut impl ProtocolWriter, p: &Process) {
    w.write_struct_begin();
    w.write_field_begin(TType::Binary, 1);
    w.write_string(&p.service_name);
    if !p.tags.is_empty() {
        w.write_field_begin(TType::List, 2);
        write_tags(w, &p.tags);
    }
    w.write_field_stop();
    w.write_struct_end();
}

/// Writes one `Span`. `parentSpanId` is the first CHILD_OF reference in the
/// span's own trace (0 if none), and every reference is written too, so the
/// decoder's parent rule finds the reference already present and
/// `decode(encode(x)) == x`.
pub(crate) fn write_span(w: &mut impl ProtocolWriter, s: &Span) {
    let parent = s
        .references
        .iter()
        .find(|r| r.ref_type == RefType::ChildOf && r.trace_id == s.trace_id)
        .map_or(0, |r| r.span_id.0);
    w.write_struct_begin();
    w.write_field_begin(TType::I64, 1);
    w.write_i64(s.trace_id.low as i64);
    w.write_field_begin(TType::I64, 2);
    w.write_i64(s.trace_id.high as i64);
    w.write_field_begin(TType::I64, 3);
    w.write_i64(s.span_id.0 as i64);
    w.write_field_begin(TType::I64, 4);
    w.write_i64(parent as i64);
    w.write_field_begin(TType::Binary, 5);
    w.write_string(&s.operation_name);
    if !s.references.is_empty() {
        w.write_field_begin(TType::List, 6);
        w.write_list_begin(TType::Struct, s.references.len());
        for r in &s.references {
            write_ref(w, r);
        }
    }
    w.write_field_begin(TType::I32, 7);
    w.write_i32(s.flags as i32);
    w.write_field_begin(TType::I64, 8);
    w.write_i64(nanos_to_micros(s.start_time));
    w.write_field_begin(TType::I64, 9);
    w.write_i64(nanos_to_micros(s.duration));
    if !s.tags.is_empty() {
        w.write_field_begin(TType::List, 10);
        write_tags(w, &s.tags);
    }
    if !s.logs.is_empty() {
        w.write_field_begin(TType::List, 11);
        w.write_list_begin(TType::Struct, s.logs.len());
        for l in &s.logs {
            write_log(w, l);
        }
    }
    w.write_field_stop();
    w.write_struct_end();
}

/// Model nanoseconds to thrift microseconds (`u64::MAX / 1000` fits in `i64`).
fn nanos_to_micros(ns: u64) -> i64 {
    (ns / 1000) as i64
}

fn write_ref(w: &mut impl ProtocolWriter, r: &Reference) {
    w.write_struct_begin();
    w.write_field_begin(TType::I32, 1);
    w.write_i32(match r.ref_type {
        RefType::ChildOf => 0,
        RefType::FollowsFrom => 1,
    });
    w.write_field_begin(TType::I64, 2);
    w.write_i64(r.trace_id.low as i64);
    w.write_field_begin(TType::I64, 3);
    w.write_i64(r.trace_id.high as i64);
    w.write_field_begin(TType::I64, 4);
    w.write_i64(r.span_id.0 as i64);
    w.write_field_stop();
    w.write_struct_end();
}

fn write_log(w: &mut impl ProtocolWriter, l: &Log) {
    w.write_struct_begin();
    w.write_field_begin(TType::I64, 1);
    w.write_i64(nanos_to_micros(l.timestamp));
    w.write_field_begin(TType::List, 2);
    write_tags(w, &l.fields);
    w.write_field_stop();
    w.write_struct_end();
}

fn write_tags(w: &mut impl ProtocolWriter, tags: &[KeyValue]) {
    w.write_list_begin(TType::Struct, tags.len());
    for t in tags {
        write_tag(w, t);
    }
}

/// Arrays and maps have no thrift form; they travel as STRING tags holding
/// [`Value::to_text`].
fn write_tag(w: &mut impl ProtocolWriter, t: &KeyValue) {
    w.write_struct_begin();
    w.write_field_begin(TType::Binary, 1);
    w.write_string(&t.key);
    w.write_field_begin(TType::I32, 2);
    match &t.value {
        Value::Str(s) => {
            w.write_i32(STRING);
            w.write_field_begin(TType::Binary, 3);
            w.write_string(s);
        }
        Value::F64(v) => {
            w.write_i32(DOUBLE);
            w.write_field_begin(TType::Double, 4);
            w.write_double(*v);
        }
        Value::Bool(v) => {
            w.write_i32(BOOL);
            w.write_field_begin(TType::Bool, 5);
            w.write_bool(*v);
        }
        Value::I64(v) => {
            w.write_i32(LONG);
            w.write_field_begin(TType::I64, 6);
            w.write_i64(*v);
        }
        Value::Binary(b) => {
            w.write_i32(BINARY);
            w.write_field_begin(TType::Binary, 7);
            w.write_binary(b);
        }
        v @ (Value::Array(_) | Value::Map(_)) => {
            w.write_i32(STRING);
            w.write_field_begin(TType::Binary, 3);
            w.write_string(&v.to_text());
        }
    }
    w.write_field_stop();
    w.write_struct_end();
}

/// Exact compact size of one span as an element of `Batch.spans`.
pub(crate) fn compact_span_size(span: &Span) -> usize {
    let mut w = CompactWriter::new(ByteCounter::default());
    write_span(&mut w, span);
    w.into_inner().0
}

/// Compact bytes an `emitBatch` datagram needs besides its spans: envelope
/// with the longest sequence id, args and batch headers, the process, and the
/// longest span-list header. An upper bound, exact to within a few bytes.
pub(crate) fn compact_emit_batch_overhead(process: &Process) -> usize {
    let mut w = CompactWriter::new(ByteCounter::default());
    write_emit_batch(&mut w, process, &[], -1, &BatchMeta::default());
    // `write_emit_batch` wrote a 1-byte empty list header; a long one takes
    // 1 type byte + up to 5 varint bytes.
    w.into_inner().0 + 5
}
