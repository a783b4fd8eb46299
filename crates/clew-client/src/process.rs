//! The process tags Jaeger clients send with every batch.

use std::net::{IpAddr, ToSocketAddrs};

use clew_model::{KeyValue, Process};

/// `jaeger.version` value: which client sent the spans.
pub const CLIENT_VERSION: &str = concat!("Rust-clew-", env!("CARGO_PKG_VERSION"));
/// Tag key of the client version.
pub const VERSION_TAG: &str = "jaeger.version";
/// Tag key of the host name.
pub const HOSTNAME_TAG: &str = "hostname";
/// Tag key of the host IP.
pub const IP_TAG: &str = "ip";
/// Tag key of the random per-tracer UUID.
pub const CLIENT_UUID_TAG: &str = "client-uuid";

/// Adds `jaeger.version`, `hostname`, `ip` and `client-uuid` unless the
/// user set them already (user tags win, as in Jaeger clients).
pub(crate) fn add_standard_tags(process: &mut Process) {
    let has = |p: &Process, k: &str| p.tags.iter().any(|t| &*t.key == k);
    if !has(process, VERSION_TAG) {
        process
            .tags
            .push(KeyValue::string(VERSION_TAG, CLIENT_VERSION));
    }
    let host = hostname();
    if !has(process, HOSTNAME_TAG)
        && let Some(h) = &host
    {
        process
            .tags
            .push(KeyValue::string(HOSTNAME_TAG, h.as_str()));
    }
    if !has(process, IP_TAG) {
        let ip = host
            .as_deref()
            .and_then(host_ip)
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        process.tags.push(KeyValue::string(IP_TAG, ip.to_string()));
    }
    if !has(process, CLIENT_UUID_TAG) {
        process
            .tags
            .push(KeyValue::string(CLIENT_UUID_TAG, crate::id::uuid_v4()));
    }
}

fn hostname() -> Option<String> {
    let h = gethostname::gethostname().into_string().ok()?;
    (!h.is_empty()).then_some(h)
}

/// The first non-loopback IPv4 address the host name resolves to (through
/// the local resolver only; no packets are sent).
fn host_ip(host: &str) -> Option<IpAddr> {
    let addrs: Vec<IpAddr> = (host, 0).to_socket_addrs().ok()?.map(|a| a.ip()).collect();
    addrs
        .iter()
        .find(|ip| ip.is_ipv4() && !ip.is_loopback())
        .or_else(|| addrs.iter().find(|ip| !ip.is_loopback()))
        .or_else(|| addrs.first())
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_tags_are_added_once_and_user_tags_win() {
        let mut p = Process::new("svc");
        p.tags.push(KeyValue::string("hostname", "mine"));
        add_standard_tags(&mut p);
        let get = |k: &str| p.tags.iter().filter(|t| &*t.key == k).count();
        assert_eq!(get("hostname"), 1);
        assert_eq!(get("jaeger.version"), 1);
        assert_eq!(get("ip"), 1);
        assert_eq!(get("client-uuid"), 1);
        let v = p
            .tags
            .iter()
            .find(|t| &*t.key == "jaeger.version")
            .map(|t| t.value.clone());
        assert_eq!(v, Some(clew_model::Value::Str(CLIENT_VERSION.into())));
        assert!(CLIENT_VERSION.starts_with("Rust-clew-"));
    }
}
