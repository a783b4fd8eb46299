//! The conformance suite every backend must pass.
//!
//! Each check builds a fresh store from the caller's factory, writes a small
//! fixture and asserts one part of the [`TraceReader`] contract, so a failing
//! backend shows which rule it breaks. Checks panic with a message naming the
//! rule (this is test-support code; panicking is how a test reports).
//!
//! ```ignore
//! #[tokio::test]
//! async fn my_store_conforms() {
//!     clew_store::testsuite::run_conformance(|| MyStore::open_temp()).await;
//! }
//! ```

mod fixtures;
mod placement;
mod summaries;

use std::sync::Arc;

use clew_model::{KeyValue, Log, Process, Reference, Span, SpanId, TraceId};

pub use fixtures::{MS, T0, process, query_all, span};
use fixtures::{found, span_ids, tag, write};

use crate::query::{DependencyLink, Operation};
use crate::{TraceReader, TraceWriter};

/// Runs every conformance check, each against a fresh store from `make`.
pub async fn run_conformance<S: TraceWriter + TraceReader>(make: impl Fn() -> S) {
    get_trace_returns_spans_in_arrival_order(make()).await;
    spans_of_one_trace_written_in_several_batches_form_one_trace(make()).await;
    find_by_service_and_operation(make()).await;
    find_by_tag_in_span_process_and_log_fields(make()).await;
    all_tag_filters_must_match_on_one_span(make()).await;
    find_by_duration_bounds(make()).await;
    find_by_start_window(make()).await;
    find_orders_most_recent_first_and_honours_limit(make()).await;
    trace_ids_128_bit_are_distinct_from_their_low_half(make()).await;
    services_and_operations_with_kinds(make()).await;
    dependencies_count_cross_service_edges_in_window(make()).await;
    duplicate_span_ids_are_kept(make()).await;
    placement::tags_are_found_wherever_they_live(make()).await;
    placement::scope_and_link_attributes_alone_find_their_trace(make()).await;
    summaries::summaries_are_those_of_the_whole_traces(make()).await;
}

async fn get_trace_returns_spans_in_arrival_order<S: TraceWriter + TraceReader>(store: S) {
    let p = process("frontend", vec![]);
    write(
        &store,
        vec![
            span(1, 30, "c", &p, 2, 1),
            span(1, 10, "a", &p, 0, 5),
            span(1, 20, "b", &p, 1, 1),
        ],
    )
    .await;
    assert_eq!(
        span_ids(&store, TraceId::new(0, 1)).await,
        Some(vec![30, 10, 20]),
        "get_trace: arrival order"
    );
    assert_eq!(
        span_ids(&store, TraceId::new(0, 2)).await,
        None,
        "get_trace: unknown ID is None"
    );
    let t = store.get_trace(TraceId::new(0, 1)).await.ok().flatten();
    let first = t.as_ref().and_then(|t| t.spans.first());
    assert_eq!(
        first.map(|s| &*s.operation_name),
        Some("c"),
        "get_trace: span content kept"
    );
    assert_eq!(
        first.map(|s| s.start_time),
        Some(T0 + 2 * MS),
        "get_trace: start time kept"
    );
}

async fn spans_of_one_trace_written_in_several_batches_form_one_trace<
    S: TraceWriter + TraceReader,
>(
    store: S,
) {
    let p = process("frontend", vec![]);
    let q = process("backend", vec![]);
    write(
        &store,
        vec![span(1, 1, "a", &p, 0, 5), span(2, 9, "x", &p, 0, 5)],
    )
    .await;
    write(&store, vec![span(1, 2, "b", &q, 1, 1)]).await;
    assert_eq!(
        span_ids(&store, TraceId::new(0, 1)).await,
        Some(vec![1, 2]),
        "batches append to a trace"
    );
    assert_eq!(
        span_ids(&store, TraceId::new(0, 2)).await,
        Some(vec![9]),
        "other trace unaffected"
    );
    let stats = store.stats();
    assert_eq!(
        (stats.spans, stats.traces),
        (3, 2),
        "stats count spans and traces"
    );
}

async fn find_by_service_and_operation<S: TraceWriter + TraceReader>(store: S) {
    let fe = process("frontend", vec![]);
    let be = process("backend", vec![]);
    write(
        &store,
        vec![
            span(1, 1, "GET /", &fe, 0, 5),
            span(1, 2, "query", &be, 1, 1),
        ],
    )
    .await;
    write(&store, vec![span(2, 1, "GET /x", &fe, 10, 5)]).await;
    let mut q = query_all();
    q.service = Some("backend".into());
    assert_eq!(found(&store, &q).await, vec![1], "service filter");
    q.operation = Some("query".into());
    assert_eq!(
        found(&store, &q).await,
        vec![1],
        "service + operation filter"
    );
    q.operation = Some("GET /".into());
    assert!(
        found(&store, &q).await.is_empty(),
        "operation must belong to the service's span"
    );
    q.service = Some("frontend".into());
    q.operation = Some("GET /x".into());
    assert_eq!(found(&store, &q).await, vec![2], "operation filter");
    q.service = Some("nobody".into());
    q.operation = None;
    assert!(
        found(&store, &q).await.is_empty(),
        "unknown service finds nothing"
    );
    // A found trace comes back whole, not just the matching span.
    q.service = Some("backend".into());
    let traces = store.find_traces(&q).await.unwrap_or_default();
    assert_eq!(
        traces.first().map(|t| t.spans.len()),
        Some(2),
        "found traces are complete"
    );
}

async fn find_by_tag_in_span_process_and_log_fields<S: TraceWriter + TraceReader>(store: S) {
    let plain = process("svc", vec![]);
    let tagged = process("svc", vec![KeyValue::string("hostname", "h1")]);
    let mut s1 = span(1, 1, "op", &plain, 0, 1);
    s1.tags.push(KeyValue::i64("http.status_code", 500));
    s1.tags.push(KeyValue::bool("error", true));
    let s2 = span(2, 1, "op", &tagged, 1, 1);
    let mut s3 = span(3, 1, "op", &plain, 2, 1);
    s3.logs.push(Log {
        timestamp: T0 + 2 * MS,
        fields: vec![KeyValue::string("event", "retry")],
    });
    write(&store, vec![s1, s2, s3]).await;
    let mut q = query_all();
    q.tags = vec![tag("http.status_code", "500")];
    assert_eq!(
        found(&store, &q).await,
        vec![1],
        "int tag matches by text form"
    );
    q.tags = vec![tag("error", "true")];
    assert_eq!(
        found(&store, &q).await,
        vec![1],
        "bool tag matches by text form"
    );
    q.tags = vec![tag("hostname", "h1")];
    assert_eq!(found(&store, &q).await, vec![2], "process tags match");
    q.tags = vec![tag("event", "retry")];
    assert_eq!(found(&store, &q).await, vec![3], "log fields match");
    q.tags = vec![tag("http.status_code", "200")];
    assert!(
        found(&store, &q).await.is_empty(),
        "different value does not match"
    );
}

async fn all_tag_filters_must_match_on_one_span<S: TraceWriter + TraceReader>(store: S) {
    let p = process("svc", vec![KeyValue::string("region", "eu")]);
    let mut a = span(1, 1, "a", &p, 0, 1);
    a.tags.push(KeyValue::string("k1", "v1"));
    let mut b = span(1, 2, "b", &p, 1, 1);
    b.tags.push(KeyValue::string("k2", "v2"));
    let mut c = span(2, 1, "c", &p, 2, 1);
    c.tags.push(KeyValue::string("k1", "v1"));
    c.tags.push(KeyValue::string("k2", "v2"));
    write(&store, vec![a, b, c]).await;
    let mut q = query_all();
    q.tags = vec![tag("k1", "v1"), tag("k2", "v2")];
    assert_eq!(
        found(&store, &q).await,
        vec![2],
        "tag filters must hold on one span"
    );
    q.tags = vec![tag("k1", "v1"), tag("region", "eu")];
    assert_eq!(
        found(&store, &q).await,
        vec![2, 1],
        "span and process tags combine"
    );
}

async fn find_by_duration_bounds<S: TraceWriter + TraceReader>(store: S) {
    let p = process("svc", vec![]);
    write(
        &store,
        vec![
            span(1, 1, "op", &p, 0, 10),
            span(2, 1, "op", &p, 1, 20),
            span(3, 1, "op", &p, 2, 30),
        ],
    )
    .await;
    let mut q = query_all();
    q.duration_min = Some(20 * MS);
    assert_eq!(
        found(&store, &q).await,
        vec![3, 2],
        "min duration is inclusive"
    );
    q.duration_max = Some(20 * MS);
    assert_eq!(
        found(&store, &q).await,
        vec![2],
        "max duration is inclusive"
    );
    q.duration_min = None;
    assert_eq!(found(&store, &q).await, vec![2, 1], "max duration alone");
}

async fn find_by_start_window<S: TraceWriter + TraceReader>(store: S) {
    let p = process("svc", vec![]);
    write(
        &store,
        vec![
            span(1, 1, "op", &p, 0, 1),
            span(2, 1, "op", &p, 100, 1),
            span(3, 1, "op", &p, 200, 1),
        ],
    )
    .await;
    let mut q = query_all();
    q.start_min = T0 + 100 * MS;
    q.start_max = T0 + 200 * MS;
    assert_eq!(
        found(&store, &q).await,
        vec![3, 2],
        "start window is inclusive at both ends"
    );
    q.start_max = T0 + 199 * MS;
    assert_eq!(
        found(&store, &q).await,
        vec![2],
        "start_max excludes later spans"
    );
}

async fn find_orders_most_recent_first_and_honours_limit<S: TraceWriter + TraceReader>(store: S) {
    let p = process("svc", vec![]);
    // Written out of time order so arrival order cannot pass for time order.
    write(
        &store,
        vec![span(2, 1, "op", &p, 20, 1), span(1, 1, "op", &p, 10, 1)],
    )
    .await;
    write(
        &store,
        vec![span(4, 1, "op", &p, 40, 1), span(3, 1, "op", &p, 30, 1)],
    )
    .await;
    let mut q = query_all();
    assert_eq!(
        found(&store, &q).await,
        vec![4, 3, 2, 1],
        "most recent first"
    );
    q.limit = 2;
    assert_eq!(
        found(&store, &q).await,
        vec![4, 3],
        "limit keeps the most recent"
    );
    // The byte bound: reading stops at the trace whose size reaches it.
    q.limit = 100;
    let one = store
        .get_trace(TraceId::new(0, 4))
        .await
        .ok()
        .flatten()
        .map_or(0, |t| {
            t.spans.iter().map(Span::estimated_size).sum::<usize>()
        });
    q.max_bytes = Some(one + 1);
    assert_eq!(
        found(&store, &q).await,
        vec![4, 3],
        "max_bytes: the trace reaching the bound is the last"
    );
    q.max_bytes = Some(1);
    assert_eq!(
        found(&store, &q).await,
        vec![4],
        "max_bytes: the first trace always comes"
    );
}

async fn trace_ids_128_bit_are_distinct_from_their_low_half<S: TraceWriter + TraceReader>(
    store: S,
) {
    let p = process("svc", vec![]);
    let mut hi = span(5, 1, "high", &p, 0, 1);
    hi.trace_id = TraceId::new(0xabcd, 5);
    write(&store, vec![hi, span(5, 2, "low", &p, 1, 1)]).await;
    let got = store
        .get_trace(TraceId::new(0xabcd, 5))
        .await
        .ok()
        .flatten();
    let ops: Vec<String> = got
        .map(|t| {
            t.spans
                .iter()
                .map(|s| s.operation_name.to_string())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(ops, vec!["high".to_string()], "128-bit ID is its own trace");
    assert_eq!(
        span_ids(&store, TraceId::new(0, 5)).await,
        Some(vec![2]),
        "64-bit half is another trace"
    );
    let traces = store.find_traces(&query_all()).await.unwrap_or_default();
    assert_eq!(traces.len(), 2, "both traces found");
}

async fn services_and_operations_with_kinds<S: TraceWriter + TraceReader>(store: S) {
    let fe = process("frontend", vec![]);
    let be = process("backend", vec![]);
    let mut server = span(1, 1, "GET /", &fe, 0, 1);
    server.tags.push(KeyValue::string("span.kind", "server"));
    let mut client = span(1, 2, "GET /", &fe, 0, 1);
    client.tags.push(KeyValue::string("span.kind", "client"));
    let internal = span(1, 3, "render", &fe, 0, 1);
    let again = span(2, 1, "render", &fe, 0, 1);
    write(
        &store,
        vec![server, client, internal, span(1, 4, "db", &be, 0, 1)],
    )
    .await;
    write(&store, vec![again]).await;
    let services = store.services().await.unwrap_or_default();
    assert_eq!(
        services,
        vec!["backend".to_string(), "frontend".to_string()],
        "services sorted"
    );
    let op = |name: &str, kind: &str| Operation {
        name: name.into(),
        span_kind: kind.into(),
    };
    let all = store.operations("frontend", None).await.unwrap_or_default();
    assert_eq!(
        all,
        vec![
            op("GET /", "client"),
            op("GET /", "server"),
            op("render", "")
        ],
        "operations sorted by name then kind, deduplicated"
    );
    let servers = store
        .operations("frontend", Some("server"))
        .await
        .unwrap_or_default();
    assert_eq!(servers, vec![op("GET /", "server")], "span kind filter");
    let none = store.operations("nobody", None).await.unwrap_or_default();
    assert!(none.is_empty(), "unknown service has no operations");
}

async fn dependencies_count_cross_service_edges_in_window<S: TraceWriter + TraceReader>(store: S) {
    let fe = process("frontend", vec![]);
    let be = process("backend", vec![]);
    let db = process("db", vec![]);
    let child = |trace: u64, id: u64, parent: u64, p: &Arc<Process>, start_ms: u64| {
        let mut s = span(trace, id, "op", p, start_ms, 1);
        s.references
            .push(Reference::child_of(TraceId::new(0, trace), SpanId(parent)));
        s
    };
    write(
        &store,
        vec![
            span(1, 1, "root", &fe, 0, 10),
            child(1, 2, 1, &be, 1),
            child(1, 3, 1, &be, 2),
            child(1, 4, 2, &db, 3),
            child(1, 5, 2, &be, 4),  // same service: not a dependency
            child(1, 6, 99, &db, 5), // parent missing: not a dependency
        ],
    )
    .await;
    write(
        &store,
        vec![span(2, 1, "root", &fe, 1000, 10), child(2, 2, 1, &be, 1001)],
    )
    .await;
    let link = |p: &str, c: &str, n: u64| DependencyLink {
        parent: p.into(),
        child: c.into(),
        call_count: n,
    };
    let deps = store
        .dependencies(T0, T0 + 10 * MS)
        .await
        .unwrap_or_default();
    assert_eq!(
        deps,
        vec![link("backend", "db", 1), link("frontend", "backend", 2)],
        "dependencies in window, summed and sorted"
    );
    let deps = store
        .dependencies(T0, T0 + 2000 * MS)
        .await
        .unwrap_or_default();
    assert_eq!(
        deps,
        vec![link("backend", "db", 1), link("frontend", "backend", 3)],
        "wider window sums across traces"
    );
    let deps = store
        .dependencies(T0 + 5000 * MS, T0 + 6000 * MS)
        .await
        .unwrap_or_default();
    assert!(deps.is_empty(), "empty window has no dependencies");
}

async fn duplicate_span_ids_are_kept<S: TraceWriter + TraceReader>(store: S) {
    let client = process("frontend", vec![]);
    let server = process("backend", vec![]);
    write(
        &store,
        vec![
            span(1, 7, "call", &client, 0, 10),
            span(1, 7, "call", &server, 1, 8),
        ],
    )
    .await;
    let got = store.get_trace(TraceId::new(0, 1)).await.ok().flatten();
    let services: Vec<String> = got
        .map(|t| {
            t.spans
                .iter()
                .map(|s| s.process.service_name.to_string())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        services,
        vec!["frontend".to_string(), "backend".to_string()],
        "both spans with one ID are kept"
    );
}
