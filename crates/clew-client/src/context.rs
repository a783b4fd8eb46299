//! The part of a span that crosses process boundaries.

use std::fmt;
use std::sync::Arc;

use clew_model::{SpanId, TraceId};

/// Jaeger flag bit: the trace is sampled.
pub const FLAG_SAMPLED: u8 = 0x01;
/// Jaeger flag bit: sampling was forced (debug); always set with sampled.
pub const FLAG_DEBUG: u8 = 0x02;
/// Jaeger flag bit: store without indexing.
pub const FLAG_FIREHOSE: u8 = 0x08;

/// Baggage items in insertion order. Keys are compared exactly; propagators
/// lowercase them where their format requires.
pub type Baggage = Vec<(String, String)>;

/// Identity and baggage of a span: what propagators inject and extract.
///
/// Cloning is cheap: baggage and the other optional strings are shared
/// behind `Arc`s and copied only when changed.
#[derive(Clone, Default, PartialEq)]
pub struct SpanContext {
    trace_id: TraceId,
    span_id: SpanId,
    parent_id: SpanId,
    flags: u8,
    /// The sender made no sampling decision (B3 without a sampling state,
    /// X-Ray `Sampled=?`): the first span started under this context asks
    /// the local sampler. Lives in padding, so contexts do not grow.
    deferred: bool,
    /// The rest of the flags' word, always zero and written with them: a
    /// context is then built with whole-word stores. Left as padding, the
    /// compiler zeroed the flags with a 16-byte store overlapping the
    /// previous one, and a span's finish, reading a word under both,
    /// waited for them to reach the cache (a failed store forward).
    pad: [u8; 6],
    baggage: Option<Arc<Baggage>>,
    /// Rarely present, so kept behind one pointer to keep contexts small
    /// (they are copied into every span).
    extra: Option<Arc<Extra>>,
}

/// A context that names nothing (what a span shows while its record is
/// being reported).
pub(crate) static EMPTY: SpanContext = SpanContext {
    trace_id: TraceId { high: 0, low: 0 },
    span_id: SpanId(0),
    parent_id: SpanId(0),
    flags: 0,
    deferred: false,
    pad: [0; 6],
    baggage: None,
    extra: None,
};

#[derive(Clone, Debug, Default, PartialEq)]
struct Extra {
    debug_id: Option<Arc<str>>,
    trace_state: Option<Arc<str>>,
}

impl Extra {
    /// What a child inherits: the trace state, not the debug ID (which only
    /// marks the root of a forced trace).
    #[inline(never)]
    fn for_child(this: &Arc<Extra>) -> Option<Arc<Extra>> {
        match &this.debug_id {
            None => Some(this.clone()),
            Some(_) => this.trace_state.as_ref().map(|ts| {
                Arc::new(Extra {
                    debug_id: None,
                    trace_state: Some(ts.clone()),
                })
            }),
        }
    }
}

impl SpanContext {
    /// A context with the given identity and no baggage.
    pub fn new(trace_id: TraceId, span_id: SpanId, parent_id: SpanId, flags: u8) -> Self {
        SpanContext {
            trace_id,
            span_id,
            parent_id,
            flags,
            ..Default::default()
        }
    }

    /// A context that carries only a `jaeger-debug-id`: a span started from it
    /// begins a new, force-sampled trace tagged with that ID.
    pub fn debug_id_container(debug_id: impl Into<Arc<str>>) -> Self {
        SpanContext::default().with_debug_id(debug_id)
    }

    /// The trace ID.
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The span ID.
    pub fn span_id(&self) -> SpanId {
        self.span_id
    }

    /// The parent span ID (zero for a root span).
    pub fn parent_id(&self) -> SpanId {
        self.parent_id
    }

    /// Jaeger flags ([`FLAG_SAMPLED`], [`FLAG_DEBUG`], [`FLAG_FIREHOSE`]).
    pub fn flags(&self) -> u8 {
        self.flags
    }

    /// True when the trace is sampled.
    pub fn is_sampled(&self) -> bool {
        self.flags & FLAG_SAMPLED != 0
    }

    /// True when sampling was forced.
    pub fn is_debug(&self) -> bool {
        self.flags & FLAG_DEBUG != 0
    }

    /// True when the sender left the sampling decision to the receiver (B3
    /// `{trace}-{span}` without a sampling state, X-Ray `Sampled=?`). Such a
    /// context is neither sampled nor unsampled: a span started under it
    /// asks this tracer's sampler, as OpenTelemetry's samplers decide for a
    /// parent without a decision, and its children inherit that decision.
    pub fn is_sampling_deferred(&self) -> bool {
        self.deferred
    }

    /// A context whose sender made no sampling decision (see
    /// [`Self::is_sampling_deferred`]). Flags are cleared: a deferred
    /// context is not sampled until a local sampler says so.
    pub fn deferred(trace_id: TraceId, span_id: SpanId, parent_id: SpanId) -> Self {
        SpanContext {
            deferred: true,
            ..SpanContext::new(trace_id, span_id, parent_id, 0)
        }
    }

    /// True when both IDs are set, i.e. the context names a real span.
    pub fn is_valid(&self) -> bool {
        !self.trace_id.is_zero() && !self.span_id.is_zero()
    }

    /// True when this context carries something worth using as a parent:
    /// a real span, a debug ID, or baggage alone.
    pub fn is_empty(&self) -> bool {
        !self.is_valid() && self.debug_id().is_none() && self.baggage.is_none()
    }

    /// The `jaeger-debug-id` this context was extracted with, if any.
    pub fn debug_id(&self) -> Option<&str> {
        self.extra.as_ref()?.debug_id.as_deref()
    }

    /// The W3C `tracestate` received with this context, passed on unchanged.
    pub fn trace_state(&self) -> Option<&str> {
        self.extra.as_ref()?.trace_state.as_deref()
    }

    /// One baggage item.
    pub fn baggage_item(&self, key: &str) -> Option<&str> {
        self.baggage
            .as_ref()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// All baggage items in insertion order.
    pub fn baggage_items(&self) -> impl Iterator<Item = (&str, &str)> {
        self.baggage
            .iter()
            .flat_map(|b| b.iter())
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Sets a baggage item, replacing an existing one with the same key.
    pub fn set_baggage_item(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        let value = value.into();
        let items = Arc::make_mut(self.baggage.get_or_insert_with(Default::default));
        match items.iter_mut().find(|(k, _)| *k == key) {
            Some(item) => item.1 = value,
            None => items.push((key, value)),
        }
    }

    /// This context with one more baggage item.
    pub fn with_baggage_item(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.set_baggage_item(key, value);
        self
    }

    /// Replaces the flags; a context given flags carries a decision, so it
    /// is no longer deferred.
    pub fn with_flags(mut self, flags: u8) -> Self {
        self.flags = flags;
        self.deferred = false;
        self
    }

    /// Sets the W3C `tracestate` to pass on.
    pub fn with_trace_state(mut self, state: impl Into<Arc<str>>) -> Self {
        Arc::make_mut(self.extra.get_or_insert_with(Default::default)).trace_state =
            Some(state.into());
        self
    }

    /// Sets the `jaeger-debug-id`.
    pub fn with_debug_id(mut self, id: impl Into<Arc<str>>) -> Self {
        Arc::make_mut(self.extra.get_or_insert_with(Default::default)).debug_id = Some(id.into());
        self
    }

    /// Copies baggage from `other` into this context (other's values win).
    pub fn merge_baggage_from(&mut self, other: &SpanContext) {
        for (k, v) in other.baggage_items() {
            self.set_baggage_item(k, v);
        }
    }

    pub(crate) fn baggage_arc(&self) -> Option<&Arc<Baggage>> {
        self.baggage.as_ref()
    }

    /// A child context: same trace, flags, baggage and trace state, new span ID.
    /// A child is never deferred: the span that starts under a deferred
    /// parent decides (and sets the flags). Spans build theirs in place
    /// ([`Self::become_child_of`]); this by-value form is what the tests
    /// compare against.
    #[cfg(test)]
    pub(crate) fn child(&self, span_id: SpanId) -> Self {
        SpanContext {
            trace_id: self.trace_id,
            span_id,
            parent_id: self.span_id,
            flags: self.flags,
            deferred: false,
            pad: [0; 6],
            baggage: self.baggage.clone(),
            extra: match &self.extra {
                None => None,
                Some(e) => Extra::for_child(e),
            },
        }
    }

    /// Makes this context a child of `parent` in place (same trace, flags,
    /// baggage and trace state; with `flags` instead of the parent's when given),
    /// so a recycled record is filled field by field rather than by a copy.
    /// Spans use [`Self::become_child_of_released`]; this form releases
    /// what the context held first (tests start from contexts that hold
    /// baggage).
    #[cfg(test)]
    pub(crate) fn become_child_of(
        &mut self,
        parent: &SpanContext,
        span_id: SpanId,
        flags: Option<u8>,
    ) {
        self.release_shared();
        self.become_child_of_released(parent, span_id, flags);
    }

    /// [`Self::become_child_of`] for a context whose shared parts were
    /// released ([`Self::release_shared`], or a new context): recycled
    /// records and boxes always are, so the old parts are overwritten
    /// without the checks their drop makes (two tests and branches per
    /// span). Were they not released, they would only leak.
    #[inline(always)]
    pub(crate) fn become_child_of_released(
        &mut self,
        parent: &SpanContext,
        span_id: SpanId,
        flags: Option<u8>,
    ) {
        debug_assert!(self.baggage.is_none() && self.extra.is_none());
        self.trace_id = parent.trace_id;
        self.span_id = span_id;
        self.parent_id = parent.span_id;
        self.flags = match flags {
            Some(f) => f,
            None => parent.flags,
        };
        self.deferred = false;
        // One test for the common parent with neither shared part.
        let (baggage, extra) = if parent.holds_shared() {
            parent.shared_for_child()
        } else {
            (None, None)
        };
        std::mem::forget(std::mem::replace(&mut self.baggage, baggage));
        std::mem::forget(std::mem::replace(&mut self.extra, extra));
    }

    /// The shared parts a child inherits: the baggage, and the trace
    /// state but not the debug ID.
    #[inline(never)]
    fn shared_for_child(&self) -> (Option<Arc<Baggage>>, Option<Arc<Extra>>) {
        let extra = match &self.extra {
            None => None,
            Some(e) => Extra::for_child(e),
        };
        (self.baggage.clone(), extra)
    }

    /// Drops the shared parts (baggage, trace state) in place, leaving the
    /// IDs and flags: what is left needs no drop, so a finished span can be
    /// forgotten instead of going through its drop glue.
    ///
    /// One test for the common case of neither ([`Self::holds_shared`]):
    /// storing `None` over a
    /// `None` still tested each field for a drop and wrote it back.
    #[inline(always)]
    pub(crate) fn release_shared(&mut self) {
        if self.holds_shared() {
            self.release_present();
        }
    }

    /// Whether the context holds baggage or a trace state (shared parts
    /// that [`Self::release_shared`] releases).
    #[inline(always)]
    pub(crate) fn holds_shared(&self) -> bool {
        self.baggage.is_some() | self.extra.is_some()
    }

    #[cold]
    #[inline(never)]
    fn release_present(&mut self) {
        self.baggage = None;
        self.extra = None;
    }

    /// A root context, built in one go.
    #[inline]
    pub(crate) fn root(
        trace_id: TraceId,
        span_id: SpanId,
        flags: u8,
        baggage: Option<Arc<Baggage>>,
    ) -> Self {
        SpanContext {
            trace_id,
            span_id,
            parent_id: SpanId(0),
            flags,
            deferred: false,
            pad: [0; 6],
            baggage,
            extra: None,
        }
    }
}

impl fmt::Debug for SpanContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpanContext")
            .field("trace_id", &self.trace_id)
            .field("span_id", &self.span_id)
            .field("parent_id", &self.parent_id)
            .field("flags", &self.flags)
            .field("deferred", &self.deferred)
            .field("baggage", &self.baggage)
            .field("extra", &self.extra)
            .finish()
    }
}

/// `trace:span:parent:flags`, exactly as Jaeger clients print span
/// contexts (and as `uber-trace-id` carries them): trace ID in 16 hex digits
/// (32 when 128-bit), span and parent IDs in 16, flags in minimal hex.
impl fmt::Display for SpanContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}:{:x}",
            self.trace_id, self.span_id, self.parent_id, self.flags
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_matches_jaeger_clients() {
        let c = SpanContext::new(TraceId::new(0, 0xabc), SpanId(0x12), SpanId(0), 1);
        assert_eq!(
            c.to_string(),
            "0000000000000abc:0000000000000012:0000000000000000:1"
        );
        let c = SpanContext::new(TraceId::new(1, 2), SpanId(3), SpanId(4), 3);
        assert_eq!(
            c.to_string(),
            "00000000000000010000000000000002:0000000000000003:0000000000000004:3"
        );
    }

    #[test]
    fn baggage_is_copy_on_write() {
        let a = SpanContext::new(TraceId::new(0, 1), SpanId(1), SpanId(0), 1)
            .with_baggage_item("k", "v");
        let mut b = a.clone();
        b.set_baggage_item("k", "w");
        b.set_baggage_item("x", "y");
        assert_eq!(a.baggage_item("k"), Some("v"));
        assert_eq!(b.baggage_item("k"), Some("w"));
        assert_eq!(b.baggage_items().count(), 2);
        assert_eq!(a.baggage_item("x"), None);
    }

    #[test]
    fn child_keeps_trace_state_but_not_the_debug_id() {
        let p = SpanContext::new(TraceId::new(0, 9), SpanId(5), SpanId(0), 3)
            .with_trace_state("k=v")
            .with_debug_id("dbg");
        let c = p.child(SpanId(6));
        assert_eq!(c.trace_state(), Some("k=v"));
        assert_eq!(c.debug_id(), None);
        let only_debug = SpanContext::new(TraceId::new(0, 9), SpanId(5), SpanId(0), 3)
            .with_debug_id("dbg")
            .child(SpanId(7));
        assert_eq!(
            only_debug,
            SpanContext::new(TraceId::new(0, 9), SpanId(7), SpanId(5), 3)
        );
        let only_state = SpanContext::new(TraceId::new(0, 9), SpanId(5), SpanId(0), 1)
            .with_trace_state("a=b")
            .child(SpanId(8));
        assert_eq!(only_state.trace_state(), Some("a=b"));
    }

    #[test]
    fn becoming_a_child_in_place_matches_child() {
        let p = SpanContext::new(TraceId::new(3, 9), SpanId(5), SpanId(1), 1)
            .with_baggage_item("k", "v")
            .with_trace_state("a=b");
        let mut c = SpanContext::new(TraceId::new(0, 1), SpanId(2), SpanId(0), 0)
            .with_baggage_item("old", "x");
        c.become_child_of(&p, SpanId(6), None);
        assert_eq!(c, p.child(SpanId(6)));
        c.become_child_of(&p, SpanId(7), Some(FLAG_SAMPLED | FLAG_DEBUG));
        assert_eq!(c, p.child(SpanId(7)).with_flags(FLAG_SAMPLED | FLAG_DEBUG));
    }

    #[test]
    fn a_released_context_becomes_the_same_child() {
        let p = SpanContext::new(TraceId::new(3, 9), SpanId(5), SpanId(1), 1)
            .with_baggage_item("k", "v")
            .with_trace_state("a=b");
        let mut c = SpanContext::new(TraceId::new(0, 1), SpanId(2), SpanId(0), 0)
            .with_baggage_item("old", "x");
        let old = c.baggage_arc().cloned().expect("baggage");
        c.release_shared();
        // The released baggage is really gone from `c`, not leaked by it.
        assert_eq!(Arc::strong_count(&old), 1);
        c.become_child_of_released(&p, SpanId(6), None);
        assert_eq!(c, p.child(SpanId(6)));
        c.release_shared();
        c.become_child_of_released(&p, SpanId(7), Some(FLAG_SAMPLED | FLAG_DEBUG));
        assert_eq!(c, p.child(SpanId(7)).with_flags(FLAG_SAMPLED | FLAG_DEBUG));
        // The parent's shared parts are shared, not copied, and released
        // with the child.
        let parent_baggage = p.baggage_arc().expect("baggage");
        assert_eq!(Arc::strong_count(parent_baggage), 2);
        c.release_shared();
        assert_eq!(Arc::strong_count(parent_baggage), 1);
        // A debug ID stays with the parent; a trace state goes with it.
        for p in [
            SpanContext::new(TraceId::new(0, 9), SpanId(5), SpanId(0), 3).with_debug_id("dbg"),
            SpanContext::new(TraceId::new(0, 9), SpanId(5), SpanId(0), 3)
                .with_debug_id("dbg")
                .with_trace_state("k=v"),
            SpanContext::new(TraceId::new(0, 9), SpanId(5), SpanId(0), 1),
        ] {
            c.become_child_of_released(&p, SpanId(8), None);
            assert_eq!(c, p.child(SpanId(8)));
            c.release_shared();
        }
    }

    #[test]
    fn child_keeps_trace_and_points_at_parent() {
        let p = SpanContext::new(TraceId::new(0, 9), SpanId(5), SpanId(0), 1)
            .with_baggage_item("a", "b");
        let c = p.child(SpanId(6));
        assert_eq!(c.trace_id(), p.trace_id());
        assert_eq!(c.parent_id(), SpanId(5));
        assert_eq!(c.baggage_item("a"), Some("b"));
        assert!(c.is_sampled());
    }
}
