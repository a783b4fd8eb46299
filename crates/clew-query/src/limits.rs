//! What one query may cost: how many traces, how long, how many bytes.
//!
//! Every trace search (Jaeger HTTP, API v3 HTTP, both gRPC services, the
//! Zipkin read API) goes through [`search`] — or, for the summaries of API
//! v3's `trace-summaries`, [`search_summaries`] — and one of the `take_*`
//! helpers, so the three bounds hold everywhere:
//!
//! * **Trace count.** A request's `limit` (`searchDepth`, `limit` in
//!   Zipkin) is lowered to [`QueryLimits::max_traces`]; `limit=0`, which
//!   Jaeger passes to storage as "no limit", is lowered the same way. The
//!   answer says so: in `errors` for the Jaeger API, in a `Warning` header
//!   for API v3 and Zipkin, in `clew-warning` response metadata for gRPC.
//! * **Time.** The store gets [`QueryLimits::timeout_secs`]; if it has not
//!   answered by then the request fails with 503 (`UNAVAILABLE` over gRPC)
//!   and a JSON error naming the setting: nothing was found yet, so there is
//!   nothing partial to return. Once the store has answered, adjusting and
//!   rendering stop at the same deadline and return the traces done so far
//!   with a warning.
//! * **Bytes.** Rendering stops before the encoded traces pass
//!   [`QueryLimits::max_response_bytes`] (the first trace is always sent),
//!   again with a warning naming how many traces were left out.

use std::time::{Duration, Instant};

use clew_model::Trace;
use clew_store::{StoreError, TraceQuery, TraceReader, TraceSummary};
use serde::Deserialize;

use crate::adjust::adjust;

/// Jaeger UI's largest selectable search limit; the default server cap.
pub const DEFAULT_MAX_TRACES: usize = 1_500;
/// Default time budget of one query, in seconds.
pub const DEFAULT_QUERY_TIMEOUT_SECS: u64 = 10;
/// Default cap on the trace data in one response: 64 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 << 20;
/// Default nice value of the query APIs' threads: under contention a query
/// thread weighs about a third of an ingest thread at nice 0. In an A/B with
/// a search loop beside a full-speed sender, nice 5 kept as much ingest as
/// 10 (369 k and 381 k against 305 k spans/s at 0) and answered as many
/// searches as 0 (97 against 68 at 10 and 88 at 0); a higher value also lets
/// any other busy process on the host starve the UI.
pub const DEFAULT_QUERY_CPU_NICE: u8 = 5;
/// Default share of the machine's CPU (percent) the query threads may use
/// while ingest is busy. With a back-to-back search loop beside
/// full-speed ingest on two cores (bench-ingest `SEARCH_LOAD=1`, disk
/// store), 3 % kept 0.93–0.95 of HTTP thrift ingest and 0.92 of OTLP
/// (5 %: 0.89–0.90; unpaced at nice 5: 0.80–0.83) and still answered 7
/// searches a second (mean 131 ms).
pub const DEFAULT_QUERY_BUSY_CPU_PERCENT: u8 = 3;
/// The gRPC response metadata key that carries a limit warning.
pub const WARNING_METADATA_KEY: &str = "clew-warning";

/// Bounds on one query (the `[query]` section of the config file).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct QueryLimits {
    /// Most traces one search returns. A larger `limit`, or `0`, is lowered
    /// to this, with a warning in the response.
    pub max_traces: usize,
    /// Time budget of one query (store read, adjusting, rendering), seconds.
    pub timeout_secs: u64,
    /// Most bytes of encoded traces in one response; rendering stops before
    /// this, with a warning (the first trace is always returned whole).
    pub max_response_bytes: usize,
    /// Nice value (0–19) of the threads the query HTTP and gRPC APIs run
    /// on (a runtime of their own), so searches take the CPU ingest leaves
    /// over instead of halving ingest on a busy machine. 0 runs them at
    /// ingest's priority. Read by the binary that builds the runtimes.
    pub cpu_nice: u8,
    /// Percent (1–100) of the machine's CPU the query threads may use
    /// while ingest is busy (the rest of the process keeps 60 % of the cores
    /// or more busy); beyond it a search waits. 100 turns pacing off. Read
    /// by the binary that builds the runtimes.
    pub busy_cpu_percent: u8,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            max_traces: DEFAULT_MAX_TRACES,
            timeout_secs: DEFAULT_QUERY_TIMEOUT_SECS,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            cpu_nice: DEFAULT_QUERY_CPU_NICE,
            busy_cpu_percent: DEFAULT_QUERY_BUSY_CPU_PERCENT,
        }
    }
}

impl QueryLimits {
    /// The time budget as a [`Duration`].
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    /// Lowers `query.limit` to [`Self::max_traces`] (`0` = "every trace" is
    /// lowered too); returns the warning to show when it did.
    pub fn cap(&self, query: &mut TraceQuery) -> Option<String> {
        let max = self.max_traces;
        let asked = query.limit;
        if asked != 0 && asked <= max {
            return None;
        }
        query.limit = max;
        Some(if asked == 0 {
            format!(
                "limit 0 asks for every matching trace; returning at most {max} \
                 (the server's query.max_traces)"
            )
        } else {
            format!(
                "limit {asked} is above the server's maximum of {max} traces \
                 (query.max_traces); returning at most {max}"
            )
        })
    }
}

/// Why a bounded search returned no traces.
#[derive(Debug)]
pub enum SearchError {
    /// The store failed.
    Store(StoreError),
    /// The store did not answer within the time budget.
    TimedOut(Duration),
}

impl SearchError {
    /// The message of [`SearchError::TimedOut`], naming the setting.
    pub fn timeout_message(budget: Duration) -> String {
        format!(
            "the query did not finish within its time budget of {} s (query.timeout_secs); \
             narrow the search (service, operation, time window) or raise the budget",
            budget.as_secs()
        )
    }
}

/// Traces found by [`search`], with the warnings to pass on.
#[derive(Debug, Default)]
pub struct Found {
    /// Adjusted (unless raw) traces, most recent first.
    pub traces: Vec<Trace>,
    /// Human-readable notes on limits that changed the answer.
    pub warnings: Vec<String>,
    /// When the time budget runs out.
    pub deadline: Option<Instant>,
}

/// A search's bounds, set on its query: the limit capped (the warning,
/// if any, returned), the store's byte bound and its deadline, a quarter
/// of the budget early, so reading the results, adjusting and rendering
/// what it found fit in the rest. Returns the budget, the hard deadline
/// and the warnings so far.
fn bound(limits: &QueryLimits, query: &mut TraceQuery) -> (Duration, Instant, Vec<String>) {
    let budget = limits.timeout();
    let deadline = Instant::now() + budget;
    let warnings: Vec<String> = limits.cap(query).into_iter().collect();
    // The store stops reading whole traces at the response cap: building
    // `limit` huge traces only to cut the answer at render time was the
    // memory a search over big traces really used.
    query.max_bytes = Some(limits.max_response_bytes);
    query.deadline = Some(Instant::now() + budget * 3 / 4);
    (budget, deadline, warnings)
}

/// A trace search within `limits`: caps the limit, bounds the store read by
/// the time budget, and adjusts traces (unless `raw`) until the deadline.
pub async fn search(
    reader: &dyn TraceReader,
    limits: &QueryLimits,
    mut query: TraceQuery,
    raw: bool,
) -> Result<Found, SearchError> {
    let (budget, deadline, mut warnings) = bound(limits, &mut query);
    let max_bytes = limits.max_response_bytes;
    let searched = tokio::time::timeout_at(deadline.into(), reader.search_traces(&query))
        .await
        .map_err(|_| SearchError::TimedOut(budget))?
        .map_err(SearchError::Store)?;
    let traces = searched.traces;
    if !searched.complete {
        warnings.push(partial_warning(traces.len(), budget));
    }
    warnings.extend(read_cut_warning(&traces, query.limit, max_bytes));
    let traces = if raw {
        traces
    } else {
        // Adjusting is CPU work proportional to the answer: off the reactor.
        let (traces, late) =
            tokio::task::spawn_blocking(move || adjust_until(traces, deadline, budget))
                .await
                .map_err(|e| SearchError::Store(StoreError::Unavailable(e.to_string())))?;
        warnings.extend(late);
        traces
    };
    Ok(Found {
        traces,
        warnings,
        deadline: Some(deadline),
    })
}

/// Trace summaries found by [`search_summaries`], with the warnings to
/// pass on.
#[derive(Debug, Default)]
pub struct FoundSummaries {
    /// Most recent first.
    pub summaries: Vec<TraceSummary>,
    /// Human-readable notes on limits that changed the answer.
    pub warnings: Vec<String>,
    /// When the time budget runs out.
    pub deadline: Option<Instant>,
}

/// [`search`] for summaries ([`TraceReader::search_trace_summaries`]):
/// the same limit, budget, byte bound and warnings, without whole traces.
/// Summaries are of the stored spans, so there is nothing to adjust.
pub async fn search_summaries(
    reader: &dyn TraceReader,
    limits: &QueryLimits,
    mut query: TraceQuery,
) -> Result<FoundSummaries, SearchError> {
    let (budget, deadline, mut warnings) = bound(limits, &mut query);
    let searched = tokio::time::timeout_at(deadline.into(), reader.search_trace_summaries(&query))
        .await
        .map_err(|_| SearchError::TimedOut(budget))?
        .map_err(SearchError::Store)?;
    let found = searched.summaries.len();
    if !searched.complete {
        warnings.push(partial_warning(found, budget));
    }
    if searched.cut_at_max_bytes {
        warnings.push(read_cut_message(found, limits.max_response_bytes));
    }
    Ok(FoundSummaries {
        summaries: searched.summaries,
        warnings,
        deadline: Some(deadline),
    })
}

/// A dependency graph within the query's time budget: a graph over a long
/// window reads every stored span in it, and without a bound one request
/// held a heavy-read permit (and a core) for as long as that took. Past
/// the budget the read is dropped (it stops at its next await) and the
/// caller answers 503 / `UNAVAILABLE`.
pub async fn dependencies(
    reader: &dyn TraceReader,
    limits: &QueryLimits,
    start: u64,
    end: u64,
) -> Result<Vec<clew_store::DependencyLink>, SearchError> {
    let budget = limits.timeout();
    tokio::time::timeout(budget, reader.dependencies(start, end))
        .await
        .map_err(|_| SearchError::TimedOut(budget))?
        .map_err(SearchError::Store)
}

/// Adjusts traces in order until the deadline; the rest are left out, with
/// the warning saying so.
fn adjust_until(
    mut traces: Vec<Trace>,
    deadline: Instant,
    budget: Duration,
) -> (Vec<Trace>, Option<String>) {
    let total = traces.len();
    for i in 0..total {
        clew_store::pace::pace();
        if Instant::now() >= deadline {
            traces.truncate(i);
            return (traces, Some(timeout_warning(i, total, budget)));
        }
        adjust(&mut traces[i]);
    }
    (traces, None)
}

/// The warning for a store that stopped reading at `max_bytes` (fewer
/// than `limit` traces whose estimated size reached it); `None` otherwise.
fn read_cut_warning(traces: &[Trace], limit: usize, max_bytes: usize) -> Option<String> {
    if traces.len() >= limit {
        return None;
    }
    let mut bound = clew_store::ByteBound::new(Some(max_bytes));
    bound.take(traces.iter().flat_map(|t| &t.spans));
    bound
        .reached()
        .then(|| read_cut_message(traces.len(), max_bytes))
}

fn read_cut_message(found: usize, max_bytes: usize) -> String {
    format!(
        "returning at most {found} traces: reading more would pass {max_bytes} bytes \
         (query.max_response_bytes); more traces may match — narrow the search or \
         lower the limit"
    )
}

fn partial_warning(found: usize, budget: Duration) -> String {
    format!(
        "returning the {found} most recent matches found within the query's time budget \
         of {} s (query.timeout_secs): the search stopped before looking everywhere, so \
         older matches may be missing — narrow the search (service, operation, time \
         window) or raise the budget",
        budget.as_secs()
    )
}

fn timeout_warning(done: usize, total: usize, budget: Duration) -> String {
    format!(
        "returning {done} of {total} traces: the query ran out of its time budget of {} s \
         (query.timeout_secs)",
        budget.as_secs()
    )
}

/// Takes rendered items in order while they fit `max_bytes` (by `size`)
/// and the deadline; the first item is always taken. Returns the taken
/// items and, when some were left out, the warning saying why.
pub fn take_within<T>(
    items: impl ExactSizeIterator<Item = T>,
    size: impl Fn(&T) -> usize,
    max_bytes: usize,
    deadline: Option<Instant>,
) -> (Vec<T>, Option<String>) {
    let mut within = Within::new(items.len(), max_bytes, deadline);
    let mut out = Vec::new();
    for item in items {
        if let Err(cut) = within.in_time().and_then(|()| within.admit(size(&item))) {
            return (out, Some(cut));
        }
        out.push(item);
    }
    (out, None)
}

/// The bookkeeping of [`take_within`] for callers that render items one
/// at a time into a buffer of their own: ask [`Within::in_time`] before
/// rendering an item and [`Within::admit`] with its size after; either
/// refuses with the warning to return, and the item is left out.
pub struct Within {
    total: usize,
    kept: usize,
    used: usize,
    max_bytes: usize,
    deadline: Option<Instant>,
}

impl Within {
    /// Bounds for `total` items.
    pub fn new(total: usize, max_bytes: usize, deadline: Option<Instant>) -> Within {
        Within {
            total,
            kept: 0,
            used: 0,
            max_bytes,
            deadline,
        }
    }

    /// May the next item still be rendered (always, for the first)?
    pub fn in_time(&self) -> Result<(), String> {
        // Every renderer asks before each item: the query CPU governor,
        // where installed, holds a search back here while ingest is busy.
        clew_store::pace::pace();
        if self.kept > 0 && self.deadline.is_some_and(|d| Instant::now() >= d) {
            let (n, total) = (self.kept, self.total);
            return Err(format!(
                "returning {n} of {total} traces: rendering ran out of the query's \
                 time budget (query.timeout_secs)"
            ));
        }
        Ok(())
    }

    /// Counts an item of `n` bytes in, unless it would pass the byte cap
    /// (the first item always fits).
    pub fn admit(&mut self, n: usize) -> Result<(), String> {
        if self.kept > 0 && self.used.saturating_add(n) > self.max_bytes {
            let (kept, total, max_bytes) = (self.kept, self.total, self.max_bytes);
            return Err(format!(
                "returning {kept} of {total} traces: the response would exceed \
                 {max_bytes} bytes (query.max_response_bytes); narrow the search or \
                 lower the limit"
            ));
        }
        self.used = self.used.saturating_add(n);
        self.kept += 1;
        Ok(())
    }
}

/// The limit warnings as one HTTP `Warning` header (`299 clew "…"`, the
/// "miscellaneous persistent warning" of RFC 7234), for the APIs whose JSON
/// has no place for them (API v3, Zipkin). `None` when there are none.
pub fn warning_header(
    warnings: &[String],
) -> Option<(axum::http::HeaderName, axum::http::HeaderValue)> {
    if warnings.is_empty() {
        return None;
    }
    let text = warnings.join("; ").replace(['"', '\\'], "'");
    let value = axum::http::HeaderValue::try_from(format!("299 clew \"{text}\"")).ok()?;
    Some((axum::http::header::WARNING, value))
}

/// The length of `value` as compact JSON, without building the text.
pub fn json_len<T: serde::Serialize>(value: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    // Serialising our own DTOs cannot fail; an error counts what was written.
    let _ = serde_json::to_writer(&mut c, value);
    c.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(limit: usize) -> TraceQuery {
        TraceQuery {
            service: Some("s".into()),
            operation: None,
            tags: Vec::new(),
            start_min: 0,
            start_max: u64::MAX,
            duration_min: None,
            duration_max: None,
            limit,
            max_bytes: None,
            deadline: None,
        }
    }

    #[test]
    fn limits_above_the_cap_and_zero_are_lowered_with_a_warning() {
        let limits = QueryLimits {
            max_traces: 50,
            ..QueryLimits::default()
        };
        let mut q = query(20);
        assert_eq!(limits.cap(&mut q), None);
        assert_eq!(q.limit, 20);
        let mut q = query(100_000);
        let w = limits.cap(&mut q).expect("warning");
        assert_eq!(q.limit, 50);
        assert!(
            w.contains("100000") && w.contains("query.max_traces"),
            "{w}"
        );
        let mut q = query(0);
        let w = limits.cap(&mut q).expect("warning");
        assert_eq!(q.limit, 50);
        assert!(w.contains("limit 0"), "{w}");
    }

    #[tokio::test]
    async fn the_store_gets_a_deadline_and_byte_bound_and_a_partial_answer_is_said() {
        let store = Stuck::partial();
        let limits = QueryLimits::default();
        let before = Instant::now();
        let found = search(&store, &limits, query(20), false)
            .await
            .expect("search");
        let asked = store.asked.lock().expect("lock").clone().expect("asked");
        assert_eq!(asked.max_bytes, Some(limits.max_response_bytes));
        let soft = asked.deadline.expect("a deadline");
        assert!(soft > before && soft < found.deadline.expect("hard deadline"));
        assert!(
            found
                .warnings
                .iter()
                .any(|w| w.contains("before looking everywhere")),
            "{:?}",
            found.warnings
        );
    }

    #[tokio::test]
    async fn summaries_get_the_same_bounds_and_warnings() {
        // The store reads whole traces to summarise them (the trait's
        // default), stops at its deadline and at the byte bound.
        let store = Stuck {
            traces: vec![one_span_trace(1)],
            ..Stuck::partial()
        };
        let limits = QueryLimits {
            max_traces: 5,
            max_response_bytes: 1,
            ..QueryLimits::default()
        };
        let found = search_summaries(&store, &limits, query(20))
            .await
            .expect("search");
        let asked = store.asked.lock().expect("lock").clone().expect("asked");
        assert_eq!(asked.limit, 5);
        assert_eq!(asked.max_bytes, Some(1));
        assert!(asked.deadline.expect("a deadline") < found.deadline.expect("hard deadline"));
        assert_eq!(found.summaries.len(), 1);
        let said = |what: &str| found.warnings.iter().any(|w| w.contains(what));
        assert!(said("query.max_traces"), "{:?}", found.warnings);
        assert!(said("before looking everywhere"), "{:?}", found.warnings);
        assert!(
            said("reading more would pass 1 bytes"),
            "{:?}",
            found.warnings
        );
        let limits = QueryLimits {
            timeout_secs: 0,
            ..QueryLimits::default()
        };
        let err = search_summaries(&Stuck::default(), &limits, query(10))
            .await
            .expect_err("times out");
        assert!(matches!(err, SearchError::TimedOut(d) if d == Duration::ZERO));
    }

    fn one_span_trace(n: u64) -> Trace {
        use clew_model::{Process, Span, SpanId, TraceId};
        Trace {
            spans: vec![Span::new(
                TraceId::new(0, n),
                SpanId(1),
                "op",
                std::sync::Arc::new(Process::new("svc")),
            )],
            warnings: Vec::new(),
        }
    }

    #[tokio::test]
    async fn a_dependency_graph_past_the_time_budget_is_given_up() {
        // A budget of 0 s has expired before the store is asked; the store
        // would never answer.
        let limits = QueryLimits {
            timeout_secs: 0,
            ..QueryLimits::default()
        };
        match dependencies(&Stuck::default(), &limits, 0, u64::MAX).await {
            Err(SearchError::TimedOut(budget)) => assert_eq!(budget, Duration::ZERO),
            other => panic!("expected a timeout, got {other:?}"),
        }
    }

    #[test]
    fn a_store_read_cut_at_the_byte_cap_is_reported() {
        let trace = one_span_trace;
        let one: usize = trace(1).spans[0].estimated_size();
        let two = [trace(1), trace(2)];
        let w = read_cut_warning(&two, 10, one * 2).expect("cut: fewer than the limit");
        assert!(w.contains("query.max_response_bytes"), "{w}");
        assert_eq!(
            read_cut_warning(&two, 2, one * 2),
            None,
            "the limit was reached"
        );
        assert_eq!(
            read_cut_warning(&two, 10, one * 2 + 1),
            None,
            "all matches fit"
        );
    }

    #[test]
    fn rendering_stops_at_the_byte_cap_but_keeps_the_first_item() {
        let (kept, w) = take_within([10usize, 10, 10].into_iter(), |n| *n, 25, None);
        assert_eq!(kept, [10, 10]);
        assert!(w.expect("warning").contains("2 of 3"));
        let (kept, w) = take_within([100usize, 1].into_iter(), |n| *n, 25, None);
        assert_eq!(kept, [100], "the first item goes out even when too big");
        assert!(w.is_some());
        let (kept, w) = take_within([1usize, 2].into_iter(), |n| *n, 25, None);
        assert_eq!((kept.len(), w), (2, None));
    }

    #[test]
    fn an_expired_deadline_keeps_only_the_first_item() {
        let past = Instant::now();
        let (kept, w) = take_within([1usize, 2, 3].into_iter(), |n| *n, 100, Some(past));
        assert_eq!(kept, [1]);
        assert!(w.expect("warning").contains("time budget"));
    }

    #[test]
    fn json_len_matches_serde_json() {
        let v = serde_json::json!({"a": [1, 2, "x\"y"]});
        assert_eq!(
            json_len(&v),
            serde_json::to_vec(&v).expect("serialises").len()
        );
    }

    /// A store that never answers searches or dependency graphs — the
    /// budget, not the store, ends the query — unless `partial`: then its
    /// searches stop at once, incomplete, and record what they were asked.
    #[derive(Default)]
    struct Stuck {
        partial: bool,
        /// What a partial search found.
        traces: Vec<Trace>,
        asked: std::sync::Mutex<Option<TraceQuery>>,
    }

    impl Stuck {
        fn partial() -> Self {
            Stuck {
                partial: true,
                ..Stuck::default()
            }
        }
    }

    #[tonic::async_trait]
    impl TraceReader for Stuck {
        async fn get_trace(&self, _: clew_model::TraceId) -> Result<Option<Trace>, StoreError> {
            Ok(None)
        }
        async fn find_traces(&self, _: &TraceQuery) -> Result<Vec<Trace>, StoreError> {
            std::future::pending().await
        }
        async fn search_traces(&self, q: &TraceQuery) -> Result<clew_store::Searched, StoreError> {
            if !self.partial {
                return std::future::pending().await;
            }
            *self.asked.lock().expect("lock") = Some(q.clone());
            Ok(clew_store::Searched {
                traces: self.traces.clone(),
                complete: false,
            })
        }
        async fn services(&self) -> Result<Vec<String>, StoreError> {
            Ok(Vec::new())
        }
        async fn operations(
            &self,
            _: &str,
            _: Option<&str>,
        ) -> Result<Vec<clew_store::Operation>, StoreError> {
            Ok(Vec::new())
        }
        async fn dependencies(
            &self,
            _: u64,
            _: u64,
        ) -> Result<Vec<clew_store::DependencyLink>, StoreError> {
            std::future::pending().await
        }
        fn stats(&self) -> clew_store::StoreStats {
            clew_store::StoreStats::default()
        }
    }

    #[tokio::test]
    async fn a_store_that_does_not_answer_in_time_is_a_timeout() {
        // A budget of 0 s has expired before the store is asked.
        let limits = QueryLimits {
            timeout_secs: 0,
            ..QueryLimits::default()
        };
        let err = search(&Stuck::default(), &limits, query(10), false)
            .await
            .expect_err("times out");
        assert!(matches!(err, SearchError::TimedOut(d) if d == Duration::ZERO));
    }
}
