//! Ingest settings, as data: the binary maps its config file, flags and
//! environment onto [`IngestConfig`]; defaults live here and only here.

use std::path::PathBuf;

use serde::Deserialize;

/// Settings for the pipeline, the listeners and the sampling endpoints.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    /// Spans the queue between listeners and the store may hold; batches that
    /// would exceed it are dropped and counted. This bounds ingest memory.
    pub queue_max_spans: usize,
    /// Most spans handed to one `TraceWriter::write_spans` call.
    pub writer_batch_spans: usize,
    /// `write_spans` calls in flight at once. More than one lets a store
    /// prepare one batch while it commits another (the memory store copies
    /// outside its lock; the disk store's write-ahead log shares one fsync
    /// among the writes waiting for it).
    pub writer_concurrency: usize,
    /// Requested `SO_RCVBUF` for agent UDP sockets, in bytes. The kernel may
    /// grant less (`net.core.rmem_max`); the effective size is logged and
    /// exported as `clew_agent_udp_receive_buffer_bytes`.
    pub udp_recv_buffer_bytes: usize,
    /// Datagrams waiting between a UDP reader thread and its decoder thread.
    /// `agent_decode_threads = 0` decodes on the reader thread instead.
    pub udp_queue_datagrams: usize,
    /// Decoder threads per agent UDP port (0 = decode on the reader thread).
    pub agent_decode_threads: usize,
    /// Bytes ingest may hold at once on behalf of clients: request bodies
    /// being read or decompressed, what they decode into, and decoded batches
    /// until the store has written them. Requests that would go over wait
    /// for 503 + `Retry-After` / `RESOURCE_EXHAUSTED`. This bounds ingest memory.
    pub inflight_max_bytes: usize,
    /// Most spans one request (HTTP body, gRPC message, datagram) may carry;
    /// more → 413 / `INVALID_ARGUMENT` (never retryable).
    pub max_spans_per_request: usize,
    /// Most bytes one request may decode into (spans, tags, logs…); more →
    /// 413 / `INVALID_ARGUMENT`. Guards against small bodies that declare
    /// millions of empty elements.
    pub max_request_decoded_bytes: usize,
    /// Longest service name kept, in bytes; longer ones are truncated.
    pub max_service_name_bytes: usize,
    /// Longest operation name kept, in bytes; longer ones are truncated.
    pub max_operation_name_bytes: usize,
    /// Longest tag, attribute or log-field key kept, in bytes.
    pub max_tag_key_bytes: usize,
    /// Longest string or binary tag value kept, in bytes.
    pub max_tag_value_bytes: usize,
    /// Most tags kept per span (and per process, per log, per link).
    pub max_tags_per_span: usize,
    /// Most logs (events) kept per span.
    pub max_logs_per_span: usize,
    /// Most elements kept in one array or map value.
    pub max_array_elements: usize,
    /// Largest accepted HTTP body (collector, OTLP, Zipkin), compressed and
    /// again after decompression; bigger ones get 413.
    pub http_max_body_bytes: usize,
    /// Largest accepted gRPC message (OTLP, Jaeger), compressed and again
    /// after decompression; bigger ones get `RESOURCE_EXHAUSTED`.
    pub grpc_max_message_bytes: usize,
    /// Jaeger sampling strategies file (JSON); none = probabilistic
    /// `default_sampling_probability` for every service.
    pub sampling_strategies_file: Option<PathBuf>,
    /// Probability served when there is no file, no default strategy in it,
    /// or an unknown strategy type. 1.0 so a development setup shows every trace.
    pub default_sampling_probability: f64,
    /// How often the strategies file's modification time is checked.
    pub sampling_reload_interval_secs: u64,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            queue_max_spans: 200_000,
            writer_batch_spans: 2_000,
            writer_concurrency: 3,
            udp_recv_buffer_bytes: 16 * 1024 * 1024,
            udp_queue_datagrams: 1_000,
            agent_decode_threads: 1,
            inflight_max_bytes: 256 * 1024 * 1024,
            max_spans_per_request: 50_000,
            max_request_decoded_bytes: 128 * 1024 * 1024,
            max_service_name_bytes: 1024,
            max_operation_name_bytes: 4096,
            max_tag_key_bytes: 1024,
            max_tag_value_bytes: 64 * 1024,
            max_tags_per_span: 1024,
            max_logs_per_span: 1024,
            max_array_elements: 1024,
            http_max_body_bytes: 16 * 1024 * 1024,
            // Jaeger's collector and the OpenTelemetry Collector default to 4 MiB;
            // tonic buffers a whole message before the budget sees it.
            grpc_max_message_bytes: 4 * 1024 * 1024,
            sampling_strategies_file: None,
            default_sampling_probability: 1.0,
            sampling_reload_interval_secs: 5,
        }
    }
}

/// The per-field size limits applied to every span before it is queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldLimits {
    /// See [`IngestConfig::max_service_name_bytes`].
    pub service_name_bytes: usize,
    /// See [`IngestConfig::max_operation_name_bytes`].
    pub operation_name_bytes: usize,
    /// See [`IngestConfig::max_tag_key_bytes`].
    pub tag_key_bytes: usize,
    /// See [`IngestConfig::max_tag_value_bytes`].
    pub tag_value_bytes: usize,
    /// See [`IngestConfig::max_tags_per_span`].
    pub tags: usize,
    /// See [`IngestConfig::max_logs_per_span`].
    pub logs: usize,
    /// See [`IngestConfig::max_array_elements`].
    pub array_elements: usize,
}

impl IngestConfig {
    /// The per-field limits, gathered.
    pub fn field_limits(&self) -> FieldLimits {
        FieldLimits {
            service_name_bytes: self.max_service_name_bytes,
            operation_name_bytes: self.max_operation_name_bytes,
            tag_key_bytes: self.max_tag_key_bytes,
            tag_value_bytes: self.max_tag_value_bytes,
            tags: self.max_tags_per_span,
            logs: self.max_logs_per_span,
            array_elements: self.max_array_elements,
        }
    }

    /// The first setting whose value makes no sense (a zero limit), as
    /// `(key, why)` with the key as the config file spells it
    /// (`ingest.inflight_max_bytes`), for a one-line configuration error.
    pub fn invalid_setting(&self) -> Option<(&'static str, &'static str)> {
        let must_be_positive = [
            ("ingest.queue_max_spans", self.queue_max_spans),
            ("ingest.writer_batch_spans", self.writer_batch_spans),
            ("ingest.writer_concurrency", self.writer_concurrency),
            ("ingest.inflight_max_bytes", self.inflight_max_bytes),
            ("ingest.max_spans_per_request", self.max_spans_per_request),
            (
                "ingest.max_request_decoded_bytes",
                self.max_request_decoded_bytes,
            ),
            ("ingest.max_service_name_bytes", self.max_service_name_bytes),
            (
                "ingest.max_operation_name_bytes",
                self.max_operation_name_bytes,
            ),
            ("ingest.max_tag_key_bytes", self.max_tag_key_bytes),
            ("ingest.max_tag_value_bytes", self.max_tag_value_bytes),
            ("ingest.max_tags_per_span", self.max_tags_per_span),
            ("ingest.max_logs_per_span", self.max_logs_per_span),
            ("ingest.max_array_elements", self.max_array_elements),
            ("ingest.http_max_body_bytes", self.http_max_body_bytes),
            ("ingest.grpc_max_message_bytes", self.grpc_max_message_bytes),
        ];
        must_be_positive
            .into_iter()
            .find(|(_, v)| *v == 0)
            .map(|(k, _)| (k, "must be greater than 0"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_config_keeps_other_defaults() {
        let cfg: IngestConfig =
            serde_json::from_str(r#"{"queue_max_spans": 10}"#).expect("valid config");
        assert_eq!(cfg.queue_max_spans, 10);
        assert_eq!(
            cfg.writer_batch_spans,
            IngestConfig::default().writer_batch_spans
        );
        assert!(serde_json::from_str::<IngestConfig>(r#"{"nope": 1}"#).is_err());
    }

    #[test]
    fn zero_limits_are_named() {
        assert_eq!(IngestConfig::default().invalid_setting(), None);
        let cfg = IngestConfig {
            inflight_max_bytes: 0,
            ..IngestConfig::default()
        };
        assert_eq!(
            cfg.invalid_setting(),
            Some(("ingest.inflight_max_bytes", "must be greater than 0"))
        );
    }
}
