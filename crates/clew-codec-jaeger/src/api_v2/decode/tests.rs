use std::sync::Arc;

use bytes::Bytes;
use clew_model::{KeyValue, Process, RefType, SpanId, TraceId, Value};
use prost_types::{Duration, Timestamp};

use super::*;

fn ts(seconds: i64, nanos: i32) -> Option<Timestamp> {
    Some(Timestamp { seconds, nanos })
}

fn pb_span(trace_id: &[u8], span_id: &[u8]) -> pb::Span {
    pb::Span {
        trace_id: Bytes::copy_from_slice(trace_id),
        span_id: Bytes::copy_from_slice(span_id),
        operation_name: "op".into(),
        start_time: ts(1, 5),
        duration: Some(Duration {
            seconds: 0,
            nanos: 7,
        }),
        ..Default::default()
    }
}

const TID16: [u8; 16] = [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2];
const SID: [u8; 8] = [0, 0, 0, 0, 0, 0, 0, 3];

#[test]
fn value_types_use_the_api_v2_enum_order_not_thrift() {
    let tag = |v_type: i32| pb::KeyValue {
        key: "k".into(),
        v_type,
        v_str: "s".into(),
        v_bool: true,
        v_int64: -4,
        v_float64: 2.5,
        v_binary: Bytes::from_static(&[9]),
    };
    assert_eq!(key_value_to_model(tag(0)).value, Value::Str("s".into()));
    assert_eq!(key_value_to_model(tag(1)).value, Value::Bool(true));
    assert_eq!(key_value_to_model(tag(2)).value, Value::I64(-4));
    assert_eq!(key_value_to_model(tag(3)).value, Value::F64(2.5));
    assert_eq!(
        key_value_to_model(tag(4)).value,
        Value::Binary(Bytes::from_static(&[9]))
    );
    assert_eq!(key_value_to_model(tag(99)).value, Value::Str("s".into()));
}

#[test]
fn ids_times_and_fields_map_onto_the_model() {
    let mut s = pb_span(&TID16, &SID);
    s.flags = 3;
    s.warnings = vec!["w".into()];
    s.references.push(pb::SpanRef {
        trace_id: Bytes::copy_from_slice(&TID16[8..]),
        span_id: Bytes::copy_from_slice(&[0, 0, 0, 0, 0, 0, 0, 9]),
        ref_type: pb::SpanRefType::FollowsFrom as i32,
    });
    s.logs.push(pb::Log {
        timestamp: ts(2, 0),
        fields: vec![pb::KeyValue {
            key: "event".into(),
            v_str: "boom".into(),
            ..Default::default()
        }],
    });
    let span = span_to_model(s, &Arc::new(Process::new("fallback"))).expect("valid span");
    assert_eq!(span.trace_id, TraceId::new(1, 2));
    assert_eq!(span.span_id, SpanId(3));
    assert_eq!(span.start_time, 1_000_000_005);
    assert_eq!(span.duration, 7);
    assert_eq!(span.flags, 3);
    assert_eq!(span.warnings, vec!["w".to_string()]);
    assert_eq!(&*span.process.service_name, "fallback");
    let r = &span.references[0];
    assert_eq!(
        (r.ref_type, r.trace_id, r.span_id),
        (RefType::FollowsFrom, TraceId::new(0, 2), SpanId(9))
    );
    assert_eq!(span.logs[0].timestamp, 2_000_000_000);
    assert_eq!(span.logs[0].fields, vec![KeyValue::string("event", "boom")]);
}

#[test]
fn eight_byte_trace_ids_are_read_as_64_bit() {
    let span = span_to_model(pb_span(&TID16[8..], &SID), &Arc::default()).expect("valid span");
    assert_eq!(span.trace_id, TraceId::new(0, 2));
}

#[test]
fn spans_with_malformed_ids_are_rejected_one_by_one() {
    let batch = pb::Batch {
        spans: vec![
            pb_span(&[1, 2, 3], &SID),
            pb_span(&TID16, &SID),
            pb_span(&TID16, &[1]),
            pb_span(&[], &SID),
        ],
        process: Some(pb::Process {
            service_name: "svc".into(),
            tags: vec![],
        }),
    };
    let out = batch_to_model(batch);
    assert_eq!(out.spans.len(), 1);
    let reasons: Vec<_> = out.rejected.iter().map(ConvertError::reason).collect();
    assert_eq!(
        reasons,
        ["invalid_trace_id", "invalid_span_id", "invalid_trace_id"]
    );
}

#[test]
fn bad_times_become_zero_with_a_warning_and_bad_references_are_dropped() {
    let mut s = pb_span(&TID16, &SID);
    s.start_time = ts(-5, 0);
    s.duration = Some(Duration {
        seconds: -1,
        nanos: 0,
    });
    s.references.push(pb::SpanRef {
        trace_id: Bytes::from_static(&[1]),
        span_id: Bytes::copy_from_slice(&SID),
        ref_type: 0,
    });
    s.references.push(pb::SpanRef {
        trace_id: Bytes::copy_from_slice(&TID16),
        span_id: Bytes::copy_from_slice(&SID),
        ref_type: 7,
    });
    let span = span_to_model(s, &Arc::default()).expect("IDs are valid");
    assert_eq!((span.start_time, span.duration), (0, 0));
    assert_eq!(span.references.len(), 1);
    assert_eq!(span.references[0].ref_type, RefType::ChildOf);
    assert_eq!(span.warnings.len(), 4, "{:?}", span.warnings);
    assert!(span.warnings[0].contains("start time"));
}

#[test]
fn batch_spans_inherit_the_batch_process_and_embedded_ones_are_shared() {
    let own = pb::Process {
        service_name: "own".into(),
        tags: vec![],
    };
    let mut a = pb_span(&TID16, &SID);
    a.process = Some(own.clone());
    let mut b = pb_span(&TID16, &SID);
    b.process = Some(own);
    let c = pb_span(&TID16, &SID);
    let out = batch_to_model(pb::Batch {
        spans: vec![a, b, c],
        process: Some(pb::Process {
            service_name: "batch".into(),
            tags: vec![],
        }),
    });
    let names: Vec<&str> = out.spans.iter().map(|s| &*s.process.service_name).collect();
    assert_eq!(names, ["own", "own", "batch"]);
    assert!(Arc::ptr_eq(&out.spans[0].process, &out.spans[1].process));
}

#[test]
fn trace_spans_resolve_processes_through_the_process_map() {
    let mut a = pb_span(&TID16, &SID);
    a.process_id = "p1".into();
    let mut b = pb_span(&TID16, &SID);
    b.process_id = "nope".into();
    let (trace, rejected) = trace_to_model(pb::Trace {
        spans: vec![a, b],
        process_map: vec![pb::trace::ProcessMapping {
            process_id: "p1".into(),
            process: Some(pb::Process {
                service_name: "mapped".into(),
                tags: vec![],
            }),
        }],
        warnings: vec!["tw".into()],
    });
    assert!(rejected.is_empty());
    assert_eq!(&*trace.spans[0].process.service_name, "mapped");
    assert!(trace.spans[0].warnings.is_empty());
    assert_eq!(&*trace.spans[1].process.service_name, "");
    assert_eq!(
        trace.spans[1].warnings,
        vec![r#"unknown process ID "nope""#.to_string()]
    );
    assert_eq!(trace.warnings, vec!["tw".to_string()]);
}
