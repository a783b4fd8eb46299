//! Decode throughput for batches of the Jaeger `tracegen` shape.
//!
//! 500 spans per batch: traces of one root `lets-go` (server, with
//! `peer.service` and `peer.host.ipv4`) and nine `child-span-NN` children
//! (client) with 11 string tags `attr_KK=val_VV` cycling 97 keys × 1000
//! values. Run with `cargo bench -p clew-codec-jaeger --bench decode`;
//! "elements" throughput is spans/s, "bytes" throughput is MB/s.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use clew_codec_jaeger::{
    Protocol, decode_batch, decode_emit_batch_args, encode_batch, encode_emit_batch_message,
    parse_agent_envelope,
};
use clew_model::{Bytes, KeyValue, Process, Reference, Span, SpanId, TraceId};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const SPANS: usize = 500;
const SPANS_PER_TRACE: usize = 10;

fn tracegen_batch() -> (Process, Vec<Span>) {
    let mut process = Process::new("tracegen");
    process.tags = vec![
        KeyValue::string("jaeger.version", "Go-2.30.0"),
        KeyValue::string("hostname", "bench-host"),
        KeyValue::string("ip", "10.0.0.7"),
        KeyValue::string("client-uuid", "6f1c2d3e4b5a6978"),
    ];
    let p = Arc::new(process.clone());
    let mut spans = Vec::with_capacity(SPANS);
    let mut attr = 0usize;
    let start = 1_700_000_000_000_000_000u64;
    for i in 0..SPANS {
        let trace = TraceId::new(0x1234_5678_9abc_def0, (i / SPANS_PER_TRACE) as u64 + 1);
        let n = i % SPANS_PER_TRACE;
        let root = SpanId(((i / SPANS_PER_TRACE) as u64) << 8 | 1);
        let mut s = if n == 0 {
            let mut s = Span::new(trace, root, "lets-go", p.clone());
            s.tags.push(KeyValue::string("span.kind", "server"));
            s.tags
                .push(KeyValue::string("peer.service", "tracegen-server"));
            s.tags.push(KeyValue::string("peer.host.ipv4", "10.0.0.8"));
            s
        } else {
            let mut s = Span::new(
                trace,
                SpanId(root.0 + n as u64),
                format!("child-span-{n:02}"),
                p.clone(),
            );
            s.references.push(Reference::child_of(trace, root));
            s.tags.push(KeyValue::string("span.kind", "client"));
            for _ in 0..11 {
                let key = format!("attr_{:02}", attr % 97);
                let value = format!("val_{:02}", attr % 1000);
                s.tags.push(KeyValue::string(key, value));
                attr += 1;
            }
            s
        };
        s.flags = 1;
        s.start_time = start + (i as u64) * 1_000_000;
        s.duration = 123_000;
        spans.push(s);
    }
    (process, spans)
}

fn bench(c: &mut Criterion) {
    let (process, spans) = tracegen_batch();
    for (name, protocol) in [("compact", Protocol::Compact), ("binary", Protocol::Binary)] {
        let mut body = Vec::new();
        encode_batch(&process, &spans, protocol, &mut body);
        let body = Bytes::from(body);
        let mut datagram = Vec::new();
        encode_emit_batch_message(&process, &spans, 1, protocol, &mut datagram);
        let datagram = Bytes::from(datagram);
        eprintln!(
            "{name}: {} bytes per 500-span batch ({:.0} B/span)",
            body.len(),
            body.len() as f64 / SPANS as f64
        );

        for (unit, throughput) in [
            ("spans", Throughput::Elements(SPANS as u64)),
            ("bytes", Throughput::Bytes(body.len() as u64)),
        ] {
            let mut g = c.benchmark_group(format!("decode_batch_{unit}"));
            g.throughput(throughput);
            g.measurement_time(Duration::from_secs(3));
            g.bench_function(name, |b| {
                b.iter(|| decode_batch(black_box(&body), protocol).map(|batch| batch.spans.len()))
            });
            g.finish();
        }

        let mut g = c.benchmark_group("decode_agent_datagram_spans");
        g.throughput(Throughput::Elements(SPANS as u64));
        g.measurement_time(Duration::from_secs(3));
        g.bench_function(name, |b| {
            b.iter(|| {
                let env = parse_agent_envelope(black_box(&datagram), protocol)
                    .map_err(|e| e.to_string())?;
                decode_emit_batch_args(&datagram, env.args, protocol)
                    .map(|batch| batch.spans.len())
                    .map_err(|e| e.to_string())
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
