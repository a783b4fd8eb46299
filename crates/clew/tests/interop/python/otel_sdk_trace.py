"""Sends one known trace to Clew with the real OpenTelemetry Python SDK.

Usage: otel_sdk_trace.py {otlp-grpc|otlp-http|zipkin-json} ENDPOINT SERVICE

ENDPOINT is `127.0.0.1:4317` for gRPC, a full URL otherwise
(`http://127.0.0.1:4318/v1/traces`, `http://127.0.0.1:9411/api/v2/spans`).
Prints one JSON line with the IDs sent; exits non-zero if any export failed.
"""
import json
import sys

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

kind, endpoint, service = sys.argv[1], sys.argv[2], sys.argv[3]
if kind == "otlp-grpc":
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    inner = OTLPSpanExporter(endpoint=endpoint, insecure=True)
elif kind == "otlp-http":
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    inner = OTLPSpanExporter(endpoint=endpoint)
elif kind == "zipkin-json":
    from opentelemetry.exporter.zipkin.json import ZipkinExporter
    inner = ZipkinExporter(endpoint=endpoint)
else:
    sys.exit("unknown exporter " + kind)


class Checked(SpanExporter):
    """Passes spans on and remembers whether every export succeeded."""

    def __init__(self, inner):
        self.inner = inner
        self.failures = 0

    def export(self, spans):
        result = self.inner.export(spans)
        if result != SpanExportResult.SUCCESS:
            self.failures += 1
        return result

    def shutdown(self):
        self.inner.shutdown()


exporter = Checked(inner)
provider = TracerProvider(resource=Resource.create({"service.name": service, "deployment": "interop"}))
provider.add_span_processor(SimpleSpanProcessor(exporter))
tracer = provider.get_tracer("clew.interop", "1.2.3")

with tracer.start_as_current_span(
    "hello",
    kind=SpanKind.SERVER,
    attributes={"str.tag": "text", "int.tag": 42, "bool.tag": True, "float.tag": 2.5, "list.tag": ["a", "b"]},
) as root:
    root.add_event("greeting", {"who": "world"})
    with tracer.start_as_current_span("world", kind=SpanKind.CLIENT) as child:
        child.set_status(Status(StatusCode.ERROR, "boom"))
    root_ctx = root.get_span_context()
    child_ctx = child.get_span_context()

with tracer.start_as_current_span(
    "later", context=trace.set_span_in_context(trace.INVALID_SPAN), links=[Link(root_ctx, {"link.kind": "retry"})]
) as later:
    later_ctx = later.get_span_context()

provider.shutdown()
if exporter.failures:
    sys.exit("%d export(s) failed" % exporter.failures)
print(json.dumps({
    "traceID": "%032x" % root_ctx.trace_id,
    "laterTraceID": "%032x" % later_ctx.trace_id,
    "root": "%016x" % root_ctx.span_id,
    "child": "%016x" % child_ctx.span_id,
    "later": "%016x" % later_ctx.span_id,
}), flush=True)
