//! Zipkin's read API (`zipkin_read_router`) through `oneshot`. Golden
//! spans are written by hand from Zipkin's v2 JSON model.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::fixture::{get, get_json, state};

async fn app() -> axum::Router {
    clew_query::zipkin_read_router(state().await)
}

/// endTs just after the fixture, in ms; a lookback covering it.
const WINDOW: &str = "endTs=1700000060000&lookback=120000";

#[tokio::test]
async fn trace_by_id_renders_zipkin_v2_spans() {
    let (status, ctype, body) = get(app().await, "/api/v2/trace/0000000000000001").await;
    assert_eq!(
        (status, ctype.as_str()),
        (StatusCode::OK, "application/json")
    );
    let spans: Vec<Value> = serde_json::from_slice(&body).expect("JSON array");
    assert_eq!(spans.len(), 4);
    let sql = spans
        .iter()
        .find(|s| s["id"] == "0000000000000004")
        .expect("db span");
    assert_eq!(
        *sql,
        json!({
            "traceId": "0000000000000001",
            "parentId": "0000000000000003",
            "id": "0000000000000004",
            "kind": "CLIENT",
            "name": "SELECT",
            "timestamp": 1_700_000_000_020_000u64,
            "duration": 5000,
            "localEndpoint": {"serviceName": "db"},
            "remoteEndpoint": {"serviceName": "mysql"},
        })
    );
    let handle = spans
        .iter()
        .find(|s| s["id"] == "0000000000000003")
        .expect("backend span");
    assert_eq!(handle["kind"], "SERVER");
    assert_eq!(
        handle["annotations"],
        json!([{"timestamp": 1_700_000_000_015_000u64, "value": "retry"}])
    );
    assert_eq!(handle["tags"]["error"], "true");
}

#[tokio::test]
async fn missing_and_malformed_ids() {
    let (status, _, body) = get(app().await, "/api/v2/trace/0000000000000404").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(String::from_utf8_lossy(&body), "0000000000000404 not found");
    let (status, _, _) = get(app().await, "/api/v2/trace/zz").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn trace_many_returns_the_found_traces() {
    let uri = "/api/v2/traceMany?traceIds=0000000000000001,000000000000feed0000000000000002,999";
    let (status, body) = get_json(app().await, uri).await;
    assert_eq!(status, StatusCode::OK);
    let traces = body.as_array().expect("array of traces");
    let sizes: Vec<usize> = traces
        .iter()
        .map(|t| t.as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(sizes, [4, 1]);
    assert_eq!(traces[1][0]["traceId"], "000000000000feed0000000000000002");
    let (status, _, _) = get(app().await, "/api/v2/traceMany").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn services_span_names_and_remote_services() {
    let (_, body) = get_json(app().await, "/api/v2/services").await;
    assert_eq!(body, json!(["backend", "db", "frontend"]));
    let (_, body) = get_json(app().await, "/api/v2/spans?serviceName=frontend").await;
    assert_eq!(body, json!(["GET /dispatch", "GET /route", "GET /slow"]));
    let (status, _, body) = get(app().await, "/api/v2/spans").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(String::from_utf8_lossy(&body), "serviceName is required");
}

#[tokio::test]
async fn search_by_service_name_duration_and_annotation_query() {
    let ids = |body: &Value| -> Vec<String> {
        let mut v: Vec<String> = body
            .as_array()
            .expect("array of traces")
            .iter()
            .map(|t| t[0]["traceId"].as_str().unwrap_or_default().to_string())
            .collect();
        v.sort();
        v
    };
    let (_, body) = get_json(
        app().await,
        &format!("/api/v2/traces?{WINDOW}&serviceName=frontend"),
    )
    .await;
    assert_eq!(
        ids(&body),
        ["0000000000000001", "000000000000feed0000000000000002"]
    );
    let (_, body) = get_json(
        app().await,
        &format!("/api/v2/traces?{WINDOW}&minDuration=1000000"),
    )
    .await;
    assert_eq!(ids(&body), ["000000000000feed0000000000000002"]);
    let q = "annotationQuery=error%3Dtrue%20and%20retry";
    let (_, body) = get_json(app().await, &format!("/api/v2/traces?{WINDOW}&{q}")).await;
    assert_eq!(ids(&body), ["0000000000000001"]);
    let q = "annotationQuery=no-such-annotation";
    let (_, body) = get_json(app().await, &format!("/api/v2/traces?{WINDOW}&{q}")).await;
    assert_eq!(body, json!([]));
    let (_, body) = get_json(
        app().await,
        "/api/v2/traces?serviceName=frontend&endTs=1000&lookback=1",
    )
    .await;
    assert_eq!(body, json!([]), "window far before the fixture");
}

#[tokio::test]
async fn remote_services_come_from_recent_peer_service_tags() {
    use clew_model::{KeyValue, Process, Span, SpanId, TraceId};
    use clew_store::{MemoryStore, MemoryStoreConfig, TraceWriter};
    use std::sync::Arc;
    use std::time::{SystemTime, UNIX_EPOCH};

    // remoteServices has no time parameters: it looks at the last day.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_nanos() as u64;
    let db = Arc::new(Process::new("db"));
    let mut spans = Vec::new();
    for (i, peer) in ["mysql", "redis", "mysql"].into_iter().enumerate() {
        let mut s = Span::new(TraceId::new(0, 50 + i as u64), SpanId(1), "q", db.clone());
        s.start_time = now - 60_000_000_000;
        s.tags.push(KeyValue::string("peer.service", peer));
        spans.push(s);
    }
    let other = Span::new(
        TraceId::new(0, 60),
        SpanId(1),
        "q",
        Arc::new(Process::new("web")),
    );
    spans.push(other);
    let store = MemoryStore::new(MemoryStoreConfig::default());
    store.write_spans(spans).await.expect("accepted");
    let mut state = state().await;
    state.reader = Arc::new(store);
    let app = clew_query::zipkin_read_router(state);
    let (status, body) = get_json(app.clone(), "/api/v2/remoteServices?serviceName=db").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!(["mysql", "redis"]));
    let (_, body) = get_json(app, "/api/v2/remoteServices?serviceName=web").await;
    assert_eq!(body, json!([]));
}

#[tokio::test]
async fn dependencies_and_autocomplete() {
    let (_, body) = get_json(app().await, &format!("/api/v2/dependencies?{WINDOW}")).await;
    assert_eq!(
        body,
        json!([
            {"parent": "backend", "child": "db", "callCount": 1},
            {"parent": "frontend", "child": "backend", "callCount": 1},
        ])
    );
    let (status, _, _) = get(app().await, "/api/v2/dependencies?lookback=10").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, body) = get_json(app().await, "/api/v2/autocompleteKeys").await;
    assert_eq!(body, json!([]));
    let (_, body) = get_json(app().await, "/api/v2/autocompleteValues?key=env").await;
    assert_eq!(body, json!([]));
}
