//! Spans: started by a [`SpanBuilder`], annotated, finished (or dropped),
//! then handed to the tracer's reporter as a [`FinishedSpan`].

mod active;
mod builder;
mod finished;
pub(crate) mod local;
pub(crate) mod pool;
mod unsampled;

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
/// A sampled span holds its (recycled, boxed) record, which also names its
/// tracer; an unsampled one its context, in a box recycled on the thread
/// that finishes it, so it allocates and records nothing. Either way a
/// span is two words, a tag and a pointer, which the compiler keeps in
/// registers: a span held inline (9 words once, then the 7-word context)
/// was copied into `finish` whenever it was kept in a variable and
/// borrowed, with wide loads over the narrow stores that had just built
/// it, which stalled.
///
/// `Span` is `Send`, so it may be finished on another thread or held across
/// `.await` points.
#[derive(Debug)]
pub struct Span {
    state: State,
}

/// A span's contents. No `Drop` of its own: [`Recording`] reports on drop,
/// [`Unsampled`] recycles its box, so `finish` takes a span apart by value.
#[derive(Debug)]
enum State {
    Sampled(Recording),
    Unsampled(Unsampled),
}

/// An unsampled span's context, in a box recycled when dropped.
#[derive(Debug)]
struct Unsampled(Option<Box<SpanContext>>);

impl Drop for Unsampled {
    /// Small, so that the drop glue is inlined and vanishes after
    /// `finish` took the box; an unfinished span recycles out of line.
    #[inline(always)]
    fn drop(&mut self) {
        if let Some(context) = self.0.take() {
            unsampled::recycle_unfinished(context);
        }
    }
}

/// A sampled span's record; reported when dropped unfinished.
#[derive(Debug)]
struct Recording(Option<Box<FinishedSpan>>);

impl Drop for Recording {
    #[inline(always)]
    fn drop(&mut self) {
        if let Some(record) = self.0.take() {
            report(record, None);
        }
    }
}

impl Span {
    #[inline(always)]
    pub(crate) fn sampled(record: Box<FinishedSpan>) -> Self {
        Span {
            state: State::Sampled(Recording(Some(record))),
        }
    }

    /// An unsampled span with the context `make` builds (straight into
    /// its box).
    #[inline(always)]
    pub(crate) fn unsampled(make: impl FnOnce() -> SpanContext) -> Self {
        Span {
            state: State::Unsampled(Unsampled(Some(unsampled::boxed(make)))),
        }
    }

    /// An unsampled child of `parent`.
    #[inline(always)]
    pub(crate) fn unsampled_child(parent: &SpanContext) -> Self {
        Span {
            state: State::Unsampled(Unsampled(Some(unsampled::child_of(
                parent,
                crate::id::new_span_id(),
            )))),
        }
    }

    /// A span that records nothing and has an empty context.
    pub fn noop() -> Self {
        Span::unsampled(SpanContext::default)
    }

    /// The span's context (for children and for injection).
    #[inline]
    pub fn context(&self) -> &SpanContext {
        match &self.state {
            State::Sampled(Recording(Some(r))) => &r.context,
            State::Unsampled(Unsampled(Some(c))) => c,
            State::Sampled(Recording(None)) | State::Unsampled(Unsampled(None)) => {
                &crate::context::EMPTY
            }
        }
    }

    fn context_mut(&mut self) -> Option<&mut SpanContext> {
        match &mut self.state {
            State::Sampled(Recording(r)) => r.as_deref_mut().map(|r| &mut r.context),
            State::Unsampled(Unsampled(c)) => c.as_deref_mut(),
        }
    }

    #[inline]
    fn record(&mut self) -> Option<&mut FinishedSpan> {
        match &mut self.state {
            State::Sampled(Recording(r)) => r.as_deref_mut(),
            State::Unsampled(_) => None,
        }
    }

    /// True when the span is being recorded.
    pub fn is_sampled(&self) -> bool {
        matches!(self.state, State::Sampled(_))
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
        match &self.state {
            State::Sampled(Recording(Some(r))) => &r.operation_name,
            _ => "",
        }
    }

    /// Finishes the span now.
    #[inline]
    pub fn finish(self) {
        self.finish_with(None);
    }

    /// Finishes the span at an explicit time.
    pub fn finish_at(self, at: SystemTime) {
        self.finish_with(Some(clock::system_time_nanos(at)));
    }

    /// Makes this span's context the thread's active one until the scope is
    /// dropped, so spans started meanwhile become its children.
    pub fn activate(&self) -> ActiveScope {
        ActiveScope::enter(self.context().clone())
    }

    /// Reports the record if there is one; an unsampled span's box goes
    /// back to this thread. By value: the span is two words in registers.
    #[inline(always)]
    fn finish_with(self, end: Option<u64>) {
        match self.state {
            State::Sampled(mut recording) => {
                if let Some(record) = recording.0.take() {
                    report(record, end);
                }
            }
            // Taken here rather than by the drop glue, which the compiler
            // keeps out of line.
            State::Unsampled(mut unsampled) => {
                if let Some(context) = unsampled.0.take() {
                    unsampled::recycle(context);
                }
            }
        }
    }
}

/// Stamps the duration and hands the record to the tracer's reporter; out
/// of line so unsampled spans do not carry its code.
#[inline(never)]
fn report(record: Box<FinishedSpan>, end: Option<u64>) {
    let tracer_id = record.local.tracer_id;
    if record.local.is_batched() {
        local::finish(record, tracer_id, end);
    } else {
        report_one(record, tracer_id, end);
    }
}

/// A span of a tracer whose reporter takes spans one at a time. Out of
/// line, so the batching path does not carry its registers and code.
#[inline(never)]
fn report_one(mut record: Box<FinishedSpan>, tracer_id: u64, end: Option<u64>) {
    // A batching tracer's span that could not be collected (its thread was
    // exiting when it started) kept its start as a raw clock reading.
    if let Some(started) = record.local.started.take() {
        record.start_time = clock::to_unix_nanos(started);
    }
    let end = end.unwrap_or_else(clock::now_unix_nanos);
    record.duration = end.saturating_sub(record.start_time);
    crate::registry::report(tracer_id, record);
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
        let span = Span::unsampled(|| ctx.clone());
        assert_eq!(shared(&ctx), Some(2));
        span.finish();
        // The span's box is recycled: the baggage it shared is released.
        assert_eq!(shared(&ctx), Some(1));
        Span::unsampled(|| ctx.clone()).finish_at(SystemTime::now());
        assert_eq!(shared(&ctx), Some(1));
        drop(Span::unsampled(|| ctx.clone()));
        assert_eq!(shared(&ctx), Some(1));
    }

    #[test]
    fn a_records_context_is_where_an_unsampled_box_has_it() {
        assert_eq!(std::mem::offset_of!(FinishedSpan, context), 0);
    }

    #[test]
    fn a_span_is_two_words() {
        assert_eq!(size_of::<Span>(), 2 * size_of::<usize>());
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
