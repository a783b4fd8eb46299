//! Recycled span records.
//!
//! A sampled span's record lives in a `Box` so spans and reporter batches
//! move a pointer, not ~450 bytes. Records are reused rather than freed:
//! the remote reporter's thread converts a batch, clears its records and
//! returns the whole batch to a shared pool; a thread that starts spans
//! takes one such batch at a time as its private stash. So the steady
//! state allocates nothing per span, and pool traffic is one channel
//! operation per batch, not per span.

use std::cell::RefCell;
use std::sync::OnceLock;

use crossbeam_channel::{Receiver, Sender, bounded};

use super::FinishedSpan;

type Records = Vec<Box<FinishedSpan>>;

/// Batches of cleared records waiting for reuse across all threads.
const POOL_BATCHES: usize = 256;
/// Records a thread keeps when it recycles locally.
const STASH_MAX: usize = 256;

fn pool() -> &'static (Sender<Records>, Receiver<Records>) {
    static POOL: OnceLock<(Sender<Records>, Receiver<Records>)> = OnceLock::new();
    POOL.get_or_init(|| bounded(POOL_BATCHES))
}

thread_local! {
    static STASH: RefCell<Records> = const { RefCell::new(Vec::new()) };
}

/// An empty record, recycled when one is available.
#[inline]
pub(crate) fn take() -> Box<FinishedSpan> {
    STASH
        .try_with(|s| {
            let mut s = s.try_borrow_mut().ok()?;
            if let Some(b) = s.pop() {
                return Some(b);
            }
            let mut batch = pool().1.try_recv().ok()?;
            let b = batch.pop();
            *s = batch;
            b
        })
        .ok()
        .flatten()
        .unwrap_or_else(|| Box::new(FinishedSpan::empty()))
}

/// Clears a batch of records and offers it for reuse by any thread.
pub(crate) fn recycle_batch(mut batch: Records) {
    batch.iter_mut().for_each(|r| r.clear());
    if !batch.is_empty() {
        let _ = pool().0.try_send(batch);
    }
}

/// Clears one record and keeps it for this thread's next span.
pub(crate) fn recycle_local(mut record: Box<FinishedSpan>) {
    record.clear();
    let _ = STASH.try_with(|s| {
        if let Ok(mut s) = s.try_borrow_mut()
            && s.len() < STASH_MAX
        {
            s.push(record);
        }
    });
}
