//! Spans: started by a [`SpanBuilder`], annotated, finished (or dropped),
//! then handed to the tracer's reporter as a [`FinishedSpan`].

mod active;
mod builder;
mod finished;
pub(crate) mod local;
pub(crate) mod pool;

pub use active::{ActiveScope, active_context};
pub use builder::{AsSpanContext, DEBUG_ID_TAG, SpanBuilder};
pub use finished::{FinishedSpan, SpanRef, Tags};

use std::borrow::Cow;
use std::time::SystemTime;

use crate::clock;
use crate::context::SpanContext;
use crate::tag::{LogRecord, Tag, TagValue};
use clew_model::RefType;

/// One unit of work in progress. Finishing consumes it; dropping an
/// unfinished span finishes it at the time of the drop.
///
/// A sampled span holds its (recycled, boxed) record; an unsampled one only
/// its context, so it allocates and records nothing. Taking the record out
/// at finish moves one pointer.
///
/// `Span` is `Send`, so it may be finished on another thread or held across
/// `.await` points.
#[derive(Debug)]
pub struct Span {
    record: Option<Box<FinishedSpan>>,
    /// The context of an unsampled span (default when sampled: the record
    /// has its own).
    unsampled: SpanContext,
    tracer_id: u64,
}

impl Span {
    #[inline]
    pub(crate) fn sampled(record: Box<FinishedSpan>, tracer_id: u64) -> Self {
        Span {
            record: Some(record),
            unsampled: SpanContext::default(),
            tracer_id,
        }
    }

    #[inline]
    pub(crate) fn unsampled(context: SpanContext, tracer_id: u64) -> Self {
        Span {
            record: None,
            unsampled: context,
            tracer_id,
        }
    }

    /// A span that records nothing and has an empty context.
    pub fn noop() -> Self {
        Span::unsampled(SpanContext::default(), 0)
    }

    /// The span's context (for children and for injection).
    pub fn context(&self) -> &SpanContext {
        match &self.record {
            Some(r) => &r.context,
            None => &self.unsampled,
        }
    }

    fn context_mut(&mut self) -> Option<&mut SpanContext> {
        Some(match &mut self.record {
            Some(r) => &mut r.context,
            None => &mut self.unsampled,
        })
    }

    #[inline]
    fn record(&mut self) -> Option<&mut FinishedSpan> {
        self.record.as_deref_mut()
    }

    /// True when the span is being recorded.
    pub fn is_sampled(&self) -> bool {
        self.record.is_some()
    }

    /// Sets a tag (no-op on unsampled spans). Setting a key twice keeps both,
    /// as Jaeger clients do.
    #[inline]
    pub fn set_tag(
        &mut self,
        key: impl Into<Cow<'static, str>>,
        value: impl Into<TagValue>,
    ) -> &mut Self {
        if let Some(r) = self.record() {
            r.tags.push(Tag {
                key: key.into(),
                value: value.into(),
            });
        }
        self
    }

    /// Adds a reference to another span after the start, e.g. when a
    /// `tracing` span declares `follows_from` once it exists. The parent
    /// stays as it was; this becomes one more reference. Ignored on
    /// unsampled spans and for contexts that name no span.
    pub fn add_reference(&mut self, ref_type: RefType, other: &SpanContext) -> &mut Self {
        if other.is_valid()
            && let Some(r) = self.record()
        {
            r.references.push(SpanRef {
                ref_type,
                trace_id: other.trace_id(),
                span_id: other.span_id(),
            });
        }
        self
    }

    /// Marks the span as failed (`error=true`).
    pub fn set_error(&mut self) -> &mut Self {
        self.set_tag(clew_model::keys::ERROR, true)
    }

    /// Logs fields now.
    pub fn log<I: IntoIterator<Item = Tag>>(&mut self, fields: I) -> &mut Self {
        if let Some(r) = self.record() {
            let timestamp = clock::now_unix_nanos();
            r.logs.push(LogRecord {
                timestamp,
                fields: fields.into_iter().collect(),
            });
        }
        self
    }

    /// Logs fields at an explicit time.
    pub fn log_at<I: IntoIterator<Item = Tag>>(&mut self, at: SystemTime, fields: I) -> &mut Self {
        if let Some(r) = self.record() {
            r.logs.push(LogRecord {
                timestamp: clock::system_time_nanos(at),
                fields: fields.into_iter().collect(),
            });
        }
        self
    }

    /// Logs one `event` field now.
    pub fn log_event(&mut self, event: impl Into<Cow<'static, str>>) -> &mut Self {
        let tag = Tag::new(clew_model::keys::EVENT, TagValue::Str(event.into()));
        self.log([tag])
    }

    /// Sets a baggage item, which travels with this span's context to all
    /// descendants, in process and across injected boundaries.
    pub fn set_baggage_item(
        &mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> &mut Self {
        if let Some(c) = self.context_mut() {
            c.set_baggage_item(key, value);
        }
        self
    }

    /// A baggage item of this span's context.
    pub fn baggage_item(&self, key: &str) -> Option<&str> {
        self.context().baggage_item(key)
    }

    /// Renames the operation.
    pub fn set_operation_name(&mut self, name: impl Into<Cow<'static, str>>) -> &mut Self {
        if let Some(r) = self.record() {
            r.operation_name = name.into();
        }
        self
    }

    /// The operation name (empty for unsampled spans, which do not keep it).
    pub fn operation_name(&self) -> &str {
        match &self.record {
            Some(r) => &r.operation_name,
            None => "",
        }
    }

    /// Finishes the span now.
    #[inline(always)]
    pub fn finish(mut self) {
        self.finish_with(None);
        self.release_finished();
        // Already finished and released: skip `Drop` and the drop glue.
        std::mem::forget(self);
    }

    /// Finishes the span at an explicit time.
    pub fn finish_at(mut self, at: SystemTime) {
        self.finish_with(Some(clock::system_time_nanos(at)));
        self.release_finished();
        std::mem::forget(self);
    }

    /// Makes this span's context the thread's active one until the scope is
    /// dropped, so spans started meanwhile become its children.
    pub fn activate(&self) -> ActiveScope {
        ActiveScope::enter(self.context().clone())
    }

    /// Reports the record if there is one. The check and the `take` are
    /// inlined, so after it the compiler knows the record is gone and the
    /// drop glue of `Span` shrinks to the context's two pointer checks: an
    /// unsampled span is finished and dropped without a call. Moving the
    /// record out happens only for sampled spans.
    #[inline(always)]
    fn finish_with(&mut self, end: Option<u64>) {
        if let Some(record) = self.record.take() {
            report(record, self.tracer_id, end);
        }
    }
}

impl Span {
    /// Releases what a finished span still owns, so the caller can forget
    /// it instead of dropping it. The compiler keeps `Span`'s drop glue out
    /// of line (it may drop a whole record), so letting `finish` fall
    /// through to it cost an unsampled span a call; here the context's
    /// shared parts are released in place, inline, and what remains (IDs,
    /// flags, the tracer ID, a record already taken) needs no drop. Takes
    /// `&mut self`: each by-value call would copy the span through memory.
    #[inline(always)]
    fn release_finished(&mut self) {
        debug_assert!(self.record.is_none(), "finish_with took the record");
        self.unsampled.release_shared();
    }
}

/// Stamps the duration and hands the record to the tracer's reporter; out
/// of line so unsampled spans do not carry its code.
#[inline(never)]
fn report(mut record: Box<FinishedSpan>, tracer_id: u64, end: Option<u64>) {
    if record.local.is_batched() {
        local::finish(record, tracer_id, end);
        return;
    }
    let end = end.unwrap_or_else(clock::now_unix_nanos);
    record.duration = end.saturating_sub(record.start_time);
    crate::registry::report(tracer_id, record);
}

impl Drop for Span {
    #[inline(always)]
    fn drop(&mut self) {
        self.finish_with(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send + 'static>() {}

    #[test]
    fn spans_are_send() {
        assert_send::<Span>();
        assert_send::<SpanContext>();
    }

    #[test]
    fn finishing_releases_shared_context_parts() {
        use clew_model::{SpanId, TraceId};
        let ctx = SpanContext::new(TraceId::new(0, 1), SpanId(2), SpanId(0), 0)
            .with_baggage_item("k", "v")
            .with_trace_state("a=b");
        let shared = |c: &SpanContext| c.baggage_arc().map(std::sync::Arc::strong_count);
        assert_eq!(shared(&ctx), Some(1));
        let span = Span::unsampled(ctx.clone(), 0);
        assert_eq!(shared(&ctx), Some(2));
        span.finish();
        // `finish` forgets the span: the baggage it shared must be released.
        assert_eq!(shared(&ctx), Some(1));
        Span::unsampled(ctx.clone(), 0).finish_at(SystemTime::now());
        assert_eq!(shared(&ctx), Some(1));
        drop(Span::unsampled(ctx.clone(), 0));
        assert_eq!(shared(&ctx), Some(1));
    }

    #[test]
    fn noop_span_ignores_everything() {
        let mut s = Span::noop();
        s.set_tag("a", 1).log_event("x").set_operation_name("y");
        assert!(!s.is_sampled());
        assert_eq!(s.operation_name(), "");
        s.set_baggage_item("k", "v");
        assert_eq!(s.baggage_item("k"), Some("v"));
        s.finish();
    }
}
