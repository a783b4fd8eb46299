//! api_v2 protobuf: model → message → bytes → message → model is the
//! identity (for values api_v2 can express), the three process layouts
//! (embedded, batch, process map) agree, and arbitrary bytes never panic.

use std::sync::Arc;

use clew_codec_jaeger::api_v2::{
    batch_to_model, batch_to_pb, pb, span_to_pb, spans_to_model, trace_to_model, trace_to_pb,
};
use clew_model::{
    Bytes, KeyValue, Log, Process, RefType, Reference, Span, SpanId, Trace, TraceId, Value,
};
use proptest::prelude::*;
use prost::Message;

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        ".{0,12}".prop_map(|s| Value::Str(s.into())),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::I64),
        any::<f64>()
            .prop_filter("NaN never equals itself", |f| !f.is_nan())
            .prop_map(Value::F64),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(|b| Value::Binary(Bytes::from(b))),
    ]
}

fn tags(max: usize) -> impl Strategy<Value = Vec<KeyValue>> {
    proptest::collection::vec(
        ("[a-z._]{0,10}", value()).prop_map(|(k, v)| KeyValue::new(k, v)),
        0..max,
    )
}

fn trace_id() -> impl Strategy<Value = TraceId> {
    prop_oneof![
        any::<u64>().prop_map(|l| TraceId::new(0, l)),
        (any::<u64>(), any::<u64>()).prop_map(|(h, l)| TraceId::new(h, l))
    ]
}

fn process() -> impl Strategy<Value = Arc<Process>> {
    ("[a-z]{0,8}", tags(3)).prop_map(|(name, tags)| {
        Arc::new(Process {
            service_name: name.into(),
            tags,
        })
    })
}

/// Any span api_v2 can carry: nanosecond times, every scalar type.
fn span(process: Arc<Process>) -> impl Strategy<Value = Span> {
    let refs = proptest::collection::vec((any::<bool>(), trace_id(), any::<u64>()), 0..4);
    let logs = proptest::collection::vec(
        (any::<u64>(), tags(4)).prop_map(|(timestamp, fields)| Log { timestamp, fields }),
        0..3,
    );
    let warnings = proptest::collection::vec(".{0,8}", 0..2);
    (
        (trace_id(), any::<u64>(), ".{0,16}", refs, any::<u32>()),
        (any::<u64>(), any::<u64>(), tags(6), logs, warnings),
    )
        .prop_map(
            move |(
                (trace_id, id, op, refs, flags),
                (start_time, duration, tags, logs, warnings),
            )| {
                let mut s = Span::new(trace_id, SpanId(id), op, process.clone());
                s.references = refs
                    .into_iter()
                    .map(|(child, t, sid)| {
                        let r = Reference::child_of(t, SpanId(sid));
                        if child {
                            r
                        } else {
                            Reference {
                                ref_type: RefType::FollowsFrom,
                                ..r
                            }
                        }
                    })
                    .collect();
                s.flags = flags;
                s.start_time = start_time;
                s.duration = duration;
                s.tags = tags;
                s.logs = logs;
                s.warnings = warnings;
                s
            },
        )
}

fn spans_of_two_processes() -> impl Strategy<Value = (Arc<Process>, Vec<Span>)> {
    (process(), process()).prop_flat_map(|(a, b)| {
        let spans = proptest::collection::vec(prop_oneof![span(a.clone()), span(b.clone())], 0..6);
        (Just(a), spans)
    })
}

fn wire<M: Message + Default>(m: &M) -> M {
    M::decode(m.encode_to_vec().as_slice()).expect("what prost wrote, prost reads")
}

proptest! {
    #[test]
    fn batches_round_trip_through_the_wire((process, spans) in spans_of_two_processes()) {
        let back = batch_to_model(wire(&batch_to_pb(&process, &spans)));
        prop_assert!(back.rejected.is_empty());
        prop_assert_eq!(back.spans, spans);
    }

    #[test]
    fn embedded_process_spans_round_trip((_, spans) in spans_of_two_processes()) {
        let chunk = pb::SpansResponseChunk { spans: spans.iter().map(span_to_pb).collect() };
        let back = spans_to_model(wire(&chunk).spans);
        prop_assert!(back.rejected.is_empty());
        prop_assert_eq!(back.spans, spans);
    }

    #[test]
    fn traces_round_trip_through_the_process_map(
        (_, spans) in spans_of_two_processes(),
        warnings in proptest::collection::vec(".{0,8}", 0..2),
    ) {
        let trace = Trace { spans, warnings };
        let msg = wire(&trace_to_pb(&trace));
        prop_assert!(msg.process_map.len() <= 2);
        prop_assert!(msg.spans.iter().all(|s| s.process.is_none()));
        let (back, rejected) = trace_to_model(msg);
        prop_assert!(rejected.is_empty());
        prop_assert_eq!(back, trace);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(b) = pb::Batch::decode(bytes.as_slice()) {
            let out = batch_to_model(b);
            prop_assert!(out.spans.len() + out.rejected.len() <= bytes.len());
        }
        if let Ok(t) = pb::Trace::decode(bytes.as_slice()) {
            let _ = trace_to_model(t);
        }
        if let Ok(r) = pb::PostSpansRequest::decode(bytes.as_slice()) {
            let _ = r.batch.map(batch_to_model);
        }
    }
}

#[test]
fn arrays_and_maps_travel_as_their_text() {
    let process = Arc::new(Process::new("svc"));
    let mut span = Span::new(TraceId::new(0, 1), SpanId(2), "op", process.clone());
    span.tags.push(KeyValue::new(
        "list",
        Value::Array(vec![Value::I64(1), Value::Str("a".into())]),
    ));
    let back = batch_to_model(wire(&batch_to_pb(&process, &[span])));
    assert_eq!(
        back.spans[0].tags,
        vec![KeyValue::string("list", r#"[1,"a"]"#)]
    );
}

#[test]
fn ids_are_written_as_16_and_8_big_endian_bytes() {
    let span = Span::new(
        TraceId::new(0, 0x0102),
        SpanId(0x0a0b),
        "op",
        Arc::default(),
    );
    let msg = span_to_pb(&span);
    assert_eq!(
        &msg.trace_id[..],
        &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2]
    );
    assert_eq!(&msg.span_id[..], &[0, 0, 0, 0, 0, 0, 0x0a, 0x0b]);
}

/// Hand-assembled wire bytes (field numbers from the IDL) decode to the
/// expected span: pins the generated message layout, not just self-consistency.
#[test]
fn hand_written_wire_bytes_decode_as_the_idl_says() {
    let mut b = vec![0x0a, 16]; // 1: trace_id
    b.extend_from_slice(&[0; 15]);
    b.push(7);
    b.extend_from_slice(&[0x12, 8, 0, 0, 0, 0, 0, 0, 0, 9]); // 2: span_id
    b.extend_from_slice(&[0x1a, 2, b'o', b'p']); // 3: operation_name
    b.extend_from_slice(&[0x28, 1]); // 5: flags
    b.extend_from_slice(&[0x32, 4, 0x08, 2, 0x10, 3]); // 6: start_time {1: 2s, 2: 3ns}
    b.extend_from_slice(&[0x42, 7, 0x0a, 1, b'k', 0x10, 2, 0x28, 5]); // 8: tag k INT64 5
    b.extend_from_slice(&[0x52, 5, 0x0a, 3, b's', b'v', b'c']); // 10: process
    let span = pb::Span::decode(b.as_slice()).expect("valid bytes");
    let out = spans_to_model(vec![span]);
    let s = &out.spans[0];
    assert_eq!((s.trace_id, s.span_id), (TraceId::new(0, 7), SpanId(9)));
    assert_eq!(&*s.operation_name, "op");
    assert_eq!((s.flags, s.start_time), (1, 2_000_000_003));
    assert_eq!(s.tags, vec![KeyValue::i64("k", 5)]);
    assert_eq!(&*s.process.service_name, "svc");
}
