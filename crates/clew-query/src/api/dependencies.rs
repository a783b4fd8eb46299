//! `GET /api/dependencies?endTs=<ms>&lookback=<ms>&service=<name>`.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::QueryState;
use crate::api::{now_ns, store_error};
use crate::envelope::{Envelope, error_response, json_response, wants_pretty};
use crate::jaeger_json::render_dependencies;
use crate::limits::{self, SearchError};
use crate::params::{Params, parse_dependency_request};

/// Service-to-service call counts in the window; `total` is 0 as in Jaeger.
pub async fn dependencies(State(state): State<QueryState>, RawQuery(q): RawQuery) -> Response {
    let p = Params::parse(q.as_deref());
    let req = match parse_dependency_request(&p, now_ns()) {
        Ok(r) => r,
        Err(e) => return error_response(StatusCode::BAD_REQUEST, &e.0),
    };
    match limits::dependencies(&*state.reader, &state.limits, req.start, req.end).await {
        Ok(mut links) => {
            if let Some(service) = &req.service {
                links.retain(|l| &l.parent == service || &l.child == service);
            }
            let data = render_dependencies(&links);
            json_response(&Envelope::data(data, 0), wants_pretty(p.get("prettyPrint")))
        }
        Err(SearchError::Store(e)) => store_error(&e),
        Err(SearchError::TimedOut(budget)) => error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &SearchError::timeout_message(budget),
        ),
    }
}
