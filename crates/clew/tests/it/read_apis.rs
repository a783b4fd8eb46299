//! The same stored trace read back through every read API Clew serves:
//! Jaeger api_v2 and api_v3 over gRPC (16685), API v3 over HTTP, and
//! Zipkin's read API (9411).

use clew_codec_jaeger::api_v2::pb;
use clew_model::TraceId;
use clew_query::grpc::{proto_v2, proto_v3};
use serde_json::{Value, json};

use crate::harness::Clew;
use crate::query_api::{fixture, send_fixture_over_http};

fn stored_fixture() -> Clew {
    let clew = Clew::start(&[]);
    send_fixture_over_http(&clew, &fixture(TraceId::new(0, 0xabc)));
    clew.wait_for_trace("abc", 3);
    clew
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn jaeger_grpc_v2_and_v3_return_the_trace() {
    let clew = stored_fixture();
    let endpoint = clew.url("query_grpc", "");
    runtime().block_on(async {
        let mut v2 = proto_v2::query_service_client::QueryServiceClient::connect(endpoint.clone())
            .await
            .expect("connect v2");
        let mut stream = v2
            .get_trace(pb::GetTraceRequest {
                trace_id: TraceId::new(0, 0xabc).to_bytes().to_vec().into(),
                ..Default::default()
            })
            .await
            .expect("GetTrace")
            .into_inner();
        let mut ops = Vec::new();
        while let Some(chunk) = stream.message().await.expect("chunk") {
            for span in chunk.spans {
                let process = span.process.expect("process in each span");
                ops.push(format!("{}:{}", process.service_name, span.operation_name));
            }
        }
        ops.sort();
        assert_eq!(
            ops,
            [
                "driver:FindNearest",
                "frontend:GET /dispatch",
                "frontend:HTTP GET"
            ]
        );
        let services = v2
            .get_services(pb::GetServicesRequest {})
            .await
            .expect("GetServices")
            .into_inner()
            .services;
        assert_eq!(services, ["driver", "frontend"]);
        let missing = v2
            .get_trace(pb::GetTraceRequest {
                trace_id: TraceId::new(0, 0xdead).to_bytes().to_vec().into(),
                ..Default::default()
            })
            .await;
        let code = match missing {
            Err(status) => status.code(),
            Ok(resp) => match resp.into_inner().message().await {
                Err(status) => status.code(),
                Ok(m) => panic!("expected NOT_FOUND, got {m:?}"),
            },
        };
        assert_eq!(code, tonic::Code::NotFound);

        let mut v3 = proto_v3::query_service_client::QueryServiceClient::connect(endpoint)
            .await
            .expect("connect v3");
        let mut stream = v3
            .get_trace(proto_v3::GetTraceRequest {
                trace_id: "0000000000000abc".into(),
                ..Default::default()
            })
            .await
            .expect("GetTrace v3")
            .into_inner();
        let mut names = Vec::new();
        while let Some(traces) = stream.message().await.expect("TracesData") {
            for rs in traces.resource_spans {
                for ss in rs.scope_spans {
                    names.extend(ss.spans.into_iter().map(|s| s.name));
                }
            }
        }
        names.sort();
        assert_eq!(names, ["FindNearest", "GET /dispatch", "HTTP GET"]);
    });
}

#[test]
fn api_v3_http_returns_otlp_json() {
    let clew = stored_fixture();
    let (status, v) = clew.get_json("/api/v3/traces/0000000000000abc");
    assert_eq!(status, 200, "{v}");
    let spans: Vec<&Value> = v["result"]["resourceSpans"]
        .as_array()
        .expect("resourceSpans")
        .iter()
        .flat_map(|rs| rs["scopeSpans"].as_array().into_iter().flatten())
        .flat_map(|ss| ss["spans"].as_array().into_iter().flatten())
        .collect();
    assert_eq!(spans.len(), 3);
    let server = spans
        .iter()
        .find(|s| s["name"] == "FindNearest")
        .expect("server span");
    assert_eq!(server["traceId"], "00000000000000000000000000000abc");
    assert_eq!(server["spanId"], "0000000000000012");
    assert_eq!(server["parentSpanId"], "0000000000000011");
    assert_eq!(server["kind"], 2, "SPAN_KIND_SERVER");
    let (_, services) = clew.get_json("/api/v3/services");
    assert_eq!(services, json!({"services": ["driver", "frontend"]}));
}

#[test]
fn zipkin_read_api_returns_v2_json() {
    let clew = stored_fixture();
    let get = |path: &str| -> Value {
        reqwest::blocking::get(clew.url("zipkin_http", path))
            .expect("GET")
            .json()
            .expect("JSON")
    };
    assert_eq!(get("/api/v2/services"), json!(["driver", "frontend"]));
    let trace = get("/api/v2/trace/0000000000000abc");
    let spans = trace.as_array().expect("array of spans");
    assert_eq!(spans.len(), 3);
    let server = spans
        .iter()
        .find(|s| s["id"] == "0000000000000012")
        .expect("span");
    assert_eq!(server["traceId"], "0000000000000abc");
    assert_eq!(server["parentId"], "0000000000000011");
    assert_eq!(server["kind"], "SERVER");
    // Zipkin lowercases names it stores; Clew keeps what the client sent so
    // the same span reads the same through every API.
    assert_eq!(server["name"], "FindNearest");
    assert_eq!(server["localEndpoint"]["serviceName"], "driver");
    assert_eq!(server["tags"]["db"], "redis");
    let deps = get("/api/v2/dependencies?endTs=99999999999999&lookback=99999999999999");
    assert_eq!(
        deps,
        json!([{"parent": "frontend", "child": "driver", "callCount": 1}])
    );
}
