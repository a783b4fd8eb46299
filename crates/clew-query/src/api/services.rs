//! `/api/services`, `/api/services/{service}/operations`, `/api/operations`.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::QueryState;
use crate::api::store_error;
use crate::envelope::{Envelope, error_response, json_response, wants_pretty};
use crate::jaeger_json::OperationDto;
use crate::params::Params;

/// `GET /api/services`: service names, sorted.
pub async fn services(State(state): State<QueryState>, RawQuery(q): RawQuery) -> Response {
    let p = Params::parse(q.as_deref());
    match state.reader.services().await {
        Ok(names) => {
            let n = names.len();
            json_response(
                &Envelope::data(names, n),
                wants_pretty(p.get("prettyPrint")),
            )
        }
        Err(e) => store_error(&e),
    }
}

/// `GET /api/services/{service}/operations`: unique operation names over
/// all span kinds (the legacy form the old UI and Grafana use).
pub async fn service_operations(
    State(state): State<QueryState>,
    Path(service): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let p = Params::parse(q.as_deref());
    match state.reader.operations(&service, None).await {
        Ok(ops) => {
            let mut names: Vec<String> = ops.into_iter().map(|o| o.name).collect();
            names.sort();
            names.dedup();
            let n = names.len();
            json_response(
                &Envelope::data(names, n),
                wants_pretty(p.get("prettyPrint")),
            )
        }
        Err(e) => store_error(&e),
    }
}

/// `GET /api/operations?service=S&spanKind=K`: operations with their kinds.
pub async fn operations(State(state): State<QueryState>, RawQuery(q): RawQuery) -> Response {
    let p = Params::parse(q.as_deref());
    let Some(service) = p.get("service") else {
        return error_response(StatusCode::BAD_REQUEST, "parameter 'service' is required");
    };
    match state.reader.operations(service, p.get("spanKind")).await {
        Ok(ops) => {
            let data: Vec<OperationDto> = ops
                .into_iter()
                .map(|o| OperationDto {
                    name: o.name,
                    span_kind: o.span_kind,
                })
                .collect();
            let n = data.len();
            json_response(&Envelope::data(data, n), wants_pretty(p.get("prettyPrint")))
        }
        Err(e) => store_error(&e),
    }
}
