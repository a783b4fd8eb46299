//! Where the time of fastrace's "multi threads" iteration goes: spawn to
//! first instruction of the thread, the harness, and thread end to `join`
//! returning, per library (and for a thread that traces nothing), as
//! medians over many iterations. A probe for docs/benchmarks-client.md.
//!
//! `cargo run --release --example thread_phases -- [iterations] [n]`

use std::sync::LazyLock;
use std::time::Instant;

use clew_client::Tracer;
use clew_client::reporter::{RemoteReporter, RemoteReporterOptions};
use clew_client::sampler::ConstSampler;
use clew_client::sender::{SendError, Sender};

#[derive(Debug)]
struct Discard;
impl Sender for Discard {
    fn append(&mut self, span: clew_model::Span) -> Result<usize, SendError> {
        std::hint::black_box(span);
        Ok(0)
    }
    fn flush(&mut self) -> Result<usize, SendError> {
        Ok(0)
    }
}

static TRACER: LazyLock<Tracer> = LazyLock::new(|| {
    Tracer::builder("probe")
        .sampler(ConstSampler(true))
        .reporter(RemoteReporter::new(
            Discard,
            RemoteReporterOptions {
                queue_size: 1 << 20,
                ..Default::default()
            },
        ))
        .build()
});

fn clew(n: usize) {
    let root = TRACER.span("parent").start();
    for _ in 0..n {
        TRACER.span("child").child_of(&root).start().finish();
    }
    root.finish();
}

fn fastrace_harness(n: usize) {
    use fastrace::prelude::*;
    let root = Span::root("parent", SpanContext::random());
    let _g = root.set_local_parent();
    for _ in 0..n {
        let _s = LocalSpan::enter_with_local_parent("child");
    }
}

fn spin(ns: u64) {
    let t = Instant::now();
    while (t.elapsed().as_nanos() as u64) < ns {
        std::hint::spin_loop();
    }
}

fn median(v: &mut [u64]) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

fn run(name: &str, iterations: usize, n: usize, work: fn(usize)) {
    let (mut start, mut body, mut end, mut total) = (vec![], vec![], vec![], vec![]);
    for _ in 0..iterations {
        let t0 = Instant::now();
        let (t1, t2) = std::thread::spawn(move || {
            let t1 = Instant::now();
            work(n);
            (t1, Instant::now())
        })
        .join()
        .expect("thread");
        let t3 = Instant::now();
        start.push((t1 - t0).as_nanos() as u64);
        body.push((t2 - t1).as_nanos() as u64);
        end.push((t3 - t2).as_nanos() as u64);
        total.push((t3 - t0).as_nanos() as u64);
    }
    println!(
        "{name:>10} n={n:<4}: median total {:>6} ns = spawn→start {:>6} + body {:>6} + end→joined {:>6}",
        median(&mut total),
        median(&mut start),
        median(&mut body),
        median(&mut end)
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let iterations: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    LazyLock::force(&TRACER);
    fastrace::set_reporter(NullFastrace, fastrace::collector::Config::default());
    for _ in 0..2 {
        run("none", iterations, n, |n| {
            std::hint::black_box(n);
        });
        // A thread that makes no span but runs as long as fastrace's
        // harness does (about 6 µs at n = 10 on this machine).
        run("spin 6 µs", iterations, n, |_| spin(6_000));
        run("spin 2 µs", iterations, n, |_| spin(2_000));
        run("clew", iterations, n, clew);
        run("fastrace", iterations, n, fastrace_harness);
    }
    TRACER.flush();
    fastrace::flush();
}

struct NullFastrace;
impl fastrace::collector::Reporter for NullFastrace {
    fn report(&mut self, spans: Vec<fastrace::collector::SpanRecord>) {
        std::hint::black_box(spans);
    }
}
