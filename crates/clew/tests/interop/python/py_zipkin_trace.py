"""Sends one known trace to Clew with the real `py_zipkin` library (Zipkin v2 JSON).

Usage: py_zipkin_trace.py URL SERVICE   (URL like http://127.0.0.1:9411/api/v2/spans)
Prints one JSON line with the IDs sent; exits non-zero if a POST fails.
"""
import json
import sys
import urllib.request

from py_zipkin import Encoding
from py_zipkin.zipkin import zipkin_span, ZipkinAttrs
from py_zipkin.transport import BaseTransportHandler

url, service = sys.argv[1], sys.argv[2]


class Http(BaseTransportHandler):
    """POSTs each payload; py_zipkin swallows transport errors, so count them."""

    sent = 0
    failed = []

    def get_max_payload_bytes(self):
        return None

    def send(self, payload):
        body = payload.encode() if isinstance(payload, str) else payload
        req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req) as resp:
                if resp.status != 202:
                    Http.failed.append("status %d" % resp.status)
        except Exception as e:  # noqa: BLE001 - reported below
            Http.failed.append(repr(e))
        Http.sent += 1


with zipkin_span(
    service_name=service,
    span_name="hello",
    transport_handler=Http(),
    sample_rate=100.0,
    encoding=Encoding.V2_JSON,
    binary_annotations={"str.tag": "text"},
) as root:
    root.add_annotation("greeting")
    with zipkin_span(service_name=service, span_name="world", binary_annotations={"db": "redis"}) as child:
        pass
    attrs = root.zipkin_attrs

if Http.failed or not Http.sent:
    sys.exit("zipkin POST failed: %s" % (Http.failed or "nothing sent"))
print(json.dumps({"traceID": attrs.trace_id, "root": attrs.span_id}), flush=True)
