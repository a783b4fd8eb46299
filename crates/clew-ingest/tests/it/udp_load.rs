//! UDP agent load test (ignored by default; run in release):
//!
//! ```text
//! cargo test -p clew-ingest --release --test it -- --ignored --nocapture udp_load
//! ```
//!
//! Sends `CLEW_LOAD_SECS` (default 5) seconds of 300-span compact `emitBatch`
//! datagrams at `CLEW_LOAD_DPS` datagrams/s (default 1,000 ≈ 300,000 spans/s)
//! to a 6831 listener whose pipeline writes into a counting writer, then
//! reports the loss. Also times decoding one datagram on this thread.

use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use clew_codec_jaeger::{
    Protocol, decode_emit_batch_args, encode_emit_batch_message, parse_agent_envelope,
};
use clew_ingest::{AgentPort, IngestConfig, IngestMetrics, Pipeline, spawn_agent_udp};
use clew_model::{Span, TraceId};
use clew_store::{StoreError, TraceWriter};
use tokio_util::sync::CancellationToken;

use crate::harness::fixture;

#[derive(Default)]
struct CountingWriter(AtomicU64);

#[async_trait]
impl TraceWriter for CountingWriter {
    async fn write_spans(&self, spans: Vec<Span>) -> Result<(), StoreError> {
        self.0.fetch_add(spans.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

struct StoreThenCount {
    store: clew_store::MemoryStore,
    count: Arc<CountingWriter>,
}

#[async_trait]
impl TraceWriter for StoreThenCount {
    async fn write_spans(&self, spans: Vec<Span>) -> Result<(), StoreError> {
        let n = spans.len() as u64;
        self.store.write_spans(spans).await?;
        self.count.0.fetch_add(n, Ordering::Relaxed);
        Ok(())
    }
}

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load test; run in release with --ignored"]
async fn udp_load() {
    let secs: u64 = env("CLEW_LOAD_SECS", 5);
    let dps: u64 = env("CLEW_LOAD_DPS", 1_000);
    let spans_per: u64 = env("CLEW_LOAD_SPANS", 300);
    let decode_threads: usize = env("CLEW_LOAD_DECODERS", 1);

    let datagrams: Vec<Vec<u8>> = (0..64u64)
        .map(|i| {
            let (process, spans) = fixture(TraceId::new(0, i + 1), "load", spans_per);
            let mut d = Vec::new();
            encode_emit_batch_message(&process, &spans, i as i32, Protocol::Compact, &mut d);
            d
        })
        .collect();
    let size = datagrams[0].len();
    assert!(
        size <= 65_000,
        "datagram of {size} bytes is too big for UDP clients"
    );

    // Decode cost on one thread.
    let sample = Bytes::from(datagrams[0].clone());
    let t = Instant::now();
    let rounds = 2_000;
    for _ in 0..rounds {
        let env = parse_agent_envelope(&sample, Protocol::Compact).expect("envelope");
        let batch = decode_emit_batch_args(&sample, env.args, Protocol::Compact).expect("batch");
        assert_eq!(batch.spans.len() as u64, spans_per);
    }
    let per = t.elapsed() / rounds;
    println!(
        "decode: {size} B datagram of {spans_per} spans in {per:?} ({:.2} M spans/s on one core)",
        spans_per as f64 / per.as_secs_f64() / 1e6
    );

    let writer = Arc::new(CountingWriter::default());
    let metrics = Arc::new(IngestMetrics::unregistered());
    let cfg = IngestConfig {
        agent_decode_threads: decode_threads,
        ..IngestConfig::default()
    };
    // CLEW_LOAD_STORE=memory puts a MemoryStore behind the counter.
    let sink: Arc<dyn TraceWriter> = if std::env::var("CLEW_LOAD_STORE").as_deref() == Ok("memory")
    {
        Arc::new(StoreThenCount {
            store: clew_store::MemoryStore::new(clew_store::MemoryStoreConfig {
                max_spans: 20_000_000,
                max_bytes: 8 << 30,
            }),
            count: writer.clone(),
        })
    } else {
        writer.clone()
    };
    let (pipeline, task) = Pipeline::start(&cfg, sink, metrics.clone());
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let addr = socket.local_addr().expect("addr");
    let shutdown = CancellationToken::new();
    let agent = spawn_agent_udp(
        socket,
        AgentPort::Compact6831,
        pipeline.clone(),
        metrics.clone(),
        shutdown.clone(),
    )
    .expect("spawn");

    let total = secs * dps;
    let sender = std::thread::spawn(move || {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let start = Instant::now();
        for i in 0..total {
            // Pace: datagram i is due at i/dps seconds.
            let due = Duration::from_nanos(i * 1_000_000_000 / dps);
            if let Some(wait) = due.checked_sub(start.elapsed()) {
                std::thread::sleep(wait);
            }
            let d = &datagrams[(i % 64) as usize];
            if udp.send_to(d, addr).is_err() {
                // ENOBUFS and friends: count as sent-and-lost.
            }
        }
        start.elapsed()
    });
    let send_time = sender.join().expect("sender");
    let sent_spans = total * spans_per;

    // Wait until the count stops moving.
    let mut last = 0;
    let mut still = 0;
    while still < 10 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = writer.0.load(Ordering::Relaxed);
        if now == last {
            still += 1
        } else {
            still = 0;
            last = now
        }
    }
    shutdown.cancel();
    agent.join().expect("agent");
    drop(pipeline);
    task.drain_and_stop().await;
    let written = writer.0.load(Ordering::Relaxed);
    let loss = 1.0 - written as f64 / sent_spans as f64;
    println!(
        "sent {sent_spans} spans in {total} datagrams over {send_time:?} ({:.0} spans/s); written {written}; \
         loss {:.3}%; datagrams received {} dropped-by-decoder {}; spans dropped by queue {}; SO_RCVBUF {}",
        sent_spans as f64 / send_time.as_secs_f64(),
        loss * 100.0,
        metrics.datagrams_received("6831"),
        metrics.datagrams_dropped("6831"),
        metrics.spans_dropped(clew_ingest::Source::new(
            clew_ingest::Transport::Udp,
            clew_ingest::Format::JaegerThriftCompact
        )),
        metrics.udp_recv_buffer_bytes("6831"),
    );
    assert!(loss <= 0.01, "loss {:.3}% above 1%", loss * 100.0);
}
