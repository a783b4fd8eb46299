//! Runs one clew case N times, for instruction counts under callgrind,
//! which stay comparable on a shared, noisy machine where wall-clock
//! medians do not:
//!
//! ```sh
//! cargo build --profile bench --example hot_loop
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p \
//!     target/release/examples/hot_loop unsampled 100000
//! ```
//!
//! Add `--toggle-collect='hot_loop::<case>*'` to count only inside the case
//! function; the total then divided by N is instructions per operation.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use clew_client::Tracer;
use clew_client::reporter::{RemoteReporter, RemoteReporterOptions};
use clew_client::sampler::ConstSampler;
use clew_client::sender::{SendError, Sender};

#[derive(Debug)]
struct Discard;
impl Sender for Discard {
    fn append(&mut self, span: clew_model::Span) -> Result<usize, SendError> {
        black_box(span);
        Ok(1)
    }
    fn flush(&mut self) -> Result<usize, SendError> {
        Ok(0)
    }
}

fn tracer(sampled: bool) -> Tracer {
    Tracer::builder("bench")
        .sampler(ConstSampler(sampled))
        .reporter(RemoteReporter::new(
            Discard,
            RemoteReporterOptions {
                queue_size: 1 << 16,
                ..Default::default()
            },
        ))
        .build()
}

#[inline(never)]
fn unsampled(t: &Tracer) {
    let mut s = t.span("op").start();
    s.set_tag("http.method", "GET");
    s.finish();
}

#[inline(never)]
fn unsampled_no_tag(t: &Tracer) {
    t.span("op").start().finish();
}

#[inline(never)]
fn unsampled_child(t: &Tracer, ctx: &clew_client::SpanContext) {
    let mut s = t.span("op").child_of(ctx).start();
    s.set_tag("http.method", "GET");
    s.finish();
}

#[inline(never)]
fn sampled(t: &Tracer) {
    t.span("op").start().finish();
}

#[inline(never)]
fn sampled_3_tags(t: &Tracer) {
    let mut s = t.span("op").start();
    s.set_tag("http.method", "GET")
        .set_tag("http.status_code", 200)
        .set_tag("error", false);
    s.finish();
}

#[inline(never)]
fn child(t: &Tracer, ctx: &clew_client::SpanContext) {
    t.span("child").child_of(ctx).start().finish();
}

/// A child under a root that stays open (fastrace's harness shape): the
/// thread collects the children and hands them over in batches.
#[inline(never)]
fn subtree_child(t: &Tracer, root: &clew_client::Span) {
    t.span("child").child_of(root).start().finish();
}

/// A root and `N` children, each finished at once (fastrace's harness).
#[inline(never)]
fn tree<const N: usize>(t: &Tracer) {
    let root = t.span("root").start();
    for _ in 0..N {
        t.span("child").child_of(&root).start().finish();
    }
    root.finish();
}

/// The same tree with each child kept in a variable and maybe tagged
/// (`total_cpu`'s loop): a span borrowed before `finish` is moved into
/// it, which is a copy unless the span lives in registers.
#[inline(never)]
fn tree_kept<const N: usize>(t: &Tracer, tags: bool) {
    let root = t.span("root").start();
    for _ in 0..N {
        let mut s = t.span("child").child_of(&root).start();
        if tags {
            s.set_tag("http.method", "GET")
                .set_tag("http.status_code", 200)
                .set_tag("error", false);
        }
        s.finish();
    }
    root.finish();
}

/// fastrace's fast path for the same shape, for instruction counts side
/// by side (divide by N + 1 for a span).
#[inline(never)]
fn fastrace_tree<const N: usize>() {
    use fastrace::collector::{SpanContext, SpanId, TraceId};
    let root = fastrace::Span::root("root", SpanContext::new(TraceId(12), SpanId::default()));
    let _g = root.set_local_parent();
    for _ in 0..N {
        let _guard = fastrace::local::LocalSpan::enter_with_local_parent("child");
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_else(|| "unsampled".into());
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let t = tracer(!case.starts_with("unsampled"));
    let parent = tracer(case != "unsampled_child").span("parent").start();
    let ctx = parent.context().clone();
    let root = t.span("root").start();
    if case.starts_with("fastrace_tree") {
        struct Discard;
        impl fastrace::collector::Reporter for Discard {
            fn report(&mut self, spans: Vec<fastrace::collector::SpanRecord>) {
                black_box(spans);
            }
        }
        fastrace::set_reporter(Discard, fastrace::collector::Config::default());
    }
    let run = |n: u64| {
        for _ in 0..n {
            match case.as_str() {
                "unsampled" => unsampled(black_box(&t)),
                "unsampled_no_tag" => unsampled_no_tag(black_box(&t)),
                "unsampled_child" => unsampled_child(black_box(&t), black_box(&ctx)),
                "sampled" => sampled(black_box(&t)),
                "sampled_3_tags" => sampled_3_tags(black_box(&t)),
                "child" => child(black_box(&t), black_box(&ctx)),
                "subtree_child" => subtree_child(black_box(&t), black_box(&root)),
                "tree10" => tree::<10>(black_box(&t)),
                "fastrace_tree10" => fastrace_tree::<10>(),
                "tree100" => tree::<100>(black_box(&t)),
                "fastrace_tree100" => fastrace_tree::<100>(),
                "tree1000" => tree::<1000>(black_box(&t)),
                "tree_kept1000" => tree_kept::<1000>(black_box(&t), black_box(false)),
                "tree_kept1000_3_tags" => tree_kept::<1000>(black_box(&t), black_box(true)),
                "fastrace_tree1000" => fastrace_tree::<1000>(),
                other => panic!("unknown case {other}"),
            }
        }
    };
    // With a third argument R: R rounds of N, printing the fastest and the
    // median round in ns per op (a quick wall-clock check, noisy when the
    // machine is shared; instruction counts are the stable measure).
    match args.next().and_then(|a| a.parse::<usize>().ok()) {
        None => run(n),
        Some(rounds) => {
            let mut per_op: Vec<f64> = (0..rounds)
                .map(|_| {
                    let t0 = std::time::Instant::now();
                    run(n);
                    t0.elapsed().as_nanos() as f64 / n as f64
                })
                .collect();
            per_op.sort_by(f64::total_cmp);
            println!(
                "{case}: fastest {:.2} ns, median {:.2} ns",
                per_op[0],
                per_op[rounds / 2]
            );
        }
    }
    // Give the reporter a moment so sampled runs exercise the hand-off.
    t.flush();
    // A figure counts only if nothing was dropped (keep N × spans per
    // case under the queue's 2^16 under callgrind, whose reporter thread
    // may not run until the end).
    let dropped = t.reporter_stats().dropped;
    eprintln!("{case}: {dropped} spans dropped");
    if dropped != 0 {
        std::process::exit(1);
    }
}
