//! Command-line flags. Every flag also reads a `CLEW_*` environment
//! variable; both override the config file, which overrides the defaults.

use std::path::PathBuf;

use clap::Parser;

use crate::config::{Config, ConfigError};

/// Clew: a distributed tracing backend in one binary.
///
/// With no arguments, runs all-in-one: Jaeger agent (UDP 6831, 6832, 5775),
/// sampling (5778), Jaeger collector (HTTP 14268, gRPC 14250), OTLP (gRPC
/// 4317, HTTP 4318), Zipkin (9411), query (HTTP 16686, gRPC 16685) and
/// admin (14269), keeping spans in the embedded, crash-safe store in
/// ./clew-data (`--store memory` keeps them in a bounded in-memory store).
#[derive(Debug, Parser)]
#[command(name = "clew", version, about, long_about)]
pub struct Cli {
    /// TOML config file (see docs/configuration.md); flags and env override it.
    #[arg(long, env = "CLEW_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Address all listeners bind; use 0.0.0.0 to accept remote clients.
    #[arg(long, env = "CLEW_LISTEN_HOST", value_name = "ADDR")]
    pub listen_host: Option<String>,

    /// Query HTTP port (Jaeger API and UI) [default: 16686].
    #[arg(long, env = "CLEW_QUERY_HTTP_PORT", value_name = "PORT")]
    pub query_http_port: Option<u16>,

    /// Admin HTTP port (health `/`, Prometheus `/metrics`) [default: 14269].
    #[arg(long, env = "CLEW_ADMIN_HTTP_PORT", value_name = "PORT")]
    pub admin_http_port: Option<u16>,

    /// Jaeger collector HTTP port (`POST /api/traces`) [default: 14268].
    #[arg(long, env = "CLEW_COLLECTOR_HTTP_PORT", value_name = "PORT")]
    pub collector_http_port: Option<u16>,

    /// Agent UDP port, thrift compact `emitBatch` [default: 6831].
    #[arg(long, env = "CLEW_AGENT_COMPACT_PORT", value_name = "PORT")]
    pub agent_compact_port: Option<u16>,

    /// Agent UDP port, thrift binary `emitBatch` [default: 6832].
    #[arg(long, env = "CLEW_AGENT_BINARY_PORT", value_name = "PORT")]
    pub agent_binary_port: Option<u16>,

    /// Legacy agent UDP port, thrift compact `emitZipkinBatch`/`emitBatch` [default: 5775].
    #[arg(long, env = "CLEW_AGENT_ZIPKIN_COMPACT_PORT", value_name = "PORT")]
    pub agent_zipkin_compact_port: Option<u16>,

    /// Sampling strategies HTTP port (`/sampling?service=`) [default: 5778].
    #[arg(long, env = "CLEW_SAMPLING_HTTP_PORT", value_name = "PORT")]
    pub sampling_http_port: Option<u16>,

    /// Query gRPC port (Jaeger api_v2 and api_v3 QueryService) [default: 16685].
    #[arg(long, env = "CLEW_QUERY_GRPC_PORT", value_name = "PORT")]
    pub query_grpc_port: Option<u16>,

    /// Zipkin HTTP port (span ingest and read API) [default: 9411].
    #[arg(long, env = "CLEW_ZIPKIN_HTTP_PORT", value_name = "PORT")]
    pub zipkin_http_port: Option<u16>,

    /// Jaeger collector gRPC port (`PostSpans`, sampling) [default: 14250].
    #[arg(long, env = "CLEW_COLLECTOR_GRPC_PORT", value_name = "PORT")]
    pub collector_grpc_port: Option<u16>,

    /// OTLP gRPC port [default: 4317].
    #[arg(long, env = "CLEW_OTLP_GRPC_PORT", value_name = "PORT")]
    pub otlp_grpc_port: Option<u16>,

    /// OTLP HTTP port (`POST /v1/traces`) [default: 4318].
    #[arg(long, env = "CLEW_OTLP_HTTP_PORT", value_name = "PORT")]
    pub otlp_http_port: Option<u16>,

    /// Serve the query API and web UI under this path prefix (Jaeger's `--query.base-path`, e.g. `/jaeger`).
    #[arg(long, env = "CLEW_QUERY_BASE_PATH", value_name = "PATH")]
    pub query_base_path: Option<String>,

    /// Jaeger sampling strategies JSON file (reloaded when it changes).
    #[arg(long, env = "CLEW_SAMPLING_STRATEGIES_FILE", value_name = "FILE")]
    pub sampling_strategies_file: Option<PathBuf>,

    /// Span store: `disk` (embedded, crash-safe, in --data-dir) or `memory` [default: disk].
    #[arg(long = "store", env = "CLEW_STORE", value_name = "BACKEND")]
    pub store_backend: Option<String>,

    /// Disk store: data directory for the write-ahead log and blocks [default: ./clew-data].
    #[arg(long, env = "CLEW_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Memory store: maximum spans kept; oldest traces are evicted first [default: 2000000].
    #[arg(long, env = "CLEW_MEMORY_MAX_SPANS", value_name = "N")]
    pub memory_max_spans: Option<usize>,

    /// Memory store: maximum bytes the stored spans and their index hold [default: 1073741824].
    #[arg(long, env = "CLEW_MEMORY_MAX_BYTES", value_name = "BYTES")]
    pub memory_max_bytes: Option<usize>,

    /// Spans allowed to wait for the store; beyond, batches are dropped and counted [default: 200000].
    #[arg(long, env = "CLEW_QUEUE_MAX_SPANS", value_name = "N")]
    pub queue_max_spans: Option<usize>,

    /// Largest HTTP request body (collector, OTLP, Zipkin), compressed and
    /// after decompression; a bigger declared `Content-Length` gets 413
    /// before the body is read [default: 16777216].
    #[arg(long, env = "CLEW_HTTP_MAX_BODY_BYTES", value_name = "BYTES")]
    pub http_max_body_bytes: Option<usize>,

    /// Largest gRPC message (OTLP, Jaeger), compressed and after
    /// decompression [default: 4194304].
    #[arg(long, env = "CLEW_GRPC_MAX_MESSAGE_BYTES", value_name = "BYTES")]
    pub grpc_max_message_bytes: Option<usize>,

    /// Bytes ingest may hold for clients at once: bodies being read or
    /// inflated, what they decode into, and queued batches until written.
    /// Beyond it requests get 503 + Retry-After / RESOURCE_EXHAUSTED [default: 268435456].
    #[arg(long, env = "CLEW_INFLIGHT_MAX_BYTES", value_name = "BYTES")]
    pub inflight_max_bytes: Option<usize>,

    /// Most spans one request or datagram may carry; more gets 413 /
    /// INVALID_ARGUMENT, which clients do not retry [default: 50000].
    #[arg(long, env = "CLEW_MAX_SPANS_PER_REQUEST", value_name = "N")]
    pub max_spans_per_request: Option<usize>,

    /// Open TCP connections of all listeners together; beyond, new ones are
    /// closed at once and counted (admin and query keep --reserved-connections
    /// of their own). Lowered at start to fit the file descriptor limit [default: 4096].
    #[arg(long, env = "CLEW_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<usize>,

    /// Open TCP connections of any one listener [default: 1024].
    #[arg(long, env = "CLEW_MAX_CONNECTIONS_PER_LISTENER", value_name = "N")]
    pub max_connections_per_listener: Option<usize>,

    /// Connections admin HTTP, query HTTP and query gRPC may each open beyond
    /// --max-connections, so health and the UI answer during a flood [default: 64].
    #[arg(long, env = "CLEW_RESERVED_CONNECTIONS", value_name = "N")]
    pub reserved_connections: Option<usize>,

    /// HTTP: seconds to receive a request's headers, counted from when the
    /// connection waits for a request (also ends silent keep-alive connections) [default: 10].
    #[arg(long, env = "CLEW_HEADER_READ_TIMEOUT_SECS", value_name = "SECS")]
    pub header_read_timeout_secs: Option<u64>,

    /// Seconds a connection (HTTP or gRPC) may move no byte before it is closed [default: 60].
    #[arg(long, env = "CLEW_IDLE_TIMEOUT_SECS", value_name = "SECS")]
    pub idle_timeout_secs: Option<u64>,

    /// HTTP: seconds for a request body to arrive in full; gRPC: seconds per call [default: 30].
    #[arg(long, env = "CLEW_REQUEST_BODY_TIMEOUT_SECS", value_name = "SECS")]
    pub request_body_timeout_secs: Option<u64>,

    /// gRPC: concurrent calls (HTTP/2 streams) per connection [default: 100].
    #[arg(long, env = "CLEW_GRPC_MAX_CONCURRENT_STREAMS", value_name = "N")]
    pub grpc_max_concurrent_streams: Option<u32>,

    /// gRPC: largest header list (metadata) a client may send [default: 16384].
    #[arg(long, env = "CLEW_GRPC_MAX_HEADER_LIST_BYTES", value_name = "BYTES")]
    pub grpc_max_header_list_bytes: Option<u32>,

    /// Most traces one search returns; a larger `limit`, or `limit=0`, is lowered
    /// to this and the response says so (Jaeger's default when absent stays 100) [default: 1500].
    #[arg(long, env = "CLEW_QUERY_MAX_TRACES", value_name = "N")]
    pub query_max_traces: Option<usize>,

    /// Time budget of one query; a store that has not answered by then gives
    /// 503, a slow render returns the traces done so far with a warning [default: 10].
    #[arg(long, env = "CLEW_QUERY_TIMEOUT_SECS", value_name = "SECS")]
    pub query_timeout_secs: Option<u64>,

    /// Most bytes of trace data in one query response; later traces are left
    /// out with a warning [default: 67108864].
    #[arg(long, env = "CLEW_QUERY_MAX_RESPONSE_BYTES", value_name = "BYTES")]
    pub query_max_response_bytes: Option<usize>,

    /// Nice value (0-19) of the query APIs' own threads: searches yield the
    /// CPU to ingest on a busy machine; 0 runs them at ingest's priority [default: 5].
    #[arg(long, env = "CLEW_QUERY_CPU_NICE", value_name = "NICE",
          value_parser = clap::value_parser!(u8).range(0..=19))]
    pub query_cpu_nice: Option<u8>,

    /// Percent (1-100) of the machine's CPU searches may use while ingest
    /// keeps 60% of the cores busy; beyond it they wait. 100 turns this off [default: 3].
    #[arg(long, env = "CLEW_QUERY_BUSY_CPU_PERCENT", value_name = "PERCENT",
          value_parser = clap::value_parser!(u8).range(1..=100))]
    pub query_busy_cpu_percent: Option<u8>,

    /// Log filter in RUST_LOG syntax, e.g. `info` or `clew_ingest=debug,info`
    /// [default: info]. Precedence: this flag (or CLEW_LOG_LEVEL), then RUST_LOG,
    /// then `log_level` in the config file. A malformed filter (or a bare word
    /// that is not a level) is an error, exit status 2.
    #[arg(long, env = "CLEW_LOG_LEVEL", value_name = "FILTER")]
    pub log_level: Option<String>,

    /// Once every listener is bound, write their addresses here as JSON
    /// (`{"query_http": "127.0.0.1:16686", …}`); useful with port 0.
    #[arg(long, env = "CLEW_READY_FILE", value_name = "FILE")]
    pub ready_file: Option<PathBuf>,

    /// A tool instead of the server.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Tools run instead of the server.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Inspect or verify a data directory of the embedded store.
    #[command(subcommand)]
    Storage(crate::storage::StorageCommand),
}

impl Cli {
    /// Defaults, then the config file, then flags/env.
    pub fn resolve(&self) -> Result<Config, ConfigError> {
        self.resolve_with_rust_log(std::env::var("RUST_LOG").ok())
    }

    /// [`Cli::resolve`] with `RUST_LOG`'s value given, for tests.
    pub fn resolve_with_rust_log(&self, rust_log: Option<String>) -> Result<Config, ConfigError> {
        let mut cfg = match &self.config {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        let set = |dst: &mut u16, v: Option<u16>| {
            if let Some(v) = v {
                *dst = v;
            }
        };
        let l = &mut cfg.listen;
        if let Some(h) = &self.listen_host {
            l.host = h.clone();
        }
        set(&mut l.query_http, self.query_http_port);
        set(&mut l.admin_http, self.admin_http_port);
        set(&mut l.collector_http, self.collector_http_port);
        set(&mut l.agent_compact, self.agent_compact_port);
        set(&mut l.agent_binary, self.agent_binary_port);
        set(&mut l.agent_zipkin_compact, self.agent_zipkin_compact_port);
        set(&mut l.sampling_http, self.sampling_http_port);
        set(&mut l.query_grpc, self.query_grpc_port);
        set(&mut l.zipkin_http, self.zipkin_http_port);
        set(&mut l.collector_grpc, self.collector_grpc_port);
        set(&mut l.otlp_grpc, self.otlp_grpc_port);
        set(&mut l.otlp_http, self.otlp_http_port);
        if let Some(b) = &self.query_base_path {
            l.query_base_path = b.clone();
        }
        if let Some(f) = &self.sampling_strategies_file {
            cfg.ingest.sampling_strategies_file = Some(f.clone());
        }
        if let Some(v) = &self.store_backend {
            cfg.store.backend = v.clone();
        }
        if let Some(v) = &self.data_dir {
            cfg.store.data_dir = v.clone();
        }
        if let Some(v) = self.memory_max_spans {
            cfg.store.memory_max_spans = v;
        }
        if let Some(v) = self.memory_max_bytes {
            cfg.store.memory_max_bytes = v;
        }
        if let Some(v) = self.queue_max_spans {
            cfg.ingest.queue_max_spans = v;
        }
        if let Some(v) = self.http_max_body_bytes {
            cfg.ingest.http_max_body_bytes = v;
        }
        if let Some(v) = self.grpc_max_message_bytes {
            cfg.ingest.grpc_max_message_bytes = v;
        }
        if let Some(v) = self.inflight_max_bytes {
            cfg.ingest.inflight_max_bytes = v;
        }
        if let Some(v) = self.max_spans_per_request {
            cfg.ingest.max_spans_per_request = v;
        }
        let c = &mut cfg.connections;
        let setn = |dst: &mut usize, v: Option<usize>| {
            if let Some(v) = v {
                *dst = v;
            }
        };
        let sets = |dst: &mut u64, v: Option<u64>| {
            if let Some(v) = v {
                *dst = v;
            }
        };
        setn(&mut c.max_total, self.max_connections);
        setn(&mut c.max_per_listener, self.max_connections_per_listener);
        setn(&mut c.reserved, self.reserved_connections);
        sets(
            &mut c.header_read_timeout_secs,
            self.header_read_timeout_secs,
        );
        sets(&mut c.idle_timeout_secs, self.idle_timeout_secs);
        sets(
            &mut c.request_body_timeout_secs,
            self.request_body_timeout_secs,
        );
        if let Some(v) = self.grpc_max_concurrent_streams {
            c.grpc_max_concurrent_streams = v;
        }
        if let Some(v) = self.grpc_max_header_list_bytes {
            c.grpc_max_header_list_bytes = v;
        }
        setn(&mut cfg.query.max_traces, self.query_max_traces);
        sets(&mut cfg.query.timeout_secs, self.query_timeout_secs);
        if let Some(v) = self.query_busy_cpu_percent {
            cfg.query.busy_cpu_percent = v;
        }
        if let Some(v) = self.query_cpu_nice {
            cfg.query.cpu_nice = v;
        }
        setn(
            &mut cfg.query.max_response_bytes,
            self.query_max_response_bytes,
        );
        match (&self.log_level, rust_log.filter(|v| !v.trim().is_empty())) {
            (Some(v), _) => cfg.log_level = v.clone(),
            (None, Some(v)) => {
                crate::logging::check_filter(&v).map_err(|message| ConfigError::Invalid {
                    key: "RUST_LOG",
                    message,
                })?;
                cfg.log_level = v;
            }
            (None, None) => {}
        }
        cfg.validate()?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `[default: X]` the help shows is the real default: passing X
    /// explicitly yields the same config as passing nothing (the help had
    /// said 5 s for two timeouts whose defaults were 10 s).
    #[test]
    fn every_default_in_the_help_is_the_real_one() {
        use clap::CommandFactory;
        let defaults = Cli::try_parse_from(["clew"])
            .expect("parse")
            .resolve_with_rust_log(None)
            .expect("valid");
        let mut checked = 0;
        for arg in Cli::command().get_arguments() {
            let (Some(long), Some(help)) = (arg.get_long(), arg.get_help()) else {
                continue;
            };
            let help = help.to_string();
            let Some(value) = help
                .split("[default: ")
                .nth(1)
                .and_then(|rest| rest.split(']').next())
            else {
                continue;
            };
            let flag = format!("--{long}");
            let cfg = Cli::try_parse_from(["clew", flag.as_str(), value])
                .unwrap_or_else(|e| panic!("{flag} {value}: {e}"))
                .resolve_with_rust_log(None)
                .unwrap_or_else(|e| panic!("{flag} {value}: {e}"));
            assert_eq!(cfg, defaults, "{flag}: the help says [default: {value}]");
            checked += 1;
        }
        assert!(checked >= 30, "only {checked} defaults found in the help");
    }

    #[test]
    fn flags_override_defaults() {
        let cli = Cli::try_parse_from(["clew", "--query-http-port", "0", "--queue-max-spans", "5"])
            .expect("parse");
        let cfg = cli.resolve_with_rust_log(None).expect("valid");
        assert_eq!(cfg.listen.query_http, 0);
        assert_eq!(cfg.ingest.queue_max_spans, 5);
        assert_eq!(cfg.listen.admin_http, 14269);
    }

    #[test]
    fn invalid_value_names_the_key() {
        let cli = Cli::try_parse_from(["clew", "--memory-max-spans", "0"]).expect("parse");
        let err = cli
            .resolve_with_rust_log(None)
            .expect_err("invalid")
            .to_string();
        assert!(err.contains("store.memory_max_spans"), "{err}");
    }

    #[test]
    fn zero_limits_are_refused_naming_the_key() {
        for (flag, key) in [
            ("--memory-max-bytes", "store.memory_max_bytes"),
            ("--http-max-body-bytes", "ingest.http_max_body_bytes"),
            ("--max-connections", "connections.max_total"),
            ("--idle-timeout-secs", "connections.idle_timeout_secs"),
            ("--query-max-traces", "query.max_traces"),
        ] {
            let cli = Cli::try_parse_from(["clew", flag, "0"]).expect("parse");
            let err = cli.resolve_with_rust_log(None).expect_err(flag).to_string();
            assert!(err.contains(key), "{flag}: {err}");
        }
    }

    #[test]
    fn log_level_flag_beats_rust_log_which_beats_the_default() {
        let cli = Cli::try_parse_from(["clew"]).expect("parse");
        let cfg = cli
            .resolve_with_rust_log(Some("debug".into()))
            .expect("valid");
        assert_eq!(cfg.log_level, "debug");
        let cli = Cli::try_parse_from(["clew", "--log-level", "warn"]).expect("parse");
        let cfg = cli
            .resolve_with_rust_log(Some("debug".into()))
            .expect("valid");
        assert_eq!(cfg.log_level, "warn");
        let err = Cli::try_parse_from(["clew"])
            .expect("parse")
            .resolve_with_rust_log(Some("loud".into()))
            .expect_err("malformed RUST_LOG")
            .to_string();
        assert!(err.contains("RUST_LOG"), "{err}");
        let err = Cli::try_parse_from(["clew", "--log-level", "verbose"])
            .expect("parse")
            .resolve_with_rust_log(None)
            .expect_err("malformed")
            .to_string();
        assert!(
            err.contains("log_level") && err.contains("verbose"),
            "{err}"
        );
    }

    #[test]
    fn help_documents_every_flag() {
        use clap::CommandFactory;
        let help = Cli::command().render_long_help().to_string();
        for flag in [
            "--query-http-port",
            "--agent-zipkin-compact-port",
            "--ready-file",
            "CLEW_CONFIG",
        ] {
            assert!(help.contains(flag), "missing {flag}");
        }
    }
}
