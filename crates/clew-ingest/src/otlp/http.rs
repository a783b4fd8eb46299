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
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use clew_codec_otlp::proto::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;

use crate::http_body::{BodyError, content_type_text, decode_body, media_type};
use crate::http_common::count_responses;
use crate::metrics::IngestMetrics;
use crate::pipeline::Pipeline;
use crate::source::{Format, Source, Transport};
use crate::verdict::Verdict;

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
        .layer(DefaultBodyLimit::max(limit))
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

async fn post_traces(
    State(st): State<OtlpHttpState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
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
    let body = match body {
        Ok(b) => b,
        Err(rejection) => {
            let status = rejection.status();
            let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
                RESOURCE_EXHAUSTED
            } else {
                INVALID_ARGUMENT
            };
            let msg = format!("cannot read request body: {}", rejection.body_text());
            return error(encoding, status, code, msg);
        }
    };
    let body = match decode_body(&headers, body, st.limit) {
        Ok(b) => b,
        Err(e) => {
            let (status, code) = match e {
                BodyError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, RESOURCE_EXHAUSTED),
                BodyError::UnsupportedEncoding(_) => {
                    (StatusCode::UNSUPPORTED_MEDIA_TYPE, INVALID_ARGUMENT)
                }
                BodyError::Gzip(_) => (StatusCode::BAD_REQUEST, INVALID_ARGUMENT),
            };
            return error(encoding, status, code, e.to_string());
        }
    };
    let source = Source::new(Transport::Http, encoding.format());
    st.metrics.record_bytes(source, body.len());
    let decoded = match encoding {
        Encoding::Protobuf => clew_codec_otlp::decode(&body),
        Encoding::Json => clew_codec_otlp::json::decode(&body),
    };
    let decoded = match decoded {
        Ok(d) => d,
        Err(e) => {
            return error(
                encoding,
                StatusCode::BAD_REQUEST,
                INVALID_ARGUMENT,
                e.to_string(),
            );
        }
    };
    match super::export(&st.pipeline, decoded, source) {
        Verdict::Accepted {
            rejected, message, ..
        } => success(encoding, &super::response(rejected, message)),
        Verdict::Dropped { spans, reason } => error(
            encoding,
            StatusCode::SERVICE_UNAVAILABLE,
            UNAVAILABLE,
            Verdict::drop_message(spans, reason),
        ),
    }
}
