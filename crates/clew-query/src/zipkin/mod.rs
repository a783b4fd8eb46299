//! Zipkin's read API (`GET /api/v2/...`), so Zipkin's UI and Zipkin-speaking
//! tools can read from Clew. Served on 9411 next to the Zipkin POST routes:
//! [`zipkin_read_router`] is its own router for the lead to merge there.
//!
//! Spans are rendered as Zipkin v2 JSON by clew-codec-zipkin. They are
//! returned as stored (no Jaeger adjusters): Zipkin clients expect shared
//! client/server span IDs as they sent them, and Zipkin's UI does its own
//! clean-up. Errors are plain text with status 400/404, like Zipkin's.

mod params;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use clew_model::{Trace, keys};
use serde::Serialize;

use crate::api::now_ns;
use crate::envelope::{join_json, json_bytes};
use crate::limits::{self, Found, QueryLimits, SearchError, take_within, warning_header};
use crate::params::{Params, parse_trace_id};
use crate::{QueryState, blocking};
use params::{parse_dependencies, parse_search};

/// Zipkin's HTTP port (read and write APIs).
pub const ZIPKIN_PORT: u16 = 9411;

/// Every Zipkin read route.
pub fn zipkin_read_router(state: QueryState) -> Router {
    let metrics = state.metrics.clone();
    Router::new()
        .route("/api/v2/services", get(services))
        .route("/api/v2/spans", get(span_names))
        .route("/api/v2/remoteServices", get(remote_services))
        .route("/api/v2/traces", get(traces))
        .route("/api/v2/trace/{trace_id}", get(trace))
        .route("/api/v2/traceMany", get(trace_many))
        .route("/api/v2/dependencies", get(dependencies))
        .route("/api/v2/autocompleteKeys", get(autocomplete_keys))
        .route("/api/v2/autocompleteValues", get(autocomplete_values))
        .with_state(state)
        // Same request counts and latencies as the Jaeger API, labelled by route.
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            crate::metrics::track,
        ))
}

fn json<T: Serialize>(value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => json_bytes(StatusCode::OK, body),
        Err(e) => text_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

fn text_error(status: StatusCode, msg: &str) -> Response {
    (status, msg.to_string()).into_response()
}

fn store_error(e: &clew_store::StoreError) -> Response {
    tracing::error!(error = %e, "Zipkin read failed in storage");
    text_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())
}

/// Traces as a JSON array of arrays of Zipkin v2 spans.
fn render_traces(traces: &[Trace]) -> Response {
    let mut out = b"[".to_vec();
    for (i, t) in traces.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if let Err(e) = clew_codec_zipkin::json_v2::encode(&t.spans, &mut out) {
            return text_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string());
        }
    }
    out.push(b']');
    json_bytes(StatusCode::OK, out)
}

async fn services(State(state): State<QueryState>) -> Response {
    match state.reader.services().await {
        Ok(s) => json(&s),
        Err(e) => store_error(&e),
    }
}

/// A required parameter, or Zipkin's 400 naming it.
fn required<'a>(p: &'a Params, name: &str) -> Result<&'a str, Box<Response>> {
    p.get(name).ok_or_else(|| {
        Box::new(text_error(
            StatusCode::BAD_REQUEST,
            &format!("{name} is required"),
        ))
    })
}

/// `GET /api/v2/spans?serviceName=`: the service's span names, sorted.
async fn span_names(State(state): State<QueryState>, RawQuery(q): RawQuery) -> Response {
    let p = Params::parse(q.as_deref());
    let service = match required(&p, "serviceName") {
        Ok(s) => s,
        Err(r) => return *r,
    };
    match state.reader.operations(service, None).await {
        Ok(ops) => {
            let mut names: Vec<String> = ops.into_iter().map(|o| o.name).collect();
            names.sort();
            names.dedup();
            json(&names)
        }
        Err(e) => store_error(&e),
    }
}

/// `GET /api/v2/remoteServices?serviceName=`: the `peer.service` values
/// (Zipkin's remote endpoint names) of the service's recent spans. The
/// store has no index for these, so this searches the default window.
async fn remote_services(State(state): State<QueryState>, RawQuery(q): RawQuery) -> Response {
    let p = Params::parse(q.as_deref());
    let service = match required(&p, "serviceName") {
        Ok(s) => s.to_string(),
        Err(r) => return *r,
    };
    let mut query = match parse_search(&Params::default(), now_ns()) {
        Ok(s) => s.query,
        Err(e) => return text_error(StatusCode::BAD_REQUEST, &e),
    };
    query.service = Some(service.clone());
    // The most recent traces the server allows, not every trace (limit 0).
    query.limit = state.limits.max_traces;
    let traces = match limits::search(&*state.reader, &state.limits, query, true).await {
        Ok(found) => found.traces,
        Err(e) => return search_error(e),
    };
    let mut names: Vec<String> = traces
        .iter()
        .flat_map(|t| &t.spans)
        .filter(|s| *s.process.service_name == *service)
        .filter_map(|s| s.tag(keys::PEER_SERVICE)?.as_str().map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    json(&names)
}

/// `GET /api/v2/traces?serviceName&spanName&annotationQuery&minDuration&
/// maxDuration&endTs&lookback&limit`.
async fn traces(State(state): State<QueryState>, RawQuery(q): RawQuery) -> Response {
    let p = Params::parse(q.as_deref());
    let search = match parse_search(&p, now_ns()) {
        Ok(s) => s,
        Err(e) => return text_error(StatusCode::BAD_REQUEST, &e),
    };
    match limits::search(&*state.reader, &state.limits, search.query.clone(), true).await {
        Ok(found) => {
            let limits = state.limits.clone();
            blocking::respond(move || {
                let mut found = found;
                found.traces.retain(|t| search.matches_bare_terms(t));
                render_found(found, &limits)
            })
            .await
        }
        Err(e) => search_error(e),
    }
}

/// A bounded search that failed: the store's 500, or 503 when the store did
/// not answer within the query's time budget.
fn search_error(e: SearchError) -> Response {
    match e {
        SearchError::Store(e) => store_error(&e),
        SearchError::TimedOut(budget) => text_error(
            StatusCode::SERVICE_UNAVAILABLE,
            &SearchError::timeout_message(budget),
        ),
    }
}

/// Found traces as Zipkin JSON, cut at the response byte cap and the time
/// budget; limit notes go in a `Warning` header.
fn render_found(found: Found, limits: &QueryLimits) -> Response {
    let Found {
        traces,
        mut warnings,
        deadline,
    } = found;
    let mut encoded = Vec::with_capacity(traces.len());
    for t in &traces {
        let mut one = Vec::new();
        if let Err(e) = clew_codec_zipkin::json_v2::encode(&t.spans, &mut one) {
            return text_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string());
        }
        encoded.push(one);
        if encoded.iter().map(Vec::len).sum::<usize>() > limits.max_response_bytes {
            break;
        }
    }
    let (kept, cut) = take_within(
        encoded.into_iter(),
        Vec::len,
        limits.max_response_bytes,
        deadline,
    );
    if cut.is_none() && kept.len() < traces.len() {
        warnings.push(format!(
            "returning {} of {} traces: the response would exceed {} bytes \
             (query.max_response_bytes)",
            kept.len(),
            traces.len(),
            limits.max_response_bytes
        ));
    }
    warnings.extend(cut);
    let mut response = json_bytes(StatusCode::OK, join_json(b"[", &kept, b"]"));
    if let Some((name, value)) = warning_header(&warnings) {
        response.headers_mut().insert(name, value);
    }
    response
}

/// `GET /api/v2/trace/{traceId}`: the spans of one trace; 404 if absent.
async fn trace(State(state): State<QueryState>, Path(id): Path<String>) -> Response {
    let tid = match parse_trace_id(&id) {
        Ok(t) => t,
        Err(e) => return text_error(StatusCode::BAD_REQUEST, &format!("traceId: {e}")),
    };
    match state.reader.get_trace(tid).await {
        Ok(Some(t)) => {
            let mut out = Vec::new();
            match clew_codec_zipkin::json_v2::encode(&t.spans, &mut out) {
                Ok(()) => json_bytes(StatusCode::OK, out),
                Err(e) => text_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
            }
        }
        Ok(None) => text_error(StatusCode::NOT_FOUND, &format!("{id} not found")),
        Err(e) => store_error(&e),
    }
}

/// `GET /api/v2/traceMany?traceIds=a,b`: the traces found, in request order.
async fn trace_many(State(state): State<QueryState>, RawQuery(q): RawQuery) -> Response {
    let p = Params::parse(q.as_deref());
    let raw = match required(&p, "traceIds") {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let mut found = Vec::new();
    for id in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let tid = match parse_trace_id(id) {
            Ok(t) => t,
            Err(e) => return text_error(StatusCode::BAD_REQUEST, &format!("traceIds: {e}")),
        };
        match state.reader.get_trace(tid).await {
            Ok(Some(t)) => found.push(t),
            Ok(None) => {}
            Err(e) => return store_error(&e),
        }
    }
    render_traces(&found)
}

/// Zipkin's `DependencyLink` JSON.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ZipkinLink {
    parent: String,
    child: String,
    call_count: u64,
}

/// `GET /api/v2/dependencies?endTs=<ms>&lookback=<ms>`.
async fn dependencies(State(state): State<QueryState>, RawQuery(q): RawQuery) -> Response {
    let p = Params::parse(q.as_deref());
    let (start, end) = match parse_dependencies(&p) {
        Ok(w) => w,
        Err(e) => return text_error(StatusCode::BAD_REQUEST, &e),
    };
    match state.reader.dependencies(start, end).await {
        Ok(links) => {
            let out: Vec<ZipkinLink> = links
                .into_iter()
                .map(|l| ZipkinLink {
                    parent: l.parent,
                    child: l.child,
                    call_count: l.call_count,
                })
                .collect();
            json(&out)
        }
        Err(e) => store_error(&e),
    }
}

/// `GET /api/v2/autocompleteKeys`: the tag keys the server offers values
/// for. Clew configures none (Zipkin's default), so the list is empty.
async fn autocomplete_keys() -> Response {
    json(&Vec::<String>::new())
}

/// `GET /api/v2/autocompleteValues?key=`: empty for every key, since no
/// key is configured for autocompletion.
async fn autocomplete_values(RawQuery(q): RawQuery) -> Response {
    let p = Params::parse(q.as_deref());
    match required(&p, "key") {
        Ok(_) => json(&Vec::<String>::new()),
        Err(r) => *r,
    }
}
