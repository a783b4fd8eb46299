//! The best `limit` traces a search has seen so far, in bounded memory.
//!
//! A search visits candidates newest block first, but many traces can share
//! the newest start (a burst, a load generator stamping one time, a hostile
//! client), and then every page must be read. Keeping every candidate (and
//! what was decoded of it) until the end made one `limit=1500` search over
//! 10 M spans hold every decoded trace: 5.6 GB of RSS and a 503 at the
//! time budget. Here only the `limit` best candidates stay, ranked as the
//! answer is (most recent start first, ties by trace ID descending), and
//! the spans or summaries held for them stay within a byte budget; a
//! candidate held without its spans is read again if it is returned.

use std::collections::{BTreeSet, HashMap, HashSet};

use clew_model::TraceId;

use super::search::Held;
use crate::query::ServiceSummary;

/// Most evicted trace IDs remembered (about 10 MB): a trace seen again in
/// another block after its eviction must stay out, since its start there
/// may be later than the one that lost. Past this, a re-seen trace is
/// ranked by the spans seen since, as blocks a search skips rank it anyway.
const EVICTED_MAX: usize = 1 << 18;

/// Bytes a held candidate costs beyond its contents (map, set, enum).
const ENTRY_OVERHEAD: usize = 96;

/// A search hit: trace start, ID, and what the search read of it.
pub(super) type Hit = (u64, TraceId, Option<Held>);

/// The best `limit` candidates by `(start, id)`.
pub(super) struct TopK {
    limit: usize,
    entries: HashMap<TraceId, (u64, Option<Held>)>,
    /// The same entries, ascending: the first is the worst kept.
    order: BTreeSet<(u64, TraceId)>,
    evicted: HashSet<TraceId>,
    held_bytes: usize,
    held_budget: usize,
}

impl TopK {
    /// Keeps at most `limit` candidates (`0` = no limit) and at most
    /// `held_budget` bytes of what was read of them.
    pub(super) fn new(limit: usize, held_budget: usize) -> TopK {
        TopK {
            limit: if limit == 0 { usize::MAX } else { limit },
            entries: HashMap::new(),
            order: BTreeSet::new(),
            evicted: HashSet::new(),
            held_bytes: 0,
            held_budget,
        }
    }

    /// The start a candidate must pass to enter once the set is full:
    /// nothing that starts before it can change the answer.
    pub(super) fn floor(&self) -> Option<u64> {
        if self.entries.len() < self.limit {
            return None;
        }
        self.order.first().map(|&(start, _)| start)
    }

    /// Whether `id` was pushed out: noting it again changes nothing.
    pub(super) fn pushed_out(&self, id: TraceId) -> bool {
        self.evicted.contains(&id)
    }

    /// Notes a matching trace seen starting at `start`, with what was read
    /// of it there (`None`: nothing reusable).
    pub(super) fn note(&mut self, id: TraceId, start: u64, held: Option<Held>) {
        if self.evicted.contains(&id) {
            return;
        }
        if let Some((old_start, old_held)) = self.entries.get_mut(&id) {
            // Seen in two places: its start is the earlier one, and the
            // caller must assemble it from everywhere.
            let old = (*old_start, id);
            let released = old_held.take().map_or(0, |h| h.bytes());
            self.held_bytes -= released;
            *old_start = (*old_start).min(start);
            let new = (*old_start, id);
            if new != old {
                self.order.remove(&old);
                self.order.insert(new);
            }
            return;
        }
        if self.entries.len() >= self.limit
            && self
                .order
                .first()
                .is_some_and(|&worst| (start, id) <= worst)
        {
            self.evict_id(id);
            return;
        }
        let held = held.filter(|h| {
            let n = h.bytes();
            if self.held_bytes.saturating_add(n) > self.held_budget {
                return false;
            }
            self.held_bytes += n;
            true
        });
        self.entries.insert(id, (start, held));
        self.order.insert((start, id));
        if self.entries.len() > self.limit
            && let Some((_, worst)) = self.order.pop_first()
        {
            if let Some((_, Some(h))) = self.entries.remove(&worst) {
                self.held_bytes -= h.bytes();
            }
            self.evict_id(worst);
        }
    }

    fn evict_id(&mut self, id: TraceId) {
        if self.evicted.len() < EVICTED_MAX {
            self.evicted.insert(id);
        }
    }

    /// The kept candidates, best first.
    pub(super) fn into_hits(mut self) -> Vec<Hit> {
        let mut out = Vec::with_capacity(self.entries.len());
        while let Some((start, id)) = self.order.pop_last() {
            let held = self.entries.remove(&id).and_then(|(_, h)| h);
            out.push((start, id, held));
        }
        out
    }
}

impl Held {
    /// What holding this costs, as an estimate of heap bytes.
    pub(super) fn bytes(&self) -> usize {
        ENTRY_OVERHEAD
            + match self {
                Held::Spans(spans) => spans.iter().map(|s| s.estimated_size()).sum(),
                Held::Summary(s) => {
                    128 + s.root_service.len()
                        + s.root_operation.len()
                        + s.services
                            .iter()
                            .map(|x| std::mem::size_of::<ServiceSummary>() + x.name.len())
                            .sum::<usize>()
                }
                Held::At { .. } => 0,
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::TraceSummary;

    fn id(n: u64) -> TraceId {
        TraceId::new(0, n)
    }

    fn starts(hits: &[Hit]) -> Vec<(u64, u64)> {
        hits.iter().map(|h| (h.0, h.1.low)).collect()
    }

    #[test]
    fn keeps_the_best_limit_in_answer_order_with_ties_by_id() {
        let mut k = TopK::new(3, usize::MAX);
        for (s, n) in [(5, 1), (9, 2), (5, 3), (1, 4), (9, 5), (7, 6)] {
            k.note(id(n), s, None);
        }
        assert_eq!(k.floor(), Some(7));
        assert_eq!(starts(&k.into_hits()), [(9, 5), (9, 2), (7, 6)]);
    }

    #[test]
    fn matches_a_full_sort_on_random_input() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..50u64 {
            let limit = 1 + (next() % 40) as usize;
            let mut k = TopK::new(limit, usize::MAX);
            let mut want = Vec::new();
            // Distinct traces, many sharing a start (ties go by ID).
            for n in 0..(round * 7 + 20) {
                let s = next() % 25;
                k.note(id(n), s, None);
                want.push((s, n));
            }
            want.sort_unstable_by(|a, b| b.cmp(a));
            want.truncate(limit);
            assert_eq!(starts(&k.into_hits()), want, "round {round}");
        }
    }

    #[test]
    fn a_trace_seen_twice_takes_the_earlier_start_and_drops_what_was_held() {
        let mut k = TopK::new(2, usize::MAX);
        k.note(id(1), 10, Some(Held::At { block: 1, page: 0 }));
        k.note(id(1), 4, Some(Held::At { block: 2, page: 0 }));
        k.note(id(2), 6, None);
        let hits = k.into_hits();
        assert_eq!(starts(&hits), [(6, 2), (4, 1)]);
        assert!(hits[1].2.is_none(), "seen in two places: read whole later");
    }

    #[test]
    fn held_bytes_stay_within_the_budget() {
        let sum = |n: u64| TraceSummary {
            trace_id: id(n),
            root_service: "s".repeat(100),
            root_operation: String::new(),
            start: n,
            duration: 0,
            span_count: 1,
            error_count: 0,
            orphan_count: 0,
            services: Vec::new(),
        };
        let one = Held::Summary(sum(0)).bytes();
        let mut k = TopK::new(100, one * 3);
        for n in 0..10 {
            k.note(id(n), n, Some(Held::Summary(sum(n))));
        }
        assert!(k.held_bytes <= one * 3);
        let hits = k.into_hits();
        assert_eq!(
            hits.len(),
            10,
            "every candidate is kept, not every one held"
        );
        assert_eq!(hits.iter().filter(|h| h.2.is_some()).count(), 3);
    }

    #[test]
    fn evicting_releases_held_bytes() {
        let mut k = TopK::new(1, usize::MAX);
        k.note(id(1), 1, Some(Held::At { block: 0, page: 0 }));
        k.note(id(2), 2, Some(Held::At { block: 0, page: 1 }));
        assert_eq!(k.held_bytes, ENTRY_OVERHEAD);
        k.note(id(1), 9, None);
        assert_eq!(
            starts(&k.into_hits()),
            [(2, 2)],
            "an evicted trace stays out"
        );
    }
}
