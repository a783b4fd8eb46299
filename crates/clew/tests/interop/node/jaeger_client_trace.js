// Sends one known trace to Clew with the real Node `jaeger-client`.
//
// Usage: node jaeger_client_trace.js udp HOST PORT SERVICE
//        node jaeger_client_trace.js http URL SERVICE
// Prints one JSON line with the IDs sent, so the Rust test can compare what
// Clew's query API returns field by field.
'use strict';
const { initTracer, opentracing } = require('jaeger-client');

const mode = process.argv[2];
let reporter;
let service;
if (mode === 'udp') {
  reporter = { agentHost: process.argv[3], agentPort: Number(process.argv[4]), flushIntervalMs: 100 };
  service = process.argv[5];
} else if (mode === 'http') {
  reporter = { collectorEndpoint: process.argv[3], flushIntervalMs: 100 };
  service = process.argv[4];
} else {
  console.error('usage: jaeger_client_trace.js udp HOST PORT SERVICE | http URL SERVICE');
  process.exit(2);
}

const logger = { info() {}, error(msg) { console.error('jaeger-client error:', msg); process.exitCode = 1; } };
const tracer = initTracer(
  { serviceName: service, sampler: { type: 'const', param: 1 }, reporter },
  { tags: { deployment: 'interop' }, logger },
);

const root = tracer.startSpan('hello', { tags: { 'str.tag': 'text', 'int.tag': 42, 'bool.tag': true, 'float.tag': 2.5 } });
root.log({ event: 'greeting', who: 'world' });
const child = tracer.startSpan('world', { childOf: root.context() });
child.setTag('span.kind', 'client');
child.log({ event: 'done', count: 3 });
child.finish();
const follower = tracer.startSpan('later', {
  references: [opentracing.followsFrom(root.context())],
});
follower.finish();
root.finish();

const out = {
  traceID: root.context().traceIdStr,
  root: root.context().spanIdStr,
  child: child.context().spanIdStr,
  follower: follower.context().spanIdStr,
};
tracer.close(() => {
  console.log(JSON.stringify(out));
});
