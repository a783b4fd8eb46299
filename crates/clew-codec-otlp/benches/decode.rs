//! Decode + map throughput on Jaeger tracegen's span shape (10-span traces:
//! a `lets-go` server root with `peer.service` / `peer.host.ipv4`, then
//! `child-span-NN` client spans with 11 `attr_KK=val_VV` string attributes),
//! 512 spans per export request, as an SDK batch exporter sends them.
//!
//! `cargo bench -p clew-codec-otlp --bench decode`

mod tracegen;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use prost::Message;
use tracegen::{SPANS, tracegen_request};

fn bench(c: &mut Criterion) {
    let req = tracegen_request();
    let body = Bytes::from(req.encode_to_vec());
    let json = clew_codec_otlp::json::encode_request(&req);
    let mut g = c.benchmark_group("otlp_decode_512_tracegen_spans");
    g.throughput(Throughput::Elements(SPANS as u64));
    // Decode + map, the spans handed on (dropping them is the store's cost,
    // measured separately below).
    g.bench_function("zero_copy", |b| {
        b.iter_with_large_drop(|| clew_codec_otlp::decode(&body))
    });
    g.bench_function("zero_copy_incl_drop", |b| {
        b.iter(|| clew_codec_otlp::decode(&body).map(|d| d.spans.len()))
    });
    g.bench_function("prost", |b| {
        b.iter_with_large_drop(|| clew_codec_otlp::decode_prost(&body))
    });
    g.bench_function("json", |b| {
        b.iter_with_large_drop(|| clew_codec_otlp::json::decode(&json))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
