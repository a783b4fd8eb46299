//! Where spans live after ingest, and how the query side finds them again.
//!
//! Two traits split the roles: [`TraceWriter`] (the ingest pipeline's end)
//! and [`TraceReader`] (what the query APIs call). A backend implements both;
//! a collector-only process needs just the writer and a query-only process
//! just the reader. The traits are shaped for a persistent, time-partitioned
//! store with indexes: every search carries a time window and a limit, and
//! service/operation listings are separate calls so a backend can answer them
//! from an index instead of scanning spans.
//!
//! Backends: [`MemoryStore`] (bounded by span count and bytes, evicting the
//! oldest traces first).

mod compact;
mod disk;
mod error;
mod limited;
mod matcher;
mod memory;
pub mod pace;
mod query;
#[cfg(any(test, feature = "testsuite"))]
pub mod testsuite;

pub use disk::{
    BlockInfo, BlockSummary, DEFAULT_HEAD_MAX_BYTES, DEFAULT_HEAD_MAX_SPANS, DataDirReport,
    DiskStore, DiskStoreConfig, OpenReport, WAL_MAGIC, WalSegmentInfo, WalSync, default_data_dir,
    inspect_dir, verify_dir,
};
pub use error::StoreError;
pub use limited::ConcurrencyLimitedReader;
pub use matcher::span_matches;
pub use memory::{MemoryStore, MemoryStoreConfig};
pub use query::{
    ByteBound, DependencyLink, Operation, PersistenceStats, Searched, SearchedSummaries,
    ServiceSummary, StoreStats, TagFilter, TraceQuery, TraceSummary,
};

use async_trait::async_trait;
use clew_model::{Span, Trace, TraceId};

/// Accepts spans from the ingest pipeline.
#[async_trait]
pub trait TraceWriter: Send + Sync + 'static {
    /// Stores spans (any mix of traces). When this returns `Ok`, the spans
    /// are visible to readers and, for durable backends, survive a crash.
    async fn write_spans(&self, spans: Vec<Span>) -> Result<(), StoreError>;
}

/// Answers the query APIs.
#[async_trait]
pub trait TraceReader: Send + Sync + 'static {
    /// All spans of one trace, or `None` when no span of it is stored.
    async fn get_trace(&self, id: TraceId) -> Result<Option<Trace>, StoreError>;

    /// Traces with at least one span matching every filter of the query,
    /// most recent first, at most `query.limit` of them. Traces with equal
    /// starts come in an order each backend defines (the memory store:
    /// most recently written first; the disk store: trace ID descending).
    async fn find_traces(&self, query: &TraceQuery) -> Result<Vec<Trace>, StoreError>;

    /// Service names seen, sorted.
    async fn services(&self) -> Result<Vec<String>, StoreError>;

    /// Operations of a service, sorted by name then kind; `span_kind` filters
    /// by the `span.kind` tag value (`None` = all kinds).
    async fn operations(
        &self,
        service: &str,
        span_kind: Option<&str>,
    ) -> Result<Vec<Operation>, StoreError>;

    /// Service-to-service call counts from parent/child spans whose services
    /// differ, for spans starting within `[start, end]` (Unix nanoseconds).
    async fn dependencies(&self, start: u64, end: u64) -> Result<Vec<DependencyLink>, StoreError>;

    /// Counts for `/metrics`.
    fn stats(&self) -> StoreStats;

    /// Summaries of the traces [`TraceReader::find_traces`] would return,
    /// in the same order: [`TraceReader::search_trace_summaries`] without
    /// the completeness flags. Backends override that method, not this one.
    async fn find_trace_summaries(
        &self,
        query: &TraceQuery,
    ) -> Result<Vec<TraceSummary>, StoreError> {
        Ok(self.search_trace_summaries(query).await?.summaries)
    }

    /// Summaries ([`TraceSummary`]) of the traces
    /// [`TraceReader::search_traces`] would return, in the same order,
    /// stopping at `query.deadline` (if the backend can) with those found
    /// so far, marked incomplete. What the search result lists of the UI
    /// and API v3 show, so backends with indexes answer without building
    /// whole traces for what matched; `query.max_bytes` then bounds only
    /// the whole traces a backend still builds.
    ///
    /// This default summarises [`TraceReader::search_traces`]: it builds
    /// the traces, stops at `query.max_bytes` as that does, and says so in
    /// [`SearchedSummaries::cut_at_max_bytes`].
    async fn search_trace_summaries(
        &self,
        query: &TraceQuery,
    ) -> Result<SearchedSummaries, StoreError> {
        let searched = self.search_traces(query).await?;
        let read: usize = searched
            .traces
            .iter()
            .flat_map(|t| &t.spans)
            .map(Span::estimated_size)
            .sum();
        let cut_at_max_bytes =
            searched.traces.len() < query.limit && query.max_bytes.is_some_and(|max| read >= max);
        Ok(SearchedSummaries {
            summaries: searched
                .traces
                .iter()
                .filter_map(|t| TraceSummary::of(&t.spans))
                .collect(),
            complete: searched.complete,
            cut_at_max_bytes,
        })
    }

    /// [`TraceReader::find_traces`], stopping at `query.deadline` (if the
    /// backend can) with the best matches found so far, marked incomplete.
    /// This default searches everything.
    async fn search_traces(&self, query: &TraceQuery) -> Result<Searched, StoreError> {
        Ok(Searched {
            traces: self.find_traces(query).await?,
            complete: true,
        })
    }

    /// Block, WAL and maintenance counts of a persistent backend (`None`
    /// for in-memory ones).
    fn persistence_stats(&self) -> Option<PersistenceStats> {
        None
    }
}
