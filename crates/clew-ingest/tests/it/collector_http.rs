//! `POST /api/traces` on the collector port.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use clew_codec_jaeger::{Protocol, encode_batch};
use clew_ingest::{
    Format, IngestConfig, SamplingStrategies, Source, TRACES_PATH, Transport, collector_http_router,
};
use clew_model::TraceId;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::harness::{Ingest, fixture, wait_until};

fn router(ingest: &Ingest) -> Router {
    collector_http_router(
        ingest.pipeline.clone(),
        ingest.metrics.clone(),
        Arc::new(SamplingStrategies::default_all_in_one()),
    )
}

async fn post(router: Router, content_type: &str, body: Vec<u8>) -> (StatusCode, String) {
    let req = Request::post("/api/traces?format=jaeger.thrift")
        .header("content-type", content_type)
        .body(Body::from(body))
        .expect("request");
    let resp = router.oneshot(req).await.expect("infallible");
    let status = resp.status();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn error_message(body: &str) -> String {
    let v: Value = serde_json::from_str(body).expect("JSON error body");
    v["error"].as_str().expect("error string").to_string()
}

#[tokio::test]
async fn binary_and_compact_batches_reach_the_store() {
    let ingest = Ingest::start(IngestConfig::default());
    let r = router(&ingest);
    let trace = TraceId::new(7, 0x1001);
    let (process, spans) = fixture(trace, "frontend", 3);

    let mut body = Vec::new();
    encode_batch(&process, &spans[..2], Protocol::Binary, &mut body);
    let (status, text) = post(r.clone(), "application/x-thrift", body).await;
    assert_eq!((status, text.as_str()), (StatusCode::ACCEPTED, ""));

    let mut body = Vec::new();
    encode_batch(&process, &spans[2..], Protocol::Compact, &mut body);
    let (status, _) = post(r.clone(), "application/vnd.apache.thrift.compact", body).await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let stored = ingest.wait_for_trace(trace, 3).await;
    let mut got = stored.spans.clone();
    got.sort_by_key(|s| s.span_id);
    assert_eq!(&*got[0].process.service_name, "frontend");
    assert_eq!(got[1].tags, spans[1].tags);
    assert_eq!(got[1].references, spans[1].references);
    assert_eq!(got[2].start_time, spans[2].start_time);
    assert_eq!(
        ingest
            .metrics
            .spans_received(Source::new(Transport::Http, Format::JaegerThriftBinary)),
        2
    );
    assert_eq!(
        ingest
            .metrics
            .spans_received(Source::new(Transport::Http, Format::JaegerThriftCompact)),
        1
    );
    assert_eq!(ingest.metrics.http_requests("collector", 202), 2);
}

#[tokio::test]
async fn bad_requests_get_json_errors() {
    let ingest = Ingest::start(IngestConfig::default());
    let r = router(&ingest);

    let (status, body) = post(r.clone(), "application/json", b"{}".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_message(&body),
        "Unsupported content type: application/json"
    );

    let (status, body) = post(
        r.clone(),
        "application/x-thrift",
        b"\x0c\xff\xff junk".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error_message(&body).starts_with("Unable to process request body: "),
        "{body}"
    );
    assert_eq!(ingest.metrics.http_requests("collector", 400), 2);
}

#[tokio::test]
async fn oversized_body_is_413() {
    let ingest = Ingest::start(IngestConfig {
        http_max_body_bytes: 1024,
        ..IngestConfig::default()
    });
    let (status, body) = post(router(&ingest), "application/x-thrift", vec![0u8; 4096]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        error_message(&body).starts_with("Unable to process request body"),
        "{body}"
    );
}

/// Issue 7: a batch that can never fit is 413, not a retryable 503.
#[tokio::test]
async fn batch_larger_than_the_queue_is_413_and_counted() {
    let ingest = Ingest::start(IngestConfig {
        queue_max_spans: 2,
        ..IngestConfig::default()
    });
    let (process, spans) = fixture(TraceId::new(0, 5), "svc", 3);
    let mut body = Vec::new();
    encode_batch(&process, &spans, Protocol::Binary, &mut body);
    let (status, body) = post(router(&ingest), "application/x-thrift", body).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(error_message(&body).contains("more than 2 spans"), "{body}");
    assert_eq!(ingest.metrics.memory_refused("too_many_spans"), 1);
}

#[tokio::test]
async fn busy_memory_budget_is_503_with_retry_after() {
    let ingest = Ingest::start(IngestConfig::default());
    let (process, spans) = fixture(TraceId::new(0, 6), "svc", 3);
    let mut body = Vec::new();
    encode_batch(&process, &spans, Protocol::Binary, &mut body);
    let all = ingest.pipeline.inflight().capacity();
    let held = ingest
        .pipeline
        .reserve(all)
        .expect("the test holds the whole budget");
    let resp = router(&ingest)
        .oneshot(
            Request::post(TRACES_PATH)
                .header(header::CONTENT_TYPE, "application/x-thrift")
                .body(Body::from(body.clone()))
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()[header::RETRY_AFTER], "1");
    assert_eq!(ingest.metrics.memory_refused("exhausted"), 1);
    drop(held);
    let (status, _) = post(router(&ingest), "application/x-thrift", body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "accepted once memory is free");
    ingest.wait_for_trace(TraceId::new(0, 6), 3).await;
    let inflight = ingest.pipeline.inflight().clone();
    wait_until("all reservations released", || inflight.used() == 0).await;
}

#[tokio::test]
async fn collector_serves_sampling_too() {
    let ingest = Ingest::start(IngestConfig::default());
    let req = Request::get("/api/sampling?service=x")
        .body(Body::empty())
        .expect("request");
    let resp = router(&ingest).oneshot(req).await.expect("infallible");
    assert_eq!(resp.status(), StatusCode::OK);
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    let v: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(v["strategyType"], "PROBABILISTIC");
    assert_eq!(v["probabilisticSampling"]["samplingRate"], 1.0);
}

/// Issue 7 (abuse suite): Jaeger accepts a thrift string that is not UTF-8,
/// and so does Clew — repaired with U+FFFD, said in a span warning — but the
/// repair is counted, so nothing changes silently.
#[tokio::test]
async fn invalid_utf8_is_repaired_and_counted() {
    let ingest = Ingest::start(IngestConfig::default());
    let (process, spans) = fixture(TraceId::new(0, 9), "svc", 1);
    let mut body = Vec::new();
    encode_batch(&process, &spans, Protocol::Binary, &mut body);
    let at = body
        .windows(4)
        .position(|w| w == b"op-1")
        .expect("the operation name is in the body");
    body[at] = 0xff;
    let (status, _) = post(router(&ingest), "application/x-thrift", body).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let trace = ingest.wait_for_trace(TraceId::new(0, 9), 1).await;
    assert_eq!(&*trace.spans[0].operation_name, "\u{fffd}p-1");
    assert!(
        trace.spans[0].warnings.iter().any(|w| w.contains("UTF-8")),
        "{:?}",
        trace.spans[0].warnings
    );
    assert_eq!(ingest.metrics.fields_repaired(), 1);
}
