//! Jaeger gRPC on 14250 over a real socket with the generated tonic clients.

use std::sync::Arc;

use clew_codec_jaeger::api_v2::{batch_to_pb, pb, process_to_pb};
use clew_ingest::jaeger_grpc::proto::collector_service_client::CollectorServiceClient;
use clew_ingest::jaeger_grpc::proto::sampling_manager_client::SamplingManagerClient;
use clew_ingest::{
    Format, IngestConfig, SamplingStrategies, Source, Transport, jaeger_grpc_services,
};
use clew_model::{Process, TraceId};
use tonic::Code;
use tonic::codec::CompressionEncoding;
use tonic::service::Routes;

use crate::harness::{Ingest, fixture, serve_grpc};

const SRC: Source = Source::new(Transport::Grpc, Format::JaegerProto);

async fn serve(ingest: &Ingest, sampling: SamplingStrategies) -> String {
    let (collector, sampler) = jaeger_grpc_services(
        ingest.pipeline.clone(),
        ingest.metrics.clone(),
        Arc::new(sampling),
    );
    serve_grpc(Routes::new(collector).add_service(sampler)).await
}

#[tokio::test]
async fn post_spans_inherits_the_batch_process() {
    let ingest = Ingest::start(IngestConfig::default());
    let addr = serve(&ingest, SamplingStrategies::default_all_in_one()).await;
    let mut c = CollectorServiceClient::connect(addr)
        .await
        .expect("connects")
        .send_compressed(CompressionEncoding::Gzip);

    let trace = TraceId::new(3, 0x77);
    let (process, spans) = fixture(trace, "frontend", 3);
    let mut batch = batch_to_pb(&process, &spans);
    // The third span brings its own process, which wins over the batch's.
    batch.spans[2].process = Some(process_to_pb(&Process::new("worker")));
    c.post_spans(pb::PostSpansRequest { batch: Some(batch) })
        .await
        .expect("accepted");

    let stored = ingest.wait_for_trace(trace, 3).await;
    let mut got = stored.spans.clone();
    got.sort_by_key(|s| s.span_id);
    assert_eq!(&*got[0].process.service_name, "frontend");
    assert_eq!(got[0].process.tags, process.tags);
    assert_eq!(&*got[1].process.service_name, "frontend");
    assert_eq!(&*got[2].process.service_name, "worker");
    assert_eq!(got[1].tags, spans[1].tags);
    assert_eq!(got[1].logs, spans[1].logs);
    assert_eq!(got[1].references, spans[1].references);
    assert_eq!(got[1].start_time, spans[1].start_time);
    assert_eq!(got[1].duration, spans[1].duration);
    assert_eq!(ingest.metrics.spans_received(SRC), 3);
    assert_eq!(
        ingest.metrics.grpc_requests("jaeger-collector", Code::Ok),
        1
    );
}

#[tokio::test]
async fn bad_span_ids_are_refused_alone_or_all_with_invalid_argument() {
    let ingest = Ingest::start(IngestConfig::default());
    let addr = serve(&ingest, SamplingStrategies::default_all_in_one()).await;
    let mut c = CollectorServiceClient::connect(addr)
        .await
        .expect("connects");

    let trace = TraceId::new(0, 0x99);
    let (process, spans) = fixture(trace, "svc", 2);
    let mut batch = batch_to_pb(&process, &spans);
    batch.spans[1].span_id = vec![1, 2, 3].into();
    c.post_spans(pb::PostSpansRequest { batch: Some(batch) })
        .await
        .expect("the good span is accepted");
    let stored = ingest.wait_for_trace(trace, 1).await;
    assert_eq!(stored.spans[0].span_id, spans[0].span_id);
    assert_eq!(ingest.metrics.spans_rejected(SRC, "invalid_span_id"), 1);

    let mut batch = batch_to_pb(&process, &spans[..1]);
    batch.spans[0].trace_id = vec![9; 5].into();
    let err = c
        .post_spans(pb::PostSpansRequest { batch: Some(batch) })
        .await
        .expect_err("nothing accepted");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("invalid_trace_id=1"), "{err:?}");

    let err = c
        .post_spans(pb::PostSpansRequest { batch: None })
        .await
        .expect_err("no batch");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(
        ingest
            .metrics
            .grpc_requests("jaeger-collector", Code::InvalidArgument),
        2
    );
}

#[tokio::test]
async fn oversized_batches_are_resource_exhausted() {
    let ingest = Ingest::start(IngestConfig {
        grpc_max_message_bytes: 200,
        ..IngestConfig::default()
    });
    let addr = serve(&ingest, SamplingStrategies::default_all_in_one()).await;
    let mut c = CollectorServiceClient::connect(addr)
        .await
        .expect("connects");
    let (process, spans) = fixture(TraceId::new(0, 1), "svc", 5);
    let err = c
        .post_spans(pb::PostSpansRequest {
            batch: Some(batch_to_pb(&process, &spans)),
        })
        .await
        .expect_err("too big");
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    assert_eq!(
        ingest
            .metrics
            .grpc_requests("jaeger-collector", Code::ResourceExhausted),
        1
    );
}

#[tokio::test]
async fn sampling_manager_serves_the_strategies_file() {
    let dir = std::env::temp_dir().join(format!("clew-grpc-sampling-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("strategies.json");
    std::fs::write(
        &path,
        r#"{"default_strategy": {"type": "probabilistic", "param": 0.5},
            "service_strategies": [{"service": "api", "type": "ratelimiting", "param": 12,
              "operation_strategies": [{"operation": "GET /", "type": "probabilistic", "param": 0.2}]}]}"#,
    )
    .expect("write strategies");
    let strategies = SamplingStrategies::from_file(&path).expect("loads");
    let expected_api = strategies.for_service("api");

    let ingest = Ingest::start(IngestConfig::default());
    let addr = serve(&ingest, strategies).await;
    let mut c = SamplingManagerClient::connect(addr)
        .await
        .expect("connects");

    let api = c
        .get_sampling_strategy(pb::SamplingStrategyParameters {
            service_name: "api".into(),
        })
        .await
        .expect("strategy")
        .into_inner();
    assert_eq!(
        api.strategy_type,
        pb::SamplingStrategyType::RateLimiting as i32
    );
    assert_eq!(
        api.rate_limiting_sampling.map(|r| r.max_traces_per_second),
        Some(12)
    );
    let ops = api.operation_sampling.expect("per-operation");
    let expected_ops = expected_api
        .operation_sampling
        .expect("file has operations");
    assert_eq!(
        ops.default_sampling_probability,
        expected_ops.default_sampling_probability
    );
    assert_eq!(ops.per_operation_strategies[0].operation, "GET /");
    assert_eq!(
        ops.per_operation_strategies[0]
            .probabilistic_sampling
            .as_ref()
            .map(|p| p.sampling_rate),
        Some(0.2)
    );

    let other = c
        .get_sampling_strategy(pb::SamplingStrategyParameters {
            service_name: "other".into(),
        })
        .await
        .expect("strategy")
        .into_inner();
    assert_eq!(
        other.strategy_type,
        pb::SamplingStrategyType::Probabilistic as i32
    );
    assert_eq!(
        other.probabilistic_sampling.map(|p| p.sampling_rate),
        Some(0.5)
    );
    assert_eq!(ingest.metrics.grpc_requests("jaeger-sampling", Code::Ok), 2);
    std::fs::remove_dir_all(&dir).ok();
}
