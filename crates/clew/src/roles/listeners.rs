//! Binding every socket up front, so a bad port fails fast with the
//! listener's name, and port 0 resolves before anything is announced.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::Path;

use anyhow::{Context, Result};

/// The sockets of the all-in-one role, bound but not yet served.
pub struct Bound {
    /// Query HTTP (16686).
    pub query_http: TcpListener,
    /// Admin HTTP (14269).
    pub admin_http: TcpListener,
    /// Collector HTTP (14268).
    pub collector_http: TcpListener,
    /// Sampling HTTP (5778).
    pub sampling_http: TcpListener,
    /// Agent UDP compact (6831).
    pub agent_compact: UdpSocket,
    /// Agent UDP binary (6832).
    pub agent_binary: UdpSocket,
    /// Legacy agent UDP (5775).
    pub agent_zipkin_compact: UdpSocket,
    /// Query gRPC (16685).
    pub query_grpc: TcpListener,
    /// Zipkin HTTP (9411).
    pub zipkin_http: TcpListener,
    /// Collector gRPC (14250).
    pub collector_grpc: TcpListener,
    /// OTLP gRPC (4317).
    pub otlp_grpc: TcpListener,
    /// OTLP HTTP (4318).
    pub otlp_http: TcpListener,
}

fn tcp(host: &str, port: u16, name: &str) -> Result<TcpListener> {
    let l = TcpListener::bind((host, port))
        .with_context(|| format!("cannot bind {name} on {host}:{port}"))?;
    l.set_nonblocking(true)
        .with_context(|| format!("cannot configure {name}"))?;
    Ok(l)
}

fn udp(host: &str, port: u16, name: &str) -> Result<UdpSocket> {
    UdpSocket::bind((host, port))
        .with_context(|| format!("cannot bind {name} on {host}:{port}/udp"))
}

impl Bound {
    /// Binds every listener of the config.
    pub fn bind(l: &crate::config::ListenConfig) -> Result<Bound> {
        let h = l.host.as_str();
        Ok(Bound {
            query_http: tcp(h, l.query_http, "query_http")?,
            admin_http: tcp(h, l.admin_http, "admin_http")?,
            collector_http: tcp(h, l.collector_http, "collector_http")?,
            sampling_http: tcp(h, l.sampling_http, "sampling_http")?,
            agent_compact: udp(h, l.agent_compact, "agent_compact")?,
            agent_binary: udp(h, l.agent_binary, "agent_binary")?,
            agent_zipkin_compact: udp(h, l.agent_zipkin_compact, "agent_zipkin_compact")?,
            query_grpc: tcp(h, l.query_grpc, "query_grpc")?,
            zipkin_http: tcp(h, l.zipkin_http, "zipkin_http")?,
            collector_grpc: tcp(h, l.collector_grpc, "collector_grpc")?,
            otlp_grpc: tcp(h, l.otlp_grpc, "otlp_grpc")?,
            otlp_http: tcp(h, l.otlp_http, "otlp_http")?,
        })
    }

    /// Names and bound addresses, for the log and the ready file.
    pub fn addresses(&self) -> Result<BTreeMap<&'static str, SocketAddr>> {
        let mut m = BTreeMap::new();
        m.insert("query_http", self.query_http.local_addr()?);
        m.insert("admin_http", self.admin_http.local_addr()?);
        m.insert("collector_http", self.collector_http.local_addr()?);
        m.insert("sampling_http", self.sampling_http.local_addr()?);
        m.insert("agent_compact", self.agent_compact.local_addr()?);
        m.insert("agent_binary", self.agent_binary.local_addr()?);
        m.insert(
            "agent_zipkin_compact",
            self.agent_zipkin_compact.local_addr()?,
        );
        m.insert("query_grpc", self.query_grpc.local_addr()?);
        m.insert("zipkin_http", self.zipkin_http.local_addr()?);
        m.insert("collector_grpc", self.collector_grpc.local_addr()?);
        m.insert("otlp_grpc", self.otlp_grpc.local_addr()?);
        m.insert("otlp_http", self.otlp_http.local_addr()?);
        Ok(m)
    }
}

/// Writes the addresses as a JSON object, atomically (temp file + rename) so
/// a watcher never reads half a file.
pub fn write_ready_file(path: &Path, addrs: &BTreeMap<&'static str, SocketAddr>) -> Result<()> {
    let json: BTreeMap<_, String> = addrs.iter().map(|(k, v)| (*k, v.to_string())).collect();
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&json)?)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
