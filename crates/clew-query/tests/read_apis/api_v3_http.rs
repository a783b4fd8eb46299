//! `/api/v3/*` on the query router, through `oneshot` (no sockets). Golden
//! values are written by hand from the OTLP/JSON and gateway specs.

use axum::http::StatusCode;
use serde_json::json;

use crate::fixture::{get, get_json, state};

async fn app() -> axum::Router {
    clew_query::router(state().await)
}

/// Fixture window: T0 − 1 s … T0 + 60 s.
const WINDOW: &str =
    "query.startTimeMin=2023-11-14T22:13:19Z&query.startTimeMax=2023-11-14T22:14:20Z";

#[tokio::test]
async fn trace_by_id_is_otlp_json_in_a_result_wrapper() {
    let (status, ctype, body) = get(
        app().await,
        "/api/v3/traces/000000000000feed0000000000000002",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ctype, "application/json");
    let body: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    // Hex IDs (32 / 16 digits), int64 times as strings, kind as an integer.
    assert_eq!(
        body,
        json!({"result": {"resourceSpans": [{
            "resource": {"attributes": [
                {"key": "service.name", "value": {"stringValue": "frontend"}},
                {"key": "hostname", "value": {"stringValue": "web-1"}},
            ]},
            "scopeSpans": [{"spans": [{
                "traceId": "000000000000feed0000000000000002",
                "spanId": "0000000000000007",
                "name": "GET /slow",
                "kind": 0,
                "startTimeUnixNano": "1700000001000000000",
                "endTimeUnixNano": "1700000004000000000",
            }]}],
        }]}})
    );
}

#[tokio::test]
async fn trace_by_id_errors_use_the_gateway_shape() {
    let (status, body) = get_json(app().await, "/api/v3/traces/404").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"error": {"httpCode": 404, "message": "trace not found"}})
    );
    let (status, body) = get_json(app().await, "/api/v3/traces/xyz").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["httpCode"], 400);
    let msg = body["error"]["message"].as_str().expect("message");
    assert!(msg.starts_with("malformed parameter trace_id"), "{msg}");
    let (status, _) = get_json(app().await, "/api/v3/traces/1?startTime=soon").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn raw_traces_skip_the_adjusters() {
    let keys = |body: &serde_json::Value| -> Vec<String> {
        let spans = body["result"]["resourceSpans"]
            .as_array()
            .expect("resourceSpans")
            .iter()
            .flat_map(|rs| rs["scopeSpans"].as_array().cloned().unwrap_or_default())
            .flat_map(|ss| ss["spans"].as_array().cloned().unwrap_or_default());
        let route = spans
            .into_iter()
            .find(|s| s["name"] == "route")
            .expect("backend span");
        route["attributes"]
            .as_array()
            .expect("attributes")
            .iter()
            .map(|a| a["key"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let (_, adjusted) = get_json(app().await, "/api/v3/traces/1").await;
    let (_, raw) = get_json(app().await, "/api/v3/traces/1?raw_traces=true").await;
    // `error=true` travels as the OTLP status, not as an attribute.
    assert_eq!(keys(&adjusted), ["blob", "load"]);
    assert_eq!(keys(&raw), ["load", "blob"]);
}

#[tokio::test]
async fn search_merges_matches_into_one_traces_data() {
    let uri = format!("/api/v3/traces?{WINDOW}&query.service_name=frontend");
    let (status, body) = get_json(app().await, &uri).await;
    assert_eq!(status, StatusCode::OK);
    let mut trace_ids: Vec<String> = body["result"]["resourceSpans"]
        .as_array()
        .expect("resourceSpans")
        .iter()
        .flat_map(|rs| rs["scopeSpans"].as_array().cloned().unwrap_or_default())
        .flat_map(|ss| ss["spans"].as_array().cloned().unwrap_or_default())
        .map(|s| s["traceId"].as_str().unwrap_or_default().to_string())
        .collect();
    trace_ids.sort();
    trace_ids.dedup();
    assert_eq!(
        trace_ids,
        [
            "00000000000000000000000000000001",
            "000000000000feed0000000000000002"
        ]
    );
}

#[tokio::test]
async fn search_errors_and_empty_results() {
    let (status, body) = get_json(app().await, "/api/v3/traces?query.service_name=frontend").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["error"]["message"],
        "query.start_time_min and query.start_time_max are required parameters"
    );
    let uri = format!("/api/v3/traces?{WINDOW}&query.serviceName=nobody");
    let (status, body) = get_json(app().await, &uri).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"error": {"httpCode": 404, "message": "No traces found"}})
    );
}

#[tokio::test]
async fn trace_summaries_describe_each_match() {
    let attrs = "%7B%22error%22%3A%22true%22%7D";
    let uri = format!("/api/v3/trace-summaries?{WINDOW}&query.attributes={attrs}");
    let (status, body) = get_json(app().await, &uri).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"summaries": [{
            "traceId": "00000000000000000000000000000001",
            "rootServiceName": "frontend",
            "rootOperationName": "GET /dispatch",
            "minStartTimeUnixNano": "1700000000000000000",
            "maxEndTimeUnixNano": "1700000000100000000",
            "spanCount": 4,
            "errorSpanCount": 1,
            "orphanSpanCount": 0,
            "services": [
                {"name": "backend", "spanCount": 1, "errorSpanCount": 1},
                {"name": "db", "spanCount": 1, "errorSpanCount": 0},
                {"name": "frontend", "spanCount": 2, "errorSpanCount": 0},
            ],
        }]})
    );
}

#[tokio::test]
async fn services_and_operations() {
    let (status, body) = get_json(app().await, "/api/v3/services").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"services": ["backend", "db", "frontend"]}));
    let (_, body) = get_json(
        app().await,
        "/api/v3/operations?service=frontend&spanKind=server",
    )
    .await;
    assert_eq!(
        body,
        json!({"operations": [{"name": "GET /dispatch", "spanKind": "server"}]})
    );
    let (_, body) = get_json(
        app().await,
        "/api/v3/operations?service=backend&span_kind=server",
    )
    .await;
    assert_eq!(
        body,
        json!({"operations": [{"name": "route", "spanKind": "server"}]})
    );
    let (status, body) = get_json(app().await, "/api/v3/operations").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["httpCode"], 400);
}
