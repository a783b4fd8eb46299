//! The all-in-one configuration: one struct, defaults in one place, filled
//! from (lowest to highest precedence) built-in defaults, a TOML file,
//! `CLEW_*` environment variables and command-line flags.

use std::path::{Path, PathBuf};

use clew_ingest::IngestConfig;
use clew_query::QueryLimits;
use serde::Deserialize;

use crate::net::ConnectionLimits;

/// Everything `clew` (all-in-one) can be told.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Ports and the address they bind.
    pub listen: ListenConfig,
    /// The span store.
    pub store: StoreConfig,
    /// The ingest pipeline, listeners' limits and sampling strategies
    /// (keys documented on [`IngestConfig`] and in docs/configuration.md).
    pub ingest: IngestConfig,
    /// Connection caps and timeouts of every TCP listener (`[connections]`).
    pub connections: ConnectionLimits,
    /// Bounds on one query: traces, time, response bytes (`[query]`).
    pub query: QueryLimits,
    /// Log filter (`info`, `debug`, `clew_ingest=debug,info`, …).
    pub log_level: String,
}

/// Listener addresses. A port of 0 asks the OS for a free port (tests use
/// this); the bound addresses are printed and written to `--ready-file`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ListenConfig {
    /// Address every listener binds (`0.0.0.0` to accept remote clients).
    pub host: String,
    /// Jaeger query HTTP API and web UI.
    pub query_http: u16,
    /// Admin: health at `/`, Prometheus metrics at `/metrics`.
    pub admin_http: u16,
    /// Jaeger collector HTTP (`POST /api/traces`, thrift).
    pub collector_http: u16,
    /// Jaeger agent UDP, thrift compact `emitBatch`.
    pub agent_compact: u16,
    /// Jaeger agent UDP, thrift binary `emitBatch`.
    pub agent_binary: u16,
    /// Legacy agent UDP, thrift compact `emitZipkinBatch` and `emitBatch`.
    pub agent_zipkin_compact: u16,
    /// Remote sampling HTTP (`/sampling?service=`).
    pub sampling_http: u16,
    /// Jaeger query gRPC (`jaeger.api_v2.QueryService`, `jaeger.api_v3.QueryService`).
    pub query_grpc: u16,
    /// Zipkin HTTP: `POST /api/v1/spans`, `POST /api/v2/spans` and the read API.
    pub zipkin_http: u16,
    /// Jaeger collector gRPC (`PostSpans`, `SamplingManager`).
    pub collector_grpc: u16,
    /// OTLP gRPC (`TraceService/Export`).
    pub otlp_grpc: u16,
    /// OTLP HTTP (`POST /v1/traces`).
    pub otlp_http: u16,
    /// Path prefix the query HTTP API and web UI are served under, behind a
    /// reverse proxy (Jaeger's `--query.base-path`, e.g. `/jaeger`); empty
    /// or `/` serves at the root.
    pub query_base_path: String,
}

/// Which store to use and its bounds.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// Backend: `disk` (the embedded, crash-safe store; default) or `memory`.
    pub backend: String,
    /// Disk store: data directory (WAL and blocks).
    pub data_dir: std::path::PathBuf,
    /// Disk store: 0 = fsync the WAL before acknowledging every write
    /// (default); n = fsync at most n ms after a write, acknowledging sooner.
    pub wal_sync_ms: u64,
    /// Disk store: delete blocks older than this many hours (0 = keep).
    pub retention_hours: u64,
    /// Disk store: delete the oldest blocks beyond this many bytes (0 = no limit).
    pub max_disk_bytes: u64,
    /// Disk store: cut the in-memory head into a block at this many spans.
    /// A head this big (half of a merged block's size or more) is written
    /// once as a final block; smaller cuts are merged later.
    pub head_max_spans: u64,
    /// Disk store: …or at this many bytes of encoded batches.
    pub head_max_bytes: u64,
    /// Memory store: most spans kept before the oldest traces are evicted.
    pub memory_max_spans: usize,
    /// Memory store: most (estimated) bytes kept before eviction.
    pub memory_max_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: ListenConfig::default(),
            store: StoreConfig::default(),
            ingest: IngestConfig::default(),
            connections: ConnectionLimits::default(),
            query: QueryLimits::default(),
            log_level: "info".to_string(),
        }
    }
}

impl Default for ListenConfig {
    fn default() -> Self {
        ListenConfig {
            host: "127.0.0.1".to_string(),
            query_http: 16686,
            admin_http: 14269,
            collector_http: 14268,
            agent_compact: 6831,
            agent_binary: 6832,
            agent_zipkin_compact: 5775,
            sampling_http: 5778,
            query_grpc: 16685,
            zipkin_http: 9411,
            collector_grpc: 14250,
            otlp_grpc: 4317,
            otlp_http: 4318,
            query_base_path: String::new(),
        }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            backend: "disk".to_string(),
            data_dir: clew_store::default_data_dir().to_path_buf(),
            wal_sync_ms: 0,
            retention_hours: 7 * 24,
            max_disk_bytes: 0,
            head_max_spans: clew_store::DEFAULT_HEAD_MAX_SPANS,
            head_max_bytes: clew_store::DEFAULT_HEAD_MAX_BYTES,
            memory_max_spans: 2_000_000,
            // Counts what stored spans really hold (compact copies), so the
            // whole process stays near 1.5 GiB: see docs/configuration.md.
            memory_max_bytes: 1 << 30,
        }
    }
}

/// A configuration problem, worded as one line naming the bad key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// File path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The file is not valid for [`Config`].
    #[error("config file {path}: {message}")]
    Parse {
        /// File path.
        path: PathBuf,
        /// What toml/serde said, flattened to one line.
        message: String,
    },
    /// A value is out of range.
    #[error("config key {key}: {message}")]
    Invalid {
        /// Dotted key.
        key: &'static str,
        /// Why.
        message: String,
    },
}

impl Config {
    /// Reads a TOML file over the defaults.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: one_line(&e.to_string()),
        })
    }

    /// Checks values that parse but make no sense.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.store.backend != "memory" && self.store.backend != "disk" {
            return Err(ConfigError::Invalid {
                key: "store.backend",
                message: format!(
                    "unknown backend {:?} (supported: disk, memory)",
                    self.store.backend
                ),
            });
        }
        if self.store.memory_max_spans == 0 {
            return Err(ConfigError::Invalid {
                key: "store.memory_max_spans",
                message: "must be at least 1".into(),
            });
        }
        if !(0.0..=1.0).contains(&self.ingest.default_sampling_probability) {
            return Err(ConfigError::Invalid {
                key: "ingest.default_sampling_probability",
                message: "must be between 0 and 1".into(),
            });
        }
        if self.query.cpu_nice > 19 {
            return Err(ConfigError::Invalid {
                key: "query.cpu_nice",
                message: "must be between 0 and 19".into(),
            });
        }
        if !(1..=100).contains(&self.query.busy_cpu_percent) {
            return Err(ConfigError::Invalid {
                key: "query.busy_cpu_percent",
                message: "must be between 1 and 100".into(),
            });
        }
        if self.ingest.queue_max_spans == 0 {
            return Err(ConfigError::Invalid {
                key: "ingest.queue_max_spans",
                message: "must be at least 1".into(),
            });
        }
        // Limits for which 0 would refuse everything or keep nothing.
        let at_least_one: [(&'static str, u64); 10] = [
            ("store.memory_max_bytes", self.store.memory_max_bytes as u64),
            ("store.head_max_spans", self.store.head_max_spans),
            ("store.head_max_bytes", self.store.head_max_bytes),
            (
                "ingest.http_max_body_bytes",
                self.ingest.http_max_body_bytes as u64,
            ),
            (
                "ingest.grpc_max_message_bytes",
                self.ingest.grpc_max_message_bytes as u64,
            ),
            (
                "ingest.writer_batch_spans",
                self.ingest.writer_batch_spans as u64,
            ),
            (
                "ingest.udp_recv_buffer_bytes",
                self.ingest.udp_recv_buffer_bytes as u64,
            ),
            ("query.max_traces", self.query.max_traces as u64),
            ("query.timeout_secs", self.query.timeout_secs),
            (
                "query.max_response_bytes",
                self.query.max_response_bytes as u64,
            ),
        ];
        for (key, value) in at_least_one {
            if value == 0 {
                return Err(ConfigError::Invalid {
                    key,
                    message: "must be at least 1".into(),
                });
            }
        }
        if let Some((key, message)) = self.ingest.invalid_setting() {
            return Err(ConfigError::Invalid {
                key,
                message: message.into(),
            });
        }
        self.connections.validate()?;
        crate::logging::check_filter(&self.log_level).map_err(|message| ConfigError::Invalid {
            key: "log_level",
            message,
        })?;
        Ok(())
    }
}

/// toml's messages span several lines with a source excerpt; keep the gist.
fn one_line(message: &str) -> String {
    let mut parts = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('|'));
    let mut out = parts.next().unwrap_or("invalid TOML").to_string();
    for p in parts {
        if !p
            .chars()
            .all(|c| c.is_ascii_digit() || c == '|' || c == ' ' || c == '^')
        {
            out.push_str(": ");
            out.push_str(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_named_on_one_line() {
        let dir = std::env::temp_dir().join(format!("clew-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("bad.toml");
        std::fs::write(&path, "[listen]\nquery_htp = 1\n").expect("write");
        let err = Config::from_file(&path).expect_err("must fail").to_string();
        assert!(err.contains("query_htp"), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn file_overrides_defaults_partially() {
        let cfg: Config = toml::from_str("[listen]\nquery_http = 1234\n").expect("parse");
        assert_eq!(cfg.listen.query_http, 1234);
        assert_eq!(cfg.listen.admin_http, 14269);
        assert!(cfg.validate().is_ok());
    }
}
