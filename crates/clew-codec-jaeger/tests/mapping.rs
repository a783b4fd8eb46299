//! The mapping rules that are not plain round trips: parent IDs, clamped
//! times, odd tags, bad UTF-8, field order, unknown fields.

use clew_codec_jaeger::{DecodeError, Protocol, decode_batch};
use clew_model::{Bytes, RefType, SpanId, TraceId, Value};
use clew_thrift::{BinaryWriter, CompactWriter, ProtocolWriter, TType};

/// Builds a compact `Batch` with process "svc" and one span whose body is
/// written by `span`, after the given ids (trace 1/0, span 2, parent).
fn batch_with(parent: i64, span: impl FnOnce(&mut CompactWriter<&mut Vec<u8>>)) -> Bytes {
    let mut out = Vec::new();
    let mut w = CompactWriter::new(&mut out);
    w.write_struct_begin();
    w.write_field_begin(TType::Struct, 1);
    w.write_struct_begin();
    w.write_field_begin(TType::Binary, 1);
    w.write_string("svc");
    w.write_field_stop();
    w.write_struct_end();
    w.write_field_begin(TType::List, 2);
    w.write_list_begin(TType::Struct, 1);
    w.write_struct_begin();
    for (id, v) in [(1, 1), (2, 0), (3, 2), (4, parent)] {
        w.write_field_begin(TType::I64, id);
        w.write_i64(v);
    }
    w.write_field_begin(TType::Binary, 5);
    w.write_string("op");
    span(&mut w);
    w.write_field_stop();
    w.write_struct_end();
    w.write_field_stop();
    w.write_struct_end();
    Bytes::from(out)
}

fn write_ref(w: &mut impl ProtocolWriter, kind: i32, low: i64, span: i64) {
    w.write_struct_begin();
    w.write_field_begin(TType::I32, 1);
    w.write_i32(kind);
    w.write_field_begin(TType::I64, 2);
    w.write_i64(low);
    w.write_field_begin(TType::I64, 3);
    w.write_i64(0);
    w.write_field_begin(TType::I64, 4);
    w.write_i64(span);
    w.write_field_stop();
    w.write_struct_end();
}

fn decode_one(body: &Bytes) -> clew_model::Span {
    let mut b = decode_batch(body, Protocol::Compact).expect("decodes");
    assert_eq!(b.spans.len(), 1);
    b.spans.remove(0)
}

#[test]
fn parent_span_id_becomes_a_prepended_child_of() {
    let body = batch_with(7, |w| {
        w.write_field_begin(TType::List, 6);
        w.write_list_begin(TType::Struct, 1);
        write_ref(w, 1, 1, 8);
    });
    let s = decode_one(&body);
    assert_eq!(s.references.len(), 2);
    assert_eq!(s.references[0].ref_type, RefType::ChildOf);
    assert_eq!(s.references[0].span_id, SpanId(7));
    assert_eq!(s.references[0].trace_id, TraceId::new(0, 1));
    assert_eq!(s.references[1].ref_type, RefType::FollowsFrom);
    assert_eq!(s.parent_span_id(), Some(SpanId(7)));
}

#[test]
fn parent_already_referenced_is_not_duplicated() {
    let body = batch_with(7, |w| {
        w.write_field_begin(TType::List, 6);
        w.write_list_begin(TType::Struct, 2);
        write_ref(w, 1, 1, 5);
        write_ref(w, 0, 1, 7);
    });
    let s = decode_one(&body);
    assert_eq!(s.references.len(), 2);
    assert_eq!(s.references[1].span_id, SpanId(7));
}

#[test]
fn parent_sent_as_follows_from_stays_follows_from() {
    // jaeger-client-python fills parentSpanId for FOLLOWS_FROM spans too.
    let body = batch_with(7, |w| {
        w.write_field_begin(TType::List, 6);
        w.write_list_begin(TType::Struct, 1);
        write_ref(w, 1, 1, 7);
    });
    let s = decode_one(&body);
    assert_eq!(s.references.len(), 1);
    assert_eq!(s.references[0].ref_type, RefType::FollowsFrom);
    assert_eq!(s.parent_span_id(), Some(SpanId(7)));
}

#[test]
fn a_child_of_in_another_trace_does_not_count_as_the_parent() {
    let body = batch_with(7, |w| {
        w.write_field_begin(TType::List, 6);
        w.write_list_begin(TType::Struct, 1);
        write_ref(w, 0, 99, 7);
    });
    let s = decode_one(&body);
    assert_eq!(s.references.len(), 2);
    assert_eq!(s.references[0].trace_id, TraceId::new(0, 1));
}

#[test]
fn ids_are_twos_complement() {
    let mut out = Vec::new();
    let mut w = BinaryWriter::new(&mut out);
    w.write_field_begin(TType::Struct, 1);
    w.write_field_stop();
    w.write_field_begin(TType::List, 2);
    w.write_list_begin(TType::Struct, 1);
    w.write_field_begin(TType::I64, 1);
    w.write_i64(-1);
    w.write_field_begin(TType::I64, 2);
    w.write_i64(i64::MIN);
    w.write_field_begin(TType::I64, 3);
    w.write_i64(-2);
    w.write_field_stop();
    w.write_field_stop();
    let b = decode_batch(&Bytes::from(out), Protocol::Binary).expect("decodes");
    assert_eq!(b.spans[0].trace_id, TraceId::new(1 << 63, u64::MAX));
    assert_eq!(b.spans[0].span_id, SpanId(u64::MAX - 1));
    // An empty service name is kept; ingest decides the default.
    assert_eq!(&*b.spans[0].process.service_name, "");
}

#[test]
fn negative_and_absurd_times_clamp_to_zero_with_warnings() {
    let body = batch_with(0, |w| {
        w.write_field_begin(TType::I64, 8);
        w.write_i64(i64::MAX);
        w.write_field_begin(TType::I64, 9);
        w.write_i64(-5);
        w.write_field_begin(TType::List, 11);
        w.write_list_begin(TType::Struct, 1);
        w.write_struct_begin();
        w.write_field_begin(TType::I64, 1);
        w.write_i64(-1);
        w.write_field_stop();
        w.write_struct_end();
    });
    let s = decode_one(&body);
    assert_eq!((s.start_time, s.duration, s.logs[0].timestamp), (0, 0, 0));
    assert_eq!(s.warnings.len(), 3, "{:?}", s.warnings);
    assert!(s.warnings.iter().any(|w| w.contains("duration -5")));
}

fn tag(
    w: &mut impl ProtocolWriter,
    key: &str,
    vtype: Option<i32>,
    value: impl FnOnce(&mut dyn ProtocolWriter),
) {
    w.write_struct_begin();
    w.write_field_begin(TType::Binary, 1);
    w.write_string(key);
    if let Some(t) = vtype {
        w.write_field_begin(TType::I32, 2);
        w.write_i32(t);
    }
    value(&mut *w as &mut dyn ProtocolWriter);
    w.write_field_stop();
    w.write_struct_end();
}

#[test]
fn odd_tags_are_kept_or_dropped_with_warnings() {
    let body = batch_with(0, |w| {
        w.write_field_begin(TType::List, 10);
        w.write_list_begin(TType::Struct, 5);
        // vType missing, vLong present: kept as I64.
        tag(w, "no-type", None, |w| {
            w.write_field_begin(TType::I64, 6);
            w.write_i64(9);
        });
        // Unknown vType with a string: kept as string.
        tag(w, "odd-type", Some(17), |w| {
            w.write_field_begin(TType::Binary, 3);
            w.write_string("s");
        });
        // Unknown vType and no value: dropped.
        tag(w, "empty", Some(42), |_| {});
        // vType LONG without vLong: the type's zero.
        tag(w, "zero", Some(3), |_| {});
        // An extra unknown field 20 is skipped.
        tag(w, "extra", Some(2), |w| {
            w.write_field_begin(TType::Bool, 5);
            w.write_bool(true);
            w.write_field_begin(TType::Map, 20);
            w.write_map_begin(TType::Binary, TType::I32, 1);
            w.write_string("k");
            w.write_i32(1);
        });
    });
    let s = decode_one(&body);
    let keys: Vec<&str> = s.tags.iter().map(|t| &*t.key).collect();
    assert_eq!(keys, ["no-type", "odd-type", "zero", "extra"]);
    assert_eq!(s.tag("no-type"), Some(&Value::I64(9)));
    assert_eq!(s.tag("odd-type"), Some(&Value::Str("s".into())));
    assert_eq!(s.tag("zero"), Some(&Value::I64(0)));
    assert_eq!(s.tag("extra"), Some(&Value::Bool(true)));
    assert_eq!(s.warnings.len(), 3, "{:?}", s.warnings);
}

#[test]
fn invalid_utf8_is_repaired_with_a_warning() {
    let body = batch_with(0, |w| {
        w.write_field_begin(TType::List, 10);
        w.write_list_begin(TType::Struct, 1);
        tag(w, "k", Some(0), |w| {
            w.write_field_begin(TType::Binary, 3);
            w.write_binary(b"a\xffb");
        });
    });
    let s = decode_one(&body);
    assert_eq!(s.tag("k"), Some(&Value::Str("a\u{fffd}b".into())));
    assert_eq!(s.warnings.len(), 1);
    assert!(s.warnings[0].contains("UTF-8"));
}

#[test]
fn wrongly_typed_known_fields_are_skipped() {
    let body = batch_with(0, |w| {
        // Field 8 (startTime) as a string, field 10 (tags) as list<i32>.
        w.write_field_begin(TType::Binary, 8);
        w.write_string("soon");
        w.write_field_begin(TType::List, 10);
        w.write_list_begin(TType::I32, 2);
        w.write_i32(1);
        w.write_i32(2);
    });
    let s = decode_one(&body);
    assert_eq!(s.start_time, 0);
    assert!(s.tags.is_empty());
}

#[test]
fn spans_before_process_still_share_it() {
    let mut out = Vec::new();
    let mut w = BinaryWriter::new(&mut out);
    w.write_field_begin(TType::List, 2);
    w.write_list_begin(TType::Struct, 2);
    w.write_field_stop();
    w.write_field_stop();
    w.write_field_begin(TType::Struct, 1);
    w.write_field_begin(TType::Binary, 1);
    w.write_string("late");
    w.write_field_stop();
    w.write_field_stop();
    let b = decode_batch(&Bytes::from(out), Protocol::Binary).expect("decodes");
    assert_eq!(&*b.spans[0].process.service_name, "late");
    assert!(std::sync::Arc::ptr_eq(
        &b.spans[0].process,
        &b.spans[1].process
    ));
}

#[test]
fn batch_needs_process_and_spans() {
    let mut out = Vec::new();
    let mut w = BinaryWriter::new(&mut out);
    w.write_field_begin(TType::List, 2);
    w.write_list_begin(TType::Struct, 0);
    w.write_field_stop();
    assert_eq!(
        decode_batch(&Bytes::from(out), Protocol::Binary),
        Err(DecodeError::MissingField("Batch.process"))
    );
    let body = Bytes::from_static(&[12, 0, 1, 0, 0]);
    assert_eq!(
        decode_batch(&body, Protocol::Binary),
        Err(DecodeError::MissingField("Batch.spans"))
    );
}
