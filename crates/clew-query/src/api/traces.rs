//! `GET /api/traces` (search and multi-get) and `GET /api/traces/{traceID}`.

use std::time::Instant;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use clew_model::Trace;

use crate::api::{now_ns, store_error};
use crate::envelope::{ApiError, Envelope, error_response, json_response, wants_pretty};
use crate::jaeger_json::{TraceDto, render_trace};
use crate::limits::{self, SearchError, json_len, take_within};
use crate::params::{Params, TraceRequest, check_time_hints, parse_trace_id, parse_trace_request};
use crate::{QueryState, blocking, fetch};

/// Jaeger's text for a missing trace.
pub const TRACE_NOT_FOUND: &str = "trace not found";

fn render_all(traces: &[Trace]) -> Vec<TraceDto> {
    traces.iter().map(render_trace).collect()
}

/// Search by service/operation/tags/durations/window, or fetch the traces
/// named by repeated `traceID` params (each missing one adds an error entry
/// with its ID; the status stays 200, as in Jaeger).
///
/// The query limits of [`crate::limits`] apply: a lowered `limit`, a
/// response cut at the byte cap or the time budget are each reported as an
/// entry of `errors` (message only, no code), the rest of the answer is
/// normal; a store that does not answer within the budget is a 503.
pub async fn search(State(state): State<QueryState>, RawQuery(q): RawQuery) -> Response {
    let p = Params::parse(q.as_deref());
    let pretty = wants_pretty(p.get("prettyPrint"));
    let raw = p.flag("raw");
    let request = match parse_trace_request(&p, now_ns()) {
        Ok(r) => r,
        Err(e) => return error_response(StatusCode::BAD_REQUEST, &e.0),
    };
    let mut errors = Vec::new();
    let (traces, deadline) = match request {
        TraceRequest::Search(query) => {
            match limits::search(&*state.reader, &state.limits, query, raw).await {
                Ok(found) => {
                    errors.extend(found.warnings.into_iter().map(warning));
                    (found.traces, found.deadline)
                }
                Err(SearchError::Store(e)) => return store_error(&e),
                Err(SearchError::TimedOut(budget)) => {
                    let msg = SearchError::timeout_message(budget);
                    return error_response(StatusCode::SERVICE_UNAVAILABLE, &msg);
                }
            }
        }
        TraceRequest::ByIds(ids) => {
            let deadline = Instant::now() + state.limits.timeout();
            let mut found = Vec::with_capacity(ids.len().min(state.limits.max_traces));
            for id in ids {
                match fetch::trace(&*state.reader, id, raw).await {
                    Ok(Some(t)) => found.push(t),
                    Ok(None) => errors.push(ApiError {
                        code: 0,
                        msg: TRACE_NOT_FOUND.into(),
                        trace_id: id.to_string(),
                    }),
                    Err(e) => return store_error(&e),
                }
            }
            (found, Some(deadline))
        }
    };
    let max_bytes = state.limits.max_response_bytes;
    blocking::respond(move || {
        let (data, cut) = take_within(
            traces.iter().map(render_trace),
            json_len,
            max_bytes,
            deadline,
        );
        errors.extend(cut.map(warning));
        let mut envelope = Envelope::data(data, 0);
        envelope.errors = (!errors.is_empty()).then_some(errors);
        json_response(&envelope, pretty)
    })
    .await
}

/// A limit note as an `errors` entry: message only, like Jaeger's
/// per-trace errors, so clients that read `errors` see it.
fn warning(msg: String) -> ApiError {
    ApiError {
        code: 0,
        msg,
        trace_id: String::new(),
    }
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
            let pretty = wants_pretty(p.get("prettyPrint"));
            blocking::respond(move || {
                let data = render_all(std::slice::from_ref(&trace));
                json_response(&Envelope::data(data, 0), pretty)
            })
            .await
        }
        Ok(None) => error_response(StatusCode::NOT_FOUND, TRACE_NOT_FOUND),
        Err(e) => store_error(&e),
    }
}
