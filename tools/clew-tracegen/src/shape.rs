//! The shape of generated traces, copied from Jaeger's `tracegen` so results
//! compare with published figures measured with the same load: a root server
//! span `lets-go` carrying `peer.service` and `peer.host.ipv4`, then client
//! children `child-span-NN`, each with string attributes `attr_KK=val_VV`
//! that cycle through 97 keys and 1000 values.

use std::sync::Arc;

use clew_model::{KeyValue, Process, Reference, Span, SpanId, Str, TraceId};

/// Distinct attribute keys the generator cycles through (Jaeger tracegen's figure).
pub const ATTR_KEYS: usize = 97;
/// Distinct attribute values the generator cycles through.
pub const ATTR_VALUES: usize = 1000;
/// Duration of every generated child span; the root lasts as long as its children.
const CHILD_DURATION_NS: u64 = 100_000;

/// What one generated trace looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceShape {
    /// Spans per trace, root included (so 10 means a root and 9 children).
    pub spans_per_trace: usize,
    /// String attributes on each child span.
    pub tags_per_span: usize,
    /// Distinct services; each trace belongs to one, `tracegen-NN`.
    pub services: usize,
}

impl Default for TraceShape {
    fn default() -> Self {
        TraceShape {
            spans_per_trace: 10,
            tags_per_span: 11,
            services: 1,
        }
    }
}

/// A small, fast, deterministic PRNG (SplitMix64): trace IDs only need to be
/// distinct, not secure, and a seed makes a pool reproducible in tests.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next pseudo-random value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Builds traces of a [`TraceShape`]. Attribute keys and values are interned
/// once, so every generated tag shares its strings.
#[derive(Debug)]
pub struct TraceGenerator {
    shape: TraceShape,
    keys: Vec<Str>,
    values: Vec<Str>,
    processes: Vec<Arc<Process>>,
    attr_counter: usize,
    rng: SplitMix64,
    start_ns: u64,
}

impl TraceGenerator {
    /// A generator whose traces start at `start_ns` (Unix nanoseconds) and
    /// whose IDs come from `seed`.
    pub fn new(shape: TraceShape, seed: u64, start_ns: u64) -> Self {
        let keys = (0..ATTR_KEYS)
            .map(|k| Str::from(format!("attr_{k:02}")))
            .collect();
        let values = (0..ATTR_VALUES)
            .map(|v| Str::from(format!("val_{v:02}")))
            .collect();
        let processes = (0..shape.services.max(1))
            .map(|s| Arc::new(service_process(s)))
            .collect();
        TraceGenerator {
            shape,
            keys,
            values,
            processes,
            attr_counter: 0,
            rng: SplitMix64::new(seed),
            start_ns,
        }
    }

    /// The shape being generated.
    pub fn shape(&self) -> TraceShape {
        self.shape
    }

    /// The process of service number `service` (modulo the service count).
    pub fn process(&self, service: usize) -> Arc<Process> {
        self.processes[service % self.processes.len()].clone()
    }

    /// One trace of `service`, with trace ID `{high, random low}`; the root comes first.
    pub fn trace(&mut self, service: usize, high: u64) -> Vec<Span> {
        let process = self.process(service);
        let trace_id = TraceId::new(high, self.rng.next_u64());
        let n = self.shape.spans_per_trace.max(1);
        let children = (n - 1) as u64;
        let root_id = SpanId(self.span_id());

        let mut root = Span::new(trace_id, root_id, "lets-go", process.clone());
        root.flags = clew_model::Flags::SAMPLED;
        root.start_time = self.start_ns;
        root.duration = CHILD_DURATION_NS * children.max(1);
        root.tags = vec![
            KeyValue::string(clew_model::keys::SPAN_KIND, "server"),
            KeyValue::string(clew_model::keys::PEER_SERVICE, "tracegen-server"),
            KeyValue::string("peer.host.ipv4", "1.1.1.1"),
        ];

        let mut spans = Vec::with_capacity(n);
        spans.push(root);
        for i in 0..children {
            let mut child = Span::new(
                trace_id,
                SpanId(self.span_id()),
                format!("child-span-{:02}", i + 1),
                process.clone(),
            );
            child.flags = clew_model::Flags::SAMPLED;
            child.start_time = self.start_ns + i * CHILD_DURATION_NS;
            child.duration = CHILD_DURATION_NS;
            child
                .references
                .push(Reference::child_of(trace_id, root_id));
            child.tags.reserve(self.shape.tags_per_span + 1);
            child
                .tags
                .push(KeyValue::string(clew_model::keys::SPAN_KIND, "client"));
            for _ in 0..self.shape.tags_per_span {
                child.tags.push(self.next_attr());
            }
            spans.push(child);
        }
        spans
    }

    /// A non-zero span ID (zero means "no parent" on the thrift wire).
    fn span_id(&mut self) -> u64 {
        self.rng.next_u64().max(1)
    }

    fn next_attr(&mut self) -> KeyValue {
        let c = self.attr_counter;
        self.attr_counter = self.attr_counter.wrapping_add(1);
        KeyValue::string(
            self.keys[c % ATTR_KEYS].clone(),
            self.values[c % ATTR_VALUES].clone(),
        )
    }
}

/// `tracegen-NN` with the process tags a Jaeger client would add.
fn service_process(service: usize) -> Process {
    let mut p = Process::new(format!("tracegen-{service:02}"));
    p.tags = vec![
        KeyValue::string("hostname", "tracegen"),
        KeyValue::string("ip", "127.0.0.1"),
        KeyValue::string("jaeger.version", "clew-tracegen"),
    ];
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use clew_model::Value;

    #[test]
    fn a_trace_is_a_root_server_span_and_client_children() {
        let mut g = TraceGenerator::new(TraceShape::default(), 7, 1_000_000_000);
        let spans = g.trace(0, 42);
        assert_eq!(spans.len(), 10);
        let root = &spans[0];
        assert_eq!(&*root.operation_name, "lets-go");
        assert_eq!(root.kind_tag(), "server");
        assert_eq!(
            root.tag("peer.service").and_then(Value::as_str),
            Some("tracegen-server")
        );
        assert!(root.tag("peer.host.ipv4").is_some());
        assert_eq!(&*root.process.service_name, "tracegen-00");
        for (i, child) in spans[1..].iter().enumerate() {
            assert_eq!(&*child.operation_name, format!("child-span-{:02}", i + 1));
            assert_eq!(child.kind_tag(), "client");
            assert_eq!(child.parent_span_id(), Some(root.span_id));
            assert_eq!(child.trace_id, root.trace_id);
            assert_eq!(child.tags.len(), 12, "span.kind + 11 attributes");
        }
        assert_eq!(root.trace_id.high, 42);
    }

    #[test]
    fn attributes_cycle_through_97_keys_and_1000_values() {
        let shape = TraceShape {
            spans_per_trace: 2,
            tags_per_span: 1,
            services: 1,
        };
        let mut g = TraceGenerator::new(shape, 1, 0);
        let attrs: Vec<(String, String)> = (0..1000)
            .map(|_| {
                let t = &g.trace(0, 1)[1].tags[1];
                (t.key.to_string(), t.value.to_text())
            })
            .collect();
        assert_eq!(attrs[0], ("attr_00".into(), "val_00".into()));
        assert_eq!(attrs[96].0, "attr_96");
        assert_eq!(attrs[97], ("attr_00".into(), "val_97".into()));
        assert_eq!(attrs[999].1, "val_999");
        let keys: std::collections::HashSet<_> = attrs.iter().map(|a| &a.0).collect();
        assert_eq!(keys.len(), ATTR_KEYS);
    }

    #[test]
    fn traces_of_different_services_and_ids_differ() {
        let shape = TraceShape {
            services: 3,
            ..TraceShape::default()
        };
        let mut g = TraceGenerator::new(shape, 9, 0);
        let a = g.trace(0, 5);
        let b = g.trace(2, 5);
        assert_ne!(a[0].trace_id, b[0].trace_id);
        assert_eq!(&*b[0].process.service_name, "tracegen-02");
        assert_eq!(&*g.trace(3, 5)[0].process.service_name, "tracegen-00");
    }
}
