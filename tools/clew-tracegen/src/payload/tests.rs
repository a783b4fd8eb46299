use bytes::Bytes;
use clew_codec_jaeger::{
    JaegerBatch, Protocol, decode_batch, decode_emit_batch_args, parse_agent_envelope,
};
use clew_model::Span;

use super::*;
use crate::patch::round_high;
use crate::shape::TraceShape;
use crate::transport::TransportKind;

fn limits(kind: TransportKind, max_spans: usize) -> PackLimits {
    PackLimits {
        encoding: kind.encoding(),
        max_spans,
        max_bytes: kind.max_payload_bytes(),
    }
}

fn decode(kind: TransportKind, bytes: &[u8]) -> JaegerBatch {
    let bytes = Bytes::copy_from_slice(bytes);
    match kind.encoding() {
        Encoding::BareBatch(p) => decode_batch(&bytes, p).expect("decodes"),
        Encoding::AgentMessage(p) => {
            let env = parse_agent_envelope(&bytes, p).expect("envelope");
            assert_eq!(env.method, "emitBatch");
            decode_emit_batch_args(&bytes, env.args, p).expect("args decode")
        }
        other => panic!("{other:?} is not thrift"),
    }
}

/// Decodes any payload with the codec the server uses for it.
fn decode_spans(kind: TransportKind, bytes: &[u8]) -> Vec<Span> {
    match kind.encoding() {
        Encoding::OtlpProto => {
            let decoded = clew_codec_otlp::decode(&Bytes::copy_from_slice(bytes)).expect("otlp");
            assert_eq!(decoded.rejected.total(), 0);
            decoded.spans
        }
        Encoding::ZipkinJson => clew_codec_zipkin::json_v2::decode(bytes).expect("zipkin json"),
        Encoding::ZipkinProto => clew_codec_zipkin::proto_v2::decode(bytes).expect("zipkin proto"),
        Encoding::AgentMessage(_) | Encoding::BareBatch(_) => decode(kind, bytes).spans,
    }
}

fn pool(kind: TransportKind, shape: TraceShape, max_spans: usize, min_spans: usize) -> PayloadPool {
    let mut g = TraceGenerator::new(shape, 11, 1_700_000_000_000_000_000);
    PayloadPool::build(&mut g, limits(kind, max_spans), min_spans).expect("pool")
}

#[test]
fn udp_datagrams_stay_under_65000_bytes_and_are_well_filled() {
    for kind in [TransportKind::UdpCompact, TransportKind::UdpBinary] {
        let p = pool(kind, TraceShape::default(), 10_000, 5_000);
        assert!(
            p.payloads.len() > 1,
            "{kind}: 5,000 spans need several datagrams"
        );
        let full = &p.payloads[..p.payloads.len() - 1];
        for payload in full {
            assert!(
                payload.bytes.len() <= 65_000,
                "{kind}: {}",
                payload.bytes.len()
            );
            assert!(
                payload.bytes.len() > 60_000,
                "{kind}: underfilled {}",
                payload.bytes.len()
            );
        }
        assert_eq!(p.spans_per_round(), 5_000);
    }
}

#[test]
fn http_payloads_hold_batch_spans_spans_of_one_service() {
    let shape = TraceShape {
        services: 3,
        ..TraceShape::default()
    };
    let p = pool(TransportKind::HttpThrift, shape, 500, 6_000);
    let services: Vec<String> = p
        .payloads
        .iter()
        .map(|pl| {
            let batch = decode(TransportKind::HttpThrift, &pl.bytes);
            assert_eq!(batch.spans.len(), pl.spans.len());
            assert!(batch.spans.len() <= 500);
            let name = batch.spans[0].process.service_name.to_string();
            assert!(batch.spans.iter().all(|s| *s.process.service_name == *name));
            name
        })
        .collect();
    assert_eq!(
        &services[..3],
        ["tracegen-00", "tracegen-01", "tracegen-02"]
    );
    assert_eq!(p.spans_per_round(), 6_000);
    assert!(p.payloads.iter().filter(|pl| pl.spans.len() == 500).count() >= 9);
}

#[test]
fn stamping_rewrites_every_trace_id_and_time_and_nothing_else() {
    // 90 s after the pool was built: every encoding's unit divides it.
    const SHIFT: u64 = 90_000_000_000;
    for kind in TransportKind::ALL {
        let mut p = pool(kind, TraceShape::default(), 500, 1_000);
        let payload = &mut p.payloads[0];
        let high = round_high(2, 5);
        payload.stamp(high, SHIFT);
        let spans = decode_spans(kind, &payload.bytes);
        assert_eq!(spans.len(), payload.spans.len(), "{kind}");
        for (got, want) in spans.iter().zip(&payload.spans) {
            assert_eq!(got.trace_id.high, high, "{kind}");
            assert_eq!(got.trace_id.low, want.trace_id.low);
            assert_eq!(got.span_id, want.span_id);
            assert_eq!(
                got.start_time,
                want.start_time + SHIFT,
                "{kind}: time moved"
            );
            assert_eq!(got.duration, want.duration, "{kind}: duration kept");
            assert_eq!(&*got.operation_name, &*want.operation_name, "{kind}");
            for tag in &want.tags {
                assert!(got.tags.contains(tag), "{kind}: {tag:?} kept");
            }
            assert_eq!(got.parent_span_id(), want.parent_span_id(), "{kind}");
            for r in &got.references {
                assert_eq!(r.trace_id, got.trace_id, "{kind}: reference re-stamped too");
            }
        }
        // A second round gives different IDs for the same traces.
        payload.stamp(round_high(2, 6), 2 * SHIFT);
        let again = decode_spans(kind, &payload.bytes);
        let first = &payload.spans[0];
        assert_eq!(again[0].start_time, first.start_time + 2 * SHIFT, "{kind}");
        assert_ne!(again[0].trace_id, spans[0].trace_id, "{kind}");
        assert_eq!(again[0].trace_id.high, round_high(2, 6), "{kind}");
    }
}

#[test]
fn otlp_and_zipkin_payloads_hold_batch_spans_spans() {
    for kind in [
        TransportKind::OtlpGrpc,
        TransportKind::OtlpHttp,
        TransportKind::ZipkinJson,
        TransportKind::ZipkinProto,
    ] {
        let p = pool(kind, TraceShape::default(), 512, 2_000);
        assert_eq!(p.spans_per_round(), 2_000, "{kind}");
        let sizes: Vec<usize> = p.payloads.iter().map(|pl| pl.spans.len()).collect();
        assert_eq!(sizes, [512, 512, 512, 464], "{kind}");
        for pl in &p.payloads {
            assert_eq!(decode_spans(kind, &pl.bytes).len(), pl.spans.len());
        }
    }
}

#[test]
fn encode_prefix_works_for_every_encoding() {
    for kind in TransportKind::ALL {
        let p = pool(kind, TraceShape::default(), 100, 100);
        let mut out = Vec::new();
        let high = round_high(1, 3);
        p.payloads[0]
            .encode_prefix(7, high, 5_000_000_000, kind.encoding(), &mut out)
            .expect("encodes");
        let spans = decode_spans(kind, &out);
        assert_eq!(spans.len(), 7, "{kind}");
        assert!(spans.iter().all(|s| s.trace_id.high == high), "{kind}");
        let want = p.payloads[0].spans[0].start_time + 5_000_000_000;
        assert_eq!(spans[0].start_time, want, "{kind}");
    }
}

#[test]
fn encode_prefix_sends_only_the_first_spans_stamped() {
    let kind = TransportKind::UdpCompact;
    let p = pool(kind, TraceShape::default(), 500, 500);
    let payload = &p.payloads[0];
    let mut out = Vec::new();
    let high = round_high(0, 9);
    payload
        .encode_prefix(20, high, 0, kind.encoding(), &mut out)
        .expect("encodes");
    let batch = decode(kind, &out);
    assert_eq!(batch.spans.len(), 20);
    assert!(batch.spans.iter().all(|s| s.trace_id.high == high));
    assert_eq!(
        batch.spans[1].parent_span_id(),
        Some(batch.spans[0].span_id)
    );
}

#[test]
fn a_span_too_large_for_a_datagram_is_an_error_not_a_panic() {
    let shape = TraceShape {
        spans_per_trace: 2,
        tags_per_span: 5_000,
        services: 1,
    };
    let mut g = TraceGenerator::new(shape, 1, 0);
    let err = PayloadPool::build(&mut g, limits(TransportKind::UdpCompact, 500), 2)
        .expect_err("a 5,000-tag span exceeds 65,000 bytes");
    assert!(
        matches!(err, PayloadError::SpanTooLarge { limit: 65_000, .. }),
        "{err}"
    );
}

#[test]
fn protocol_matches_the_transport() {
    assert_eq!(
        TransportKind::UdpCompact.encoding().protocol(),
        Some(Protocol::Compact)
    );
    assert_eq!(
        TransportKind::UdpBinary.encoding().protocol(),
        Some(Protocol::Binary)
    );
}
