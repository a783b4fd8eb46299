//! The bounded queue between the listeners and the store.
//!
//! Listeners call [`Pipeline::submit_reserved`] from network threads; it
//! validates, normalises and enqueues without ever blocking. The queue is
//! bounded twice: in spans (a datagram may hold 1 or 400), reserved
//! atomically before a batch goes in, and in bytes, because every batch
//! carries the [`Reservation`] of the process-wide in-flight budget that its
//! request took before reading and decoding (see [`crate::budget`]). A batch
//! keeps its reservation until the store has written it, so memory stays
//! bounded however fast clients send and however slow the store is. A batch
//! that does not fit is dropped whole and counted; one that could never fit
//! (more spans than the queue holds) is refused as too large, so the client
//! does not retry it forever. One writer task ([`writer`]) empties the queue
//! into the [`TraceWriter`].

mod normalise;
mod writer;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use clew_model::{BudgetError, DecodeLimits, Span};
use clew_store::TraceWriter;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use normalise::{EMPTY_SERVICE_WARNING, TRUNCATED_WARNING, UNKNOWN_SERVICE};

use crate::budget::{InFlight, Reservation};
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
    /// The in-flight memory budget is used up for now.
    MemoryFull,
    /// The batch could never fit (more spans than the whole queue holds).
    TooLarge,
    /// The pipeline is draining for shutdown.
    ShuttingDown,
    /// The store failed to write the batch (counted in
    /// `clew_spans_write_failed_total`); retrying may succeed.
    WriteFailed,
}

impl DropReason {
    /// Why, in words, for error replies.
    pub fn describe(self) -> &'static str {
        match self {
            DropReason::QueueFull => "ingest queue is full",
            DropReason::MemoryFull => "server is at its in-flight memory limit",
            DropReason::TooLarge => "request holds more spans than the ingest queue can ever take",
            DropReason::ShuttingDown => "server is shutting down",
            DropReason::WriteFailed => "the store could not write the batch",
        }
    }

    /// True when the same batch may be accepted later.
    pub fn is_retryable(self) -> bool {
        !matches!(self, DropReason::TooLarge)
    }
}

/// A batch in the queue, with the in-flight bytes it holds until written
/// and, for push protocols, who to tell once the store has it.
pub(crate) struct QueuedBatch {
    pub(crate) spans: Vec<Span>,
    pub(crate) reservation: Reservation,
    pub(crate) acks: Vec<oneshot::Sender<bool>>,
}

/// Resolves once the store has written (for a durable store: fsynced) a
/// submitted batch: `true` when the write succeeded. Push listeners answer
/// the client only then, so an acknowledged span survives a crash.
pub struct WriteAck(oneshot::Receiver<bool>);

impl WriteAck {
    /// Waits for the store's answer; `false` if the write failed or the
    /// pipeline stopped before writing.
    pub async fn written(self) -> bool {
        self.0.await.unwrap_or(false)
    }
}

pub(crate) struct Shared {
    tx: UnboundedSender<QueuedBatch>,
    /// Permits for decoding off the async reactor (one per core), so a flood
    /// on one port cannot starve the query API or `/metrics` of threads.
    decode_slots: Arc<Semaphore>,
    inflight: Arc<InFlight>,
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
        let inflight = InFlight::with_gauge(
            cfg.inflight_max_bytes,
            metrics.inflight_gauge(cfg.inflight_max_bytes),
        );
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let shared = Arc::new(Shared {
            tx,
            decode_slots: Arc::new(Semaphore::new(cores)),
            inflight,
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
            concurrency: cfg.writer_concurrency.max(1),
            stop: stop.clone(),
        };
        let handle = tokio::spawn(task.run());
        (Pipeline { shared }, PipelineTask { handle, stop })
    }

    /// Validates, normalises and enqueues one decoded batch that did not
    /// come with a reservation (tests, tools): its estimated size is reserved
    /// here, and a batch that does not fit is dropped and counted.
    pub fn submit(&self, spans: Vec<Span>, source: Source) -> Submit {
        let bytes = spans.iter().map(Span::estimated_size).sum();
        let reservation = match self.shared.inflight.reserve(bytes) {
            Ok(r) => r,
            Err(e) => {
                let n = spans.len();
                self.shared.metrics.record_batch(source, n);
                self.shared.metrics.record_memory_refused(e);
                self.shared.metrics.record_dropped(source, n);
                let reason = if e.is_retryable() {
                    DropReason::MemoryFull
                } else {
                    DropReason::TooLarge
                };
                return Submit::Dropped {
                    spans: n,
                    rejected: 0,
                    reason,
                };
            }
        };
        self.submit_reserved(spans, source, reservation)
    }

    /// Validates, normalises and enqueues one decoded batch together with
    /// the in-flight reservation its request made (released once the store
    /// has written the batch). Never blocks: when the queue is full the
    /// batch is dropped and counted.
    pub fn submit_reserved(
        &self,
        spans: Vec<Span>,
        source: Source,
        reservation: Reservation,
    ) -> Submit {
        self.enqueue(spans, source, reservation, None)
    }

    /// [`Pipeline::submit_reserved`], plus a [`WriteAck`] when the batch was
    /// queued, to answer the client only once the store has the spans.
    pub fn submit_acked(
        &self,
        spans: Vec<Span>,
        source: Source,
        reservation: Reservation,
    ) -> (Submit, Option<WriteAck>) {
        let (tx, rx) = oneshot::channel();
        let submit = self.enqueue(spans, source, reservation, Some(tx));
        let ack =
            matches!(submit, Submit::Queued { spans, .. } if spans > 0).then_some(WriteAck(rx));
        (submit, ack)
    }

    fn enqueue(
        &self,
        mut spans: Vec<Span>,
        source: Source,
        reservation: Reservation,
        ack: Option<oneshot::Sender<bool>>,
    ) -> Submit {
        let metrics = &self.shared.metrics;
        metrics.record_batch(source, spans.len());
        let rejected = normalise::validate_and_normalise(
            &mut spans,
            source,
            metrics,
            &self.shared.config.field_limits(),
        );
        let n = spans.len();
        if n == 0 {
            return Submit::Queued { spans: 0, rejected };
        }
        if n > self.shared.capacity {
            metrics.record_dropped(source, n);
            return Submit::Dropped {
                spans: n,
                rejected,
                reason: DropReason::TooLarge,
            };
        }
        if !self.shared.reserve(n) {
            metrics.record_dropped(source, n);
            return Submit::Dropped {
                spans: n,
                rejected,
                reason: DropReason::QueueFull,
            };
        }
        let batch = QueuedBatch {
            spans,
            reservation,
            acks: ack.into_iter().collect(),
        };
        if self.shared.tx.send(batch).is_err() {
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

    /// Runs CPU-heavy decoding `f` on the blocking pool, at most one per
    /// core at a time, so the async reactor keeps serving other requests.
    /// `None` if `f` panicked (a bug; the request fails, the process does not).
    pub(crate) async fn off_reactor<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let _permit = self
            .shared
            .decode_slots
            .clone()
            .acquire_owned()
            .await
            .ok()?;
        tokio::task::spawn_blocking(f).await.ok()
    }

    /// The process-wide in-flight budget requests reserve from.
    pub fn inflight(&self) -> &Arc<InFlight> {
        &self.shared.inflight
    }

    /// Reserves `bytes` of the in-flight budget, counting a refusal.
    pub fn reserve(&self, bytes: usize) -> Result<Reservation, BudgetError> {
        self.shared.inflight.reserve(bytes).inspect_err(|&e| {
            self.shared.metrics.record_memory_refused(e);
        })
    }

    /// Grows `reservation` by `bytes`, counting a refusal like [`reserve`].
    ///
    /// [`reserve`]: Pipeline::reserve
    pub fn grow(&self, reservation: &mut Reservation, bytes: usize) -> Result<(), BudgetError> {
        reservation.grow(bytes).inspect_err(|&e| {
            self.shared.metrics.record_memory_refused(e);
        })
    }

    /// What one request may decode into: the per-request span limit (never
    /// more than the queue holds) and the per-request byte limit (never more
    /// than the whole in-flight budget).
    pub fn decode_limits(&self) -> DecodeLimits {
        let cfg = &self.shared.config;
        DecodeLimits {
            max_spans: cfg.max_spans_per_request.min(self.shared.capacity),
            max_bytes: cfg
                .max_request_decoded_bytes
                .min(self.shared.inflight.capacity()),
        }
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
