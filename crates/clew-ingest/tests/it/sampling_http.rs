//! The sampling endpoints over HTTP (port 5778 and the collector's `/api/sampling`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use clew_ingest::{SamplingStrategies, sampling_router};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn get(router: axum::Router, uri: &str) -> (StatusCode, Option<String>, String) {
    let resp = router
        .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, ct, String::from_utf8_lossy(&body).into_owned())
}

/// Writes the strategies to a file of its own (tests run in parallel).
fn strategies() -> Arc<SamplingStrategies> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("clew-ingest-sampling-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("s{}.json", N.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(
        &path,
        r#"{"default_strategy": {"type": "probabilistic", "param": 0.5},
            "service_strategies": [
              {"service": "limited", "type": "ratelimiting", "param": 7},
              {"service": "ops", "type": "probabilistic", "param": 0.8,
               "operation_strategies": [{"operation": "op1", "type": "probabilistic", "param": 0.2}]}]}"#,
    )
    .expect("write");
    Arc::new(SamplingStrategies::from_file(&path).expect("valid file"))
}

#[tokio::test]
async fn proto_json_form() {
    let r = sampling_router(strategies());
    let (status, ct, body) = get(r.clone(), "/sampling?service=limited").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct.as_deref(), Some("application/json"));
    assert_eq!(
        body,
        r#"{"strategyType":"RATE_LIMITING","rateLimitingSampling":{"maxTracesPerSecond":7}}"#
    );
    let (_, _, body) = get(r.clone(), "/sampling?service=someone").await;
    let v: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(
        v,
        json!({"strategyType": "PROBABILISTIC", "probabilisticSampling": {"samplingRate": 0.5}})
    );
    let (_, _, body) = get(r, "/sampling?service=ops").await;
    let v: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(
        v,
        json!({"strategyType": "PROBABILISTIC", "probabilisticSampling": {"samplingRate": 0.8},
               "operationSampling": {"defaultSamplingProbability": 0.8,
                 "defaultLowerBoundTracesPerSecond": 0.0,
                 "perOperationStrategies": [{"operation": "op1", "probabilisticSampling": {"samplingRate": 0.2}}],
                 "defaultUpperBoundTracesPerSecond": 0.0}})
    );
}

#[tokio::test]
async fn legacy_form_and_baggage() {
    let r = sampling_router(strategies());
    let (status, _, body) = get(r.clone(), "/?service=limited").await;
    assert_eq!(status, StatusCode::OK);
    let v: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(
        v,
        json!({"strategyType": 1, "rateLimitingSampling": {"maxTracesPerSecond": 7}})
    );
    let (status, _, body) = get(r, "/baggageRestrictions?service=x").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "[]");
}

#[tokio::test]
async fn service_must_be_given_exactly_once() {
    let r = sampling_router(Arc::new(SamplingStrategies::default_all_in_one()));
    for uri in [
        "/sampling",
        "/sampling?service=a&service=b",
        "/?other=1",
        "/baggageRestrictions",
    ] {
        let (status, _, body) = get(r.clone(), uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(body, "'service' parameter must be provided once", "{uri}");
    }
    // URL-encoded names decode; an empty name is a name.
    let (status, _, body) = get(r, "/sampling?service=my%20svc").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(r#""samplingRate":1.0"#), "{body}");
}
