//! The bounded queue between the listeners and the store.
//!
//! Listeners call [`Pipeline::submit`] from network threads; it validates,
//! normalises and enqueues without ever blocking. The queue's capacity is
//! counted in spans (a datagram may hold 1 or 400), reserved atomically
//! before a batch goes in, so memory stays bounded however fast clients send.
//! A batch that does not fit is dropped whole and counted. One writer task
//! ([`writer`]) empties the queue into the [`TraceWriter`].

mod normalise;
mod writer;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use clew_model::Span;
use clew_store::TraceWriter;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use normalise::{EMPTY_SERVICE_WARNING, UNKNOWN_SERVICE};

use crate::config::IngestConfig;
use crate::metrics::IngestMetrics;
use crate::source::Source;

/// What happened to a submitted batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Submit {
    /// The valid spans are queued for the store.
    Queued {
        /// Spans queued.
        spans: usize,
        /// Spans refused by validation (not queued).
        rejected: usize,
    },
    /// The valid spans were dropped (and counted in `clew_spans_dropped_total`).
    Dropped {
        /// Spans dropped.
        spans: usize,
        /// Spans refused by validation.
        rejected: usize,
        /// Why.
        reason: DropReason,
    },
}

/// Why a batch was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// The queue holds `queue_max_spans` already.
    QueueFull,
    /// The pipeline is draining for shutdown.
    ShuttingDown,
}

pub(crate) struct Shared {
    tx: UnboundedSender<Vec<Span>>,
    queued: AtomicUsize,
    capacity: usize,
    pub(crate) metrics: Arc<IngestMetrics>,
    /// The settings the pipeline was started with; listeners built from it
    /// (body limits, UDP buffers) read theirs here.
    config: IngestConfig,
}

impl Shared {
    /// Reserves room for `n` spans; false when they do not fit.
    fn reserve(&self, n: usize) -> bool {
        let ok = self
            .queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |q| {
                q.checked_add(n).filter(|&total| total <= self.capacity)
            })
            .is_ok();
        if ok {
            self.metrics.set_queue(self.queued.load(Ordering::Relaxed));
        }
        ok
    }

    /// Gives back room for `n` spans once they left the queue.
    fn release(&self, n: usize) {
        let before = self.queued.fetch_sub(n, Ordering::AcqRel);
        self.metrics.set_queue(before.saturating_sub(n));
    }
}

/// The ingest queue's entry point. Cheap to clone; every listener holds one.
#[derive(Clone)]
pub struct Pipeline {
    shared: Arc<Shared>,
}

/// The writer task behind a [`Pipeline`]; keep it to drain at shutdown.
pub struct PipelineTask {
    handle: JoinHandle<()>,
    stop: CancellationToken,
}

impl Pipeline {
    /// Starts the writer task on the current tokio runtime.
    pub fn start(
        cfg: &IngestConfig,
        writer: Arc<dyn TraceWriter>,
        metrics: Arc<IngestMetrics>,
    ) -> (Pipeline, PipelineTask) {
        let (tx, rx) = unbounded_channel();
        let capacity = cfg.queue_max_spans;
        metrics.set_queue_capacity(capacity);
        metrics.set_queue(0);
        let shared = Arc::new(Shared {
            tx,
            queued: AtomicUsize::new(0),
            capacity,
            metrics,
            config: cfg.clone(),
        });
        let stop = CancellationToken::new();
        let task = writer::WriterLoop {
            rx,
            shared: shared.clone(),
            writer,
            batch_spans: cfg.writer_batch_spans.max(1),
            stop: stop.clone(),
        };
        let handle = tokio::spawn(task.run());
        (Pipeline { shared }, PipelineTask { handle, stop })
    }

    /// Validates, normalises and enqueues one decoded batch. Never blocks:
    /// when the queue is full the batch is dropped and counted.
    pub fn submit(&self, mut spans: Vec<Span>, source: Source) -> Submit {
        let metrics = &self.shared.metrics;
        metrics.record_batch(source, spans.len());
        let rejected = normalise::validate_and_normalise(&mut spans, source, metrics);
        let n = spans.len();
        if n == 0 {
            return Submit::Queued { spans: 0, rejected };
        }
        if !self.shared.reserve(n) {
            metrics.record_dropped(source, n);
            return Submit::Dropped {
                spans: n,
                rejected,
                reason: DropReason::QueueFull,
            };
        }
        if self.shared.tx.send(spans).is_err() {
            self.shared.release(n);
            metrics.record_dropped(source, n);
            return Submit::Dropped {
                spans: n,
                rejected,
                reason: DropReason::ShuttingDown,
            };
        }
        Submit::Queued { spans: n, rejected }
    }

    /// The metrics this pipeline counts into (shared with the listeners).
    pub fn metrics(&self) -> &Arc<IngestMetrics> {
        &self.shared.metrics
    }

    /// The settings the pipeline was started with.
    pub fn config(&self) -> &IngestConfig {
        &self.shared.config
    }

    /// Spans queued right now.
    pub fn queued_spans(&self) -> usize {
        self.shared.queued.load(Ordering::Relaxed)
    }
}

impl PipelineTask {
    /// Stops accepting batches and returns once everything already queued
    /// has been handed to the store. Call after the listeners have stopped.
    pub async fn drain_and_stop(self) {
        self.stop.cancel();
        if let Err(e) = self.handle.await {
            tracing::error!(error = %e, "ingest writer task failed");
        }
    }
}

#[cfg(test)]
mod tests;
