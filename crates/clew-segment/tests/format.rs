//! The block format's promises: what is written reads back equal, a golden
//! v1 and v2 block stay readable, and corruption is an error, never a panic.

use std::sync::Arc;

use clew_model::{KeyValue, Log, Process, Reference, Scope, Span, SpanId, TraceId, Value};
use clew_segment::{
    BlockOptions, Footer, SegmentError, SpanFilter, TraceSpans, decode_batch, decode_block,
    encode_batch, group_by_trace, page_may_hold_tags, read_index, read_page, read_page_filtered,
    read_page_summaries, read_tables, tag_hash, write_block,
};
use proptest::prelude::*;

mod common;
use common::{T0, arb_value, fixture};

/// Written by format version 1; frozen (no writer makes v1 any more).
const GOLDEN_V1: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/v1/small.clewblk");
/// Written by format version 2; frozen (no writer makes v2 any more).
const GOLDEN_V2: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/v2/small.clewblk");
/// Written by format version 3 (`CLEW_BLESS=1` rewrites it).
const GOLDEN_V3: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/v3/small.clewblk");

fn spans_of(traces: &[TraceSpans]) -> Vec<Span> {
    traces.iter().flat_map(|t| t.spans.clone()).collect()
}

#[test]
fn a_block_reads_back_the_spans_it_was_written_with() {
    let block = write_block(group_by_trace(fixture()), &BlockOptions::default());
    let back = decode_block(&block.bytes).expect("decodes");
    assert_eq!(back.index, block.index);
    // Traces come back ordered by start time: trace 2 starts 7 ns after T0.
    let mut want = fixture();
    want.sort_by_key(|s| s.trace_id);
    assert_eq!(spans_of(&back.traces), want);
    assert_eq!(back.index.services, vec!["backend", "frontend"]);
    assert_eq!(back.index.span_count, 4);
    assert_eq!(back.index.trace_count, 2);
    assert!(back.index.may_hold(TraceId::new(0xabcd, 2)));
    assert!(back.index.may_hold(TraceId::new(0, 1)));
    for id in [
        TraceId::new(0, 3),
        TraceId::new(0xabcd, 1),
        TraceId::new(7, 7),
    ] {
        assert!(!back.index.may_hold(id), "{id}");
        assert!(back.index.pages_for(id).is_empty(), "{id}");
    }
    assert!(back.index.tag_filter.may_contain(tag_hash("error", "true")));
    assert!(back.index.tag_filter.may_contain(tag_hash("pid", "42")));
    assert!(back.index.tag_keys.contains(&"link.kind".to_string()));
    assert!(
        back.index
            .tag_keys
            .contains(&"library.language".to_string())
    );
    assert!(
        back.index
            .tag_filter
            .may_contain(tag_hash("library.language", "rust"))
    );
    let kinds: Vec<(&str, &str)> = back
        .index
        .operations
        .iter()
        .map(|o| (o.name.as_str(), o.span_kind.as_str()))
        .collect();
    assert!(kinds.contains(&("GET /", "server")));
}

/// Runs the column search over every page of a block held in memory.
fn search(bytes: &[u8], filter: &SpanFilter<'_>) -> Vec<TraceId> {
    let r = Footer::range(bytes.len() as u64).expect("footer range");
    let footer = Footer::decode(&bytes[r.start as usize..]).expect("footer");
    let r = footer.index.range();
    let index = read_index(&footer, &bytes[r.start as usize..r.end as usize]).expect("index");
    let r = index.tables.range();
    let tables = read_tables(&index, &bytes[r.start as usize..r.end as usize]).expect("tables");
    let mut out = Vec::new();
    for p in &index.pages {
        let r = p.section.range();
        let got = read_page_filtered(p, &bytes[r.start as usize..r.end as usize], &tables, filter)
            .expect("page");
        out.extend(got.into_iter().map(|t| t.id));
    }
    out
}

fn check_golden(bytes: &[u8], version: u32) {
    let back = decode_block(bytes).expect("golden decodes");
    assert_eq!(back.footer.version, version);
    let mut want = fixture();
    want.sort_by_key(|s| s.trace_id);
    assert_eq!(spans_of(&back.traces), want);
    // The column search works on the old layout too.
    let everything = SpanFilter {
        start_max: u64::MAX,
        ..SpanFilter::default()
    };
    let tagged = SpanFilter {
        tags: vec![("span.kind", "server")],
        ..everything.clone()
    };
    let absent = SpanFilter {
        tags: vec![("span.kind", "nope")],
        ..everything.clone()
    };
    assert_eq!(search(bytes, &everything).len(), 2);
    assert_eq!(search(bytes, &tagged), vec![TraceId::new(0, 1)]);
    assert!(search(bytes, &absent).is_empty());
}

#[test]
fn the_golden_v1_block_stays_readable() {
    let bytes = std::fs::read(GOLDEN_V1).expect("golden v1 block present");
    check_golden(&bytes, 1);
}

#[test]
fn the_golden_v2_block_stays_readable() {
    let bytes = std::fs::read(GOLDEN_V2).expect("golden v2 block present");
    check_golden(&bytes, 2);
}

#[test]
fn the_golden_v3_block_stays_readable() {
    if std::env::var_os("CLEW_BLESS").is_some() {
        let block = write_block(group_by_trace(fixture()), &BlockOptions::default());
        std::fs::create_dir_all(std::path::Path::new(GOLDEN_V3).parent().expect("dir"))
            .expect("mkdir");
        std::fs::write(GOLDEN_V3, &block.bytes).expect("write golden");
    }
    let bytes = std::fs::read(GOLDEN_V3).expect("golden block present (CLEW_BLESS=1 writes it)");
    check_golden(&bytes, 3);
    check_attribute_places(&bytes);
}

/// A tag filter finds a trace by an attribute wherever the span carries it
/// (span tag, process tag, log field, link attribute, scope attribute),
/// by a non-string value's text, and not by a pair the block lacks. On v3
/// blocks string-only keys go through the trace pair stream.
fn check_attribute_places(bytes: &[u8]) {
    let (t1, t2) = (TraceId::new(0, 1), TraceId::new(0xabcd, 2));
    let everything = SpanFilter {
        start_max: u64::MAX,
        ..SpanFilter::default()
    };
    type Case<'a> = (Vec<(&'a str, &'a str)>, Vec<TraceId>);
    let cases: Vec<Case<'_>> = vec![
        (vec![("hostname", "h1")], vec![t1]),
        (vec![("event", "retry")], vec![t1]),
        (vec![("link.kind", "batch")], vec![t2]),
        (vec![("library.language", "rust")], vec![t1]),
        (vec![("pid", "42")], vec![t1]),
        (vec![("span.kind", "server"), ("event", "retry")], vec![t1]),
        (vec![("hostname", "h2")], vec![]),
        (
            vec![("span.kind", "server"), ("link.kind", "batch")],
            vec![],
        ),
        (vec![("link.kind", "retry")], vec![]),
    ];
    for (tags, want) in cases {
        let f = SpanFilter {
            tags: tags.clone(),
            ..everything.clone()
        };
        assert_eq!(search(bytes, &f), want, "{tags:?}");
    }
}

#[test]
fn every_attribute_place_is_searchable_in_a_fresh_block() {
    let block = write_block(group_by_trace(fixture()), &BlockOptions::default());
    check_attribute_places(&block.bytes);
}

#[test]
fn pages_split_between_traces_and_each_holds_whole_traces() {
    let p = Arc::new(Process::new("svc"));
    let spans: Vec<Span> = (0..100u64)
        .flat_map(|t| {
            let p = p.clone();
            (0..3u64).map(move |i| {
                let mut s = Span::new(TraceId::new(0, t + 1), SpanId(i + 1), "op", p.clone());
                s.start_time = T0 + t * 1000;
                s
            })
        })
        .collect();
    let opts = BlockOptions {
        page_spans: 10,
        ..BlockOptions::default()
    };
    let block = write_block(group_by_trace(spans), &opts);
    assert_eq!(block.index.pages.len(), 25);
    assert!(
        block
            .index
            .pages
            .iter()
            .all(|p| p.spans == 12 && p.traces == 4)
    );
    assert_eq!(block.index.pages_for(TraceId::new(0, 50)), vec![12]);
    assert!(block.index.pages_for(TraceId::new(7, 7)).is_empty());
}

#[test]
fn a_block_taken_out_page_by_page_is_the_same_file() {
    // The store uploads finished pages while it encodes the rest: the
    // pieces, put together, must be exactly the block written whole.
    let p = Arc::new(Process::new("svc"));
    let spans: Vec<Span> = (0..60u64)
        .flat_map(|t| {
            let p = p.clone();
            (0..3u64).map(move |i| {
                let mut s = Span::new(TraceId::new(0, t + 1), SpanId(i + 1), "op", p.clone());
                s.start_time = T0 + t * 1000;
                s.tags.push(KeyValue::string("k", format!("v{}", t % 7)));
                s
            })
        })
        .collect();
    let opts = BlockOptions {
        page_spans: 10,
        ..BlockOptions::default()
    };
    let whole = write_block(group_by_trace(spans.clone()), &opts);
    let mut w = clew_segment::BlockWriter::new(opts);
    let mut file = Vec::new();
    for (i, t) in group_by_trace(spans).into_iter().enumerate() {
        w.push(t);
        if i % 3 == 0 {
            file.extend(w.take_bytes());
        }
    }
    let tail = w.finish();
    assert_eq!(tail.offset, file.len() as u64);
    assert!(tail.tables_bytes().is_some());
    file.extend(&tail.bytes);
    assert_eq!(tail.file_len(), file.len() as u64);
    assert_eq!(file, whole.bytes);
    assert_eq!(decode_block(&file).expect("decodes").traces.len(), 60);
}

#[test]
fn every_flipped_byte_is_an_error_not_a_panic_or_wrong_data() {
    let block = write_block(group_by_trace(fixture()), &BlockOptions::default());
    let good = decode_block(&block.bytes).expect("decodes");
    for i in 0..block.bytes.len() {
        let mut bad = block.bytes.clone();
        bad[i] ^= 0x5a;
        if let Ok(b) = decode_block(&bad) {
            // Only bytes no checksum covers may be flipped harmlessly
            // (the footer's reserved word), and then the data is intact.
            assert_eq!(b.traces, good.traces, "byte {i} changed data silently");
        }
    }
}

#[test]
fn a_truncated_block_is_reported() {
    let block = write_block(group_by_trace(fixture()), &BlockOptions::default());
    let cut = &block.bytes[..block.bytes.len() - 3];
    assert!(decode_block(cut).is_err());
    assert!(matches!(Footer::range(10), Err(SegmentError::Truncated(_))));
}

#[test]
fn a_batch_round_trips_with_arrival_order_per_trace() {
    let traces = group_by_trace(fixture());
    let bytes = encode_batch(&traces);
    let back = decode_batch(bytes.into()).expect("decodes");
    assert_eq!(back, traces);
}

prop_compose! {
    fn arb_span()(
        trace in 1u64..4, id in 1u64..6, parent in proptest::option::of(1u64..6),
        op in "[a-d]{1,3}", svc in "[a-b]", start in any::<u32>(), dur in any::<u32>(),
        micros in any::<bool>(),
        tags in proptest::collection::vec(("[k-m]{1,2}", arb_value()), 0..4),
        log in proptest::option::of(any::<i32>()),
        scope in proptest::option::of(("[s-t]", arb_value())),
    ) -> Span {
        let mut s = Span::new(TraceId::new(trace % 2, trace), SpanId(id), op, Arc::new(Process::new(svc)));
        let scale = if micros { 1000 } else { 1 };
        s.start_time = T0 + u64::from(start) * scale;
        s.duration = u64::from(dur) * scale;
        if let Some(p) = parent {
            s.references.push(Reference::child_of(s.trace_id, SpanId(p)));
        }
        s.tags = tags.into_iter().map(|(k, v)| KeyValue::new(k, v)).collect();
        if let Some((k, v)) = scope {
            s.scope = Some(Arc::new(Scope { attributes: vec![KeyValue::new(k, v)] }));
        }
        if let Some(d) = log {
            s.logs.push(Log { timestamp: s.start_time.wrapping_add(d as u64), fields: vec![KeyValue::string("event", "e")] });
        }
        s
    }
}

/// `clew_store::TraceSummary::of`'s rules, on decoded spans: what the
/// column summaries must agree with. The root is the earliest span with no
/// parent (none: empty names), an orphan a span whose parent is not in the
/// trace, services are counted by name.
fn summary_of(id: TraceId, spans: &[Span]) -> clew_segment::PageTraceSummary {
    let ids: std::collections::HashSet<SpanId> = spans.iter().map(|s| s.span_id).collect();
    let root = spans
        .iter()
        .filter(|s| s.parent_span_id().is_none())
        .min_by_key(|s| s.start_time);
    let orphans = spans
        .iter()
        .filter(|s| s.parent_span_id().is_some_and(|p| !ids.contains(&p)))
        .count();
    let mut by_name: std::collections::BTreeMap<clew_model::Str, (u64, u64)> = Default::default();
    for s in spans {
        let c = by_name.entry(s.process.service_name.clone()).or_default();
        c.0 += 1;
        c.1 += u64::from(s.is_error());
    }
    clew_segment::PageTraceSummary {
        id,
        start: spans.iter().map(|s| s.start_time).min().unwrap_or(0),
        end: spans.iter().map(|s| s.end_time()).max().unwrap_or(0),
        spans: spans.len() as u64,
        errors: spans.iter().filter(|s| s.is_error()).count() as u64,
        orphans: orphans as u64,
        root_service: root
            .map(|r| r.process.service_name.clone())
            .unwrap_or_default(),
        root_operation: root.map(|r| r.operation_name.clone()).unwrap_or_default(),
        services: by_name
            .into_iter()
            .map(|(service, (spans, errors))| clew_segment::ServiceCounts {
                service,
                spans,
                errors,
            })
            .collect(),
    }
}

prop_compose! {
    /// A span with maybe an `error` tag (bool, or a string that is or is
    /// not "true", maybe twice), maybe a link to another trace, and maybe
    /// a host tag on its process (two processes of one service).
    fn arb_summary_span()(
        mut s in arb_span(),
        error in proptest::option::of(0u8..4),
        twice in any::<bool>(),
        foreign in any::<bool>(),
        host in proptest::option::of(0u8..2),
    ) -> Span {
        if let Some(h) = host {
            s.process = Arc::new(Process {
                service_name: s.process.service_name.clone(),
                tags: vec![KeyValue::string("host", format!("h{h}"))],
            });
        }
        if let Some(e) = error {
            let v = match e {
                0 => Value::Bool(true),
                1 => Value::Bool(false),
                2 => Value::Str("true".into()),
                _ => Value::Str("false".into()),
            };
            s.tags.insert(0, KeyValue::new("error", v));
            if twice {
                s.tags.push(KeyValue::new("error", Value::Bool(e % 2 == 1)));
            }
        }
        if foreign {
            s.references.insert(0, Reference::child_of(TraceId::new(9, 9), SpanId(77)));
        }
        s
    }
}

proptest! {
    #[test]
    fn page_summaries_agree_with_the_decoded_spans(
        spans in proptest::collection::vec(arb_summary_span(), 1..30),
        page in 1usize..8,
    ) {
        let opts = BlockOptions { page_spans: page, ..BlockOptions::default() };
        let block = write_block(group_by_trace(spans), &opts);
        let back = decode_block(&block.bytes).expect("decodes");
        let r = block.index.tables.range();
        let tables = read_tables(&block.index, &block.bytes[r.start as usize..r.end as usize]).expect("tables");
        let all = SpanFilter { start_max: u64::MAX, ..SpanFilter::default() };
        let mut got = Vec::new();
        for p in &block.index.pages {
            let stored = &block.bytes[p.section.range().start as usize..p.section.range().end as usize];
            got.extend(read_page_summaries(p, stored, &tables, &all).expect("reads").expect("v3 page"));
        }
        let want: Vec<_> = back.traces.iter().map(|t| summary_of(t.id, &t.spans)).collect();
        prop_assert_eq!(got, want);
    }
}

proptest! {
    #[test]
    fn any_spans_round_trip_through_a_block(spans in proptest::collection::vec(arb_span(), 0..30), page in 1usize..8) {
        let opts = BlockOptions { page_spans: page, ..BlockOptions::default() };
        let traces = group_by_trace(spans);
        let block = write_block(traces.clone(), &opts);
        let back = decode_block(&block.bytes).expect("decodes");
        let mut want = traces;
        want.sort_by_key(|t| (t.spans.iter().map(|s| s.start_time).min(), t.id));
        prop_assert_eq!(&back.traces, &want);
        // Reading one trace passes over the others without building them
        // (whole traces at a time where the page allows): it must land on
        // exactly the spans a full decode gives.
        let r = block.index.tables.range();
        let tables = read_tables(&block.index, &block.bytes[r.start as usize..r.end as usize]).expect("tables");
        for t in &want {
            let mut got = Vec::new();
            for i in block.index.pages_for(t.id) {
                let p = &block.index.pages[i];
                let r = p.section.range();
                got.extend(read_page(p, &block.bytes[r.start as usize..r.end as usize], &tables, &|id| id == t.id).expect("page"));
            }
            prop_assert_eq!(got, vec![t.clone()]);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode_block(&bytes);
        let _ = decode_batch(bytes.clone().into());
        let mut framed = b"CLEWBLK\0".to_vec();
        framed.extend_from_slice(&bytes);
        let _ = decode_block(&framed);
    }
}

#[test]
fn a_tag_search_on_repeated_values_finds_exactly_the_traces_holding_them() {
    // Values repeat, so they sit in the tables and the search goes through
    // the trace pair stream (format v3).
    let p = Arc::new(Process {
        service_name: "svc".into(),
        tags: vec![KeyValue::string("host", "a")],
    });
    let colors = ["red", "green", "blue", "grey", "pink"];
    let spans: Vec<Span> = (0..60u64)
        .flat_map(|t| {
            let p = p.clone();
            (0..3u64).map(move |i| {
                let mut s = Span::new(TraceId::new(7, t), SpanId(t * 10 + i), "op", p.clone());
                s.start_time = T0 + t * 1000 + i;
                if i == 2 && t < 4 {
                    s.tags = vec![KeyValue::string("batch", "first")];
                }
                if i == 1 {
                    s.tags = vec![KeyValue::string("color", colors[(t % 5) as usize])];
                    s.logs = vec![Log {
                        timestamp: s.start_time,
                        fields: vec![KeyValue::string("event", ["a", "b"][(t % 2) as usize])],
                    }];
                }
                s
            })
        })
        .collect();
    let opts = BlockOptions {
        page_spans: 32,
        ..BlockOptions::default()
    };
    let block = write_block(group_by_trace(spans), &opts);
    assert!(block.index.pages.len() > 3);
    let everything = SpanFilter {
        start_max: u64::MAX,
        ..SpanFilter::default()
    };
    let find = |tags: Vec<(&str, &str)>| {
        let f = SpanFilter {
            tags,
            ..everything.clone()
        };
        let mut got: Vec<u64> = search(&block.bytes, &f).iter().map(|t| t.low).collect();
        got.sort_unstable();
        got
    };
    let traces = |pick: &dyn Fn(u64) -> bool| (0..60u64).filter(|&t| pick(t)).collect::<Vec<_>>();
    assert_eq!(find(vec![("color", "red")]), traces(&|t| t % 5 == 0));
    assert_eq!(
        find(vec![("color", "red"), ("event", "a")]),
        traces(&|t| t % 10 == 0)
    );
    assert_eq!(
        find(vec![("event", "b"), ("host", "a")]),
        traces(&|t| t % 2 == 1)
    );
    assert!(find(vec![("color", "black")]).is_empty());
    assert!(find(vec![("color", "a")]).is_empty());
    assert_eq!(find(vec![("batch", "first")]), vec![0, 1, 2, 3]);
    // The index and tables alone rule out the pages without the pair.
    let r = block.index.tables.range();
    let tables =
        read_tables(&block.index, &block.bytes[r.start as usize..r.end as usize]).expect("tables");
    let holding: Vec<bool> = block
        .index
        .pages
        .iter()
        .map(|p| page_may_hold_tags(p, &tables, &[("batch", "first")]))
        .collect();
    assert!(
        holding[0] && holding[1..].iter().all(|&h| !h),
        "{holding:?}"
    );
    assert!(
        block
            .index
            .pages
            .iter()
            .all(|p| page_may_hold_tags(p, &tables, &[("color", "red")]))
    );
}

#[test]
fn pages_of_new_strings_close_before_page_spans() {
    // Every span carries a 1 KB value seen nowhere else: pages close by
    // bytes (about 256 KB of new strings), not after 4,096 spans.
    let p = Arc::new(Process::new("svc"));
    let spans: Vec<Span> = (0..1000u64)
        .map(|i| {
            let mut s = Span::new(TraceId::new(1, i), SpanId(i + 1), "op", p.clone());
            s.start_time = T0 + i;
            s.tags = vec![KeyValue::string(
                "blob",
                format!("{i:04}{}", "x".repeat(1020)),
            )];
            s
        })
        .collect();
    let block = write_block(group_by_trace(spans.clone()), &BlockOptions::default());
    assert!(
        block.index.pages.len() >= 3,
        "{} pages",
        block.index.pages.len()
    );
    assert!(block.index.pages.iter().all(|p| p.spans <= 300));
    let back = decode_block(&block.bytes).expect("decodes");
    assert_eq!(spans_of(&back.traces), spans);
}

/// Writes `batches` (each a list of spans, as a WAL record would hold
/// them) as one block twice: decoding every span and pushing the traces
/// (the old cut, and compaction's way), and through `push_raw` (the cut's
/// way). Answers both files.
fn block_both_ways(batches: Vec<Vec<Span>>, opts: &BlockOptions) -> (Vec<u8>, Vec<u8>) {
    use clew_segment::{Batch, BlockWriter};
    let parsed: Vec<Arc<Batch>> = batches
        .into_iter()
        .filter(|b| !b.is_empty())
        .map(|spans| {
            let bytes = encode_batch(&group_by_trace(spans));
            Arc::new(Batch::parse(bytes.into()).expect("batch parses"))
        })
        .collect();
    let mut raw = BlockWriter::new(opts.clone());
    let mut parts: std::collections::HashMap<TraceId, Vec<(u32, u32)>> = Default::default();
    let mut decoded: Vec<Vec<TraceSpans>> = Vec::new();
    for b in &parsed {
        let src = raw.add_source(b.clone()).expect("source opens");
        for (pos, id) in raw.source_traces(src).enumerate() {
            parts.entry(id).or_default().push((src, pos as u32));
        }
        let traces: Vec<TraceSpans> = b
            .decode(&|_| true)
            .expect("decodes")
            .into_iter()
            .filter(|t| !t.spans.is_empty())
            .collect();
        assert_eq!(traces.len(), raw.source_traces(src).count());
        decoded.push(traces);
    }
    let mut order: Vec<_> = parts
        .into_iter()
        .map(|(id, p)| raw.raw_trace(id, p).expect("parts"))
        .collect();
    order.sort_by_key(|t| (t.start(), t.id()));
    let mut plain = BlockWriter::new(opts.clone());
    for t in order {
        let spans: Vec<Span> = parsed
            .iter()
            .enumerate()
            .flat_map(|(b, _)| decoded[b].iter().filter(|x| x.id == t.id()))
            .flat_map(|x| x.spans.clone())
            .collect();
        let start = spans.iter().map(|s| s.start_time).min();
        assert_eq!(start, Some(t.start()));
        plain.push(TraceSpans { id: t.id(), spans });
        raw.push_raw(t).expect("raw push");
    }
    assert!(raw.failed().is_none());
    (plain.finish().bytes, raw.finish().bytes)
}

#[test]
fn the_cut_writes_the_bytes_decoding_would_write() {
    // Every column, and a trace whose spans are spread over batches so
    // its parents (by index in one batch, explicit in another) and start
    // are re-based on the merged trace.
    let spans = common::fixture_with_late_span();
    for split in 0..spans.len() {
        let (a, b) = spans.split_at(split);
        for page_spans in [1, 2, 4096] {
            let opts = BlockOptions {
                page_spans,
                ..BlockOptions::default()
            };
            let (plain, raw) = block_both_ways(vec![a.to_vec(), b.to_vec()], &opts);
            assert_eq!(plain, raw, "split at {split}, pages of {page_spans}");
            let back = decode_block(&raw).expect("decodes");
            assert_eq!(spans_of(&back.traces).len(), spans.len());
        }
    }
}

#[test]
fn the_cut_writes_strings_seen_once_in_place_as_decoding_would() {
    let batches = common::one_off_string_spans();
    for page_spans in [3, 4096] {
        let opts = BlockOptions {
            page_spans,
            ..BlockOptions::default()
        };
        let (plain, raw) = block_both_ways(batches.clone(), &opts);
        assert_eq!(plain, raw, "pages of {page_spans}");
    }
}

proptest! {
    #[test]
    fn the_cut_writes_the_bytes_decoding_would_write_for_any_spans(
        spans in proptest::collection::vec(arb_span(), 1..40),
        cuts in proptest::collection::vec(0usize..40, 0..4),
        page in 1usize..8,
    ) {
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(spans.len())).collect();
        cuts.sort_unstable();
        let mut batches = Vec::new();
        let mut from = 0;
        for c in cuts.into_iter().chain([spans.len()]) {
            batches.push(spans[from..c.max(from)].to_vec());
            from = c.max(from);
        }
        let opts = BlockOptions { page_spans: page, ..BlockOptions::default() };
        let (plain, raw) = block_both_ways(batches, &opts);
        prop_assert_eq!(plain, raw);
    }
}

proptest! {
    /// A WAL record that passes its checksum but holds wrong bytes (a bug,
    /// or a disk that lies) must make the cut's transcoding fail with an
    /// error — never panic, never loop — whichever byte is wrong.
    #[test]
    fn a_damaged_batch_is_an_error_for_the_cut_never_a_panic(at in any::<prop::sample::Index>(), xor in 1u8..=255) {
        use clew_segment::{Batch, BlockWriter};
        let mut bytes = encode_batch(&group_by_trace(fixture()));
        let i = at.index(bytes.len());
        bytes[i] ^= xor;
        let Ok(batch) = Batch::parse(bytes.into()) else { return Ok(()) };
        let mut w = BlockWriter::new(BlockOptions { page_spans: 2, ..BlockOptions::default() });
        let Ok(src) = w.add_source(Arc::new(batch)) else { return Ok(()) };
        let ids: Vec<TraceId> = w.source_traces(src).collect();
        for (pos, id) in ids.into_iter().enumerate() {
            let Ok(t) = w.raw_trace(id, vec![(src, pos as u32)]) else { continue };
            if w.push_raw(t).is_err() {
                break;
            }
        }
        let _ = w.try_finish();
    }

    /// The service-graph reader of a damaged batch errs or reads something;
    /// it never panics.
    #[test]
    fn a_damaged_batch_never_panics_the_dependency_reader(at in any::<prop::sample::Index>(), xor in 1u8..=255) {
        use clew_segment::Batch;
        let mut bytes = encode_batch(&group_by_trace(fixture()));
        let i = at.index(bytes.len());
        bytes[i] ^= xor;
        let Ok(batch) = Batch::parse(bytes.into()) else { return Ok(()) };
        let _ = batch.dependency_spans();
    }
}

/// The service graph's column reader gives, for every span of every page
/// and of a WAL batch, what the decoded span says (parent as
/// `Span::parent_span_id` reads it, service, start), in page order.
fn dependency_spans_agree(spans: Vec<Span>, page: usize) -> Result<(), TestCaseError> {
    use clew_segment::{Batch, DepSpan, TraceDeps, read_page_dependency_spans};
    let deps = |traces: &[TraceSpans]| -> Vec<TraceDeps> {
        traces
            .iter()
            .map(|t| TraceDeps {
                id: t.id,
                spans: t.spans.iter().map(DepSpan::of).collect(),
            })
            .collect()
    };
    let opts = BlockOptions {
        page_spans: page,
        ..BlockOptions::default()
    };
    let traces = group_by_trace(spans);
    let block = write_block(traces.clone(), &opts);
    let back = decode_block(&block.bytes).expect("decodes");
    let r = block.index.tables.range();
    let tables =
        read_tables(&block.index, &block.bytes[r.start as usize..r.end as usize]).expect("tables");
    let mut got = Vec::new();
    for p in &block.index.pages {
        let r = p.section.range();
        let stored = &block.bytes[r.start as usize..r.end as usize];
        got.extend(
            read_page_dependency_spans(p, stored, &tables)
                .expect("reads")
                .expect("v3 page"),
        );
    }
    prop_assert_eq!(got, deps(&back.traces));
    let batch = Batch::parse(encode_batch(&traces).into()).expect("batch parses");
    let decoded = batch.decode(&|_| true).expect("decodes");
    let read = batch.dependency_spans().expect("reads").expect("v2 batch");
    prop_assert_eq!(read, deps(&decoded));
    Ok(())
}

proptest! {
    #[test]
    fn dependency_spans_agree_with_the_decoded_spans(
        spans in proptest::collection::vec(arb_span(), 1..30),
        page in 1usize..8,
    ) {
        dependency_spans_agree(spans, page)?;
    }

    /// Foreign and several references (the explicit-parent column).
    #[test]
    fn dependency_spans_agree_on_explicit_references(
        spans in proptest::collection::vec(arb_summary_span(), 1..30),
        page in 1usize..8,
    ) {
        dependency_spans_agree(spans, page)?;
    }
}
