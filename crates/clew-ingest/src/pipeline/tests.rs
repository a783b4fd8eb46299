//! Pipeline behaviour: bounded queue, drop counting, draining, validation.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use clew_model::{Process, Span, SpanId, TraceId};
use clew_store::{StoreError, TraceWriter};
use parking_lot::Mutex;
use tokio::sync::{Notify, Semaphore};

use super::*;
use crate::source::{Format, Transport};

const SRC: Source = Source::new(Transport::Udp, Format::JaegerThriftCompact);

/// A writer that records what it gets and can be held shut or made to fail.
struct TestWriter {
    writes: Mutex<Vec<Vec<u64>>>,
    gate: Semaphore,
    entered: Notify,
    fail: AtomicBool,
}

impl TestWriter {
    fn new(open: bool) -> Arc<Self> {
        Arc::new(TestWriter {
            writes: Mutex::new(Vec::new()),
            gate: Semaphore::new(if open { Semaphore::MAX_PERMITS } else { 0 }),
            entered: Notify::new(),
            fail: AtomicBool::new(false),
        })
    }
    fn open(&self) {
        self.gate.add_permits(Semaphore::MAX_PERMITS / 2);
    }
    fn span_ids(&self) -> Vec<u64> {
        self.writes.lock().iter().flatten().copied().collect()
    }
}

#[async_trait]
impl TraceWriter for TestWriter {
    async fn write_spans(&self, spans: Vec<Span>) -> Result<(), StoreError> {
        self.entered.notify_one();
        let permit = self.gate.acquire().await;
        drop(permit);
        if self.fail.load(Ordering::Relaxed) {
            return Err(StoreError::Unavailable("test".into()));
        }
        self.writes
            .lock()
            .push(spans.iter().map(|s| s.span_id.0).collect());
        Ok(())
    }
}

fn spans(ids: std::ops::Range<u64>) -> Vec<Span> {
    let p = Arc::new(Process::new("svc"));
    ids.map(|i| Span::new(TraceId::new(0, 1), SpanId(i), "op", p.clone()))
        .collect()
}

fn config(queue: usize, batch: usize) -> IngestConfig {
    IngestConfig {
        queue_max_spans: queue,
        writer_batch_spans: batch,
        ..IngestConfig::default()
    }
}

#[tokio::test]
async fn full_queue_drops_whole_batches_and_counts_them() {
    let writer = TestWriter::new(false);
    let metrics = Arc::new(IngestMetrics::unregistered());
    let (pipeline, task) = Pipeline::start(&config(10, 100), writer.clone(), metrics.clone());

    // The writer takes the first span and blocks in write_spans.
    let entered = writer.entered.notified();
    assert_eq!(
        pipeline.submit(spans(1..2), SRC),
        Submit::Queued {
            spans: 1,
            rejected: 0
        }
    );
    entered.await;

    assert!(matches!(
        pipeline.submit(spans(10..14), SRC),
        Submit::Queued { spans: 4, .. }
    ));
    assert!(matches!(
        pipeline.submit(spans(20..26), SRC),
        Submit::Queued { spans: 6, .. }
    ));
    assert_eq!(pipeline.queued_spans(), 10);
    assert_eq!(metrics.queue_spans(), 10);
    assert_eq!(
        pipeline.submit(spans(30..31), SRC),
        Submit::Dropped {
            spans: 1,
            rejected: 0,
            reason: DropReason::QueueFull
        }
    );
    assert_eq!(metrics.spans_dropped(SRC), 1);

    writer.open();
    task.drain_and_stop().await;
    let mut ids = writer.span_ids();
    ids.sort_unstable();
    let expected: Vec<u64> = (1..2).chain(10..14).chain(20..26).collect();
    assert_eq!(ids, expected);
    assert_eq!(metrics.spans_written(), 11);
    assert_eq!(metrics.queue_spans(), 0);
}

#[tokio::test]
async fn drain_writes_everything_queued_then_refuses() {
    let writer = TestWriter::new(false);
    let metrics = Arc::new(IngestMetrics::unregistered());
    let (pipeline, task) = Pipeline::start(&config(10_000, 7), writer.clone(), metrics.clone());
    for b in 0..50u64 {
        pipeline.submit(spans(b * 10 + 1..b * 10 + 11), SRC);
    }
    // Open the gate only after shutdown began: drain must still write all.
    let drain = tokio::spawn(task.drain_and_stop());
    tokio::task::yield_now().await;
    writer.open();
    drain.await.expect("drain task");
    assert_eq!(writer.span_ids().len(), 500);
    assert!(
        writer.writes.lock().iter().all(|w| w.len() <= 7),
        "writes respect writer_batch_spans"
    );
    assert_eq!(
        pipeline.submit(spans(1000..1003), SRC),
        Submit::Dropped {
            spans: 3,
            rejected: 0,
            reason: DropReason::ShuttingDown
        }
    );
    assert_eq!(metrics.spans_dropped(SRC), 3);
    assert_eq!(pipeline.queued_spans(), 0);
}

#[tokio::test]
async fn invalid_spans_are_counted_and_the_rest_kept() {
    let writer = TestWriter::new(true);
    let metrics = Arc::new(IngestMetrics::unregistered());
    let (pipeline, task) = Pipeline::start(&config(100, 100), writer.clone(), metrics.clone());
    let mut batch = spans(1..4);
    batch[1].span_id = SpanId(0);
    assert_eq!(
        pipeline.submit(batch, SRC),
        Submit::Queued {
            spans: 2,
            rejected: 1
        }
    );
    task.drain_and_stop().await;
    assert_eq!(writer.span_ids(), [1, 3]);
    assert_eq!(metrics.spans_rejected(SRC, "zero_span_id"), 1);
    assert_eq!(metrics.spans_received(SRC), 3);
}

#[tokio::test]
async fn write_errors_are_counted_and_not_fatal() {
    let writer = TestWriter::new(true);
    writer.fail.store(true, Ordering::Relaxed);
    let metrics = Arc::new(IngestMetrics::unregistered());
    let (pipeline, task) = Pipeline::start(&config(100, 100), writer.clone(), metrics.clone());
    pipeline.submit(spans(1..3), SRC);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while metrics.writer_errors() == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "write error never counted"
        );
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    writer.fail.store(false, Ordering::Relaxed);
    pipeline.submit(spans(5..6), SRC);
    task.drain_and_stop().await;
    assert_eq!(writer.span_ids(), [5]);
    assert_eq!(metrics.writer_errors(), 1);
}

/// Issue 9: push listeners answer only once the store has the spans, so an
/// acknowledged span survives a crash of a durable store.
#[tokio::test]
async fn acks_resolve_only_after_the_store_write() {
    let writer = TestWriter::new(false);
    let metrics = Arc::new(IngestMetrics::unregistered());
    let (pipeline, _task) = Pipeline::start(&config(100, 100), writer.clone(), metrics);
    let reservation = pipeline.reserve(0).expect("empty");
    let (submitted, ack) = pipeline.submit_acked(spans(1..4), SRC, reservation);
    assert_eq!(
        submitted,
        Submit::Queued {
            spans: 3,
            rejected: 0
        }
    );
    let ack = ack.expect("an ack for a queued batch");
    writer.entered.notified().await;
    let mut waiting = Box::pin(ack.written());
    // The store holds the write: the ack must not resolve.
    assert!(futures_poll_once(&mut waiting).await.is_none());
    assert!(writer.span_ids().is_empty());
    writer.open();
    assert!(waiting.await, "resolves true once written");
    assert_eq!(writer.span_ids(), [1, 2, 3]);

    // A failed write is reported to the waiting client.
    writer.fail.store(true, Ordering::Relaxed);
    let (_, ack) = pipeline.submit_acked(spans(5..6), SRC, pipeline.reserve(0).expect("empty"));
    assert!(!ack.expect("queued").written().await, "resolves false");
}

/// Polls `fut` once: `Some` if it was ready.
async fn futures_poll_once<F: std::future::Future + Unpin>(fut: &mut F) -> Option<F::Output> {
    std::future::poll_fn(|cx| {
        std::task::Poll::Ready(match std::pin::Pin::new(&mut *fut).poll(cx) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => None,
        })
    })
    .await
}
