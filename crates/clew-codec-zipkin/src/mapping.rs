//! Zipkin v2 spans ↔ Clew's model.
//!
//! Zipkin → model (the rules documented in the crate docs):
//! * `localEndpoint` becomes the span's process: `serviceName` is the service
//!   ([`UNKNOWN_SERVICE`] when absent), and the address becomes process tags
//!   `ip` (dotted IPv4), `ipv6` and `port`.
//! * `kind` becomes the `span.kind` tag (first), then Zipkin's tags in order,
//!   then `remoteEndpoint` as `peer.service` / `peer.ipv4` / `peer.ipv6` /
//!   `peer.port`, then `zipkin.shared=true` for shared server spans.
//! * `parentId` becomes a CHILD_OF reference; annotations become logs with one
//!   `event` field; `debug` sets the DEBUG flag (SAMPLED is always set, as
//!   Zipkin only receives sampled spans); times go from µs to ns.
//! * Shared client/server span IDs are kept as sent: telling the two apart is
//!   the query side's job (Jaeger's span-ID uniquifier), not the decoder's.
//!
//! Model → Zipkin reverses these rules and is lossless for spans that came
//! from Zipkin. For other spans it does what Zipkin can carry: other process
//! tags become span tags (unless a span tag has the same key), logs with more
//! than an `event` field become annotations whose value is the fields as JSON,
//! and references other than the parent are dropped.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use clew_model::{Flags, KeyValue, Log, Process, Reference, Span, Str, Value, keys};

use crate::span::{Annotation, Endpoint, Kind, ZipkinSpan};

/// Service name used when a Zipkin span has no local service (OpenTelemetry's
/// default for an unnamed service).
pub const UNKNOWN_SERVICE: &str = "unknown_service";
/// Span tag marking a server span that shares its ID with the client span.
pub const SHARED_TAG: &str = "zipkin.shared";
/// Span tag carrying the message of a Zipkin `error` tag (OpenTracing's key).
pub const ERROR_MESSAGE: &str = "error.message";
/// Span tag for the remote endpoint's IPv4 address (dotted text).
pub const PEER_IPV4: &str = "peer.ipv4";
/// Span tag for the remote endpoint's IPv6 address (text).
pub const PEER_IPV6: &str = "peer.ipv6";
/// Span tag for the remote endpoint's port.
pub const PEER_PORT: &str = "peer.port";
/// Process tag for the local endpoint's IPv4 address (Jaeger clients use the same key).
pub const PROCESS_IP: &str = "ip";
/// Process tag for the local endpoint's IPv6 address.
pub const PROCESS_IPV6: &str = "ipv6";
/// Process tag for the local endpoint's port.
pub const PROCESS_PORT: &str = "port";

/// How many distinct local endpoints to remember when sharing processes
/// between the spans of one payload (payloads rarely mix more services).
const PROCESS_CACHE: usize = 8;

/// Converts decoded Zipkin spans to model spans. Spans with equal local
/// endpoints share one `Arc<Process>`.
pub fn to_model(spans: Vec<ZipkinSpan>) -> Vec<Span> {
    let mut cache: Vec<(Option<Endpoint>, Arc<Process>)> = Vec::new();
    spans
        .into_iter()
        .map(|z| {
            let process = match cache.iter().find(|(e, _)| *e == z.local_endpoint) {
                Some((_, p)) => p.clone(),
                None => {
                    let p = Arc::new(process_from(z.local_endpoint.as_ref()));
                    if cache.len() == PROCESS_CACHE {
                        cache.remove(0);
                    }
                    cache.push((z.local_endpoint.clone(), p.clone()));
                    p
                }
            };
            span_to_model(z, process)
        })
        .collect()
}

fn process_from(ep: Option<&Endpoint>) -> Process {
    let mut p = Process::new(UNKNOWN_SERVICE);
    if let Some(ep) = ep {
        if !ep.service_name.is_empty() {
            p.service_name = ep.service_name.clone();
        }
        if let Some(ip) = ep.ipv4 {
            p.tags.push(KeyValue::string(PROCESS_IP, ip.to_string()));
        }
        if let Some(ip) = ep.ipv6 {
            p.tags.push(KeyValue::string(PROCESS_IPV6, ip.to_string()));
        }
        if ep.port != 0 {
            p.tags.push(KeyValue::i64(PROCESS_PORT, i64::from(ep.port)));
        }
    }
    p
}

/// One Zipkin span to a model span with the given process.
pub fn span_to_model(z: ZipkinSpan, process: Arc<Process>) -> Span {
    let mut span = Span::new(z.trace_id, z.id, z.name, process);
    if let Some(parent) = z.parent_id {
        span.references
            .push(Reference::child_of(z.trace_id, parent));
    }
    span.flags = Flags::SAMPLED | if z.debug { Flags::DEBUG } else { 0 };
    span.start_time = z.timestamp.saturating_mul(1000);
    span.duration = z.duration.saturating_mul(1000);
    let extra = usize::from(z.kind.is_some()) + 4 + usize::from(z.shared);
    span.tags.reserve_exact(z.tags.len() + extra);
    if let Some(kind) = z.kind {
        span.tags
            .push(KeyValue::string(keys::SPAN_KIND, kind.tag_value()));
    }
    extend_with_error(&mut span.tags, z.tags);
    if let Some(ep) = z.remote_endpoint {
        if !ep.service_name.is_empty() {
            span.tags
                .push(KeyValue::string(keys::PEER_SERVICE, ep.service_name));
        }
        if let Some(ip) = ep.ipv4 {
            span.tags.push(KeyValue::string(PEER_IPV4, ip.to_string()));
        }
        if let Some(ip) = ep.ipv6 {
            span.tags.push(KeyValue::string(PEER_IPV6, ip.to_string()));
        }
        if ep.port != 0 {
            span.tags.push(KeyValue::i64(PEER_PORT, i64::from(ep.port)));
        }
    }
    if z.shared {
        span.tags.push(KeyValue::bool(SHARED_TAG, true));
    }
    span.logs = z
        .annotations
        .into_iter()
        .map(|a| Log {
            timestamp: a.timestamp.saturating_mul(1000),
            fields: vec![KeyValue::new(keys::EVENT, Value::Str(a.value))],
        })
        .collect();
    span
}

/// A model span as a Zipkin v2 span (for Zipkin's read API and encoders).
pub fn from_model(span: &Span) -> ZipkinSpan {
    let mut z = ZipkinSpan::new(span.trace_id, span.span_id);
    z.parent_id = span.parent_span_id();
    z.name = span.operation_name.clone();
    z.timestamp = span.start_time / 1000;
    z.duration = span.duration / 1000;
    z.debug = span.flags & Flags::DEBUG != 0;

    let mut tags: Vec<KeyValue> = span.tags.clone();
    z.kind = take(&mut tags, keys::SPAN_KIND, |v| match v {
        Value::Str(s) if Kind::from_tag_value(s).is_some() || &**s == "internal" => {
            Some(Kind::from_tag_value(s))
        }
        _ => None,
    })
    .flatten();
    z.shared = take(&mut tags, SHARED_TAG, |v| match v {
        Value::Bool(b) => Some(*b),
        Value::Str(s) => s.parse().ok(),
        _ => None,
    })
    .unwrap_or(false);
    let remote = Endpoint {
        service_name: take(&mut tags, keys::PEER_SERVICE, |v| match v {
            Value::Str(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_default(),
        ipv4: take(&mut tags, PEER_IPV4, ipv4_of),
        ipv6: take(&mut tags, PEER_IPV6, ipv6_of),
        port: take(&mut tags, PEER_PORT, port_of).unwrap_or(0),
    };
    z.remote_endpoint = (!remote.is_empty()).then_some(remote);

    let mut ptags = span.process.tags.clone();
    let local = Endpoint {
        service_name: if &*span.process.service_name == UNKNOWN_SERVICE {
            Str::new()
        } else {
            span.process.service_name.clone()
        },
        ipv4: take(&mut ptags, PROCESS_IP, ipv4_of),
        ipv6: take(&mut ptags, PROCESS_IPV6, ipv6_of),
        port: take(&mut ptags, PROCESS_PORT, port_of).unwrap_or(0),
    };
    z.local_endpoint = (!local.is_empty()).then_some(local);
    for kv in ptags {
        if !tags.iter().any(|t| t.key == kv.key) {
            tags.push(kv);
        }
    }
    fold_error(&mut tags);
    z.tags = tags;
    z.annotations = span.logs.iter().map(annotation_of).collect();
    z
}

/// Zipkin's `error` tag holds the error message (any value means failed);
/// Jaeger's is a boolean with the message in `error.message`. So `error=V`
/// becomes `error=true` followed by `error.message=V`, except `error="true"`,
/// which Jaeger already reads as an error and is kept as is.
fn extend_with_error(tags: &mut Vec<KeyValue>, zipkin: Vec<KeyValue>) {
    for kv in zipkin {
        match kv.value {
            Value::Str(msg) if &*kv.key == keys::ERROR && &*msg != "true" => {
                tags.push(KeyValue::bool(keys::ERROR, true));
                tags.push(KeyValue::new(ERROR_MESSAGE, Value::Str(msg)));
            }
            value => tags.push(KeyValue { key: kv.key, value }),
        }
    }
}

/// The inverse of [`extend_with_error`]: `error=true` directly followed by
/// `error.message=V` becomes Zipkin's `error=V`.
fn fold_error(tags: &mut Vec<KeyValue>) {
    let at = tags.windows(2).position(|w| {
        &*w[0].key == keys::ERROR
            && w[0].value == Value::Bool(true)
            && &*w[1].key == ERROR_MESSAGE
            && matches!(w[1].value, Value::Str(_))
    });
    if let Some(i) = at {
        let msg = tags.remove(i + 1).value;
        tags[i].value = msg;
    }
}

fn annotation_of(log: &Log) -> Annotation {
    let value = match log.fields.as_slice() {
        [kv] if &*kv.key == keys::EVENT => match &kv.value {
            Value::Str(s) => s.clone(),
            v => Str::from(v.to_text()),
        },
        fields => Str::from(Value::Map(fields.to_vec()).to_text()),
    };
    Annotation {
        timestamp: log.timestamp / 1000,
        value,
    }
}

/// Removes the first tag with `key` whose value `f` accepts, returning what
/// `f` made of it. Tags `f` rejects stay (they are ordinary tags then).
fn take<T>(tags: &mut Vec<KeyValue>, key: &str, f: impl Fn(&Value) -> Option<T>) -> Option<T> {
    let (i, out) = tags
        .iter()
        .enumerate()
        .filter(|(_, t)| &*t.key == key)
        .find_map(|(i, t)| f(&t.value).map(|o| (i, o)))?;
    tags.remove(i);
    Some(out)
}

/// IPv4 from dotted text, or from the packed big-endian integer old Jaeger
/// clients sent.
fn ipv4_of(v: &Value) -> Option<Ipv4Addr> {
    match v {
        Value::Str(s) => s.parse().ok(),
        Value::I64(n) => u32::try_from(*n)
            .ok()
            .or_else(|| i32::try_from(*n).ok().map(|n| n as u32))
            .map(Ipv4Addr::from),
        Value::Binary(b) => <[u8; 4]>::try_from(&b[..]).ok().map(Ipv4Addr::from),
        _ => None,
    }
}

fn ipv6_of(v: &Value) -> Option<Ipv6Addr> {
    match v {
        Value::Str(s) => s.parse().ok(),
        Value::Binary(b) => <[u8; 16]>::try_from(&b[..]).ok().map(Ipv6Addr::from),
        _ => None,
    }
}

fn port_of(v: &Value) -> Option<u16> {
    match v {
        Value::I64(n) => u16::try_from(*n).ok().filter(|p| *p != 0),
        Value::Str(s) => s.parse().ok().filter(|p| *p != 0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clew_model::{SpanId, SpanKind, TraceId};

    fn sample() -> ZipkinSpan {
        let mut z = ZipkinSpan::new(TraceId::new(1, 2), SpanId(3));
        z.parent_id = Some(SpanId(4));
        z.kind = Some(Kind::Server);
        z.name = "get /users".into();
        z.timestamp = 1_700_000_000_000_000;
        z.duration = 1500;
        z.local_endpoint = Some(Endpoint {
            service_name: "backend".into(),
            ipv4: Some(Ipv4Addr::new(10, 0, 0, 1)),
            ipv6: None,
            port: 8080,
        });
        z.remote_endpoint = Some(Endpoint {
            service_name: "frontend".into(),
            ipv4: Some(Ipv4Addr::new(10, 0, 0, 2)),
            ipv6: Some(Ipv6Addr::LOCALHOST),
            port: 0,
        });
        z.annotations.push(Annotation {
            timestamp: 1_700_000_000_000_100,
            value: "cache miss".into(),
        });
        z.tags.push(KeyValue::string("http.path", "/users"));
        z.debug = true;
        z.shared = true;
        z
    }

    #[test]
    fn zipkin_span_maps_to_jaeger_conventions() {
        let spans = to_model(vec![sample()]);
        let s = &spans[0];
        assert_eq!(s.kind(), SpanKind::Server);
        assert_eq!(s.parent_span_id(), Some(SpanId(4)));
        assert_eq!(s.flags, Flags::SAMPLED | Flags::DEBUG);
        assert_eq!(s.start_time, 1_700_000_000_000_000_000);
        assert_eq!(s.duration, 1_500_000);
        assert_eq!(&*s.process.service_name, "backend");
        assert_eq!(
            s.process.tags,
            vec![
                KeyValue::string("ip", "10.0.0.1"),
                KeyValue::i64("port", 8080)
            ]
        );
        assert_eq!(
            s.tag("peer.service").and_then(Value::as_str),
            Some("frontend")
        );
        assert_eq!(s.tag("peer.ipv4").and_then(Value::as_str), Some("10.0.0.2"));
        assert_eq!(s.tag("peer.ipv6").and_then(Value::as_str), Some("::1"));
        assert_eq!(s.tag(SHARED_TAG), Some(&Value::Bool(true)));
        assert_eq!(
            s.logs[0].fields,
            vec![KeyValue::string("event", "cache miss")]
        );
        assert_eq!(s.logs[0].timestamp, 1_700_000_000_000_100_000);
    }

    #[test]
    fn round_trips_through_the_model() {
        let z = sample();
        let back = from_model(&to_model(vec![z.clone()])[0]);
        assert_eq!(back, z);
    }

    #[test]
    fn zipkin_error_message_becomes_jaeger_error_flag() {
        let mut z = sample();
        z.tags.push(KeyValue::string("error", "connection refused"));
        let s = &to_model(vec![z.clone()])[0];
        assert!(s.is_error());
        assert_eq!(
            s.tag(ERROR_MESSAGE).and_then(Value::as_str),
            Some("connection refused")
        );
        assert_eq!(from_model(s), z);
        z.tags[1] = KeyValue::string("error", "true");
        let s = &to_model(vec![z.clone()])[0];
        assert!(s.is_error());
        assert_eq!(s.tag(ERROR_MESSAGE), None);
        assert_eq!(from_model(s), z);
    }

    #[test]
    fn spans_of_one_service_share_a_process() {
        let spans = to_model(vec![sample(), sample()]);
        assert!(Arc::ptr_eq(&spans[0].process, &spans[1].process));
    }

    #[test]
    fn missing_local_endpoint_gets_the_unknown_service() {
        let z = ZipkinSpan::new(TraceId::new(0, 1), SpanId(1));
        let s = &to_model(vec![z.clone()])[0];
        assert_eq!(&*s.process.service_name, UNKNOWN_SERVICE);
        assert_eq!(from_model(s), z);
    }

    #[test]
    fn jaeger_spans_carry_what_zipkin_can() {
        let mut p = Process::new("svc");
        p.tags.push(KeyValue::i64("ip", 0x0a00_0001));
        p.tags.push(KeyValue::string("hostname", "h1"));
        let mut s = Span::new(TraceId::new(0, 1), SpanId(2), "op", Arc::new(p));
        s.tags.push(KeyValue::string("span.kind", "internal"));
        s.tags.push(KeyValue::i64("peer.ipv4", 0x7f00_0001));
        s.logs.push(Log {
            timestamp: 5000,
            fields: vec![KeyValue::string("event", "x"), KeyValue::i64("n", 1)],
        });
        let z = from_model(&s);
        assert_eq!(z.kind, None);
        let local = z.local_endpoint.expect("local endpoint");
        assert_eq!(local.ipv4, Some(Ipv4Addr::new(10, 0, 0, 1)));
        let remote = z.remote_endpoint.expect("remote endpoint");
        assert_eq!(remote.ipv4, Some(Ipv4Addr::LOCALHOST));
        assert_eq!(z.tags, vec![KeyValue::string("hostname", "h1")]);
        assert_eq!(&*z.annotations[0].value, r#"{"event":"x","n":1}"#);
        assert_eq!(z.annotations[0].timestamp, 5);
    }
}
