//! Real third-party exporters against the listeners: the OpenTelemetry
//! Python SDK's OTLP gRPC / HTTP and Zipkin JSON exporters, and py_zipkin
//! (v2 JSON, v2 proto3, v1 JSON; py_zipkin 1.2 dropped v1 thrift). Skipped unless `CLEW_PYTHON` names a
//! Python with those packages (`1` means the repository's `.venv`):
//!
//! ```text
//! CLEW_PYTHON=1 cargo test -p clew-ingest --test it python_
//! ```
//!
//! The lead's end-to-end tests drive the same clients through the binary;
//! these pin the ingest edge alone, which is quicker to debug.

use std::path::PathBuf;
use std::process::Command;

use clew_ingest::{IngestConfig, otlp_grpc_service, otlp_http_router, zipkin_ingest_router};
use clew_model::{TraceId, Value};
use tonic::service::Routes;

use crate::harness::{Ingest, serve_grpc, serve_http, tag};

fn python() -> Option<PathBuf> {
    let v = std::env::var("CLEW_PYTHON").ok()?;
    if v == "1" {
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python"))
    } else {
        Some(PathBuf::from(v))
    }
}

/// Emits a SERVER root (attribute, event) with a failing CLIENT child
/// through the SDK exporter `kind` and prints the trace ID.
const OTEL_SCRIPT: &str = r#"
import sys
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode
kind, endpoint = sys.argv[1], sys.argv[2]
if kind == "grpc":
    from grpc import Compression
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    exporter = OTLPSpanExporter(endpoint=endpoint, insecure=True, compression=Compression.Gzip)
elif kind == "http":
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    exporter = OTLPSpanExporter(endpoint=endpoint, compression=Compression.Gzip)
else:
    from opentelemetry.exporter.zipkin.json import ZipkinExporter
    exporter = ZipkinExporter(endpoint=endpoint)
provider = TracerProvider(resource=Resource.create({"service.name": "py-" + kind}))
provider.add_span_processor(SimpleSpanProcessor(exporter))
tracer = provider.get_tracer("clew.python", "0.1")
with tracer.start_as_current_span("root", kind=SpanKind.SERVER) as root:
    root.set_attribute("http.status_code", 500)
    root.add_event("cache miss", {"key": "k1"})
    with tracer.start_as_current_span("child", kind=SpanKind.CLIENT) as child:
        child.set_status(Status(StatusCode.ERROR, "boom"))
    trace_id = root.get_span_context().trace_id
provider.shutdown()
print(format(trace_id, "032x"))
"#;

/// Reports a root and a child with py_zipkin in `encoding` to `url`.
const PY_ZIPKIN_SCRIPT: &str = r#"
import sys, urllib.request
from py_zipkin.encoding import Encoding
from py_zipkin.transport import BaseTransportHandler
from py_zipkin.zipkin import zipkin_span
encoding, url, content_type = getattr(Encoding, sys.argv[1]), sys.argv[2], sys.argv[3]
class Http(BaseTransportHandler):
    def get_max_payload_bytes(self):
        return None
    def send(self, payload):
        body = payload if isinstance(payload, bytes) else payload.encode()
        req = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": content_type})
        urllib.request.urlopen(req).read()
with zipkin_span(service_name="py-zipkin", span_name="root", transport_handler=Http(),
                 sample_rate=100.0, encoding=encoding) as root:
    root.update_binary_annotations({"k": "v"})
    with zipkin_span(service_name="py-zipkin", span_name="child"):
        pass
    trace_id = root.zipkin_attrs.trace_id
print(trace_id)
"#;

fn run(python: &PathBuf, script: &str, args: &[&str]) -> TraceId {
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap_or("").trim();
    last.parse()
        .unwrap_or_else(|e| panic!("trace ID {last:?}: {e:?}"))
}

async fn run_async(python: PathBuf, script: &'static str, args: Vec<String>) -> TraceId {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&python, script, &args)
    })
    .await
    .expect("python task")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_otel_exporters() {
    let Some(py) = python() else {
        eprintln!("CLEW_PYTHON not set; skipping");
        return;
    };
    let ingest = Ingest::start(IngestConfig::default());
    let grpc = serve_grpc(Routes::new(otlp_grpc_service(
        ingest.pipeline.clone(),
        ingest.metrics.clone(),
    )))
    .await;
    let http = serve_http(otlp_http_router(
        ingest.pipeline.clone(),
        ingest.metrics.clone(),
    ))
    .await;
    let zipkin = serve_http(zipkin_ingest_router(
        ingest.pipeline.clone(),
        ingest.metrics.clone(),
    ))
    .await;

    for (kind, endpoint) in [
        ("grpc", grpc.clone()),
        ("http", format!("{http}/v1/traces")),
        ("zipkin", format!("{zipkin}/api/v2/spans")),
    ] {
        let id = run_async(py.clone(), OTEL_SCRIPT, vec![kind.into(), endpoint]).await;
        let trace = ingest.wait_for_trace(id, 2).await;
        let root = trace
            .spans
            .iter()
            .find(|s| &*s.operation_name == "root")
            .expect("root");
        let child = trace
            .spans
            .iter()
            .find(|s| &*s.operation_name == "child")
            .expect("child");
        assert_eq!(&*root.process.service_name, format!("py-{kind}"), "{kind}");
        assert_eq!(child.parent_span_id(), Some(root.span_id), "{kind}");
        assert_eq!(tag(root, "span.kind").as_str(), Some("server"), "{kind}");
        assert_eq!(tag(child, "span.kind").as_str(), Some("client"), "{kind}");
        assert_eq!(tag(root, "http.status_code").to_text(), "500", "{kind}");
        assert!(child.is_error(), "{kind}: {:?}", child.tags);
        assert_eq!(root.logs.len(), 1, "{kind}");
        if kind != "zipkin" {
            assert_eq!(tag(root, "http.status_code"), &Value::I64(500));
            assert_eq!(tag(child, "otel.status_description").as_str(), Some("boom"));
            assert_eq!(tag(root, "otel.scope.name").as_str(), Some("clew.python"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_py_zipkin_encodings() {
    let Some(py) = python() else {
        eprintln!("CLEW_PYTHON not set; skipping");
        return;
    };
    let ingest = Ingest::start(IngestConfig::default());
    let base = serve_http(zipkin_ingest_router(
        ingest.pipeline.clone(),
        ingest.metrics.clone(),
    ))
    .await;
    for (encoding, path, content_type) in [
        ("V2_JSON", "/api/v2/spans", "application/json"),
        ("V1_JSON", "/api/v1/spans", "application/json"),
        ("V2_PROTO3", "/api/v2/spans", "application/x-protobuf"),
    ] {
        let args = vec![
            encoding.into(),
            format!("{base}{path}"),
            content_type.into(),
        ];
        let id = run_async(py.clone(), PY_ZIPKIN_SCRIPT, args).await;
        let trace = ingest.wait_for_trace(id, 2).await;
        let root = trace
            .spans
            .iter()
            .find(|s| &*s.operation_name == "root")
            .unwrap_or_else(|| panic!("{encoding}: no root in {:?}", trace.spans));
        assert_eq!(&*root.process.service_name, "py-zipkin", "{encoding}");
        assert_eq!(tag(root, "k").as_str(), Some("v"), "{encoding}");
        let child = trace
            .spans
            .iter()
            .find(|s| &*s.operation_name == "child")
            .expect("child");
        assert_eq!(child.parent_span_id(), Some(root.span_id), "{encoding}");
    }
}
