//! `jaeger.api_v2.CollectorService/PostSpans`.
//!
//! Hand-written rather than generated, for the same reason as the OTLP
//! service: the generated server would let prost decode the message before
//! any handler could bound it, and an empty `Span` message is two bytes
//! that become hundreds. Here tonic ([`Grpc`] with [`RawCodec`]) does the
//! framing, gzip and size limit; the handler reserves the message from the
//! in-flight budget, charges what it may decode into
//! ([`clew_codec_jaeger::api_v2::charge_post_spans`]), and only then decodes,
//! off the async reactor.
//!
//! Spans without their own process inherit the batch's. api_v2 has no
//! partial-success reply, so: spans with malformed IDs are refused one by
//! one and counted per reason; if any span of the batch was accepted the
//! call succeeds (nothing accepted is lost and the refusals are on
//! `/metrics` and in the log), and if none was, the call fails with
//! `INVALID_ARGUMENT` naming the reasons. A full queue or busy budget is
//! `UNAVAILABLE` / `RESOURCE_EXHAUSTED` (retryable); a batch that can never
//! fit is `INVALID_ARGUMENT`.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use clew_codec_jaeger::DecodeError;
use clew_codec_jaeger::api_v2::{Converted, batch_to_model, charge_post_spans, pb};
use clew_model::{BudgetError, DecodeBudget};
use prost::Message;
use tonic::body::Body as GrpcBody;
use tonic::codegen::{Body, BoxFuture, Context, Poll, Service, StdError};
use tonic::server::{NamedService, UnaryService};
use tonic::{Request, Response, Status};

use crate::budget::Reservation;
use crate::grpc_raw::serve_unary;
use crate::grpc_reserve::{ReservationSlot, budget_status};
use crate::metrics::IngestMetrics;
use crate::pipeline::Pipeline;
use crate::source::{Format, Source, Transport};
use crate::verdict::{self, Refusals, Verdict};

const SOURCE: Source = Source::new(Transport::Grpc, Format::JaegerProto);

/// The gRPC service name Jaeger agents and exporters call.
pub const COLLECTOR_SERVICE_NAME: &str = "jaeger.api_v2.CollectorService";

/// The one method's path.
const POST_SPANS_PATH: &str = "/jaeger.api_v2.CollectorService/PostSpans";

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
}

impl NamedService for JaegerCollector {
    const NAME: &'static str = COLLECTOR_SERVICE_NAME;
}

impl<B> Service<http::Request<B>> for JaegerCollector
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<GrpcBody>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        serve_unary(
            req,
            POST_SPANS_PATH,
            &self.pipeline,
            PostSpans(self.clone()),
        )
    }
}

struct PostSpans(JaegerCollector);

impl UnaryService<Bytes> for PostSpans {
    type Response = pb::PostSpansResponse;
    type Future = BoxFuture<Response<pb::PostSpansResponse>, Status>;

    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        let this = self.0.clone();
        let slot = request.extensions().get::<ReservationSlot>().cloned();
        Box::pin(async move {
            let body = request.into_inner();
            this.post(body, slot).await.map(Response::new)
        })
    }
}

impl JaegerCollector {
    async fn post(
        &self,
        body: Bytes,
        slot: Option<ReservationSlot>,
    ) -> Result<pb::PostSpansResponse, Status> {
        self.metrics.record_bytes(SOURCE, body.len());
        let mut reservation = ReservationSlot::take(slot.as_ref(), &self.pipeline, body.len())?;
        let limits = self.pipeline.decode_limits();
        let decoded = self
            .pipeline
            .off_reactor(move || {
                let mut budget = DecodeBudget::with_grant(limits, &mut reservation);
                let converted = decode(&body, &mut budget);
                (converted, reservation)
            })
            .await;
        let Some((converted, reservation)) = decoded else {
            return Err(Status::internal("decoder failed"));
        };
        let converted = match converted {
            Ok(c) => c,
            Err(Refused::Budget(e)) => {
                self.metrics.record_memory_refused(e);
                return Err(budget_status(e));
            }
            Err(Refused::Invalid(msg)) => return Err(Status::invalid_argument(msg)),
        };
        self.submit(converted, reservation).await
    }

    async fn submit(
        &self,
        converted: Converted,
        reservation: Reservation,
    ) -> Result<pb::PostSpansResponse, Status> {
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
        )
        .await
        {
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

enum Refused {
    Budget(BudgetError),
    Invalid(String),
}

/// Charges, then decodes with prost, then converts to the model.
fn decode(body: &[u8], budget: &mut DecodeBudget<'_>) -> Result<Converted, Refused> {
    charge_post_spans(body, budget).map_err(|e| match e {
        DecodeError::Budget(e) => Refused::Budget(e),
        other => Refused::Invalid(other.to_string()),
    })?;
    let req = pb::PostSpansRequest::decode(body).map_err(|e| Refused::Invalid(e.to_string()))?;
    let Some(batch) = req.batch else {
        return Err(Refused::Invalid("PostSpansRequest has no batch".into()));
    };
    Ok(batch_to_model(batch))
}
