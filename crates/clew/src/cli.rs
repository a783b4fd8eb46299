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
/// admin (14269), keeping spans in a bounded in-memory store.
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

    /// Memory store: maximum spans kept; oldest traces are evicted first [default: 2000000].
    #[arg(long, env = "CLEW_MEMORY_MAX_SPANS", value_name = "N")]
    pub memory_max_spans: Option<usize>,

    /// Memory store: maximum estimated bytes kept [default: 2147483648].
    #[arg(long, env = "CLEW_MEMORY_MAX_BYTES", value_name = "BYTES")]
    pub memory_max_bytes: Option<usize>,

    /// Spans allowed to wait for the store; beyond, batches are dropped and counted [default: 200000].
    #[arg(long, env = "CLEW_QUEUE_MAX_SPANS", value_name = "N")]
    pub queue_max_spans: Option<usize>,

    /// Log filter, e.g. `info` or `clew_ingest=debug,info` [default: info].
    #[arg(long, env = "CLEW_LOG_LEVEL", value_name = "FILTER")]
    pub log_level: Option<String>,

    /// Once every listener is bound, write their addresses here as JSON
    /// (`{"query_http": "127.0.0.1:16686", …}`); useful with port 0.
    #[arg(long, env = "CLEW_READY_FILE", value_name = "FILE")]
    pub ready_file: Option<PathBuf>,
}

impl Cli {
    /// Defaults, then the config file, then flags/env.
    pub fn resolve(&self) -> Result<Config, ConfigError> {
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
        if let Some(v) = self.memory_max_spans {
            cfg.store.memory_max_spans = v;
        }
        if let Some(v) = self.memory_max_bytes {
            cfg.store.memory_max_bytes = v;
        }
        if let Some(v) = self.queue_max_spans {
            cfg.ingest.queue_max_spans = v;
        }
        if let Some(v) = &self.log_level {
            cfg.log_level = v.clone();
        }
        cfg.validate()?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_defaults() {
        let cli = Cli::try_parse_from(["clew", "--query-http-port", "0", "--queue-max-spans", "5"])
            .expect("parse");
        let cfg = cli.resolve().expect("valid");
        assert_eq!(cfg.listen.query_http, 0);
        assert_eq!(cfg.ingest.queue_max_spans, 5);
        assert_eq!(cfg.listen.admin_http, 14269);
    }

    #[test]
    fn invalid_value_names_the_key() {
        let cli = Cli::try_parse_from(["clew", "--memory-max-spans", "0"]).expect("parse");
        let err = cli.resolve().expect_err("invalid").to_string();
        assert!(err.contains("store.memory_max_spans"), "{err}");
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
