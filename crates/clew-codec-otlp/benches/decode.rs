//! Decode + map throughput on Jaeger tracegen's span shape (10-span traces:
//! a `lets-go` server root with `peer.service` / `peer.host.ipv4`, then
//! `child-span-NN` client spans with 11 `attr_KK=val_VV` string attributes),
//! 512 spans per export request, as an SDK batch exporter sends them.
//!
//! `cargo bench -p clew-codec-otlp --bench decode`

use bytes::Bytes;
use clew_codec_otlp::proto::collector::trace::v1::ExportTraceServiceRequest;
use clew_codec_otlp::proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use clew_codec_otlp::proto::resource::v1::Resource;
use clew_codec_otlp::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use prost::Message;

const SPANS: usize = 512;

fn attr(key: &str, v: String) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v)),
        }),
    }
}

fn tracegen_request() -> ExportTraceServiceRequest {
    let mut spans = Vec::with_capacity(SPANS);
    let mut n = 0u64;
    for i in 0..SPANS {
        let trace = (i / 10) as u64 + 1;
        let root = i % 10 == 0;
        let mut s = Span {
            trace_id: [trace.to_be_bytes(), 7u64.to_be_bytes()].concat(),
            span_id: (i as u64 + 1).to_be_bytes().to_vec(),
            start_time_unix_nano: 1_700_000_000_000_000_000 + i as u64 * 1000,
            end_time_unix_nano: 1_700_000_000_000_100_000 + i as u64 * 1000,
            ..Default::default()
        };
        if root {
            s.name = "lets-go".into();
            s.kind = 2;
            s.attributes = vec![
                attr("peer.service", "tracegen-server".into()),
                attr("peer.host.ipv4", "10.0.0.1".into()),
            ];
        } else {
            s.name = format!("child-span-{:02}", i % 10);
            s.kind = 3;
            s.parent_span_id = ((i - i % 10) as u64 + 1).to_be_bytes().to_vec();
            s.attributes = (0..11)
                .map(|_| {
                    n += 1;
                    attr(
                        &format!("attr_{:02}", n % 97),
                        format!("val_{:03}", n % 1000),
                    )
                })
                .collect();
        }
        spans.push(s);
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![attr("service.name", "tracegen-00".into())],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "tracegen".into(),
                    ..Default::default()
                }),
                spans,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

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
