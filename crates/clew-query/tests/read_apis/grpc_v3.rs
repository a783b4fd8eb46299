//! `jaeger.api_v3.QueryService` over a real socket: OTLP `TracesData` out.

use clew_codec_otlp::proto::common::v1::any_value::Value as AnyValue;
use clew_codec_otlp::proto::trace::v1::{Span as OtlpSpan, TracesData, span::SpanKind};
use clew_query::grpc::proto_v3 as v3;
use clew_query::grpc::proto_v3::query_service_client::QueryServiceClient;
use prost_types::Timestamp;
use tonic::Code;
use tonic::transport::Channel;

use crate::fixture::{MS, T0, T1, T2};
use crate::grpc_v2::serve;

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

async fn collect(mut s: tonic::Streaming<TracesData>) -> Vec<TracesData> {
    let mut out = Vec::new();
    while let Some(m) = s.message().await.expect("stream ok") {
        out.push(m);
    }
    out
}

/// (service name, span) for every span of a `TracesData`.
fn spans(td: &TracesData) -> Vec<(String, &OtlpSpan)> {
    let mut out = Vec::new();
    for rs in &td.resource_spans {
        let service = rs
            .resource
            .as_ref()
            .and_then(|r| r.attributes.iter().find(|a| a.key == "service.name"))
            .and_then(|a| a.value.as_ref()?.value.as_ref())
            .map(|v| match v {
                AnyValue::StringValue(s) => s.clone(),
                other => format!("{other:?}"),
            })
            .unwrap_or_default();
        for ss in &rs.scope_spans {
            for s in &ss.spans {
                out.push((service.clone(), s));
            }
        }
    }
    out
}

#[tokio::test]
async fn get_trace_returns_otlp_with_kinds_parents_and_resources() {
    let mut c = client().await;
    let req = v3::GetTraceRequest {
        trace_id: "1".into(),
        ..Default::default()
    };
    let msgs = collect(c.get_trace(req).await.expect("trace exists").into_inner()).await;
    assert_eq!(msgs.len(), 1);
    let spans = spans(&msgs[0]);
    assert_eq!(spans.len(), 4);
    let (service, handle) = spans
        .iter()
        .find(|(_, s)| s.name == "route")
        .expect("backend span present");
    assert_eq!(service, "backend");
    assert_eq!(handle.trace_id, T1.to_bytes());
    assert_eq!(handle.span_id, 3u64.to_be_bytes());
    assert_eq!(handle.parent_span_id, 2u64.to_be_bytes());
    assert_eq!(handle.kind, SpanKind::Server as i32);
    assert_eq!(handle.start_time_unix_nano, T0 + 12 * MS);
    assert_eq!(handle.end_time_unix_nano, T0 + 52 * MS);
    assert_eq!(handle.events.len(), 1);
    assert_eq!(handle.events[0].name, "retry");
    let (service, _) = spans
        .iter()
        .find(|(_, s)| s.name == "GET /dispatch")
        .expect("root");
    assert_eq!(service, "frontend");
}

#[tokio::test]
async fn get_trace_errors() {
    let mut c = client().await;
    let missing = v3::GetTraceRequest {
        trace_id: "404".into(),
        ..Default::default()
    };
    let err = c.get_trace(missing).await.expect_err("absent");
    assert_eq!(
        (err.code(), err.message()),
        (Code::NotFound, "trace not found")
    );
    let bad = v3::GetTraceRequest {
        trace_id: "not-hex".into(),
        ..Default::default()
    };
    assert_eq!(
        c.get_trace(bad).await.expect_err("bad id").code(),
        Code::InvalidArgument
    );
}

#[tokio::test]
async fn find_traces_requires_both_ends_of_the_window() {
    let mut c = client().await;
    let query = v3::TraceQueryParameters {
        service_name: "frontend".into(),
        start_time_min: Some(ts(T0)),
        ..Default::default()
    };
    let err = c
        .find_traces(v3::FindTracesRequest { query: Some(query) })
        .await
        .expect_err("no max");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(
        err.message(),
        "start time min and max are required parameters"
    );
}

#[tokio::test]
async fn find_traces_streams_one_traces_data_per_trace() {
    let mut c = client().await;
    let query = v3::TraceQueryParameters {
        service_name: "frontend".into(),
        start_time_min: Some(ts(T0 - 1000 * MS)),
        start_time_max: Some(ts(T0 + 60_000 * MS)),
        duration_min: Some(prost_types::Duration {
            seconds: 1,
            nanos: 0,
        }),
        ..Default::default()
    };
    let msgs = collect(
        c.find_traces(v3::FindTracesRequest { query: Some(query) })
            .await
            .expect("valid")
            .into_inner(),
    )
    .await;
    assert_eq!(msgs.len(), 1, "only the 3 s trace lasts over 1 s");
    let spans = spans(&msgs[0]);
    assert_eq!(spans[0].1.trace_id, T2.to_bytes());
    assert_eq!(spans[0].1.name, "GET /slow");
}

#[tokio::test]
async fn services_operations_and_dependencies() {
    let mut c = client().await;
    let services = c
        .get_services(v3::GetServicesRequest {})
        .await
        .expect("ok")
        .into_inner();
    assert_eq!(services.services, ["backend", "db", "frontend"]);
    let ops = c
        .get_operations(v3::GetOperationsRequest {
            service: "db".into(),
            span_kind: String::new(),
        })
        .await
        .expect("ok")
        .into_inner()
        .operations;
    assert_eq!(
        ops,
        [v3::Operation {
            name: "SELECT".into(),
            span_kind: "client".into()
        }]
    );
    let deps = c
        .get_dependencies(v3::GetDependenciesRequest {
            start_time: Some(ts(T0 - 1000 * MS)),
            end_time: Some(ts(T0 + 60_000 * MS)),
        })
        .await
        .expect("ok")
        .into_inner()
        .dependencies;
    assert_eq!(deps.len(), 2);
    assert_eq!(
        (
            deps[1].parent.as_str(),
            deps[1].child.as_str(),
            deps[1].call_count
        ),
        ("frontend", "backend", 1)
    );
    let err = c
        .get_dependencies(v3::GetDependenciesRequest::default())
        .await
        .expect_err("no window");
    assert_eq!(err.code(), Code::InvalidArgument);
}
