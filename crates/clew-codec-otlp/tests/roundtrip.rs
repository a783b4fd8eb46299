//! Property tests: the zero-copy decoder matches prost's, and OTLP ↔ model
//! round trips lose nothing.

mod common;

use bytes::Bytes;
use clew_codec_otlp::{decode, decode_prost, request_to_model, spans_to_request};
use common::{any_span, flatten, request, valid_span};
use proptest::prelude::*;
use prost::Message;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn zero_copy_decoder_matches_prost(req in request(any_span())) {
        let body = Bytes::from(req.encode_to_vec());
        let fast = decode(&body).expect("valid protobuf");
        let slow = decode_prost(&body).expect("valid protobuf");
        prop_assert_eq!(fast, slow);
    }

    #[test]
    fn otlp_to_model_to_otlp_is_lossless(req in request(valid_span())) {
        let decoded = request_to_model(req.clone());
        prop_assert_eq!(decoded.rejected.total(), 0);
        let back = spans_to_request(&decoded.spans);
        // Spans of one resource and scope are regrouped together, so only
        // the order across groups may change: compare as multisets.
        let sorted = |mut v: Vec<common::FlatSpan>| {
            v.sort_by_cached_key(|f| format!("{f:?}"));
            v
        };
        let (got, want) = (sorted(flatten(&back)), sorted(flatten(&req)));
        prop_assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            prop_assert_eq!(&g.0, &w.0);
            prop_assert_eq!(&g.1, &w.1);
            prop_assert_eq!(&g.2, &w.2);
            prop_assert_eq!(&g.3, &w.3);
            prop_assert_eq!(&g.4, &w.4);
        }
    }

    #[test]
    fn model_to_otlp_to_model_is_lossless(req in request(valid_span())) {
        let model = request_to_model(req).spans;
        let body = Bytes::from(spans_to_request(&model).encode_to_vec());
        let back = decode(&body).expect("valid protobuf").spans;
        // Encoding groups spans by process and scope; compare as multisets.
        let sorted = |mut v: Vec<clew_model::Span>| {
            v.sort_by_cached_key(|s| format!("{s:?}"));
            v
        };
        prop_assert_eq!(sorted(back), sorted(model));
    }

    #[test]
    fn json_round_trip_equals_protobuf(req in request(any_span())) {
        let json = clew_codec_otlp::json::encode_request(&req);
        let from_json = clew_codec_otlp::json::decode(&json).expect("valid JSON");
        prop_assert_eq!(from_json, request_to_model(req));
    }

    #[test]
    fn corrupted_bodies_decode_alike_or_fail_alike(
        req in request(any_span()),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut body = req.encode_to_vec();
        if body.is_empty() {
            return Ok(());
        }
        for (i, b) in flips {
            let at = i.index(body.len());
            body[at] = b;
        }
        let body = Bytes::from(body);
        match (decode(&body), decode_prost(&body)) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(_), Err(_)) => {}
            (a, b) => prop_assert!(false, "decoders disagree: {:?} vs {:?}", a.map(|d| d.spans.len()), b.map(|d| d.spans.len())),
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let body = Bytes::from(body);
        let _ = decode(&body);
        let _ = decode_prost(&body);
        let _ = clew_codec_otlp::json::decode(&body);
    }
}

/// Attribute values nested around prost's recursion limit: both decoders
/// must draw the line at the same depth.
#[test]
fn nesting_limit_matches_prost() {
    use clew_codec_otlp::proto::common::v1::{AnyValue, ArrayValue, KeyValue, any_value::Value};
    use clew_codec_otlp::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
    let mut outcomes = Vec::new();
    for depth in 35..55 {
        let mut v = AnyValue {
            value: Some(Value::IntValue(1)),
        };
        for _ in 0..depth {
            v = AnyValue {
                value: Some(Value::ArrayValue(ArrayValue { values: vec![v] })),
            };
        }
        let span = Span {
            trace_id: vec![1; 16],
            span_id: vec![1; 8],
            attributes: vec![KeyValue {
                key: "deep".into(),
                value: Some(v),
            }],
            ..Default::default()
        };
        let req = clew_codec_otlp::proto::collector::trace::v1::ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![span],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let body = Bytes::from(req.encode_to_vec());
        let (fast, slow) = (decode(&body), decode_prost(&body));
        assert_eq!(
            fast.is_ok(),
            slow.is_ok(),
            "depth {depth}: {fast:?} vs {slow:?}"
        );
        outcomes.push(fast.is_ok());
        if let (Ok(a), Ok(b)) = (fast, slow) {
            assert_eq!(a, b);
        }
    }
    assert!(
        outcomes.contains(&true) && outcomes.contains(&false),
        "the limit lies in the range tested"
    );
}

/// Found by the corruption property: `Resource.entity_refs` (field 3) with
/// the wrong wire type, or holding invalid UTF-8, is refused by prost, so the
/// zero-copy decoder must refuse it too.
#[test]
fn malformed_entity_refs_fail_in_both_decoders() {
    // ExportTraceServiceRequest { resource_spans { resource { 3: varint 1 } } }
    let wrong_wire = Bytes::from_static(&[0x0a, 0x04, 0x0a, 0x02, 0x18, 0x01]);
    assert!(decode_prost(&wrong_wire).is_err());
    assert!(decode(&wrong_wire).is_err());
    // resource { entity_refs { type: "\xff" } }
    let bad_utf8 = Bytes::from_static(&[0x0a, 0x07, 0x0a, 0x05, 0x1a, 0x03, 0x12, 0x01, 0xff]);
    assert!(decode_prost(&bad_utf8).is_err());
    assert!(decode(&bad_utf8).is_err());
    // A well-formed one is accepted (and ignored) by both.
    let good = Bytes::from_static(&[0x0a, 0x07, 0x0a, 0x05, 0x1a, 0x03, 0x12, 0x01, b'k']);
    assert_eq!(decode(&good).ok(), decode_prost(&good).ok());
    assert!(decode(&good).is_ok());
}
