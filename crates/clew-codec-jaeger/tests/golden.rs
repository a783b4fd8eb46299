//! A small `Batch`, assembled byte by byte from jaeger.thrift field ids and
//! the protocol specs, decoded in both protocols; every field is checked.

use std::sync::Arc;

use clew_codec_jaeger::{ClientStats, JaegerBatch, Protocol, decode_batch, encode_batch};
use clew_model::{Bytes, KeyValue, Log, Process, Reference, Span, SpanId, TraceId};

/// Compact protocol: field headers are `(delta << 4) | type`, ints zigzag varints.
#[rustfmt::skip]
const COMPACT: &[u8] = &[
    0x1c,                               // Batch.1 process: struct
      0x18, 3, b's', b'v', b'c',        //   Process.1 serviceName
      0x19, 0x1c,                       //   Process.2 tags: list<struct> size 1
        0x18, 1, b'h', 0x15, 0x00, 0x18, 1, b'x', 0x00, // Tag{key h, STRING, vStr x}
      0x00,
    0x19, 0x1c,                         // Batch.2 spans: list<struct> size 1
      0x16, 0x0a,                       //   Span.1 traceIdLow 5
      0x16, 0x02,                       //   Span.2 traceIdHigh 1
      0x16, 0x0e,                       //   Span.3 spanId 7
      0x16, 0x06,                       //   Span.4 parentSpanId 3
      0x18, 2, b'o', b'p',              //   Span.5 operationName
      0x19, 0x1c,                       //   Span.6 references, 1 struct
        0x15, 0x02, 0x16, 0x12, 0x16, 0x00, 0x16, 0x10, 0x00, // FOLLOWS_FROM low 9 high 0 span 8
      0x15, 0x02,                       //   Span.7 flags 1
      0x16, 0x80, 0x89, 0x7a,           //   Span.8 startTime 1_000_000 µs
      0x16, 0xf4, 0x03,                 //   Span.9 duration 250 µs
      0x19, 0x4c,                       //   Span.10 tags, 4 structs
        0x18, 1, b'b', 0x15, 0x04, 0x31, 0x00,                 // BOOL true (field 5 in header)
        0x18, 1, b'd', 0x15, 0x02, 0x27, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0x00, // DOUBLE 1.5
        0x18, 1, b'l', 0x15, 0x06, 0x46, 0x03, 0x00,           // LONG -2
        0x18, 1, b'y', 0x15, 0x08, 0x58, 1, 0xab, 0x00,        // BINARY [ab]
      0x19, 0x1c,                       //   Span.11 logs, 1 struct
        0x16, 0x80, 0x92, 0xf4, 0x01,   //     Log.1 timestamp 2_000_000 µs
        0x19, 0x1c,                     //     Log.2 fields, 1 struct
          0x18, 5, b'e', b'v', b'e', b'n', b't', 0x15, 0x00, 0x18, 1, b'e', 0x00,
        0x00,
      0x00,
    0x16, 0x54,                         // Batch.3 seqNo 42
    0x1c, 0x16, 0x02, 0x16, 0x04, 0x16, 0x06, 0x00, // Batch.4 stats 1, 2, 3
    0x00,
];

const STRUCT: u8 = 12;
const LIST: u8 = 15;
const STRING: u8 = 11;
const I64: u8 = 10;
const I32: u8 = 8;
const BOOL: u8 = 2;
const DOUBLE: u8 = 4;

/// Binary protocol: field header = type byte + big-endian i16 id.
fn binary_golden() -> Vec<u8> {
    let mut b = Vec::new();
    let field = |b: &mut Vec<u8>, t: u8, id: i16| {
        b.push(t);
        b.extend_from_slice(&id.to_be_bytes());
    };
    let string = |b: &mut Vec<u8>, s: &[u8]| {
        b.extend_from_slice(&(s.len() as i32).to_be_bytes());
        b.extend_from_slice(s);
    };
    let list = |b: &mut Vec<u8>, n: i32| {
        b.push(STRUCT);
        b.extend_from_slice(&n.to_be_bytes());
    };
    let i64f = |b: &mut Vec<u8>, id: i16, v: i64| {
        b.push(I64);
        b.extend_from_slice(&id.to_be_bytes());
        b.extend_from_slice(&v.to_be_bytes());
    };
    let i32f = |b: &mut Vec<u8>, id: i16, v: i32| {
        b.push(I32);
        b.extend_from_slice(&id.to_be_bytes());
        b.extend_from_slice(&v.to_be_bytes());
    };
    let tag_head = |b: &mut Vec<u8>, key: &[u8], vtype: i32| {
        b.push(STRING);
        b.extend_from_slice(&1i16.to_be_bytes());
        b.extend_from_slice(&(key.len() as i32).to_be_bytes());
        b.extend_from_slice(key);
        b.push(I32);
        b.extend_from_slice(&2i16.to_be_bytes());
        b.extend_from_slice(&vtype.to_be_bytes());
    };

    field(&mut b, STRUCT, 1); // process
    field(&mut b, STRING, 1);
    string(&mut b, b"svc");
    field(&mut b, LIST, 2);
    list(&mut b, 1);
    tag_head(&mut b, b"h", 0);
    field(&mut b, STRING, 3);
    string(&mut b, b"x");
    b.push(0);
    b.push(0);

    field(&mut b, LIST, 2); // spans
    list(&mut b, 1);
    i64f(&mut b, 1, 5);
    i64f(&mut b, 2, 1);
    i64f(&mut b, 3, 7);
    i64f(&mut b, 4, 3);
    field(&mut b, STRING, 5);
    string(&mut b, b"op");
    field(&mut b, LIST, 6);
    list(&mut b, 1);
    i32f(&mut b, 1, 1);
    i64f(&mut b, 2, 9);
    i64f(&mut b, 3, 0);
    i64f(&mut b, 4, 8);
    b.push(0);
    i32f(&mut b, 7, 1);
    i64f(&mut b, 8, 1_000_000);
    i64f(&mut b, 9, 250);
    field(&mut b, LIST, 10);
    list(&mut b, 4);
    tag_head(&mut b, b"b", 2);
    field(&mut b, BOOL, 5);
    b.push(1);
    b.push(0);
    tag_head(&mut b, b"d", 1);
    field(&mut b, DOUBLE, 4);
    b.extend_from_slice(&[0x3f, 0xf8, 0, 0, 0, 0, 0, 0]);
    b.push(0);
    tag_head(&mut b, b"l", 3);
    i64f(&mut b, 6, -2);
    b.push(0);
    tag_head(&mut b, b"y", 4);
    field(&mut b, STRING, 7);
    string(&mut b, &[0xab]);
    b.push(0);
    field(&mut b, LIST, 11);
    list(&mut b, 1);
    i64f(&mut b, 1, 2_000_000);
    field(&mut b, LIST, 2);
    list(&mut b, 1);
    tag_head(&mut b, b"event", 0);
    field(&mut b, STRING, 3);
    string(&mut b, b"e");
    b.push(0);
    b.push(0); // end log
    b.push(0); // end span

    i64f(&mut b, 3, 42);
    field(&mut b, STRUCT, 4);
    i64f(&mut b, 1, 1);
    i64f(&mut b, 2, 2);
    i64f(&mut b, 3, 3);
    b.push(0);
    b.push(0);
    b
}

fn expected() -> JaegerBatch {
    let mut process = Process::new("svc");
    process.tags.push(KeyValue::string("h", "x"));
    let trace = TraceId::new(1, 5);
    let mut span = Span::new(trace, SpanId(7), "op", Arc::new(process));
    span.references = vec![
        Reference::child_of(trace, SpanId(3)),
        Reference::follows_from(TraceId::new(0, 9), SpanId(8)),
    ];
    span.flags = 1;
    span.start_time = 1_000_000_000;
    span.duration = 250_000;
    span.tags = vec![
        KeyValue::bool("b", true),
        KeyValue::f64("d", 1.5),
        KeyValue::i64("l", -2),
        KeyValue::binary("y", Bytes::from_static(&[0xab])),
    ];
    span.logs = vec![Log {
        timestamp: 2_000_000_000,
        fields: vec![KeyValue::string("event", "e")],
    }];
    JaegerBatch {
        spans: vec![span],
        seq_no: Some(42),
        stats: Some(ClientStats {
            full_queue_dropped_spans: 1,
            too_large_dropped_spans: 2,
            failed_to_emit_spans: 3,
        }),
        repaired_strings: 0,
    }
}

#[test]
fn compact_golden_batch_decodes_every_field() {
    let batch = decode_batch(&Bytes::from_static(COMPACT), Protocol::Compact).expect("decodes");
    assert_eq!(batch, expected());
    assert!(batch.spans[0].warnings.is_empty());
}

#[test]
fn binary_golden_batch_decodes_every_field() {
    let batch = decode_batch(&Bytes::from(binary_golden()), Protocol::Binary).expect("decodes");
    assert_eq!(batch, expected());
}

/// Strings longer than `Str`'s inline capacity are views into the request
/// body (no copy); shorter ones live in the `Str` itself (no reference to
/// the body at all).
#[test]
fn long_strings_share_the_request_body_and_short_ones_are_inline() {
    let mut spans = expected().spans;
    let long = "a-long-operation-name-of-more-than-23-bytes";
    spans[0].operation_name = long.into();
    let process = spans[0].process.clone();
    let mut out = Vec::new();
    encode_batch(&process, &spans, Protocol::Binary, &mut out);
    let body = Bytes::from(out);
    let batch = decode_batch(&body, Protocol::Binary).expect("decodes");
    let range = body.as_ptr() as usize..body.as_ptr() as usize + body.len();
    let at = |s: &str| s.as_ptr() as usize;
    assert_eq!(batch.spans[0].operation_name, long);
    assert!(
        range.contains(&at(&batch.spans[0].operation_name)),
        "long string was copied"
    );
    assert!(batch.spans[0].operation_name.is_shared());
    let short = &batch.spans[0].process.service_name;
    assert!(short.len() <= clew_model::INLINE_STR_MAX);
    assert!(!short.is_shared());
    assert!(
        !range.contains(&at(short)),
        "short string points into the body"
    );
}

#[test]
fn re_encoding_the_golden_batch_round_trips() {
    let want = expected();
    for protocol in [Protocol::Compact, Protocol::Binary] {
        let mut out = Vec::new();
        let process = want.spans[0].process.clone();
        encode_batch(&process, &want.spans, protocol, &mut out);
        let got = decode_batch(&Bytes::from(out), protocol).expect("decodes");
        assert_eq!(got.spans, want.spans);
    }
}

/// Writes valid payloads as seeds for the cargo-fuzz targets in `fuzz/`.
/// Run by hand: `cargo test -p clew-codec-jaeger --test golden -- --ignored write_fuzz_seeds`.
#[test]
#[ignore = "writes files into fuzz/seeds"]
fn write_fuzz_seeds() {
    use clew_codec_jaeger::encode_emit_batch_message;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds");
    let want = expected();
    let process = want.spans[0].process.clone();
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).expect("create seed dir");
        std::fs::write(dir.join(name), bytes).expect("write seed");
    };
    write("jaeger_batch_compact", "golden", COMPACT);
    write("jaeger_batch_binary", "golden", &binary_golden());
    for (tag, protocol) in [(0u8, Protocol::Compact), (1u8, Protocol::Binary)] {
        let mut datagram = vec![tag];
        encode_emit_batch_message(&process, &want.spans, 1, protocol, &mut datagram);
        write(
            "agent_envelope",
            &format!("emit_batch_{protocol:?}").to_lowercase(),
            &datagram,
        );
    }
}
