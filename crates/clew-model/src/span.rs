//! Spans, their parts, and the containers they travel in.

use std::sync::Arc;

use crate::ids::{SpanId, TraceId};
use crate::value::{KeyValue, Str, Value};

/// The service that emitted spans, and its tags (host name, IP, client version…).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Process {
    /// Service name (`service.name` in OTLP, `serviceName` in Jaeger).
    pub service_name: Str,
    /// Process tags (OTLP resource attributes other than `service.name`).
    pub tags: Vec<KeyValue>,
}

impl Process {
    /// A process with no tags.
    pub fn new(service_name: impl Into<Str>) -> Self {
        Process {
            service_name: service_name.into(),
            tags: Vec::new(),
        }
    }

    /// Rough heap footprint in bytes.
    pub fn estimated_size(&self) -> usize {
        64 + self.service_name.len()
            + self
                .tags
                .iter()
                .map(KeyValue::estimated_size)
                .sum::<usize>()
    }
}

/// The OpenTelemetry instrumentation scope (library) that recorded a span.
///
/// The scope's name and version travel as the `otel.scope.name` and
/// `otel.scope.version` tags, because Jaeger's JSON shows them that way; what
/// has no Jaeger tag form lives here. Jaeger v2 matches a tag search against
/// scope attributes too, so the store must keep them. Spans of one OTLP
/// `ScopeSpans` share one `Arc<Scope>`; spans from Jaeger or Zipkin have none.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Scope {
    /// Instrumentation-scope attributes.
    pub attributes: Vec<KeyValue>,
}

impl Scope {
    /// Rough heap footprint in bytes.
    pub fn estimated_size(&self) -> usize {
        32 + self
            .attributes
            .iter()
            .map(KeyValue::estimated_size)
            .sum::<usize>()
    }
}

/// How a span relates to the span a reference points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RefType {
    /// The referenced span is the parent and waits for this one.
    ChildOf,
    /// The referenced span caused this one but does not wait for it.
    FollowsFrom,
}

impl RefType {
    /// Jaeger JSON's name for the type.
    pub fn jaeger_name(self) -> &'static str {
        match self {
            RefType::ChildOf => "CHILD_OF",
            RefType::FollowsFrom => "FOLLOWS_FROM",
        }
    }
}

/// A reference to another span, possibly in another trace.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    /// Relationship.
    pub ref_type: RefType,
    /// Trace of the referenced span.
    pub trace_id: TraceId,
    /// Referenced span.
    pub span_id: SpanId,
    /// Attributes of an OTLP link (empty for Jaeger/Zipkin references).
    pub tags: Vec<KeyValue>,
}

impl Reference {
    /// A CHILD_OF reference without attributes.
    pub fn child_of(trace_id: TraceId, span_id: SpanId) -> Self {
        Reference {
            ref_type: RefType::ChildOf,
            trace_id,
            span_id,
            tags: Vec::new(),
        }
    }

    /// A FOLLOWS_FROM reference without attributes.
    pub fn follows_from(trace_id: TraceId, span_id: SpanId) -> Self {
        Reference {
            ref_type: RefType::FollowsFrom,
            ..Self::child_of(trace_id, span_id)
        }
    }
}

/// A timestamped set of fields attached to a span (an OTLP event, a Zipkin annotation).
#[derive(Clone, Debug, PartialEq)]
pub struct Log {
    /// Unix time in nanoseconds.
    pub timestamp: u64,
    /// Fields; an `event` field names the event.
    pub fields: Vec<KeyValue>,
}

/// Span flags as Jaeger defines them (bit field in `Span::flags`).
pub struct Flags;

impl Flags {
    /// The trace was sampled.
    pub const SAMPLED: u32 = 1;
    /// Debug sampling was forced (e.g. by `jaeger-debug-id`).
    pub const DEBUG: u32 = 2;
    /// Store but do not index; retrievable by trace ID only.
    pub const FIREHOSE: u32 = 8;
}

/// The span kinds of OpenTelemetry / OpenTracing, as carried in `span.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SpanKind {
    /// No kind, or `internal`.
    Internal,
    /// Server side of an RPC.
    Server,
    /// Client side of an RPC.
    Client,
    /// Message producer.
    Producer,
    /// Message consumer.
    Consumer,
}

impl SpanKind {
    /// The lowercase tag value (`server`, `client`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            SpanKind::Internal => "internal",
            SpanKind::Server => "server",
            SpanKind::Client => "client",
            SpanKind::Producer => "producer",
            SpanKind::Consumer => "consumer",
        }
    }

    /// Parses a tag value; unknown values are `None`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "internal" => SpanKind::Internal,
            "server" => SpanKind::Server,
            "client" => SpanKind::Client,
            "producer" => SpanKind::Producer,
            "consumer" => SpanKind::Consumer,
            _ => return None,
        })
    }
}

/// One unit of work.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    /// The trace the span belongs to.
    pub trace_id: TraceId,
    /// The span's own ID.
    pub span_id: SpanId,
    /// Operation name.
    pub operation_name: Str,
    /// References; the parent is the first CHILD_OF in the same trace.
    pub references: Vec<Reference>,
    /// Jaeger flags ([`Flags`]).
    pub flags: u32,
    /// Start, Unix nanoseconds.
    pub start_time: u64,
    /// Duration in nanoseconds.
    pub duration: u64,
    /// Tags.
    pub tags: Vec<KeyValue>,
    /// Logs.
    pub logs: Vec<Log>,
    /// The emitting process, shared by all spans of a batch.
    pub process: Arc<Process>,
    /// The OpenTelemetry instrumentation scope's attributes, if it had any.
    pub scope: Option<Arc<Scope>>,
    /// Problems found while ingesting or adjusting the span.
    pub warnings: Vec<String>,
}

impl Span {
    /// A span with no tags, logs or references, starting at time 0.
    pub fn new(
        trace_id: TraceId,
        span_id: SpanId,
        operation_name: impl Into<Str>,
        process: Arc<Process>,
    ) -> Self {
        Span {
            trace_id,
            span_id,
            operation_name: operation_name.into(),
            references: Vec::new(),
            flags: 0,
            start_time: 0,
            duration: 0,
            tags: Vec::new(),
            logs: Vec::new(),
            process,
            scope: None,
            warnings: Vec::new(),
        }
    }

    /// The parent span: the first CHILD_OF reference within the same trace,
    /// else the first reference within the same trace (Jaeger's rule).
    pub fn parent_span_id(&self) -> Option<SpanId> {
        let same = |r: &&Reference| r.trace_id == self.trace_id;
        self.references
            .iter()
            .filter(same)
            .find(|r| r.ref_type == RefType::ChildOf)
            .or_else(|| self.references.iter().find(|r| r.trace_id == self.trace_id))
            .map(|r| r.span_id)
    }

    /// The first tag with this key.
    pub fn tag(&self, key: &str) -> Option<&Value> {
        self.tags.iter().find(|t| &*t.key == key).map(|t| &t.value)
    }

    /// Span kind from the `span.kind` tag (`Internal` when absent or unknown).
    pub fn kind(&self) -> SpanKind {
        self.tag(crate::keys::SPAN_KIND)
            .and_then(Value::as_str)
            .and_then(SpanKind::parse)
            .unwrap_or(SpanKind::Internal)
    }

    /// The raw `span.kind` tag value, if any (empty string when absent).
    pub fn kind_tag(&self) -> &str {
        self.tag(crate::keys::SPAN_KIND)
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// True if the span has `error=true` (bool or string).
    pub fn is_error(&self) -> bool {
        match self.tag(crate::keys::ERROR) {
            Some(Value::Bool(b)) => *b,
            Some(Value::Str(s)) => &**s == "true",
            _ => false,
        }
    }

    /// End time, Unix nanoseconds.
    pub fn end_time(&self) -> u64 {
        self.start_time.saturating_add(self.duration)
    }

    /// Rough heap footprint in bytes, for memory accounting. The process is
    /// shared and not counted here; a scope is counted with every span that
    /// shares it (an overestimate, and scopes are small).
    pub fn estimated_size(&self) -> usize {
        let refs: usize = self
            .references
            .iter()
            .map(|r| 64 + r.tags.iter().map(KeyValue::estimated_size).sum::<usize>())
            .sum();
        let scope = self.scope.as_deref().map_or(0, Scope::estimated_size);
        let tags: usize = self.tags.iter().map(KeyValue::estimated_size).sum();
        let logs: usize = self
            .logs
            .iter()
            .map(|l| 32 + l.fields.iter().map(KeyValue::estimated_size).sum::<usize>())
            .sum();
        200 + self.operation_name.len() + refs + tags + logs + scope
    }
}

/// Spans received together (one thrift `Batch`, one OTLP request…), each
/// already carrying its process.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpanBatch {
    /// The spans.
    pub spans: Vec<Span>,
}

/// All stored spans of one trace.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trace {
    /// Spans in storage order.
    pub spans: Vec<Span>,
    /// Trace-level warnings (for example from adjusters).
    pub warnings: Vec<String>,
}

impl Trace {
    /// The trace's ID (of its first span), if it has spans.
    pub fn trace_id(&self) -> Option<TraceId> {
        self.spans.first().map(|s| s.trace_id)
    }

    /// The earliest span start, Unix nanoseconds.
    pub fn start_time(&self) -> u64 {
        self.spans.iter().map(|s| s.start_time).min().unwrap_or(0)
    }

    /// From the earliest start to the latest end, in nanoseconds.
    pub fn duration(&self) -> u64 {
        let end = self.spans.iter().map(Span::end_time).max().unwrap_or(0);
        end.saturating_sub(self.start_time())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_prefers_same_trace_child_of() {
        let p = Arc::new(Process::new("svc"));
        let t = TraceId::new(0, 1);
        let mut s = Span::new(t, SpanId(3), "op", p);
        s.references
            .push(Reference::child_of(TraceId::new(0, 9), SpanId(9)));
        s.references.push(Reference::follows_from(t, SpanId(4)));
        assert_eq!(s.parent_span_id(), Some(SpanId(4)));
        s.references.push(Reference::child_of(t, SpanId(5)));
        assert_eq!(s.parent_span_id(), Some(SpanId(5)));
    }

    #[test]
    fn kind_and_error_from_tags() {
        let mut s = Span::new(TraceId::new(0, 1), SpanId(1), "op", Arc::default());
        assert_eq!(s.kind(), SpanKind::Internal);
        s.tags.push(KeyValue::string("span.kind", "server"));
        s.tags.push(KeyValue::string("error", "true"));
        assert_eq!(s.kind(), SpanKind::Server);
        assert!(s.is_error());
    }
}
