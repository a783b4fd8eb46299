//! Reads that look at every stored trace, done a chunk at a time.
//!
//! A search or a dependency graph over two million stored spans takes tens
//! of milliseconds. Under one read lock for all of it, a waiting write (the
//! lock is task-fair, so a waiting writer also holds back new readers)
//! stalled for the whole scan, and back-to-back heavy searches halved ingest
//! (bench-ingest `SEARCH_LOAD=1`: 245 k → 121 k spans/s over HTTP thrift,
//! with the server's CPU *falling*). These scans hold the lock for at most
//! [`SCAN_CHUNK`] traces at a time, walking the eviction FIFO by logical
//! position so that traces evicted between two chunks are simply skipped
//! and traces written meanwhile may or may not be seen — as if the search
//! had run a moment earlier or later.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

use clew_model::{Span, SpanId, TraceId};

use super::{MemoryStore, TraceEntry};
use crate::query::{DependencyLink, TraceQuery};

/// Traces examined per hold of the read lock: about a millisecond of
/// matching, so a writer never waits longer than that for a reader.
pub(super) const SCAN_CHUNK: u64 = 2048;

impl MemoryStore {
    /// Calls `visit` on every stored trace, oldest first, taking the read
    /// lock once per [`SCAN_CHUNK`] traces.
    fn scan_chunked(&self, mut visit: impl FnMut(TraceId, &TraceEntry)) {
        let mut next: u64 = 0;
        loop {
            let inner = self.inner.read();
            let Some((range, stop)) = next_chunk(next, inner.fifo_popped, inner.fifo.len()) else {
                return;
            };
            for id in inner.fifo.range(range) {
                if let Some(entry) = inner.traces.get(id) {
                    visit(*id, entry);
                }
            }
            next = stop;
        }
    }

    /// The spans of the traces matching `query`, most recent first, at most
    /// `query.limit` traces (0 = all). Matching keeps only (start, ID) of
    /// the best `limit` hits; their spans (`Arc`s) are taken afterwards, a
    /// chunk of traces per lock, and a hit evicted in between is left out.
    pub(super) fn matching(&self, query: &TraceQuery) -> Vec<Vec<Arc<Span>>> {
        let limit = if query.limit > 0 {
            query.limit
        } else {
            usize::MAX
        };
        // A min-heap of the most recent `limit` hits: its top is the hit
        // the next better one replaces.
        let mut best: BinaryHeap<Reverse<(u64, TraceId)>> = BinaryHeap::new();
        self.scan_chunked(|id, entry| {
            if !entry
                .spans
                .iter()
                .any(|s| crate::matcher::span_matches(s, query))
            {
                return;
            }
            let key = (entry.start, id);
            if best.len() < limit {
                best.push(Reverse(key));
            } else if best.peek().is_some_and(|Reverse(worst)| key > *worst) {
                best.pop();
                best.push(Reverse(key));
            }
        });
        // Most recent first; ties broken by ID so results are deterministic.
        let mut keys: Vec<(u64, TraceId)> = best.into_iter().map(|Reverse(k)| k).collect();
        keys.sort_unstable_by(|a, b| b.cmp(a));
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(SCAN_CHUNK as usize) {
            let inner = self.inner.read();
            out.extend(
                chunk
                    .iter()
                    .filter_map(|(_, id)| inner.traces.get(id).map(|e| e.spans.clone())),
            );
        }
        out
    }

    /// Calls between services of spans that started in [start, end]: a
    /// child span whose parent (in the same trace) belongs to another
    /// service counts one call parent → child.
    pub(super) fn dependency_links(&self, start: u64, end: u64) -> Vec<DependencyLink> {
        let mut counts: HashMap<String, HashMap<String, u64>> = HashMap::new();
        self.scan_chunked(|_, entry| {
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
                let children = match counts.get_mut(*parent) {
                    Some(c) => c,
                    None => counts.entry((*parent).to_owned()).or_default(),
                };
                match children.get_mut(child) {
                    Some(n) => *n += 1,
                    None => {
                        children.insert(child.to_owned(), 1);
                    }
                }
            }
        });
        let mut out: Vec<DependencyLink> = counts
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

/// The next chunk of a scan that has seen every logical FIFO position
/// before `next`, when the FIFO now starts at logical position `first`
/// (evictions so far) and holds `len` IDs: the index range to visit and the
/// position after it, or `None` when nothing is left. Positions evicted
/// since the last chunk are skipped, never revisited.
fn next_chunk(next: u64, first: u64, len: usize) -> Option<(std::ops::Range<usize>, u64)> {
    let next = next.max(first);
    let end = first + len as u64;
    if next >= end {
        return None;
    }
    let stop = (next + SCAN_CHUNK).min(end);
    Some(((next - first) as usize..(stop - first) as usize, stop))
}

#[cfg(test)]
mod tests {
    use super::{SCAN_CHUNK, next_chunk};

    #[test]
    fn chunks_resume_after_evictions_between_them() {
        let c = SCAN_CHUNK as usize;
        assert_eq!(next_chunk(0, 0, 5000), Some((0..c, SCAN_CHUNK)));
        // 100 traces evicted since: resume at the same logical position,
        // which is now 100 places nearer the front.
        assert_eq!(
            next_chunk(SCAN_CHUNK, 100, 4900),
            Some((c - 100..2 * c - 100, 2 * SCAN_CHUNK))
        );
        // More evicted than were seen: skip to the new front.
        assert_eq!(next_chunk(SCAN_CHUNK, 3000, 2000), Some((0..2000, 5000)));
        assert_eq!(next_chunk(5000, 3000, 2000), None);
        assert_eq!(next_chunk(0, 0, 0), None);
    }
}
