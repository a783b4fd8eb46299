//! Thread-local collection of finished spans, handed to the reporter a
//! batch at a time.
//!
//! For reporters that take batches ([`Reporter::batch_size`] > 0), a
//! finishing span is copied into this thread's [`SpanBatch`] and its record
//! goes straight back to this thread's stash: nothing per span touches
//! memory another thread uses, and the record the next span takes is still
//! in this core's cache. Start and end times stay raw clock readings; the
//! reporter's thread turns them into Unix time. The batch goes to the reporter in one call when
//! the thread's *local root* finishes (the span that was started while no
//! other local root of the thread was open), so a request handled on one
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

use std::cell::RefCell;
use std::collections::HashMap;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};

use parking_lot::Mutex;

use super::FinishedSpan;
use super::pool::{self, Records};
use crate::reporter::{Reporter, SpanBatch, Times};

/// A batch is handed over once its first span finished this long ago
/// (checked every [`AGE_CHECK_EVERY`] spans), so a long-lived local root (a
/// `main` span around the whole program) does not hold every span back.
pub(crate) const HAND_OFF_AFTER: std::time::Duration = std::time::Duration::from_millis(100);
/// Spans between two checks of the batch's age (reading the age converts
/// clock readings, which the hot path otherwise leaves to the reporter).
const AGE_CHECK_EVERY: usize = 32;

/// Each thread's flag (see [`Stage::root_flag`]), by its stage's address.
/// Touched when a thread starts its first local root, when it exits, and
/// when a local root finishes on another thread than its own. An address
/// reused by a newer thread after the old one exited can at worst raise the
/// newer thread's flag, which only makes it hand its batch over early.
static HOME_FLAGS: LazyLock<Mutex<HashMap<usize, Arc<AtomicBool>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Tells the thread whose stage is at `home` that one of its local roots
/// finished elsewhere.
#[cold]
#[inline(never)]
fn raise_home_flag(home: usize) {
    if let Some(flag) = HOME_FLAGS.lock().get(&home) {
        flag.store(true, Ordering::Release);
    }
}

thread_local! {
    /// This thread's batch, records and local-root flag. One thread-local
    /// for all of it: a span start and a span finish each touch it once.
    /// Its address names the thread.
    ///
    /// Without a destructor of its own (`ManuallyDrop`), so reaching it
    /// tests nothing: a thread-local with one is checked for having been
    /// registered or destroyed at every access (three instructions, twice
    /// a span). [`STAGE_OWNER`]'s destructor closes it instead.
    static STAGE: ManuallyDrop<RefCell<Stage>> =
        const { ManuallyDrop::new(RefCell::new(Stage::new())) };
    /// Closes this thread's stage when the thread exits (hands its batch
    /// over, gives its records to other threads, releases the reporter).
    /// Registered by the stage's first use that takes resources
    /// ([`Stage::own`]).
    static STAGE_OWNER: StageOwner = const { StageOwner };
}

/// See [`STAGE_OWNER`].
struct StageOwner;

impl Drop for StageOwner {
    fn drop(&mut self) {
        let _ = STAGE.try_with(|s| {
            if let Ok(mut s) = s.try_borrow_mut() {
                s.close();
            }
        });
    }
}

/// The tracer a closed stage names: no tracer has it, so every finish
/// after the close goes through [`Stage::switch_to`], which declines.
const CLOSED: u64 = u64::MAX;

/// Where a sampled span of a batching tracer started, and when. Not part
/// of the span's data: records compare equal whatever their marks.
#[derive(Clone, Debug, Default)]
pub(crate) struct LocalMark {
    /// The address of the home thread's stage; 0 for spans of tracers that
    /// report span by span.
    home: usize,
    /// Set on local roots. A local root finishing on another thread raises
    /// its home thread's flag, found through [`HOME_FLAGS`] by `home`: a
    /// lookup on that rare path instead of a reference count taken and
    /// released on every local root.
    root: bool,
    /// The raw clock reading at the start, when the start was not given
    /// (converted to Unix time by the reporter's thread).
    pub(crate) started: Option<fastant::Instant>,
    /// The span's tracer (see [`crate::registry`]); kept here rather than
    /// in [`crate::Span`], so a span is two words (a tag and a pointer).
    pub(crate) tracer_id: u64,
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

/// An empty record for a sampled span of a batching tracer, marked as
/// started on this thread (the thread's next record, while still in cache).
///
/// Inline only for the common case, a span started under an open local
/// root with the last finished record at hand; everything else (an empty slot,
/// a local root, an exiting thread) is one out-of-line call that returns
/// the record. With the rare calls made from the middle of the common
/// path, its values lived across them in saved registers: five pushes and
/// pops on every span. (Inlining all of it into the span's start measured
/// more instructions per span, not fewer.)
#[inline]
pub(crate) fn take() -> Box<FinishedSpan> {
    STAGE
        .try_with(|s| {
            let s: &RefCell<Stage> = s;
            let home = s as *const RefCell<Stage> as usize;
            let mut s = s.try_borrow_mut().ok()?;
            if s.root_open
                && let Some(mut record) = s.last.take()
            {
                record.local.home = home;
                record.local.root = false;
                return Some(record);
            }
            Some(s.take_other(home))
        })
        .ok()
        .flatten()
        .unwrap_or_else(record_alone)
}

/// Thread exiting (or a reporter starting spans while the stage is
/// borrowed): a record reported on its own.
#[cold]
#[inline(never)]
fn record_alone() -> Box<FinishedSpan> {
    Box::new(FinishedSpan::empty())
}

/// Takes the finished record of a batching tracer's span: its contents go
/// into this thread's batch, the record back to this thread's stash.
/// `end` is the explicit finish time, if one was given.
#[inline]
pub(crate) fn finish(record: Box<FinishedSpan>, tracer_id: u64, end: Option<u64>) {
    let mut slot = Some(record);
    let _ = STAGE.try_with(|s| {
        let s: &RefCell<Stage> = s;
        let home = s as *const RefCell<Stage> as usize;
        if let Ok(mut stage) = s.try_borrow_mut()
            && let Some(record) = slot.take()
        {
            stage.stage(record, home, tracer_id, end);
        }
    });
    if let Some(record) = slot {
        let at = times(&record, end);
        report_alone(record, tracer_id, at);
    }
}

/// The span's times, read as late as possible: the common case (started
/// and finished now) keeps both raw readings; the rest is settled out of
/// line, returning two words in registers. Read before the thread's stage
/// was borrowed, the times lived across its calls, were spilled word by
/// word and copied into the row with one wide load over those narrow
/// stores, which waited for them (a failed store forward) on every span.
#[inline(always)]
fn times(record: &FinishedSpan, end: Option<u64>) -> Times {
    match (end, record.local.started) {
        (None, Some(started)) => Times::Raw(started, crate::clock::now_raw()),
        _ => {
            let ended = end.is_none().then(crate::clock::now_raw);
            let (start, duration) = unix_times(record, end, ended);
            Times::Unix { start, duration }
        }
    }
}

/// A span's Unix start and duration when it was given an explicit start or
/// end (or has no raw start); `ended` is the raw end reading if the end is
/// now.
#[cold]
#[inline(never)]
fn unix_times(r: &FinishedSpan, end: Option<u64>, ended: Option<fastant::Instant>) -> (u64, u64) {
    let start = r
        .local
        .started
        .map_or(r.start_time, crate::clock::to_unix_nanos);
    let end = match (end, ended) {
        (Some(e), _) => e,
        (None, Some(at)) => crate::clock::to_unix_nanos(at),
        (None, None) => crate::clock::now_unix_nanos(),
    };
    (start, end.saturating_sub(start))
}

/// Re-entrant (a reporter finishing spans) or the thread is exiting: the
/// span goes over on its own, with the Unix times reporters expect.
#[cold]
#[inline(never)]
fn report_alone(mut record: Box<FinishedSpan>, tracer_id: u64, times: Times) {
    (record.start_time, record.duration) = times.unix();
    record.local = LocalMark::default();
    crate::registry::report(tracer_id, record);
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
    /// A local root of this thread is open: spans started now are inside
    /// its subtree. Cleared when it finishes (here, or elsewhere as far as
    /// this thread learns from its flag). A flag, not a count of open
    /// spans: a count was kept up at every start and finish (seven
    /// instructions a span) to tell the same thing, but for spans still
    /// open after their root finished, which a count then made end the
    /// next root's subtree early.
    root_open: bool,
    /// Raised by another thread that finished one of this thread's local
    /// roots; listed in [`HOME_FLAGS`] under `home` once created.
    root_flag: Option<Arc<AtomicBool>>,
    /// This stage's address, once its flag is listed.
    home: usize,
    /// The record finished last, for the next span: one slot to test and
    /// fill, where the stash's push and pop each checked a length (and a
    /// capacity) and moved it. A span and its children mostly start and
    /// finish in turn, so the stash is seldom touched.
    last: Option<Box<FinishedSpan>>,
    /// Cleared records for the next spans.
    stash: Records,
    /// [`STAGE_OWNER`] is registered to close the stage.
    owned: bool,
    /// The thread is exiting: the stage was closed and takes nothing in.
    closed: bool,
}

impl Stage {
    const fn new() -> Self {
        Stage {
            batch: SpanBatch::new(),
            tracer_id: 0,
            reporter: None,
            limit: 1,
            root_open: false,
            root_flag: None,
            home: 0,
            last: None,
            stash: Vec::new(),
            owned: false,
            closed: false,
        }
    }

    /// [`take`] for a local root (no local root open on the thread) or when the
    /// last finished record is not at hand.
    #[inline(never)]
    fn take_other(&mut self, home: usize) -> Box<FinishedSpan> {
        if self.closed {
            // The thread is exiting: the span goes over on its own.
            return record_alone();
        }
        let mut record = match self.last.take() {
            Some(r) => r,
            None => self.take_stashed(),
        };
        record.local.home = home;
        record.local.root = !self.root_open;
        if !self.root_open {
            self.root_open = true;
            self.local_root_starts(home);
        }
        record
    }

    /// A record from the stash, or from the shared pool when the stash is
    /// empty. Out of line: the last finished record usually serves.
    #[inline(never)]
    fn take_stashed(&mut self) -> Box<FinishedSpan> {
        match self.stash.pop() {
            Some(r) => r,
            None => self.refill(),
        }
    }

    #[cold]
    #[inline(never)]
    fn refill(&mut self) -> Box<FinishedSpan> {
        self.own();
        if let Some(records) = pool::refill() {
            self.stash = records;
        }
        self.stash
            .pop()
            .unwrap_or_else(|| Box::new(FinishedSpan::empty()))
    }

    /// A local root starts: the thread's flag (for roots finishing
    /// elsewhere) is created at its first. Out of line, so the start tests
    /// only whether a local root is open: testing the flag there too
    /// compiled to flag arithmetic on every span.
    #[inline(never)]
    fn local_root_starts(&mut self, home: usize) {
        if self.root_flag.is_none() {
            self.register(home);
        }
    }

    /// Creates this thread's flag (at its first local root) and lists it
    /// under the stage's address, where other threads find it.
    #[cold]
    #[inline(never)]
    fn register(&mut self, home: usize) {
        self.own();
        let flag = Arc::new(AtomicBool::new(false));
        HOME_FLAGS.lock().insert(home, flag.clone());
        self.root_flag = Some(flag);
        self.home = home;
    }

    #[inline]
    fn stage(&mut self, mut r: Box<FinishedSpan>, home: usize, tracer_id: u64, end: Option<u64>) {
        if tracer_id != self.tracer_id && !self.switch_to(tracer_id) {
            let at = times(&r, end);
            report_alone(r, tracer_id, at);
            return;
        }
        let subtree_done = if r.local.home == home {
            if r.local.root {
                self.root_open = false;
            }
            r.local.root
        } else {
            if r.local.root {
                raise_home_flag(r.local.home);
            }
            !self.root_open
        };
        self.batch.push_record(&mut r, |r| times(r, end));
        r.reset_moved();
        match &self.last {
            None => self.last = Some(r),
            Some(_) => self.stash_record(r),
        }
        let len = self.batch.len();
        if subtree_done
            || len >= self.limit
            || (len.is_multiple_of(AGE_CHECK_EVERY) && self.is_old())
            || self.root_finished_elsewhere()
        {
            self.hand_off();
        }
    }

    /// Keeps a record for a later span when the last-record slot is taken.
    #[inline(never)]
    fn stash_record(&mut self, r: Box<FinishedSpan>) {
        if self.stash.len() < pool::stash_max() {
            self.stash.push(r);
        }
    }

    /// Whether the batch's first span finished [`HAND_OFF_AFTER`] ago or
    /// more. Read from that span's row rather than kept apart: keeping it
    /// cost every finish a test and two stores.
    #[cold]
    fn is_old(&self) -> bool {
        self.batch
            .rows
            .first()
            .is_some_and(|row| row.times.ended_ago() >= HAND_OFF_AFTER)
    }

    /// Whether another thread finished one of this thread's local roots
    /// since the last check; if so, nothing of this thread is open any
    /// more as far as it can know.
    #[inline]
    fn root_finished_elsewhere(&mut self) -> bool {
        let Some(flag) = &self.root_flag else {
            return false;
        };
        if flag.load(Ordering::Relaxed) && flag.swap(false, Ordering::Acquire) {
            self.root_open = false;
            return true;
        }
        false
    }

    /// Hands the batch over (if any) and looks up the new tracer's reporter.
    #[inline(never)]
    /// Returns false, changing nothing, once the stage is closed.
    fn switch_to(&mut self, tracer_id: u64) -> bool {
        if self.closed {
            return false;
        }
        self.own();
        self.hand_off();
        self.tracer_id = tracer_id;
        self.reporter = crate::registry::reporter(tracer_id);
        self.limit = self.reporter.as_ref().map_or(1, |r| r.batch_size().max(1));
        true
    }

    /// Makes sure [`STAGE_OWNER`] will close this stage when the thread
    /// exits: called where the stage first takes something it must give
    /// back (a tracer's reporter, records, a flag).
    fn own(&mut self) {
        if !self.owned {
            self.owned = true;
            // Touching the owner registers its destructor.
            let _ = STAGE_OWNER.try_with(|_| ());
        }
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

impl Stage {
    /// At thread exit: hands the batch over, gives the records to other
    /// threads and releases everything the stage holds. Spans finished
    /// later (by other thread-locals' destructors) go over on their own.
    fn close(&mut self) {
        if let Some(_flag) = self.root_flag.take() {
            HOME_FLAGS.lock().remove(&self.home);
        }
        self.hand_off();
        let mut records = std::mem::take(&mut self.stash);
        records.extend(self.last.take());
        pool::give_back(records);
        self.closed = true;
        self.tracer_id = CLOSED;
        self.reporter = None;
        self.batch = SpanBatch::new();
        self.root_open = false;
    }
}

#[cfg(test)]
#[path = "local_tests.rs"]
mod tests;
