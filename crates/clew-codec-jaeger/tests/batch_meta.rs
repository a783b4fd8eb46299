//! `Batch.seqNo` and `Batch.stats`: what the `_with` encoders write comes
//! back from the decoder, and [`BATCH_META_MAX_BYTES`] bounds their size.

use std::sync::Arc;

use clew_codec_jaeger::{
    BATCH_META_MAX_BYTES, BatchMeta, ClientStats, JaegerBatch, Protocol, decode_batch,
    decode_emit_batch_args, encode_batch, encode_batch_with, encode_emit_batch_message,
    encode_emit_batch_message_with, parse_agent_envelope,
};
use clew_model::{Bytes, Process, Span, SpanId, TraceId};

const PROTOCOLS: [Protocol; 2] = [Protocol::Compact, Protocol::Binary];

fn fixture() -> (Arc<Process>, Vec<Span>) {
    let process = Arc::new(Process::new("svc"));
    let spans = (1..=3)
        .map(|i| Span::new(TraceId::new(0, i), SpanId(i), "op", process.clone()))
        .collect();
    (process, spans)
}

fn stats(a: i64, b: i64, c: i64) -> ClientStats {
    ClientStats {
        full_queue_dropped_spans: a,
        too_large_dropped_spans: b,
        failed_to_emit_spans: c,
    }
}

/// Metas covering absent fields, small values and the widest encodings.
fn metas() -> Vec<BatchMeta> {
    vec![
        BatchMeta::default(),
        BatchMeta {
            seq_no: Some(1),
            stats: None,
        },
        BatchMeta {
            seq_no: None,
            stats: Some(stats(4, 5, 6)),
        },
        BatchMeta {
            seq_no: Some(42),
            stats: Some(stats(0, 0, 0)),
        },
        BatchMeta {
            seq_no: Some(i64::MAX),
            stats: Some(stats(i64::MIN, i64::MAX, i64::MIN)),
        },
        BatchMeta {
            seq_no: Some(i64::MIN),
            stats: Some(stats(i64::MAX, i64::MIN, i64::MAX)),
        },
    ]
}

fn meta_of(b: &JaegerBatch) -> BatchMeta {
    BatchMeta {
        seq_no: b.seq_no,
        stats: b.stats,
    }
}

fn emit(spans: &[Span], process: &Process, meta: &BatchMeta, p: Protocol) -> JaegerBatch {
    let mut dgram = Vec::new();
    encode_emit_batch_message_with(process, spans, 9, meta, p, &mut dgram);
    let dgram = Bytes::from(dgram);
    let env = parse_agent_envelope(&dgram, p).expect("envelope");
    assert_eq!(env.seq_id, 9);
    decode_emit_batch_args(&dgram, env.args, p).expect("emitBatch args")
}

#[test]
fn batch_body_round_trips_meta_in_both_protocols() {
    let (process, spans) = fixture();
    for p in PROTOCOLS {
        for meta in metas() {
            let mut body = Vec::new();
            encode_batch_with(&process, &spans, &meta, p, &mut body);
            let batch = decode_batch(&Bytes::from(body), p).expect("decode");
            assert_eq!(meta_of(&batch), meta, "{p:?}");
            assert_eq!(batch.spans, spans, "{p:?}");
        }
    }
}

#[test]
fn emit_batch_datagram_round_trips_meta_in_both_protocols() {
    let (process, spans) = fixture();
    for p in PROTOCOLS {
        for meta in metas() {
            let batch = emit(&spans, &process, &meta, p);
            assert_eq!(meta_of(&batch), meta, "{p:?}");
            assert_eq!(batch.spans, spans, "{p:?}");
        }
    }
}

#[test]
fn plain_encoders_write_no_meta() {
    let (process, spans) = fixture();
    for p in PROTOCOLS {
        let mut plain = Vec::new();
        encode_batch(&process, &spans, p, &mut plain);
        let mut with = Vec::new();
        encode_batch_with(&process, &spans, &BatchMeta::default(), p, &mut with);
        assert_eq!(plain, with);
        let batch = decode_batch(&Bytes::from(plain), p).expect("decode");
        assert_eq!((batch.seq_no, batch.stats), (None, None));

        let mut plain = Vec::new();
        encode_emit_batch_message(&process, &spans, 3, p, &mut plain);
        let mut with = Vec::new();
        encode_emit_batch_message_with(&process, &spans, 3, &BatchMeta::default(), p, &mut with);
        assert_eq!(plain, with);
    }
}

#[test]
fn meta_never_adds_more_than_the_bound() {
    let (process, spans) = fixture();
    let mut widest = 0;
    for p in PROTOCOLS {
        let mut plain = Vec::new();
        encode_emit_batch_message(&process, &spans, 1, p, &mut plain);
        let mut plain_body = Vec::new();
        encode_batch(&process, &spans, p, &mut plain_body);
        for meta in metas() {
            let mut with = Vec::new();
            encode_emit_batch_message_with(&process, &spans, 1, &meta, p, &mut with);
            let added = with.len() - plain.len();
            assert!(added <= BATCH_META_MAX_BYTES, "{p:?} {meta:?}: {added}");
            let mut body = Vec::new();
            encode_batch_with(&process, &spans, &meta, p, &mut body);
            assert_eq!(body.len() - plain_body.len(), added, "{p:?} {meta:?}");
            widest = widest.max(added);
        }
    }
    // The bound is tight: extreme values in binary reach it exactly.
    assert_eq!(widest, BATCH_META_MAX_BYTES);
}
