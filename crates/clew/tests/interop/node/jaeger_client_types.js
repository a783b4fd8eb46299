// Sends one span with integer, float, boolean and string tags (span tags,
// log fields and process tags) to Clew with the real Node `jaeger-client`.
//
// Usage: node jaeger_client_types.js udp HOST PORT SERVICE
//        node jaeger_client_types.js http URL SERVICE
// JavaScript numbers are all float64, so `jaeger-client` sends every number
// as a DOUBLE tag: Jaeger shows `42` for 42, `1e+21` for 1e21 (Go's JSON),
// and the Rust test checks Clew writes exactly the same text.
// Prints one JSON line: {"traceID": "..."}.
'use strict';
const { tracerFromArgs } = require('./jaeger_args');

const tracer = tracerFromArgs('jaeger_client_types.js', { 'proc.int': 7, 'proc.float': 0.5, 'proc.bool': false, 'proc.str': 'p' });

const span = tracer.startSpan('typed', {
  tags: {
    'str.tag': 'text',
    'int.tag': 42,
    'neg.tag': -7,
    'zero.tag': 0,
    'negzero.tag': -0,
    'float.tag': 2.5,
    'sum.tag': 0.1 + 0.2,
    'big.tag': 1e21,
    'below.big.tag': 1e20,
    'tiny.tag': 1e-7,
    'small.tag': 0.000001,
    'bool.tag': true,
    'false.tag': false,
  },
});
span.log({ event: 'typed', 'log.int': 3, 'log.float': 0.25, 'log.bool': true, 'log.str': 's' });
span.finish();

tracer.close(() => {
  console.log(JSON.stringify({ traceID: span.context().traceIdStr }));
});
