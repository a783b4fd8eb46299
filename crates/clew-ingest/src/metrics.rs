//! The ingest path's own metrics: every receive, rejection, drop and write
//! failure is a counter, and the queue's fill level is a gauge, so nothing is
//! lost silently.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::source::{Format, Source, Transport};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabels {
    transport: Transport,
    format: Format,
}

impl From<Source> for SourceLabels {
    fn from(s: Source) -> Self {
        SourceLabels {
            transport: s.transport,
            format: s.format,
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RejectLabels {
    transport: Transport,
    format: Format,
    reason: &'static str,
}

/// An agent UDP listener: its name (as in `--agent-compact-port`) and the
/// port it is really bound to (which differs from the conventional number
/// when the user moved it, or bound port 0).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PortLabels {
    listener: &'static str,
    port: u64,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PortReasonLabels {
    listener: &'static str,
    port: u64,
    reason: &'static str,
}

/// The listener name of an agent port, from its conventional number.
fn listener_name(conventional: &'static str) -> &'static str {
    match conventional {
        "5775" => "agent-zipkin-compact",
        "6831" => "agent-compact",
        "6832" => "agent-binary",
        other => other,
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FieldLabels {
    field: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GrpcLabels {
    service: &'static str,
    code: i32,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    api: &'static str,
    status: u64,
}

/// All ingest metrics, registered once and shared by every listener.
#[derive(Debug, Default)]
pub struct IngestMetrics {
    spans_received: Family<SourceLabels, Counter>,
    spans_rejected: Family<RejectLabels, Counter>,
    spans_dropped: Family<SourceLabels, Counter>,
    batches_received: Family<SourceLabels, Counter>,
    bytes_received: Family<SourceLabels, Counter>,
    spans_written: Counter,
    write_failed_spans: Counter,
    writer_errors: Counter,
    queue_spans: Gauge,
    queue_capacity_spans: Gauge,
    datagrams_received: Family<PortLabels, Counter>,
    datagrams_rejected: Family<PortReasonLabels, Counter>,
    datagrams_dropped: Family<PortLabels, Counter>,
    udp_recv_buffer: Family<PortLabels, Gauge>,
    http_requests: Family<HttpLabels, Counter>,
    grpc_requests: Family<GrpcLabels, Counter>,
    inflight_bytes: Gauge,
    inflight_capacity: Gauge,
    memory_refused: Family<ReasonLabels, Counter>,
    fields_truncated: Family<FieldLabels, Counter>,
    fields_repaired: Family<FieldLabels, Counter>,
    /// Agent listener (by conventional port) → the port it is bound to.
    agent_ports: parking_lot::RwLock<Vec<(&'static str, u64)>>,
}

impl IngestMetrics {
    /// Creates the metrics and registers them. Names carry no prefix: the
    /// binary registers into `Registry::with_prefix("clew")`, so they appear
    /// as `clew_spans_dropped_total` and so on.
    pub fn new(registry: &mut Registry) -> Self {
        let m = IngestMetrics::default();
        let r = registry;
        r.register(
            "spans_received",
            "Spans decoded from clients, before validation",
            m.spans_received.clone(),
        );
        r.register(
            "spans_rejected",
            "Spans refused by validation, by reason",
            m.spans_rejected.clone(),
        );
        r.register(
            "spans_dropped",
            "Valid spans dropped because the ingest queue was full or shutting down",
            m.spans_dropped.clone(),
        );
        r.register(
            "batches_received",
            "Batches (datagrams, request bodies) that decoded",
            m.batches_received.clone(),
        );
        r.register(
            "received_bytes",
            "Payload bytes received",
            m.bytes_received.clone(),
        );
        r.register(
            "spans_written",
            "Spans the store accepted",
            m.spans_written.clone(),
        );
        r.register(
            "spans_write_failed",
            "Spans lost because the store returned an error",
            m.write_failed_spans.clone(),
        );
        r.register(
            "writer_errors",
            "Failed write_spans calls",
            m.writer_errors.clone(),
        );
        r.register(
            "ingest_queue_spans",
            "Spans waiting in the ingest queue",
            m.queue_spans.clone(),
        );
        r.register(
            "ingest_queue_capacity_spans",
            "Capacity of the ingest queue in spans",
            m.queue_capacity_spans.clone(),
        );
        r.register(
            "ingest_memory_inflight_bytes",
            "Bytes reserved in the in-flight budget (bodies, decoded batches, the queue)",
            m.inflight_bytes.clone(),
        );
        r.register(
            "ingest_memory_capacity_bytes",
            "Size of the in-flight budget (inflight_max_bytes)",
            m.inflight_capacity.clone(),
        );
        r.register(
            "ingest_memory_refused",
            "Requests refused by the in-flight budget: exhausted (retry later), too_large or too_many_spans (never fits)",
            m.memory_refused.clone(),
        );
        r.register(
            "span_fields_repaired",
            "Span strings that were not UTF-8, kept with U+FFFD in place of the bad bytes (the span says so in a warning)",
            m.fields_repaired.clone(),
        );
        r.register(
            "span_fields_truncated",
            "Span fields cut to the configured size limits, by field",
            m.fields_truncated.clone(),
        );
        r.register(
            "agent_datagrams",
            "UDP datagrams received by the agent listeners",
            m.datagrams_received.clone(),
        );
        r.register(
            "agent_datagrams_rejected",
            "UDP datagrams that could not be used, by reason",
            m.datagrams_rejected.clone(),
        );
        r.register(
            "agent_datagrams_dropped",
            "UDP datagrams dropped because the decoder fell behind",
            m.datagrams_dropped.clone(),
        );
        r.register(
            "agent_udp_receive_buffer_bytes",
            "Effective SO_RCVBUF of each agent UDP socket",
            m.udp_recv_buffer.clone(),
        );
        r.register(
            "ingest_http_requests",
            "Collector and sampling HTTP requests, by status",
            m.http_requests.clone(),
        );
        r.register(
            "ingest_grpc_requests",
            "Ingest gRPC calls (OTLP, Jaeger collector and sampling), by status code",
            m.grpc_requests.clone(),
        );
        m
    }

    /// Metrics not attached to any registry (tests, tools).
    pub fn unregistered() -> Self {
        IngestMetrics::default()
    }

    /// The gauge the in-flight budget keeps current.
    pub(crate) fn inflight_gauge(&self, capacity: usize) -> Gauge {
        self.inflight_capacity.set(capacity as i64);
        self.inflight_bytes.clone()
    }

    pub(crate) fn record_memory_refused(&self, e: clew_model::BudgetError) {
        let reason = match e {
            clew_model::BudgetError::Exhausted => "exhausted",
            clew_model::BudgetError::TooLarge { .. } => "too_large",
            clew_model::BudgetError::TooManySpans { .. } => "too_many_spans",
        };
        self.memory_refused
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    /// Refusals by the in-flight budget for `reason` (tests).
    pub fn memory_refused(&self, reason: &'static str) -> u64 {
        self.memory_refused
            .get_or_create(&ReasonLabels { reason })
            .get()
    }

    /// Counts strings a decoder repaired (invalid UTF-8 → U+FFFD) under
    /// `clew_span_fields_repaired_total{field="utf8"}`.
    pub(crate) fn record_repaired(&self, n: usize) {
        if n > 0 {
            self.fields_repaired
                .get_or_create(&FieldLabels { field: "utf8" })
                .inc_by(n as u64);
        }
    }

    pub(crate) fn record_truncated(&self, field: &'static str) {
        self.fields_truncated
            .get_or_create(&FieldLabels { field })
            .inc();
    }

    /// Strings repaired from invalid UTF-8 (tests).
    pub fn fields_repaired(&self) -> u64 {
        self.fields_repaired
            .get_or_create(&FieldLabels { field: "utf8" })
            .get()
    }

    /// Fields truncated, for `field` (tests).
    pub fn fields_truncated(&self, field: &'static str) -> u64 {
        self.fields_truncated
            .get_or_create(&FieldLabels { field })
            .get()
    }

    pub(crate) fn record_batch(&self, source: Source, spans: usize) {
        self.batches_received.get_or_create(&source.into()).inc();
        self.spans_received
            .get_or_create(&source.into())
            .inc_by(spans as u64);
    }

    /// Adds received payload bytes (listeners call this per datagram or body).
    pub fn record_bytes(&self, source: Source, bytes: usize) {
        self.bytes_received
            .get_or_create(&source.into())
            .inc_by(bytes as u64);
    }

    pub(crate) fn record_rejected(&self, source: Source, reason: &'static str) {
        let labels = RejectLabels {
            transport: source.transport,
            format: source.format,
            reason,
        };
        self.spans_rejected.get_or_create(&labels).inc();
    }

    /// Counts `n` spans a codec refused before they reached the pipeline:
    /// they were received (`spans_received`) and rejected for `reason`.
    pub(crate) fn record_refused(&self, source: Source, reason: &'static str, n: u64) {
        self.spans_received.get_or_create(&source.into()).inc_by(n);
        let labels = RejectLabels {
            transport: source.transport,
            format: source.format,
            reason,
        };
        self.spans_rejected.get_or_create(&labels).inc_by(n);
    }

    pub(crate) fn record_dropped(&self, source: Source, spans: usize) {
        self.spans_dropped
            .get_or_create(&source.into())
            .inc_by(spans as u64);
    }

    pub(crate) fn record_written(&self, spans: usize) {
        self.spans_written.inc_by(spans as u64);
    }

    pub(crate) fn record_write_error(&self, spans: usize) {
        self.writer_errors.inc();
        self.write_failed_spans.inc_by(spans as u64);
    }

    pub(crate) fn set_queue(&self, spans: usize) {
        self.queue_spans.set(spans as i64);
    }

    pub(crate) fn set_queue_capacity(&self, spans: usize) {
        self.queue_capacity_spans.set(spans as i64);
    }

    /// Records the port an agent listener is really bound to, so its
    /// metrics carry it (call before its first datagram).
    pub(crate) fn set_agent_port(&self, conventional: &'static str, bound: u16) {
        let mut ports = self.agent_ports.write();
        ports.retain(|(k, _)| *k != conventional);
        ports.push((conventional, u64::from(bound)));
    }

    fn port_labels(&self, conventional: &'static str) -> PortLabels {
        let port = self
            .agent_ports
            .read()
            .iter()
            .find(|(k, _)| *k == conventional)
            .map_or_else(|| conventional.parse().unwrap_or(0), |(_, p)| *p);
        PortLabels {
            listener: listener_name(conventional),
            port,
        }
    }

    fn port_reason_labels(
        &self,
        conventional: &'static str,
        reason: &'static str,
    ) -> PortReasonLabels {
        let PortLabels { listener, port } = self.port_labels(conventional);
        PortReasonLabels {
            listener,
            port,
            reason,
        }
    }

    pub(crate) fn record_datagram(&self, port: &'static str) {
        self.datagrams_received
            .get_or_create(&self.port_labels(port))
            .inc();
    }

    pub(crate) fn record_datagram_rejected(&self, port: &'static str, reason: &'static str) {
        self.datagrams_rejected
            .get_or_create(&self.port_reason_labels(port, reason))
            .inc();
    }

    pub(crate) fn record_datagram_dropped(&self, port: &'static str) {
        self.datagrams_dropped
            .get_or_create(&self.port_labels(port))
            .inc();
    }

    pub(crate) fn set_udp_recv_buffer(&self, port: &'static str, bytes: usize) {
        self.udp_recv_buffer
            .get_or_create(&self.port_labels(port))
            .set(bytes as i64);
    }

    pub(crate) fn record_http(&self, api: &'static str, status: u16) {
        self.http_requests
            .get_or_create(&HttpLabels {
                api,
                status: u64::from(status),
            })
            .inc();
    }

    pub(crate) fn record_grpc(&self, service: &'static str, code: tonic::Code) {
        self.grpc_requests
            .get_or_create(&GrpcLabels {
                service,
                code: code as i32,
            })
            .inc();
    }

    /// Spans decoded from `source` so far.
    pub fn spans_received(&self, source: Source) -> u64 {
        self.spans_received.get_or_create(&source.into()).get()
    }

    /// Spans from `source` rejected for `reason` so far.
    pub fn spans_rejected(&self, source: Source, reason: &'static str) -> u64 {
        let labels = RejectLabels {
            transport: source.transport,
            format: source.format,
            reason,
        };
        self.spans_rejected.get_or_create(&labels).get()
    }

    /// Spans from `source` dropped (queue full or shutting down) so far.
    pub fn spans_dropped(&self, source: Source) -> u64 {
        self.spans_dropped.get_or_create(&source.into()).get()
    }

    /// Spans the store accepted so far.
    pub fn spans_written(&self) -> u64 {
        self.spans_written.get()
    }

    /// Failed `write_spans` calls so far.
    pub fn writer_errors(&self) -> u64 {
        self.writer_errors.get()
    }

    /// Spans currently queued.
    pub fn queue_spans(&self) -> i64 {
        self.queue_spans.get()
    }

    /// Datagrams received on an agent port (`"5775"`, `"6831"`, `"6832"`).
    pub fn datagrams_received(&self, port: &'static str) -> u64 {
        self.datagrams_received
            .get_or_create(&self.port_labels(port))
            .get()
    }

    /// Datagrams rejected on an agent port for `reason`.
    pub fn datagrams_rejected(&self, port: &'static str, reason: &'static str) -> u64 {
        self.datagrams_rejected
            .get_or_create(&self.port_reason_labels(port, reason))
            .get()
    }

    /// Datagrams dropped on an agent port because decoding fell behind.
    pub fn datagrams_dropped(&self, port: &'static str) -> u64 {
        self.datagrams_dropped
            .get_or_create(&self.port_labels(port))
            .get()
    }

    /// Effective `SO_RCVBUF` of an agent port's socket, as the kernel reports it.
    pub fn udp_recv_buffer_bytes(&self, port: &'static str) -> i64 {
        self.udp_recv_buffer
            .get_or_create(&self.port_labels(port))
            .get()
    }

    /// gRPC calls to `service` (`"otlp"`, `"jaeger-collector"`,
    /// `"jaeger-sampling"`) answered with `code`.
    pub fn grpc_requests(&self, service: &'static str, code: tonic::Code) -> u64 {
        self.grpc_requests
            .get_or_create(&GrpcLabels {
                service,
                code: code as i32,
            })
            .get()
    }

    /// HTTP requests answered by `api` (`"collector"`, `"sampling"`) with `status`.
    pub fn http_requests(&self, api: &'static str, status: u16) -> u64 {
        self.http_requests
            .get_or_create(&HttpLabels {
                api,
                status: u64::from(status),
            })
            .get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Format, Source, Transport};

    #[test]
    fn names_under_the_clew_prefix() {
        let mut registry = Registry::with_prefix("clew");
        let m = IngestMetrics::new(&mut registry);
        let src = Source::new(Transport::Udp, Format::JaegerThriftCompact);
        m.record_dropped(src, 3);
        m.set_agent_port("6831", 40123);
        m.record_datagram_rejected("6831", "bad_envelope");
        m.set_queue_capacity(10);
        m.record_http("collector", 202);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).expect("encode");
        for line in [
            r#"clew_spans_dropped_total{transport="udp",format="jaeger-thrift-compact"} 3"#,
            // The real bound port, not the conventional 6831 (issue 7).
            r#"clew_agent_datagrams_rejected_total{listener="agent-compact",port="40123",reason="bad_envelope"} 1"#,
            "clew_ingest_queue_capacity_spans 10",
            r#"clew_ingest_http_requests_total{api="collector",status="202"} 1"#,
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }
}
