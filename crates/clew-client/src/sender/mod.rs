//! Senders turn batches of model spans into bytes on a wire.
//!
//! They run on the [`crate::reporter::RemoteReporter`]'s background thread
//! only, so they may block and keep buffers.

mod compact_rows;
mod http;
#[cfg(feature = "otlp")]
mod otlp;
#[cfg(feature = "otlp")]
mod otlp_grpc;
#[cfg(feature = "otlp")]
mod otlp_rows;
mod udp;

pub use http::{HttpSender, HttpSenderOptions};
#[cfg(feature = "otlp")]
pub use otlp::OtlpHttpSender;
#[cfg(feature = "otlp")]
pub use otlp_grpc::OtlpGrpcSender;
#[cfg(feature = "otlp")]
pub use otlp_rows::OtlpRequest;
pub use udp::{MAX_UDP_PACKET, UdpSender};

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use clew_model::Process;

use crate::reporter::SpanBatch;

/// Why spans could not be sent. Carries how many spans were lost so the
/// reporter can count them.
#[derive(Debug, thiserror::Error)]
#[error("{spans_lost} span(s) lost: {kind}")]
pub struct SendError {
    /// Spans that will not arrive.
    pub spans_lost: usize,
    /// What went wrong.
    pub kind: SendErrorKind,
}

/// The cause of a [`SendError`].
#[derive(Debug, thiserror::Error)]
pub enum SendErrorKind {
    /// Socket or connection error.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The HTTP request failed or was refused.
    #[error("HTTP: {0}")]
    Http(String),
    /// One span alone exceeds the transport's size limit.
    #[error("span of {size} bytes exceeds the {limit}-byte limit")]
    TooLarge {
        /// Encoded size.
        size: usize,
        /// The limit.
        limit: usize,
    },
}

/// What [`Sender::append_batch`] did with a batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Appended {
    /// Spans sent by this call (of this batch or of earlier ones).
    pub sent: usize,
    /// Spans lost (too large, or a send failed); the causes are logged.
    pub lost: usize,
}

/// Buffers spans and sends them in batches.
pub trait Sender: Send + Debug {
    /// Adds a span, sending the current batch first if the span would not
    /// fit. Returns how many spans were sent by this call.
    fn append(&mut self, span: clew_model::Span) -> Result<usize, SendError>;

    /// Adds every span of a batch the reporter collected, all of `process`.
    /// The default converts each to a [`clew_model::Span`] and calls
    /// [`Self::append`]; the UDP sender encodes the batch straight to its
    /// wire format instead.
    fn append_batch(&mut self, batch: &SpanBatch, process: &Arc<Process>) -> Appended {
        let mut out = Appended::default();
        for span in batch.to_model(process) {
            note_sent(&mut out, self.append(span));
        }
        out
    }

    /// Sends the buffered batch. Returns how many spans were sent.
    fn flush(&mut self) -> Result<usize, SendError>;

    /// Flushes and releases resources.
    fn close(&mut self) -> Result<usize, SendError> {
        self.flush()
    }

    /// Hands the sender the reporter's running count of spans it dropped
    /// because its queue was full, so senders whose wire format reports
    /// client drops (Jaeger's `Batch.stats`) can include it. The reporter
    /// keeps the counter current; senders only read it. Ignored by default.
    fn set_queue_drop_counter(&mut self, counter: Arc<AtomicU64>) {
        let _ = counter;
    }
}

/// Adds one send's outcome to a batch's (a failure is logged and counted).
pub(crate) fn note_sent(out: &mut Appended, result: Result<usize, SendError>) {
    match result {
        Ok(n) => out.sent += n,
        Err(e) => {
            out.lost += e.spans_lost;
            log::debug!("clew: sending spans failed: {e}");
        }
    }
}

impl Sender for Box<dyn Sender> {
    fn append(&mut self, span: clew_model::Span) -> Result<usize, SendError> {
        (**self).append(span)
    }
    fn append_batch(&mut self, batch: &SpanBatch, process: &Arc<Process>) -> Appended {
        (**self).append_batch(batch, process)
    }
    fn flush(&mut self) -> Result<usize, SendError> {
        (**self).flush()
    }
    fn close(&mut self) -> Result<usize, SendError> {
        (**self).close()
    }
    fn set_queue_drop_counter(&mut self, counter: Arc<AtomicU64>) {
        (**self).set_queue_drop_counter(counter)
    }
}
