//! Starting spans: references, tags, start time, and the sampling decision.

use std::borrow::Cow;
use std::time::SystemTime;

use super::{Span, SpanRef, active, pool};
use crate::clock;
use crate::context::{FLAG_DEBUG, FLAG_SAMPLED, SpanContext};
use crate::id;
use crate::tag::{Tag, TagValue};
use crate::tracer::Tracer;
use clew_model::RefType;

/// The local sampler's decision for a span whose remote parent deferred the
/// decision; the sampler tags when it samples. Out of line: rare.
#[inline(never)]
fn decide_deferred(
    inner: &crate::tracer::TracerInner,
    parent: &SpanContext,
    operation: &str,
) -> Option<crate::sampler::SamplerTags> {
    let decision = match inner.constant_decision {
        Some(d) => d,
        None => inner.sampler.sample(parent.trace_id(), operation),
    };
    decision.sampled.then_some(decision.tags)
}

/// The most common start of all: a child of a sampled span, for a tracer
/// that collects spans thread-locally, with no tags, extra references or
/// start time given to the builder. Everything the general path decides
/// is known here (no sampler, no debug ID, a record whose sampler and
/// tags are already empty), so it only takes a record and writes the
/// context, the name, the reference kind and the raw start. Taken after
/// the sampling checks, so unsampled spans do not pass through it (tried
/// first, in `start`, it cost an unsampled child 28 instructions).
#[inline(always)]
fn start_local_child(
    tracer_id: u64,
    kind: RefType,
    parent: &SpanContext,
    operation_name: std::borrow::Cow<'static, str>,
) -> Span {
    let mut record = super::local::take();
    debug_assert!(record.tags.is_empty() && record.logs.is_empty());
    record
        .context
        .become_child_of_released(parent, id::new_span_id(), None);
    record.name_released(operation_name);
    record.parent_ref_type = kind;
    record.sampler = None;
    record.local.started = Some(clock::now_raw());
    record.local.tracer_id = tracer_id;
    Span::sampled(record)
}

/// The rest of [`SpanBuilder::with_ref`]: empty contexts, and references
/// after the first. Takes and returns only the parent and the other
/// references.
#[inline(never)]
fn with_other_ref<'a>(
    parent: Option<(RefType, &'a SpanContext)>,
    mut extra_refs: Vec<SpanRef>,
    kind: RefType,
    ctx: &'a SpanContext,
) -> (Option<(RefType, &'a SpanContext)>, Vec<SpanRef>) {
    if ctx.is_empty() {
        return (parent, extra_refs);
    }
    let as_ref = |k: RefType, c: &SpanContext| SpanRef {
        ref_type: k,
        trace_id: c.trace_id(),
        span_id: c.span_id(),
    };
    let parent = match parent {
        None => Some((kind, ctx)),
        // A CHILD_OF outranks an earlier FOLLOWS_FROM as the parent.
        Some((RefType::FollowsFrom, old)) if kind == RefType::ChildOf => {
            extra_refs.insert(0, as_ref(RefType::FollowsFrom, old));
            Some((kind, ctx))
        }
        Some(p) => {
            extra_refs.push(as_ref(kind, ctx));
            Some(p)
        }
    };
    (parent, extra_refs)
}

/// The context a sampled span will have, decided before its record is
/// taken.
enum NewContext<'a> {
    /// A child of this context, with these flags instead of its own.
    ChildOf(&'a SpanContext, Option<u8>),
    /// A new trace's root.
    Root(SpanContext),
}

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
///
/// References borrow their contexts for as long as the builder lives, so
/// building a child copies nothing until the span starts.
#[derive(Debug)]
#[must_use = "a span builder does nothing until `start` is called"]
pub struct SpanBuilder<'a> {
    tracer: &'a Tracer,
    operation_name: Cow<'static, str>,
    parent: Option<(RefType, &'a SpanContext)>,
    extra_refs: Vec<SpanRef>,
    tags: Vec<Tag>,
    start_time: Option<u64>,
    ignore_active: bool,
    /// One reference, the parent, checked to name a span where it was
    /// added, and no other reference: the start then neither tests the
    /// parent again nor looks at the other references. Both paths of
    /// [`Self::with_ref`] merge before the start, which then re-tested
    /// the parent (five loads and tests) and kept the references' vector
    /// on the stack for every child; a flag that is constant on the common
    /// path lets the compiler separate the paths again.
    plain_child: bool,
}

impl<'a> SpanBuilder<'a> {
    #[inline]
    pub(crate) fn new(tracer: &'a Tracer, operation_name: Cow<'static, str>) -> Self {
        SpanBuilder {
            tracer,
            operation_name,
            parent: None,
            extra_refs: Vec::new(),
            tags: Vec::new(),
            start_time: None,
            ignore_active: false,
            plain_child: false,
        }
    }

    /// Adds a CHILD_OF reference; the first one becomes the parent. Empty
    /// contexts are ignored, so an extraction that found nothing can be
    /// passed straight in.
    #[inline]
    pub fn child_of<C: AsSpanContext + ?Sized>(self, parent: &'a C) -> Self {
        self.with_ref(RefType::ChildOf, parent.span_context())
    }

    /// Adds a FOLLOWS_FROM reference (the parent when there is no CHILD_OF).
    #[inline]
    pub fn follows_from<C: AsSpanContext + ?Sized>(self, cause: &'a C) -> Self {
        self.with_ref(RefType::FollowsFrom, cause.span_context())
    }

    /// Like [`Self::child_of`] for an optional context.
    pub fn child_of_opt(self, parent: Option<&'a SpanContext>) -> Self {
        match parent {
            Some(p) => self.child_of(p),
            None => self,
        }
    }

    /// Records a reference. The first one, by far the most common case, is
    /// inlined and builds the new builder from the old one's fields without
    /// borrowing it. The rest goes out of line with only the two fields it
    /// changes: a call that borrowed the whole builder kept all of it in
    /// memory on the common path too, copied at every step of
    /// `span().child_of().start()`, and its empty tag vector and start time
    /// were read back instead of being known.
    #[inline(always)]
    fn with_ref(self, kind: RefType, ctx: &'a SpanContext) -> Self {
        if self.parent.is_none() && ctx.is_valid() {
            SpanBuilder {
                parent: Some((kind, ctx)),
                plain_child: true,
                ..self
            }
        } else {
            // Taken apart, so only these two fields live in memory.
            let SpanBuilder {
                tracer,
                operation_name,
                parent,
                extra_refs,
                tags,
                start_time,
                ignore_active,
                plain_child: _,
            } = self;
            let (parent, extra_refs) = with_other_ref(parent, extra_refs, kind, ctx);
            SpanBuilder {
                tracer,
                operation_name,
                parent,
                extra_refs,
                tags,
                start_time,
                ignore_active,
                plain_child: false,
            }
        }
    }

    /// Adds a tag.
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
    ///
    /// Always inlined: the span is then built directly in the caller's
    /// frame, which saves a copy of it (about a nanosecond per span and
    /// several for sampled ones, measured).
    #[inline(always)]
    pub fn start(self) -> Span {
        if self.parent.is_none() && !self.ignore_active && active::has_active() {
            return self.start_under_active();
        }
        self.start_with_parent()
    }

    /// Starts the span as a child of the thread's active span. Out of line:
    /// the active context is cloned and then dropped, code that the common
    /// cases (explicit parent, or a root) should not carry.
    #[inline(never)]
    fn start_under_active(self) -> Span {
        let active = active::active_context();
        let SpanBuilder {
            tracer,
            operation_name,
            extra_refs,
            tags,
            start_time,
            ..
        } = self;
        SpanBuilder {
            tracer,
            operation_name,
            parent: active.as_ref().map(|c| (RefType::ChildOf, c)),
            extra_refs,
            tags,
            start_time,
            ignore_active: true,
            // No reference was added (else the active span is not asked),
            // so the active context, when it names a span, is the only one.
            plain_child: active.as_ref().is_some_and(SpanContext::is_valid),
        }
        .start_with_parent()
    }

    /// Starts the span under the builder's own parent, if any. Inlined:
    /// the common starts (a child of a sampled span collected on this
    /// thread, an unsampled child, an unsampled root) return here; the
    /// rest goes out of line, so callers do not carry its code or keep the
    /// builder's fields in memory for it.
    #[inline(always)]
    fn start_with_parent(self) -> Span {
        // Taken apart into locals so the compiler sees the empty vectors of
        // a plain builder as empty and drops them for free; dropping the
        // builder as a whole was an out-of-line call on every span.
        let SpanBuilder {
            tracer,
            operation_name,
            parent,
            extra_refs,
            tags,
            start_time,
            ignore_active: _,
            plain_child,
        } = self;
        let inner = tracer.inner();
        match parent {
            Some((kind, p)) if plain_child || p.is_valid() => {
                if !p.is_sampled() || inner.disabled {
                    if !p.is_sampling_deferred() || inner.disabled {
                        return Span::unsampled_child(p);
                    }
                } else if plain_child && inner.batching && tags.is_empty() && start_time.is_none() {
                    // Neither vector was ever pushed to (one reference,
                    // no tag), so neither holds memory: forgotten rather
                    // than dropped, which the compiler tested for (their
                    // capacity) after the start, on every child.
                    debug_assert!(tags.capacity() == 0 && extra_refs.capacity() == 0);
                    std::mem::forget(tags);
                    std::mem::forget(extra_refs);
                    return start_local_child(inner.id, kind, p, operation_name);
                }
            }
            None if inner.roots_unsampled => {
                // Disabled, or a constant "no": the new trace's context
                // only, decided by one flag of the tracer.
                let trace_id = id::new_trace_id(inner.trace_ids);
                let span_id = clew_model::SpanId(trace_id.low);
                return Span::unsampled(|| SpanContext::root(trace_id, span_id, 0, None));
            }
            _ => {}
        }
        start_general(inner, operation_name, parent, extra_refs, tags, start_time)
    }
}

/// Every other start: sampled roots (the sampler, debug IDs, baggage-only
/// carriers), deferred decisions, tags, extra references or a start time
/// given to the builder, and tracers that report span by span.
#[inline(never)]
fn start_general(
    inner: &crate::tracer::TracerInner,
    operation_name: Cow<'static, str>,
    parent: Option<(RefType, &SpanContext)>,
    extra_refs: Vec<SpanRef>,
    tags: Vec<Tag>,
    start_time: Option<u64>,
) -> Span {
    let mut sampler_tags = None;
    let mut debug_tag = None;
    let context = match parent {
        Some((_, p)) if p.is_valid() => {
            if !p.is_sampled() || inner.disabled {
                if !p.is_sampling_deferred() || inner.disabled {
                    return Span::unsampled_child(p);
                }
                match decide_deferred(inner, p, &operation_name) {
                    None => return Span::unsampled_child(p),
                    Some(tags) => {
                        sampler_tags = Some(tags);
                        NewContext::ChildOf(p, Some(FLAG_SAMPLED))
                    }
                }
            } else {
                NewContext::ChildOf(p, None)
            }
        }
        _ => {
            let trace_id = id::new_trace_id(inner.trace_ids);
            let span_id = clew_model::SpanId(trace_id.low);
            // Decide everything first and build the context once: a
            // context patched after construction is copied around with
            // stalled store-to-load forwarding.
            let mut flags = 0;
            let mut baggage = None;
            if let Some((_, p)) = parent {
                // A debug-ID or baggage-only carrier: start a new trace
                // but keep what it carried.
                baggage = p.baggage_arc().cloned();
                if let Some(d) = p.debug_id() {
                    flags = FLAG_SAMPLED | FLAG_DEBUG;
                    debug_tag = Some(d.to_owned());
                }
            }
            if debug_tag.is_none() && !inner.disabled {
                let decision = match inner.constant_decision {
                    Some(d) => d,
                    None => inner.sampler.sample(trace_id, &operation_name),
                };
                if decision.sampled {
                    flags = FLAG_SAMPLED;
                    sampler_tags = Some(decision.tags);
                }
            }
            if flags == 0 || inner.disabled {
                // Built straight into the returned span, not copied.
                return Span::unsampled(|| SpanContext::root(trace_id, span_id, flags, baggage));
            }
            NewContext::Root(SpanContext::root(trace_id, span_id, flags, baggage))
        }
    };

    // Batching tracers take the record from the thread's stage, which
    // also counts the span as open on this thread.
    let mut record = if inner.batching {
        super::local::take()
    } else {
        pool::take()
    };
    // A child's context is written straight into the record: built on
    // the stack and copied, its flag bytes were read back as part of a
    // wider load before they reached the cache, which stalled the
    // copy (store-to-load forwarding) for a third of the start.
    match context {
        NewContext::ChildOf(p, flags) => {
            record
                .context
                .become_child_of_released(p, id::new_span_id(), flags)
        }
        NewContext::Root(c) => record.context = c,
    }
    record.name_released(operation_name);
    if !tags.is_empty() {
        record.tags.extend(tags);
    }
    if let Some(d) = debug_tag {
        record.tags.push(Tag::new(DEBUG_ID_TAG, d));
    }
    if !extra_refs.is_empty() {
        record.references = extra_refs;
    }
    record.parent_ref_type = match parent {
        Some((kind, p)) if p.is_valid() => kind,
        _ => RefType::ChildOf,
    };
    record.sampler = sampler_tags;
    // Every field of the mark but `home` and `root` (which `take` set)
    // is written here: recycled records do not reset it.
    record.local.started = None;
    match start_time {
        Some(at) => record.start_time = at,
        // A raw reading, converted on the reporter's thread.
        None if record.local.is_batched() => record.local.started = Some(clock::now_raw()),
        None => record.start_time = clock::now_unix_nanos(),
    }
    record.local.tracer_id = inner.id;
    Span::sampled(record)
}
