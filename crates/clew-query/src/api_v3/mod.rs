//! API v3 over HTTP (`/api/v3/*` on 16686): Jaeger's grpc-gateway JSON
//! routes, traces as OTLP/JSON (hex IDs, 64-bit integers as strings, enums
//! as integers) inside `{"result": …}`.
//!
//! Errors are `{"error": {"httpCode": N, "message": "…"}}` with that status,
//! the gateway's shape, not the `/api/*` envelope.

mod params;
mod summary;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use clew_codec_otlp::json::traces_data;
use clew_codec_otlp::spans_to_resource_spans;
use clew_model::Trace;
use serde_json::json;

use crate::api::traces::TRACE_NOT_FOUND;
use crate::envelope::{join_json, json_bytes};
use crate::fetch;
use crate::limits::{
    self, Found, FoundSummaries, SearchError, json_len, take_within, warning_header,
};
use crate::params::{Params, parse_trace_id};
use crate::{QueryState, blocking};
use params::{SearchRequest, flag, parse_search, time_hint};

/// The 404 message of a search that found nothing.
pub const NO_TRACES_FOUND: &str = "No traces found";

/// A JSON reply; floats print as Go's (and so Jaeger's) OTLP/JSON writer
/// prints them (`42`, not `42.0`).
fn json_body(status: StatusCode, value: &serde_json::Value) -> Response {
    // Serialising a `serde_json::Value` cannot fail.
    json_bytes(
        status,
        crate::jaeger_json::to_go_json(value, false).unwrap_or_default(),
    )
}

/// A gateway-shaped error.
pub(crate) fn v3_error(status: StatusCode, message: &str) -> Response {
    json_body(
        status,
        &json!({"error": {"httpCode": status.as_u16(), "message": message}}),
    )
}

fn store_error(e: &clew_store::StoreError) -> Response {
    tracing::error!(error = %e, "API v3 query failed in storage");
    v3_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())
}

/// Traces merged into one `TracesData`, wrapped in `{"result": …}`.
fn result(traces: &[Trace]) -> Response {
    let resource_spans: Vec<_> = traces
        .iter()
        .flat_map(|t| spans_to_resource_spans(&t.spans))
        .collect();
    json_body(
        StatusCode::OK,
        &json!({"result": traces_data(&resource_spans)}),
    )
}

/// `GET /api/v3/traces/{trace_id}?startTime=&endTime=&rawTraces=`.
pub async fn get_trace(
    State(state): State<QueryState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let p = Params::parse(q.as_deref());
    let id = match parse_trace_id(&id) {
        Ok(id) => id,
        Err(e) => {
            let msg = format!("malformed parameter trace_id: {e}");
            return v3_error(StatusCode::BAD_REQUEST, &msg);
        }
    };
    for names in [["startTime", "start_time"], ["endTime", "end_time"]] {
        if let Err(e) = time_hint(&p, names) {
            return v3_error(StatusCode::BAD_REQUEST, &e);
        }
    }
    let raw = flag(&p, &["rawTraces", "raw_traces"]);
    match fetch::trace(&*state.reader, id, raw).await {
        Ok(Some(t)) => result(&[t]),
        Ok(None) => v3_error(StatusCode::NOT_FOUND, TRACE_NOT_FOUND),
        Err(e) => store_error(&e),
    }
}

/// A search within the query limits ([`crate::limits`]): a store that does
/// not answer within the time budget is a 503 naming the setting.
async fn run_search(state: &QueryState, q: Option<&str>) -> Result<Found, Response> {
    let p = Params::parse(q);
    let SearchRequest { query, raw } =
        parse_search(&p).map_err(|e| v3_error(StatusCode::BAD_REQUEST, &e))?;
    limits::search(&*state.reader, &state.limits, query, raw)
        .await
        .map_err(search_failed)
}

/// The reply to a search that found nothing: the store failed (500) or did
/// not answer within the time budget (503, naming the setting).
fn search_failed(e: SearchError) -> Response {
    match e {
        SearchError::Store(e) => store_error(&e),
        SearchError::TimedOut(budget) => v3_error(
            StatusCode::SERVICE_UNAVAILABLE,
            &SearchError::timeout_message(budget),
        ),
    }
}

/// `body` with the limit warnings, if any, in a `Warning` header.
fn with_warnings(mut body: Response, warnings: &[String]) -> Response {
    if let Some((name, value)) = warning_header(warnings) {
        body.headers_mut().insert(name, value);
    }
    body
}

/// `GET /api/v3/traces?query.*`: every match merged into one `TracesData`;
/// 404 when nothing matches, as Jaeger's gateway answers. Traces past the
/// response byte cap are left out, said in a `Warning` header.
pub async fn find_traces(State(state): State<QueryState>, RawQuery(q): RawQuery) -> Response {
    let mut found = match run_search(&state, q.as_deref()).await {
        Ok(found) if found.traces.is_empty() => {
            return v3_error(StatusCode::NOT_FOUND, NO_TRACES_FOUND);
        }
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let max_bytes = state.limits.max_response_bytes;
    blocking::respond(move || {
        // Each trace's `resourceSpans` are encoded as soon as they are built:
        // a `serde_json::Value` tree costs ~40× its JSON, and holding the
        // trees of a whole answer took 550 MB for a 12 MB response.
        let per_trace = found
            .traces
            .iter()
            .map(|t| encoded_resource_spans(&t.spans));
        let size = |parts: &Vec<Vec<u8>>| parts.iter().map(|p| p.len() + 1).sum::<usize>();
        let (kept, cut) = take_within(per_trace, size, max_bytes, found.deadline);
        found.warnings.extend(cut);
        let body = join_json(
            br#"{"result":{"resourceSpans":["#,
            kept.iter().flatten(),
            b"]}}",
        );
        with_warnings(json_bytes(StatusCode::OK, body), &found.warnings)
    })
    .await
}

/// The OTLP JSON of each `ResourceSpans` of one trace's spans, compact.
fn encoded_resource_spans(spans: &[clew_model::Span]) -> Vec<Vec<u8>> {
    let Some(serde_json::Value::Array(list)) = traces_data(&spans_to_resource_spans(spans))
        .as_object_mut()
        .and_then(|m| m.remove("resourceSpans"))
    else {
        return Vec::new();
    };
    list.iter()
        // Serialising a `serde_json::Value` cannot fail.
        .map(|rs| crate::jaeger_json::to_go_json(rs, false).unwrap_or_default())
        .collect()
}

/// `GET /api/v3/trace-summaries?query.*`: one summary per matching trace
/// (what the UI's search list shows), `{"summaries": []}` when none.
///
/// The store answers with summaries ([`clew_store::TraceSummary`]), not
/// whole traces, within the same limits as a search (trace count, time
/// budget, response bytes; warnings in a `Warning` header). Summaries are
/// of the stored spans, so the adjusters, which work on whole traces, do
/// not apply (as with `rawTraces=true`): identical copies of a span — a
/// retried batch the adjusters would deduplicate — each count.
pub async fn trace_summaries(State(state): State<QueryState>, RawQuery(q): RawQuery) -> Response {
    let p = Params::parse(q.as_deref());
    let query = match parse_search(&p) {
        Ok(SearchRequest { query, raw: _ }) => query,
        Err(e) => return v3_error(StatusCode::BAD_REQUEST, &e),
    };
    let FoundSummaries {
        summaries,
        mut warnings,
        deadline,
    } = match limits::search_summaries(&*state.reader, &state.limits, query).await {
        Ok(found) => found,
        Err(e) => return search_failed(e),
    };
    let max_bytes = state.limits.max_response_bytes;
    blocking::respond(move || {
        let list = summaries.iter().map(summary::to_json);
        let (list, cut) = take_within(list, json_len, max_bytes, deadline);
        warnings.extend(cut);
        let body = json_body(StatusCode::OK, &json!({ "summaries": list }));
        with_warnings(body, &warnings)
    })
    .await
}

/// `GET /api/v3/services` → `{"services": [...]}`.
pub async fn services(State(state): State<QueryState>) -> Response {
    match state.reader.services().await {
        Ok(s) => json_body(StatusCode::OK, &json!({ "services": s })),
        Err(e) => store_error(&e),
    }
}

/// `GET /api/v3/operations?service=&spanKind=` →
/// `{"operations": [{"name", "spanKind"}]}`.
pub async fn operations(State(state): State<QueryState>, RawQuery(q): RawQuery) -> Response {
    let p = Params::parse(q.as_deref());
    let Some(service) = p.get("service") else {
        return v3_error(StatusCode::BAD_REQUEST, "parameter 'service' is required");
    };
    let kind = p.get("spanKind").or_else(|| p.get("span_kind"));
    match state.reader.operations(service, kind).await {
        Ok(ops) => {
            let list: Vec<_> = ops
                .into_iter()
                .map(|o| json!({"name": o.name, "spanKind": o.span_kind}))
                .collect();
            json_body(StatusCode::OK, &json!({ "operations": list }))
        }
        Err(e) => store_error(&e),
    }
}
