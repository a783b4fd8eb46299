//! Zipkin's upload API on 9411 over a real socket: v2 JSON and proto3,
//! v1 JSON and thrift, gzip, and the error replies.

use clew_codec_zipkin::thrift::{Protocol, encode_span_list};
use clew_codec_zipkin::{mapping, proto, proto_v2};
use clew_ingest::{Format, IngestConfig, Source, Transport, zipkin_ingest_router};
use clew_model::{SpanId, TraceId};
use reqwest::StatusCode;
use serde_json::Value;

use crate::harness::{Ingest, fixture, gzip, serve_http, tag};

const JSON: Source = Source::new(Transport::Http, Format::ZipkinJson);

async fn serve(ingest: &Ingest) -> String {
    serve_http(zipkin_ingest_router(
        ingest.pipeline.clone(),
        ingest.metrics.clone(),
    ))
    .await
}

async fn post(
    url: &str,
    content_type: Option<&str>,
    encoding: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, String) {
    let mut req = reqwest::Client::new().post(url);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if let Some(e) = encoding {
        req = req.header("content-encoding", e);
    }
    let resp = req.body(body).send().await.expect("request sent");
    let status = resp.status();
    (status, resp.text().await.expect("body"))
}

/// A client/server pair sharing one span ID, as Zipkin instrumentation
/// (py_zipkin, Brave) reports an RPC.
const V2_JSON: &str = r#"[
  {"traceId": "86154a4ba6e91385", "id": "4d1e00c0db9010db", "kind": "CLIENT",
   "name": "get /api", "timestamp": 1472470996199000, "duration": 207000,
   "localEndpoint": {"serviceName": "frontend", "ipv4": "127.0.0.1"},
   "remoteEndpoint": {"serviceName": "backend", "ipv4": "192.168.99.101", "port": 9000},
   "annotations": [{"timestamp": 1472470996238000, "value": "ws"}],
   "tags": {"http.path": "/api", "clnt/finagle.version": "6.45.0"}},
  {"traceId": "86154a4ba6e91385", "id": "4d1e00c0db9010db", "kind": "SERVER", "shared": true,
   "name": "get /api", "timestamp": 1472470996250000, "duration": 100000,
   "localEndpoint": {"serviceName": "backend", "ipv4": "192.168.99.101", "port": 9000},
   "debug": true}
]"#;

#[tokio::test]
async fn v2_json_gzip_reaches_the_store() {
    let ingest = Ingest::start(IngestConfig::default());
    let url = format!("{}/api/v2/spans", serve(&ingest).await);
    let (status, body) = post(
        &url,
        Some("application/json"),
        Some("gzip"),
        gzip(V2_JSON.as_bytes()),
    )
    .await;
    assert_eq!((status, body.as_str()), (StatusCode::ACCEPTED, ""));

    let trace = ingest
        .wait_for_trace(TraceId::new(0, 0x86154a4ba6e91385), 2)
        .await;
    let client = trace
        .spans
        .iter()
        .find(|s| &*s.process.service_name == "frontend")
        .expect("client span");
    let server = trace
        .spans
        .iter()
        .find(|s| &*s.process.service_name == "backend")
        .expect("server span");
    assert_eq!(client.span_id, SpanId(0x4d1e00c0db9010db));
    assert_eq!(tag(client, "span.kind").as_str(), Some("client"));
    assert_eq!(tag(server, "span.kind").as_str(), Some("server"));
    assert_eq!(client.start_time, 1_472_470_996_199_000_000);
    assert_eq!(client.duration, 207_000_000);
    assert_eq!(tag(client, "http.path").as_str(), Some("/api"));
    assert_eq!(tag(client, "peer.service").as_str(), Some("backend"));
    assert_eq!(client.logs.len(), 1);
    assert_eq!(client.logs[0].timestamp, 1_472_470_996_238_000_000);
    assert_eq!(ingest.metrics.spans_received(JSON), 2);
    assert_eq!(ingest.metrics.http_requests("zipkin", 202), 1);
}

#[tokio::test]
async fn v2_proto_and_v1_thrift_and_json() {
    let ingest = Ingest::start(IngestConfig::default());
    let base = serve(&ingest).await;
    let trace = TraceId::new(0, 0xabc);
    let (_, spans) = fixture(trace, "svc", 3);

    let mut body = Vec::new();
    proto_v2::encode(&spans[..1], &mut body);
    let (status, _) = post(
        &format!("{base}/api/v2/spans"),
        Some("application/x-protobuf"),
        None,
        body,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let mut body = Vec::new();
    encode_span_list(&spans[1..2], Protocol::Binary, &mut body);
    let (status, _) = post(
        &format!("{base}/api/v1/spans"),
        Some("application/x-thrift"),
        Some("gzip"),
        gzip(&body),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let mut body = Vec::new();
    clew_codec_zipkin::json_v1::encode(&spans[2..], &mut body).expect("encodes");
    let (status, _) = post(&format!("{base}/api/v1/spans"), None, None, body).await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let stored = ingest.wait_for_trace(trace, 3).await;
    let mut got = stored.spans.clone();
    got.sort_by_key(|s| s.span_id);
    for (g, want) in got.iter().zip(&spans) {
        assert_eq!(g.span_id, want.span_id);
        assert_eq!(g.operation_name, want.operation_name);
        assert_eq!(&*g.process.service_name, "svc");
        assert_eq!(g.start_time, want.start_time);
        assert_eq!(g.parent_span_id(), want.parent_span_id());
        assert_eq!(tag(g, "http.status_code").to_text(), "200");
    }
    for format in [
        Format::ZipkinProto,
        Format::ZipkinThrift,
        Format::ZipkinJson,
    ] {
        let src = Source::new(Transport::Http, format);
        assert_eq!(ingest.metrics.spans_received(src), 1, "{format:?}");
    }
}

#[tokio::test]
async fn a_bad_id_refuses_that_span_only() {
    let ingest = Ingest::start(IngestConfig::default());
    let url = format!("{}/api/v2/spans", serve(&ingest).await);
    let body = r#"[{"traceId": "0000000000000001", "id": "0000000000000002", "name": "ok",
                    "localEndpoint": {"serviceName": "a"}},
                   {"traceId": "zzzz", "id": "0000000000000003", "name": "bad"}]"#;
    let (status, text) = post(&url, Some("application/json"), None, body.into()).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let v: Value = serde_json::from_str(&text).expect("JSON summary");
    assert_eq!(v["accepted"], 1);
    assert_eq!(v["rejected"], 1);
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|m| m.contains("invalid_trace_id=1")),
        "{v}"
    );
    ingest.wait_for_trace(TraceId::new(0, 1), 1).await;
    assert_eq!(ingest.metrics.spans_rejected(JSON, "invalid_trace_id"), 1);

    let only_bad = r#"[{"traceId": "0000000000000001", "id": "", "name": "no id"}]"#;
    let (status, text) = post(&url, None, None, only_bad.into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let v: Value = serde_json::from_str(&text).expect("JSON error");
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|m| m.contains("invalid_span_id=1")),
        "{v}"
    );

    // A proto3 span with a 3-byte ID: the fast path fails, the slow one keeps the rest.
    let (_, spans) = fixture(TraceId::new(0, 0x55), "p", 2);
    let mut list = proto::ListOfSpans {
        spans: spans
            .iter()
            .map(|s| proto_v2::span_to_proto(&mapping::from_model(s)))
            .collect(),
    };
    list.spans[1].id = vec![1, 2, 3];
    let (status, _) = post(
        &url,
        Some("application/x-protobuf"),
        None,
        prost::Message::encode_to_vec(&list),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    ingest.wait_for_trace(TraceId::new(0, 0x55), 1).await;
    let proto_src = Source::new(Transport::Http, Format::ZipkinProto);
    assert_eq!(
        ingest.metrics.spans_rejected(proto_src, "invalid_span_id"),
        1
    );
}

#[tokio::test]
async fn errors_are_json_with_the_right_status() {
    let ingest = Ingest::start(IngestConfig {
        http_max_body_bytes: 2048,
        ..IngestConfig::default()
    });
    let base = serve(&ingest).await;
    let v2 = format!("{base}/api/v2/spans");

    let (status, text) = post(
        &v2,
        Some("application/json"),
        None,
        b"[{\"traceId\": 1".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let v: Value = serde_json::from_str(&text).expect("JSON error");
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|m| m.contains("invalid Zipkin JSON")),
        "{v}"
    );

    let (status, _) = post(
        &format!("{base}/api/v1/spans"),
        Some("application/x-thrift"),
        None,
        b"\x0c\xff\xff junk".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, _) = post(&v2, Some("application/x-thrift"), None, b"[]".to_vec()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let (status, _) = post(&v2, None, None, vec![b' '; 4096]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let mut bomb = vec![b' '; 256 << 10];
    bomb.extend_from_slice(b"[]");
    let (status, text) = post(&v2, None, Some("gzip"), gzip(&bomb)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{text}");
    assert!(text.contains("after decompression"), "{text}");

    let (status, _) = post(&v2, None, None, b"[]".to_vec()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "an empty list is fine");
    assert_eq!(ingest.metrics.http_requests("zipkin", 413), 2);
}

/// Issue 7: more spans than the queue can ever hold is 413; a busy memory
/// budget is 503 (retry later).
#[tokio::test]
async fn never_fitting_is_413_and_busy_is_503() {
    let ingest = Ingest::start(IngestConfig {
        queue_max_spans: 1,
        ..IngestConfig::default()
    });
    let url = format!("{}/api/v2/spans", serve(&ingest).await);
    let (status, text) = post(&url, None, None, V2_JSON.into()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{text}");
    assert!(text.contains("more than 1 spans"), "{text}");
    assert_eq!(ingest.metrics.memory_refused("too_many_spans"), 1);

    let ingest = Ingest::start(IngestConfig::default());
    let url = format!("{}/api/v2/spans", serve(&ingest).await);
    let all = ingest.pipeline.inflight().capacity();
    let held = ingest
        .pipeline
        .reserve(all)
        .expect("the test holds the budget");
    let (status, text) = post(&url, None, None, V2_JSON.into()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    drop(held);
    let (status, text) = post(&url, None, None, V2_JSON.into()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
}
