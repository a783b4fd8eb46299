//! Spans: started by a [`SpanBuilder`], annotated, finished (or dropped),
//! then handed to the tracer's reporter as a [`FinishedSpan`].

mod active;
mod builder;
mod finished;
pub(crate) mod pool;

pub use active::{ActiveScope, active_context};
pub use builder::{AsSpanContext, DEBUG_ID_TAG, SpanBuilder};
pub use finished::{FinishedSpan, INLINE_TAGS, SpanRef, Tags};

use std::borrow::Cow;
use std::time::SystemTime;

use crate::clock;
use crate::context::SpanContext;
use crate::tag::{LogRecord, Tag, TagValue};

/// What a span holds: the (recycled, boxed) record when sampled, only its
/// context when not, so an unsampled span allocates nothing and records
/// nothing, and every span is small to move.
#[derive(Debug)]
enum State {
    Sampled(Box<FinishedSpan>),
    Unsampled(SpanContext),
}

/// One unit of work in progress. Finishing consumes it; dropping an
/// unfinished span finishes it at the time of the drop.
///
/// `Span` is `Send`, so it may be finished on another thread or held across
/// `.await` points.
#[derive(Debug)]
pub struct Span {
    state: Option<State>,
    tracer_id: u64,
}

impl Span {
    pub(crate) fn sampled(record: Box<FinishedSpan>, tracer_id: u64) -> Self {
        Span {
            state: Some(State::Sampled(record)),
            tracer_id,
        }
    }

    pub(crate) fn unsampled(context: SpanContext, tracer_id: u64) -> Self {
        Span {
            state: Some(State::Unsampled(context)),
            tracer_id,
        }
    }

    /// A span that records nothing and has an empty context.
    pub fn noop() -> Self {
        Span::unsampled(SpanContext::default(), 0)
    }

    /// The span's context (for children and for injection).
    pub fn context(&self) -> &SpanContext {
        static EMPTY: std::sync::OnceLock<SpanContext> = std::sync::OnceLock::new();
        match &self.state {
            Some(State::Sampled(r)) => &r.context,
            Some(State::Unsampled(c)) => c,
            None => EMPTY.get_or_init(SpanContext::default),
        }
    }

    fn context_mut(&mut self) -> Option<&mut SpanContext> {
        match &mut self.state {
            Some(State::Sampled(r)) => Some(&mut r.context),
            Some(State::Unsampled(c)) => Some(c),
            None => None,
        }
    }

    fn record(&mut self) -> Option<&mut FinishedSpan> {
        match &mut self.state {
            Some(State::Sampled(r)) => Some(r),
            _ => None,
        }
    }

    /// True when the span is being recorded.
    pub fn is_sampled(&self) -> bool {
        matches!(self.state, Some(State::Sampled(_)))
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
            Some(State::Sampled(r)) => &r.operation_name,
            _ => "",
        }
    }

    /// Finishes the span now.
    #[inline(always)]
    pub fn finish(mut self) {
        self.finish_with(None);
    }

    /// Finishes the span at an explicit time.
    pub fn finish_at(mut self, at: SystemTime) {
        self.finish_with(Some(clock::system_time_nanos(at)));
    }

    /// Makes this span's context the thread's active one until the scope is
    /// dropped, so spans started meanwhile become its children.
    pub fn activate(&self) -> ActiveScope {
        ActiveScope::enter(self.context().clone())
    }

    /// Reports the record if there is one. The check is inlined; moving the
    /// record out happens only for sampled spans, so finishing an unsampled
    /// span copies nothing.
    #[inline(always)]
    fn finish_with(&mut self, end: Option<u64>) {
        if matches!(self.state, Some(State::Sampled(_))) {
            self.report(end);
        }
    }

    #[inline(never)]
    fn report(&mut self, end: Option<u64>) {
        if let Some(State::Sampled(mut r)) = self.state.take() {
            let end = end.unwrap_or_else(clock::now_unix_nanos);
            r.duration = end.saturating_sub(r.start_time);
            crate::registry::report(self.tracer_id, r);
        }
    }
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
