// Sends one known trace to Clew with the real OpenTelemetry JS SDK.
//
// Usage: node otel_sdk_trace.js {otlp-proto|otlp-json} URL SERVICE
// (URL like http://127.0.0.1:4318/v1/traces). Prints one JSON line with the
// IDs sent; exits non-zero when an export fails.
'use strict';
const api = require('@opentelemetry/api');
const { BasicTracerProvider, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { resourceFromAttributes } = require('@opentelemetry/resources');

const [kind, url, service] = process.argv.slice(2);
let Exporter;
if (kind === 'otlp-proto') {
  ({ OTLPTraceExporter: Exporter } = require('@opentelemetry/exporter-trace-otlp-proto'));
} else if (kind === 'otlp-json') {
  ({ OTLPTraceExporter: Exporter } = require('@opentelemetry/exporter-trace-otlp-http'));
} else {
  console.error('usage: otel_sdk_trace.js {otlp-proto|otlp-json} URL SERVICE');
  process.exit(2);
}

const inner = new Exporter({ url });
let failures = 0;
// Wraps the exporter to notice failures, which the SDK only logs.
const exporter = {
  export(spans, done) {
    inner.export(spans, (result) => {
      if (result.code !== 0) failures += 1;
      done(result);
    });
  },
  shutdown() { return inner.shutdown(); },
  forceFlush() { return inner.forceFlush ? inner.forceFlush() : Promise.resolve(); },
};

const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({ 'service.name': service, deployment: 'interop' }),
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
const tracer = provider.getTracer('clew.interop', '1.2.3');

const root = tracer.startSpan('hello', {
  kind: api.SpanKind.SERVER,
  attributes: { 'str.tag': 'text', 'int.tag': 42, 'bool.tag': true, 'float.tag': 2.5, 'list.tag': ['a', 'b'] },
});
root.addEvent('greeting', { who: 'world' });
const rootCtx = api.trace.setSpan(api.context.active(), root);
const child = tracer.startSpan('world', { kind: api.SpanKind.CLIENT }, rootCtx);
child.setStatus({ code: api.SpanStatusCode.ERROR, message: 'boom' });
child.end();
root.end();
const later = tracer.startSpan('later', {
  root: true,
  links: [{ context: root.spanContext(), attributes: { 'link.kind': 'retry' } }],
});
later.end();

provider.shutdown().then(() => {
  if (failures) {
    console.error(`${failures} export(s) failed`);
    process.exit(1);
  }
  console.log(JSON.stringify({
    traceID: root.spanContext().traceId,
    laterTraceID: later.spanContext().traceId,
    root: root.spanContext().spanId,
    child: child.spanContext().spanId,
    later: later.spanContext().spanId,
  }));
});
