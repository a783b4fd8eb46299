//! Zipkin's collector API on 9411: `POST /api/v2/spans` (JSON or proto3
//! `ListOfSpans`) and `POST /api/v1/spans` (JSON or thrift
//! `list<zipkincore.Span>`, binary protocol), optionally gzip.
//!
//! Answers: 202 when the spans are queued (empty body, as Zipkin; a JSON
//! body `{"accepted", "rejected", "error"}` when some spans were refused);
//! JSON `{"error": "…"}` with 400 for a body that does not decode or whose
//! every span was refused, 413 over `http_max_body_bytes` (compressed or
//! decompressed), 415 for other media types or encodings, 503 when the
//! ingest queue is full.
//!
//! Zipkin has no partial-success reply, so a span with a malformed ID is
//! refused alone (counted per reason) and the rest of the batch is kept:
//! see [`decode`] for how each format gets there.

mod decode;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use clew_codec_zipkin::ZipkinError;
use clew_model::DecodeBudget;

use crate::http_body::{
    BodyError, budget_status, content_type_text, decode_body, media_type, read_body,
};
use crate::http_common::{count_responses, drop_status, json_error};
use crate::metrics::IngestMetrics;
use crate::pipeline::Pipeline;
use crate::source::{Format, Source, Transport};
use crate::verdict::{self, Verdict};

/// Zipkin's port.
pub const ZIPKIN_PORT: u16 = 9411;

/// Zipkin v2 span upload path.
pub const ZIPKIN_V2_SPANS_PATH: &str = "/api/v2/spans";

/// Zipkin v1 span upload path.
pub const ZIPKIN_V1_SPANS_PATH: &str = "/api/v1/spans";

/// Metrics label of this API.
const API: &str = "zipkin";

/// Which upload API a request came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Api {
    V1,
    V2,
}

/// A body format both APIs know how to decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyFormat {
    V2Json,
    V2Proto,
    V1Json,
    V1Thrift,
}

impl BodyFormat {
    fn format(self) -> Format {
        match self {
            BodyFormat::V2Json | BodyFormat::V1Json => Format::ZipkinJson,
            BodyFormat::V2Proto => Format::ZipkinProto,
            BodyFormat::V1Thrift => Format::ZipkinThrift,
        }
    }
}

/// Zipkin treats a missing content type as JSON.
fn body_format(api: Api, media: &str) -> Option<BodyFormat> {
    match (api, media) {
        (Api::V2, "" | "application/json") => Some(BodyFormat::V2Json),
        (Api::V2, "application/x-protobuf" | "application/protobuf") => Some(BodyFormat::V2Proto),
        (Api::V1, "" | "application/json") => Some(BodyFormat::V1Json),
        (Api::V1, "application/x-thrift" | "application/vnd.apache.thrift.binary") => {
            Some(BodyFormat::V1Thrift)
        }
        _ => None,
    }
}

#[derive(Clone)]
struct ZipkinState {
    pipeline: Pipeline,
    metrics: Arc<IngestMetrics>,
    limit: usize,
}

/// The upload routes of port 9411; the binary merges them with the Zipkin
/// read API's router.
pub fn zipkin_ingest_router(pipeline: Pipeline, metrics: Arc<IngestMetrics>) -> Router {
    let limit = pipeline.config().http_max_body_bytes;
    let state = ZipkinState {
        pipeline,
        metrics: metrics.clone(),
        limit,
    };
    let router = Router::new()
        .route(ZIPKIN_V2_SPANS_PATH, post(post_v2))
        .route(ZIPKIN_V1_SPANS_PATH, post(post_v1))
        .with_state(state);
    count_responses(router, metrics, API)
}

async fn post_v2(State(st): State<ZipkinState>, headers: HeaderMap, body: Body) -> Response {
    post_spans(st, Api::V2, headers, body).await
}

async fn post_v1(State(st): State<ZipkinState>, headers: HeaderMap, body: Body) -> Response {
    post_spans(st, Api::V1, headers, body).await
}

async fn post_spans(st: ZipkinState, api: Api, headers: HeaderMap, body: Body) -> Response {
    let Some(format) = body_format(api, &media_type(&headers)) else {
        let msg = format!("unsupported content type {:?}", content_type_text(&headers));
        return json_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, msg);
    };
    let (body, mut reservation) = match read_body(&st.pipeline, &headers, body, st.limit).await {
        Ok(b) => b,
        Err(e) => return json_error(e.status(), e.to_string()),
    };
    let body = match decode_body(&headers, body, st.limit, &mut reservation) {
        Ok(b) => b,
        Err(BodyError::Budget(e)) => {
            st.metrics.record_memory_refused(e);
            let e = BodyError::Budget(e);
            return json_error(e.status(), e.to_string());
        }
        Err(e) => return json_error(e.status(), e.to_string()),
    };
    let source = Source::new(Transport::Http, format.format());
    st.metrics.record_bytes(source, body.len());
    let limits = st.pipeline.decode_limits();
    let decoded = st
        .pipeline
        .off_reactor(move || {
            let mut budget = DecodeBudget::with_grant(limits, &mut reservation);
            let decoded = decode::decode(format, &body, &mut budget);
            (decoded, reservation)
        })
        .await;
    let Some((decoded, reservation)) = decoded else {
        return json_error(StatusCode::INTERNAL_SERVER_ERROR, "decoder failed".into());
    };
    let (spans, refusals) = match decoded {
        Ok(d) => d,
        Err(ZipkinError::Budget(e)) => {
            st.metrics.record_memory_refused(e);
            return json_error(budget_status(e), e.to_string());
        }
        Err(e) => return json_error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    match verdict::submit(&st.pipeline, spans, source, refusals, reservation).await {
        Verdict::Accepted { message: None, .. } => StatusCode::ACCEPTED.into_response(),
        Verdict::Accepted {
            accepted: 0,
            message: Some(msg),
            ..
        } => json_error(StatusCode::BAD_REQUEST, msg),
        Verdict::Accepted {
            accepted,
            rejected,
            message: Some(msg),
        } => (
            StatusCode::ACCEPTED,
            axum::Json(serde_json::json!({
                "accepted": accepted,
                "rejected": rejected,
                "error": msg,
            })),
        )
            .into_response(),
        Verdict::Dropped { spans, reason } => {
            json_error(drop_status(reason), Verdict::drop_message(spans, reason))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_per_api() {
        assert_eq!(body_format(Api::V2, ""), Some(BodyFormat::V2Json));
        assert_eq!(
            body_format(Api::V2, "application/x-protobuf"),
            Some(BodyFormat::V2Proto)
        );
        assert_eq!(body_format(Api::V2, "application/x-thrift"), None);
        assert_eq!(
            body_format(Api::V1, "application/json"),
            Some(BodyFormat::V1Json)
        );
        assert_eq!(
            body_format(Api::V1, "application/x-thrift"),
            Some(BodyFormat::V1Thrift)
        );
        assert_eq!(body_format(Api::V1, "application/x-protobuf"), None);
        assert_eq!(body_format(Api::V1, "text/plain"), None);
    }
}
