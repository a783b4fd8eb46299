//! Benchmark of the embedded store against the anchors of issue 9
//! (docs/benchmarks.md, "Embedded store"). Run in release:
//!
//! ```text
//! cargo run --release -p clew-store --example store_bench -- \
//!     --spans 10000000 --shape tracegen --dir /tmp/clew-bench
//! ```
//!
//! Phases: ingest through `write_spans` with the WAL fsyncing before every
//! acknowledgement (several concurrent writers, as the ingest pipeline's
//! batches arrive), the same batches into a `MemoryStore` for the rate
//! ratio, restart (WAL replay included), cut + compaction, bytes on disk,
//! then trace-by-ID and search latencies on a warm page cache, and peak RSS.
//! `--head-queries` (with `--head-spans` above `--spans`) also runs the
//! searches over the replayed head before it is cut.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clew_model::{KeyValue, Log, Process, Reference, Span, SpanId, TraceId};
use clew_store::{
    DiskStore, DiskStoreConfig, MemoryStore, MemoryStoreConfig, TagFilter, TraceQuery, TraceReader,
    TraceWriter, WalSync,
};

/// `--features bench-mimalloc`: the `clew` binary's allocator (run with
/// `MIMALLOC_PURGE_DELAY=1000` for its setting too), so peak RSS is what
/// the server would show rather than glibc malloc's.
#[cfg(feature = "bench-mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ALLOCATOR: &str = if cfg!(feature = "bench-mimalloc") {
    "mimalloc"
} else {
    "glibc malloc"
};

const HOUR: u64 = 3_600_000_000_000;
const DAY: u64 = 24 * HOUR;
const BASE: u64 = 1_700_000_000_000_000_000;

/// splitmix64: a tiny deterministic generator, so runs are repeatable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Tracegen,
    Entropy,
}

/// Generates trace `i` of `n` (spread evenly over 24 hours).
struct Gen {
    shape: Shape,
    n_traces: u64,
    attr_key: u64,
    processes: Vec<Arc<Process>>,
}

impl Gen {
    fn new(shape: Shape, n_traces: u64) -> Gen {
        let services = if shape == Shape::Tracegen { 10 } else { 50 };
        let processes = (0..services)
            .map(|i| {
                Arc::new(Process {
                    service_name: format!("tracegen-{i:02}").into(),
                    tags: vec![
                        KeyValue::string("hostname", "tracegen"),
                        KeyValue::string("ip", "127.0.0.1"),
                        KeyValue::string("jaeger.version", "clew-tracegen"),
                    ],
                })
            })
            .collect();
        Gen {
            shape,
            n_traces,
            attr_key: 0,
            processes,
        }
    }

    fn trace(&mut self, i: u64, rng: &mut Rng, out: &mut Vec<Span>) -> TraceId {
        let id = TraceId::new(rng.next(), rng.next());
        let start = BASE + i * (DAY / self.n_traces) + rng.below(1_000_000);
        match self.shape {
            Shape::Tracegen => self.tracegen(i, id, start, rng, out),
            Shape::Entropy => self.entropy(id, start, rng, out),
        }
        id
    }

    /// Jaeger tracegen's shape, as `tools/clew-tracegen` (and Jaeger's
    /// tracegen) builds it: root `lets-go` (server, 2 attributes) and 9
    /// `child-span-NN` clients with 11 `attr_KK=val_VV` attributes cycling
    /// through 97 keys × 1000 values; one service per trace; children one
    /// after another, 100 µs each, the root as long as all of them (the
    /// generators set these times, they do not measure them).
    fn tracegen(&mut self, i: u64, id: TraceId, start: u64, rng: &mut Rng, out: &mut Vec<Span>) {
        const CHILD_NS: u64 = 100_000;
        let p = self.processes[(i % 10) as usize].clone();
        let root_id = SpanId(rng.next());
        let mut root = Span::new(id, root_id, "lets-go", p.clone());
        root.start_time = start;
        root.duration = 9 * CHILD_NS;
        root.flags = 1;
        root.tags = vec![
            KeyValue::string("span.kind", "server"),
            KeyValue::string("peer.service", "tracegen-server"),
            KeyValue::string("peer.host.ipv4", "1.1.1.1"),
        ];
        out.push(root);
        for c in 0..9 {
            let mut s = Span::new(
                id,
                SpanId(rng.next()),
                format!("child-span-{:02}", c + 1),
                p.clone(),
            );
            s.start_time = start + c * CHILD_NS;
            s.duration = CHILD_NS;
            s.flags = 1;
            s.references.push(Reference::child_of(id, root_id));
            s.tags.push(KeyValue::string("span.kind", "client"));
            for _ in 0..11 {
                s.tags.push(KeyValue::string(
                    format!("attr_{:02}", self.attr_key % 97),
                    format!("val_{:02}", self.attr_key % 1000),
                ));
                self.attr_key = self.attr_key.wrapping_add(1);
            }
            out.push(s);
        }
    }

    /// High entropy: 5–40 spans in deep chains, a random one of 50 services
    /// and 200 operations per span, SQL statements and URLs with random IDs,
    /// random user IDs, 0–2 logs per span, 5 % errors.
    fn entropy(&mut self, id: TraceId, start: u64, rng: &mut Rng, out: &mut Vec<Span>) {
        let n = 5 + rng.below(36);
        let mut ids: Vec<SpanId> = Vec::with_capacity(n as usize);
        let mut t = start;
        for k in 0..n {
            let p = self.processes[rng.below(50) as usize].clone();
            let sid = SpanId(rng.next());
            let mut s = Span::new(id, sid, format!("op-{}", rng.below(200)), p);
            t += rng.below(5_000_000);
            s.start_time = t;
            s.duration = rng.below(200_000_000);
            if k > 0 {
                // Deep: usually the previous span, sometimes an earlier one.
                let parent = if rng.below(4) == 0 {
                    ids[rng.below(k) as usize]
                } else {
                    ids[(k - 1) as usize]
                };
                s.references.push(Reference::child_of(id, parent));
            }
            s.tags = vec![
                KeyValue::string("span.kind", if k == 0 { "server" } else { "client" }),
                KeyValue::string(
                    "db.statement",
                    format!(
                        "SELECT * FROM t{} WHERE id = {} AND tenant = '{:x}'",
                        rng.below(1000),
                        rng.next(),
                        rng.next()
                    ),
                ),
                KeyValue::string(
                    "http.url",
                    format!(
                        "https://api.example.com/v1/users/{}/orders/{}",
                        rng.next(),
                        rng.below(1 << 40)
                    ),
                ),
                KeyValue::string("user.id", format!("{:016x}", rng.next())),
                KeyValue::i64(
                    "http.status_code",
                    [200, 200, 200, 201, 404, 500][rng.below(6) as usize],
                ),
            ];
            if rng.below(20) == 0 {
                s.tags.push(KeyValue::bool("error", true));
            }
            for _ in 0..rng.below(3) {
                s.logs.push(Log {
                    timestamp: s.start_time + rng.below(s.duration.max(1)),
                    fields: vec![
                        KeyValue::string("event", "retry"),
                        KeyValue::string(
                            "message",
                            format!(
                                "attempt {} failed: timeout after {}ms",
                                rng.below(5),
                                rng.below(10_000)
                            ),
                        ),
                    ],
                });
            }
            ids.push(sid);
            out.push(s);
        }
    }
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// Peak RSS per phase: a thread samples `VmRSS` every 10 ms and charges it
/// to the phase running then (`VmHWM` alone cannot say which phase peaked).
mod phases {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static CURRENT: AtomicUsize = AtomicUsize::new(0);
    static PEAKS: Mutex<Vec<(&'static str, u64)>> = Mutex::new(Vec::new());

    fn rss_kib() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
            })
            .unwrap_or(0)
    }

    /// Starts charging samples to `name`.
    pub fn enter(name: &'static str) {
        let mut p = PEAKS.lock().expect("phase lock");
        if p.is_empty() {
            std::thread::spawn(|| {
                loop {
                    let rss = rss_kib();
                    let i = CURRENT.load(Ordering::Relaxed);
                    if let Some(e) = PEAKS.lock().expect("phase lock").get_mut(i) {
                        e.1 = e.1.max(rss);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
            });
        }
        p.push((name, rss_kib()));
        CURRENT.store(p.len() - 1, Ordering::Relaxed);
    }

    /// One line: each phase's peak RSS in MiB.
    pub fn report() -> String {
        let p = PEAKS.lock().expect("phase lock");
        let parts: Vec<String> = p
            .iter()
            .map(|(n, k)| format!("{n} {} MiB", k / 1024))
            .collect();
        parts.join(", ")
    }
}

/// User + system CPU time of this process so far, from `/proc/self/stat`
/// (clock ticks of 1/100 s, the value of `CLK_TCK` on Linux); 0 elsewhere.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the command name (which may hold spaces):
            // state is field 3, utime 14, stime 15.
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
            Some(ticks as f64 / 100.0)
        })
        .unwrap_or(0.0)
}

fn rss_peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() {
                        dir_bytes(&p)
                    } else {
                        e.metadata().map_or(0, |m| m.len())
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Writes `spans` spans with `writers` concurrent writers in batches of
/// `batch` spans; returns (elapsed, sampled trace IDs).
async fn ingest<S: TraceWriter>(
    store: Arc<S>,
    shape: Shape,
    spans: u64,
    writers: u64,
    batch: usize,
) -> (Duration, Vec<(TraceId, u64)>) {
    let per_trace = if shape == Shape::Tracegen { 10 } else { 22 };
    let n_traces = spans / per_trace;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut traces = Gen::new(shape, n_traces);
            let mut rng = Rng(w + 1);
            let mut sample = Vec::new();
            let mut buf = Vec::with_capacity(batch + 64);
            // Writers interleave traces so time moves forward for all.
            let mut i = w;
            while i < n_traces {
                let id = traces.trace(i, &mut rng, &mut buf);
                if i % 997 == 0 {
                    sample.push((id, i));
                }
                if buf.len() >= batch {
                    write(store.as_ref(), std::mem::take(&mut buf)).await;
                }
                i += writers;
            }
            if !buf.is_empty() {
                write(store.as_ref(), buf).await;
            }
            sample
        }));
    }
    let mut sample = Vec::new();
    for t in tasks {
        sample.extend(t.await.expect("writer"));
    }
    (started.elapsed(), sample)
}

/// Writes a batch, retrying while the store answers "unavailable" (its
/// back-pressure when blocks are cut more slowly than spans arrive), as
/// a client retries a 503.
async fn write<S: TraceWriter>(store: &S, spans: Vec<Span>) {
    loop {
        match store.write_spans(spans.clone()).await {
            Ok(()) => return,
            Err(clew_store::StoreError::Unavailable(why)) => {
                eprintln!("write refused, retrying: {why}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("write: {e}"),
        }
    }
}

struct Null;
#[async_trait::async_trait]
impl TraceWriter for Null {
    async fn write_spans(&self, _: Vec<Span>) -> Result<(), clew_store::StoreError> {
        Ok(())
    }
}

fn args_has(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

fn arg_opt(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn arg(name: &str, default: &str) -> String {
    arg_opt(name).unwrap_or_else(|| default.to_string())
}

async fn timed<F, Fut, T>(runs: usize, mut f: F) -> (Duration, Duration, usize)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let mut times = Vec::with_capacity(runs);
    let mut found = 0;
    for i in 0..runs {
        let t = Instant::now();
        found += f(i).await;
        times.push(t.elapsed());
    }
    let _ = std::marker::PhantomData::<T>;
    if args_has("--verbose") {
        let all: Vec<String> = times.iter().map(|d| format!("{:.1}", ms(*d))).collect();
        println!("  each, in run order (ms): {}", all.join(" "));
    }
    (
        percentile(&mut times, 0.5),
        percentile(&mut times, 0.99),
        found,
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let spans: u64 = arg("--spans", "1000000").parse().expect("--spans");
    let shape = match arg("--shape", "tracegen").as_str() {
        "entropy" => Shape::Entropy,
        _ => Shape::Tracegen,
    };
    let dir = std::path::PathBuf::from(arg("--dir", "/tmp/clew-store-bench"));
    let writers: u64 = arg("--writers", "4").parse().expect("--writers");
    let batch: usize = arg("--batch", "1000").parse().expect("--batch");
    let mem_spans: u64 = arg("--memory-spans", "1000000")
        .parse()
        .expect("--memory-spans");
    if args_has("--queries-only") {
        // Searches over the data directory a previous run left behind.
        let mut config = DiskStoreConfig::new(&dir);
        config.maintenance_interval = None;
        config.retention = None;
        let t = Instant::now();
        let store = Arc::new(DiskStore::open(config).await.expect("open"));
        println!("open: {:.3} s", t.elapsed().as_secs_f64());
        // The same generator (same seeds) names the same sampled traces;
        // --spans must be the run's.
        let (_, sample) = ingest(Arc::new(Null), shape, spans, writers, batch).await;
        trace_by_id(&store, &sample).await;
        searches(store, shape).await;
        println!("peak RSS: {} MiB", rss_peak_kib() / 1024);
        return;
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "shape={} spans={spans} writers={writers} batch={batch} allocator={ALLOCATOR}",
        arg("--shape", "tracegen")
    );

    // Peak RSS is per process: run `--mode memory` and `--mode disk` as
    // two processes, one after the other, for the comparison.
    if arg("--mode", "disk") == "memory" {
        let (gen_time, _) = ingest(Arc::new(Null), shape, mem_spans, writers, batch).await;
        println!(
            "generate only: {:.0} spans/s",
            mem_spans as f64 / gen_time.as_secs_f64()
        );
        let mem = Arc::new(MemoryStore::new(MemoryStoreConfig {
            max_spans: usize::MAX,
            max_bytes: usize::MAX,
        }));
        let (mem_time, _) = ingest(mem.clone(), shape, mem_spans, writers, batch).await;
        let mem_rate = mem_spans as f64 / mem_time.as_secs_f64();
        println!("memory store ingest: {mem_rate:.0} spans/s ({mem_spans} spans)");
        println!("peak RSS: {} MiB", rss_peak_kib() / 1024);
        return;
    }

    let mut config = DiskStoreConfig::new(&dir);
    config.wal_sync = WalSync::Always;
    config.retention = None;
    config.maintenance_interval = Some(Duration::from_millis(200));
    if let Some(l) = arg_opt("--zstd-level") {
        config.compaction_zstd_level = l.parse().expect("--zstd-level");
    }
    if let Some(h) = arg_opt("--head-spans") {
        config.head_max_spans = h.parse().expect("--head-spans");
        config.head_max_bytes = config.head_max_spans * 240;
    }
    phases::enter("ingest");
    let store = Arc::new(DiskStore::open(config.clone()).await.expect("open"));
    let (disk_time, sample) = ingest(store.clone(), shape, spans, writers, batch).await;
    if args_has("--print-sample") {
        print_sample(&sample);
    }
    let disk_rate = spans as f64 / disk_time.as_secs_f64();
    println!(
        "disk store ingest (fsync before ack): {disk_rate:.0} spans/s ({spans} spans, {:.1} s)",
        disk_time.as_secs_f64(),
    );
    println!("peak RSS after ingest: {} MiB", rss_peak_kib() / 1024);
    // No close(): the head stays in the WAL, as after `kill -9`, so the
    // restart below includes replay. A cut or merge in flight finishes
    // first (in a real crash the process and its memory are gone).
    match Arc::try_unwrap(store) {
        Ok(store) => store.abandon().await,
        Err(_) => panic!("writers still hold the store"),
    }

    phases::enter("restart");
    // No background maintenance after the restart: the cut and the
    // compactions timed below are exactly those the loop runs.
    config.maintenance_interval = None;
    let t = Instant::now();
    let (store, report) = DiskStore::open_with_report(config.clone())
        .await
        .expect("reopen");
    println!(
        "restart: {:.3} s ({} blocks, {} WAL records / {} spans replayed)",
        t.elapsed().as_secs_f64(),
        report.blocks,
        report.replayed_records,
        report.replayed_spans
    );
    let store = Arc::new(store);
    if args_has("--head-queries") {
        // The same searches over a head holding every span (give
        // --head-spans above --spans), before anything is cut.
        println!("over the head:");
        trace_by_id(&store, &sample).await;
        searches(store.clone(), shape).await;
        println!("from blocks:");
    }
    let t = Instant::now();
    let cpu = cpu_seconds();
    phases::enter("flush");
    store.flush().await.expect("flush");
    phases::enter("compaction");
    let (t_merge, cpu_merge) = (Instant::now(), cpu_seconds());
    let mut merges = 0;
    while store.compact().await.expect("compact") {
        merges += 1;
    }
    println!(
        "{merges} compactions alone: {:.2} s wall, {:.2} s CPU",
        t_merge.elapsed().as_secs_f64(),
        cpu_seconds() - cpu_merge,
    );
    store.apply_retention().await.expect("cleanup");
    let ps = store.persistence_stats().expect("stats");
    // The entropy generator's traces average 22.5 spans, not exactly the
    // 22 that --spans is divided by: count what was stored.
    let stored = store.stats().spans.max(1);
    println!(
        "flush + {merges} compactions: {:.2} s ({:.2} s CPU); {} blocks, {} bytes = {:.2} bytes/span over {stored} stored spans (data dir {:.2} bytes/span)",
        t.elapsed().as_secs_f64(),
        cpu_seconds() - cpu,
        ps.blocks,
        ps.block_bytes,
        ps.block_bytes as f64 / stored as f64,
        dir_bytes(&dir) as f64 / stored as f64,
    );

    phases::enter("queries");
    trace_by_id(&store, &sample).await;
    searches(store.clone(), shape).await;
    println!("peak RSS: {} MiB", rss_peak_kib() / 1024);
    println!("peak RSS by phase: {}", phases::report());
}

/// Trace-by-ID latency over sampled trace IDs.
async fn trace_by_id(store: &Arc<DiskStore>, sample: &[(TraceId, u64)]) {
    let runs = 200;
    let (p50, p99, found) = timed::<_, _, ()>(runs, |i| {
        let store = store.clone();
        let id = sample[(i * 7919) % sample.len()].0;
        async move {
            store
                .get_trace(id)
                .await
                .expect("get")
                .map_or(0, |t| t.spans.len())
        }
    })
    .await;
    println!(
        "trace by ID: p50 {:.2} ms, p99 {:.2} ms ({found} spans over {runs} lookups)",
        ms(p50),
        ms(p99)
    );
}

/// `--print-sample`: the sampled trace IDs (the trace-by-ID lookups pick
/// from them) with their trace index, so `scripts/bench-duckdb.py` can
/// check that its own generator built exactly the same traces.
fn print_sample(sample: &[(TraceId, u64)]) {
    for (id, i) in sample {
        println!("sample {:016x}{:016x} {i}", id.high, id.low);
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The three searches of the issue's table, on a warm page cache.
async fn searches(store: Arc<DiskStore>, shape: Shape) {
    let window = |i: usize| {
        let hour = (i as u64 * 7) % 24;
        (BASE + hour * HOUR, BASE + (hour + 1) * HOUR)
    };
    let q = |i: usize| {
        let (a, b) = window(i);
        let mut q = TraceQuery {
            start_min: a,
            start_max: b,
            limit: 20,
            max_bytes: None,
            deadline: None,
            ..TraceQuery::default()
        };
        q.service = Some(format!("tracegen-{:02}", i % 10));
        q
    };
    let (p50, p99, found) = timed::<_, _, ()>(50, |i| {
        let store = store.clone();
        let mut q = q(i);
        q.operation = Some(if shape == Shape::Tracegen {
            "lets-go".into()
        } else {
            format!("op-{}", i % 200)
        });
        async move { store.find_trace_summaries(&q).await.expect("find").len() }
    })
    .await;
    println!(
        "service + operation + 1 h, limit 20: p50 {:.2} ms, p99 {:.2} ms ({found} traces over 50)",
        ms(p50),
        ms(p99)
    );
    let tag = |i: usize| {
        if shape == Shape::Tracegen {
            TagFilter {
                key: format!("attr_{:02}", i % 97),
                value: format!("val_{:02}", (i * 13) % 1000),
            }
        } else {
            TagFilter {
                key: "http.status_code".into(),
                value: "500".into(),
            }
        }
    };
    let (p50, p99, found) = timed::<_, _, ()>(50, |i| {
        let store = store.clone();
        let mut q = q(i);
        q.tags = vec![tag(i)];
        async move { store.find_trace_summaries(&q).await.expect("find").len() }
    })
    .await;
    println!(
        "service + tag + 1 h, limit 20: p50 {:.2} ms, p99 {:.2} ms ({found} traces over 50)",
        ms(p50),
        ms(p99)
    );
    let (p50, p99, found) = timed::<_, _, ()>(20, |i| {
        let store = store.clone();
        let q = TraceQuery {
            start_min: BASE,
            start_max: BASE + DAY,
            limit: 20,
            max_bytes: None,
            deadline: None,
            tags: vec![tag(i)],
            ..TraceQuery::default()
        };
        async move { store.find_trace_summaries(&q).await.expect("find").len() }
    })
    .await;
    println!(
        "tag only, 24 h, limit 20: p50 {:.2} ms, p99 {:.2} ms ({found} traces over 20)",
        ms(p50),
        ms(p99)
    );
    // The service graph reads every span of its window.
    for (name, span) in [("1 h", HOUR), ("24 h", DAY)] {
        let (p50, max, found) = timed::<_, _, ()>(5, |i| {
            let store = store.clone();
            let (a, _) = window(i);
            let (a, b) = if span == DAY {
                (BASE, BASE + DAY)
            } else {
                (a, a + span)
            };
            async move { store.dependencies(a, b).await.expect("deps").len() }
        })
        .await;
        println!(
            "dependencies, {name}: p50 {:.2} ms, max {:.2} ms ({found} links over 5)",
            ms(p50),
            ms(max)
        );
    }
}
