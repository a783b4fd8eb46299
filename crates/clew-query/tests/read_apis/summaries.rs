//! `/api/v3/trace-summaries` over every store shape: the memory store, the
//! disk store with everything in its head, and the disk store with traces
//! in a block (one split across the block and the head) behind the
//! heavy-read limiter. The endpoint answers from the stores' summaries;
//! the golden file holds what it answered when it still summarised whole
//! traces (taken from that implementation), so the switch changed nothing
//! a client sees — except which warning a response cut at
//! `query.max_response_bytes` carries: a store that builds no whole traces
//! no longer stops reading at the cap, so the cut is made, and said, when
//! the summaries are rendered.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use clew_model::{KeyValue, Process, Span, TraceId};
use clew_query::{QueryLimits, QueryMetrics, QueryState};
use clew_store::{
    ConcurrencyLimitedReader, DiskStore, DiskStoreConfig, MemoryStore, MemoryStoreConfig,
    TraceReader, TraceWriter, WalSync,
};
use prometheus_client::registry::Registry;
use tower::ServiceExt;

use crate::fixture::{child, span};

/// T0 − 1 s … T0 + 60 s.
const WINDOW: &str =
    "query.startTimeMin=2023-11-14T22:13:19Z&query.startTimeMax=2023-11-14T22:14:20Z";

fn error(mut s: Span, value: KeyValue) -> Span {
    s.tags.push(value);
    s
}

/// The fixture in the writes that store it, oldest first:
///
/// * 0xa1: frontend root → backend (error) → db, and a backend span whose
///   parent never arrived (`error="true"` as a string), ending last;
/// * 0xb2: no span without a parent — its root is missing;
/// * 0xc3: written in two parts, the second (an error, ending last) after
///   the first is stored;
/// * 0xfeed…d4 (128-bit): one span, `error=false`.
fn writes() -> [Vec<Span>; 2] {
    let fe = Arc::new(Process::new("frontend"));
    let be = Arc::new(Process::new("backend"));
    let db = Arc::new(Process::new("db"));
    let worker = Arc::new(Process::new("worker"));
    let (a, b, c) = (
        TraceId::new(0, 0xa1),
        TraceId::new(0, 0xb2),
        TraceId::new(0, 0xc3),
    );
    let d = TraceId::new(0xfeed, 0xd4);
    let first = vec![
        span(a, 1, "GET /", &fe, 0, 100),
        error(
            child(span(a, 2, "query", &be, 10, 50), 1),
            KeyValue::bool("error", true),
        ),
        child(span(a, 3, "SELECT", &db, 20, 5), 2),
        error(
            child(span(a, 4, "late", &be, 30, 200), 99),
            KeyValue::string("error", "true"),
        ),
        child(span(b, 7, "child-a", &fe, 300, 10), 5),
        child(span(b, 8, "child-b", &be, 305, 1), 7),
        span(c, 1, "cron", &worker, 500, 20),
        child(span(c, 2, "step", &worker, 505, 10), 1),
        error(
            span(d, 1, "alone", &fe, 700, 1),
            KeyValue::bool("error", false),
        ),
    ];
    let second = vec![error(
        child(span(c, 3, "retry", &be, 530, 5), 1),
        KeyValue::bool("error", true),
    )];
    [first, second]
}

fn state(reader: Arc<dyn TraceReader>, limits: QueryLimits) -> QueryState {
    let mut registry = Registry::with_prefix("clew");
    QueryState {
        reader,
        metrics: Arc::new(QueryMetrics::new(&mut registry)),
        limits,
    }
}

async fn memory() -> Arc<dyn TraceReader> {
    let store = MemoryStore::new(MemoryStoreConfig::default());
    for w in writes() {
        store.write_spans(w).await.expect("write");
    }
    Arc::new(store)
}

fn disk_config(dir: &tempfile::TempDir) -> DiskStoreConfig {
    let mut c = DiskStoreConfig::new(dir.path());
    c.maintenance_interval = None;
    c.wal_sync = WalSync::Never;
    c
}

/// Everything in the head.
async fn disk_head(dir: &tempfile::TempDir) -> Arc<dyn TraceReader> {
    let store = DiskStore::open(disk_config(dir)).await.expect("open");
    for w in writes() {
        store.write_spans(w).await.expect("write");
    }
    Arc::new(store)
}

/// The first write in a block, 0xc3's second part in the head (the trace
/// is split across both), behind the heavy-read limiter.
async fn disk_blocks(dir: &tempfile::TempDir) -> Arc<dyn TraceReader> {
    let store = DiskStore::open(disk_config(dir)).await.expect("open");
    let [first, second] = writes();
    store.write_spans(first).await.expect("write");
    store.flush().await.expect("flush");
    store.write_spans(second).await.expect("write");
    Arc::new(ConcurrencyLimitedReader::new(Arc::new(store), 1))
}

/// The body and `Warning` header of `uri`.
async fn ask(state: QueryState, uri: &str) -> (String, Option<String>) {
    let app = clew_query::router(state);
    let req = Request::get(uri).body(Body::empty()).expect("request");
    let resp = app.oneshot(req).await.expect("infallible");
    assert_eq!(resp.status(), StatusCode::OK, "{uri}");
    let warning = resp
        .headers()
        .get(header::WARNING)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let body = to_bytes(resp.into_body(), 1 << 20).await.expect("body");
    (String::from_utf8(body.to_vec()).expect("UTF-8"), warning)
}

/// Every question of the test, asked of `reader`, and the answers as the
/// golden file writes them: the request, its `Warning` header (`-` for
/// none) and its body, a line each.
async fn answers(reader: Arc<dyn TraceReader>) -> String {
    let plain = QueryLimits::default();
    let two = QueryLimits {
        max_traces: 2,
        ..QueryLimits::default()
    };
    let errors = "%7B%22error%22%3A%22true%22%7D";
    let asks = [
        (plain.clone(), WINDOW.to_string()),
        (plain.clone(), format!("{WINDOW}&query.serviceName=db")),
        (plain.clone(), format!("{WINDOW}&query.attributes={errors}")),
        (plain.clone(), format!("{WINDOW}&query.serviceName=nobody")),
        (two, format!("{WINDOW}&query.searchDepth=5")),
    ];
    let mut out = String::new();
    for (limits, q) in asks {
        let uri = format!("/api/v3/trace-summaries?{q}");
        let (body, warning) = ask(state(reader.clone(), limits), &uri).await;
        let warning = warning.unwrap_or_else(|| "-".into());
        out.push_str(&format!("GET {uri}\nWarning: {warning}\n{body}\n"));
    }
    out
}

/// The golden answers; `CLEW_UPDATE_GOLDEN=1` rewrites them from the
/// memory store's.
const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/trace-summaries.txt"
);

#[tokio::test]
async fn summaries_are_what_summarising_whole_traces_gave() {
    let mem = answers(memory().await).await;
    if std::env::var_os("CLEW_UPDATE_GOLDEN").is_some() {
        std::fs::write(GOLDEN, &mem).expect("write golden file");
    }
    let golden = std::fs::read_to_string(GOLDEN).expect("golden file");
    assert_eq!(mem, golden, "memory store");
    let dir = tempfile::tempdir().expect("temp dir");
    assert_eq!(answers(disk_head(&dir).await).await, golden, "disk head");
    let dir = tempfile::tempdir().expect("temp dir");
    assert_eq!(
        answers(disk_blocks(&dir).await).await,
        golden,
        "disk blocks"
    );
}
