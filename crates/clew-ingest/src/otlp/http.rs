//! OTLP/HTTP: `POST /v1/traces` on 4318, protobuf or JSON, optionally gzip.
//!
//! Replies follow the OTLP/HTTP spec, in the request's own encoding:
//! * 200 with an `ExportTraceServiceResponse` (`partial_success` set when
//!   spans were refused);
//! * 400 with a `google.rpc.Status` (`{"code":3,"message":"…"}` in JSON) for
//!   a body that does not decode or a broken gzip stream;
//! * 413 when the body exceeds `http_max_body_bytes`, compressed or after
//!   decompression; 415 for other media types or content encodings;
//! * 503 when the ingest queue is full (exporters retry it).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use clew_codec_otlp::proto::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;

use crate::http_body::{
    BodyError, budget_status, content_type_text, decode_body, media_type, read_body, retry_after,
};
use crate::http_common::count_responses;
use crate::metrics::IngestMetrics;
use crate::pipeline::Pipeline;
use crate::source::{Format, Source, Transport};
use crate::verdict::Verdict;

use super::ExportError;

/// OTLP's HTTP port.
pub const OTLP_HTTP_PORT: u16 = 4318;

/// The path OTLP/HTTP trace exporters post to.
pub const OTLP_TRACES_PATH: &str = "/v1/traces";

/// Metrics label of this API.
const API: &str = "otlp";

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

/// `google.rpc.Code` values used in error bodies.
const INVALID_ARGUMENT: i32 = 3;
const RESOURCE_EXHAUSTED: i32 = 8;
const UNAVAILABLE: i32 = 14;
/// `google.rpc.Code.INTERNAL`.
const INTERNAL: i32 = 13;

/// The body and reply encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => PROTOBUF,
            Encoding::Json => JSON,
        }
    }

    fn format(self) -> Format {
        match self {
            Encoding::Protobuf => Format::OtlpProto,
            Encoding::Json => Format::OtlpJson,
        }
    }
}

/// `google.rpc.Status`, the error body OTLP/HTTP prescribes (details are
/// never sent, so field 3 is left out).
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

#[derive(Clone)]
struct OtlpHttpState {
    pipeline: Pipeline,
    metrics: Arc<IngestMetrics>,
    limit: usize,
}

/// The router for port 4318 (`POST /v1/traces`).
pub fn otlp_http_router(pipeline: Pipeline, metrics: Arc<IngestMetrics>) -> Router {
    let limit = pipeline.config().http_max_body_bytes;
    let state = OtlpHttpState {
        pipeline,
        metrics: metrics.clone(),
        limit,
    };
    let router = Router::new()
        .route(OTLP_TRACES_PATH, post(post_traces))
        .with_state(state);
    count_responses(router, metrics, API)
}

fn reply(encoding: Encoding, status: StatusCode, body: Vec<u8>) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(encoding.content_type()),
    );
    resp
}

fn error(encoding: Encoding, status: StatusCode, code: i32, message: String) -> Response {
    let body = match encoding {
        Encoding::Protobuf => RpcStatus { code, message }.encode_to_vec(),
        Encoding::Json => serde_json::json!({ "code": code, "message": message })
            .to_string()
            .into_bytes(),
    };
    reply(encoding, status, body)
}

fn success(encoding: Encoding, resp: &ExportTraceServiceResponse) -> Response {
    let body = match encoding {
        Encoding::Protobuf => resp.encode_to_vec(),
        Encoding::Json => {
            let value = match &resp.partial_success {
                None => serde_json::json!({}),
                // int64 as a string, as the protobuf JSON mapping writes it.
                Some(p) => serde_json::json!({
                    "partialSuccess": {
                        "rejectedSpans": p.rejected_spans.to_string(),
                        "errorMessage": p.error_message,
                    }
                }),
            };
            value.to_string().into_bytes()
        }
    };
    reply(encoding, StatusCode::OK, body)
}

async fn post_traces(State(st): State<OtlpHttpState>, headers: HeaderMap, body: Body) -> Response {
    let encoding = match media_type(&headers).as_str() {
        PROTOBUF => Encoding::Protobuf,
        JSON => Encoding::Json,
        _ => {
            let msg = format!(
                "unsupported content type {:?}; use {PROTOBUF} or {JSON}",
                content_type_text(&headers)
            );
            return error(
                Encoding::Json,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                INVALID_ARGUMENT,
                msg,
            );
        }
    };
    let (body, mut reservation) = match read_body(&st.pipeline, &headers, body, st.limit).await {
        Ok(b) => b,
        Err(e) => return body_error(encoding, &e),
    };
    let body = match decode_body(&headers, body, st.limit, &mut reservation) {
        Ok(b) => b,
        Err(BodyError::Budget(e)) => {
            st.metrics.record_memory_refused(e);
            let e = BodyError::Budget(e);
            return body_error(encoding, &e);
        }
        Err(e) => return body_error(encoding, &e),
    };
    let source = Source::new(Transport::Http, encoding.format());
    st.metrics.record_bytes(source, body.len());
    let json = encoding == Encoding::Json;
    match super::decode_and_export(&st.pipeline, body, reservation, json, source).await {
        Ok(resp) => success(encoding, &resp),
        Err(ExportError::Budget(e)) => {
            let status = budget_status(e);
            let code = if e.is_retryable() {
                RESOURCE_EXHAUSTED
            } else {
                INVALID_ARGUMENT
            };
            retry_after(error(encoding, status, code, e.to_string()))
        }
        Err(ExportError::Decode(msg)) => {
            error(encoding, StatusCode::BAD_REQUEST, INVALID_ARGUMENT, msg)
        }
        Err(ExportError::Dropped(spans, reason)) => {
            let (status, code) = if reason.is_retryable() {
                (StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE)
            } else {
                (StatusCode::PAYLOAD_TOO_LARGE, INVALID_ARGUMENT)
            };
            retry_after(error(
                encoding,
                status,
                code,
                Verdict::drop_message(spans, reason),
            ))
        }
        Err(ExportError::Internal) => error(
            encoding,
            StatusCode::INTERNAL_SERVER_ERROR,
            INTERNAL,
            "decoder failed".into(),
        ),
    }
}

/// The OTLP error reply for a body that could not be read or inflated.
fn body_error(encoding: Encoding, e: &BodyError) -> Response {
    let status = e.status();
    let code = match status {
        StatusCode::SERVICE_UNAVAILABLE => RESOURCE_EXHAUSTED,
        _ => INVALID_ARGUMENT,
    };
    retry_after(error(encoding, status, code, e.to_string()))
}
