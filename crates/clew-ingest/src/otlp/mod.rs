//! OTLP trace ingest: gRPC `TraceService/Export` (4317) and HTTP
//! `POST /v1/traces` (4318).
//!
//! Both paths hand the body bytes to `clew-codec-otlp`'s zero-copy decoder
//! (the gRPC path through a custom tonic codec that yields the raw message
//! instead of prost structs), then share [`export`]: spans the codec refused
//! (IDs of the wrong length, zero IDs) are counted per reason and reported
//! in `partial_success`, the rest go to the pipeline.

mod grpc;
mod http;

use bytes::Bytes;
use clew_codec_otlp::proto::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use clew_codec_otlp::{Decoded, OtlpError, RejectReason};
use clew_model::{BudgetError, DecodeBudget};

use crate::budget::Reservation;
use crate::pipeline::{DropReason, Pipeline};
use crate::source::Source;
use crate::verdict::{self, Refusals, Verdict};

pub use grpc::{
    OTLP_GRPC_PORT, OtlpGrpcService, OtlpTraceService, TRACE_SERVICE_NAME, otlp_grpc_service,
};
pub use http::{OTLP_HTTP_PORT, OTLP_TRACES_PATH, otlp_http_router};

/// Why an export request was not accepted.
#[derive(Debug)]
enum ExportError {
    /// The in-flight budget refused it (busy, or it can never fit).
    Budget(BudgetError),
    /// The body does not decode.
    Decode(String),
    /// The pipeline dropped the decoded spans.
    Dropped(usize, DropReason),
    /// The decoder panicked (a bug; counted as an internal error).
    Internal,
}

/// Decodes `body` (protobuf, or JSON when `json`) off the reactor, charging
/// what it decodes into to `reservation`, then submits the spans with it.
async fn decode_and_export(
    pipeline: &Pipeline,
    body: Bytes,
    mut reservation: Reservation,
    json: bool,
    source: Source,
) -> Result<ExportTraceServiceResponse, ExportError> {
    let limits = pipeline.decode_limits();
    let (decoded, reservation) = pipeline
        .off_reactor(move || {
            let mut budget = DecodeBudget::with_grant(limits, &mut reservation);
            let decoded = if json {
                clew_codec_otlp::decode_json_with_budget(&body, &mut budget)
            } else {
                clew_codec_otlp::decode_with_budget(&body, &mut budget)
            };
            (decoded, reservation)
        })
        .await
        .ok_or(ExportError::Internal)?;
    let decoded = match decoded {
        Ok(d) => d,
        Err(OtlpError::Budget(e)) => {
            pipeline.metrics().record_memory_refused(e);
            return Err(ExportError::Budget(e));
        }
        Err(e) => return Err(ExportError::Decode(e.to_string())),
    };
    match export(pipeline, decoded, source, reservation).await {
        Verdict::Accepted {
            rejected, message, ..
        } => Ok(response(rejected, message)),
        Verdict::Dropped { spans, reason } => Err(ExportError::Dropped(spans, reason)),
    }
}

/// Submits a decoded export request and waits until the store has it;
/// refusals become the verdict's message.
async fn export(
    pipeline: &Pipeline,
    decoded: Decoded,
    source: Source,
    reservation: Reservation,
) -> Verdict {
    let mut refusals = Refusals::default();
    for (reason, n) in decoded.rejected.iter() {
        refusals.add(reason.label(), n, || describe(reason).to_string());
    }
    verdict::submit(pipeline, decoded.spans, source, refusals, reservation).await
}

/// One sentence per reason, for `partial_success.error_message`.
fn describe(reason: RejectReason) -> &'static str {
    match reason {
        RejectReason::TraceIdLength => "a span's trace_id is not 16 bytes",
        RejectReason::SpanIdLength => "a span's span_id is not 8 bytes",
        RejectReason::ParentSpanIdLength => "a span's parent_span_id is neither empty nor 8 bytes",
        RejectReason::LinkIdLength => "a link's trace_id is not 16 bytes or its span_id not 8",
        RejectReason::ZeroTraceId => "a span's trace_id is all zeros",
        RejectReason::ZeroSpanId => "a span's span_id is all zeros",
    }
}

/// The export response for an accepted request: `partial_success` set when
/// anything was refused, as the OTLP spec asks.
fn response(rejected: u64, message: Option<String>) -> ExportTraceServiceResponse {
    ExportTraceServiceResponse {
        partial_success: (rejected > 0).then(|| ExportTracePartialSuccess {
            rejected_spans: i64::try_from(rejected).unwrap_or(i64::MAX),
            error_message: message.unwrap_or_default(),
        }),
    }
}
