//! Zipkin v1 spans and their conversion to and from v2 ([`ZipkinSpan`]).
//!
//! v1 records RPC roles as *core annotations* (`cs`/`cr` client send/receive,
//! `sr`/`ss` server receive/send, `ms`/`mr` message send/receive) whose
//! endpoint is the recording service, and peers as *address* binary
//! annotations (`ca`, `sa`, `ma`). One v1 span may hold both sides of an RPC
//! (the client's and the server's halves merged under one ID); it then
//! becomes two v2 spans, the server one marked `shared`. A server span
//! without its own `timestamp` is also shared: v1 leaves timing to the client.
//! Other annotations become v2 annotations, other binary annotations become
//! tags (keeping their thrift type), and `lc` becomes the `lc` tag; its
//! endpoint names the service of a local span.

use clew_model::{KeyValue, SpanId, Str, TraceId, Value};

use crate::span::{Annotation, Endpoint, Kind, ZipkinSpan};

/// A v1 annotation: an event, recorded by a host.
#[derive(Clone, Debug, PartialEq)]
pub struct V1Annotation {
    /// Unix µs.
    pub timestamp: u64,
    /// Event, or a core annotation name (`cs`, `sr`, …).
    pub value: Str,
    /// Recording host.
    pub endpoint: Option<Endpoint>,
}

/// A v1 binary annotation: a tag, or an address (`ca`/`sa`/`ma`).
#[derive(Clone, Debug, PartialEq)]
pub struct V1BinaryAnnotation {
    /// Tag key.
    pub key: Str,
    /// Typed value (from the thrift `AnnotationType` or the JSON value).
    pub value: Value,
    /// Recording host, or the address for `ca`/`sa`/`ma`.
    pub endpoint: Option<Endpoint>,
}

/// A Zipkin v1 span, as thrift and v1 JSON carry it.
#[derive(Clone, Debug, PartialEq)]
pub struct V1Span {
    /// Trace ID; `high` comes from `trace_id_high` (thrift) or a 32-digit ID (JSON).
    pub trace_id: TraceId,
    /// Operation name.
    pub name: Str,
    /// Span ID.
    pub id: SpanId,
    /// Parent, if any.
    pub parent_id: Option<SpanId>,
    /// Annotations (core and other).
    pub annotations: Vec<V1Annotation>,
    /// Binary annotations.
    pub binary_annotations: Vec<V1BinaryAnnotation>,
    /// Debug sampling forced.
    pub debug: bool,
    /// Start, µs, when the reporter set it.
    pub timestamp: Option<u64>,
    /// Duration, µs, when the reporter set it.
    pub duration: Option<u64>,
}

/// Key of the binary annotation naming a local (in-process) component.
pub const LOCAL_COMPONENT: &str = "lc";
const CLIENT_ADDR: &str = "ca";
const SERVER_ADDR: &str = "sa";
const MESSAGE_ADDR: &str = "ma";

#[derive(Default)]
struct Core<'a> {
    cs: Option<&'a V1Annotation>,
    cr: Option<&'a V1Annotation>,
    sr: Option<&'a V1Annotation>,
    ss: Option<&'a V1Annotation>,
    ms: Option<&'a V1Annotation>,
    mr: Option<&'a V1Annotation>,
}

fn is_core(value: &str) -> bool {
    matches!(value, "cs" | "cr" | "sr" | "ss" | "ms" | "mr")
}

fn is_address(key: &str) -> bool {
    matches!(key, CLIENT_ADDR | SERVER_ADDR | MESSAGE_ADDR)
}

impl V1Span {
    /// Splits the span into its v2 spans (one, or two for a merged RPC).
    pub fn into_v2(self) -> Vec<ZipkinSpan> {
        let mut core = Core::default();
        for a in &self.annotations {
            let slot = match &*a.value {
                "cs" => &mut core.cs,
                "cr" => &mut core.cr,
                "sr" => &mut core.sr,
                "ss" => &mut core.ss,
                "ms" => &mut core.ms,
                "mr" => &mut core.mr,
                _ => continue,
            };
            slot.get_or_insert(a);
        }
        let address = |key: &str| {
            self.binary_annotations
                .iter()
                .find(|b| &*b.key == key)
                .and_then(|b| b.endpoint.clone())
        };
        let (ca, sa, ma) = (
            address(CLIENT_ADDR),
            address(SERVER_ADDR),
            address(MESSAGE_ADDR),
        );

        let client_kind = if core.cs.is_some() || core.cr.is_some() {
            Some(Kind::Client)
        } else if core.ms.is_some() {
            Some(Kind::Producer)
        } else {
            None
        };
        let server_kind = if core.sr.is_some() || core.ss.is_some() {
            Some(Kind::Server)
        } else if core.mr.is_some() {
            Some(Kind::Consumer)
        } else {
            None
        };

        let mut base = ZipkinSpan::new(self.trace_id, self.id);
        base.parent_id = self.parent_id;
        base.name = self.name.clone();
        base.debug = self.debug;

        let mut out = Vec::with_capacity(2);
        match (client_kind, server_kind) {
            (Some(ck), Some(sk)) => {
                let mut client = base.clone();
                client.kind = Some(ck);
                let (begin, end) = if ck == Kind::Client {
                    (core.cs, core.cr)
                } else {
                    (core.ms, None)
                };
                client.local_endpoint = begin.or(end).and_then(|a| a.endpoint.clone());
                time_from(&mut client, self.timestamp, self.duration, begin, end);
                client.remote_endpoint = if ck == Kind::Client { sa } else { ma.clone() };
                let mut server = base;
                server.kind = Some(sk);
                server.shared = sk == Kind::Server;
                let (begin, end) = if sk == Kind::Server {
                    (core.sr, core.ss)
                } else {
                    (core.mr, None)
                };
                server.local_endpoint = begin.or(end).and_then(|a| a.endpoint.clone());
                time_from(&mut server, None, None, begin, end);
                server.remote_endpoint = if sk == Kind::Server { ca } else { ma };
                out.push(client);
                out.push(server);
            }
            (Some(kind), None) | (None, Some(kind)) => {
                let mut z = base;
                z.kind = Some(kind);
                let (begin, end) = match kind {
                    Kind::Client => (core.cs, core.cr),
                    Kind::Server => (core.sr, core.ss),
                    Kind::Producer => (core.ms, None),
                    Kind::Consumer => (core.mr, None),
                };
                z.local_endpoint = begin.or(end).and_then(|a| a.endpoint.clone());
                z.remote_endpoint = match kind {
                    Kind::Client => sa,
                    Kind::Server => ca,
                    Kind::Producer | Kind::Consumer => ma,
                };
                z.shared = kind == Kind::Server && self.timestamp.is_none();
                time_from(&mut z, self.timestamp, self.duration, begin, end);
                out.push(z);
            }
            (None, None) => {
                let mut z = base;
                // An address alone still says which side of an RPC this is.
                if let Some(sa) = sa {
                    z.kind = Some(Kind::Client);
                    z.remote_endpoint = Some(sa);
                } else if let Some(ca) = ca {
                    z.kind = Some(Kind::Server);
                    z.remote_endpoint = Some(ca);
                }
                z.local_endpoint = self
                    .binary_annotations
                    .iter()
                    .find(|b| &*b.key == LOCAL_COMPONENT)
                    .and_then(|b| b.endpoint.clone())
                    .or_else(|| self.annotations.iter().find_map(|a| a.endpoint.clone()))
                    .or_else(|| {
                        self.binary_annotations
                            .iter()
                            .filter(|b| !is_address(&b.key))
                            .find_map(|b| b.endpoint.clone())
                    });
                z.timestamp = self.timestamp.unwrap_or(0);
                z.duration = self.duration.unwrap_or(0);
                out.push(z);
            }
        }

        // Events and tags go to the span recorded by the same host (the
        // first span when the host is unknown or matches both).
        let owner = |ep: &Option<Endpoint>, spans: &[ZipkinSpan]| -> usize {
            match (ep, spans.get(1)) {
                (Some(ep), Some(second))
                    if second.local_endpoint.as_ref() == Some(ep)
                        && spans[0].local_endpoint.as_ref() != Some(ep) =>
                {
                    1
                }
                _ => 0,
            }
        };
        for a in self.annotations {
            if is_core(&a.value) {
                continue;
            }
            let i = owner(&a.endpoint, &out);
            out[i].annotations.push(Annotation {
                timestamp: a.timestamp,
                value: a.value,
            });
        }
        for b in self.binary_annotations {
            if is_address(&b.key) || (&*b.key == LOCAL_COMPONENT && is_empty_text(&b.value)) {
                continue;
            }
            let i = owner(&b.endpoint, &out);
            out[i].tags.push(KeyValue::new(b.key, b.value));
        }
        out
    }

    /// The v1 form of a v2 span (Zipkin's own v2 → v1 rules).
    pub fn from_v2(z: &ZipkinSpan) -> V1Span {
        let local = z.local_endpoint.clone();
        let mut annotations = Vec::with_capacity(z.annotations.len() + 2);
        let mut binary = Vec::with_capacity(z.tags.len() + 1);
        let (begin, end, addr) = match z.kind {
            Some(Kind::Client) => (Some("cs"), Some("cr"), SERVER_ADDR),
            Some(Kind::Server) => (Some("sr"), Some("ss"), CLIENT_ADDR),
            Some(Kind::Producer) => (Some("ms"), None, MESSAGE_ADDR),
            Some(Kind::Consumer) => (Some("mr"), None, MESSAGE_ADDR),
            None => (None, None, SERVER_ADDR),
        };
        if let Some(begin) = begin {
            annotations.push(V1Annotation {
                timestamp: z.timestamp,
                value: Str::from_static(begin),
                endpoint: local.clone(),
            });
        }
        if let (Some(end), true) = (end, z.duration != 0) {
            annotations.push(V1Annotation {
                timestamp: z.timestamp.saturating_add(z.duration),
                value: Str::from_static(end),
                endpoint: local.clone(),
            });
        }
        annotations.extend(z.annotations.iter().map(|a| V1Annotation {
            timestamp: a.timestamp,
            value: a.value.clone(),
            endpoint: local.clone(),
        }));
        binary.extend(z.tags.iter().map(|t| V1BinaryAnnotation {
            key: t.key.clone(),
            value: t.value.clone(),
            endpoint: local.clone(),
        }));
        if z.kind.is_none() && annotations.is_empty() && binary.is_empty() && local.is_some() {
            binary.push(V1BinaryAnnotation {
                key: Str::from_static(LOCAL_COMPONENT),
                value: Value::Str(Str::new()),
                endpoint: local.clone(),
            });
        }
        if let (Some(remote), true) = (&z.remote_endpoint, z.kind.is_some()) {
            binary.push(V1BinaryAnnotation {
                key: Str::from_static(addr),
                value: Value::Bool(true),
                endpoint: Some(remote.clone()),
            });
        }
        let shared = z.kind == Some(Kind::Server) && z.shared;
        V1Span {
            trace_id: z.trace_id,
            name: z.name.clone(),
            id: z.id,
            parent_id: z.parent_id,
            annotations,
            binary_annotations: binary,
            debug: z.debug,
            timestamp: (!shared).then_some(z.timestamp),
            duration: (!shared).then_some(z.duration),
        }
    }
}

fn is_empty_text(v: &Value) -> bool {
    matches!(v, Value::Str(s) if s.is_empty())
}

/// Timing: the span's own fields win, else the core annotations'.
fn time_from(
    z: &mut ZipkinSpan,
    timestamp: Option<u64>,
    duration: Option<u64>,
    begin: Option<&V1Annotation>,
    end: Option<&V1Annotation>,
) {
    z.timestamp = timestamp.or(begin.map(|a| a.timestamp)).unwrap_or(0);
    z.duration = duration
        .or_else(|| match (begin, end) {
            (Some(b), Some(e)) => Some(e.timestamp.saturating_sub(b.timestamp)),
            _ => None,
        })
        .unwrap_or(0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ep(name: &'static str) -> Option<Endpoint> {
        Some(Endpoint {
            service_name: Str::from_static(name),
            ipv4: Some(Ipv4Addr::new(127, 0, 0, 1)),
            ..Endpoint::default()
        })
    }

    fn ann(ts: u64, v: &'static str, e: Option<Endpoint>) -> V1Annotation {
        V1Annotation {
            timestamp: ts,
            value: Str::from_static(v),
            endpoint: e,
        }
    }

    #[test]
    fn merged_rpc_splits_into_client_and_shared_server() {
        let span = V1Span {
            trace_id: TraceId::new(0, 1),
            name: "get".into(),
            id: SpanId(2),
            parent_id: None,
            annotations: vec![
                ann(100, "cs", ep("fe")),
                ann(110, "sr", ep("be")),
                ann(115, "db query", ep("be")),
                ann(190, "ss", ep("be")),
                ann(200, "cr", ep("fe")),
            ],
            binary_annotations: vec![V1BinaryAnnotation {
                key: "http.path".into(),
                value: Value::Str("/".into()),
                endpoint: ep("fe"),
            }],
            debug: false,
            timestamp: Some(100),
            duration: Some(100),
        };
        let v2 = span.into_v2();
        assert_eq!(v2.len(), 2);
        let (c, s) = (&v2[0], &v2[1]);
        assert_eq!(
            (c.kind, c.timestamp, c.duration, c.shared),
            (Some(Kind::Client), 100, 100, false)
        );
        assert_eq!(
            (s.kind, s.timestamp, s.duration, s.shared),
            (Some(Kind::Server), 110, 80, true)
        );
        assert_eq!(c.local_endpoint, ep("fe"));
        assert_eq!(s.local_endpoint, ep("be"));
        assert_eq!(s.annotations[0].value, "db query");
        assert!(c.annotations.is_empty());
        assert_eq!(c.tags.len(), 1);
        assert!(s.tags.is_empty());
    }

    #[test]
    fn local_span_takes_its_service_from_lc() {
        let span = V1Span {
            trace_id: TraceId::new(0, 1),
            name: "compute".into(),
            id: SpanId(2),
            parent_id: Some(SpanId(1)),
            annotations: vec![],
            binary_annotations: vec![V1BinaryAnnotation {
                key: "lc".into(),
                value: Value::Str("worker".into()),
                endpoint: ep("batch"),
            }],
            debug: true,
            timestamp: Some(5),
            duration: Some(7),
        };
        let z = &span.into_v2()[0];
        assert_eq!(z.kind, None);
        assert_eq!(z.local_endpoint, ep("batch"));
        assert_eq!(z.tags, vec![KeyValue::string("lc", "worker")]);
        assert_eq!((z.timestamp, z.duration, z.debug), (5, 7, true));
    }

    #[test]
    fn client_with_server_address_and_no_timestamp_field() {
        let span = V1Span {
            trace_id: TraceId::new(0, 1),
            name: "call".into(),
            id: SpanId(2),
            parent_id: None,
            annotations: vec![ann(10, "cs", ep("fe")), ann(30, "cr", ep("fe"))],
            binary_annotations: vec![V1BinaryAnnotation {
                key: "sa".into(),
                value: Value::Bool(true),
                endpoint: ep("db"),
            }],
            debug: false,
            timestamp: None,
            duration: None,
        };
        let z = &span.into_v2()[0];
        assert_eq!(
            (z.kind, z.timestamp, z.duration),
            (Some(Kind::Client), 10, 20)
        );
        assert_eq!(z.remote_endpoint, ep("db"));
        assert!(z.tags.is_empty());
        assert_eq!(V1Span::from_v2(z).into_v2()[0], *z);
    }
}
