//! The sampling HTTP endpoints Jaeger clients poll.
//!
//! * `GET /sampling?service=S` — proto-JSON strategy (Go, OTel `jaegerremote`).
//! * `GET /?service=S` — legacy Thrift-JSON strategy (jaeger-client-java).
//! * `GET /baggageRestrictions?service=S` — `[]`: no restrictions.
//!
//! `service` must appear exactly once, else 400 with Jaeger's message.

use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::SamplingStrategies;
use super::json::{to_legacy_json, to_proto_json};

/// Jaeger's agent sampling port (HTTP).
pub const SAMPLING_PORT: u16 = 5778;

/// The 400 message Jaeger gives for a missing or repeated `service`.
pub const SERVICE_PARAM_ERROR: &str = "'service' parameter must be provided once";

type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// The single `service` value; `None` when missing, repeated or unparsable.
fn service_param(params: Params) -> Option<String> {
    let Query(pairs) = params.ok()?;
    let mut values = pairs.into_iter().filter(|(k, _)| k == "service");
    match (values.next(), values.next()) {
        (Some((_, v)), None) => Some(v),
        _ => None,
    }
}

fn bad_service_param() -> Response {
    (StatusCode::BAD_REQUEST, SERVICE_PARAM_ERROR).into_response()
}

fn json_response(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `GET /sampling?service=S` (also the collector's `/api/sampling`).
pub async fn sampling_handler_proto(
    State(s): State<Arc<SamplingStrategies>>,
    params: Params,
) -> Response {
    match service_param(params) {
        Some(service) => json_response(to_proto_json(&s.for_service(&service))),
        None => bad_service_param(),
    }
}

/// `GET /?service=S`, the legacy form with an integer `strategyType`.
pub async fn sampling_handler_legacy(
    State(s): State<Arc<SamplingStrategies>>,
    params: Params,
) -> Response {
    match service_param(params) {
        Some(service) => json_response(to_legacy_json(&s.for_service(&service))),
        None => bad_service_param(),
    }
}

async fn baggage_restrictions(params: Params) -> Response {
    match service_param(params) {
        Some(_) => json_response("[]".to_string()),
        None => bad_service_param(),
    }
}

/// The router for port 5778.
pub fn sampling_router(sampling: Arc<SamplingStrategies>) -> Router {
    Router::new()
        .route("/sampling", get(sampling_handler_proto))
        .route("/", get(sampling_handler_legacy))
        .route("/baggageRestrictions", get(baggage_restrictions))
        .with_state(sampling)
}
