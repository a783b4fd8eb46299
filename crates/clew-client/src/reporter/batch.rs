//! Finished spans flattened into one batch, as threads hand them over.
//!
//! A thread copies each finished span into its own [`SpanBatch`] (rows of
//! fixed fields, tags in one shared vector) and gives its record back to
//! itself for the next span, so records never cross threads. The batch
//! moves to the reporter whole; senders encode straight from the rows
//! ([`crate::sender::Sender::append_batch`]) without building
//! [`clew_model::Span`]s.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

use clew_model::{Log, Process, RefType, Reference, SpanId, TraceId};

use crate::sampler::{SamplerKind, SamplerTags};
use crate::span::{FinishedSpan, SpanRef};
use crate::tag::{LogRecord, Tag, cow_into_str};

/// What a span rarely has: logs and references besides the parent. Kept
/// out of the row so the common row stays small.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Extras {
    pub(crate) logs: Vec<LogRecord>,
    pub(crate) references: Vec<SpanRef>,
}

/// When a span ran: raw clock readings at start and end until
/// [`SpanBatch::settle_times`] turns them into Unix time. One field for
/// both keeps a row small enough to be written in place.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Times {
    Raw(fastant::Instant, fastant::Instant),
    Unix { start: u64, duration: u64 },
}

impl Times {
    /// How long ago the span ended (zero for an end in the future).
    pub(crate) fn ended_ago(self) -> std::time::Duration {
        match self {
            Times::Raw(_, end) => end.elapsed(),
            Times::Unix { start, duration } => std::time::Duration::from_nanos(
                crate::clock::now_unix_nanos().saturating_sub(start.saturating_add(duration)),
            ),
        }
    }

    /// Unix start and duration in nanoseconds (converting raw readings).
    pub(crate) fn unix(self) -> (u64, u64) {
        match self {
            Times::Unix { start, duration } => (start, duration),
            Times::Raw(s, e) => {
                let start = crate::clock::to_unix_nanos(s);
                (start, crate::clock::to_unix_nanos(e).saturating_sub(start))
            }
        }
    }
}

/// One finished span's fixed fields; its tags are a range of the batch's.
///
/// The small fields are packed into whole words (`tags`, `meta`) computed
/// in registers: a row is built on the stack and copied into the batch a
/// word at a time, and fields written as single bytes made each such copy
/// wait for the bytes to reach the cache (store-to-load forwarding fails
/// when a load spans several smaller stores).
///
/// `repr(C)`, with the times between the span and parent IDs: the two IDs
/// lie side by side in the record, each written by its own store when the
/// span starts, and with side-by-side places in the row too they were
/// copied by one wide load over those two stores (for a short span still
/// waiting to reach the cache: a failed store forward on every span).
#[derive(Clone, Debug, PartialEq)]
#[repr(C)]
pub(crate) struct SpanRow {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    pub(crate) times: Times,
    pub(crate) parent_id: SpanId,
    pub(crate) operation_name: Cow<'static, str>,
    /// First tag index in the low half, end index in the high half.
    tags: u64,
    /// Flags (bits 0–7), parent reference kind (bit 8), sampler kind + 1
    /// (bits 16–23, 0 for none).
    meta: u64,
    sampler_param: f64,
    pub(crate) extras: Option<Box<Extras>>,
}

const SAMPLER_KINDS: [SamplerKind; 4] = [
    SamplerKind::Const,
    SamplerKind::Probabilistic,
    SamplerKind::RateLimiting,
    SamplerKind::LowerBound,
];

impl SpanRow {
    #[inline(always)]
    fn pack_tags(start: u32, end: u32) -> u64 {
        u64::from(start) | (u64::from(end) << 32)
    }

    #[inline(always)]
    fn pack_meta(flags: u8, parent_ref_type: RefType, sampler: Option<SamplerTags>) -> u64 {
        let kind = sampler.map_or(0, |s| match s.kind {
            SamplerKind::Const => 1,
            SamplerKind::Probabilistic => 2,
            SamplerKind::RateLimiting => 3,
            SamplerKind::LowerBound => 4,
        });
        let follows = u64::from(parent_ref_type == RefType::FollowsFrom);
        u64::from(flags) | (follows << 8) | (kind << 16)
    }

    /// The row's tags: indices into its batch's tags.
    pub(crate) fn tag_range(&self) -> Range<usize> {
        (self.tags & 0xffff_ffff) as usize..(self.tags >> 32) as usize
    }

    pub(crate) fn flags(&self) -> u8 {
        self.meta as u8
    }

    pub(crate) fn parent_ref_type(&self) -> RefType {
        if self.meta & (1 << 8) != 0 {
            RefType::FollowsFrom
        } else {
            RefType::ChildOf
        }
    }

    pub(crate) fn sampler(&self) -> Option<SamplerTags> {
        let kind = ((self.meta >> 16) & 0xff) as usize;
        let kind = *SAMPLER_KINDS.get(kind.checked_sub(1)?)?;
        Some(SamplerTags {
            kind,
            param: self.sampler_param,
        })
    }
}

/// Finished spans of one tracer, in finishing order.
#[derive(Debug, Default)]
pub struct SpanBatch {
    pub(crate) rows: Vec<SpanRow>,
    pub(crate) tags: Vec<Tag>,
}

impl SpanBatch {
    /// An empty batch.
    pub const fn new() -> Self {
        SpanBatch {
            rows: Vec::new(),
            tags: Vec::new(),
        }
    }

    /// An empty batch with this one's capacity.
    pub(crate) fn empty_like(&self) -> SpanBatch {
        SpanBatch {
            rows: Vec::with_capacity(self.rows.capacity()),
            tags: Vec::with_capacity(self.tags.capacity()),
        }
    }

    /// Spans held.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when the batch holds no span.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Empties the batch, keeping its allocations.
    pub fn clear(&mut self) {
        self.rows.clear();
        self.tags.clear();
    }

    /// Moves a finished record's contents in (with its own times, Unix or
    /// a raw start not yet converted), leaving the record's tag vector
    /// (empty, with its capacity) behind for reuse.
    pub(crate) fn push_finished(&mut self, r: &mut FinishedSpan) {
        let times = match r.local.started {
            None => Times::Unix {
                start: r.start_time,
                duration: r.duration,
            },
            Some(s) => Times::Unix {
                start: crate::clock::to_unix_nanos(s),
                duration: r.duration,
            },
        };
        self.push_record(r, |_| times);
    }

    /// Moves a finished record's contents in with these times, leaving
    /// the record's tag vector (empty, with its capacity) behind for
    /// reuse. Inlined into the finish path: as a call, its prologue and
    /// epilogue were a tenth of the work.
    ///
    /// A plain span (no tags, logs, other references or sampler tags:
    /// every child started without them) is one test of its vectors'
    /// lengths and its sampler, and a row whose small fields are known;
    /// the rest goes out of line. (Three tests, each with its own branch,
    /// before.)
    ///
    /// The times are made by `times` on each side, so the plain side
    /// writes them from registers: made once before, they were stored for
    /// the out-of-line call and copied into the row by a wide load over
    /// those narrow stores, which waited for them (a failed store forward).
    #[inline(always)]
    pub(crate) fn push_record(
        &mut self,
        r: &mut FinishedSpan,
        times: impl FnOnce(&FinishedSpan) -> Times,
    ) {
        if Self::is_plain(r) {
            let times = times(r);
            self.push_plain(r, times);
        } else {
            let times = times(r);
            self.push_any(r, times);
        }
    }

    /// No tags, logs, other references or sampler tags: what every child
    /// started without them is.
    #[inline(always)]
    pub(crate) fn is_plain(r: &FinishedSpan) -> bool {
        (r.tags.len() | r.logs.len() | r.references.len()) == 0 && r.sampler.is_none()
    }

    /// Pushes a plain record ([`Self::is_plain`]): a row whose small
    /// fields are known.
    #[inline(always)]
    pub(crate) fn push_plain(&mut self, r: &mut FinishedSpan, times: Times) {
        debug_assert!(Self::is_plain(r));
        let first_tag = self.tags.len() as u32;
        let c = &r.context;
        let row = SpanRow {
            trace_id: c.trace_id(),
            span_id: c.span_id(),
            parent_id: c.parent_id(),
            times,
            operation_name: take_name(&mut r.operation_name),
            tags: SpanRow::pack_tags(first_tag, first_tag),
            meta: SpanRow::pack_meta(c.flags(), r.parent_ref_type, None),
            sampler_param: 0.0,
            extras: None,
        };
        // Checked after the clock read: checked before, the check did not
        // survive the read, and `push` built the row on the stack before
        // its own check and copied it.
        if self.rows.len() < self.rows.capacity() {
            self.rows.push(row);
        } else {
            push_growing(&mut self.rows, row);
        }
    }

    /// [`Self::push_record`] for any record: with tags, logs, other
    /// references or sampler tags. Out of line:
    /// inlined, it cost plain spans 3 instructions (and saved spans with
    /// 3 tags 10).
    #[inline(never)]
    fn push_any(&mut self, r: &mut FinishedSpan, times: Times) {
        let first_tag = self.tags.len() as u32;
        if !r.tags.is_empty() {
            // One copy; the record keeps its vector's capacity.
            self.tags.append(&mut r.tags);
        }
        let extras = if r.logs.is_empty() && r.references.is_empty() {
            None
        } else {
            Some(Box::new(Extras {
                logs: std::mem::take(&mut r.logs),
                references: std::mem::take(&mut r.references),
            }))
        };
        // Written straight into free capacity: pushed as a value, the row
        // was built on the stack before `push`'s capacity check and copied
        // with wide loads right after its fields' narrow stores (store
        // forwarding stalls); pushed blank and then filled, the blank cost
        // 14 instructions. With room known, `push` does not grow, so its
        // fields go from registers into the batch.
        let tags = SpanRow::pack_tags(first_tag, self.tags.len() as u32);
        // Only roots carry sampler tags: a branch, not the selects that
        // packing an absent sampler's kind and parameter compiled to.
        let (meta, sampler_param) = match r.sampler {
            None => (
                SpanRow::pack_meta(r.context.flags(), r.parent_ref_type, None),
                0.0,
            ),
            Some(s) => (
                SpanRow::pack_meta(r.context.flags(), r.parent_ref_type, Some(s)),
                s.param,
            ),
        };
        let row = || {
            let c = &r.context;
            SpanRow {
                trace_id: c.trace_id(),
                span_id: c.span_id(),
                parent_id: c.parent_id(),
                times,
                operation_name: take_name(&mut r.operation_name),
                tags,
                meta,
                sampler_param,
                extras,
            }
        };
        // The row is made on each side of the check (not once before it),
        // so the common side does not share a stack copy with the rare one.
        if self.rows.len() < self.rows.capacity() {
            self.rows.push(row());
        } else {
            push_growing(&mut self.rows, row());
        }
    }

    /// Turns raw clock readings into Unix times (on the reporter's thread,
    /// so the threads that finish spans do not pay for it).
    pub fn settle_times(&mut self) {
        for row in &mut self.rows {
            if let Times::Raw(..) = row.times {
                let (start, duration) = row.times.unix();
                row.times = Times::Unix { start, duration };
            }
        }
    }

    /// Moves every span of `other` to the end of this batch (leaving
    /// `other` empty with its capacity).
    pub(crate) fn append(&mut self, other: &mut SpanBatch) {
        let shift = self.tags.len() as u32;
        self.tags.append(&mut other.tags);
        self.rows.extend(other.rows.drain(..).map(|mut row| {
            let t = row.tag_range();
            row.tags = SpanRow::pack_tags(t.start as u32 + shift, t.end as u32 + shift);
            row
        }));
    }

    /// Keeps the first `n` spans, drops the rest.
    pub(crate) fn truncate(&mut self, n: usize) {
        if n < self.rows.len() {
            self.rows.truncate(n);
            let tags_end = self.rows.last().map_or(0, |r| r.tag_range().end);
            self.tags.truncate(tags_end);
        }
    }

    pub(crate) fn row_tags(&self, row: &SpanRow) -> &[Tag] {
        &self.tags[row.tag_range()]
    }

    /// The spans as model spans, each carrying `process`: what senders that
    /// only implement [`crate::sender::Sender::append`] receive.
    pub fn to_model<'a>(
        &'a self,
        process: &'a Arc<Process>,
    ) -> impl Iterator<Item = clew_model::Span> + 'a {
        self.rows
            .iter()
            .map(|row| row_to_model(row, self.row_tags(row), process))
    }
}

/// A record's operation name for its row: a borrowed name is copied and
/// left in the record, whose next start overwrites it unread
/// (`name_released`); an owned one is moved out.
#[inline(always)]
fn take_name(name: &mut Cow<'static, str>) -> Cow<'static, str> {
    match name {
        Cow::Borrowed(n) => Cow::Borrowed(*n),
        Cow::Owned(_) => std::mem::take(name),
    }
}

/// A row pushed when the batch is full (its first rows, and then only when
/// the batch grows past its largest size).
#[cold]
#[inline(never)]
fn push_growing(rows: &mut Vec<SpanRow>, row: SpanRow) {
    rows.push(row);
}

/// One row as a model span. The parent becomes the first reference;
/// sampler tags come first among the tags (see [`crate::to_model`]).
pub(crate) fn row_to_model(
    row: &SpanRow,
    tags: &[Tag],
    process: &Arc<Process>,
) -> clew_model::Span {
    let has_parent = row.parent_id != SpanId(0);
    let extra_refs = row.extras.as_ref().map_or(&[][..], |e| &e.references[..]);
    let mut references = Vec::with_capacity(extra_refs.len() + usize::from(has_parent));
    if has_parent {
        references.push(Reference {
            ref_type: row.parent_ref_type(),
            trace_id: row.trace_id,
            span_id: row.parent_id,
            tags: Vec::new(),
        });
    }
    references.extend(extra_refs.iter().map(|r| Reference {
        ref_type: r.ref_type,
        trace_id: r.trace_id,
        span_id: r.span_id,
        tags: Vec::new(),
    }));
    let mut model_tags = Vec::with_capacity(tags.len() + 2);
    if let Some(s) = row.sampler() {
        model_tags.extend(s.model_tags());
    }
    model_tags.extend(tags.iter().cloned().map(Tag::into_model));
    let logs = row.extras.as_ref().map_or_else(Vec::new, |e| {
        e.logs
            .iter()
            .map(|l| Log {
                timestamp: l.timestamp,
                fields: l.fields.iter().cloned().map(Tag::into_model).collect(),
            })
            .collect()
    });
    let (start_time, duration) = row.times.unix();
    clew_model::Span {
        trace_id: row.trace_id,
        span_id: row.span_id,
        operation_name: cow_into_str(row.operation_name.clone()),
        references,
        flags: u32::from(row.flags()),
        start_time,
        duration,
        tags: model_tags,
        logs,
        process: process.clone(),
        scope: None,
        warnings: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tracer;
    use crate::reporter::InMemoryReporter;
    use crate::sampler::ConstSampler;

    /// Rows convert to exactly what the record would have become.
    #[test]
    fn rows_convert_like_records() {
        let rep = InMemoryReporter::new();
        let t = Tracer::builder("svc")
            .sampler(ConstSampler(true))
            .reporter(rep.clone())
            .build();
        let root = t.span("root").with_tag("a", 1).start();
        let other = t.span("other").start();
        let mut child = t.span("child").child_of(&root).follows_from(&other).start();
        child.set_tag("s", String::from("owned")).log_event("ev");
        child.finish();
        root.finish();
        other.finish();
        let p = Arc::new(Process::new("svc"));
        let mut batch = SpanBatch::new();
        let records = rep.take();
        for r in &records {
            batch.push_finished(&mut r.clone());
        }
        let expected: Vec<_> = records
            .into_iter()
            .map(|r| crate::to_model(r, &p))
            .collect();
        assert_eq!(batch.to_model(&p).collect::<Vec<_>>(), expected);
        let mut more = SpanBatch::new();
        more.append(&mut batch);
        assert!(batch.is_empty());
        batch.append(&mut more);
        assert_eq!(batch.to_model(&p).collect::<Vec<_>>(), expected);
        batch.truncate(1);
        assert_eq!(batch.to_model(&p).collect::<Vec<_>>(), expected[..1]);
        assert_eq!(batch.tags.len(), 1);
    }
}

#[cfg(test)]
mod size {
    /// Rows are pushed once per span: above 128 bytes the compiler copies
    /// them through a `memcpy` call instead of writing them in place.
    #[test]
    fn rows_stay_small() {
        assert!(std::mem::size_of::<super::SpanRow>() <= 120);
    }
}
