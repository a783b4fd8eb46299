"""Propagation driver for clew-client's interop tests.

Usage: propagation.py FORMAT (inject|extract)
  inject:  stdin {"trace_id": hex, "span_id": hex, "parent_id": hex, "flags": int, "baggage": {}}
           stdout the carrier (JSON object of headers) written by the library
  extract: stdin a carrier; stdout the context the library read, same shape as
           inject's input, or null
FORMAT: jaeger, b3 (jaeger-client 4.8) or w3c (opentelemetry-api tracecontext + baggage),
        otel-b3, otel-b3multi (opentelemetry-propagator-b3), otel-xray
        (opentelemetry-propagator-aws-xray), otel-gcp (opentelemetry-propagator-gcp):
        each OpenTelemetry trace format is combined with W3C baggage.
"""
import json
import sys


def jaeger_codec(fmt):
    from jaeger_client.codecs import B3Codec, TextCodec
    if fmt == "jaeger":
        return TextCodec(url_encoding=True)
    return B3Codec()


def jaeger_inject(fmt, c):
    from jaeger_client.span_context import SpanContext
    ctx = SpanContext(int(c["trace_id"], 16), int(c["span_id"], 16),
                      int(c["parent_id"], 16) or None, c["flags"], baggage=c["baggage"])
    carrier = {}
    jaeger_codec(fmt).inject(ctx, carrier)
    return carrier


def jaeger_extract(fmt, carrier):
    ctx = jaeger_codec(fmt).extract(carrier)
    if ctx is None or not ctx.trace_id:
        return None
    return {"trace_id": "%x" % ctx.trace_id, "span_id": "%x" % ctx.span_id,
            "parent_id": "%x" % (ctx.parent_id or 0), "flags": ctx.flags,
            "baggage": dict(ctx.baggage or {})}


def w3c_inject(c):
    from opentelemetry import baggage, trace
    from opentelemetry.baggage.propagation import W3CBaggagePropagator
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
    sc = SpanContext(int(c["trace_id"], 16), int(c["span_id"], 16), is_remote=False,
                     trace_flags=TraceFlags(c["flags"] & 1))
    ctx = trace.set_span_in_context(NonRecordingSpan(sc))
    for k, v in c["baggage"].items():
        ctx = baggage.set_baggage(k, v, ctx)
    carrier = {}
    TraceContextTextMapPropagator().inject(carrier, context=ctx)
    W3CBaggagePropagator().inject(carrier, context=ctx)
    return carrier


def w3c_extract(carrier):
    from opentelemetry import baggage, trace
    from opentelemetry.baggage.propagation import W3CBaggagePropagator
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
    ctx = TraceContextTextMapPropagator().extract(carrier)
    ctx = W3CBaggagePropagator().extract(carrier, context=ctx)
    sc = trace.get_current_span(ctx).get_span_context()
    if not sc.is_valid:
        return None
    return {"trace_id": "%x" % sc.trace_id, "span_id": "%x" % sc.span_id, "parent_id": "0",
            "flags": int(sc.trace_flags), "baggage": {k: str(v) for k, v in baggage.get_all(ctx).items()}}


def otel_propagator(fmt):
    from opentelemetry.baggage.propagation import W3CBaggagePropagator
    from opentelemetry.propagators.composite import CompositePropagator
    if fmt == "w3c":
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
        trace = TraceContextTextMapPropagator()
    elif fmt == "otel-b3":
        from opentelemetry.propagators.b3 import B3SingleFormat
        trace = B3SingleFormat()
    elif fmt == "otel-b3multi":
        from opentelemetry.propagators.b3 import B3MultiFormat
        trace = B3MultiFormat()
    elif fmt == "otel-xray":
        from opentelemetry.propagators.aws import AwsXRayPropagator
        trace = AwsXRayPropagator()
    elif fmt == "otel-gcp":
        from opentelemetry.propagators.cloud_trace_propagator import CloudTraceFormatPropagator
        trace = CloudTraceFormatPropagator()
    else:
        raise SystemExit("unknown format " + fmt)
    return CompositePropagator([trace, W3CBaggagePropagator()])


def otel_inject(fmt, c):
    from opentelemetry import baggage, trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
    sc = SpanContext(int(c["trace_id"], 16), int(c["span_id"], 16), is_remote=False,
                     trace_flags=TraceFlags(c["flags"] & 1))
    ctx = trace.set_span_in_context(NonRecordingSpan(sc))
    for k, v in c["baggage"].items():
        ctx = baggage.set_baggage(k, v, ctx)
    carrier = {}
    otel_propagator(fmt).inject(carrier, context=ctx)
    return carrier


def otel_extract(fmt, carrier):
    from opentelemetry import baggage, trace
    from opentelemetry.context import Context
    ctx = otel_propagator(fmt).extract(carrier, context=Context())
    sc = trace.get_current_span(ctx).get_span_context()
    if not sc.is_valid:
        return None
    return {"trace_id": "%x" % sc.trace_id, "span_id": "%x" % sc.span_id, "parent_id": "0",
            "flags": int(sc.trace_flags), "baggage": {k: str(v) for k, v in baggage.get_all(ctx).items()}}


def main():
    fmt, op = sys.argv[1], sys.argv[2]
    data = json.load(sys.stdin)
    if fmt == "batch-extract":
        # [[format, carrier], ...] -> [context or null, ...]: one process for a table.
        out = [otel_extract(f, c) for f, c in data]
    elif fmt.startswith("otel-"):
        out = otel_inject(fmt, data) if op == "inject" else otel_extract(fmt, data)
    elif fmt == "w3c":
        out = w3c_inject(data) if op == "inject" else w3c_extract(data)
    else:
        out = jaeger_inject(fmt, data) if op == "inject" else jaeger_extract(fmt, data)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
