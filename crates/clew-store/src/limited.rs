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

use std::sync::Arc;

use async_trait::async_trait;
use clew_model::{Trace, TraceId};
use tokio::sync::Semaphore;

use crate::query::{
    DependencyLink, Operation, PersistenceStats, StoreStats, TraceQuery, TraceSummary,
};
use crate::{StoreError, TraceReader};

/// A store read as a boxed future that owns what it needs.
type BoxedRead<T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, StoreError>> + Send>>;

/// Forwards every read to `inner`, letting at most `permits` searches and
/// dependency computations run at the same time.
pub struct ConcurrencyLimitedReader {
    inner: Arc<dyn TraceReader>,
    heavy: Semaphore,
}

impl ConcurrencyLimitedReader {
    /// Wraps `inner`; `permits` is clamped to at least 1.
    pub fn new(inner: Arc<dyn TraceReader>, permits: usize) -> Self {
        ConcurrencyLimitedReader {
            inner,
            heavy: Semaphore::new(permits.max(1)),
        }
    }

    /// Runs `read` on the blocking pool (driving its future there), so a
    /// read that computes inside `poll` does not occupy a runtime worker.
    async fn off_reactor<T, F>(&self, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Arc<dyn TraceReader>) -> BoxedRead<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || handle.block_on(read(inner)))
            .await
            .map_err(|e| StoreError::Unavailable(format!("read task failed: {e}")))?
    }

    async fn permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>, StoreError> {
        self.heavy
            .acquire()
            .await
            .map_err(|_| StoreError::Unavailable("reader is closing".into()))
    }
}

#[async_trait]
impl TraceReader for ConcurrencyLimitedReader {
    async fn get_trace(&self, id: TraceId) -> Result<Option<Trace>, StoreError> {
        self.inner.get_trace(id).await
    }

    async fn find_traces(&self, query: &TraceQuery) -> Result<Vec<Trace>, StoreError> {
        let _permit = self.permit().await?;
        let query = query.clone();
        self.off_reactor(move |r| Box::pin(async move { r.find_traces(&query).await }))
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
        let _permit = self.permit().await?;
        self.off_reactor(move |r| Box::pin(async move { r.dependencies(start, end).await }))
            .await
    }

    fn stats(&self) -> StoreStats {
        self.inner.stats()
    }

    async fn find_trace_summaries(
        &self,
        query: &TraceQuery,
    ) -> Result<Vec<TraceSummary>, StoreError> {
        let _permit = self.permit().await?;
        let query = query.clone();
        self.off_reactor(move |r| Box::pin(async move { r.find_trace_summaries(&query).await }))
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
        let held = reader.permit().await.expect("permit");
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
}
