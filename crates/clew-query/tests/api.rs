//! The query API end to end through the router, over a MemoryStore filled
//! with fixture spans (no sockets: `tower::ServiceExt::oneshot`).

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use clew_model::{KeyValue, Log, Process, Reference, Span, SpanId, TraceId};
use clew_query::{QueryMetrics, QueryState, router};
use clew_store::{MemoryStore, MemoryStoreConfig, TraceWriter};
use prometheus_client::registry::Registry;
use serde_json::{Value as Json, json};
use tower::ServiceExt;

/// Fixture time base: 2023-11-14T22:13:20Z in µs.
const BASE_US: u64 = 1_700_000_000_000_000;

fn us(offset_ms: u64) -> u64 {
    (BASE_US + offset_ms * 1000) * 1000
}

fn span(trace: TraceId, id: u64, op: &str, p: &Arc<Process>, start_ms: u64, dur_ms: u64) -> Span {
    let mut s = Span::new(trace, SpanId(id), op.to_string(), p.clone());
    s.start_time = us(start_ms);
    s.duration = dur_ms * 1_000_000;
    s
}

fn child(mut s: Span, parent: u64) -> Span {
    s.references
        .push(Reference::child_of(s.trace_id, SpanId(parent)));
    s
}

/// Trace 1 (64-bit, id 0x1): frontend → backend (→ db), tags, logs.
/// Trace 2 (128-bit): frontend only, slow, with an old packed IP process tag.
/// Trace 3 (id 0xabc): backend alone, later than the others.
struct Fixture {
    app: Router,
    registry: Arc<Registry>,
}

async fn fixture() -> Fixture {
    let store = MemoryStore::new(MemoryStoreConfig::default());
    let fe = Arc::new(Process {
        service_name: "frontend".into(),
        tags: vec![KeyValue::string("hostname", "web-1")],
    });
    let be = Arc::new(Process::new("backend"));
    let db = Arc::new(Process::new("db"));
    let t1 = TraceId::new(0, 1);
    let mut root = span(t1, 1, "GET /dispatch", &fe, 0, 100);
    root.tags.push(KeyValue::string("span.kind", "server"));
    root.tags.push(KeyValue::i64("http.status_code", 200));
    let mut call = child(span(t1, 2, "GET /route", &fe, 10, 50), 1);
    call.tags.push(KeyValue::string("span.kind", "client"));
    let mut handle = child(span(t1, 3, "route", &be, 12, 40), 2);
    handle.tags.push(KeyValue::string("span.kind", "server"));
    handle.tags.push(KeyValue::bool("error", true));
    handle.logs.push(Log {
        timestamp: us(15),
        fields: vec![
            KeyValue::string("message", "slow"),
            KeyValue::string("event", "retry"),
        ],
    });
    let sql = child(span(t1, 4, "SELECT", &db, 20, 5), 3);
    store.write_spans(vec![root, call, handle, sql]).await.ok();

    let t2 = TraceId::new(0xfeed, 2);
    let old_client = Arc::new(Process {
        service_name: "frontend".into(),
        tags: vec![KeyValue::i64("ip", 0x0a00_0001)],
    });
    store
        .write_spans(vec![span(t2, 7, "GET /slow", &old_client, 1000, 3000)])
        .await
        .ok();
    let t3 = TraceId::new(0, 0xabc);
    store
        .write_spans(vec![span(t3, 9, "cron", &be, 5000, 10)])
        .await
        .ok();

    let mut registry = Registry::with_prefix("clew");
    let metrics = Arc::new(QueryMetrics::new(&mut registry));
    let state = QueryState {
        reader: Arc::new(store),
        metrics,
        limits: clew_query::QueryLimits::default(),
    };
    Fixture {
        app: router(state),
        registry: Arc::new(registry),
    }
}

struct Reply {
    status: StatusCode,
    content_type: String,
    body: String,
}

impl Reply {
    fn json(&self) -> Json {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

async fn get(app: &Router, uri: &str) -> Reply {
    let req = Request::get(uri)
        .body(Body::empty())
        .expect("valid request");
    let resp = app
        .clone()
        .oneshot(req)
        .await
        .expect("router is infallible");
    let status = resp.status();
    let content_type = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = to_bytes(resp.into_body(), usize::MAX).await.expect("body");
    Reply {
        status,
        content_type,
        body: String::from_utf8(bytes.to_vec()).expect("utf-8 body"),
    }
}

/// A search window covering every fixture span.
const WINDOW: &str = "start=1699999999000000&end=1700000010000000";

fn trace_ids(reply: &Reply) -> Vec<String> {
    let j = reply.json();
    j["data"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t["traceID"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn services_lists_names_with_total() {
    let f = fixture().await;
    let r = get(&f.app, "/api/services").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "application/json");
    assert_eq!(
        r.body,
        r#"{"data":["backend","db","frontend"],"total":3,"limit":0,"offset":0,"errors":null}"#
    );
}

#[tokio::test]
async fn legacy_operations_are_unique_names() {
    let f = fixture().await;
    let r = get(&f.app, "/api/services/frontend/operations").await;
    assert_eq!(
        r.json(),
        json!({"data": ["GET /dispatch", "GET /route", "GET /slow"], "total": 3, "limit": 0, "offset": 0, "errors": null})
    );
    let r = get(&f.app, "/api/services/nobody/operations").await;
    assert_eq!(r.json()["data"], json!([]));
}

#[tokio::test]
async fn operations_with_span_kind() {
    let f = fixture().await;
    let r = get(&f.app, "/api/operations?service=frontend").await;
    assert_eq!(
        r.json()["data"],
        json!([
            {"name": "GET /dispatch", "spanKind": "server"},
            {"name": "GET /route", "spanKind": "client"},
            {"name": "GET /slow", "spanKind": ""}
        ])
    );
    assert_eq!(r.json()["total"], 3);
    let r = get(&f.app, "/api/operations?service=frontend&spanKind=server").await;
    assert_eq!(
        r.json()["data"],
        json!([{"name": "GET /dispatch", "spanKind": "server"}])
    );
}

#[tokio::test]
async fn operations_without_service_is_400() {
    let f = fixture().await;
    let r = get(&f.app, "/api/operations").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.content_type, "text/plain; charset=utf-8");
    assert_eq!(
        r.body,
        "{\"data\":null,\"total\":0,\"limit\":0,\"offset\":0,\"errors\":[{\"code\":400,\"msg\":\"parameter 'service' is required\"}]}\n"
    );
}

#[tokio::test]
async fn search_by_service_returns_most_recent_first() {
    let f = fixture().await;
    let r = get(&f.app, &format!("/api/traces?service=frontend&{WINDOW}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        trace_ids(&r),
        vec!["000000000000feed0000000000000002", "0000000000000001"]
    );
    let j = r.json();
    assert_eq!(
        (j["total"].clone(), j["errors"].clone()),
        (json!(0), Json::Null)
    );
}

#[tokio::test]
async fn search_filters() {
    let f = fixture().await;
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "service=backend",
            vec!["0000000000000abc", "0000000000000001"],
        ),
        ("service=backend&operation=route", vec!["0000000000000001"]),
        ("service=frontend&operation=nope", vec![]),
        ("service=backend&tag=error:true", vec!["0000000000000001"]),
        (
            "service=frontend&tags=%7B%22http.status_code%22%3A%22200%22%7D",
            vec!["0000000000000001"],
        ),
        (
            "service=frontend&tag=hostname:web-1",
            vec!["0000000000000001"],
        ),
        ("service=backend&tag=event:retry", vec!["0000000000000001"]),
        ("service=backend&tag=event:retry&tag=error:false", vec![]),
        (
            "service=frontend&minDuration=1s",
            vec!["000000000000feed0000000000000002"],
        ),
        (
            "service=frontend&maxDuration=100ms",
            vec!["0000000000000001"],
        ),
        (
            "service=frontend&minDuration=60ms&maxDuration=100ms",
            vec!["0000000000000001"],
        ),
        ("service=backend&limit=1", vec!["0000000000000abc"]),
    ];
    for (q, want) in cases {
        let r = get(&f.app, &format!("/api/traces?{q}&{WINDOW}")).await;
        assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.body);
        assert_eq!(trace_ids(&r), want, "{q}");
    }
}

#[tokio::test]
async fn search_time_window_is_in_microseconds() {
    let f = fixture().await;
    // Only trace 3 (starting at +5 s) is inside [+4 s, +6 s].
    let r = get(
        &f.app,
        "/api/traces?service=backend&start=1700000004000000&end=1700000006000000",
    )
    .await;
    assert_eq!(trace_ids(&r), vec!["0000000000000abc"]);
    // Without start/end the window is the last 48 h before now: fixtures are from 2023.
    let r = get(&f.app, "/api/traces?service=backend").await;
    assert!(trace_ids(&r).is_empty());
}

#[tokio::test]
async fn search_errors_are_400_with_jaeger_messages() {
    let f = fixture().await;
    let cases = [
        ("/api/traces", "parameter 'service' is required"),
        (
            "/api/traces?service=a&start=x",
            r#"unable to parse param 'start': strconv.ParseInt: parsing "x": invalid syntax"#,
        ),
        (
            "/api/traces?service=a&minDuration=10",
            r#"unable to parse param 'minDuration': time: missing unit in duration "10""#,
        ),
        (
            "/api/traces?service=a&minDuration=2s&maxDuration=1s",
            "'maxDuration' should be greater than 'minDuration'",
        ),
        (
            "/api/traces?service=a&tag=bad",
            "malformed 'tag' parameter, expecting key:value, received: bad",
        ),
        (
            "/api/traces?traceID=zz",
            r#"cannot parse traceID param: strconv.ParseUint: parsing "zz": invalid syntax"#,
        ),
    ];
    for (uri, msg) in cases {
        let r = get(&f.app, uri).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(
            r.json(),
            json!({"data": null, "total": 0, "limit": 0, "offset": 0, "errors": [{"code": 400, "msg": msg}]}),
            "{uri}"
        );
        assert!(
            r.body.ends_with("}\n"),
            "{uri}: Go's http.Error adds a newline"
        );
    }
}

#[tokio::test]
async fn multi_get_by_trace_id_reports_missing_ones() {
    let f = fixture().await;
    let r = get(
        &f.app,
        "/api/traces?traceID=1&traceID=dead&traceID=000000000000FEED0000000000000002",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        trace_ids(&r),
        vec!["0000000000000001", "000000000000feed0000000000000002"]
    );
    assert_eq!(
        r.json()["errors"],
        json!([{"msg": "trace not found", "traceID": "000000000000dead"}])
    );
}

#[tokio::test]
async fn get_trace_renders_the_full_ui_model() {
    let f = fixture().await;
    let r = get(&f.app, "/api/traces/0000000000000001").await;
    assert_eq!(r.status, StatusCode::OK);
    let j = r.json();
    let t = &j["data"][0];
    assert_eq!(t["traceID"], "0000000000000001");
    assert_eq!(t["spans"].as_array().map(Vec::len), Some(4));
    let s = &t["spans"][2];
    assert_eq!(s["spanID"], "0000000000000003");
    assert_eq!(s["startTime"], json!(BASE_US + 12_000));
    assert_eq!(s["duration"], json!(40_000));
    assert_eq!(s["processID"], "p2");
    // Adjusted: tags sorted by key, `event` first in log fields.
    assert_eq!(s["tags"][0]["key"], "error");
    assert_eq!(s["logs"][0]["fields"][0]["key"], "event");
    assert_eq!(
        s["references"],
        json!([{"refType": "CHILD_OF", "traceID": "0000000000000001", "spanID": "0000000000000002"}])
    );
    assert_eq!(
        t["processes"],
        json!({
            "p1": {"serviceName": "frontend", "tags": [{"key": "hostname", "type": "string", "value": "web-1"}]},
            "p2": {"serviceName": "backend", "tags": []},
            "p3": {"serviceName": "db", "tags": []}
        })
    );
}

#[tokio::test]
async fn get_trace_accepts_ids_without_leading_zeros_and_128_bit() {
    let f = fixture().await;
    let r = get(&f.app, "/api/traces/abc").await;
    assert_eq!(trace_ids(&r), vec!["0000000000000abc"]);
    let r = get(&f.app, "/api/traces/feed0000000000000002").await;
    assert_eq!(trace_ids(&r), vec!["000000000000feed0000000000000002"]);
}

#[tokio::test]
async fn raw_skips_adjusters() {
    let f = fixture().await;
    let adjusted = get(&f.app, "/api/traces/feed0000000000000002").await.json();
    assert_eq!(
        adjusted["data"][0]["processes"]["p1"]["tags"][0],
        json!({"key": "ip", "type": "string", "value": "10.0.0.1"})
    );
    let raw = get(&f.app, "/api/traces/feed0000000000000002?raw=true")
        .await
        .json();
    assert_eq!(
        raw["data"][0]["processes"]["p1"]["tags"][0],
        json!({"key": "ip", "type": "int64", "value": 167772161})
    );
    let unsorted = get(&f.app, "/api/traces/1?raw=true").await.json();
    assert_eq!(
        unsorted["data"][0]["spans"][2]["tags"][0]["key"],
        "span.kind"
    );
}

#[tokio::test]
async fn missing_trace_is_404_envelope() {
    let f = fixture().await;
    let r = get(&f.app, "/api/traces/dead").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.body,
        "{\"data\":null,\"total\":0,\"limit\":0,\"offset\":0,\"errors\":[{\"code\":404,\"msg\":\"trace not found\"}]}\n"
    );
    let r = get(&f.app, &format!("/api/traces/{}", "1".repeat(33))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["errors"][0]["msg"],
        format!(
            "TraceID cannot be longer than 32 hex characters: {}",
            "1".repeat(33)
        )
    );
    let r = get(&f.app, "/api/traces/1?start=soon").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn pretty_print_indents_four_spaces() {
    let f = fixture().await;
    let r = get(&f.app, "/api/services?prettyPrint=true").await;
    assert_eq!(
        r.body,
        "{\n    \"data\": [\n        \"backend\",\n        \"db\",\n        \"frontend\"\n    ],\n    \"total\": 3,\n    \"limit\": 0,\n    \"offset\": 0,\n    \"errors\": null\n}"
    );
    let r = get(&f.app, "/api/traces/abc?prettyPrint=true").await;
    assert!(
        r.body
            .starts_with("{\n    \"data\": [\n        {\n            \"traceID\""),
        "{}",
        r.body
    );
    let r = get(&f.app, "/api/services?prettyPrint=false").await;
    assert!(!r.body.contains('\n'));
}

#[tokio::test]
async fn dependencies_in_window() {
    let f = fixture().await;
    // endTs/lookback are milliseconds.
    let r = get(
        &f.app,
        "/api/dependencies?endTs=1700000001000&lookback=2000",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body,
        r#"{"data":[{"parent":"backend","child":"db","callCount":1},{"parent":"frontend","child":"backend","callCount":1}],"total":0,"limit":0,"offset":0,"errors":null}"#
    );
    let r = get(
        &f.app,
        "/api/dependencies?endTs=1700000001000&lookback=2000&service=db",
    )
    .await;
    assert_eq!(
        r.json()["data"],
        json!([{"parent": "backend", "child": "db", "callCount": 1}])
    );
    let r = get(&f.app, "/api/dependencies?endTs=1600000000000").await;
    assert_eq!(r.json()["data"], json!([]));
    let r = get(&f.app, "/api/dependencies?lookback=1d").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["errors"][0]["msg"],
        r#"unable to parse param 'lookback': strconv.ParseInt: parsing "1d": invalid syntax"#
    );
}

#[tokio::test]
async fn unknown_api_path_is_404_envelope() {
    let f = fixture().await;
    let r = get(&f.app, "/api/nope").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["errors"][0]["code"], 404);
}

/// Jaeger UI's routes all get the single-page app (the real UI, or the
/// placeholder when built with `CLEW_SKIP_UI_BUILD=1`), so bookmarks work.
#[tokio::test]
async fn ui_routes_get_the_app_page() {
    let f = fixture().await;
    let index = get(&f.app, "/").await;
    assert_eq!(index.status, StatusCode::OK);
    assert!(
        index.body.to_ascii_lowercase().contains("<html"),
        "{}",
        index.body
    );
    for path in ["/search", "/trace/abc", "/dependencies"] {
        let r = get(&f.app, path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert!(r.content_type.starts_with("text/html"), "{path}");
        assert_eq!(r.body, index.body, "{path} serves the same app");
    }
}

#[tokio::test]
async fn requests_are_counted_by_route_template() {
    let f = fixture().await;
    get(&f.app, "/api/traces/1").await;
    get(&f.app, "/api/traces/dead").await;
    get(&f.app, "/search").await;
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &f.registry).expect("encodes");
    assert!(
        text.contains(r#"clew_query_requests_total{route="/api/traces/{id}",status="200"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"clew_query_requests_total{route="/api/traces/{id}",status="404"} 1"#));
    assert!(text.contains(r#"clew_query_requests_total{route="fallback",status="200"} 1"#));
    assert!(
        text.contains(r#"clew_query_request_duration_seconds_count{route="/api/traces/{id}"} 2"#)
    );
}

#[tokio::test]
async fn metrics_endpoints_say_not_implemented() {
    let f = fixture().await;
    let r = get(
        &f.app,
        "/api/metrics/latencies?service=frontend&quantile=0.95",
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(
        r.json()["errors"],
        json!([{"code": 501, "msg": "metrics querying is currently disabled"}])
    );
}
