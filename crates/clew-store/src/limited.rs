//! A decorator that bounds how many heavy reads run at once.
//!
//! A search over everything or a dependency graph over all time may touch
//! every stored span and build large answers; four of them at once drove the
//! process past 2 GiB in the abuse suite (`hostile-queries`). Wrapping the
//! reader the query APIs use in [`ConcurrencyLimitedReader`] makes the peak
//! memory of heavy reads a multiple of one read's, by construction: the
//! others wait for a permit (and the query layer's time budget turns a long
//! wait into a 503). Cheap reads — trace by ID, services, operations, stats —
//! are never held back, so the UI and health keep answering.
//!
//! Heavy reads also run on the blocking pool, not on the runtime's worker
//! threads: an in-memory search is seconds of CPU inside one `poll`, and two
//! of them on a 2-core machine left no worker for health checks.
//!
//! A read whose caller gives up (the query layer's time budget, a client
//! that hangs up) stops at its next await point, and holds its permit until
//! it has really stopped: a permit released at the timeout while the read
//! ran on let every timed-out search start another, and three `limit=1500`
//! searches over 10 M spans on the disk store reached 3 GB of RSS.

use std::sync::Arc;

use async_trait::async_trait;
use clew_model::{Trace, TraceId};
use tokio::sync::Semaphore;

use crate::query::{
    DependencyLink, Operation, PersistenceStats, Searched, SearchedSummaries, StoreStats,
    TraceQuery, TraceSummary,
};
use crate::{StoreError, TraceReader};

/// A store read as a boxed future that owns what it needs.
type BoxedRead<T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, StoreError>> + Send>>;

/// Forwards every read to `inner`, letting at most `permits` searches and
/// dependency computations run at the same time.
pub struct ConcurrencyLimitedReader {
    inner: Arc<dyn TraceReader>,
    heavy: Arc<Semaphore>,
}

impl ConcurrencyLimitedReader {
    /// Wraps `inner`; `permits` is clamped to at least 1.
    pub fn new(inner: Arc<dyn TraceReader>, permits: usize) -> Self {
        ConcurrencyLimitedReader {
            inner,
            heavy: Arc::new(Semaphore::new(permits.max(1))),
        }
    }

    /// Waits for a permit, then runs `read` on the blocking pool (driving
    /// its future there), so a read that computes inside `poll` does not
    /// occupy a runtime worker. The permit goes with the read and is
    /// released when it ends; dropping the returned future makes the read
    /// stop at its next await point.
    async fn heavy_read<T, F>(&self, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Arc<dyn TraceReader>) -> BoxedRead<T> + Send + 'static,
    {
        let permit = self
            .heavy
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Unavailable("reader is closing".into()))?;
        let inner = self.inner.clone();
        let handle = tokio::runtime::Handle::current();
        // Closed when this future is dropped: the read's signal to stop.
        let (_caller, gone) = tokio::sync::oneshot::channel::<()>();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            handle.block_on(async move {
                tokio::select! {
                    biased;
                    r = read(inner) => r,
                    _ = gone => Err(StoreError::Unavailable("the caller gave up".into())),
                }
            })
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("read task failed: {e}")))?
    }
}

#[async_trait]
impl TraceReader for ConcurrencyLimitedReader {
    async fn get_trace(&self, id: TraceId) -> Result<Option<Trace>, StoreError> {
        self.inner.get_trace(id).await
    }

    async fn find_traces(&self, query: &TraceQuery) -> Result<Vec<Trace>, StoreError> {
        let query = query.clone();
        self.heavy_read(move |r| Box::pin(async move { r.find_traces(&query).await }))
            .await
    }

    async fn search_traces(&self, query: &TraceQuery) -> Result<Searched, StoreError> {
        let query = query.clone();
        self.heavy_read(move |r| Box::pin(async move { r.search_traces(&query).await }))
            .await
    }

    async fn services(&self) -> Result<Vec<String>, StoreError> {
        self.inner.services().await
    }

    async fn operations(
        &self,
        service: &str,
        span_kind: Option<&str>,
    ) -> Result<Vec<Operation>, StoreError> {
        self.inner.operations(service, span_kind).await
    }

    async fn dependencies(&self, start: u64, end: u64) -> Result<Vec<DependencyLink>, StoreError> {
        self.heavy_read(move |r| Box::pin(async move { r.dependencies(start, end).await }))
            .await
    }

    fn stats(&self) -> StoreStats {
        self.inner.stats()
    }

    // Both summary reads are forwarded (a backend may still override
    // either), each through a permit: a default would reach the inner
    // store's search without one.
    async fn find_trace_summaries(
        &self,
        query: &TraceQuery,
    ) -> Result<Vec<TraceSummary>, StoreError> {
        let query = query.clone();
        self.heavy_read(move |r| Box::pin(async move { r.find_trace_summaries(&query).await }))
            .await
    }

    async fn search_trace_summaries(
        &self,
        query: &TraceQuery,
    ) -> Result<SearchedSummaries, StoreError> {
        let query = query.clone();
        self.heavy_read(move |r| Box::pin(async move { r.search_trace_summaries(&query).await }))
            .await
    }

    fn persistence_stats(&self) -> Option<PersistenceStats> {
        self.inner.persistence_stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemoryStore, MemoryStoreConfig, TraceWriter};
    use clew_model::{Process, Span, SpanId};

    #[tokio::test]
    async fn reads_pass_through_and_heavy_ones_wait_for_a_permit() {
        let store = Arc::new(MemoryStore::new(MemoryStoreConfig::default()));
        let span = Span::new(
            TraceId::new(0, 7),
            SpanId(1),
            "op",
            Arc::new(Process::new("svc")),
        );
        store.write_spans(vec![span]).await.expect("write");
        let reader = ConcurrencyLimitedReader::new(store, 1);
        let query = TraceQuery {
            start_max: u64::MAX,
            limit: 10,
            ..TraceQuery::default()
        };
        assert_eq!(reader.find_traces(&query).await.expect("find").len(), 1);
        assert_eq!(
            reader
                .find_trace_summaries(&query)
                .await
                .expect("sum")
                .len(),
            1
        );
        assert_eq!(reader.services().await.expect("services"), ["svc"]);
        // With the only permit taken, a search waits but cheap reads do not.
        let held = reader.heavy.acquire().await.expect("permit");
        let brief = std::time::Duration::from_millis(20);
        let summaries = tokio::time::timeout(brief, reader.search_trace_summaries(&query));
        assert!(summaries.await.is_err(), "summaries wait for the permit");
        let summaries = tokio::time::timeout(brief, reader.find_trace_summaries(&query));
        assert!(summaries.await.is_err(), "summaries wait for the permit");
        let search = reader.find_traces(&query);
        tokio::pin!(search);
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(50), &mut search)
                .await
                .is_err(),
            "the search waits for the permit"
        );
        assert!(
            reader
                .get_trace(TraceId::new(0, 7))
                .await
                .expect("get")
                .is_some()
        );
        drop(held);
        assert_eq!(search.await.expect("find").len(), 1);
    }

    /// A reader whose searches end only when told to (`Blocking`) or when
    /// cancelled at an await point (`Pending`), reporting when they end.
    struct Stuck {
        blocking: bool,
        release: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
        ended: tokio::sync::mpsc::UnboundedSender<()>,
    }

    struct OnDrop(tokio::sync::mpsc::UnboundedSender<()>);
    impl Drop for OnDrop {
        fn drop(&mut self) {
            let _ = self.0.send(());
        }
    }

    #[async_trait]
    impl TraceReader for Stuck {
        async fn get_trace(&self, _: TraceId) -> Result<Option<Trace>, StoreError> {
            Ok(None)
        }
        async fn find_traces(&self, _: &TraceQuery) -> Result<Vec<Trace>, StoreError> {
            let _ended = OnDrop(self.ended.clone());
            if self.blocking {
                // Computes inside one poll: cannot be cancelled.
                let rx = self.release.lock().expect("lock");
                let _ = rx.recv();
            } else {
                std::future::pending::<()>().await;
            }
            Ok(Vec::new())
        }
        async fn services(&self) -> Result<Vec<String>, StoreError> {
            Ok(Vec::new())
        }
        async fn operations(&self, _: &str, _: Option<&str>) -> Result<Vec<Operation>, StoreError> {
            Ok(Vec::new())
        }
        async fn dependencies(&self, _: u64, _: u64) -> Result<Vec<DependencyLink>, StoreError> {
            Ok(Vec::new())
        }
        fn stats(&self) -> StoreStats {
            StoreStats::default()
        }
    }

    fn stuck(
        blocking: bool,
    ) -> (
        ConcurrencyLimitedReader,
        std::sync::mpsc::Sender<()>,
        tokio::sync::mpsc::UnboundedReceiver<()>,
    ) {
        let (release, rx) = std::sync::mpsc::channel();
        let (ended, ended_rx) = tokio::sync::mpsc::unbounded_channel();
        let inner = Stuck {
            blocking,
            release: std::sync::Mutex::new(rx),
            ended,
        };
        (
            ConcurrencyLimitedReader::new(Arc::new(inner), 1),
            release,
            ended_rx,
        )
    }

    const GENEROUS: std::time::Duration = std::time::Duration::from_secs(20);

    /// Starts a search and gives up on it after 20 ms (it must not finish).
    async fn give_up(reader: &ConcurrencyLimitedReader) {
        let q = TraceQuery::default();
        let search = reader.find_traces(&q);
        let gave_up = tokio::time::timeout(std::time::Duration::from_millis(20), search).await;
        assert!(gave_up.is_err(), "the read is stuck");
    }

    /// Waits for the read to end, then for its permit to come back.
    async fn ends_and_releases(
        reader: &ConcurrencyLimitedReader,
        ended: &mut tokio::sync::mpsc::UnboundedReceiver<()>,
    ) {
        tokio::time::timeout(GENEROUS, ended.recv())
            .await
            .expect("the read ends, not left running");
        let permit = tokio::time::timeout(GENEROUS, reader.heavy.acquire())
            .await
            .expect("the permit comes back when the read ends");
        drop(permit);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_read_whose_caller_gave_up_keeps_its_permit_until_it_ends() {
        let (reader, release, mut ended) = stuck(true);
        give_up(&reader).await;
        assert_eq!(
            reader.heavy.available_permits(),
            0,
            "the read still runs: no other heavy read may start"
        );
        release.send(()).expect("release");
        ends_and_releases(&reader, &mut ended).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_read_whose_caller_gave_up_stops_at_its_next_await() {
        let (reader, _release, mut ended) = stuck(false);
        give_up(&reader).await;
        ends_and_releases(&reader, &mut ended).await;
    }
}
