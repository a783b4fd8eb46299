//! fastrace's own comparison harness, with clew beside it.
//!
//! The shape of `benches/compare.rs` in fastrace's repository: one root
//! span made current on the thread (`Span::root` + `set_local_parent()`),
//! then `n` children by `LocalSpan::enter_with_local_parent`, fastrace's
//! fast path. clew does the same work its own way: a root span and `n`
//! children started with `child_of(&root)` and finished at once.
//!
//! Every row is checked for dropped spans: after a case, each library is
//! flushed and the spans its reporter received are compared with the
//! spans the case created. A library that delivered fewer has shed work
//! (a dropped span is cheaper for the caller), so its row is printed as
//! INVALID and the run exits with status 1.
//!
//! Both reporters count and discard what they receive (fastrace: each
//! `Vec<SpanRecord>`; clew: each `SpanBatch`, through a `Sender` that
//! takes batches as they are), so the background work is each library's
//! own collection, not an exporter.
//!
//! ```sh
//! cargo bench --manifest-path crates/clew-client/benches/compare/Cargo.toml --bench local_tree
//! ```

use std::cell::Cell;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use divan::{Bencher, black_box};

static INVALID: AtomicBool = AtomicBool::new(false);

/// Children per root: the `n` of fastrace's harness.
const N: &[usize] = &[1, 10, 100, 1000, 10000];

/// clew's queue (per thread) for these runs: large enough that nothing is
/// dropped at n = 10,000 with 100 samples back to back on a loaded
/// machine (checked, not assumed: 2^16 dropped there). Applications keep
/// the bounded default; this is a benchmark comparing the same work.
const CLEW_QUEUE: usize = 1 << 20;
/// The queue for the thread-per-iteration case: each thread makes 1,001
/// spans, and a ring is allocated per thread, so it is sized for that.
const CLEW_QUEUE_THREADS: usize = 1 << 16;

mod clew_setup {
    use super::*;
    use clew_client::Tracer;
    use clew_client::reporter::{RemoteReporter, RemoteReporterOptions};
    use clew_client::sampler::ConstSampler;
    use clew_client::sender::{SendError, Sender};

    pub static DELIVERED: AtomicU64 = AtomicU64::new(0);

    #[derive(Debug)]
    struct Count;
    impl Sender for Count {
        fn append(&mut self, span: clew_model::Span) -> Result<usize, SendError> {
            black_box(span);
            DELIVERED.fetch_add(1, Ordering::Relaxed);
            Ok(0)
        }
        fn flush(&mut self) -> Result<usize, SendError> {
            Ok(0)
        }
        /// Takes the reporter's batch as it is, as fastrace's reporter
        /// takes its `Vec<SpanRecord>`.
        fn append_batch(
            &mut self,
            batch: &clew_client::reporter::SpanBatch,
            _process: &std::sync::Arc<clew_model::Process>,
        ) -> clew_client::sender::Appended {
            black_box(batch);
            DELIVERED.fetch_add(batch.len() as u64, Ordering::Relaxed);
            clew_client::sender::Appended::default()
        }
    }

    fn tracer(queue_size: usize) -> Tracer {
        Tracer::builder("bench")
            .sampler(ConstSampler(true))
            .reporter(RemoteReporter::new(
                Count,
                RemoteReporterOptions {
                    queue_size,
                    ..Default::default()
                },
            ))
            .build()
    }

    pub static TRACER: LazyLock<Tracer> = LazyLock::new(|| tracer(CLEW_QUEUE));
    pub static THREADS_TRACER: LazyLock<Tracer> = LazyLock::new(|| tracer(CLEW_QUEUE_THREADS));

    /// Spans delivered so far, after everything buffered was sent.
    pub fn delivered() -> u64 {
        TRACER.flush();
        THREADS_TRACER.flush();
        DELIVERED.load(Ordering::Relaxed)
    }

    pub fn harness(n: usize) {
        harness_with(&TRACER, n);
    }

    pub fn harness_with(t: &Tracer, n: usize) {
        let root = t.span("parent").start();
        for _ in 0..n {
            t.span("child").child_of(&root).start().finish();
        }
        root.finish();
    }

    pub fn harness_3_tags(n: usize) {
        let root = TRACER.span("parent").start();
        for _ in 0..n {
            let mut s = TRACER.span("child").child_of(&root).start();
            s.set_tag("http.method", "GET")
                .set_tag("http.status_code", 200)
                .set_tag("error", false);
            s.finish();
        }
        root.finish();
    }
}

mod fastrace_setup {
    use super::*;
    use fastrace::collector::{Config, Reporter, SpanRecord};
    use fastrace::prelude::*;

    pub static DELIVERED: AtomicU64 = AtomicU64::new(0);

    struct Count;
    impl Reporter for Count {
        fn report(&mut self, spans: Vec<SpanRecord>) {
            DELIVERED.fetch_add(spans.len() as u64, Ordering::Relaxed);
            black_box(spans);
        }
    }

    pub fn install() {
        fastrace::set_reporter(Count, Config::default());
    }

    /// Spans delivered so far, after everything pending was collected.
    pub fn delivered() -> u64 {
        fastrace::flush();
        DELIVERED.load(Ordering::Relaxed)
    }

    pub fn harness(n: usize) {
        let root = Span::root("parent", SpanContext::new(TraceId(12), SpanId::default()));
        let _g = root.set_local_parent();
        for _ in 0..n {
            let _guard = LocalSpan::enter_with_local_parent("child");
        }
    }

    pub fn harness_3_tags(n: usize) {
        let root = Span::root("parent", SpanContext::new(TraceId(12), SpanId::default()));
        let _g = root.set_local_parent();
        for _ in 0..n {
            // fastrace properties are strings only.
            let _guard = LocalSpan::enter_with_local_parent("child")
                .with_property(|| ("http.method", "GET"))
                .with_property(|| ("http.status_code", "200"))
                .with_property(|| ("error", "false"));
        }
    }
}

/// Runs one case and checks that the library delivered every span it made.
fn checked(b: Bencher, lib: &str, n: usize, delivered: fn() -> u64, mut run: impl FnMut()) {
    let before = delivered();
    let iterations = Cell::new(0u64);
    b.bench_local(|| {
        iterations.set(iterations.get() + 1);
        run();
    });
    let created = iterations.get() * (n as u64 + 1);
    // Collection is asynchronous: give the background threads a moment.
    let mut got = delivered() - before;
    for _ in 0..50 {
        if got >= created {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        got = delivered() - before;
    }
    if got != created {
        INVALID.store(true, Ordering::Relaxed);
        eprintln!(
            "INVALID ROW {lib} n={n}: created {created} spans, reporter received {got} \
             ({} dropped)",
            created.saturating_sub(got)
        );
    } else {
        eprintln!("ok {lib} n={n}: {created} spans created and delivered, 0 dropped");
    }
}

/// One thread, `n` children under one root.
mod single_thread {
    use super::*;

    #[divan::bench(args = N)]
    fn fastrace(b: Bencher, n: usize) {
        checked(b, "fastrace", n, fastrace_setup::delivered, || {
            fastrace_setup::harness(n)
        });
    }

    #[divan::bench(args = N)]
    fn clew(b: Bencher, n: usize) {
        checked(b, "clew", n, clew_setup::delivered, || {
            clew_setup::harness(n)
        });
    }
}

/// As `single_thread` with three tags on every child (n = 1,000).
mod single_thread_3_tags {
    use super::*;

    #[divan::bench(args = [1000])]
    fn fastrace(b: Bencher, n: usize) {
        checked(b, "fastrace 3 tags", n, fastrace_setup::delivered, || {
            fastrace_setup::harness_3_tags(n)
        });
    }

    #[divan::bench(args = [1000])]
    fn clew(b: Bencher, n: usize) {
        checked(b, "clew 3 tags", n, clew_setup::delivered, || {
            clew_setup::harness_3_tags(n)
        });
    }
}

/// fastrace's "multi threads" group: a fresh thread per iteration, which
/// makes its root and n children and exits (short-lived threads). n = 1
/// and 10 show the per-thread cost, where clew's median is still above
/// fastrace's (docs/benchmarks-client.md).
mod multi_threads {
    use super::*;

    #[divan::bench(args = [1, 10, 1000])]
    fn fastrace(b: Bencher, n: usize) {
        checked(b, "fastrace threads", n, fastrace_setup::delivered, || {
            std::thread::spawn(move || fastrace_setup::harness(n))
                .join()
                .unwrap()
        });
    }

    /// The floor: a thread that makes no span, spawned and joined the
    /// same way.
    #[divan::bench(args = [1, 10, 1000])]
    fn no_tracing(b: Bencher, n: usize) {
        b.bench(|| {
            std::thread::spawn(move || divan::black_box(n))
                .join()
                .unwrap()
        });
    }

    #[divan::bench(args = [1, 10, 1000])]
    fn clew(b: Bencher, n: usize) {
        checked(b, "clew threads", n, clew_setup::delivered, || {
            std::thread::spawn(move || clew_setup::harness_with(&clew_setup::THREADS_TRACER, n))
                .join()
                .unwrap()
        });
    }
}

fn main() {
    LazyLock::force(&clew_setup::TRACER);
    LazyLock::force(&clew_setup::THREADS_TRACER);
    fastrace_setup::install();
    divan::main();
    let dropped = clew_setup::TRACER.reporter_stats().dropped
        + clew_setup::THREADS_TRACER.reporter_stats().dropped;
    eprintln!("clew reporter: {dropped} spans dropped in the whole run");
    if INVALID.load(Ordering::Relaxed) || dropped != 0 {
        eprintln!("some rows dropped spans: their times are not valid results");
        std::process::exit(1);
    }
}
