//! OTLP/HTTP `POST /v1/traces` over a real socket with reqwest: protobuf
//! built with prost, JSON written by hand as OTel SDKs send it, gzip.

use clew_codec_otlp::proto::collector::trace::v1::ExportTraceServiceResponse;
use clew_ingest::{Format, IngestConfig, Source, Transport, otlp_http_router};
use clew_model::{SpanId, TraceId};
use prost::Message;
use reqwest::StatusCode;
use serde_json::Value;

use crate::harness::{Ingest, gzip, serve_http, tag};
use crate::otlp_fixture::{TRACE, assert_mapped, request, span_with_id_len, with_spans};

const PROTO: Source = Source::new(Transport::Http, Format::OtlpProto);
const JSON: Source = Source::new(Transport::Http, Format::OtlpJson);

async fn serve(ingest: &Ingest) -> String {
    let url = serve_http(otlp_http_router(
        ingest.pipeline.clone(),
        ingest.metrics.clone(),
    ))
    .await;
    format!("{url}/v1/traces")
}

async fn post(
    url: &str,
    content_type: &str,
    encoding: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, String, Vec<u8>) {
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", content_type);
    if let Some(e) = encoding {
        req = req.header("content-encoding", e);
    }
    let resp = req.body(body).send().await.expect("request sent");
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, ct, resp.bytes().await.expect("body").to_vec())
}

/// `google.rpc.Status` as the protobuf error body.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

#[tokio::test]
async fn protobuf_export_reaches_the_store() {
    let ingest = Ingest::start(IngestConfig::default());
    let url = serve(&ingest).await;
    let (status, ct, body) = post(
        &url,
        "application/x-protobuf",
        None,
        request().encode_to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct, "application/x-protobuf");
    let resp = ExportTraceServiceResponse::decode(&body[..]).expect("response decodes");
    assert_eq!(resp.partial_success, None);
    let trace = ingest.wait_for_trace(TRACE, 2).await;
    assert_mapped(&trace.spans);
    assert_eq!(ingest.metrics.spans_received(PROTO), 2);
    assert_eq!(ingest.metrics.http_requests("otlp", 200), 1);
}

#[tokio::test]
async fn gzip_protobuf_export_reaches_the_store() {
    let ingest = Ingest::start(IngestConfig::default());
    let url = serve(&ingest).await;
    let body = gzip(&request().encode_to_vec());
    let (status, _, _) = post(&url, "application/x-protobuf", Some("gzip"), body).await;
    assert_eq!(status, StatusCode::OK);
    assert_mapped(&ingest.wait_for_trace(TRACE, 2).await.spans);
}

/// What an OTel JS/Java exporter's JSON looks like: hex IDs, int64 as
/// strings, enums as integers.
const SDK_JSON: &str = r#"{
  "resourceSpans": [{
    "resource": {"attributes": [
      {"key": "service.name", "value": {"stringValue": "web"}},
      {"key": "process.pid", "value": {"intValue": "4242"}}
    ]},
    "scopeSpans": [{
      "scope": {"name": "@opentelemetry/instrumentation-http", "version": "0.52.0"},
      "spans": [{
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "parentSpanId": "eee19b7ec3c1b173",
        "name": "GET /users",
        "kind": 3,
        "startTimeUnixNano": "1544712660000000000",
        "endTimeUnixNano": "1544712661000000000",
        "attributes": [
          {"key": "http.status_code", "value": {"intValue": 503}},
          {"key": "tags", "value": {"arrayValue": {"values": [{"stringValue": "x"}, {"boolValue": true}]}}}
        ],
        "events": [{"timeUnixNano": "1544712660500000000", "name": "retry",
                    "attributes": [{"key": "attempt", "value": {"intValue": "2"}}]}],
        "links": [{"traceId": "5b8efff798038103d269b633813fc60d", "spanId": "eee19b7ec3c1b175",
                   "attributes": [{"key": "opentracing.ref_type", "value": {"stringValue": "child_of"}}]}],
        "status": {"code": 2, "message": "upstream down"}
      }]
    }]
  }]
}"#;

#[tokio::test]
async fn json_export_as_sdks_send_it() {
    let ingest = Ingest::start(IngestConfig::default());
    let url = serve(&ingest).await;
    let (status, ct, body) = post(
        &url,
        "application/json; charset=utf-8",
        Some("gzip"),
        gzip(SDK_JSON.as_bytes()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(ct, "application/json");
    assert_eq!(body, b"{}");

    let trace_id = TraceId::new(0x5b8efff798038103, 0xd269b633813fc60c);
    let trace = ingest.wait_for_trace(trace_id, 1).await;
    let span = &trace.spans[0];
    assert_eq!(span.span_id, SpanId(0xeee19b7ec3c1b174));
    assert_eq!(span.parent_span_id(), Some(SpanId(0xeee19b7ec3c1b173)));
    assert_eq!(&*span.process.service_name, "web");
    assert!(
        span.process
            .tags
            .iter()
            .any(|t| &*t.key == "process.pid" && t.value == clew_model::Value::I64(4242))
    );
    assert_eq!(span.start_time, 1_544_712_660_000_000_000);
    assert_eq!(span.duration, 1_000_000_000);
    assert_eq!(tag(span, "span.kind").as_str(), Some("client"));
    assert_eq!(tag(span, "otel.status_code").as_str(), Some("ERROR"));
    assert_eq!(
        tag(span, "otel.status_description").as_str(),
        Some("upstream down")
    );
    assert_eq!(
        tag(span, "otel.scope.name").as_str(),
        Some("@opentelemetry/instrumentation-http")
    );
    assert_eq!(tag(span, "http.status_code"), &clew_model::Value::I64(503));
    assert_eq!(
        tag(span, "tags"),
        &clew_model::Value::Array(vec![
            clew_model::Value::Str("x".into()),
            clew_model::Value::Bool(true)
        ])
    );
    assert_eq!(span.logs.len(), 1);
    assert_eq!(span.logs[0].timestamp, 1_544_712_660_500_000_000);
    let other = TraceId::new(0x5b8efff798038103, 0xd269b633813fc60d);
    let link = span
        .references
        .iter()
        .find(|r| r.trace_id == other)
        .expect("link kept");
    assert_eq!(link.ref_type, clew_model::RefType::ChildOf);
    assert_eq!(ingest.metrics.spans_received(JSON), 1);
}

#[tokio::test]
async fn partial_success_in_both_encodings() {
    let ingest = Ingest::start(IngestConfig::default());
    let url = serve(&ingest).await;
    let req = with_spans(vec![
        span_with_id_len(8, "good"),
        span_with_id_len(4, "bad"),
    ]);

    let (status, _, body) = post(&url, "application/x-protobuf", None, req.encode_to_vec()).await;
    assert_eq!(status, StatusCode::OK);
    let partial = ExportTraceServiceResponse::decode(&body[..])
        .expect("decodes")
        .partial_success
        .expect("partial success");
    assert_eq!(partial.rejected_spans, 1);
    assert!(partial.error_message.contains("invalid_span_id_length=1"));

    let json = clew_codec_otlp::json::encode_request(&req);
    let (status, _, body) = post(&url, "application/json", None, json).await;
    assert_eq!(status, StatusCode::OK);
    let v: Value = serde_json::from_slice(&body).expect("JSON reply");
    assert_eq!(v["partialSuccess"]["rejectedSpans"], "1");
    assert!(
        v["partialSuccess"]["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("span_id is not 8 bytes")),
        "{v}"
    );
    assert_eq!(
        ingest
            .metrics
            .spans_rejected(PROTO, "invalid_span_id_length"),
        1
    );
    assert_eq!(
        ingest
            .metrics
            .spans_rejected(JSON, "invalid_span_id_length"),
        1
    );
    ingest.wait_for_trace(TRACE, 1).await;
}

#[tokio::test]
async fn malformed_bodies_are_400_with_a_status() {
    let ingest = Ingest::start(IngestConfig::default());
    let url = serve(&ingest).await;

    let (status, ct, body) = post(&url, "application/x-protobuf", None, vec![0x0a, 50, 1]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(ct, "application/x-protobuf");
    let st = RpcStatus::decode(&body[..]).expect("Status body");
    assert_eq!(st.code, 3);
    assert!(
        st.message.contains("invalid OTLP protobuf"),
        "{}",
        st.message
    );

    let (status, ct, body) = post(
        &url,
        "application/json",
        None,
        b"{\"resourceSpans\": 7}".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(ct, "application/json");
    let v: Value = serde_json::from_slice(&body).expect("JSON Status");
    assert_eq!(v["code"], 3);
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("invalid OTLP JSON")),
        "{v}"
    );

    let (status, _, _) = post(&url, "application/json", Some("gzip"), b"not gzip".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(ingest.metrics.http_requests("otlp", 400), 3);
}

#[tokio::test]
async fn other_media_types_and_encodings_are_415() {
    let ingest = Ingest::start(IngestConfig::default());
    let url = serve(&ingest).await;
    let (status, _, body) = post(&url, "text/plain", None, b"hi".to_vec()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let v: Value = serde_json::from_slice(&body).expect("JSON Status");
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("text/plain")),
        "{v}"
    );
    let (status, _, _) = post(&url, "application/json", Some("br"), b"{}".to_vec()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn oversized_bodies_are_413_compressed_or_not() {
    let ingest = Ingest::start(IngestConfig {
        http_max_body_bytes: 1024,
        ..IngestConfig::default()
    });
    let url = serve(&ingest).await;
    let (status, _, body) = post(&url, "application/json", None, vec![b' '; 4096]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let v: Value = serde_json::from_slice(&body).expect("JSON Status");
    // INVALID_ARGUMENT: a body over the limit never fits (issue 7).
    assert_eq!(v["code"], 3);

    // 64 KiB of JSON whitespace gzips to a few hundred bytes.
    let mut big = vec![b' '; 64 << 10];
    big.extend_from_slice(b"{}");
    let small = gzip(&big);
    assert!(small.len() < 1024);
    let (status, ct, body) = post(&url, "application/x-protobuf", Some("gzip"), small).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(ct, "application/x-protobuf");
    let st = RpcStatus::decode(&body[..]).expect("Status body");
    assert!(st.message.contains("after decompression"), "{}", st.message);
    assert_eq!(ingest.metrics.http_requests("otlp", 413), 2);
}

/// Issue 7: more spans than the queue can ever hold is 413 with
/// `INVALID_ARGUMENT`; a busy memory budget is 503 + `Retry-After` with
/// `RESOURCE_EXHAUSTED`.
#[tokio::test]
async fn never_fitting_is_413_and_busy_is_503() {
    let ingest = Ingest::start(IngestConfig {
        queue_max_spans: 1,
        ..IngestConfig::default()
    });
    let url = serve(&ingest).await;
    let body = request().encode_to_vec();
    let (status, _, reply) = post(&url, "application/x-protobuf", None, body.clone()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let st = RpcStatus::decode(&reply[..]).expect("Status body");
    assert_eq!(st.code, 3, "INVALID_ARGUMENT: never retry");
    assert_eq!(ingest.metrics.memory_refused("too_many_spans"), 1);

    let ingest = Ingest::start(IngestConfig::default());
    let url = serve(&ingest).await;
    let all = ingest.pipeline.inflight().capacity();
    let held = ingest
        .pipeline
        .reserve(all)
        .expect("the test holds the budget");
    let (status, _, reply) = post(&url, "application/x-protobuf", None, body.clone()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let st = RpcStatus::decode(&reply[..]).expect("Status body");
    assert_eq!(st.code, 8, "RESOURCE_EXHAUSTED");
    drop(held);
    let (status, _, _) = post(&url, "application/x-protobuf", None, body).await;
    assert_eq!(status, StatusCode::OK);
}
