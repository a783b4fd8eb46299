//! OTLP load tests (ignored by default; run in release):
//!
//! ```text
//! cargo test -p clew-ingest --release --test it -- --ignored --nocapture otlp_load
//! ```
//!
//! Closed loop: `CLEW_LOAD_CONCURRENCY` (default 4) requests in flight, each
//! an `ExportTraceServiceRequest` of 512 spans shaped like Jaeger tracegen's
//! (64 traces of a `lets-go` server root and 7 `child-span-NN` clients with
//! 11 `attr_KK=val_VV` attributes), for `CLEW_LOAD_SECS` (default 5)
//! seconds, into a MemoryStore. Every request gets fresh trace IDs (patched
//! into pre-encoded bytes), so the store sees new traces as in production.
//! Prints spans/s accepted, the process's CPU use (client included: it
//! runs in this process) and peak RSS. Also times decode alone on one core.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use clew_codec_otlp::proto::collector::trace::v1::ExportTraceServiceRequest;
use clew_codec_otlp::proto::common::v1::{AnyValue, KeyValue, any_value};
use clew_codec_otlp::proto::resource::v1::Resource;
use clew_codec_otlp::proto::trace::v1::{ResourceSpans, ScopeSpans, Span as PbSpan};
use clew_ingest::{IngestConfig, IngestMetrics, Pipeline, otlp_grpc_service, otlp_http_router};
use clew_model::Span;
use clew_store::{MemoryStore, MemoryStoreConfig, StoreError, TraceWriter};
use prost::Message;
use tonic::service::Routes;

use crate::harness::{RawCodec, serve_grpc, serve_http};

const SPANS_PER_REQUEST: usize = 512;
const SPANS_PER_TRACE: usize = 8;
/// High half of every trace ID in the template; replaced per request.
const MARK: [u8; 8] = [0xc1, 0xe5, 0x7a, 0x3d, 0x91, 0x0b, 0x44, 0xf2];

struct StoreThenCount {
    store: MemoryStore,
    count: AtomicU64,
}

#[async_trait]
impl TraceWriter for StoreThenCount {
    async fn write_spans(&self, spans: Vec<Span>) -> Result<(), StoreError> {
        let n = spans.len() as u64;
        self.store.write_spans(spans).await?;
        self.count.fetch_add(n, Ordering::Relaxed);
        Ok(())
    }
}

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn kv(key: String, value: String) -> KeyValue {
    KeyValue {
        key,
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value)),
        }),
    }
}

/// 512 tracegen-shaped spans; trace IDs are `MARK ‖ trace number`.
fn template() -> ExportTraceServiceRequest {
    let t0 = 1_700_000_000_000_000_000u64;
    let mut spans = Vec::with_capacity(SPANS_PER_REQUEST);
    let mut attr = 0usize;
    for t in 0..(SPANS_PER_REQUEST / SPANS_PER_TRACE) as u64 {
        let mut trace_id = MARK.to_vec();
        trace_id.extend_from_slice(&(t + 1).to_be_bytes());
        let root_id = ((t + 1) << 8).to_be_bytes().to_vec();
        spans.push(PbSpan {
            trace_id: trace_id.clone(),
            span_id: root_id.clone(),
            name: "lets-go".into(),
            kind: 2,
            start_time_unix_nano: t0,
            end_time_unix_nano: t0 + 1_000_000,
            attributes: vec![
                kv("peer.service".into(), "tracegen-server".into()),
                kv("peer.host.ipv4".into(), "10.0.0.1".into()),
            ],
            ..Default::default()
        });
        for c in 1..SPANS_PER_TRACE as u64 {
            let attributes = (0..11)
                .map(|_| {
                    attr += 1;
                    kv(
                        format!("attr_{:02}", attr % 97),
                        format!("val_{:02}", attr % 1000),
                    )
                })
                .collect();
            spans.push(PbSpan {
                trace_id: trace_id.clone(),
                span_id: (((t + 1) << 8) | c).to_be_bytes().to_vec(),
                parent_span_id: root_id.clone(),
                name: format!("child-span-{c:02}"),
                kind: 3,
                start_time_unix_nano: t0 + c * 1_000,
                end_time_unix_nano: t0 + c * 1_000 + 500_000,
                attributes,
                ..Default::default()
            });
        }
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name".into(), "tracegen".into())],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            schema_url: String::new(),
        }],
    }
}

/// Encoded template plus where its trace IDs' high halves are.
struct Payload {
    bytes: Vec<u8>,
    marks: Vec<usize>,
}

impl Payload {
    fn new() -> Self {
        let bytes = template().encode_to_vec();
        let marks: Vec<usize> = (0..bytes.len().saturating_sub(8))
            .filter(|&i| bytes[i..i + 8] == MARK)
            .collect();
        assert_eq!(marks.len(), SPANS_PER_REQUEST, "one mark per span");
        Payload { bytes, marks }
    }

    /// A copy with trace IDs unique to request `n`.
    fn stamped(&self, n: u64) -> Vec<u8> {
        let mut out = self.bytes.clone();
        for &at in &self.marks {
            out[at..at + 8].copy_from_slice(&(n | 1 << 63).to_be_bytes());
        }
        out
    }
}

/// (user+system CPU seconds, peak RSS in MiB) of this process.
fn cpu_and_peak_rss() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 (utime, stime) are 12 and 13 after the command name; 100 Hz ticks.
    let cpu = (ticks(11) + ticks(12)) / 100.0;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm_kb = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    (cpu, hwm_kb / 1024.0)
}

fn sink() -> Arc<StoreThenCount> {
    Arc::new(StoreThenCount {
        store: MemoryStore::new(MemoryStoreConfig {
            max_spans: 50_000_000,
            max_bytes: 16 << 30,
        }),
        count: AtomicU64::new(0),
    })
}

fn report(what: &str, sink: &StoreThenCount, elapsed: Duration, cpu0: f64, requests: u64) {
    let written = sink.count.load(Ordering::Relaxed);
    let (cpu1, rss) = cpu_and_peak_rss();
    let secs = elapsed.as_secs_f64();
    println!(
        "{what}: {requests} requests, {written} spans stored in {secs:.2} s = {:.0} spans/s; \
         CPU {:.2} cores (client included); peak RSS {rss:.0} MiB",
        written as f64 / secs,
        (cpu1 - cpu0) / secs,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load test; run in release with --ignored"]
async fn otlp_load_grpc() {
    let secs: u64 = env("CLEW_LOAD_SECS", 5);
    let concurrency: usize = env("CLEW_LOAD_CONCURRENCY", 4);
    let payload = Arc::new(Payload::new());

    // Decode alone, one core.
    let sample = Bytes::from(payload.stamped(1));
    let rounds = 500;
    let t = Instant::now();
    for _ in 0..rounds {
        let d = clew_codec_otlp::decode(&sample).expect("decodes");
        assert_eq!(d.spans.len(), SPANS_PER_REQUEST);
    }
    let per = t.elapsed() / rounds;
    println!(
        "decode: {} B request of {SPANS_PER_REQUEST} spans in {per:?} ({:.2} M spans/s on one core)",
        sample.len(),
        SPANS_PER_REQUEST as f64 / per.as_secs_f64() / 1e6
    );

    let sink = sink();
    let metrics = Arc::new(IngestMetrics::unregistered());
    let (pipeline, task) = Pipeline::start(&IngestConfig::default(), sink.clone(), metrics.clone());
    let addr = serve_grpc(Routes::new(otlp_grpc_service(pipeline.clone(), metrics))).await;
    let channel = tonic::transport::Channel::from_shared(addr)
        .expect("uri")
        .connect()
        .await
        .expect("connects");

    let counter = Arc::new(AtomicU64::new(1));
    let (cpu0, _) = cpu_and_peak_rss();
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (channel, payload, counter) = (channel.clone(), payload.clone(), counter.clone());
        workers.push(tokio::spawn(async move {
            let mut grpc = tonic::client::Grpc::new(channel);
            let path = http::uri::PathAndQuery::from_static(
                "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            );
            let mut sent = 0u64;
            while Instant::now() < deadline {
                let body = payload.stamped(counter.fetch_add(1, Ordering::Relaxed));
                grpc.ready().await.expect("ready");
                grpc.unary::<Vec<u8>, Vec<u8>, _>(
                    tonic::Request::new(body),
                    path.clone(),
                    RawCodec,
                )
                .await
                .expect("export accepted");
                sent += 1;
            }
            sent
        }));
    }
    let mut requests = 0;
    for w in workers {
        requests += w.await.expect("worker");
    }
    drop(pipeline);
    task.drain_and_stop().await;
    report("otlp grpc", &sink, start.elapsed(), cpu0, requests);
    assert_eq!(
        sink.count.load(Ordering::Relaxed),
        requests * SPANS_PER_REQUEST as u64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load test; run in release with --ignored"]
async fn otlp_load_http() {
    let secs: u64 = env("CLEW_LOAD_SECS", 5);
    let concurrency: usize = env("CLEW_LOAD_CONCURRENCY", 4);
    let payload = Arc::new(Payload::new());
    let sink = sink();
    let metrics = Arc::new(IngestMetrics::unregistered());
    let (pipeline, task) = Pipeline::start(&IngestConfig::default(), sink.clone(), metrics.clone());
    let url = format!(
        "{}/v1/traces",
        serve_http(otlp_http_router(pipeline.clone(), metrics)).await
    );
    let client = reqwest::Client::new();

    let counter = Arc::new(AtomicU64::new(1));
    let (cpu0, _) = cpu_and_peak_rss();
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, url, payload, counter) = (
            client.clone(),
            url.clone(),
            payload.clone(),
            counter.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut sent = 0u64;
            while Instant::now() < deadline {
                let body = payload.stamped(counter.fetch_add(1, Ordering::Relaxed));
                let resp = client
                    .post(&url)
                    .header("content-type", "application/x-protobuf")
                    .body(body)
                    .send()
                    .await
                    .expect("sent");
                assert_eq!(resp.status(), reqwest::StatusCode::OK);
                resp.bytes().await.expect("reply");
                sent += 1;
            }
            sent
        }));
    }
    let mut requests = 0;
    for w in workers {
        requests += w.await.expect("worker");
    }
    drop(pipeline);
    task.drain_and_stop().await;
    report("otlp http", &sink, start.elapsed(), cpu0, requests);
    assert_eq!(
        sink.count.load(Ordering::Relaxed),
        requests * SPANS_PER_REQUEST as u64
    );
}
