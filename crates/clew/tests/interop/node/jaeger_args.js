// Shared by the jaeger-client interop scripts: reads `udp HOST PORT SERVICE`
// or `http URL SERVICE` from the command line and builds a jaeger-client
// tracer (const sampler, flushed every 100 ms) that reports there. A
// jaeger-client error makes the script exit non-zero, so the Rust test
// sees it.
'use strict';
const { initTracer } = require('jaeger-client');

function tracerFromArgs(script, processTags) {
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
    console.error(`usage: ${script} udp HOST PORT SERVICE | http URL SERVICE`);
    process.exit(2);
  }
  const logger = { info() {}, error(msg) { console.error('jaeger-client error:', msg); process.exitCode = 1; } };
  return initTracer(
    { serviceName: service, sampler: { type: 'const', param: 1 }, reporter },
    { tags: processTags, logger },
  );
}

module.exports = { tracerFromArgs };
