//! `GET /api/traces` (search and multi-get) and `GET /api/traces/{traceID}`.

use std::time::Instant;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use clew_model::Trace;

use crate::api::{now_ns, store_error};
use crate::envelope::{
    ApiError, Envelope, error_response, json_bytes, json_response, to_json, wants_pretty,
};
use crate::jaeger_json::{TraceDto, render_trace, write_trace};
use crate::limits::{self, SearchError, Within, json_len, take_within};
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
        if pretty {
            // Indentation depends on nesting: rendered as one document.
            let (data, cut) = take_within(
                traces.iter().map(render_trace),
                json_len,
                max_bytes,
                deadline,
            );
            errors.extend(cut.map(warning));
            let mut envelope = Envelope::data(data, 0);
            envelope.errors = (!errors.is_empty()).then_some(errors);
            return json_response(&envelope, true);
        }
        match compact_body(&traces, max_bytes, deadline, errors) {
            Ok(body) => json_bytes(StatusCode::OK, body),
            Err(e) => error_response(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        }
    })
    .await
}

/// `Envelope::data(traces, 0)` with `errors` as compact JSON — the bytes
/// serialising the envelope of rendered traces gives — with the traces
/// that fit `max_bytes` and the deadline (as [`take_within`] takes them;
/// a cut adds its warning to `errors`).
///
/// Each trace is written once, straight from the model into the body
/// ([`write_trace`]): its bytes are what the byte cap counts. Building DTOs,
/// serialising each trace to its own buffer and joining the buffers was
/// half of a large search's CPU.
fn compact_body(
    traces: &[Trace],
    max_bytes: usize,
    deadline: Option<Instant>,
    mut errors: Vec<ApiError>,
) -> Result<Vec<u8>, serde_json::Error> {
    let mut body = b"{\"data\":[".to_vec();
    let mut within = Within::new(traces.len(), max_bytes, deadline);
    for (i, t) in traces.iter().enumerate() {
        if let Err(cut) = within.in_time() {
            errors.push(warning(cut));
            break;
        }
        let at = body.len();
        if i > 0 {
            body.push(b',');
        }
        let from = body.len();
        write_trace(&mut body, t);
        if let Err(cut) = within.admit(body.len() - from) {
            body.truncate(at);
            errors.push(warning(cut));
            break;
        }
        if i == 0 {
            // Traces of one search are alike in size: growing the body by
            // doubling copied it again and again.
            let guess = (body.len() + 1).saturating_mul(traces.len() - 1);
            body.reserve(guess.min(max_bytes));
        }
    }
    let tail = to_json(
        &Envelope {
            data: (),
            total: 0,
            limit: 0,
            offset: 0,
            errors: (!errors.is_empty()).then_some(errors),
        },
        false,
    )?;
    // `tail` is `{"data":null,"total":0,…}`: keep what follows `null`.
    let after = tail
        .strip_prefix(b"{\"data\":null".as_slice())
        .unwrap_or(&tail[..]);
    body.push(b']');
    body.extend_from_slice(after);
    Ok(body)
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
                if pretty {
                    let data = render_all(std::slice::from_ref(&trace));
                    return json_response(&Envelope::data(data, 0), true);
                }
                let one = std::slice::from_ref(&trace);
                match compact_body(one, usize::MAX, None, Vec::new()) {
                    Ok(body) => json_bytes(StatusCode::OK, body),
                    Err(e) => error_response(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
                }
            })
            .await
        }
        Ok(None) => error_response(StatusCode::NOT_FOUND, TRACE_NOT_FOUND),
        Err(e) => store_error(&e),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use clew_model::{KeyValue, Process, Span, SpanId, Trace, TraceId};

    use super::*;

    fn trace(id: u64, spans: u64) -> Trace {
        let p = Arc::new(Process::new("svc"));
        Trace {
            spans: (1..=spans)
                .map(|i| {
                    let mut s = Span::new(TraceId::new(0, id), SpanId(i), "op \"q\"", p.clone());
                    s.tags.push(KeyValue::f64("ratio", 42.0));
                    s
                })
                .collect(),
            warnings: Vec::new(),
        }
    }

    /// What the DTO path gives: rendered traces taken within the cap (by
    /// their compact length), in a serialised envelope.
    fn via_dtos(traces: &[Trace], max_bytes: usize, mut errors: Vec<ApiError>) -> String {
        let (data, cut) = take_within(
            traces.iter().map(render_trace),
            |t| to_json(t, false).expect("encodes").len(),
            max_bytes,
            None,
        );
        errors.extend(cut.map(warning));
        let mut whole = Envelope::data(data, 0);
        whole.errors = (!errors.is_empty()).then_some(errors);
        String::from_utf8(to_json(&whole, false).expect("encodes")).expect("utf-8")
    }

    #[test]
    fn the_compact_body_is_the_serialised_envelope() {
        let traces = [trace(1, 2), trace(2, 1), trace(3, 3)];
        for errors in [vec![], vec![warning("returning 1 of 2 traces".into())]] {
            for n in 0..=traces.len() {
                let kept = &traces[..n];
                let got = compact_body(kept, usize::MAX, None, errors.clone()).expect("encodes");
                assert_eq!(
                    String::from_utf8(got).expect("utf-8"),
                    via_dtos(kept, usize::MAX, errors.clone())
                );
            }
        }
    }

    #[test]
    fn the_compact_body_stops_at_the_byte_cap_as_the_dto_path_does() {
        let traces = [trace(1, 2), trace(2, 1), trace(3, 3), trace(4, 1)];
        let one = to_json(&render_trace(&traces[0]), false)
            .expect("encodes")
            .len();
        // Caps below the first trace, at trace boundaries and between.
        for max_bytes in [0, 1, one - 1, one, one + 1, 2 * one, 3 * one + 7, 10 * one] {
            let got = compact_body(&traces, max_bytes, None, Vec::new()).expect("encodes");
            let got = String::from_utf8(got).expect("utf-8");
            assert_eq!(
                got,
                via_dtos(&traces, max_bytes, Vec::new()),
                "cap {max_bytes}"
            );
        }
        let cut = compact_body(&traces, one, None, Vec::new()).expect("encodes");
        let cut = String::from_utf8(cut).expect("utf-8");
        assert!(cut.contains("returning 1 of 4 traces"), "{cut}");
    }
}
