//! Jaeger collector HTTP (port 14268): `POST /api/traces` with a Thrift
//! `Batch` body, plus `GET /api/sampling` for clients that poll the collector.
//!
//! The protocol comes from the media type (`?format=` is ignored, as Jaeger
//! does). Answers: 202 with an empty body when queued; JSON
//! `{"error": "…"}` with 400 (bad content type or body), 413 (body over
//! `http_max_body_bytes`, or a batch that decodes into more spans or bytes
//! than one request may ever hold) or 503 + `Retry-After` (queue or
//! in-flight memory full, or shutting down: the client may retry). The body
//! is read and decoded under the in-flight budget ([`crate::budget`]), and
//! decoded on the blocking pool.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use clew_codec_jaeger::{DecodeError, Protocol, decode_batch_with};
use clew_model::DecodeBudget;

use crate::http_body::{budget_status, read_body};
use crate::http_common::{count_responses, drop_status, json_error};
use crate::metrics::IngestMetrics;
use crate::pipeline::{DropReason, Pipeline, Submit};
use crate::sampling::{SamplingStrategies, sampling_handler_proto};
use crate::source::{Format, Source, Transport};

/// Jaeger's collector HTTP port.
pub const COLLECTOR_HTTP_PORT: u16 = 14268;

/// Path clients post batches to.
pub const TRACES_PATH: &str = "/api/traces";

/// Metrics label of this API.
const API: &str = "collector";

#[derive(Clone)]
struct CollectorState {
    pipeline: Pipeline,
    metrics: Arc<IngestMetrics>,
}

/// The router for port 14268.
pub fn collector_http_router(
    pipeline: Pipeline,
    metrics: Arc<IngestMetrics>,
    sampling: Arc<SamplingStrategies>,
) -> Router {
    let state = CollectorState {
        pipeline,
        metrics: metrics.clone(),
    };
    let traces = Router::new()
        .route(TRACES_PATH, post(post_traces))
        .with_state(state);
    let sampling = Router::new()
        .route("/api/sampling", get(sampling_handler_proto))
        .with_state(sampling);
    count_responses(traces.merge(sampling), metrics, API)
}

/// Maps the media type (parameters ignored, case-insensitive) to a protocol.
fn protocol_for(headers: &HeaderMap) -> Result<Protocol, String> {
    let raw = headers
        .get(header::CONTENT_TYPE)
        .map(|v| {
            v.to_str()
                .map_err(|_| "Cannot parse content type".to_string())
        })
        .transpose()?
        .unwrap_or("");
    let media = raw
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match media.as_str() {
        "application/x-thrift" | "application/vnd.apache.thrift.binary" => Ok(Protocol::Binary),
        "application/vnd.apache.thrift.compact" => Ok(Protocol::Compact),
        _ => Err(format!("Unsupported content type: {raw}")),
    }
}

async fn post_traces(State(st): State<CollectorState>, headers: HeaderMap, body: Body) -> Response {
    let protocol = match protocol_for(&headers) {
        Ok(p) => p,
        Err(msg) => return json_error(StatusCode::BAD_REQUEST, msg),
    };
    let limit = st.pipeline.config().http_max_body_bytes;
    let (body, mut reservation) = match read_body(&st.pipeline, &headers, body, limit).await {
        Ok(b) => b,
        Err(e) => {
            return json_error(e.status(), format!("Unable to process request body: {e}"));
        }
    };
    let format = match protocol {
        Protocol::Binary => Format::JaegerThriftBinary,
        Protocol::Compact => Format::JaegerThriftCompact,
    };
    let source = Source::new(Transport::Http, format);
    st.metrics.record_bytes(source, body.len());
    let limits = st.pipeline.decode_limits();
    let decoded = st
        .pipeline
        .off_reactor(move || {
            let mut budget = DecodeBudget::with_grant(limits, &mut reservation);
            let batch = decode_batch_with(&body, protocol, &mut budget);
            (batch, reservation)
        })
        .await;
    let Some((batch, reservation)) = decoded else {
        return json_error(StatusCode::INTERNAL_SERVER_ERROR, "decoder failed".into());
    };
    let batch = match batch {
        Ok(b) => b,
        Err(DecodeError::Budget(e)) => {
            st.metrics.record_memory_refused(e);
            return json_error(
                budget_status(e),
                format!("Unable to process request body: {e}"),
            );
        }
        Err(e) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                format!("Unable to process request body: {e}"),
            );
        }
    };
    st.metrics.record_repaired(batch.repaired_strings);
    // 202 only once the store has the spans (fsynced, for the disk store).
    let (submitted, ack) = st.pipeline.submit_acked(batch.spans, source, reservation);
    match submitted {
        Submit::Queued { spans, .. } => {
            let written = match ack {
                Some(ack) => ack.written().await,
                None => true,
            };
            if written {
                StatusCode::ACCEPTED.into_response()
            } else {
                let reason = DropReason::WriteFailed;
                json_error(
                    drop_status(reason),
                    format!("{}; {spans} spans not stored", reason.describe()),
                )
            }
        }
        Submit::Dropped { spans, reason, .. } => json_error(
            drop_status(reason),
            format!("{}; {spans} spans dropped", reason.describe()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(ct).expect("header"),
        );
        h
    }

    #[test]
    fn media_type_picks_protocol() {
        assert!(matches!(
            protocol_for(&headers("application/x-thrift")),
            Ok(Protocol::Binary)
        ));
        assert!(matches!(
            protocol_for(&headers("Application/VND.apache.thrift.binary; charset=x")),
            Ok(Protocol::Binary)
        ));
        assert!(matches!(
            protocol_for(&headers("application/vnd.apache.thrift.compact")),
            Ok(Protocol::Compact)
        ));
        assert_eq!(
            protocol_for(&headers("application/json")).err(),
            Some("Unsupported content type: application/json".to_string())
        );
        assert!(protocol_for(&HeaderMap::new()).is_err());
    }
}
