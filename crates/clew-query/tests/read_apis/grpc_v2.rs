//! `jaeger.api_v2.QueryService` over a real socket with tonic's client.

use clew_codec_jaeger::api_v2::pb;
use clew_query::grpc::proto_v2::query_service_client::QueryServiceClient;
use clew_query::grpc_query_services;
use prost_types::{Duration, Timestamp};
use tokio_stream::wrappers::TcpListenerStream;
use tonic::Code;
use tonic::transport::Channel;

use crate::fixture::{BIG, BIG_SPANS, MS, T0, T1, T2, state};

/// Starts both query services on 127.0.0.1:0 and returns the address.
pub async fn serve() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("bound address");
    let routes = grpc_query_services(state().await);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_routes(routes)
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );
    format!("http://{addr}")
}

async fn client() -> QueryServiceClient<Channel> {
    QueryServiceClient::connect(serve().await)
        .await
        .expect("connects")
}

fn ts(ns: u64) -> Timestamp {
    Timestamp {
        seconds: (ns / 1_000_000_000) as i64,
        nanos: (ns % 1_000_000_000) as i32,
    }
}

async fn get_chunks(
    c: &mut QueryServiceClient<Channel>,
    req: pb::GetTraceRequest,
) -> Result<Vec<pb::SpansResponseChunk>, tonic::Status> {
    let mut stream = c.get_trace(req).await?.into_inner();
    let mut out = Vec::new();
    while let Some(chunk) = stream.message().await? {
        out.push(chunk);
    }
    Ok(out)
}

fn trace_req(id: clew_model::TraceId, raw: bool) -> pb::GetTraceRequest {
    pb::GetTraceRequest {
        trace_id: id.to_bytes().to_vec().into(),
        raw_traces: raw,
        ..Default::default()
    }
}

fn tag_keys(s: &pb::Span) -> Vec<&str> {
    s.tags.iter().map(|t| t.key.as_str()).collect()
}

#[tokio::test]
async fn get_trace_streams_every_field_of_every_span() {
    let mut c = client().await;
    let chunks = get_chunks(&mut c, trace_req(T1, false))
        .await
        .expect("trace exists");
    assert_eq!(chunks.len(), 1);
    let spans = &chunks[0].spans;
    assert_eq!(spans.len(), 4);
    let root = &spans[0];
    assert_eq!(&root.trace_id[..], &T1.to_bytes());
    assert_eq!(&root.span_id[..], &1u64.to_be_bytes());
    assert_eq!(root.operation_name, "GET /dispatch");
    assert_eq!(root.flags, 1);
    assert_eq!(root.start_time, Some(ts(T0)));
    assert_eq!(
        root.duration,
        Some(Duration {
            seconds: 0,
            nanos: 100_000_000
        })
    );
    let process = root.process.as_ref().expect("process is embedded");
    assert_eq!(process.service_name, "frontend");
    assert_eq!(process.tags[0].key, "hostname");
    assert_eq!(process.tags[0].v_str, "web-1");
    assert!(root.process_id.is_empty());
    let status = root
        .tags
        .iter()
        .find(|t| t.key == "http.status_code")
        .expect("tag kept");
    assert_eq!(
        (status.v_type, status.v_int64),
        (pb::ValueType::Int64 as i32, 200)
    );

    let handle = &spans[2];
    assert_eq!(handle.references.len(), 1);
    let r = &handle.references[0];
    assert_eq!(
        (&r.span_id[..], r.ref_type),
        (&2u64.to_be_bytes()[..], pb::SpanRefType::ChildOf as i32)
    );
    // Adjusted: tags sorted by key.
    assert_eq!(tag_keys(handle), ["blob", "error", "load", "span.kind"]);
    let blob = &handle.tags[0];
    assert_eq!(
        (blob.v_type, &blob.v_binary[..]),
        (pb::ValueType::Binary as i32, &[1u8, 2][..])
    );
    let load = &handle.tags[2];
    assert_eq!(
        (load.v_type, load.v_float64),
        (pb::ValueType::Float64 as i32, 0.5)
    );
    assert_eq!(handle.logs[0].timestamp, Some(ts(T0 + 15 * MS)));
    assert_eq!(handle.logs[0].fields[0].v_str, "retry");
}

#[tokio::test]
async fn raw_traces_skip_the_adjusters() {
    let mut c = client().await;
    let chunks = get_chunks(&mut c, trace_req(T1, true))
        .await
        .expect("trace exists");
    assert_eq!(
        tag_keys(&chunks[0].spans[2]),
        ["span.kind", "error", "load", "blob"]
    );
}

#[tokio::test]
async fn big_traces_arrive_in_chunks_of_at_most_ten_spans() {
    let mut c = client().await;
    let chunks = get_chunks(&mut c, trace_req(BIG, false))
        .await
        .expect("trace exists");
    let sizes: Vec<usize> = chunks.iter().map(|c| c.spans.len()).collect();
    assert_eq!(sizes, [10, 10, 3]);
    assert_eq!(sizes.iter().sum::<usize>(), BIG_SPANS);
}

#[tokio::test]
async fn missing_and_malformed_trace_ids_are_told_apart() {
    let mut c = client().await;
    let missing = get_chunks(&mut c, trace_req(clew_model::TraceId::new(0, 0x404), false)).await;
    let err = missing.expect_err("no such trace");
    assert_eq!(
        (err.code(), err.message()),
        (Code::NotFound, "trace not found")
    );
    let bad = pb::GetTraceRequest {
        trace_id: vec![1, 2, 3].into(),
        ..Default::default()
    };
    let err = get_chunks(&mut c, bad).await.expect_err("3-byte ID");
    assert_eq!(err.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn find_traces_filters_by_service_tags_and_window() {
    let mut c = client().await;
    let query = pb::TraceQueryParameters {
        service_name: "backend".into(),
        tags: [("error".to_string(), "true".to_string())].into(),
        start_time_min: Some(ts(T0 - 1000 * MS)),
        start_time_max: Some(ts(T0 + 60_000 * MS)),
        ..Default::default()
    };
    let mut stream = c
        .find_traces(pb::FindTracesRequest { query: Some(query) })
        .await
        .expect("valid query")
        .into_inner();
    let mut spans = Vec::new();
    while let Some(chunk) = stream.message().await.expect("stream ok") {
        assert!(chunk.spans.len() <= 10);
        spans.extend(chunk.spans);
    }
    assert_eq!(spans.len(), 4, "only trace 1 has an error span in backend");
    assert!(spans.iter().all(|s| s.trace_id[..] == T1.to_bytes()));

    let window_misses = pb::TraceQueryParameters {
        service_name: "frontend".into(),
        start_time_min: Some(ts(T0 + 500 * MS)),
        start_time_max: Some(ts(T0 + 60_000 * MS)),
        ..Default::default()
    };
    let mut stream = c
        .find_traces(pb::FindTracesRequest {
            query: Some(window_misses),
        })
        .await
        .expect("valid query")
        .into_inner();
    let chunk = stream
        .message()
        .await
        .expect("stream ok")
        .expect("one trace");
    assert_eq!(&chunk.spans[0].trace_id[..], &T2.to_bytes());
    assert!(stream.message().await.expect("stream ok").is_none());

    let err = c
        .find_traces(pb::FindTracesRequest { query: None })
        .await
        .expect_err("no query");
    assert_eq!(err.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn services_and_operations_with_kinds() {
    let mut c = client().await;
    let services = c
        .get_services(pb::GetServicesRequest {})
        .await
        .expect("ok")
        .into_inner();
    assert_eq!(services.services, ["backend", "db", "frontend"]);

    let all = c
        .get_operations(pb::GetOperationsRequest {
            service: "frontend".into(),
            span_kind: String::new(),
        })
        .await
        .expect("ok")
        .into_inner();
    assert_eq!(
        all.operation_names,
        ["GET /dispatch", "GET /route", "GET /slow"]
    );
    let pairs: Vec<(&str, &str)> = all
        .operations
        .iter()
        .map(|o| (o.name.as_str(), o.span_kind.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("GET /dispatch", "server"),
            ("GET /route", "client"),
            ("GET /slow", "")
        ]
    );

    let servers = c
        .get_operations(pb::GetOperationsRequest {
            service: "frontend".into(),
            span_kind: "server".into(),
        })
        .await
        .expect("ok")
        .into_inner();
    assert_eq!(servers.operation_names, ["GET /dispatch"]);
}

#[tokio::test]
async fn dependencies_need_a_window_and_count_calls() {
    let mut c = client().await;
    let err = c
        .get_dependencies(pb::GetDependenciesRequest {
            start_time: Some(ts(T0)),
            end_time: None,
        })
        .await
        .expect_err("no end time");
    assert_eq!(err.code(), Code::InvalidArgument);
    let deps = c
        .get_dependencies(pb::GetDependenciesRequest {
            start_time: Some(ts(T0 - 1000 * MS)),
            end_time: Some(ts(T0 + 60_000 * MS)),
        })
        .await
        .expect("ok")
        .into_inner()
        .dependencies;
    let links: Vec<(&str, &str, u64)> = deps
        .iter()
        .map(|d| (d.parent.as_str(), d.child.as_str(), d.call_count))
        .collect();
    assert_eq!(links, [("backend", "db", 1), ("frontend", "backend", 1)]);
    assert!(deps.iter().all(|d| d.source == "jaeger"));
}

#[tokio::test]
async fn archive_is_unimplemented_without_an_archive_store() {
    let mut c = client().await;
    let err = c
        .archive_trace(pb::ArchiveTraceRequest {
            trace_id: T1.to_bytes().to_vec().into(),
            ..Default::default()
        })
        .await
        .expect_err("no archive");
    assert_eq!(err.code(), Code::Unimplemented);
}
