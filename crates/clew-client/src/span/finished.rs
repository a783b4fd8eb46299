//! The record of a sampled span, as reporters receive it.

use std::borrow::Cow;

use clew_model::{RefType, SpanId, TraceId};

use crate::context::SpanContext;
use crate::sampler::SamplerTags;
use crate::tag::{LogRecord, Tag, TagValue};

/// A span's tags. A plain vector: records are recycled with their
/// vectors, so a span allocates only when it has more tags than its
/// record ever held, and the thread's batch takes them in one copy.
pub type Tags = Vec<Tag>;

/// A reference to another span besides the parent (FOLLOWS_FROM, or extra
/// CHILD_OF references).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpanRef {
    /// Relationship.
    pub ref_type: RefType,
    /// Trace of the referenced span.
    pub trace_id: TraceId,
    /// The referenced span.
    pub span_id: SpanId,
}

/// A sampled span: while in progress (inside a [`crate::Span`]) and after
/// finishing, when reporters get it. Times are Unix nanoseconds.
///
/// `repr(C)` puts the context first, at the same place as in an unsampled
/// span's box: [`crate::Span::context`] then reads the same address
/// whichever kind the span is, without testing which (children name their
/// parent through it, once per span).
#[derive(Clone, Debug, PartialEq)]
#[repr(C)]
pub struct FinishedSpan {
    /// Identity, flags and baggage. `context.parent_id()` is the parent.
    pub context: SpanContext,
    /// Operation name.
    pub operation_name: Cow<'static, str>,
    /// Start, Unix nanoseconds.
    pub start_time: u64,
    /// Duration in nanoseconds (0 until finished).
    pub duration: u64,
    /// Tags in the order they were set.
    pub tags: Tags,
    /// Logs in the order they were written.
    pub logs: Vec<LogRecord>,
    /// References other than the parent one.
    pub references: Vec<SpanRef>,
    /// Parent reference kind (FOLLOWS_FROM when the parent was chosen from one).
    pub parent_ref_type: RefType,
    /// Sampler tags for root spans (added as `sampler.type`/`sampler.param`
    /// when the span is converted, off the hot path).
    pub sampler: Option<SamplerTags>,
    /// Where the span started, for the thread-local batching of
    /// [`super::local`]; not part of the span's data.
    pub(crate) local: super::local::LocalMark,
}

impl FinishedSpan {
    pub(crate) fn empty() -> Self {
        FinishedSpan {
            context: SpanContext::default(),
            operation_name: Cow::Borrowed(""),
            start_time: 0,
            duration: 0,
            tags: Tags::new(),
            logs: Vec::new(),
            references: Vec::new(),
            parent_ref_type: RefType::ChildOf,
            sampler: None,
            local: super::local::LocalMark::default(),
        }
    }

    /// Empties the record, keeping its allocations for reuse.
    pub(crate) fn clear(&mut self) {
        self.context = SpanContext::default();
        self.operation_name = Cow::Borrowed("");
        self.tags.clear();
        self.logs.clear();
        self.references.clear();
        self.parent_ref_type = RefType::ChildOf;
        self.sampler = None;
        self.local = super::local::LocalMark::default();
    }

    /// Makes a record whose contents [`crate::reporter::SpanBatch`] moved
    /// out reusable: only what the move left behind is released.
    #[inline]
    /// The span's start writes everything else (reference kind, sampler,
    /// the local mark's fields), so this does not.
    pub(crate) fn reset_moved(&mut self) {
        debug_assert!(self.tags.is_empty() && self.logs.is_empty());
        self.context.release_shared();
    }

    /// Names a recycled record's span. Every recycled record's name is
    /// borrowed (an owned one was moved out, leaving an empty name, or
    /// cleared), so the old name is overwritten without the check its
    /// drop makes; were it owned, it would only leak.
    #[inline(always)]
    pub(crate) fn name_released(&mut self, name: Cow<'static, str>) {
        debug_assert!(matches!(self.operation_name, Cow::Borrowed(_)));
        std::mem::forget(std::mem::replace(&mut self.operation_name, name));
    }

    /// The first tag with this key.
    pub fn tag(&self, key: &str) -> Option<&TagValue> {
        self.tags.iter().find(|t| t.key == key).map(|t| &t.value)
    }
}
