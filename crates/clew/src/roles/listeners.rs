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
    /// Listener name → bound address, recorded while binding, for the log
    /// and the ready file.
    pub addrs: BTreeMap<&'static str, SocketAddr>,
}

/// Binds sockets on one host and remembers each bound address under its
/// listener name, so the names are written once.
struct Binder<'a> {
    host: &'a str,
    addrs: BTreeMap<&'static str, SocketAddr>,
}

impl Binder<'_> {
    fn tcp(&mut self, port: u16, name: &'static str) -> Result<TcpListener> {
        let host = self.host;
        let l = TcpListener::bind((host, port))
            .with_context(|| format!("cannot bind {name} on {host}:{port}"))?;
        l.set_nonblocking(true)
            .with_context(|| format!("cannot configure {name}"))?;
        self.addrs.insert(name, l.local_addr()?);
        Ok(l)
    }

    fn udp(&mut self, port: u16, name: &'static str) -> Result<UdpSocket> {
        let host = self.host;
        let s = UdpSocket::bind((host, port))
            .with_context(|| format!("cannot bind {name} on {host}:{port}/udp"))?;
        self.addrs.insert(name, s.local_addr()?);
        Ok(s)
    }
}

impl Bound {
    /// Binds every listener of the config.
    pub fn bind(l: &crate::config::ListenConfig) -> Result<Bound> {
        let mut b = Binder {
            host: &l.host,
            addrs: BTreeMap::new(),
        };
        Ok(Bound {
            query_http: b.tcp(l.query_http, "query_http")?,
            admin_http: b.tcp(l.admin_http, "admin_http")?,
            collector_http: b.tcp(l.collector_http, "collector_http")?,
            sampling_http: b.tcp(l.sampling_http, "sampling_http")?,
            agent_compact: b.udp(l.agent_compact, "agent_compact")?,
            agent_binary: b.udp(l.agent_binary, "agent_binary")?,
            agent_zipkin_compact: b.udp(l.agent_zipkin_compact, "agent_zipkin_compact")?,
            query_grpc: b.tcp(l.query_grpc, "query_grpc")?,
            zipkin_http: b.tcp(l.zipkin_http, "zipkin_http")?,
            collector_grpc: b.tcp(l.collector_grpc, "collector_grpc")?,
            otlp_grpc: b.tcp(l.otlp_grpc, "otlp_grpc")?,
            otlp_http: b.tcp(l.otlp_http, "otlp_http")?,
            addrs: b.addrs,
        })
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
