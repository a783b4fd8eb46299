//! The search index of the memory store: a small summary of every
//! [`INDEX_CHUNK`] consecutive FIFO positions, so a search reads only the
//! chunks that can hold a hit.
//!
//! Why: a search used to match every stored span (millions) to return the
//! 1,500 most recent hits, and back-to-back searches cost ingest 15–40 % of
//! its rate on two cores (bench-ingest `SEARCH_LOAD=1`). Traces arrive
//! roughly in start order, so the chunks near the back of the FIFO hold the
//! most recent traces: a search walks chunks newest first, skips those whose
//! summary rules out the query (time window, service, service + operation)
//! and stops once it holds `limit` hits and no older chunk can hold a more
//! recent trace ([`ChunkSummary::max_start_upto`]).
//!
//! Summaries are conservative: they may say "maybe" about a chunk that holds
//! no hit, never "no" about one that does. They only widen while a chunk
//! lives — a trace that gets spans after its first write widens its chunk's
//! span window and adds its new services and operations; its start only
//! moves earlier, so the chunk's latest trace start stays an upper bound —
//! and they leave with the chunk once eviction has passed its last position.
//! Service and operation membership are small Bloom filters, so a chunk
//! with many distinct names just answers "maybe" more often.

use std::collections::VecDeque;
use std::hash::BuildHasher;
use std::mem::size_of;

use foldhash::fast::FixedState;

/// FIFO positions per summary. Small enough that a search that stops early
/// reads few traces past its last hit, large enough that the summaries cost
/// about a byte per trace (a summary is 128 bytes, charged twice over).
pub(super) const INDEX_CHUNK: u64 = 256;

/// Bytes one summary is charged against the store's byte limit: the summary
/// and its slot, doubled for the spare capacity a `VecDeque` may hold.
pub(super) const SUMMARY_COST: usize = 2 * size_of::<ChunkSummary>();

/// A fixed-size Bloom filter of `64 * W` bits, two bits per key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Bloom<const W: usize>([u64; W]);

impl<const W: usize> Default for Bloom<W> {
    fn default() -> Self {
        Bloom([0; W])
    }
}

impl<const W: usize> Bloom<W> {
    fn bits(hash: u64) -> [(usize, u64); 2] {
        let bits = 64 * W as u64;
        let a = hash % bits;
        let b = (hash >> 32) % bits;
        [
            ((a / 64) as usize, 1 << (a % 64)),
            ((b / 64) as usize, 1 << (b % 64)),
        ]
    }

    pub(super) fn insert(&mut self, hash: u64) {
        for (word, bit) in Self::bits(hash) {
            self.0[word] |= bit;
        }
    }

    /// False only when `hash` was never inserted.
    pub(super) fn may_contain(&self, hash: u64) -> bool {
        Self::bits(hash)
            .iter()
            .all(|&(word, bit)| self.0[word] & bit != 0)
    }

    fn union(&mut self, other: &Self) {
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            *a |= b;
        }
    }
}

/// One fixed seed, so a query hashes names exactly as ingest did. Colliding
/// names only make a search read more chunks, never miss a hit.
const HASHER: FixedState = FixedState::with_seed(0x636c_6577_5f69_6478);

/// The key of a service name in [`ChunkSummary::services`].
pub(super) fn service_key(service: &str) -> u64 {
    HASHER.hash_one(service)
}

/// The key of a (service, operation) pair in [`ChunkSummary::operations`].
pub(super) fn operation_key(service: &str, operation: &str) -> u64 {
    HASHER.hash_one((service, operation))
}

/// What some spans of one trace contribute to their chunk's summary,
/// computed from a batch before the store's lock is taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct SpanMarks {
    pub(super) min_start: u64,
    pub(super) max_start: u64,
    pub(super) services: Bloom<4>,
    pub(super) operations: Bloom<8>,
}

impl Default for SpanMarks {
    fn default() -> Self {
        SpanMarks {
            min_start: u64::MAX,
            max_start: 0,
            services: Bloom::default(),
            operations: Bloom::default(),
        }
    }
}

impl SpanMarks {
    /// Adds one span.
    pub(super) fn add(&mut self, service: &str, operation: &str, start: u64) {
        self.min_start = self.min_start.min(start);
        self.max_start = self.max_start.max(start);
        self.services.insert(service_key(service));
        self.operations.insert(operation_key(service, operation));
    }
}

/// What every trace ever placed in one chunk of FIFO positions may hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ChunkSummary {
    /// The latest start (earliest span start) any trace had when it was
    /// placed in the chunk: an upper bound on the start of each of its
    /// traces, since a trace's start only moves earlier.
    pub(super) max_start: u64,
    /// `max_start` of this chunk and of every older one: no trace before
    /// the end of this chunk starts later than this.
    pub(super) max_start_upto: u64,
    /// The window of every span start of the chunk's traces.
    pub(super) spans: SpanMarks,
}

/// What a search asks of a chunk, precomputed once per search.
#[derive(Clone, Debug)]
pub(super) struct ChunkFilter {
    pub(super) start_min: u64,
    pub(super) start_max: u64,
    pub(super) service: Option<u64>,
    pub(super) operation: Option<u64>,
}

impl ChunkFilter {
    /// A filter on the span start window alone.
    pub(super) fn window(start_min: u64, start_max: u64) -> Self {
        ChunkFilter {
            start_min,
            start_max,
            service: None,
            operation: None,
        }
    }

    /// The chunk-level part of a trace search.
    pub(super) fn of(query: &crate::query::TraceQuery) -> Self {
        let service = query.service.as_deref();
        ChunkFilter {
            start_min: query.start_min,
            start_max: query.start_max,
            service: service.map(service_key),
            operation: service
                .zip(query.operation.as_deref())
                .map(|(s, op)| operation_key(s, op)),
        }
    }
}

impl ChunkSummary {
    /// False only when no span of the chunk can satisfy `filter`.
    pub(super) fn may_hold(&self, filter: &ChunkFilter) -> bool {
        self.spans.max_start >= filter.start_min
            && self.spans.min_start <= filter.start_max
            && filter
                .service
                .is_none_or(|k| self.spans.services.may_contain(k))
            && filter
                .operation
                .is_none_or(|k| self.spans.operations.may_contain(k))
    }
}

/// The summaries of the chunks that still hold stored positions, oldest
/// first; chunk `n` covers FIFO positions `[n * INDEX_CHUNK, (n + 1) *
/// INDEX_CHUNK)`.
#[derive(Default)]
pub(super) struct ChunkIndex {
    chunks: VecDeque<ChunkSummary>,
    /// The chunk number of `chunks[0]`.
    first: u64,
}

impl ChunkIndex {
    /// The summary of chunk `n`, if it is still held.
    pub(super) fn get(&self, n: u64) -> Option<&ChunkSummary> {
        let i = usize::try_from(n.checked_sub(self.first)?).ok()?;
        self.chunks.get(i)
    }

    fn get_mut(&mut self, n: u64) -> Option<&mut ChunkSummary> {
        let i = usize::try_from(n.checked_sub(self.first)?).ok()?;
        self.chunks.get_mut(i)
    }

    /// Records a new trace written at FIFO position `pos` (always the
    /// newest position) with start `start`; returns the bytes a new
    /// summary added.
    pub(super) fn add_trace(&mut self, pos: u64, start: u64, marks: &SpanMarks) -> usize {
        let n = pos / INDEX_CHUNK;
        if let Some(chunk) = self.get_mut(n) {
            chunk.max_start = chunk.max_start.max(start);
            chunk.max_start_upto = chunk.max_start_upto.max(start);
            widen(&mut chunk.spans, marks);
            return 0;
        }
        if self.chunks.is_empty() {
            self.first = n;
        }
        let upto = self.chunks.back().map_or(0, |c| c.max_start_upto);
        self.chunks.push_back(ChunkSummary {
            max_start: start,
            max_start_upto: upto.max(start),
            spans: marks.clone(),
        });
        debug_assert_eq!(self.first + self.chunks.len() as u64 - 1, n);
        SUMMARY_COST
    }

    /// Records more spans of the trace at FIFO position `pos`.
    pub(super) fn widen_trace(&mut self, pos: u64, marks: &SpanMarks) {
        if let Some(chunk) = self.get_mut(pos / INDEX_CHUNK) {
            widen(&mut chunk.spans, marks);
        }
    }

    /// Drops the summaries of chunks wholly before FIFO position `front`
    /// (everything before it was evicted); returns the bytes freed.
    pub(super) fn evict_before(&mut self, front: u64) -> usize {
        let mut freed = 0;
        while !self.chunks.is_empty() && (self.first + 1) * INDEX_CHUNK <= front {
            self.chunks.pop_front();
            self.first += 1;
            freed += SUMMARY_COST;
        }
        freed
    }

    /// How many summaries are held.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.chunks.len()
    }
}

fn widen(into: &mut SpanMarks, marks: &SpanMarks) {
    into.min_start = into.min_start.min(marks.min_start);
    into.max_start = into.max_start.max(marks.max_start);
    into.services.union(&marks.services);
    into.operations.union(&marks.operations);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks(service: &str, op: &str, start: u64) -> SpanMarks {
        let mut m = SpanMarks::default();
        m.add(service, op, start);
        m
    }

    #[test]
    fn bloom_never_forgets_an_inserted_key() {
        let mut b = Bloom::<4>::default();
        for i in 0..500u64 {
            b.insert(service_key(&format!("svc-{i}")));
            for j in 0..=i {
                assert!(b.may_contain(service_key(&format!("svc-{j}"))));
            }
        }
    }

    #[test]
    fn summaries_widen_and_leave_with_their_last_position() {
        let mut index = ChunkIndex::default();
        let c = INDEX_CHUNK;
        assert_eq!(index.add_trace(0, 100, &marks("a", "x", 100)), SUMMARY_COST);
        assert_eq!(index.add_trace(1, 50, &marks("a", "x", 50)), 0);
        assert_eq!(index.add_trace(c, 40, &marks("b", "y", 40)), SUMMARY_COST);
        let second = index.get(1).cloned().expect("chunk 1");
        assert_eq!((second.max_start, second.max_start_upto), (40, 100));

        // A late, earlier span of trace 1 with a new service widens chunk 0.
        index.widen_trace(1, &marks("c", "z", 10));
        let first = index.get(0).expect("chunk 0");
        assert_eq!((first.spans.min_start, first.spans.max_start), (10, 100));
        assert!(first.may_hold(&ChunkFilter {
            start_min: 0,
            start_max: 20,
            service: Some(service_key("c")),
            operation: Some(operation_key("c", "z")),
        }));
        assert!(!first.may_hold(&ChunkFilter::window(101, u64::MAX)));

        assert_eq!(index.evict_before(c - 1), 0);
        assert_eq!(index.evict_before(c), SUMMARY_COST);
        assert!(index.get(0).is_none());
        assert_eq!(index.len(), 1);
        assert_eq!(index.evict_before(10 * c), SUMMARY_COST);
        // An empty index restarts at whatever chunk the next position is in.
        assert_eq!(
            index.add_trace(10 * c + 3, 7, &marks("a", "x", 7)),
            SUMMARY_COST
        );
        assert_eq!(index.get(10).map(|s| s.max_start_upto), Some(7));
    }
}
