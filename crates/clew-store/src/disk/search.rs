//! Search, services, operations and dependencies over head and blocks.
//!
//! A search asks each block's index first (time range, services,
//! operations, attribute keys, `key=value` Bloom filter) and reads pages
//! only of blocks that can match, newest blocks first, stopping once `limit`
//! traces are known that start after anything older blocks could hold.
//! Results are sorted by trace start (most recent first) and *then*
//! truncated to the limit (the order Jaeger's tag search got wrong,
//! jaegertracing/jaeger#166); whole traces are read only for the results.

use std::collections::{BTreeSet, HashMap, HashSet};

use clew_model::{Span, SpanId, TraceId};
use clew_segment::{BlockIndex, PageRef, SpanFilter, tag_hash};

use super::head::Head;
use super::topk::{Hit, TopK};
use super::{Inner, State};
use crate::query::{
    DependencyLink, Operation, SearchedSummaries, ServiceSummary, TraceQuery, TraceSummary,
};
use crate::span_matches;
use clew_segment::DepSpan;

/// Pages a search reads in its first request to a block; each further
/// request reads twice as many, up to [`MAX_PAGE_BATCH`]: few requests for
/// a long scan, little read past the limit for a short one.
const FIRST_PAGE_BATCH: usize = 8;
const MAX_PAGE_BATCH: usize = 64;

/// Can any span of a block with this index match the query?
fn block_may_match(idx: &BlockIndex, q: &TraceQuery) -> bool {
    if idx.span_count == 0 || idx.max_start < q.start_min || idx.min_start > q.start_max {
        return false;
    }
    match (&q.service, &q.operation) {
        (Some(svc), op) => {
            let Ok(si) = idx.services.binary_search(svc) else {
                return false;
            };
            if let Some(op) = op
                && !idx
                    .operations
                    .iter()
                    .any(|o| o.service as usize == si && &o.name == op)
            {
                return false;
            }
        }
        (None, Some(op)) => {
            if !idx.operations.iter().any(|o| &o.name == op) {
                return false;
            }
        }
        (None, None) => {}
    }
    q.tags.iter().all(|t| {
        idx.tag_keys.binary_search(&t.key).is_ok() && idx.may_hold_tag(tag_hash(&t.key, &t.value))
    })
}

/// Can page `page` of a block that may match (see [`block_may_match`])
/// hold the query's tags? Only a pair whose value the block's tables lack
/// rules pages out: the page's own filter of in-place values (format v3)
/// must then hold it.
fn page_may_match(idx: &BlockIndex, page: &PageRef, tag_hashes: &[u64]) -> bool {
    tag_hashes
        .iter()
        .all(|&h| idx.tag_filter.may_contain(h) || page.may_hold_inline(h))
}

fn trace_start(spans: &[Span]) -> u64 {
    spans.iter().map(|s| s.start_time).min().unwrap_or(0)
}

/// What a search already read of a trace in one block page: whole unless
/// the trace also lives elsewhere (the caller checks).
pub(super) enum Held {
    /// Its spans, decoded.
    Spans(Vec<Span>),
    /// Its summary, read from the page's columns.
    Summary(TraceSummary),
    /// Where it is: page `page` of block `block` (by block ID), so that
    /// results are read a page at a time, not a trace at a time.
    At { block: u64, page: usize },
}

/// Most bytes of decoded spans or summaries one search keeps for its
/// candidates (beyond, they are read again if returned).
const HELD_MAX_BYTES: usize = 32 << 20;

/// What the caller of a search wants of each result.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Want {
    /// Whole traces.
    Traces,
    /// Summaries: pages answer them from their columns when the query's
    /// column filter is exact (no tags), without building spans.
    Summaries,
}

fn summary_of(id: TraceId, s: clew_segment::PageTraceSummary) -> TraceSummary {
    TraceSummary {
        trace_id: id,
        root_service: s.root_service.to_string(),
        root_operation: s.root_operation.to_string(),
        start: s.start,
        duration: s.end.saturating_sub(s.start),
        span_count: s.spans,
        error_count: s.errors,
        orphan_count: s.orphans,
        services: s
            .services
            .iter()
            .map(|c| ServiceSummary {
                name: c.service.to_string(),
                span_count: c.spans,
                error_count: c.errors,
            })
            .collect(),
    }
}

/// Head spans one read-ahead of whole traces takes at most (the first
/// trace of a read-ahead always comes whole), and traces at most.
const READ_AHEAD_SPANS: u64 = 16_384;
const READ_AHEAD_TRACES: usize = 512;

/// Whole traces of a search's hits, read a few at a time. When a hit must
/// be read whole, it and the next hits that must be read whole and have
/// spans in a head are read together, so each head batch is decoded once
/// for all of them (reading 1,500 head traces one by one decoded a batch
/// per trace: 45 % of the query threads' CPU under full ingest). The
/// heads' span counts size a read-ahead before it is read, so what it
/// holds beyond what the answer takes is bounded by construction
/// ([`READ_AHEAD_SPANS`]); a hit in no head is read alone, as before.
struct ReadAhead {
    /// Per hit: its trace, and its head spans if it must be read whole
    /// (0: it need not be, or it has no span in a head).
    hits: Vec<(TraceId, u64, bool)>,
    read: HashMap<TraceId, Vec<Span>>,
}

impl ReadAhead {
    /// `hits`: each hit's trace and whether it must be read whole.
    fn new(st: &State, hits: impl Iterator<Item = (TraceId, bool)>) -> ReadAhead {
        let head_spans = |id: TraceId| st.heads().map(|h| h.spans_of(id)).sum::<u64>();
        ReadAhead {
            hits: hits
                .map(|(id, whole)| (id, if whole { head_spans(id) } else { 0 }, whole))
                .collect(),
            read: HashMap::new(),
        }
    }

    /// Whether hit `id` was read ahead already.
    fn holds(&self, id: TraceId) -> bool {
        self.read.contains_key(&id)
    }

    /// The whole trace of hit number `at` (empty when it is gone).
    async fn take(&mut self, inner: &Inner, at: usize) -> Vec<Span> {
        let Some(&(id, spans, _)) = self.hits.get(at) else {
            return Vec::new();
        };
        if let Some(t) = self.read.remove(&id) {
            return t;
        }
        if spans == 0 {
            return inner.trace(id).await;
        }
        let (mut ids, mut total) = (vec![id], spans);
        for &(other, n, whole) in &self.hits[at + 1..] {
            if ids.len() >= READ_AHEAD_TRACES {
                break;
            }
            // (A search's hits are distinct traces.)
            if !whole || n == 0 || self.read.contains_key(&other) {
                continue;
            }
            if total + n > READ_AHEAD_SPANS {
                break;
            }
            total += n;
            ids.push(other);
        }
        self.read.extend(inner.traces(&ids).await);
        self.read.remove(&id).unwrap_or_default()
    }
}

impl Inner {
    /// Matching trace IDs with their start, sorted and limited, and whether
    /// the search looked everywhere (`false`: it stopped at
    /// `q.deadline`, between blocks or page batches, with what it had).
    pub(super) async fn search(&self, q: &TraceQuery, want: Want) -> (Vec<Hit>, bool) {
        let late = || q.deadline.is_some_and(|d| std::time::Instant::now() >= d);
        let st = self.snapshot();
        let held_budget = q.max_bytes.unwrap_or(usize::MAX).min(HELD_MAX_BYTES);
        let mut found = TopK::new(q.limit, held_budget);
        let filter = SpanFilter {
            service: q.service.as_deref(),
            operation: q.operation.as_deref(),
            tags: q
                .tags
                .iter()
                .map(|t| (t.key.as_str(), t.value.as_str()))
                .collect(),
            start_min: q.start_min,
            start_max: q.start_max,
            duration_min: q.duration_min,
            duration_max: q.duration_max,
        };
        let tag_hashes: Vec<u64> = q.tags.iter().map(|t| tag_hash(&t.key, &t.value)).collect();
        // Without tags the column filter is exact (service, operation,
        // window, durations), so a page's candidates need no spans built:
        // a search for whole traces notes where each one is and reads only
        // those it returns.
        let summaries = q.tags.is_empty();
        let heads: Vec<&Head> = st.heads().collect();
        let mut complete = search_heads(&heads, q, &filter, &mut found, &late);
        let mut blocks: Vec<_> = st
            .blocks
            .iter()
            .filter(|b| block_may_match(&b.index, q))
            .cloned()
            .collect();
        blocks.sort_by_key(|b| std::cmp::Reverse(b.index.max_start));
        // The limit-th most recent start found so far: nothing that starts
        // before a block's (or page's) latest span can displace it.
        for b in blocks {
            if found.floor().is_some_and(|k| k > b.index.max_start) {
                break;
            }
            if !complete || late() {
                complete = false;
                break;
            }
            // Pages hold traces in start order: newest pages first.
            let mut pages: Vec<usize> = (0..b.index.pages.len())
                .filter(|&i| {
                    let p = &b.index.pages[i];
                    p.max_start >= q.start_min
                        && p.min_start <= q.start_max
                        && page_may_match(&b.index, p, &tag_hashes)
                })
                .collect();
            pages.sort_by_key(|&i| std::cmp::Reverse(b.index.pages[i].max_start));
            if !filter.tags.is_empty() {
                // Format v3: pages whose traces lack a filtered pair are
                // known from the index and tables, without reading them.
                match b.tables(self.objects.as_ref()).await {
                    Ok(tables) => pages.retain(|&i| {
                        clew_segment::page_may_hold_tags(&b.index.pages[i], &tables, &filter.tags)
                    }),
                    Err(e) => {
                        self.block_failed(&b, &e);
                        continue;
                    }
                }
            }
            // Pages wholly inside the window need no per-span time check.
            let open_window = SpanFilter {
                start_min: 0,
                start_max: u64::MAX,
                ..filter.clone()
            };
            let mut floor = found.floor();
            let mut batch = FIRST_PAGE_BATCH;
            let mut rest = &pages[..];
            'pages: while !rest.is_empty() {
                let (group, tail) = rest.split_at(batch.min(rest.len()));
                rest = tail;
                batch = (batch * 2).min(MAX_PAGE_BATCH);
                if floor.is_some_and(|k| k > b.index.pages[group[0]].max_start) {
                    break;
                }
                if late() {
                    complete = false;
                    break;
                }
                let bytes = match b.page_bytes(self.objects.as_ref(), group).await {
                    Ok(bytes) => bytes,
                    Err(e) => {
                        self.block_failed(&b, &e);
                        break;
                    }
                };
                for (&i, bytes) in group.iter().zip(bytes) {
                    crate::pace::pace();
                    let page = &b.index.pages[i];
                    if floor.is_some_and(|k| k > page.max_start) {
                        break 'pages;
                    }
                    let inside = page.min_start >= q.start_min && page.max_start <= q.start_max;
                    let f = if inside { &open_window } else { &filter };
                    if summaries {
                        match b.page_summaries(self.objects.as_ref(), i, &bytes, f).await {
                            Ok(Some(sums)) => {
                                for s in sums {
                                    let (id, start) = (s.id, s.start);
                                    let held = match want {
                                        Want::Summaries => Held::Summary(summary_of(id, s)),
                                        Want::Traces => Held::At {
                                            block: b.id,
                                            page: i,
                                        },
                                    };
                                    found.note(id, start, Some(held));
                                }
                                floor = found.floor();
                                continue;
                            }
                            // A v1 page: decoded below.
                            Ok(None) => {}
                            Err(e) => {
                                self.block_failed(&b, &e);
                                break 'pages;
                            }
                        }
                    }
                    match b.page_filtered(self.objects.as_ref(), i, &bytes, f).await {
                        Ok(traces) => {
                            for t in traces {
                                if t.spans.iter().any(|s| span_matches(s, q)) {
                                    let start = trace_start(&t.spans);
                                    found.note(t.id, start, Some(Held::Spans(t.spans)));
                                }
                            }
                            floor = found.floor();
                        }
                        Err(e) => {
                            self.block_failed(&b, &e);
                            break 'pages;
                        }
                    }
                }
            }
        }
        if !complete {
            // Blocks are cut by time: the ones not read hold older traces.
            tracing::debug!("search stopped at its deadline; returning the matches found");
        }
        (found.into_hits(), complete)
    }

    /// The whole traces of `hits`, in order, until their estimated size
    /// reaches `max_bytes` (the trace that reaches it is the last one; the
    /// first is always read). A search that held a hit's spans gives them
    /// when they are the whole trace; hits the search located in a block
    /// page are read a page at a time, every hit of the page at once.
    pub(super) async fn hit_traces(&self, hits: Vec<Hit>, max_bytes: usize) -> Vec<Vec<Span>> {
        let st = self.snapshot();
        let mut by_page: HashMap<(u64, usize), HashSet<TraceId>> = HashMap::new();
        for (_, id, held) in &hits {
            if let Some(Held::At { block, page }) = held {
                by_page.entry((*block, *page)).or_default().insert(*id);
            }
        }
        let mut read: HashMap<TraceId, Vec<Span>> = HashMap::new();
        let mut out = Vec::new();
        let mut bound = crate::ByteBound::new(Some(max_bytes));
        let wholes: Vec<bool> = hits
            .iter()
            .map(|h| h.2.is_some() && held_whole(&st, h.1))
            .collect();
        let mut ahead = ReadAhead::new(
            &st,
            hits.iter().zip(&wholes).map(|(h, &whole)| (h.1, !whole)),
        );
        for (at, ((_, id, held), whole)) in hits.into_iter().zip(wholes).enumerate() {
            if !bound.open() {
                break;
            }
            crate::pace::pace();
            let spans = match held {
                Some(Held::Spans(spans)) if whole => spans,
                Some(Held::At { block, page }) if whole => {
                    if let Some(ids) = by_page.remove(&(block, page))
                        && let Some(b) = st.blocks.iter().find(|b| b.id == block)
                    {
                        match b
                            .page(self.objects.as_ref(), page, &|t| ids.contains(&t))
                            .await
                        {
                            Ok(traces) => read.extend(traces.into_iter().map(|t| (t.id, t.spans))),
                            Err(e) => self.block_failed(b, &e),
                        }
                    }
                    match read.remove(&id) {
                        Some(spans) if !spans.is_empty() => spans,
                        // Compacted or retained away since the search.
                        _ => self.trace(id).await,
                    }
                }
                _ => ahead.take(self, at).await,
            };
            if spans.is_empty() {
                continue;
            }
            bound.take(&spans);
            out.push(spans);
        }
        out
    }

    /// The summaries of the traces matching `q`, in search order, and
    /// whether the search looked everywhere and summarised every match.
    ///
    /// A trace whole in one block page is summarised from the page's
    /// columns (or the spans a tag search decoded). A trace split across
    /// blocks or head (or one the search could not hold) is read whole and
    /// summarised: the summaries of its parts cannot be added up, since
    /// whether a span is an orphan depends on the spans of the other parts.
    /// Those reads stop at `q.deadline`; the answer is then marked
    /// incomplete.
    pub(super) async fn search_summaries(&self, q: &TraceQuery) -> SearchedSummaries {
        let (hits, mut complete) = self.search(q, Want::Summaries).await;
        let late = || q.deadline.is_some_and(|d| std::time::Instant::now() >= d);
        let st = self.snapshot();
        let mut summaries = Vec::with_capacity(hits.len());
        let held: Vec<bool> = hits
            .iter()
            .map(|h| matches!(h.2, Some(Held::Summary(_) | Held::Spans(_))) && held_whole(&st, h.1))
            .collect();
        let mut ahead =
            ReadAhead::new(&st, hits.iter().zip(&held).map(|(h, &whole)| (h.1, !whole)));
        for (at, ((_, id, h), whole)) in hits.into_iter().zip(held).enumerate() {
            crate::pace::pace();
            let summary = match h {
                Some(Held::Summary(s)) if whole => Some(s),
                Some(Held::Spans(spans)) if whole => TraceSummary::of(&spans),
                _ if !ahead.holds(id) && late() => {
                    complete = false;
                    break;
                }
                _ => TraceSummary::of(&ahead.take(self, at).await),
            };
            summaries.extend(summary);
        }
        SearchedSummaries {
            summaries,
            complete,
            cut_at_max_bytes: false,
        }
    }

    pub(super) fn services(&self) -> BTreeSet<String> {
        let st = self.snapshot();
        let mut out = BTreeSet::new();
        st.head.add_services(&mut out);
        for (h, _) in &st.frozen {
            h.add_services(&mut out);
        }
        for b in st.blocks.iter() {
            out.extend(b.index.services.iter().cloned());
        }
        out
    }

    pub(super) fn operations(&self, service: &str) -> BTreeSet<Operation> {
        let st = self.snapshot();
        let mut out = BTreeSet::new();
        st.head.add_operations(service, &mut out);
        for (h, _) in &st.frozen {
            h.add_operations(service, &mut out);
        }
        for b in st.blocks.iter() {
            let Ok(si) = b
                .index
                .services
                .binary_search_by(|s| s.as_str().cmp(service))
            else {
                continue;
            };
            out.extend(
                b.index
                    .operations
                    .iter()
                    .filter(|o| o.service as usize == si)
                    .map(|o| Operation {
                        name: o.name.clone(),
                        span_kind: o.span_kind.clone(),
                    }),
            );
        }
        out
    }

    pub(super) async fn dependencies(&self, start: u64, end: u64) -> Vec<DependencyLink> {
        let st = self.snapshot();
        let mut counts: HashMap<(String, String), u64> = HashMap::new();
        // Bounded by construction: the head is read batch by batch into
        // small per-span records, blocks page by page (a page holds whole
        // traces), so no query holds a whole head or block of spans.
        for h in st.heads() {
            if h.start_range()
                .is_none_or(|(min, max)| max < start || min > end)
            {
                continue;
            }
            for spans in h.dependency_spans(start, end).into_values() {
                edges(&spans, start, end, &mut counts);
            }
        }
        for b in st.blocks.iter() {
            if b.index.max_start < start || b.index.min_start > end {
                continue;
            }
            for page in 0..b.index.pages.len() {
                // A page holds whole traces: one with no span starting in
                // the window adds no edge (`edges` counts only those).
                let p = &b.index.pages[page];
                if p.max_start < start || p.min_start > end {
                    continue;
                }
                crate::pace::pace();
                match b.page_dependency_spans(self.objects.as_ref(), page).await {
                    Ok(traces) => {
                        for t in traces {
                            edges(&t.spans, start, end, &mut counts);
                        }
                    }
                    Err(e) => {
                        self.block_failed(b, &e);
                        break;
                    }
                }
            }
        }
        DependencyLink::sorted_from(counts)
    }
}

/// Notes the matching traces of `heads` (the head, then the frozen ones,
/// newest first) in `found`, a trace in two heads by its earliest span in
/// either (blocks, read after, rank the rest as `TopK` says); `false` when
/// `late()` stopped the search.
pub(super) fn search_heads(
    heads: &[&Head],
    q: &TraceQuery,
    filter: &SpanFilter<'_>,
    found: &mut TopK,
    late: &dyn Fn() -> bool,
) -> bool {
    let earliest = |id: TraceId, start: u64| {
        if heads.len() == 1 {
            return start;
        }
        heads
            .iter()
            .filter_map(|h| h.locate_start(id))
            .fold(start, u64::min)
    };
    for h in heads {
        if h.start_range()
            .is_none_or(|(min, max)| max < q.start_min || min > q.start_max)
        {
            continue;
        }
        if !h.search(q, filter, found, late, &earliest) {
            return false;
        }
    }
    true
}

/// Is what a search read of a trace in one page the whole trace (no other
/// block, by its trace table, or head of `st` may hold more of it)? Asked
/// of the snapshot the results are read from, once per hit.
fn held_whole(st: &State, id: TraceId) -> bool {
    let mut holders = st.blocks.iter().filter(|b| b.index.may_hold(id)).count();
    holders += st.heads().filter(|h| h.contains(id)).count();
    holders <= 1
}

/// Parent→child service edges of one trace's spans starting in the window.
fn edges(spans: &[DepSpan], start: u64, end: u64, counts: &mut HashMap<(String, String), u64>) {
    let mut by_id: HashMap<SpanId, &str> = HashMap::with_capacity(spans.len());
    for s in spans {
        by_id.entry(s.span_id).or_insert(&s.service);
    }
    for s in spans {
        if s.start < start || s.start > end {
            continue;
        }
        let Some(parent) = s.parent.and_then(|p| by_id.get(&p)) else {
            continue;
        };
        let child: &str = &s.service;
        if *parent != child {
            *counts
                .entry((parent.to_string(), child.to_string()))
                .or_default() += 1;
        }
    }
}
