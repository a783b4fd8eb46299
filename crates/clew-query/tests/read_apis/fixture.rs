//! The shared fixture: three services, four traces, every value type.
//!
//! * trace 0x1 (64-bit): frontend `GET /dispatch` (server) → frontend
//!   `GET /route` (client) → backend `route` (server, error, a log, tags
//!   deliberately out of key order) → db `SELECT` (client, remote `mysql`).
//! * trace 0xfeed…0002 (128-bit): frontend `GET /slow`, 3 s, alone.
//! * trace 0xb16 (64-bit): 23 backend `batch` spans, for stream chunking.
//!
//! Times are offsets from [`T0`] = 2023-11-14T22:13:20Z.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use clew_model::{Bytes, KeyValue, Log, Process, Reference, Span, SpanId, TraceId};
use clew_query::{QueryMetrics, QueryState};
use clew_store::{MemoryStore, MemoryStoreConfig, TraceWriter};
use prometheus_client::registry::Registry;
use tower::ServiceExt;

/// Fixture base time, Unix ns.
pub const T0: u64 = 1_700_000_000_000_000_000;
/// One millisecond in ns.
pub const MS: u64 = 1_000_000;

pub const T1: TraceId = TraceId::new(0, 1);
pub const T2: TraceId = TraceId::new(0xfeed, 2);
pub const BIG: TraceId = TraceId::new(0, 0xb16);
pub const BIG_SPANS: usize = 23;

/// A span of `trace` starting `start_ms` after [`T0`].
pub fn span(
    trace: TraceId,
    id: u64,
    op: &str,
    p: &Arc<Process>,
    start_ms: u64,
    dur_ms: u64,
) -> Span {
    let mut s = Span::new(trace, SpanId(id), op.to_string(), p.clone());
    s.start_time = T0 + start_ms * MS;
    s.duration = dur_ms * MS;
    s
}

/// `s` as a child of span `parent` of its trace.
pub fn child(mut s: Span, parent: u64) -> Span {
    s.references
        .push(Reference::child_of(s.trace_id, SpanId(parent)));
    s
}

/// Every span of the fixture.
pub fn spans() -> Vec<Span> {
    let fe = Arc::new(Process {
        service_name: "frontend".into(),
        tags: vec![KeyValue::string("hostname", "web-1")],
    });
    let be = Arc::new(Process::new("backend"));
    let db = Arc::new(Process::new("db"));

    let mut root = span(T1, 1, "GET /dispatch", &fe, 0, 100);
    root.tags.push(KeyValue::string("span.kind", "server"));
    root.tags.push(KeyValue::i64("http.status_code", 200));
    root.flags = 1;
    let mut call = child(span(T1, 2, "GET /route", &fe, 10, 50), 1);
    call.tags.push(KeyValue::string("span.kind", "client"));
    let mut handle = child(span(T1, 3, "route", &be, 12, 40), 2);
    // Out of key order on purpose: the sort adjuster reorders them.
    handle.tags.push(KeyValue::string("span.kind", "server"));
    handle.tags.push(KeyValue::bool("error", true));
    handle.tags.push(KeyValue::f64("load", 0.5));
    handle
        .tags
        .push(KeyValue::binary("blob", Bytes::from_static(&[1, 2])));
    handle.logs.push(Log {
        timestamp: T0 + 15 * MS,
        fields: vec![KeyValue::string("event", "retry")],
    });
    let mut sql = child(span(T1, 4, "SELECT", &db, 20, 5), 3);
    sql.tags.push(KeyValue::string("span.kind", "client"));
    sql.tags.push(KeyValue::string("peer.service", "mysql"));

    let slow = span(T2, 7, "GET /slow", &fe, 1000, 3000);

    let mut out = vec![root, call, handle, sql, slow];
    for i in 0..BIG_SPANS as u64 {
        let mut s = span(BIG, 100 + i, "batch", &be, 2000 + i, 1);
        if i > 0 {
            s = child(s, 100);
        }
        out.push(s);
    }
    out
}

/// A query state over a store holding [`spans`].
pub async fn state() -> QueryState {
    let store = MemoryStore::new(MemoryStoreConfig::default());
    store
        .write_spans(spans())
        .await
        .expect("memory store accepts the fixture");
    let mut registry = Registry::with_prefix("clew");
    QueryState {
        reader: Arc::new(store),
        metrics: Arc::new(QueryMetrics::new(&mut registry)),
        limits: clew_query::QueryLimits::default(),
    }
}

/// GETs `uri` from `app`; returns the status, content type and body.
pub async fn get(app: axum::Router, uri: &str) -> (StatusCode, String, Vec<u8>) {
    let req = Request::get(uri)
        .body(Body::empty())
        .expect("valid request");
    let resp = app.oneshot(req).await.expect("router is infallible");
    let status = resp.status();
    let ctype = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = to_bytes(resp.into_body(), 1 << 24)
        .await
        .expect("body fits");
    (status, ctype, body.to_vec())
}

/// [`get`], parsing the body as JSON.
pub async fn get_json(app: axum::Router, uri: &str) -> (StatusCode, serde_json::Value) {
    let (status, _, body) = get(app, uri).await;
    let json = serde_json::from_slice(&body).unwrap_or_else(|e| {
        panic!(
            "{uri}: body is not JSON ({e}): {}",
            String::from_utf8_lossy(&body)
        )
    });
    (status, json)
}
