//! OTLP/gRPC `TraceService/Export` over a real socket, with
//! opentelemetry-proto's tonic client (what OTel SDK exporters use).

use clew_ingest::{Format, IngestConfig, Source, Transport, otlp_grpc_service};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use tonic::Code;
use tonic::codec::CompressionEncoding;
use tonic::service::Routes;
use tonic::transport::Channel;

use crate::harness::{Ingest, RawCodec, serve_grpc, wait_until};
use crate::otlp_fixture::{TRACE, assert_mapped, request, span_with_id_len, with_spans};

const SRC: Source = Source::new(Transport::Grpc, Format::OtlpProto);

async fn client(ingest: &Ingest) -> TraceServiceClient<Channel> {
    let svc = otlp_grpc_service(ingest.pipeline.clone(), ingest.metrics.clone());
    let addr = serve_grpc(Routes::new(svc)).await;
    TraceServiceClient::connect(addr).await.expect("connects")
}

#[tokio::test]
async fn export_reaches_the_store_mapped_field_by_field() {
    let ingest = Ingest::start(IngestConfig::default());
    let mut c = client(&ingest).await;
    let resp = c.export(request()).await.expect("export ok").into_inner();
    assert_eq!(resp.partial_success, None);
    let trace = ingest.wait_for_trace(TRACE, 2).await;
    assert_mapped(&trace.spans);
    assert_eq!(ingest.metrics.spans_received(SRC), 2);
    assert_eq!(ingest.metrics.grpc_requests("otlp", Code::Ok), 1);
}

#[tokio::test]
async fn gzip_requests_are_accepted() {
    let ingest = Ingest::start(IngestConfig::default());
    let mut c = client(&ingest)
        .await
        .send_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Gzip);
    c.export(request()).await.expect("gzip export ok");
    let trace = ingest.wait_for_trace(TRACE, 2).await;
    assert_mapped(&trace.spans);
}

#[tokio::test]
async fn bad_ids_are_partial_success_and_counted() {
    let ingest = Ingest::start(IngestConfig::default());
    let mut c = client(&ingest).await;
    let req = with_spans(vec![
        span_with_id_len(8, "good"),
        span_with_id_len(3, "short id"),
        span_with_id_len(0, "no id"),
    ]);
    let resp = c.export(req).await.expect("export ok").into_inner();
    let partial = resp.partial_success.expect("partial success");
    assert_eq!(partial.rejected_spans, 2);
    assert!(
        partial.error_message.contains("invalid_span_id_length=2"),
        "{}",
        partial.error_message
    );
    let trace = ingest.wait_for_trace(TRACE, 1).await;
    assert_eq!(&*trace.spans[0].operation_name, "good");
    assert_eq!(
        ingest.metrics.spans_rejected(SRC, "invalid_span_id_length"),
        2
    );
    assert_eq!(ingest.metrics.spans_received(SRC), 3);
}

#[tokio::test]
async fn malformed_protobuf_is_invalid_argument() {
    let ingest = Ingest::start(IngestConfig::default());
    let svc = otlp_grpc_service(ingest.pipeline.clone(), ingest.metrics.clone());
    let addr = serve_grpc(Routes::new(svc)).await;
    // A raw-bytes client: the typed one cannot send a broken message.
    let channel = Channel::from_shared(addr)
        .expect("uri")
        .connect()
        .await
        .expect("connects");
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("ready");
    let path = http::uri::PathAndQuery::from_static(
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    );
    // Field 1, length-delimited, claiming 100 bytes that are not there.
    let err = grpc
        .unary::<Vec<u8>, Vec<u8>, _>(
            tonic::Request::new(vec![0x0a, 100, 1, 2, 3]),
            path,
            RawCodec,
        )
        .await
        .expect_err("junk refused");
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains("invalid OTLP protobuf"), "{err:?}");
    wait_until("error counted", || {
        ingest.metrics.grpc_requests("otlp", Code::InvalidArgument) == 1
    })
    .await;
}

#[tokio::test]
async fn oversized_messages_are_resource_exhausted() {
    let ingest = Ingest::start(IngestConfig {
        grpc_max_message_bytes: 256,
        ..IngestConfig::default()
    });
    let mut c = client(&ingest).await;
    let err = c.export(request()).await.expect_err("too big");
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    // Compressed below the limit but over it once inflated: still refused.
    let mut big = request();
    big.resource_spans[0].scope_spans[0].spans[0].name = "x".repeat(4096);
    let mut c = client(&ingest)
        .await
        .send_compressed(CompressionEncoding::Gzip);
    let err = c.export(big).await.expect_err("too big inflated");
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    assert_eq!(ingest.metrics.spans_received(SRC), 0);
}

/// Issue 7: a request that can never fit is `INVALID_ARGUMENT` (not
/// retried); a busy memory budget is `RESOURCE_EXHAUSTED` (retried).
#[tokio::test]
async fn never_fitting_is_invalid_argument_and_busy_is_resource_exhausted() {
    let ingest = Ingest::start(IngestConfig {
        queue_max_spans: 1,
        ..IngestConfig::default()
    });
    let mut c = client(&ingest).await;
    let err = c
        .export(request())
        .await
        .expect_err("2 spans never fit a queue of 1");
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert_eq!(ingest.metrics.memory_refused("too_many_spans"), 1);

    let ingest = Ingest::start(IngestConfig::default());
    let all = ingest.pipeline.inflight().capacity();
    let held = ingest
        .pipeline
        .reserve(all)
        .expect("the test holds the budget");
    let mut c = client(&ingest).await;
    let err = c.export(request()).await.expect_err("budget is busy");
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    drop(held);
    c.export(request())
        .await
        .expect("accepted once memory is free");
}
