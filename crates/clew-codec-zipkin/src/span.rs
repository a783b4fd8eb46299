//! Zipkin's v2 span, the hub every Zipkin format converts through.
//!
//! v2 JSON and proto3 are this shape on the wire; v1 (JSON and thrift) is
//! first converted to it, as Zipkin itself does, so the mapping to Clew's
//! model is written once (in [`crate::mapping`]).

use std::net::{Ipv4Addr, Ipv6Addr};

use clew_model::{KeyValue, SpanId, Str, TraceId};

/// Zipkin's span kinds. Absent kind means a local (in-process) span.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Client side of an RPC.
    Client,
    /// Server side of an RPC.
    Server,
    /// Message producer.
    Producer,
    /// Message consumer.
    Consumer,
}

impl Kind {
    /// The upper-case name used by Zipkin JSON.
    pub fn json_name(self) -> &'static str {
        match self {
            Kind::Client => "CLIENT",
            Kind::Server => "SERVER",
            Kind::Producer => "PRODUCER",
            Kind::Consumer => "CONSUMER",
        }
    }

    /// Parses Zipkin JSON's name (case-insensitive, as Zipkin's own parser is).
    pub fn from_json_name(s: &str) -> Option<Self> {
        Some(match s.to_ascii_uppercase().as_str() {
            "CLIENT" => Kind::Client,
            "SERVER" => Kind::Server,
            "PRODUCER" => Kind::Producer,
            "CONSUMER" => Kind::Consumer,
            _ => return None,
        })
    }

    /// The lowercase `span.kind` tag value of the model.
    pub fn tag_value(self) -> &'static str {
        match self {
            Kind::Client => "client",
            Kind::Server => "server",
            Kind::Producer => "producer",
            Kind::Consumer => "consumer",
        }
    }

    /// Parses a `span.kind` tag value; `internal` and unknown values are no kind.
    pub fn from_tag_value(s: &str) -> Option<Self> {
        Some(match s {
            "client" => Kind::Client,
            "server" => Kind::Server,
            "producer" => Kind::Producer,
            "consumer" => Kind::Consumer,
            _ => return None,
        })
    }

    /// The proto3 enum number.
    pub fn proto_number(self) -> i32 {
        match self {
            Kind::Client => 1,
            Kind::Server => 2,
            Kind::Producer => 3,
            Kind::Consumer => 4,
        }
    }

    /// From the proto3 enum number; 0 (unspecified) and unknown numbers are no kind.
    pub fn from_proto_number(n: i32) -> Option<Self> {
        Some(match n {
            1 => Kind::Client,
            2 => Kind::Server,
            3 => Kind::Producer,
            4 => Kind::Consumer,
            _ => return None,
        })
    }
}

/// A network endpoint: the local service of a span, or the remote peer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Endpoint {
    /// Service name; empty when absent.
    pub service_name: Str,
    /// IPv4 address, if known.
    pub ipv4: Option<Ipv4Addr>,
    /// IPv6 address, if known.
    pub ipv6: Option<Ipv6Addr>,
    /// Port; 0 when absent.
    pub port: u16,
}

impl Endpoint {
    /// True when nothing is known about the endpoint (Zipkin omits it then).
    pub fn is_empty(&self) -> bool {
        self.service_name.is_empty() && self.ipv4.is_none() && self.ipv6.is_none() && self.port == 0
    }
}

/// A timestamped event on a span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annotation {
    /// Unix time in microseconds.
    pub timestamp: u64,
    /// What happened.
    pub value: Str,
}

/// A Zipkin v2 span. Tags keep a typed value because v1 binary annotations
/// are typed (BOOL, I64, DOUBLE…) and Jaeger keeps those types; v2 tags are
/// always strings.
#[derive(Clone, Debug, PartialEq)]
pub struct ZipkinSpan {
    /// Trace ID (64 or 128 bit).
    pub trace_id: TraceId,
    /// Parent span, if any (Zipkin sends none, or zero, for roots).
    pub parent_id: Option<SpanId>,
    /// The span's ID; shared by client and server in Zipkin's RPC model.
    pub id: SpanId,
    /// RPC / messaging role, if any.
    pub kind: Option<Kind>,
    /// Operation name; empty when absent.
    pub name: Str,
    /// Start, Unix microseconds; 0 when absent.
    pub timestamp: u64,
    /// Duration in microseconds; 0 when absent.
    pub duration: u64,
    /// The service that recorded the span.
    pub local_endpoint: Option<Endpoint>,
    /// The peer of an RPC or messaging span.
    pub remote_endpoint: Option<Endpoint>,
    /// Events.
    pub annotations: Vec<Annotation>,
    /// Tags, in key order for v2 formats (they are maps on the wire).
    pub tags: Vec<KeyValue>,
    /// Debug sampling forced.
    pub debug: bool,
    /// A server span sharing its ID with the client span (Zipkin's RPC model).
    pub shared: bool,
}

impl ZipkinSpan {
    /// A span with only its IDs set.
    pub fn new(trace_id: TraceId, id: SpanId) -> Self {
        ZipkinSpan {
            trace_id,
            parent_id: None,
            id,
            kind: None,
            name: Str::new(),
            timestamp: 0,
            duration: 0,
            local_endpoint: None,
            remote_endpoint: None,
            annotations: Vec::new(),
            tags: Vec::new(),
            debug: false,
            shared: false,
        }
    }
}
