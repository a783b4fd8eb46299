//! Total CPU per delivered span, all threads counted: the calling thread's
//! time plus every background thread's (collection, conversion, encoding).
//!
//! ```sh
//! cargo build --profile bench --example total_cpu
//! target/release/examples/total_cpu clew 1000000 100 0      # LIB SPANS N TAGS
//! target/release/examples/total_cpu fastrace 1000000 100 0
//! ```
//!
//! Runs fastrace's harness shape (a root and `N` children, `TAGS` = 0 or 3
//! tags per child) until `SPANS` spans exist, flushes, waits until the
//! reporter has received every one of them (it fails if any was dropped),
//! in rounds of 30,000 spans, each delivered in full before the next (so
//! neither library drops or piles up spans), and reads the process's CPU
//! time (`CLOCK_PROCESS_CPUTIME_ID`: all threads, exited ones included) and
//! the calling thread's (`CLOCK_THREAD_CPUTIME_ID`) while it makes spans.
//! CPU time, not wall time, because the machine these ran on was shared:
//! a thread got a fraction of a core. One library per process, so no other
//! library's threads count.
//!
//! clew's sender encodes every batch of 100 spans to Jaeger Thrift compact
//! (the UDP agent's wire format) into a reused buffer and discards it, so
//! its total is "from start to bytes ready for the wire". fastrace's
//! reporter discards the `SpanRecord`s without encoding them (no
//! OpenTelemetry exporter is linked here): its total leaves out the
//! encoding that clew's includes.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

static DELIVERED: AtomicU64 = AtomicU64::new(0);

/// Spans made between two waits for delivery (half of clew's ring here).
const ROUND: u64 = 30_000;

/// CPU time of `clock` in ns (`CLOCK_THREAD_CPUTIME_ID`: the calling
/// thread; `CLOCK_PROCESS_CPUTIME_ID`: all threads, exited ones included).
/// Exact, unlike `/proc`'s tick-sampled counters.
fn cpu_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write into.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn thread_cpu_ns() -> u64 {
    cpu_ns(libc::CLOCK_THREAD_CPUTIME_ID)
}

fn process_cpu_ns() -> u64 {
    cpu_ns(libc::CLOCK_PROCESS_CPUTIME_ID)
}

mod clew_lib {
    use super::*;
    use clew_client::Tracer;
    use clew_client::reporter::{RemoteReporter, RemoteReporterOptions};
    use clew_client::sampler::ConstSampler;
    use clew_client::sender::{SendError, Sender};

    #[derive(Debug)]
    struct EncodeThrift {
        process: clew_model::Process,
        spans: Vec<clew_model::Span>,
        out: Vec<u8>,
    }

    impl EncodeThrift {
        fn encode(&mut self) -> usize {
            let n = self.spans.len();
            self.out.clear();
            clew_codec_jaeger::encode_emit_batch_message(
                &self.process,
                &self.spans,
                0,
                clew_codec_jaeger::Protocol::Compact,
                &mut self.out,
            );
            black_box(&self.out);
            self.spans.clear();
            DELIVERED.fetch_add(n as u64, Ordering::Relaxed);
            n
        }
    }

    impl Sender for EncodeThrift {
        fn append(&mut self, span: clew_model::Span) -> Result<usize, SendError> {
            self.spans.push(span);
            Ok(if self.spans.len() >= 100 {
                self.encode()
            } else {
                0
            })
        }
        fn flush(&mut self) -> Result<usize, SendError> {
            Ok(self.encode())
        }
    }

    pub fn tracer() -> Tracer {
        Tracer::builder("bench")
            .sampler(ConstSampler(true))
            .reporter(RemoteReporter::new(
                EncodeThrift {
                    process: clew_model::Process::new("bench"),
                    spans: Vec::new(),
                    out: Vec::new(),
                },
                RemoteReporterOptions {
                    queue_size: 1 << 16,
                    ..Default::default()
                },
            ))
            .build()
    }

    pub fn harness(t: &Tracer, n: usize, tags: bool) {
        let root = t.span("parent").start();
        for _ in 0..n {
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
}

mod fastrace_lib {
    use super::*;
    use fastrace::collector::{Config, Reporter, SpanRecord};
    use fastrace::prelude::*;

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

    pub fn harness(n: usize, tags: bool) {
        let root = Span::root("parent", SpanContext::new(TraceId(12), SpanId::default()));
        let _g = root.set_local_parent();
        for _ in 0..n {
            let s = LocalSpan::enter_with_local_parent("child");
            if tags {
                let _s = s
                    .with_property(|| ("http.method", "GET"))
                    .with_property(|| ("http.status_code", "200"))
                    .with_property(|| ("error", "false"));
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let lib = args.get(1).map(String::as_str).unwrap_or("clew");
    let total: u64 = args.get(2).map_or(1_000_000, |a| a.parse().unwrap());
    let n: usize = args.get(3).map_or(100, |a| a.parse().unwrap());
    let tags = args.get(4).is_some_and(|a| a == "3");
    let per_root = n as u64 + 1;
    let roots = total.div_ceil(per_root);
    let created = roots * per_root;

    let clew = (lib == "clew").then(clew_lib::tracer);
    if lib == "fastrace" {
        fastrace_lib::install();
    }
    let proc_before = process_cpu_ns();
    let mut calling_ns = 0u64;
    let wall = std::time::Instant::now();
    let mut made = 0u64;
    let mut calling_wall = Duration::ZERO;
    while made < created {
        // Rounds of about ROUND spans, each fully delivered before the
        // next: neither library drops or piles up spans, and waiting costs
        // no CPU. The calling thread's CPU is counted while it makes spans.
        let t0 = thread_cpu_ns();
        let w0 = std::time::Instant::now();
        let mut round = 0;
        while round < ROUND && made < created {
            match &clew {
                Some(t) => clew_lib::harness(t, n, tags),
                None => fastrace_lib::harness(n, tags),
            }
            round += per_root;
            made += per_root;
        }
        calling_ns += thread_cpu_ns() - t0;
        calling_wall += w0.elapsed();
        for _ in 0..1000 {
            if DELIVERED.load(Ordering::Relaxed) >= made {
                break;
            }
            match &clew {
                Some(t) => t.flush(),
                None => fastrace::flush(),
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let _ = wall;
    let delivered = DELIVERED.load(Ordering::Relaxed);
    let all = process_cpu_ns() - proc_before;
    let dropped = clew.as_ref().map_or(0, |t| t.reporter_stats().dropped);
    println!(
        "{lib} n={n} tags={} spans={created} delivered={delivered} dropped={dropped} \
         calling-thread CPU {:.0} ns/span (wall {:.0} ns/span), all threads CPU {:.0} ns/span",
        if tags { 3 } else { 0 },
        calling_ns as f64 / created as f64,
        calling_wall.as_nanos() as f64 / created as f64,
        all as f64 / created as f64,
    );
    if delivered != created || dropped != 0 {
        eprintln!(
            "INVALID: {} spans were not delivered",
            created - delivered.min(created)
        );
        std::process::exit(1);
    }
}
