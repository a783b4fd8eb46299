//! The `[connections]` settings: how many TCP connections each listener
//! and the process hold, and how long a connection may sit silent.

use std::time::Duration;

use serde::Deserialize;

use crate::config::ConfigError;

/// Connection caps and timeouts of every TCP listener (HTTP and gRPC).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionLimits {
    /// Open connections of all TCP listeners together. Beyond it, a new
    /// connection is closed at once and counted — except on admin and
    /// query, which keep `reserved` connections of their own.
    pub max_total: usize,
    /// Open connections of any one listener.
    pub max_per_listener: usize,
    /// Connections that admin HTTP, query HTTP and query gRPC may each open
    /// beyond `max_total`, so health checks and the UI answer during a flood
    /// on the ingest ports.
    pub reserved: usize,
    /// HTTP/1: seconds a client has to send a request's headers, counted
    /// from when the connection waits for a request — so it also closes a
    /// keep-alive connection that sends nothing for this long (slowloris).
    pub header_read_timeout_secs: u64,
    /// Seconds a connection (HTTP/1 or gRPC) may move no byte in either
    /// direction before it is closed.
    pub idle_timeout_secs: u64,
    /// HTTP/1: seconds a request body may take to arrive in full, from the
    /// end of its headers; gRPC: seconds one call may take.
    pub request_body_timeout_secs: u64,
    /// gRPC: concurrent HTTP/2 streams (calls) per connection.
    pub grpc_max_concurrent_streams: u32,
    /// gRPC: largest HTTP/2 header list a client may send, bytes.
    pub grpc_max_header_list_bytes: u32,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_total: 4_096,
            max_per_listener: 1_024,
            reserved: 64,
            header_read_timeout_secs: 10,
            idle_timeout_secs: 60,
            request_body_timeout_secs: 30,
            grpc_max_concurrent_streams: 100,
            grpc_max_header_list_bytes: 16 * 1024,
        }
    }
}

impl ConnectionLimits {
    /// `header_read_timeout_secs` as a duration.
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs)
    }

    /// `idle_timeout_secs` as a duration.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    /// `request_body_timeout_secs` as a duration.
    pub fn request_body_timeout(&self) -> Duration {
        Duration::from_secs(self.request_body_timeout_secs)
    }

    /// Every value must be at least 1 (a zero cap or timeout would refuse
    /// or cut every connection).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let checks: [(&'static str, u64); 7] = [
            ("connections.max_total", self.max_total as u64),
            ("connections.max_per_listener", self.max_per_listener as u64),
            (
                "connections.header_read_timeout_secs",
                self.header_read_timeout_secs,
            ),
            ("connections.idle_timeout_secs", self.idle_timeout_secs),
            (
                "connections.request_body_timeout_secs",
                self.request_body_timeout_secs,
            ),
            (
                "connections.grpc_max_concurrent_streams",
                u64::from(self.grpc_max_concurrent_streams),
            ),
            (
                "connections.grpc_max_header_list_bytes",
                u64::from(self.grpc_max_header_list_bytes),
            ),
        ];
        for (key, value) in checks {
            if value == 0 {
                return Err(ConfigError::Invalid {
                    key,
                    message: "must be at least 1".into(),
                });
            }
        }
        Ok(())
    }
}
