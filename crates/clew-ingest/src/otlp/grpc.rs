//! OTLP/gRPC: `opentelemetry.proto.collector.trace.v1.TraceService/Export`.
//!
//! opentelemetry-proto's generated server would decode each request with
//! prost, allocating a `String` per attribute (≈ 0.66 M spans/s per core);
//! clew-codec-otlp's borrowed decoder walks the bytes instead. So this is a
//! hand-written tonic service: [`RawCodec`] hands the (decompressed)
//! message over as [`Bytes`], and tonic's [`Grpc`] still does the framing,
//! gzip, size limits and status replies. The service name and method path
//! are the OTLP ones, so any OTLP exporter talks to it unchanged.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use clew_codec_otlp::proto::collector::trace::v1::ExportTraceServiceResponse;
use tonic::body::Body as GrpcBody;
use tonic::codegen::{Body, BoxFuture, Context, Poll, Service, StdError};
use tonic::server::{NamedService, UnaryService};
use tonic::{Request, Response, Status};

use crate::grpc_edge::GrpcEdge;
use crate::grpc_raw::serve_unary;
use crate::grpc_reserve::{ReservationSlot, budget_status};
use crate::metrics::IngestMetrics;
use crate::pipeline::Pipeline;
use crate::source::{Format, Source, Transport};
use crate::verdict::Verdict;

use super::ExportError;

/// OTLP's gRPC port.
pub const OTLP_GRPC_PORT: u16 = 4317;

/// The gRPC service name OTLP exporters call.
pub const TRACE_SERVICE_NAME: &str = "opentelemetry.proto.collector.trace.v1.TraceService";

/// The one method's path.
const EXPORT_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// Metrics label of this service.
const SERVICE: &str = "otlp";

const SOURCE: Source = Source::new(Transport::Grpc, Format::OtlpProto);

/// The OTLP trace service as handed to tonic: [`OtlpTraceService`] behind
/// the shared gRPC edge (call counting, `RESOURCE_EXHAUSTED` for oversize).
pub type OtlpGrpcService = GrpcEdge<OtlpTraceService>;

/// Builds the OTLP gRPC trace service (port 4317), ready for
/// `tonic::transport::Server::builder().add_service(..)` (or
/// `tonic::service::Routes`). Messages over `grpc_max_message_bytes`
/// (compressed or after decompression) get `RESOURCE_EXHAUSTED`; gzip
/// requests are accepted, and replies are gzipped when the client accepts it.
pub fn otlp_grpc_service(pipeline: Pipeline, metrics: Arc<IngestMetrics>) -> OtlpGrpcService {
    let service = OtlpTraceService {
        pipeline,
        metrics: metrics.clone(),
    };
    GrpcEdge::new(service, metrics, SERVICE)
}

/// `TraceService` itself: routes `Export` through tonic's unary machinery
/// with [`RawCodec`].
#[derive(Clone)]
pub struct OtlpTraceService {
    pipeline: Pipeline,
    metrics: Arc<IngestMetrics>,
}

impl NamedService for OtlpTraceService {
    const NAME: &'static str = TRACE_SERVICE_NAME;
}

impl<B> Service<http::Request<B>> for OtlpTraceService
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
        let export = Export {
            pipeline: self.pipeline.clone(),
            metrics: self.metrics.clone(),
        };
        serve_unary(req, EXPORT_PATH, &self.pipeline, export)
    }
}

/// The `Export` handler proper.
struct Export {
    pipeline: Pipeline,
    metrics: Arc<IngestMetrics>,
}

impl UnaryService<Bytes> for Export {
    type Response = ExportTraceServiceResponse;
    type Future = BoxFuture<Response<ExportTraceServiceResponse>, Status>;

    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        let pipeline = self.pipeline.clone();
        let metrics = self.metrics.clone();
        let slot = request.extensions().get::<ReservationSlot>().cloned();
        Box::pin(async move {
            export(pipeline, metrics, request.into_inner(), slot)
                .await
                .map(Response::new)
        })
    }
}

/// tonic has already buffered the message, under the reservation its body
/// made as it was read (see `grpc_reserve`); that reservation now covers
/// the message, and grows by what it decodes into as it is decoded.
async fn export(
    pipeline: Pipeline,
    metrics: Arc<IngestMetrics>,
    body: Bytes,
    slot: Option<ReservationSlot>,
) -> Result<ExportTraceServiceResponse, Status> {
    metrics.record_bytes(SOURCE, body.len());
    let reservation = ReservationSlot::take(slot.as_ref(), &pipeline, body.len())?;
    super::decode_and_export(&pipeline, body, reservation, false, SOURCE)
        .await
        .map_err(|e| match e {
            ExportError::Budget(e) => budget_status(e),
            ExportError::Decode(msg) => Status::invalid_argument(msg),
            // UNAVAILABLE is retryable for OTLP exporters; a batch that can
            // never fit must not be retried.
            ExportError::Dropped(spans, reason) if reason.is_retryable() => {
                Status::unavailable(Verdict::drop_message(spans, reason))
            }
            ExportError::Dropped(spans, reason) => {
                Status::invalid_argument(Verdict::drop_message(spans, reason))
            }
            ExportError::Internal => Status::internal("decoder failed"),
        })
}
