//! `jaeger.api_v2.CollectorService/PostSpans`.
//!
//! Spans without their own process inherit the batch's. api_v2 has no
//! partial-success reply, so: spans with malformed IDs are refused one by
//! one and counted per reason; if any span of the batch was accepted the
//! call succeeds (nothing accepted is lost and the refusals are on
//! `/metrics` and in the log), and if none was, the call fails with
//! `INVALID_ARGUMENT` naming the reasons. A full queue is `UNAVAILABLE`
//! (retryable).

use std::sync::Arc;

use clew_codec_jaeger::api_v2::{batch_to_model, pb};
use prost::Message;
use tonic::{Request, Response, Status};

use super::proto::collector_service_server::CollectorService;
use crate::metrics::IngestMetrics;
use crate::otlp::budget_status;
use crate::pipeline::Pipeline;
use crate::source::{Format, Source, Transport};
use crate::verdict::{self, Refusals, Verdict};
use clew_model::BudgetError;

const SOURCE: Source = Source::new(Transport::Grpc, Format::JaegerProto);

/// The `CollectorService` implementation.
#[derive(Clone)]
pub struct JaegerCollector {
    pipeline: Pipeline,
    metrics: Arc<IngestMetrics>,
}

impl JaegerCollector {
    /// A collector submitting into `pipeline`.
    pub fn new(pipeline: Pipeline, metrics: Arc<IngestMetrics>) -> Self {
        JaegerCollector { pipeline, metrics }
    }

    fn post(&self, req: pb::PostSpansRequest) -> Result<pb::PostSpansResponse, Status> {
        // tonic's prost codec has decoded the message already (bounded by
        // `grpc_max_message_bytes`); reserve what the spans hold now.
        let encoded = req.encoded_len();
        let Some(batch) = req.batch else {
            return Err(Status::invalid_argument("PostSpansRequest has no batch"));
        };
        let limits = self.pipeline.decode_limits();
        if batch.spans.len() > limits.max_spans {
            let e = BudgetError::TooManySpans {
                max: limits.max_spans,
            };
            self.metrics.record_memory_refused(e);
            return Err(budget_status(e));
        }
        let converted = batch_to_model(batch);
        let held = encoded
            + converted
                .spans
                .iter()
                .map(clew_model::Span::estimated_size)
                .sum::<usize>();
        let reservation = self.pipeline.reserve(held).map_err(budget_status)?;
        let mut refusals = Refusals::default();
        for e in &converted.rejected {
            refusals.add(e.reason(), 1, || e.to_string());
        }
        match verdict::submit(
            &self.pipeline,
            converted.spans,
            SOURCE,
            refusals,
            reservation,
        ) {
            Verdict::Accepted {
                accepted: 0,
                message: Some(msg),
                ..
            } => Err(Status::invalid_argument(msg)),
            Verdict::Accepted { .. } => Ok(pb::PostSpansResponse {}),
            Verdict::Dropped { spans, reason } if reason.is_retryable() => {
                Err(Status::unavailable(Verdict::drop_message(spans, reason)))
            }
            Verdict::Dropped { spans, reason } => Err(Status::invalid_argument(
                Verdict::drop_message(spans, reason),
            )),
        }
    }
}

#[tonic::async_trait]
impl CollectorService for JaegerCollector {
    async fn post_spans(
        &self,
        request: Request<pb::PostSpansRequest>,
    ) -> Result<Response<pb::PostSpansResponse>, Status> {
        let req = request.into_inner();
        self.metrics.record_bytes(SOURCE, req.encoded_len());
        self.post(req).map(Response::new)
    }
}
