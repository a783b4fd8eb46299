//! Recycled span records.
//!
//! A sampled span's record lives in a `Box` so spans move a pointer, not
//! ~450 bytes. Records are reused rather than freed, on the thread that
//! finished them: its contents are copied into the thread's batch (or
//! handed to a reporter) and the record goes to the thread's private
//! stash, where the next span takes it while it is still in this core's
//! cache. So the steady state allocates nothing per span and no record
//! crosses threads. A thread that exits gives its stash to a shared pool,
//! from which new threads take one piece at a time.

use std::cell::RefCell;
use std::sync::OnceLock;

use crossbeam_channel::{Receiver, Sender, bounded};

use super::FinishedSpan;

pub(crate) type Records = Vec<Box<FinishedSpan>>;

/// Batches of cleared records waiting for reuse across all threads.
const POOL_BATCHES: usize = 256;
/// Records a thread keeps when it recycles locally.
const STASH_MAX: usize = 256;

fn pool() -> &'static (Sender<Records>, Receiver<Records>) {
    static POOL: OnceLock<(Sender<Records>, Receiver<Records>)> = OnceLock::new();
    POOL.get_or_init(|| bounded(POOL_BATCHES))
}

/// A thread's private records. When the thread exits they go back to the
/// shared pool instead of being freed: a program that runs short-lived
/// threads (a thread per task) would otherwise free a stash and allocate
/// a fresh record for every span of every new thread.
struct Stash(Records);

impl Drop for Stash {
    fn drop(&mut self) {
        let records = std::mem::take(&mut self.0);
        if !records.is_empty() {
            let _ = pool().0.try_send(records);
        }
    }
}

thread_local! {
    static STASH: RefCell<Stash> = const { RefCell::new(Stash(Vec::new())) };
}

/// An empty record, recycled when one is available. Its local mark is
/// cleared: records a batching thread left in the pool still carry theirs
/// (the batching path rewrites the mark at every start instead of
/// resetting it at every finish).
#[inline]
pub(crate) fn take() -> Box<FinishedSpan> {
    let mut record = take_any();
    record.local = super::local::LocalMark::default();
    record
}

#[inline]
fn take_any() -> Box<FinishedSpan> {
    STASH
        .try_with(|s| {
            let mut s = s.try_borrow_mut().ok()?;
            if let Some(b) = s.0.pop() {
                return Some(b);
            }
            let mut batch = pool().1.try_recv().ok()?;
            let b = batch.pop();
            s.0 = batch;
            b
        })
        .ok()
        .flatten()
        .unwrap_or_else(|| Box::new(FinishedSpan::empty()))
}

/// Up to [`STASH_MAX`] cleared records another thread left, for a thread
/// whose own stash is empty.
pub(crate) fn refill() -> Option<Records> {
    pool().1.try_recv().ok()
}

/// Offers a thread's cleared records to other threads (at thread exit).
pub(crate) fn give_back(records: Records) {
    if !records.is_empty() {
        let _ = pool().0.try_send(records);
    }
}

/// Records a thread keeps for its next spans, at most.
pub(crate) const fn stash_max() -> usize {
    STASH_MAX
}

/// Clears one record and keeps it for this thread's next span.
pub(crate) fn recycle_local(mut record: Box<FinishedSpan>) {
    record.clear();
    let _ = STASH.try_with(|s| {
        if let Ok(mut s) = s.try_borrow_mut()
            && s.0.len() < STASH_MAX
        {
            s.0.push(record);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exiting_thread_returns_its_records_to_the_pool() {
        // Other tests share the pool and may take the batch first: look for
        // these very records (by address), a few times.
        for _ in 0..20 {
            let records: Records = (0..10).map(|_| Box::new(FinishedSpan::empty())).collect();
            let addrs: Vec<usize> = records.iter().map(|r| &**r as *const _ as usize).collect();
            std::thread::spawn(move || records.into_iter().for_each(recycle_local))
                .join()
                .expect("thread");
            let batches: Vec<Records> = std::iter::from_fn(|| pool().1.try_recv().ok()).collect();
            let found = batches
                .iter()
                .flatten()
                .any(|r| addrs.contains(&(&**r as *const _ as usize)));
            batches.into_iter().for_each(|b| {
                let _ = pool().0.try_send(b);
            });
            if found {
                return;
            }
        }
        panic!("the exiting thread's records never reached the pool");
    }
}
