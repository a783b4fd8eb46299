//! `tracing` spans and events → Clew spans and logs.

use std::borrow::Cow;

use clew_client::{RefType, Span, SpanContext, Tag, TagValue, Tracer};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::fields::TagVisitor;

/// Stored in each `tracing` span's extensions.
struct ClewSpan(Span);

/// Reports `tracing` spans through a Clew [`Tracer`].
///
/// The span's name becomes the operation name, its fields become tags
/// (recorded later with `Span::record` too), its level the `level` tag; an
/// event inside a span becomes a log on it with the message as the `event`
/// field; closing the span finishes it. Parents follow `tracing`'s own
/// (contextual or explicit) parent, and `follows_from` becomes a
/// FOLLOWS_FROM reference.
///
/// An event outside any span has no span to be logged on; by default it is
/// not reported (Jaeger has no span-less events, and a process that logs
/// freely would otherwise send a trace per log line). With
/// [`Self::with_orphan_events`] each becomes a zero-duration root span.
#[derive(Clone, Debug)]
pub struct ClewLayer {
    tracer: Tracer,
    orphan_events: bool,
}

impl ClewLayer {
    /// A layer reporting through `tracer`.
    pub fn new(tracer: Tracer) -> Self {
        ClewLayer {
            tracer,
            orphan_events: false,
        }
    }

    /// Report events outside any span as zero-duration spans, named after
    /// the event's callsite (for `tracing::info!` that is
    /// `event <file>:<line>`), with the event's fields as tags and its
    /// message as an `event` log. Subject to sampling like any root span.
    pub fn with_orphan_events(mut self, yes: bool) -> Self {
        self.orphan_events = yes;
        self
    }

    /// Creates a `tracing` span (with `make`) whose Clew span continues
    /// `parent`, e.g. a context extracted from request headers. Works for
    /// spans without a `tracing` parent: those start under the thread's
    /// active Clew context, which this sets for the duration of `make`.
    pub fn span_with_parent(
        parent: &SpanContext,
        make: impl FnOnce() -> tracing::Span,
    ) -> tracing::Span {
        let _scope = clew_client::ActiveScope::enter(parent.clone());
        make()
    }

    /// The Clew context of a `tracing` span, e.g. to inject into headers.
    pub fn context_of(span: &tracing::Span) -> Option<SpanContext> {
        span.with_subscriber(|(id, dispatch)| {
            let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>()?;
            let data = registry.span(id)?;
            let ext = data.extensions();
            ext.get::<ClewSpan>().map(|s| s.0.context().clone())
        })
        .flatten()
    }
}

impl ClewLayer {
    /// An event outside any span, as a zero-duration root span (under the
    /// thread's active Clew context, if any) carrying the event as its log.
    fn report_orphan(&self, event: &Event<'_>) {
        let meta = event.metadata();
        let now = std::time::SystemTime::now();
        let mut span = self
            .tracer
            .span(Cow::Borrowed(meta.name()))
            .with_start_time(now)
            .with_tag("level", meta.level().as_str())
            .with_tag("target", meta.target())
            .start();
        if !span.is_sampled() {
            return;
        }
        log_event(&mut span, event);
        span.finish_at(now);
    }
}

/// Logs an event's fields on a span; an ERROR event marks the span failed.
fn log_event(s: &mut Span, event: &Event<'_>) {
    let mut visitor = TagVisitor {
        is_event: true,
        ..Default::default()
    };
    event.record(&mut visitor);
    let level = event.metadata().level();
    visitor
        .tags
        .push(Tag::new("level", TagValue::from(level.as_str())));
    if *level == tracing::Level::ERROR {
        s.set_error();
    }
    s.log(visitor.tags);
}

impl<S> Layer<S> for ClewLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let parent_ctx: Option<SpanContext> = span.parent().and_then(|p| {
            p.extensions()
                .get::<ClewSpan>()
                .map(|s| s.0.context().clone())
        });
        let meta = attrs.metadata();
        let mut visitor = TagVisitor::default();
        attrs.record(&mut visitor);
        // Without a tracing parent, the builder falls back to the thread's
        // active Clew context (see `span_with_parent`).
        let mut clew = self
            .tracer
            .span(Cow::Borrowed(meta.name()))
            .child_of_opt(parent_ctx.as_ref())
            .with_tag("level", meta.level().as_str())
            .start();
        for t in visitor.tags {
            clew.set_tag(t.key, t.value);
        }
        span.extensions_mut().insert(ClewSpan(clew));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut visitor = TagVisitor::default();
        values.record(&mut visitor);
        let mut ext = span.extensions_mut();
        if let Some(ClewSpan(s)) = ext.get_mut::<ClewSpan>() {
            for t in visitor.tags {
                s.set_tag(t.key, t.value);
            }
        }
    }

    fn on_follows_from(&self, id: &Id, follows: &Id, ctx: Context<'_, S>) {
        if id == follows {
            return;
        }
        let Some(cause) = ctx.span(follows).and_then(|c| {
            c.extensions()
                .get::<ClewSpan>()
                .map(|s| s.0.context().clone())
        }) else {
            return;
        };
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        if let Some(ClewSpan(s)) = ext.get_mut::<ClewSpan>() {
            s.add_reference(RefType::FollowsFrom, &cause);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.event_span(event) else {
            if self.orphan_events {
                self.report_orphan(event);
            }
            return;
        };
        let mut ext = span.extensions_mut();
        let Some(ClewSpan(s)) = ext.get_mut::<ClewSpan>() else {
            return;
        };
        if !s.is_sampled() {
            return;
        }
        log_event(s, event);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let taken = span.extensions_mut().remove::<ClewSpan>();
        if let Some(ClewSpan(s)) = taken {
            s.finish();
        }
    }
}
