//! `GET /api/traces` (search and multi-get) and `GET /api/traces/{traceID}`.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use clew_model::Trace;

use crate::api::{now_ns, store_error};
use crate::envelope::{ApiError, Envelope, error_response, json_response, wants_pretty};
use crate::jaeger_json::{TraceDto, render_trace};
use crate::params::{Params, TraceRequest, check_time_hints, parse_trace_id, parse_trace_request};
use crate::{QueryState, fetch};

/// Jaeger's text for a missing trace.
pub const TRACE_NOT_FOUND: &str = "trace not found";

fn render_all(traces: &[Trace]) -> Vec<TraceDto> {
    traces.iter().map(render_trace).collect()
}

/// Search by service/operation/tags/durations/window, or fetch the traces
/// named by repeated `traceID` params (each missing one adds an error entry
/// with its ID; the status stays 200, as in Jaeger).
pub async fn search(State(state): State<QueryState>, RawQuery(q): RawQuery) -> Response {
    let p = Params::parse(q.as_deref());
    let pretty = wants_pretty(p.get("prettyPrint"));
    let raw = p.flag("raw");
    let request = match parse_trace_request(&p, now_ns()) {
        Ok(r) => r,
        Err(e) => return error_response(StatusCode::BAD_REQUEST, &e.0),
    };
    let (traces, errors) = match request {
        TraceRequest::Search(query) => match fetch::search(&*state.reader, &query, raw).await {
            Ok(t) => (t, None),
            Err(e) => return store_error(&e),
        },
        TraceRequest::ByIds(ids) => {
            let mut found = Vec::with_capacity(ids.len());
            let mut missing = Vec::new();
            for id in ids {
                match fetch::trace(&*state.reader, id, raw).await {
                    Ok(Some(t)) => found.push(t),
                    Ok(None) => missing.push(ApiError {
                        code: 0,
                        msg: TRACE_NOT_FOUND.into(),
                        trace_id: id.to_string(),
                    }),
                    Err(e) => return store_error(&e),
                }
            }
            (found, (!missing.is_empty()).then_some(missing))
        }
    };
    let mut envelope = Envelope::data(render_all(&traces), 0);
    envelope.errors = errors;
    json_response(&envelope, pretty)
}

/// One trace by ID; 404 with the error envelope when absent.
pub async fn get_trace(
    State(state): State<QueryState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let p = Params::parse(q.as_deref());
    let id = match parse_trace_id(&id) {
        Ok(id) => id,
        Err(e) => return error_response(StatusCode::BAD_REQUEST, &e),
    };
    if let Err(e) = check_time_hints(&p) {
        return error_response(StatusCode::BAD_REQUEST, &e.0);
    }
    match fetch::trace(&*state.reader, id, p.flag("raw")).await {
        Ok(Some(trace)) => {
            let data = render_all(std::slice::from_ref(&trace));
            json_response(&Envelope::data(data, 0), wants_pretty(p.get("prettyPrint")))
        }
        Ok(None) => error_response(StatusCode::NOT_FOUND, TRACE_NOT_FOUND),
        Err(e) => store_error(&e),
    }
}
