//! Searches and dependency graphs: a walk over the chunk summaries of
//! [`super::index`], newest chunk first, reading only the traces of chunks
//! that can hold a hit, a bounded amount of work per hold of the read lock.
//!
//! Why the lock is let go: a search or a dependency graph over two million
//! stored spans took tens of milliseconds. Under one read lock for all of
//! it, a waiting write (the lock is task-fair, so a waiting writer also
//! holds back new readers) stalled for the whole scan, and back-to-back
//! heavy searches halved ingest (bench-ingest `SEARCH_LOAD=1`: 245 k → 121 k
//! spans/s over HTTP thrift, with the server's CPU *falling*). A walk holds
//! the lock for at most [`SCAN_BUDGET`] traces read (a skipped chunk costs a
//! few), and names traces by logical FIFO position, so traces evicted
//! between two holds are simply not seen and traces written after the walk
//! began are left out — as if the search had run a moment earlier.
//!
//! Why the index: even chunked, every search matched every stored span, and
//! the scans alone cost ingest 15–40 % of its rate. Now a search for the
//! 1,500 most recent traces of a service reads about 1,500 traces.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

use clew_model::{Span, SpanId, TraceId};

use super::index::{ChunkFilter, ChunkSummary, INDEX_CHUNK};
use super::{MemoryStore, TraceEntry};
use crate::query::{DependencyLink, TraceQuery};

/// Traces read per hold of the read lock: about a millisecond of matching,
/// so a writer never waits longer than that for a reader.
pub(super) const SCAN_BUDGET: u64 = 2048;

/// What a skipped chunk costs against [`SCAN_BUDGET`]: looking at its
/// summary is far cheaper than reading a trace, but not free.
const SKIP_COST: u64 = 4;

/// What a walk does with a chunk, judged from its summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// Read its traces.
    Visit,
    /// Nothing in it can match; go on with the next older chunk.
    Skip,
    /// Nothing in it or any older chunk can change the answer.
    Stop,
}

/// The two halves of a walk: a judgement per chunk, a visit per trace.
trait Walker {
    fn chunk(&mut self, summary: &ChunkSummary) -> Step;
    fn trace(&mut self, id: TraceId, entry: &TraceEntry);
}

impl MemoryStore {
    /// Walks the stored traces chunk by chunk, newest chunk first, asking
    /// `walker` about every chunk and showing it the traces of the chunks it
    /// visits; takes the read lock once per [`SCAN_BUDGET`] traces read.
    fn walk(&self, walker: &mut impl Walker) {
        // The end of the FIFO when the walk began (positions from there on
        // were written after it), and the chunk to judge next.
        let end = {
            let inner = self.inner.read();
            inner.fifo_popped + inner.fifo.len() as u64
        };
        let mut next = end.checked_sub(1).map(|last| last / INDEX_CHUNK);
        loop {
            // Between lock holds: a paced thread never sleeps holding it.
            crate::pace::pace();
            let inner = self.inner.read();
            let front = inner.fifo_popped;
            let mut spent = 0;
            while spent < SCAN_BUDGET {
                let Some(n) = next else { return };
                let Some(summary) = inner.index.get(n) else {
                    // Evicted, and so is everything older.
                    return;
                };
                match walker.chunk(summary) {
                    Step::Stop => return,
                    Step::Skip => spent += SKIP_COST,
                    Step::Visit => {
                        let lo = (n * INDEX_CHUNK).max(front);
                        let hi = ((n + 1) * INDEX_CHUNK).min(end);
                        for pos in lo..hi {
                            let Some(id) = inner.fifo.get((pos - front) as usize) else {
                                break;
                            };
                            if let Some(entry) = inner.traces.get(id) {
                                walker.trace(*id, entry);
                            }
                        }
                        spent += (hi.saturating_sub(lo)).max(SKIP_COST);
                    }
                }
                next = n.checked_sub(1);
            }
        }
    }

    /// The spans of the traces matching `query`, most recent first, at most
    /// `query.limit` traces (0 = all); among traces with the same start, the
    /// one written last comes first ([`TopK`] says why). Matching keeps only
    /// (start, position, ID) of the best `limit` hits; their spans (`Arc`s) are taken afterwards, a
    /// chunk of traces per lock, and a hit evicted in between is left out.
    pub(super) fn matching(&self, query: &TraceQuery) -> Vec<Vec<Arc<Span>>> {
        let mut search = TopK {
            query,
            filter: ChunkFilter::of(query),
            limit: if query.limit > 0 {
                query.limit
            } else {
                usize::MAX
            },
            best: BinaryHeap::new(),
        };
        self.walk(&mut search);
        let mut keys: Vec<Key> = search.best.into_iter().map(|Reverse(k)| k).collect();
        keys.sort_unstable_by(|a, b| b.cmp(a));
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(SCAN_BUDGET as usize) {
            let inner = self.inner.read();
            out.extend(
                chunk
                    .iter()
                    .filter_map(|(_, _, id)| inner.traces.get(id).map(|e| e.spans.clone())),
            );
        }
        out
    }

    /// Calls between services of spans that started in [start, end]: a
    /// child span whose parent (in the same trace) belongs to another
    /// service counts one call parent → child.
    pub(super) fn dependency_links(&self, start: u64, end: u64) -> Vec<DependencyLink> {
        let mut graph = Dependencies {
            filter: ChunkFilter::window(start, end),
            counts: HashMap::new(),
        };
        self.walk(&mut graph);
        let mut out: Vec<DependencyLink> = graph
            .counts
            .into_iter()
            .flat_map(|(parent, children)| {
                children.into_iter().map(move |(child, n)| DependencyLink {
                    parent: parent.clone(),
                    child,
                    call_count: n,
                })
            })
            .collect();
        out.sort();
        out
    }
}

/// How a search ranks a hit: trace start, then FIFO position (first write
/// order), so two traces with the same start rank most recently written
/// first; the ID only names the trace.
type Key = (u64, u64, TraceId);

/// A search: the `limit` matching traces of greatest [`Key`].
///
/// Why ties go by write order rather than by trace ID: a walk goes newest
/// chunk first, so once `limit` hits are held, a chunk whose traces all
/// start no later than the worst hit cannot hold a better one — its
/// positions are all lower. Ranked by ID, such a chunk could still hold a
/// greater ID, and a store whose traces share one start (every trace of
/// `clew-tracegen` does) would be read whole by every search.
struct TopK<'q> {
    query: &'q TraceQuery,
    filter: ChunkFilter,
    limit: usize,
    /// A min-heap of the best hits so far: its top is the hit the next
    /// better one replaces.
    best: BinaryHeap<Reverse<Key>>,
}

impl TopK<'_> {
    /// Once `limit` hits are held, the worst of them: only a greater key
    /// displaces it.
    fn bar(&self) -> Option<Key> {
        if self.best.len() < self.limit {
            return None;
        }
        self.best.peek().map(|Reverse(worst)| *worst)
    }
}

impl Walker for TopK<'_> {
    fn chunk(&mut self, summary: &ChunkSummary) -> Step {
        // Every hit held came from a newer chunk, so every position from
        // here on is lower than the bar's: a start no later than the bar's
        // cannot displace it.
        if let Some((bar, _, _)) = self.bar() {
            if summary.max_start_upto <= bar {
                return Step::Stop;
            }
            if summary.max_start <= bar {
                return Step::Skip;
            }
        }
        if summary.may_hold(&self.filter) {
            Step::Visit
        } else {
            Step::Skip
        }
    }

    fn trace(&mut self, id: TraceId, entry: &TraceEntry) {
        let key = (entry.start, entry.pos, id);
        if self.bar().is_some_and(|bar| key <= bar) {
            return;
        }
        if !entry
            .spans
            .iter()
            .any(|s| crate::matcher::span_matches(s, self.query))
        {
            return;
        }
        if self.best.len() >= self.limit {
            self.best.pop();
        }
        self.best.push(Reverse(key));
    }
}

/// A dependency graph: parent service → child service → calls.
struct Dependencies {
    filter: ChunkFilter,
    counts: HashMap<String, HashMap<String, u64>>,
}

impl Walker for Dependencies {
    fn chunk(&mut self, summary: &ChunkSummary) -> Step {
        if summary.may_hold(&self.filter) {
            Step::Visit
        } else {
            Step::Skip
        }
    }

    fn trace(&mut self, _: TraceId, entry: &TraceEntry) {
        let (start, end) = (self.filter.start_min, self.filter.start_max);
        let mut by_id: HashMap<SpanId, &str> = HashMap::with_capacity(entry.spans.len());
        for s in &entry.spans {
            // The first span with an ID wins, matching get_trace order.
            by_id.entry(s.span_id).or_insert(&s.process.service_name);
        }
        for s in &entry.spans {
            if s.start_time < start || s.start_time > end {
                continue;
            }
            let Some(parent) = s.parent_span_id().and_then(|p| by_id.get(&p)) else {
                continue;
            };
            let child: &str = &s.process.service_name;
            if *parent == child {
                continue;
            }
            let children = match self.counts.get_mut(*parent) {
                Some(c) => c,
                None => self.counts.entry((*parent).to_owned()).or_default(),
            };
            match children.get_mut(child) {
                Some(n) => *n += 1,
                None => {
                    children.insert(child.to_owned(), 1);
                }
            }
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A search that counts the traces it read, to show that it stopped
    /// early.
    pub(in crate::memory) struct CountingTopK {
        pub(in crate::memory) ids: Vec<TraceId>,
        pub(in crate::memory) read: u64,
    }

    struct Counting<'q> {
        search: TopK<'q>,
        read: u64,
    }

    impl Walker for Counting<'_> {
        fn chunk(&mut self, summary: &ChunkSummary) -> Step {
            self.search.chunk(summary)
        }

        fn trace(&mut self, id: TraceId, entry: &TraceEntry) {
            self.read += 1;
            self.search.trace(id, entry);
        }
    }

    impl CountingTopK {
        /// The `limit` most recent traces of `store` (0 = all).
        pub(in crate::memory) fn new(store: &MemoryStore, limit: usize) -> Self {
            let mut query = crate::testsuite::query_all();
            query.limit = limit;
            let mut walk = Counting {
                search: TopK {
                    query: &query,
                    filter: ChunkFilter::of(&query),
                    limit: if limit > 0 { limit } else { usize::MAX },
                    best: BinaryHeap::new(),
                },
                read: 0,
            };
            store.walk(&mut walk);
            let mut keys: Vec<Key> = walk.search.best.into_iter().map(|Reverse(k)| k).collect();
            keys.sort_unstable_by(|a, b| b.cmp(a));
            CountingTopK {
                ids: keys.into_iter().map(|(_, _, id)| id).collect(),
                read: walk.read,
            }
        }
    }
}
