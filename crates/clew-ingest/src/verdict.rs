//! What the push listeners (OTLP, Jaeger gRPC, Zipkin) tell the client after
//! a body decoded: how many spans went in, how many were refused and why.
//!
//! Spans can be refused in two places: by the codec (an ID of the wrong
//! length never becomes a model span) and by the pipeline's validation
//! (zero IDs). Both are counted in `clew_spans_rejected_total` per reason;
//! [`Refusals`] carries the codec's share to [`submit`], which adds the
//! pipeline's and turns the result into one [`Verdict`] each protocol maps
//! onto its own reply (partial success, 202, `INVALID_ARGUMENT`…).

use std::sync::OnceLock;
use std::time::Duration;

use clew_model::Span;

use crate::budget::Reservation;
use crate::log_limit::LogLimiter;
use crate::pipeline::{DropReason, Pipeline, Submit};
use crate::source::Source;

/// Spans a codec refused, per reason label, with one example message.
#[derive(Debug, Default)]
pub(crate) struct Refusals {
    by_reason: Vec<(&'static str, u64)>,
    example: Option<String>,
}

impl Refusals {
    /// Counts `n` spans refused for `reason`; `detail` describes one of them
    /// (only the first detail is kept, for the reply).
    pub(crate) fn add(&mut self, reason: &'static str, n: u64, detail: impl FnOnce() -> String) {
        if n == 0 {
            return;
        }
        match self.by_reason.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, count)) => *count += n,
            None => self.by_reason.push((reason, n)),
        }
        if self.example.is_none() {
            self.example = Some(detail());
        }
    }

    /// All refused spans.
    pub(crate) fn total(&self) -> u64 {
        self.by_reason.iter().map(|(_, n)| n).sum()
    }
}

/// The outcome of one request whose body decoded.
#[derive(Debug, PartialEq)]
pub(crate) enum Verdict {
    /// Valid spans are queued; `rejected` were refused (codec + validation).
    Accepted {
        /// Spans queued.
        accepted: usize,
        /// Spans refused.
        rejected: u64,
        /// Why, when `rejected > 0`: `rejected N spans: reason=n, …; e.g. …`.
        message: Option<String>,
    },
    /// The queue could not take the valid spans (the client may retry).
    Dropped {
        /// Spans dropped.
        spans: usize,
        /// Why.
        reason: DropReason,
    },
}

impl Verdict {
    /// The text for a dropped batch, for 503 / `UNAVAILABLE` replies.
    pub(crate) fn drop_message(spans: usize, reason: DropReason) -> String {
        format!("{}; {spans} spans dropped", reason.describe())
    }
}

/// Label used for spans the pipeline's validation refused (zero IDs); the
/// pipeline counts them itself under their precise reason.
const VALIDATION: &str = "zero_trace_or_span_id";

/// Counts the codec's refusals, submits the decoded spans with the
/// in-flight `reservation` their request holds, waits until the store has
/// written them (so an acknowledged span survives a crash of a durable
/// store), and sums up.
pub(crate) async fn submit(
    pipeline: &Pipeline,
    spans: Vec<Span>,
    source: Source,
    refusals: Refusals,
    reservation: Reservation,
) -> Verdict {
    let metrics = pipeline.metrics();
    for (reason, n) in &refusals.by_reason {
        metrics.record_refused(source, reason, *n);
    }
    let (submitted, ack) = pipeline.submit_acked(spans, source, reservation);
    let (accepted, validation_rejects) = match submitted {
        Submit::Queued { spans, rejected } => (spans, rejected as u64),
        Submit::Dropped { spans, reason, .. } => return Verdict::Dropped { spans, reason },
    };
    if let Some(ack) = ack
        && !ack.written().await
    {
        return Verdict::Dropped {
            spans: accepted,
            reason: DropReason::WriteFailed,
        };
    }
    let mut refusals = refusals;
    refusals.add(VALIDATION, validation_rejects, || {
        "a span has an all-zero trace or span ID".to_string()
    });
    let rejected = refusals.total();
    let message = (rejected > 0).then(|| summary(&refusals));
    if let Some(msg) = &message {
        log_refusals(source, msg);
    }
    Verdict::Accepted {
        accepted,
        rejected,
        message,
    }
}

fn summary(refusals: &Refusals) -> String {
    let parts: Vec<String> = refusals
        .by_reason
        .iter()
        .map(|(r, n)| format!("{r}={n}"))
        .collect();
    let mut msg = format!("rejected {} spans: {}", refusals.total(), parts.join(", "));
    if let Some(example) = &refusals.example {
        msg.push_str("; e.g. ");
        msg.push_str(example);
    }
    msg
}

/// Refusals are the client's bug, not ours: log them, but rarely.
fn log_refusals(source: Source, msg: &str) {
    static LIMIT: OnceLock<LogLimiter> = OnceLock::new();
    let limit = LIMIT.get_or_init(|| LogLimiter::new(Duration::from_secs(10)));
    if let Some(suppressed) = limit.allow() {
        tracing::warn!(
            transport = source.transport.as_str(),
            format = source.format.as_str(),
            suppressed,
            "{msg}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::IngestConfig;
    use crate::metrics::IngestMetrics;
    use crate::source::{Format, Transport};
    use clew_model::{Process, SpanId, TraceId};
    use clew_store::MemoryStore;
    use std::sync::Arc;

    const SRC: Source = Source::new(Transport::Grpc, Format::JaegerProto);

    #[tokio::test]
    async fn sums_codec_and_validation_refusals() {
        let metrics = Arc::new(IngestMetrics::unregistered());
        let store = Arc::new(MemoryStore::new(Default::default()));
        let (pipeline, _task) = Pipeline::start(&IngestConfig::default(), store, metrics.clone());
        let p = Arc::new(Process::new("svc"));
        let spans = vec![
            Span::new(TraceId::new(0, 1), SpanId(1), "ok", p.clone()),
            Span::new(TraceId::new(0, 0), SpanId(2), "zero", p),
        ];
        let mut refusals = Refusals::default();
        refusals.add("invalid_span_id", 2, || "span ID has 3 bytes".to_string());
        refusals.add("invalid_span_id", 1, || "ignored".to_string());
        let v = submit(
            &pipeline,
            spans,
            SRC,
            refusals,
            pipeline.reserve(0).expect("empty"),
        )
        .await;
        assert_eq!(
            v,
            Verdict::Accepted {
                accepted: 1,
                rejected: 4,
                message: Some(
                    "rejected 4 spans: invalid_span_id=3, zero_trace_or_span_id=1; \
                     e.g. span ID has 3 bytes"
                        .to_string()
                ),
            }
        );
        assert_eq!(metrics.spans_rejected(SRC, "invalid_span_id"), 3);
        assert_eq!(metrics.spans_rejected(SRC, "zero_trace_id"), 1);
        // Refused spans were received too: 3 refused by the codec + 2 decoded.
        assert_eq!(metrics.spans_received(SRC), 5);
    }

    #[tokio::test]
    async fn nothing_refused_means_no_message() {
        let metrics = Arc::new(IngestMetrics::unregistered());
        let store = Arc::new(MemoryStore::new(Default::default()));
        let (pipeline, _task) = Pipeline::start(&IngestConfig::default(), store, metrics);
        let p = Arc::new(Process::new("svc"));
        let spans = vec![Span::new(TraceId::new(0, 1), SpanId(1), "ok", p)];
        let v = submit(
            &pipeline,
            spans,
            SRC,
            Refusals::default(),
            pipeline.reserve(0).expect("empty"),
        )
        .await;
        assert_eq!(
            v,
            Verdict::Accepted {
                accepted: 1,
                rejected: 0,
                message: None
            }
        );
    }
}
