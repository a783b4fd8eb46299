//! The head: spans acknowledged since the last cut, in memory.
//!
//! The head keeps each batch exactly as its WAL record encodes it — a
//! [`Batch`]: the batch's own dictionary of strings and processes, then
//! the spans split into integer columns — so a span costs a few dozen
//! bytes, not the ≈ 1 KB of a decoded [`Span`], and replaying the WAL is a
//! copy, not a decode. Reads build spans only for the traces they need.
//!
//! A trace index (trace ID → the batches holding it, and its start) is
//! spread over shards by trace-ID hash, each behind its own mutex, so
//! concurrent writers of different traces do not queue behind one lock;
//! the batch list takes its write lock only to push, the operation index
//! only for a pair it has not seen.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use clew_model::{Span, Str, TraceId};
use clew_segment::{Batch, DepSpan, SpanFilter, TraceDeps, TraceSpans, trace_hash};
use parking_lot::{Mutex, RwLock};

use super::topk::TopK;
use super::upload::StreamingBlock;
use crate::query::{Operation, TraceQuery};
use crate::span_matches;

const SHARDS: usize = 16;

/// Head batches a search reads between looks at its deadline (a batch is
/// tens to thousands of spans). The first ones are always read, so a
/// search that is already late still answers from the newest spans.
const LATE_CHECK_BATCHES: usize = 64;

/// Where one trace lives in the head.
struct HeadTrace {
    /// Earliest span start over all its batches.
    start: u64,
    /// Spans over all its batches.
    spans: u32,
    /// The first batch (index into `Head::batches`) holding it…
    first: u32,
    /// …and any later ones (a trace whose spans arrived in several batches).
    more: Vec<u32>,
}

impl HeadTrace {
    fn batches(&self) -> impl Iterator<Item = u32> + '_ {
        std::iter::once(self.first).chain(self.more.iter().copied())
    }
}

/// Fast, non-cryptographic hashing for trace IDs (random already, and
/// ours once accepted; SipHash showed in ingest profiles).
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type FastSet<T> = HashSet<T, foldhash::fast::RandomState>;

/// One shard of the trace index.
type Shard = Mutex<FastMap<TraceId, HeadTrace>>;

/// A batch with the start range of its spans.
struct HeadBatch {
    batch: Batch,
    min_start: u64,
    max_start: u64,
}

/// A cut reads the batches themselves ([`clew_segment::SharedBatch`]).
impl AsRef<Batch> for HeadBatch {
    fn as_ref(&self) -> &Batch {
        &self.batch
    }
}

/// One generation of the head (the active one, or a frozen one being cut).
pub(crate) struct Head {
    batches: RwLock<Vec<Arc<HeadBatch>>>,
    shards: Box<[Shard]>,
    operations: RwLock<HashMap<String, BTreeSet<Operation>>>,
    spans: AtomicU64,
    traces: AtomicU64,
    bytes: AtomicU64,
    min_start: AtomicU64,
    max_start: AtomicU64,
    pub(crate) created: Instant,
    /// A cut of this head failed to transcode (see [`Head::write_into`]).
    transcode_failed: AtomicBool,
}

impl Default for Head {
    fn default() -> Self {
        Head {
            batches: RwLock::new(Vec::new()),
            shards: (0..SHARDS)
                .map(|_| Mutex::new(FastMap::default()))
                .collect(),
            operations: RwLock::new(HashMap::new()),
            spans: AtomicU64::new(0),
            traces: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            min_start: AtomicU64::new(u64::MAX),
            max_start: AtomicU64::new(0),
            created: Instant::now(),
            transcode_failed: AtomicBool::new(false),
        }
    }
}

fn shard_of(id: TraceId) -> usize {
    (trace_hash(id) % SHARDS as u64) as usize
}

impl Head {
    /// Adds a batch; `ops` are its `(service, operation, kind)` triples
    /// ([`Batch::operations`]).
    pub(crate) fn insert(&self, batch: Batch, ops: Vec<(Str, Str, Str)>) {
        let missing: Vec<(Str, Str, Str)> = {
            let known = self.operations.read();
            ops.into_iter()
                .filter(|(svc, name, kind)| {
                    !known.get(&**svc).is_some_and(|set| {
                        set.iter()
                            .any(|o| o.name == **name && o.span_kind == **kind)
                    })
                })
                .collect()
        };
        if !missing.is_empty() {
            let mut known = self.operations.write();
            for (svc, name, kind) in missing {
                known.entry(svc.to_string()).or_default().insert(Operation {
                    name: name.to_string(),
                    span_kind: kind.to_string(),
                });
            }
        }
        let (mut lo, mut hi) = (u64::MAX, 0);
        for t in batch.traces() {
            lo = lo.min(t.min_start);
            hi = hi.max(t.max_start);
        }
        let spans = batch.span_count();
        let bytes = batch.held_bytes();
        let entry = Arc::new(HeadBatch {
            batch,
            min_start: lo,
            max_start: hi,
        });
        let index = {
            let mut batches = self.batches.write();
            batches.push(entry.clone());
            (batches.len() - 1) as u32
        };
        let mut new_traces = 0u64;
        for t in entry.batch.traces() {
            let mut shard = self.shards[shard_of(t.id)].lock();
            match shard.get_mut(&t.id) {
                Some(e) => {
                    e.start = e.start.min(t.min_start);
                    e.spans = e.spans.saturating_add(t.spans);
                    e.more.push(index);
                }
                None => {
                    new_traces += 1;
                    shard.insert(
                        t.id,
                        HeadTrace {
                            start: t.min_start,
                            spans: t.spans,
                            first: index,
                            more: Vec::new(),
                        },
                    );
                }
            }
        }
        if lo <= hi {
            self.min_start.fetch_min(lo, Ordering::Relaxed);
            self.max_start.fetch_max(hi, Ordering::Relaxed);
        }
        self.spans.fetch_add(spans, Ordering::Relaxed);
        self.traces.fetch_add(new_traces, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Is any span of the trace here?
    pub(crate) fn contains(&self, id: TraceId) -> bool {
        self.shards[shard_of(id)].lock().contains_key(&id)
    }

    /// The spans here of each of `ids` that has any, added to `out`. Each
    /// batch is decoded once for all the traces it holds: a search
    /// returning 1,500 head traces read them one by one, decoding a batch
    /// per trace (45 % of the query threads' CPU under full ingest).
    pub(crate) fn get_many(&self, ids: &[TraceId], out: &mut HashMap<TraceId, Vec<Span>>) {
        let mut wanted: std::collections::BTreeMap<u32, FastSet<TraceId>> = Default::default();
        for &id in ids {
            if let Some(t) = self.shards[shard_of(id)].lock().get(&id) {
                for i in t.batches() {
                    wanted.entry(i).or_default().insert(id);
                }
            }
        }
        let chosen: Vec<(Arc<HeadBatch>, FastSet<TraceId>)> = {
            let batches = self.batches.read();
            wanted
                .into_iter()
                .filter_map(|(i, set)| batches.get(i as usize).map(|b| (b.clone(), set)))
                .collect()
        };
        // Batch order is arrival order: a trace's spans come out in the
        // order they arrived, as a full decode gives them.
        for (b, set) in chosen {
            crate::pace::pace();
            match b.batch.decode(&|t| set.contains(&t)) {
                Ok(traces) => {
                    for t in traces {
                        out.entry(t.id).or_default().extend(t.spans);
                    }
                }
                Err(e) => tracing::error!(error = %e, "head batch does not decode; skipped"),
            }
        }
    }

    /// Notes the head's matching traces in `found`, newest batch first,
    /// and answers whether it looked at every batch that could change the
    /// answer (`false`: `late()` said stop first).
    ///
    /// Batches are visited by latest span start, newest first, and the walk
    /// stops once `found` is full and its worst start is later than the
    /// next batch's latest: a trace with a span in that batch starts no
    /// later than it. That holds only if every trace was noted with its
    /// earliest start, so `earliest(id, start)` lowers a start to what the
    /// other heads hold of the trace (a trace cut in two while this search
    /// ran; a frozen head is searched after this one). Every candidate used to be collected first — under
    /// full ingest a head of a million spans made one `limit=1500` search
    /// of every trace cost ~100 ms and a tag search decode every batch,
    /// 64 % of the query threads' CPU, which ingest paid for.
    pub(super) fn search(
        &self,
        q: &TraceQuery,
        filter: &SpanFilter<'_>,
        found: &mut TopK,
        late: &dyn Fn() -> bool,
        earliest: &dyn Fn(TraceId, u64) -> u64,
    ) -> bool {
        let mut batches: Vec<Arc<HeadBatch>> = self
            .batches
            .read()
            .iter()
            .filter(|b| b.max_start >= q.start_min && b.min_start <= q.start_max)
            .cloned()
            .collect();
        batches.sort_by_key(|b| std::cmp::Reverse(b.max_start));
        let mut noted: FastSet<TraceId> = FastSet::default();
        for (n, b) in batches.iter().enumerate() {
            if found.floor().is_some_and(|k| k > b.max_start) {
                break;
            }
            if n > 0 && n % LATE_CHECK_BATCHES == 0 && late() {
                return false;
            }
            crate::pace::pace();
            let ids = match b.batch.candidates(filter) {
                Ok(ids) => ids,
                Err(e) => {
                    tracing::error!(error = %e, "head batch does not decode; skipped");
                    continue;
                }
            };
            // A trace noted from a newer batch was noted with its start
            // over the whole head; one in another head (a cut in between)
            // is noted again there, with that head's start.
            let ids: FastSet<TraceId> = ids
                .into_iter()
                .filter(|id| !noted.contains(id) && !found.pushed_out(*id))
                .collect();
            if ids.is_empty() {
                continue;
            }
            if filter.tags.is_empty() {
                // Without tags the column filter is exact (service,
                // operation, window, durations): no span needs building.
                // Decoding every batch of the head made a `limit=20`
                // search over a full head take 0.4 s.
                for id in ids {
                    if let Some(start) = self.locate_start(id) {
                        found.note(id, earliest(id, start), None);
                        noted.insert(id);
                    }
                }
                continue;
            }
            let Ok(traces) = b.batch.decode(&|id| ids.contains(&id)) else {
                continue;
            };
            for t in traces {
                if t.spans.iter().any(|s| span_matches(s, q)) {
                    let start = self.locate_start(t.id).unwrap_or(t.spans[0].start_time);
                    found.note(t.id, earliest(t.id, start), None);
                    noted.insert(t.id);
                }
            }
        }
        true
    }

    /// Spans of the trace here (0: none).
    pub(super) fn spans_of(&self, id: TraceId) -> u64 {
        self.shards[shard_of(id)]
            .lock()
            .get(&id)
            .map_or(0, |t| u64::from(t.spans))
    }

    pub(super) fn locate_start(&self, id: TraceId) -> Option<u64> {
        self.shards[shard_of(id)].lock().get(&id).map(|t| t.start)
    }

    /// Writes every trace into `block` in the order a block wants
    /// (earliest start, then ID). Answers whether every trace went in.
    ///
    /// The block writer reads the batches' columns itself and never builds
    /// a span (`clew_segment`'s transcoding: the cut was 37 % of the
    /// server's CPU under full ingest when it decoded and re-encoded every
    /// span). If that fails midway (a batch that passed its checksum but
    /// does not read: a bug, not a disk error), this head's later cuts
    /// decode instead, which skips unreadable batches.
    pub(crate) fn write_into(&self, block: &mut StreamingBlock, chunk_spans: usize) -> bool {
        if self.transcode_failed.load(Ordering::Relaxed) {
            self.write_decoded(&mut |t| block.push(t), chunk_spans);
            return true;
        }
        match self.write_raw(block) {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %e, "head batches could not be written as read; the next cut decodes them");
                self.transcode_failed.store(true, Ordering::Relaxed);
                false
            }
        }
    }

    /// Makes this head's cuts decode its batches (the fallback after a
    /// failed transcoding), so tests can exercise that path.
    #[cfg(test)]
    pub(crate) fn cut_by_decoding(&self) {
        self.transcode_failed.store(true, Ordering::Relaxed);
    }

    fn write_raw(&self, block: &mut StreamingBlock) -> Result<(), clew_segment::SegmentError> {
        let batches: Vec<Arc<HeadBatch>> = self.batches.read().clone();
        let mut parts: FastMap<TraceId, Vec<(u32, u32)>> = FastMap::with_capacity_and_hasher(
            self.traces.load(Ordering::Relaxed) as usize,
            Default::default(),
        );
        for b in batches {
            let src = match block.writer().add_source(b) {
                Ok(src) => src,
                Err(e) => {
                    // As a decode would: the batch's spans are lost, the
                    // rest is written.
                    tracing::error!(error = %e, "head batch does not decode; skipped");
                    continue;
                }
            };
            for (pos, id) in block.writer().source_traces(src).enumerate() {
                parts.entry(id).or_default().push((src, pos as u32));
            }
        }
        let mut order = Vec::with_capacity(parts.len());
        for (id, p) in parts {
            order.push(block.writer().raw_trace(id, p)?);
        }
        order.sort_unstable_by_key(|t| (t.start(), t.id()));
        for t in order {
            block.push_raw(t)?;
        }
        Ok(())
    }

    /// Hands every trace to `push` in the order a block wants, decoding
    /// about `chunk_spans` spans at a time, so a cut holds one page of
    /// decoded spans rather than the whole head.
    fn write_decoded(&self, push: &mut dyn FnMut(TraceSpans), chunk_spans: usize) {
        let mut order: Vec<(u64, TraceId, u32, Vec<u32>)> =
            Vec::with_capacity(self.traces.load(Ordering::Relaxed) as usize);
        for shard in self.shards.iter() {
            for (id, t) in shard.lock().iter() {
                order.push((t.start, *id, t.spans, t.batches().collect()));
            }
        }
        order.sort_unstable_by_key(|t| (t.0, t.1));
        let batches: Vec<Arc<HeadBatch>> = self.batches.read().clone();
        let mut from = 0;
        while from < order.len() {
            let mut to = from;
            let mut n = 0usize;
            while to < order.len() && (n < chunk_spans.max(1) || to == from) {
                n += order[to].2 as usize;
                to += 1;
            }
            let chunk = &order[from..to];
            // Batch → the chunk's traces it holds, batches in arrival order.
            let mut by_batch: std::collections::BTreeMap<u32, FastSet<TraceId>> =
                std::collections::BTreeMap::new();
            for (_, id, _, bs) in chunk {
                for &b in bs {
                    by_batch.entry(b).or_default().insert(*id);
                }
            }
            let mut spans: FastMap<TraceId, Vec<Span>> =
                FastMap::with_capacity_and_hasher(chunk.len(), Default::default());
            for (b, ids) in by_batch {
                let Some(batch) = batches.get(b as usize) else {
                    continue;
                };
                match batch.batch.decode(&|id| ids.contains(&id)) {
                    Ok(traces) => {
                        for t in traces {
                            spans.entry(t.id).or_default().extend(t.spans);
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "head batch does not decode; skipped"),
                }
            }
            for (_, id, _, _) in chunk {
                if let Some(spans) = spans.remove(id) {
                    push(TraceSpans { id: *id, spans });
                }
            }
            from = to;
        }
    }

    /// The service-graph essentials of every span whose batch overlaps
    /// `[start, end]` (span ID, parent, service, start), per trace. Decodes
    /// one batch at a time and keeps ~60 bytes per span instead of whole
    /// spans, so a dependency query over a full head stays small.
    pub(crate) fn dependency_spans(&self, start: u64, end: u64) -> HashMap<TraceId, Vec<DepSpan>> {
        let batches: Vec<Arc<HeadBatch>> = self.batches.read().clone();
        let mut out: HashMap<TraceId, Vec<DepSpan>> = HashMap::new();
        for b in batches {
            if b.max_start < start || b.min_start > end {
                continue;
            }
            crate::pace::pace();
            // Four columns of the batch; a batch of the v1 layout (a WAL
            // written by an older version) is decoded whole.
            let read = b.batch.dependency_spans().and_then(|deps| match deps {
                Some(deps) => Ok(deps),
                None => b
                    .batch
                    .decode(&|_| true)
                    .map(|traces| traces.iter().map(TraceDeps::of).collect()),
            });
            match read {
                Ok(traces) => {
                    for t in traces {
                        out.entry(t.id).or_default().extend(t.spans);
                    }
                }
                Err(e) => tracing::error!(error = %e, "head batch does not decode; skipped"),
            }
        }
        out
    }

    pub(crate) fn span_count(&self) -> u64 {
        self.spans.load(Ordering::Relaxed)
    }

    pub(crate) fn trace_count(&self) -> u64 {
        self.traces.load(Ordering::Relaxed)
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Span start range, or `None` when empty.
    pub(crate) fn start_range(&self) -> Option<(u64, u64)> {
        let min = self.min_start.load(Ordering::Relaxed);
        (min != u64::MAX).then(|| (min, self.max_start.load(Ordering::Relaxed)))
    }

    pub(crate) fn add_services(&self, out: &mut BTreeSet<String>) {
        out.extend(self.operations.read().keys().cloned());
    }

    pub(crate) fn add_operations(&self, service: &str, out: &mut BTreeSet<Operation>) {
        if let Some(set) = self.operations.read().get(service) {
            out.extend(set.iter().cloned());
        }
    }
}
