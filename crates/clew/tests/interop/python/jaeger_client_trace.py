"""Sends one known trace to Clew with the real Python `jaeger-client`.

Usage: jaeger_client_trace.py HOST PORT SERVICE

Prints one JSON line describing what was sent (trace ID, span IDs, every tag,
log and reference) so the Rust test can compare it field by field with what
Clew's query API returns. Exits non-zero if the tracer fails to flush.
"""
import json
import sys
import time

from jaeger_client import Config
from opentracing import follows_from, child_of

host, port, service = sys.argv[1], int(sys.argv[2]), sys.argv[3]

config = Config(
    config={
        "sampler": {"type": "const", "param": 1},
        "local_agent": {"reporting_host": host, "reporting_port": port},
        "reporter_flush_interval": 0.1,
        "logging": False,
        "tags": {"deployment": "interop"},
    },
    service_name=service,
    validate=True,
)
tracer = config.new_tracer()

root = tracer.start_span("hello", tags={"str.tag": "text", "int.tag": 42, "bool.tag": True, "float.tag": 2.5})
root.log_kv({"event": "greeting", "who": "world"})
child = tracer.start_span("world", references=child_of(root.context))
child.set_tag("span.kind", "client")
child.log_kv({"event": "done", "count": 3})
child.finish()
follower = tracer.start_span("later", references=follows_from(root.context))
follower.finish()
root.finish()

def hexid(v):
    return "%016x" % v

out = {
    "traceID": "%016x" % root.context.trace_id if root.context.trace_id < (1 << 64) else "%032x" % root.context.trace_id,
    "root": hexid(root.context.span_id),
    "child": hexid(child.context.span_id),
    "follower": hexid(follower.context.span_id),
}

# close() flushes the reporter on the tracer's IO loop and returns a future
# owned by that loop; poll its state from here (reading done() is safe across
# threads, adding callbacks is not).
fut = tracer.close()
deadline = time.time() + 10
while not fut.done():
    if time.time() > deadline:
        print("tracer did not flush within 10 s", file=sys.stderr)
        sys.exit(1)
    time.sleep(0.01)
print(json.dumps(out), flush=True)
