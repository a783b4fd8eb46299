//! Starting spans: references, tags, start time, and the sampling decision.

use std::borrow::Cow;
use std::time::SystemTime;

use clew_model::RefType;
use smallvec::SmallVec;

use super::{FinishedSpan, Span, SpanRef, Tags, active};
use crate::clock;
use crate::context::{FLAG_DEBUG, FLAG_SAMPLED, SpanContext};
use crate::id;
use crate::tag::{Tag, TagValue};
use crate::tracer::Tracer;

/// Tag Jaeger clients put on a root span forced by `jaeger-debug-id`.
pub const DEBUG_ID_TAG: &str = "jaeger-debug-id";

/// Anything that has a span context: a [`Span`], a [`SpanContext`], or a
/// reference to either.
pub trait AsSpanContext {
    /// The context.
    fn span_context(&self) -> &SpanContext;
}

impl AsSpanContext for SpanContext {
    fn span_context(&self) -> &SpanContext {
        self
    }
}

impl AsSpanContext for Span {
    fn span_context(&self) -> &SpanContext {
        self.context()
    }
}

impl<T: AsSpanContext + ?Sized> AsSpanContext for &T {
    fn span_context(&self) -> &SpanContext {
        (**self).span_context()
    }
}

/// Configures a span before it starts. Obtain one from [`Tracer::span`].
#[derive(Debug)]
#[must_use = "a span builder does nothing until `start` is called"]
pub struct SpanBuilder<'a> {
    tracer: &'a Tracer,
    operation_name: Cow<'static, str>,
    references: SmallVec<[(RefType, SpanContext); 1]>,
    tags: Tags,
    start_time: Option<u64>,
    ignore_active: bool,
}

impl<'a> SpanBuilder<'a> {
    pub(crate) fn new(tracer: &'a Tracer, operation_name: Cow<'static, str>) -> Self {
        SpanBuilder {
            tracer,
            operation_name,
            references: SmallVec::new(),
            tags: Tags::new(),
            start_time: None,
            ignore_active: false,
        }
    }

    /// Adds a CHILD_OF reference; the first one becomes the parent. Empty
    /// contexts are ignored, so an extraction that found nothing can be
    /// passed straight in.
    pub fn child_of(mut self, parent: impl AsSpanContext) -> Self {
        self.push_ref(RefType::ChildOf, parent.span_context());
        self
    }

    /// Adds a FOLLOWS_FROM reference (the parent when there is no CHILD_OF).
    pub fn follows_from(mut self, cause: impl AsSpanContext) -> Self {
        self.push_ref(RefType::FollowsFrom, cause.span_context());
        self
    }

    /// Like [`Self::child_of`] for an optional context.
    pub fn child_of_opt(self, parent: Option<&SpanContext>) -> Self {
        match parent {
            Some(p) => self.child_of(p),
            None => self,
        }
    }

    fn push_ref(&mut self, kind: RefType, ctx: &SpanContext) {
        if !ctx.is_empty() {
            self.references.push((kind, ctx.clone()));
        }
    }

    /// Adds a tag.
    #[inline]
    pub fn with_tag(
        mut self,
        key: impl Into<Cow<'static, str>>,
        value: impl Into<TagValue>,
    ) -> Self {
        self.tags.push(Tag {
            key: key.into(),
            value: value.into(),
        });
        self
    }

    /// Starts the span at an explicit time instead of now.
    pub fn with_start_time(mut self, at: SystemTime) -> Self {
        self.start_time = Some(clock::system_time_nanos(at));
        self
    }

    /// Do not pick up the thread's active span as the implicit parent.
    pub fn ignore_active_span(mut self) -> Self {
        self.ignore_active = true;
        self
    }

    /// Starts the span.
    #[inline]
    pub fn start(self) -> Span {
        let SpanBuilder {
            tracer,
            operation_name,
            mut references,
            tags,
            start_time,
            ignore_active,
        } = self;
        let inner = tracer.inner();
        if references.is_empty()
            && !ignore_active
            && active::has_active()
            && let Some(active) = active::active_context()
        {
            references.push((RefType::ChildOf, active));
        }
        // Parent: the first CHILD_OF, else the first reference of any kind.
        let parent_idx = references
            .iter()
            .position(|(k, _)| *k == RefType::ChildOf)
            .or(if references.is_empty() { None } else { Some(0) });
        let parent = parent_idx.map(|i| &references[i].1);

        let mut sampler_tags = None;
        let mut debug_tag = None;
        let context = match parent {
            Some(p) if p.is_valid() => p.child(id::new_span_id()),
            _ => {
                let trace_id = id::new_trace_id(inner.trace_id_128bit);
                let span_id = clew_model::SpanId(trace_id.low);
                let mut ctx = SpanContext::new(trace_id, span_id, clew_model::SpanId(0), 0);
                if let Some(p) = parent {
                    // A debug-ID or baggage-only carrier: start a new trace
                    // but keep what it carried.
                    ctx.set_baggage(p.baggage_arc().cloned());
                    if let Some(d) = p.debug_id() {
                        ctx.set_flags(FLAG_SAMPLED | FLAG_DEBUG);
                        debug_tag = Some(d.to_owned());
                    }
                }
                if debug_tag.is_none() && !inner.disabled {
                    let decision = inner.sampler.sample(trace_id, &operation_name);
                    if decision.sampled {
                        ctx.set_flags(FLAG_SAMPLED);
                        sampler_tags = Some(decision.tags);
                    }
                }
                ctx
            }
        };

        if !context.is_sampled() || inner.disabled {
            return Span::unsampled(context, inner.id);
        }
        let parent_ref_type = parent_idx.map_or(RefType::ChildOf, |i| references[i].0);
        let extra: Vec<SpanRef> = if references.len() > 1 {
            references
                .iter()
                .enumerate()
                .filter(|(i, _)| Some(*i) != parent_idx)
                .map(|(_, (k, c))| SpanRef {
                    ref_type: *k,
                    trace_id: c.trace_id(),
                    span_id: c.span_id(),
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut tags = tags;
        if let Some(d) = debug_tag {
            tags.push(Tag::new(DEBUG_ID_TAG, d));
        }
        let start_time = start_time.unwrap_or_else(clock::now_unix_nanos);
        Span::sampled(
            FinishedSpan {
                context,
                operation_name,
                start_time,
                duration: 0,
                tags,
                logs: Vec::new(),
                references: extra,
                parent_ref_type,
                sampler: sampler_tags,
            },
            inner.id,
        )
    }
}
