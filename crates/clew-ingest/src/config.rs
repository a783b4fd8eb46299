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
    /// Requested `SO_RCVBUF` for agent UDP sockets, in bytes. The kernel may
    /// grant less (`net.core.rmem_max`); the effective size is logged and
    /// exported as `clew_agent_udp_receive_buffer_bytes`.
    pub udp_recv_buffer_bytes: usize,
    /// Datagrams waiting between a UDP reader thread and its decoder thread.
    /// `agent_decode_threads = 0` decodes on the reader thread instead.
    pub udp_queue_datagrams: usize,
    /// Decoder threads per agent UDP port (0 = decode on the reader thread).
    pub agent_decode_threads: usize,
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
            udp_recv_buffer_bytes: 16 * 1024 * 1024,
            udp_queue_datagrams: 1_000,
            agent_decode_threads: 1,
            http_max_body_bytes: 64 * 1024 * 1024,
            grpc_max_message_bytes: 64 * 1024 * 1024,
            sampling_strategies_file: None,
            default_sampling_probability: 1.0,
            sampling_reload_interval_secs: 5,
        }
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
}
