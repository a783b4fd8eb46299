//! End-to-end runs of the OTLP and Zipkin transports against in-test
//! receivers that decode what arrives with Clew's own codecs: a real tonic
//! `TraceService` server for gRPC, a minimal HTTP/1.1 server for the rest.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use bytes::Bytes;
use clew_model::{Span, TraceId};
use clew_tracegen::{RunConfig, Stop, TraceShape, TransportKind, run};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};

fn config(transport: TransportKind, target: String, traces: u64) -> RunConfig {
    RunConfig {
        transport,
        target,
        workers: 2,
        stop: Stop::Traces(traces),
        shape: TraceShape::default(),
        batch_spans: 512,
        rate: 0,
        pool_spans: 1_000,
        progress: false,
        seed: 5,
    }
}

/// Every trace arrived whole: `traces` distinct IDs of 10 spans, one root each.
fn assert_whole_traces(spans: &[Span], traces: usize) {
    let mut by: HashMap<TraceId, Vec<&Span>> = HashMap::new();
    for s in spans {
        by.entry(s.trace_id).or_default().push(s);
    }
    assert_eq!(by.len(), traces, "distinct trace IDs");
    for t in by.values() {
        assert_eq!(t.len(), 10);
        let roots: Vec<_> = t.iter().filter(|s| s.parent_span_id().is_none()).collect();
        assert_eq!(roots.len(), 1);
        assert_eq!(&*roots[0].operation_name, "lets-go");
        assert_eq!(&*roots[0].process.service_name, "tracegen-00");
        let root_id = roots[0].span_id;
        assert!(
            t.iter()
                .filter(|s| s.span_id != root_id)
                .all(|s| s.parent_span_id() == Some(root_id))
        );
    }
}

type Decode = fn(&[u8]) -> Vec<Span>;

/// What one HTTP receiver saw.
#[derive(Default)]
struct Seen {
    spans: Vec<Span>,
    requests: usize,
    connections: usize,
}

/// A minimal HTTP/1.1 receiver: checks the request line and content type,
/// decodes each body with `decode`, answers 202. A connection whose first
/// line is `STOP` ends it.
fn spawn_receiver(
    listener: TcpListener,
    path: &'static str,
    content_type: &'static str,
    decode: Decode,
) -> JoinHandle<Seen> {
    std::thread::spawn(move || {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let mut handlers = Vec::new();
        for stream in listener.incoming() {
            let Ok(stream) = stream else { break };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim() == "STOP" {
                break;
            }
            seen.lock().expect("lock").connections += 1;
            let seen = seen.clone();
            handlers.push(std::thread::spawn(move || {
                let mut out = stream;
                loop {
                    assert_eq!(line.trim(), format!("POST {path} HTTP/1.1"));
                    let (mut len, mut ctype) = (0, String::new());
                    loop {
                        line.clear();
                        reader.read_line(&mut line).expect("header");
                        let l = line.trim().to_ascii_lowercase();
                        if l.is_empty() {
                            break;
                        }
                        if let Some(v) = l.strip_prefix("content-length:") {
                            len = v.trim().parse().expect("length");
                        }
                        if let Some(v) = l.strip_prefix("content-type:") {
                            ctype = v.trim().to_string();
                        }
                    }
                    assert_eq!(ctype, content_type);
                    let mut body = vec![0; len];
                    reader.read_exact(&mut body).expect("body");
                    let spans = decode(&body);
                    {
                        let mut s = seen.lock().expect("lock");
                        s.spans.extend(spans);
                        s.requests += 1;
                    }
                    out.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
                        .expect("reply");
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                }
            }));
        }
        for h in handlers {
            h.join().expect("handler");
        }
        Arc::try_unwrap(seen)
            .ok()
            .expect("handlers joined")
            .into_inner()
            .expect("lock")
    })
}

fn stop(addr: SocketAddr) {
    let mut s = TcpStream::connect(addr).expect("stop connection");
    s.write_all(b"STOP\r\n").expect("stop");
}

fn http_case(kind: TransportKind, path: &'static str, content_type: &'static str, decode: Decode) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let receiver = spawn_receiver(listener, path, content_type, decode);
    let summary = run(&config(kind, addr.to_string(), 300)).expect("run");
    assert_eq!(summary.spans_sent, 3_000, "{kind}");
    assert_eq!(summary.errors, 0);
    assert_eq!(summary.transport, kind.name());
    stop(addr);
    let seen = receiver.join().expect("receiver");
    assert_eq!(
        seen.connections, 2,
        "{kind}: one keep-alive connection per worker"
    );
    // 1,500 spans per worker in bodies of at most 512: 3 requests each.
    assert_eq!(seen.requests, 6, "{kind}");
    assert_eq!(summary.batches, 6);
    assert_eq!(seen.spans.len(), 3_000);
    assert_whole_traces(&seen.spans, 300);
}

#[test]
fn otlp_http_posts_protobuf_to_v1_traces() {
    http_case(
        TransportKind::OtlpHttp,
        "/v1/traces",
        "application/x-protobuf",
        |body| {
            let d = clew_codec_otlp::decode(&Bytes::copy_from_slice(body)).expect("otlp");
            assert_eq!(d.rejected.total(), 0);
            d.spans
        },
    );
}

#[test]
fn zipkin_json_posts_v2_json_to_api_v2_spans() {
    http_case(
        TransportKind::ZipkinJson,
        "/api/v2/spans",
        "application/json",
        |body| clew_codec_zipkin::json_v2::decode(body).expect("zipkin json"),
    );
}

#[test]
fn zipkin_proto_posts_list_of_spans_to_api_v2_spans() {
    http_case(
        TransportKind::ZipkinProto,
        "/api/v2/spans",
        "application/x-protobuf",
        |body| clew_codec_zipkin::proto_v2::decode(body).expect("zipkin proto"),
    );
}

/// A real OTLP gRPC `TraceService` that maps every request with Clew's codec.
#[derive(Clone, Default)]
struct Sink {
    spans: Arc<Mutex<Vec<Span>>>,
    calls: Arc<Mutex<usize>>,
}

#[tonic::async_trait]
impl TraceService for Sink {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let decoded = clew_codec_otlp::request_to_model(request.into_inner());
        assert_eq!(decoded.rejected.total(), 0);
        self.spans.lock().expect("lock").extend(decoded.spans);
        *self.calls.lock().expect("lock") += 1;
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[test]
fn otlp_grpc_exports_pre_encoded_requests() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let sink = Sink::default();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(sink.clone()))
            .serve_with_incoming_shutdown(
                tokio_stream::wrappers::TcpListenerStream::new(listener),
                async {
                    let _ = stop_rx.await;
                },
            ),
    );

    let summary = run(&config(TransportKind::OtlpGrpc, addr.to_string(), 300)).expect("run");
    assert_eq!(summary.spans_sent, 3_000);
    assert_eq!(summary.errors, 0);
    assert_eq!(summary.batches, 6);
    let _ = stop_tx.send(());
    runtime
        .block_on(server)
        .expect("joins")
        .expect("server ran");

    assert_eq!(*sink.calls.lock().expect("lock"), 6);
    let spans = sink.spans.lock().expect("lock");
    assert_eq!(spans.len(), 3_000);
    assert_whole_traces(&spans, 300);
}

#[test]
fn otlp_grpc_to_a_dead_port_counts_errors() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let mut cfg = config(TransportKind::OtlpGrpc, format!("127.0.0.1:{port}"), 100);
    cfg.workers = 1;
    let summary = run(&cfg).expect("run completes");
    assert_eq!(summary.spans_sent, 0);
    assert_eq!(summary.spans_failed, 1_000);
    assert_eq!(summary.errors, 2);
}
