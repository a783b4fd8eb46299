//! Thread-local collection of finished spans, handed to the reporter a
//! batch at a time.
//!
//! For reporters that take batches ([`Reporter::batch_size`] > 0), a
//! finishing span is copied into this thread's [`SpanBatch`] and its record
//! goes straight back to this thread's pool: nothing per span touches
//! memory another thread uses, and the record the next span takes is still
//! in this core's cache. The batch goes to the reporter in one call when
//! the thread's *local root* finishes (the span that was started while no
//! other sampled span of the thread was open), so a request handled on one
//! thread is one hand-off; or sooner, when the batch reaches the
//! reporter's size, when its oldest span finished [`HAND_OFF_AFTER`] ago,
//! when the tracer is flushed or closed on this thread, and when the thread
//! exits.
//!
//! Spans are `Send`, so a span may finish on another thread than the one
//! it started on. Such a span goes into the batch of the thread it finishes
//! on. If it was its home thread's local root, it tells that thread (a flag
//! the home thread reads at its next finish), which then hands its batch
//! over instead of waiting for a root that will not finish there. A thread
//! that sleeps meanwhile keeps its batch until it finishes another span or
//! exits: that is the price of touching no shared memory per span.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::FinishedSpan;
use super::pool;
use crate::reporter::{Reporter, SpanBatch};

/// A batch is handed over at the next finish once its first span finished
/// this long ago, so a long-lived local root (a `main` span around the
/// whole program) does not hold every span back.
pub(crate) const HAND_OFF_AFTER: u64 = 100_000_000;

thread_local! {
    /// Sampled spans of batching tracers started on this thread and not
    /// finished here (spans finished elsewhere are not subtracted; a local
    /// root finishing here resets it). No destructor: reading it costs one
    /// thread-local load, and its address names the thread.
    static OPEN: Cell<u32> = const { Cell::new(0) };
    static STAGE: RefCell<Stage> = const { RefCell::new(Stage::new()) };
}

/// Where a sampled span of a batching tracer started. Not part of the
/// span's data: records compare equal whatever their marks.
#[derive(Clone, Debug, Default)]
pub(crate) struct LocalMark {
    /// The address of the home thread's `OPEN` cell; 0 for spans of
    /// tracers that report span by span.
    home: usize,
    /// Set on local roots: the home thread's flag, raised when the root
    /// finishes on another thread.
    root: Option<Arc<AtomicBool>>,
}

impl PartialEq for LocalMark {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl LocalMark {
    /// True when the span is collected thread-locally.
    #[inline]
    pub(crate) fn is_batched(&self) -> bool {
        self.home != 0
    }
}

fn open_cell_addr(c: &Cell<u32>) -> usize {
    c as *const Cell<u32> as usize
}

/// Marks a sampled span of a batching tracer as started on this thread.
#[inline]
pub(crate) fn on_start(mark: &mut LocalMark) {
    let (open, home) = OPEN.with(|c| {
        let open = c.get();
        c.set(open.saturating_add(1));
        (open, open_cell_addr(c))
    });
    mark.home = home;
    if open == 0 {
        mark.root = root_flag();
    }
}

/// This thread's roots-finished-elsewhere flag, for a new local root.
/// Out of line: once per local root, not per span.
#[inline(never)]
fn root_flag() -> Option<Arc<AtomicBool>> {
    STAGE
        .try_with(|s| {
            let mut s = s.try_borrow_mut().ok()?;
            Some(
                s.root_flag
                    .get_or_insert_with(|| Arc::new(AtomicBool::new(false)))
                    .clone(),
            )
        })
        .ok()
        .flatten()
}

/// Takes the finished record of a batching tracer's span: its contents go
/// into this thread's batch, the record back to this thread's pool.
#[inline]
pub(crate) fn finish(mut record: Box<FinishedSpan>, tracer_id: u64, end: u64) {
    let staged = STAGE
        .try_with(|s| match s.try_borrow_mut() {
            Ok(mut s) => {
                s.stage(&mut record, tracer_id, end);
                true
            }
            Err(_) => false,
        })
        .unwrap_or(false);
    if staged {
        pool::recycle_local(record);
    } else {
        // Re-entrant (a reporter finishing spans) or the thread is
        // exiting: hand the span over on its own.
        crate::registry::report(tracer_id, record);
    }
}

/// Hands this thread's batch to its reporter now (flush and close do this
/// before asking the reporter to send).
pub(crate) fn hand_off_this_thread() {
    let _ = STAGE.try_with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            s.hand_off();
        }
    });
}

/// This thread's batch and the reporter it goes to.
struct Stage {
    batch: SpanBatch,
    tracer_id: u64,
    reporter: Option<Arc<dyn Reporter>>,
    /// The reporter's [`Reporter::batch_size`].
    limit: usize,
    /// When the batch's first span finished (Unix ns).
    first_end: u64,
    /// Raised by another thread that finished one of this thread's local
    /// roots.
    root_flag: Option<Arc<AtomicBool>>,
}

impl Stage {
    const fn new() -> Self {
        Stage {
            batch: SpanBatch::new(),
            tracer_id: 0,
            reporter: None,
            limit: 1,
            first_end: 0,
            root_flag: None,
        }
    }

    #[inline]
    fn stage(&mut self, r: &mut FinishedSpan, tracer_id: u64, end: u64) {
        if tracer_id != self.tracer_id {
            self.switch_to(tracer_id);
        }
        let subtree_done = OPEN.with(|c| {
            if r.local.home == open_cell_addr(c) {
                let open = if r.local.root.is_some() {
                    0
                } else {
                    c.get().saturating_sub(1)
                };
                c.set(open);
                open == 0
            } else {
                if let Some(flag) = &r.local.root {
                    flag.store(true, Ordering::Release);
                }
                c.get() == 0
            }
        });
        if self.batch.is_empty() {
            self.first_end = end;
        }
        self.batch.push_record(r);
        if subtree_done
            || self.batch.len() >= self.limit
            || end.saturating_sub(self.first_end) >= HAND_OFF_AFTER
            || self.root_finished_elsewhere()
        {
            self.hand_off();
        }
    }

    /// Whether another thread finished one of this thread's local roots
    /// since the last check; if so, nothing of this thread is open any
    /// more as far as it can know.
    #[inline]
    fn root_finished_elsewhere(&self) -> bool {
        let Some(flag) = &self.root_flag else {
            return false;
        };
        if flag.load(Ordering::Relaxed) && flag.swap(false, Ordering::Acquire) {
            OPEN.with(|c| c.set(0));
            return true;
        }
        false
    }

    /// Hands the batch over (if any) and looks up the new tracer's reporter.
    #[inline(never)]
    fn switch_to(&mut self, tracer_id: u64) {
        self.hand_off();
        self.tracer_id = tracer_id;
        self.reporter = crate::registry::reporter(tracer_id);
        self.limit = self.reporter.as_ref().map_or(1, |r| r.batch_size().max(1));
    }

    fn hand_off(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        match &self.reporter {
            Some(r) => r.report_batch(&mut self.batch),
            None => crate::registry::count_orphaned(self.batch.len()),
        }
        self.batch.clear();
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        self.hand_off();
    }
}

#[cfg(test)]
#[path = "local_tests.rs"]
mod tests;
