//! Hostile and broken input: never a panic, always a typed error or a
//! decoded batch; truncation is always an error.

use std::sync::Arc;

use clew_codec_jaeger::{
    DecodeError, EMIT_BATCH, EMIT_ZIPKIN_BATCH, Protocol, decode_batch, decode_emit_batch_args,
    encode_batch, encode_emit_batch_message, parse_agent_envelope,
};
use clew_model::{Bytes, KeyValue, Log, Process, Reference, Span, SpanId, TraceId};
use clew_thrift::{CompactWriter, MessageType, ProtocolWriter, TType, ThriftError};
use proptest::prelude::*;

const PROTOCOLS: [Protocol; 2] = [Protocol::Compact, Protocol::Binary];

fn sample(protocol: Protocol) -> Vec<u8> {
    let mut process = Process::new("svc");
    process.tags.push(KeyValue::string("hostname", "h"));
    let p = Arc::new(process);
    let t = TraceId::new(3, 4);
    let mut spans = Vec::new();
    for i in 1..4u64 {
        let mut s = Span::new(t, SpanId(i), format!("op-{i}"), p.clone());
        s.references.push(Reference::child_of(t, SpanId(9)));
        s.tags.push(KeyValue::i64("n", i as i64));
        s.tags.push(KeyValue::f64("f", 0.5));
        s.logs.push(Log {
            timestamp: 5_000,
            fields: vec![KeyValue::bool("b", true)],
        });
        s.start_time = 1_000_000;
        spans.push(s);
    }
    let mut out = Vec::new();
    encode_emit_batch_message(&p, &spans, 7, protocol, &mut out);
    out
}

/// Decodes a datagram the way the UDP listener does.
fn decode_datagram(bytes: &Bytes, protocol: Protocol) -> Result<usize, DecodeError> {
    let env = parse_agent_envelope(bytes, protocol)?;
    Ok(decode_emit_batch_args(bytes, env.args, protocol)?
        .spans
        .len())
}

#[test]
fn every_truncation_is_an_error() {
    for protocol in PROTOCOLS {
        let full = sample(protocol);
        assert_eq!(decode_datagram(&Bytes::from(full.clone()), protocol), Ok(3));
        for cut in 0..full.len() {
            let bytes = Bytes::copy_from_slice(&full[..cut]);
            assert!(
                decode_datagram(&bytes, protocol).is_err(),
                "{protocol:?} cut at {cut} decoded"
            );
        }
    }
}

#[test]
fn truncated_http_body_reports_offset() {
    let p = Process::new("svc");
    let s = Span::new(TraceId::new(0, 1), SpanId(1), "op", Arc::new(p.clone()));
    let mut body = Vec::new();
    encode_batch(&p, &[s], Protocol::Binary, &mut body);
    body.truncate(body.len() - 3);
    let err = decode_batch(&Bytes::from(body), Protocol::Binary).expect_err("truncated");
    assert!(
        matches!(err, DecodeError::Thrift(ThriftError::Eof { .. })),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("malformed thrift: unexpected end of input at byte")
    );
}

#[test]
fn envelopes_for_both_agent_methods() {
    for protocol in PROTOCOLS {
        let datagram = sample(protocol);
        let env = parse_agent_envelope(&datagram, protocol).expect("emitBatch");
        assert_eq!((env.method, env.seq_id), (EMIT_BATCH, 7));
    }
    // emitZipkinBatch (5775, compact): the envelope parses; the Zipkin codec decodes the args.
    let mut buf = Vec::new();
    let mut w = CompactWriter::new(&mut buf);
    w.write_message_begin(EMIT_ZIPKIN_BATCH, MessageType::Oneway, 3);
    w.write_struct_begin();
    w.write_field_begin(TType::List, 1);
    w.write_list_begin(TType::Struct, 0);
    w.write_field_stop();
    let env = parse_agent_envelope(&buf, Protocol::Compact).expect("emitZipkinBatch");
    assert_eq!((env.method, env.seq_id), (EMIT_ZIPKIN_BATCH, 3));
    assert_eq!(env.args, &buf[buf.len() - 3..]);
    // Its args are not an emitBatch: field 1 is a list, not a Batch struct.
    let datagram = Bytes::from(buf.clone());
    assert_eq!(
        decode_emit_batch_args(&datagram, env.args, Protocol::Compact),
        Err(DecodeError::MissingField("emitBatch.batch"))
    );
}

#[test]
fn envelope_rejects_wrong_protocol_and_replies() {
    let compact = sample(Protocol::Compact);
    assert!(parse_agent_envelope(&compact, Protocol::Binary).is_err());
    let binary = sample(Protocol::Binary);
    assert!(parse_agent_envelope(&binary, Protocol::Compact).is_err());
    let mut reply = Vec::new();
    CompactWriter::new(&mut reply).write_message_begin("emitBatch", MessageType::Reply, 1);
    assert!(matches!(
        parse_agent_envelope(&reply, Protocol::Compact),
        Err(DecodeError::BadEnvelope(_))
    ));
    assert!(parse_agent_envelope(&[], Protocol::Compact).is_err());
}

#[test]
fn args_outside_the_datagram_are_copied_not_trusted() {
    let datagram = Bytes::from(sample(Protocol::Compact));
    let env = parse_agent_envelope(&datagram, Protocol::Compact).expect("envelope");
    let elsewhere = env.args.to_vec();
    let got = decode_emit_batch_args(&Bytes::new(), &elsewhere, Protocol::Compact)
        .expect("decodes a copy");
    assert_eq!(got.spans.len(), 3);
}

#[test]
fn deep_nesting_in_unknown_fields_is_refused() {
    // Batch field 9 (unknown) holding structs nested 10,000 deep.
    let mut body = vec![0x9c];
    body.extend(std::iter::repeat_n(0x1c, 10_000));
    let err = decode_batch(&Bytes::from(body), Protocol::Compact).expect_err("too deep");
    assert!(
        matches!(err, DecodeError::Thrift(ThriftError::DepthLimit { .. })),
        "{err:?}"
    );
}

#[test]
fn lying_list_sizes_fail_without_huge_allocations() {
    // Batch.2 spans: list<struct> claiming 2^31-1 elements, then nothing.
    let body = vec![0x29, 0xfc, 0xff, 0xff, 0xff, 0xff, 0x07];
    let err = decode_batch(&Bytes::from(body), Protocol::Compact).expect_err("lies");
    assert!(
        matches!(err, DecodeError::Thrift(ThriftError::SizeLimit { .. })),
        "{err:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let bytes = Bytes::from(bytes);
        for protocol in PROTOCOLS {
            let _ = decode_batch(&bytes, protocol);
            let _ = decode_datagram(&bytes, protocol);
            let _ = decode_emit_batch_args(&bytes, &bytes, protocol);
        }
    }

    #[test]
    fn bit_flipped_messages_never_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..6)) {
        for protocol in PROTOCOLS {
            let mut msg = sample(protocol);
            for (i, bit) in &flips {
                let i = i.index(msg.len());
                msg[i] ^= 1 << bit;
            }
            let bytes = Bytes::from(msg);
            let _ = decode_datagram(&bytes, protocol);
            let _ = decode_batch(&bytes, protocol);
        }
    }

    #[test]
    fn spliced_garbage_never_panics(at in any::<prop::sample::Index>(), junk in proptest::collection::vec(any::<u8>(), 1..32)) {
        for protocol in PROTOCOLS {
            let mut msg = sample(protocol);
            let i = at.index(msg.len());
            msg.splice(i..i, junk.iter().copied());
            let _ = decode_datagram(&Bytes::from(msg), protocol);
        }
    }
}
