//! Conformance: trace summaries are what [`TraceSummary::of`] gives for the
//! whole stored trace, however the backend computes them (from whole traces,
//! from index columns) and however the trace arrived (one write or several,
//! which a persistent backend may keep in different places).

use std::sync::Arc;

use clew_model::{KeyValue, Process, Reference, Span, SpanId, TraceId};

use super::fixtures::{MS, T0, found, process, query_all, span, tag, write};
use crate::query::{SearchedSummaries, ServiceSummary, TraceQuery, TraceSummary};
use crate::{TraceReader, TraceWriter};

fn child(trace: u64, id: u64, parent: u64, op: &str, p: &Arc<Process>, start_ms: u64) -> Span {
    let mut s = span(trace, id, op, p, start_ms, 10);
    s.references
        .push(Reference::child_of(TraceId::new(0, trace), SpanId(parent)));
    s
}

fn with_tag(mut s: Span, kv: KeyValue) -> Span {
    s.tags.push(kv);
    s
}

/// Five traces in three writes:
///
/// * 1: frontend root → backend (error) → db; a backend span of another
///   host whose parent never arrived (`error="true"` as a string);
/// * 2: no span without a parent (its root is missing);
/// * 3: a root and a child, then a later backend error, then an orphan,
///   one write each;
/// * 4: one span, `error=false`;
/// * 0xab…5: a 128-bit trace ID.
async fn write_fixture<S: TraceWriter>(store: &S) {
    let fe = process("frontend", vec![]);
    let be = process("backend", vec![]);
    let be2 = process("backend", vec![KeyValue::string("host", "be-2")]);
    let db = process("db", vec![]);
    let mut wide = span(5, 1, "wide", &fe, 40, 1);
    wide.trace_id = TraceId::new(0xab, 5);
    write(
        store,
        vec![
            span(1, 1, "GET /", &fe, 0, 100),
            with_tag(
                child(1, 2, 1, "query", &be, 10),
                KeyValue::bool("error", true),
            ),
            child(1, 3, 2, "SELECT", &db, 12),
            with_tag(
                child(1, 4, 99, "late", &be2, 30),
                KeyValue::string("error", "true"),
            ),
            child(2, 7, 5, "part-a", &fe, 20),
            child(2, 8, 7, "part-b", &be, 21),
            span(3, 1, "cron", &be, 50, 20),
            child(3, 2, 1, "step", &be, 51),
            wide,
        ],
    )
    .await;
    write(
        store,
        vec![
            with_tag(
                child(3, 3, 1, "retry", &fe, 60),
                KeyValue::bool("error", true),
            ),
            with_tag(
                span(4, 1, "alone", &db, 70, 1),
                KeyValue::bool("error", false),
            ),
        ],
    )
    .await;
    write(store, vec![child(3, 4, 42, "stray", &db, 55)]).await;
}

async fn search<S: TraceReader>(store: &S, q: &TraceQuery) -> SearchedSummaries {
    match store.search_trace_summaries(q).await {
        Ok(s) => s,
        Err(e) => panic!("search_trace_summaries failed: {e}"),
    }
}

/// Checks the summaries of `q` against the whole traces; returns them.
async fn summaries_match<S: TraceReader>(
    store: &S,
    q: &TraceQuery,
    what: &str,
) -> Vec<TraceSummary> {
    let got = search(store, q).await;
    assert!(got.complete, "{what}: no deadline, complete");
    assert!(!got.cut_at_max_bytes, "{what}: no byte bound, not cut");
    let ids: Vec<u64> = got.summaries.iter().map(|s| s.trace_id.low).collect();
    assert_eq!(
        ids,
        found(store, q).await,
        "{what}: the traces find_traces returns, in order"
    );
    for sum in &got.summaries {
        let trace = store.get_trace(sum.trace_id).await.ok().flatten();
        let whole = trace.and_then(|t| TraceSummary::of(&t.spans));
        assert_eq!(
            Some(sum),
            whole.as_ref(),
            "{what}: the whole trace's summary"
        );
    }
    match store.find_trace_summaries(q).await {
        Ok(list) => assert_eq!(list, got.summaries, "{what}: find_trace_summaries agrees"),
        Err(e) => panic!("find_trace_summaries failed: {e}"),
    }
    got.summaries
}

pub(super) async fn summaries_are_those_of_the_whole_traces<S: TraceWriter + TraceReader>(
    store: S,
) {
    write_fixture(&store).await;
    let all = summaries_match(&store, &query_all(), "all").await;
    assert_eq!(all.len(), 5, "every trace summarised");
    let mut q = query_all();
    q.service = Some("db".into());
    summaries_match(&store, &q, "service").await;
    q.service = None;
    q.tags = vec![tag("error", "true")];
    summaries_match(&store, &q, "tag").await;
    q = query_all();
    q.limit = 2;
    summaries_match(&store, &q, "limit").await;

    // The rules, spelled out on the trace written in three parts.
    let three = all.iter().find(|s| s.trace_id.low == 3);
    let service = |name: &str, span_count: u64, error_count: u64| ServiceSummary {
        name: name.into(),
        span_count,
        error_count,
    };
    assert_eq!(
        three,
        Some(&TraceSummary {
            trace_id: TraceId::new(0, 3),
            root_service: "backend".into(),
            root_operation: "cron".into(),
            start: T0 + 50 * MS,
            duration: 20 * MS,
            span_count: 4,
            error_count: 1,
            orphan_count: 1,
            services: vec![
                service("backend", 2, 0),
                service("db", 1, 0),
                service("frontend", 1, 1)
            ],
        }),
        "a trace written in parts is summarised whole"
    );
    let one = all.iter().find(|s| s.trace_id.low == 1);
    assert_eq!(
        one.map(|s| (s.error_count, s.orphan_count, &s.services[0])),
        Some((2, 1, &service("backend", 2, 2))),
        "two processes of one service count as one; string and bool errors count"
    );
    let two = all.iter().find(|s| s.trace_id.low == 2);
    assert_eq!(
        two.map(|s| (s.root_service.as_str(), s.orphan_count)),
        Some(("", 1)),
        "an orphan is not promoted to root"
    );

    // Bounds: a byte bound may only cut a backend that builds whole
    // traces, and says so; an answer past the deadline that claims to be
    // complete is the whole answer.
    let mut q = query_all();
    q.max_bytes = Some(1);
    let bounded = search(&store, &q).await;
    assert!(
        bounded.summaries == all
            || (bounded.cut_at_max_bytes && all.starts_with(&bounded.summaries)),
        "max_bytes: every summary, or the first ones marked cut"
    );
    let mut q = query_all();
    q.deadline = Some(std::time::Instant::now());
    let late = search(&store, &q).await;
    assert!(
        !late.complete || late.summaries == all,
        "deadline: a complete answer is the whole answer"
    );
}
