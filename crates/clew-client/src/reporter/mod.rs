//! Reporters receive finished, sampled spans.
//!
//! [`RemoteReporter`] batches them to a [`crate::sender::Sender`] on a
//! background thread; [`LoggingReporter`] prints Jaeger's `Reporting span`
//! line; [`InMemoryReporter`] keeps them for tests; [`CompositeReporter`]
//! fans out to several.

mod batch;
mod composite;
mod in_memory;
mod logging;
mod remote;

pub use batch::SpanBatch;
#[cfg(feature = "otlp")]
pub(crate) use batch::row_to_model;
pub(crate) use batch::{SpanRow, Times};
pub use composite::CompositeReporter;
pub use in_memory::InMemoryReporter;
pub use logging::LoggingReporter;
pub use remote::{RemoteReporter, RemoteReporterOptions};

use std::fmt::Debug;
use std::sync::Arc;

use clew_model::Process;

use crate::span::FinishedSpan;

/// Counters a reporter keeps about itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReporterStats {
    /// Spans handed to a sender successfully.
    pub reported: u64,
    /// Spans dropped because the queue was full or the reporter closed.
    pub dropped: u64,
    /// Spans lost because sending failed (or a span was too large to send).
    pub failed: u64,
}

impl std::ops::Add for ReporterStats {
    type Output = ReporterStats;
    fn add(self, o: ReporterStats) -> ReporterStats {
        ReporterStats {
            reported: self.reported + o.reported,
            dropped: self.dropped + o.dropped,
            failed: self.failed + o.failed,
        }
    }
}

/// Receives finished spans. `report` is called on the thread that finished
/// the span, so it must not block.
pub trait Reporter: Send + Sync + Debug {
    /// Takes a finished span. Boxed so it moves as a pointer; the remote
    /// reporter recycles the allocation for a later span.
    fn report(&self, span: Box<FinishedSpan>);

    /// Spans a thread may collect before handing them over in one
    /// [`Self::report_batch`] call; 0 (the default) means span by span
    /// through [`Self::report`], each as it finishes. A reporter that
    /// returns more must implement `report_batch`.
    fn batch_size(&self) -> usize {
        0
    }

    /// Takes a thread's collected spans (of reporters with a
    /// [`Self::batch_size`]). Takes what it keeps out of `batch` (the
    /// caller clears what is left); called on the thread that finished
    /// the spans, so it must not block. Times may still be raw clock
    /// readings, which the batch's readers (`to_model`, the senders'
    /// encoders) convert as they read them; [`SpanBatch::settle_times`]
    /// converts them in place for a reporter that keeps the batch. The
    /// default drops the spans: only reporters that ask for batches
    /// receive any.
    fn report_batch(&self, batch: &mut SpanBatch) {
        let _ = batch;
    }

    /// Sends what is buffered and waits until it is sent.
    fn flush(&self) {}

    /// Flushes and stops; later spans are dropped. Idempotent.
    fn close(&self) {}

    /// Called once by the tracer builder with the process the spans belong to.
    fn set_process(&self, _process: Arc<Process>) {}

    /// Counters.
    fn stats(&self) -> ReporterStats {
        ReporterStats::default()
    }
}

impl<R: Reporter + ?Sized> Reporter for Arc<R> {
    fn report(&self, span: Box<FinishedSpan>) {
        (**self).report(span);
    }
    fn batch_size(&self) -> usize {
        (**self).batch_size()
    }
    fn report_batch(&self, batch: &mut SpanBatch) {
        (**self).report_batch(batch);
    }
    fn flush(&self) {
        (**self).flush();
    }
    fn close(&self) {
        (**self).close();
    }
    fn set_process(&self, process: Arc<Process>) {
        (**self).set_process(process);
    }
    fn stats(&self) -> ReporterStats {
        (**self).stats()
    }
}

/// Drops every span (the reporter of a disabled tracer).
#[derive(Clone, Copy, Debug, Default)]
pub struct NullReporter;

impl Reporter for NullReporter {
    fn report(&self, span: Box<FinishedSpan>) {
        crate::span::pool::recycle_local(span);
    }
}
