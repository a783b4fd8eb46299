// Sends one known trace to Clew with the real Node `jaeger-client`.
//
// Usage: node jaeger_client_trace.js udp HOST PORT SERVICE
//        node jaeger_client_trace.js http URL SERVICE
// Prints one JSON line with the IDs sent, so the Rust test can compare what
// Clew's query API returns field by field.
'use strict';
const { opentracing } = require('jaeger-client');
const { tracerFromArgs } = require('./jaeger_args');

const tracer = tracerFromArgs('jaeger_client_trace.js', { deployment: 'interop' });

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
