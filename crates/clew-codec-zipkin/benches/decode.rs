//! Decode + map throughput per Zipkin format, on Jaeger tracegen's span
//! shape (10-span traces: a `lets-go` server root, then `child-span-NN`
//! client spans with 11 `attr_KK=val_VV` tags), 512 spans per payload.
//!
//! `cargo bench -p clew-codec-zipkin --bench decode`

use std::sync::Arc;

use bytes::Bytes;
use clew_codec_zipkin::thrift::{self, Protocol};
use clew_codec_zipkin::{json_v1, json_v2, proto_v2};
use clew_model::{KeyValue, Process, Reference, Span, SpanId, TraceId};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const SPANS: usize = 512;

fn tracegen_spans() -> Vec<Span> {
    let mut p = Process::new("tracegen-00");
    p.tags.push(KeyValue::string("ip", "10.0.0.7"));
    let process = Arc::new(p);
    let mut n = 0u64;
    (0..SPANS)
        .map(|i| {
            let trace = TraceId::new(0, (i / 10) as u64 + 1);
            let root = i % 10 == 0;
            let name = if root {
                "lets-go".to_owned()
            } else {
                format!("child-span-{:02}", i % 10)
            };
            let mut s = Span::new(trace, SpanId(i as u64 + 1), name, process.clone());
            s.start_time = 1_700_000_000_000_000_000 + i as u64 * 1000;
            s.duration = 100_000;
            if root {
                s.tags.push(KeyValue::string("span.kind", "server"));
                s.tags
                    .push(KeyValue::string("peer.service", "tracegen-server"));
            } else {
                s.references
                    .push(Reference::child_of(trace, SpanId((i - i % 10) as u64 + 1)));
                s.tags.push(KeyValue::string("span.kind", "client"));
                for _ in 0..11 {
                    n += 1;
                    s.tags.push(KeyValue::string(
                        format!("attr_{:02}", n % 97),
                        format!("val_{:03}", n % 1000),
                    ));
                }
            }
            s
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let spans = tracegen_spans();
    let mut v2_json = Vec::new();
    json_v2::encode(&spans, &mut v2_json).expect("encodes");
    let mut v1_json = Vec::new();
    json_v1::encode(&spans, &mut v1_json).expect("encodes");
    let mut proto = Vec::new();
    proto_v2::encode(&spans, &mut proto);
    let mut compact = Vec::new();
    thrift::encode_span_list(&spans, Protocol::Compact, &mut compact);
    let compact = Bytes::from(compact);

    let mut g = c.benchmark_group("zipkin_decode_512_tracegen_spans");
    g.throughput(Throughput::Elements(SPANS as u64));
    g.bench_function("thrift_compact", |b| {
        b.iter_with_large_drop(|| thrift::decode_span_list(&compact, &compact, Protocol::Compact))
    });
    g.bench_function("proto_v2", |b| {
        b.iter_with_large_drop(|| proto_v2::decode(&proto))
    });
    g.bench_function("json_v2", |b| {
        b.iter_with_large_drop(|| json_v2::decode(&v2_json))
    });
    g.bench_function("json_v1", |b| {
        b.iter_with_large_drop(|| json_v1::decode(&v1_json))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
