//! Compaction's transcoding: blocks merged from their pages' columns
//! ([`BlockWriter::add_page_source`], [`BlockWriter::push_raw`]) are the
//! very bytes that pushing the same traces' decoded spans writes.

use std::collections::HashMap;
use std::sync::Arc;

use clew_model::{KeyValue, Log, Process, Reference, Scope, Span, SpanId, TraceId, Value};
use clew_segment::{
    BlockOptions, BlockWriter, EncodedBlock, Tables, TraceSpans, decode_block, group_by_trace,
    read_page, read_page_trace_starts, read_tables, write_block,
};
use proptest::prelude::*;

mod common;
use common::{T0, arb_value, fixture};

/// One input block, opened as compaction opens it.
struct Input {
    block: EncodedBlock,
    tables: Arc<Tables>,
}

impl Input {
    fn new(block: EncodedBlock) -> Input {
        let r = block.index.tables.range();
        let tables = read_tables(&block.index, &block.bytes[r.start as usize..r.end as usize])
            .expect("tables");
        Input {
            block,
            tables: Arc::new(tables),
        }
    }

    fn page(&self, p: usize) -> &[u8] {
        let r = self.block.index.pages[p].section.range();
        &self.block.bytes[r.start as usize..r.end as usize]
    }
}

/// Where a trace's spans are in the inputs: `(input, page, position)`.
type Part = (usize, usize, u32);

/// A trace to merge: its parts in input order.
struct Merged {
    id: TraceId,
    parts: Vec<Part>,
}

/// The inputs' traces in the order a merge writes them (earliest start,
/// then ID), each with its parts in input order.
fn merge_order(inputs: &[Input]) -> Vec<Merged> {
    let mut by_id: HashMap<TraceId, (u64, Vec<Part>)> = HashMap::new();
    for (i, input) in inputs.iter().enumerate() {
        for p in 0..input.block.index.pages.len() {
            let heads = read_page_trace_starts(&input.block.index.pages[p], input.page(p))
                .expect("trace starts");
            for (pos, (id, start)) in heads.into_iter().enumerate() {
                let e = by_id.entry(id).or_insert((u64::MAX, Vec::new()));
                e.0 = e.0.min(start);
                e.1.push((i, p, pos as u32));
            }
        }
    }
    let mut order: Vec<(u64, TraceId, Vec<Part>)> = by_id
        .into_iter()
        .map(|(id, (start, parts))| (start, id, parts))
        .collect();
    order.sort_by_key(|t| (t.0, t.1));
    order
        .into_iter()
        .map(|(_, id, parts)| Merged { id, parts })
        .collect()
}

/// How the transcoding writer gets its sources.
#[derive(Clone, Copy, Debug)]
enum Sources {
    /// Each page opened once, released after its last trace is pushed.
    PerPage,
    /// Each trace's pages opened for it alone and released right after it
    /// is pushed: the writer must keep them until the trace's page is
    /// written.
    PerTrace,
}

/// Writes the inputs' traces into one block both ways: decoded spans
/// pushed, and pages transcoded.
fn merge_both_ways(
    blocks: Vec<EncodedBlock>,
    opts: &BlockOptions,
    how: Sources,
) -> (Vec<u8>, Vec<u8>) {
    let inputs: Vec<Input> = blocks.into_iter().map(Input::new).collect();
    let order = merge_order(&inputs);
    let mut plain = BlockWriter::new(opts.clone());
    for t in &order {
        let mut spans: Vec<Span> = Vec::new();
        for &(i, p, _) in &t.parts {
            let input = &inputs[i];
            let page = &input.block.index.pages[p];
            for x in read_page(page, input.page(p), &input.tables, &|id| id == t.id).expect("page")
            {
                spans.extend(x.spans);
            }
        }
        plain.push(TraceSpans { id: t.id, spans });
    }
    let mut raw = BlockWriter::new(opts.clone());
    let dicts: Vec<u32> = inputs
        .iter()
        .map(|i| raw.add_block_tables(i.tables.clone()))
        .collect();
    let mut last_use: HashMap<(usize, usize), usize> = HashMap::new();
    for (n, t) in order.iter().enumerate() {
        for &(i, p, _) in &t.parts {
            last_use.insert((i, p), n);
        }
    }
    let mut open: HashMap<(usize, usize), u32> = HashMap::new();
    for (n, t) in order.iter().enumerate() {
        let mut parts = Vec::new();
        let mut fresh = Vec::new();
        for &(i, p, pos) in &t.parts {
            let mut add = || {
                let page = &inputs[i].block.index.pages[p];
                raw.add_page_source(dicts[i], page, inputs[i].page(p))
                    .expect("page source")
            };
            let src = match how {
                Sources::PerPage => *open.entry((i, p)).or_insert_with(add),
                Sources::PerTrace => {
                    let s = add();
                    fresh.push(s);
                    s
                }
            };
            parts.push((src, pos));
        }
        let rt = raw.raw_trace(t.id, parts).expect("parts");
        raw.push_raw(rt).expect("raw push");
        for s in fresh {
            raw.release_source(s);
        }
        for &(i, p, _) in &t.parts {
            if last_use[&(i, p)] == n
                && let Some(s) = open.remove(&(i, p))
            {
                raw.release_source(s);
            }
        }
    }
    let raw = raw.try_finish().expect("every page transcodes");
    (plain.finish().bytes, raw.bytes)
}

/// Blocks written from `inputs` (one block each, empty ones left out).
fn blocks(inputs: &[Vec<Span>], opts: &BlockOptions) -> Vec<EncodedBlock> {
    inputs
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| write_block(group_by_trace(s.clone()), opts))
        .collect()
}

fn pages_of(page_spans: usize) -> BlockOptions {
    BlockOptions {
        page_spans,
        ..BlockOptions::default()
    }
}

#[test]
fn compaction_writes_the_bytes_decoding_would_write() {
    // Every column, and a trace split over blocks so its parents (by index
    // in one block, explicit in another) and start are re-based on the
    // merged trace.
    let spans = common::fixture_with_late_span();
    for split in 0..spans.len() {
        let (a, b) = spans.split_at(split);
        for (page_in, page_out) in [(1, 1), (1, 4096), (2, 3), (4096, 2)] {
            let inputs = blocks(&[a.to_vec(), b.to_vec()], &pages_of(page_in));
            for how in [Sources::PerPage, Sources::PerTrace] {
                let (plain, raw) = merge_both_ways(inputs.clone(), &pages_of(page_out), how);
                assert_eq!(
                    plain, raw,
                    "split at {split}, pages {page_in} → {page_out}, {how:?}"
                );
                let back = decode_block(&raw).expect("decodes");
                assert_eq!(
                    back.traces.iter().map(|t| t.spans.len()).sum::<usize>(),
                    spans.len()
                );
            }
        }
    }
}

#[test]
fn compaction_rewrites_strings_written_in_place_as_decoding_would() {
    // Long one-off values are written in place in the inputs and close
    // pages early; a value repeated across inputs (in place in each)
    // becomes a table string; `span.kind` written in place; one value is
    // also an operation name met later (added to the tables mid-page).
    let inputs = common::one_off_string_spans();
    for (page_in, page_out) in [(3, 4096), (4096, 3), (7, 11)] {
        let blocks = blocks(&inputs, &pages_of(page_in));
        for how in [Sources::PerPage, Sources::PerTrace] {
            let (plain, raw) = merge_both_ways(blocks.clone(), &pages_of(page_out), how);
            assert_eq!(plain, raw, "pages {page_in} → {page_out}, {how:?}");
        }
    }
}

#[test]
fn released_sources_are_dropped_once_their_traces_are_written() {
    let inputs = blocks(&[fixture()], &pages_of(1));
    let input = Input::new(inputs[0].clone());
    // Pages of one span: each trace's page is written as it is pushed.
    let mut w = BlockWriter::new(pages_of(1));
    let dict = w.add_block_tables(input.tables.clone());
    for t in merge_order(std::slice::from_ref(&input)) {
        let (_, p, pos) = t.parts[0];
        let src = w
            .add_page_source(dict, &input.block.index.pages[p], input.page(p))
            .expect("page source");
        w.push_raw(w.raw_trace(t.id, vec![(src, pos)]).expect("part"))
            .expect("push");
        w.release_source(src);
        assert_eq!(w.held_sources(), 0);
        assert_eq!(w.source_traces(src).count(), 0);
        assert!(w.raw_trace(t.id, vec![(src, pos)]).is_err());
    }
    // A page that is not of format v3 is refused, not misread.
    let mut w = BlockWriter::new(pages_of(1));
    let dict = w.add_block_tables(input.tables.clone());
    let page = &input.block.index.pages[0];
    let mut stored = input.page(0).to_vec();
    let last = stored.len() - 1;
    stored[last] ^= 1;
    assert!(w.add_page_source(dict, page, &stored).is_err());
    assert!(w.add_page_source(dict + 1, page, input.page(0)).is_err());
}

/// A span with what compaction must carry over: tags of every value type
/// (strings repeated and one-off, so some are written in place),
/// `span.kind`, logs and links with string attributes, scopes, warnings,
/// parents in and outside the trace, process tags.
fn arb_merge_span() -> impl Strategy<Value = Span> {
    let strings = prop_oneof!["v[0-2]", "[a-z]{0,6}"];
    (
        (
            1u64..5,
            1u64..8,
            proptest::option::of(1u64..8),
            "[a-c]{1,2}",
            0usize..3,
        ),
        (any::<u32>(), any::<u32>(), any::<bool>()),
        proptest::collection::vec(("[k-m]{1,2}", arb_value()), 0..3),
        (
            proptest::option::of(strings.clone()),
            proptest::collection::vec(strings.clone(), 0..3),
        ),
        (
            proptest::option::of((strings.clone(), any::<i64>())),
            proptest::option::of(("[s-t]", arb_value())),
        ),
        proptest::option::of((1u64..5, strings.clone())),
        proptest::option::of(strings),
    )
        .prop_map(
            |(
                (trace, id, parent, op, svc),
                (start, dur, micros),
                tags,
                (kind, more),
                (log, scope),
                link,
                warning,
            )| {
                let process = Process {
                    service_name: format!("svc{svc}").into(),
                    tags: vec![KeyValue::string("host", format!("h{}", svc % 2))],
                };
                let t = TraceId::new(trace % 2, trace);
                let mut s = Span::new(t, SpanId(id), op, Arc::new(process));
                let scale = if micros { 1000 } else { 1 };
                s.start_time = T0 + u64::from(start % 100_000) * scale;
                s.duration = u64::from(dur) * scale;
                if let Some(p) = parent {
                    s.references.push(Reference::child_of(t, SpanId(p)));
                }
                if let Some((other, v)) = link {
                    let mut r = Reference::follows_from(TraceId::new(0, other), SpanId(1));
                    r.tags = vec![KeyValue::string("link", v)];
                    s.references.push(r);
                }
                if let Some(k) = kind {
                    s.tags.push(KeyValue::string("span.kind", k));
                }
                s.tags
                    .extend(tags.into_iter().map(|(k, v)| KeyValue::new(k, v)));
                s.tags
                    .extend(more.into_iter().map(|v| KeyValue::string("s", v)));
                if let Some((v, n)) = log {
                    s.logs.push(Log {
                        timestamp: s.start_time + 3,
                        fields: vec![KeyValue::string("event", v), KeyValue::i64("n", n)],
                    });
                }
                if let Some((k, v)) = scope {
                    s.scope = Some(Arc::new(Scope {
                        attributes: vec![KeyValue::new(k, v)],
                    }));
                }
                if let Some(w) = warning {
                    s.warnings.push(w);
                }
                s.tags.push(KeyValue::new(
                    "arr",
                    Value::Array(vec![Value::Str("v0".into())]),
                ));
                s
            },
        )
}

proptest! {
    #[test]
    fn compaction_writes_the_bytes_decoding_would_write_for_any_spans(
        spans in proptest::collection::vec((arb_merge_span(), 0usize..3), 1..50),
        page_in in 1usize..6,
        page_out in 1usize..9,
        per_trace in any::<bool>(),
    ) {
        let mut inputs = vec![Vec::new(); 3];
        for (s, i) in spans {
            inputs[i].push(s);
        }
        let how = if per_trace { Sources::PerTrace } else { Sources::PerPage };
        let (plain, raw) = merge_both_ways(blocks(&inputs, &pages_of(page_in)), &pages_of(page_out), how);
        prop_assert_eq!(plain, raw);
    }
}
