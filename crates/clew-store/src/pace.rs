//! Cooperative pacing of query work.
//!
//! A reader's long loops (head batches, block pages, traces read whole)
//! call [`pace`] between steps. On a thread with no [`Pacer`] installed it
//! does nothing; the binary installs one on its query threads to hold a
//! search back while ingest needs the CPU (`clew`'s query CPU governor).
//! A thread-local hook rather than a field of the query keeps the store's
//! signatures free of it and lets the query crate's renderers pace the
//! same way; ingest, compaction and tests never see it.

use std::cell::Cell;

/// Holds the calling thread back when its work is over a budget.
pub trait Pacer: Sync {
    /// Called between steps of query work; may sleep.
    fn pace(&self);
}

thread_local! {
    static PACER: Cell<Option<&'static dyn Pacer>> = const { Cell::new(None) };
}

/// Makes `pacer` the calling thread's (for the thread's life).
pub fn install(pacer: &'static dyn Pacer) {
    PACER.with(|p| p.set(Some(pacer)));
}

/// A step of query work is done: the thread's pacer, if any, may hold it
/// back here.
#[inline]
pub fn pace() {
    if let Some(p) = PACER.with(Cell::get) {
        p.pace();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    struct Count(AtomicUsize);
    impl Pacer for Count {
        fn pace(&self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn only_the_thread_that_installed_a_pacer_is_paced() {
        static COUNT: Count = Count(AtomicUsize::new(0));
        pace();
        std::thread::spawn(|| {
            install(&COUNT);
            pace();
            pace();
        })
        .join()
        .expect("thread");
        pace();
        assert_eq!(COUNT.0.load(Ordering::Relaxed), 2);
    }
}
