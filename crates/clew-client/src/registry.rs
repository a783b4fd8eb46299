//! Finds a span's reporter when it finishes, without a shared reference
//! count per span.
//!
//! A span stores only its tracer's numeric ID. Holding an `Arc` instead
//! would make every sampled span increment and decrement one shared counter,
//! and with two threads starting spans that cache line bounces between
//! cores. Here each thread caches `id → reporter` the first time it reports
//! for a tracer; the global table is consulted only on that first miss.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use crate::reporter::Reporter;
use crate::span::FinishedSpan;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);
static TABLE: Mutex<Vec<(u64, Weak<dyn Reporter>)>> = Mutex::new(Vec::new());
/// Spans whose tracer was gone when they finished.
static ORPHANED: AtomicU64 = AtomicU64::new(0);

/// Beyond this many cached tracers per thread, the cache is cleared; only
/// programs that create tracers in a loop get there.
const CACHE_LIMIT: usize = 16;

thread_local! {
    static CACHE: RefCell<Vec<(u64, Arc<dyn Reporter>)>> = const { RefCell::new(Vec::new()) };
}

/// Registers a reporter and returns the ID spans will carry.
pub(crate) fn register(reporter: &Arc<dyn Reporter>) -> u64 {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let mut t = TABLE.lock();
    t.retain(|(_, w)| w.strong_count() > 0);
    t.push((id, Arc::downgrade(reporter)));
    id
}

fn lookup(id: u64) -> Option<Arc<dyn Reporter>> {
    TABLE
        .lock()
        .iter()
        .find(|(i, _)| *i == id)
        .and_then(|(_, w)| w.upgrade())
}

/// Hands a finished span to the reporter of tracer `id`.
#[inline]
pub(crate) fn report(id: u64, span: Box<FinishedSpan>) {
    let mut span = Some(span);
    let _ = CACHE.try_with(|c| {
        let Ok(mut c) = c.try_borrow_mut() else {
            return;
        };
        if let Some((_, r)) = c.iter().find(|(i, _)| *i == id) {
            if let Some(s) = span.take() {
                r.report(s);
            }
            return;
        }
        if let Some(r) = lookup(id) {
            if c.len() >= CACHE_LIMIT {
                c.clear();
            }
            c.push((id, r.clone()));
            if let Some(s) = span.take() {
                r.report(s);
            }
        }
    });
    // Re-entrant report (a reporter that finishes spans) or a thread being
    // torn down: go through the global table.
    if let Some(s) = span {
        match lookup(id) {
            Some(r) => r.report(s),
            None => {
                ORPHANED.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// The reporter of tracer `id`, if it still exists (for a thread's batch,
/// which keeps it until the thread reports for another tracer).
pub(crate) fn reporter(id: u64) -> Option<Arc<dyn Reporter>> {
    lookup(id)
}

/// Counts spans whose tracer was gone when they were handed over.
pub(crate) fn count_orphaned(n: usize) {
    ORPHANED.fetch_add(n as u64, Ordering::Relaxed);
}

/// Spans dropped because their tracer no longer existed.
pub fn orphaned_spans() -> u64 {
    ORPHANED.load(Ordering::Relaxed)
}
