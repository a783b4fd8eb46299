//! The task at the end of the queue: it gathers queued batches into writes
//! of at most `writer_batch_spans` and hands them to the store, with up to
//! `writer_concurrency` writes in flight.
//!
//! One write at a time left the store idle while a write's acknowledgements
//! went out and the next batch was gathered, and serialised the disk store
//! on one fsync per write. Writes in flight may finish in any order; each
//! acknowledges only its own requests, so a client still hears back only
//! after its spans are stored.

use std::sync::Arc;
use std::time::Duration;

use clew_store::TraceWriter;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{QueuedBatch, Shared};
use crate::log_limit::LogLimiter;

pub(super) struct WriterLoop {
    pub(super) rx: UnboundedReceiver<QueuedBatch>,
    pub(super) shared: Arc<Shared>,
    pub(super) writer: Arc<dyn TraceWriter>,
    pub(super) batch_spans: usize,
    pub(super) concurrency: usize,
    pub(super) stop: CancellationToken,
}

impl WriterLoop {
    /// Writes until told to stop (or every sender is gone), then writes what
    /// is still queued and returns.
    pub(super) async fn run(mut self) {
        let errors_log = Arc::new(LogLimiter::new(Duration::from_secs(10)));
        let mut writes = JoinSet::new();
        loop {
            if writes.len() >= self.concurrency {
                let _ = writes.join_next().await;
                continue;
            }
            let first = tokio::select! {
                biased;
                _ = self.stop.cancelled() => break,
                next = self.rx.recv() => match next {
                    Some(batch) => batch,
                    None => break,
                },
            };
            let batch = self.gather(first);
            writes.spawn(self.write(batch, errors_log.clone()));
        }
        // Refuse new batches, then write everything that made it in.
        self.rx.close();
        while let Some(first) = self.rx.recv().await {
            let batch = self.gather(first);
            self.write(batch, errors_log.clone()).await;
        }
        while writes.join_next().await.is_some() {}
    }

    /// Adds batches that are already waiting, without waiting for more: under
    /// load writes grow towards `batch_spans`, when idle a span is written at
    /// once. The queue's span count is released now; the in-flight bytes only
    /// after the write (the batch still holds them until then).
    fn gather(&mut self, first: QueuedBatch) -> QueuedBatch {
        let QueuedBatch {
            mut spans,
            mut reservation,
            mut acks,
        } = first;
        while spans.len() < self.batch_spans {
            match self.rx.try_recv() {
                Ok(more) => {
                    spans.extend(more.spans);
                    reservation.merge(more.reservation);
                    acks.extend(more.acks);
                }
                Err(_) => break,
            }
        }
        self.shared.release(spans.len());
        QueuedBatch {
            spans,
            reservation,
            acks,
        }
    }

    /// The write of one gathered batch, as a task of its own.
    fn write(
        &self,
        batch: QueuedBatch,
        errors_log: Arc<LogLimiter>,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let writer = self.writer.clone();
        let shared = self.shared.clone();
        let batch_spans = self.batch_spans;
        async move { write(writer, shared, batch_spans, batch, &errors_log).await }
    }
}

async fn write(
    writer: Arc<dyn TraceWriter>,
    shared: Arc<Shared>,
    batch_spans: usize,
    batch: QueuedBatch,
    errors_log: &LogLimiter,
) {
    let QueuedBatch {
        spans: mut batch,
        reservation,
        acks,
    } = batch;
    let mut all_written = true;
    while !batch.is_empty() {
        let rest = if batch.len() > batch_spans {
            batch.split_off(batch_spans)
        } else {
            Vec::new()
        };
        let n = batch.len();
        match writer.write_spans(batch).await {
            Ok(()) => shared.metrics.record_written(n),
            Err(e) => {
                all_written = false;
                shared.metrics.record_write_error(n);
                if let Some(suppressed) = errors_log.allow() {
                    // Requests that wait for the write are answered with a
                    // retryable error; only fire-and-forget spans (UDP, or
                    // a sender that does not wait) are lost for good.
                    let waiting = acks.len();
                    tracing::error!(
                        error = %e,
                        spans = n,
                        waiting_requests = waiting,
                        suppressed,
                        "store rejected a write; spans not stored (waiting requests are told to retry, spans nobody waits for are lost)"
                    );
                }
            }
        }
        batch = rest;
    }
    drop(reservation);
    // A gathered write carries several requests; each learns whether
    // all of it was stored (a client may see a retryable failure for a
    // batch that partly made it — duplicates are safer than loss).
    for ack in acks {
        let _ = ack.send(all_written);
    }
}
