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
//! Both libraries go as far as bytes ready for the wire, and clew further:
//! * clew: its real `UdpSender`, which encodes each batch straight from the
//!   reporter's rows to Jaeger Thrift compact `emitBatch` datagrams and
//!   sends them to a local UDP socket nobody reads (so clew's figure also
//!   pays the `send` system calls, which fastrace's does not).
//! * clew-otlp: the work clew's OTLP/HTTP sender does before posting: each
//!   batch's rows are encoded straight into an `ExportTraceServiceRequest`
//!   in protobuf (`OtlpRequest`), whose bytes are taken every 512 spans
//!   (then discarded).
//! * clew-discard: a sender that takes each batch and discards it, to see
//!   how much the background thread's work costs the calling thread.
//! * fastrace: its OpenTelemetry reporter (`fastrace-opentelemetry`), which
//!   turns each batch of `SpanRecord`s into OpenTelemetry `SpanData`, with
//!   an exporter that does what `opentelemetry-otlp` does before sending:
//!   groups them into an `ExportTraceServiceRequest` and encodes it to
//!   protobuf, then discards the bytes.
//!
//! Delivery is counted where each library's pipeline ends: clew's sender
//! reports the spans it sent (`reporter_stats().reported`); the fastrace
//! exporter counts the spans it encoded.

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
    use clew_client::Tracer;
    use clew_client::reporter::{RemoteReporter, RemoteReporterOptions};
    use clew_client::sampler::ConstSampler;
    use clew_client::sender::UdpSender;

    /// A tracer whose reporter sends to `agent` (a socket nobody reads).
    pub fn tracer(agent: std::net::SocketAddr) -> Tracer {
        with_sender(UdpSender::new(agent).unwrap())
    }

    /// What `OtlpHttpSender` does up to the request body, without the
    /// HTTP request: each batch encoded row by row into an OTLP request
    /// (`OtlpRequest`, the sender's own encoder), the body written out
    /// every 512 spans.
    #[derive(Debug, Default)]
    pub struct EncodeOtlp {
        request: clew_client::sender::OtlpRequest,
        out: Vec<u8>,
    }

    impl EncodeOtlp {
        fn encode(&mut self) -> usize {
            let n = self.request.len();
            self.out.clear();
            self.request.take_into(&mut self.out);
            std::hint::black_box(&self.out);
            n
        }
    }

    impl clew_client::sender::Sender for EncodeOtlp {
        fn append(
            &mut self,
            span: clew_model::Span,
        ) -> Result<usize, clew_client::sender::SendError> {
            self.request.push_span(&span);
            Ok(if self.request.len() >= 512 {
                self.encode()
            } else {
                0
            })
        }
        fn append_batch(
            &mut self,
            batch: &clew_client::reporter::SpanBatch,
            process: &std::sync::Arc<clew_model::Process>,
        ) -> clew_client::sender::Appended {
            self.request.push_batch(batch, process);
            let sent = if self.request.len() >= 512 {
                self.encode()
            } else {
                0
            };
            clew_client::sender::Appended { sent, lost: 0 }
        }
        fn flush(&mut self) -> Result<usize, clew_client::sender::SendError> {
            Ok(self.encode())
        }
    }

    /// Takes each batch and discards it (how much of clew's calling-thread
    /// time depends on what its background thread does meanwhile).
    #[derive(Debug, Default)]
    pub struct Discard;

    impl clew_client::sender::Sender for Discard {
        fn append(
            &mut self,
            _span: clew_model::Span,
        ) -> Result<usize, clew_client::sender::SendError> {
            Ok(1)
        }
        fn flush(&mut self) -> Result<usize, clew_client::sender::SendError> {
            Ok(0)
        }
        fn append_batch(
            &mut self,
            batch: &clew_client::reporter::SpanBatch,
            _process: &std::sync::Arc<clew_model::Process>,
        ) -> clew_client::sender::Appended {
            clew_client::sender::Appended {
                sent: batch.len(),
                lost: 0,
            }
        }
    }

    pub fn with_sender(sender: impl clew_client::sender::Sender + 'static) -> Tracer {
        Tracer::builder("bench")
            .sampler(ConstSampler(true))
            .reporter(RemoteReporter::new(
                sender,
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
    use fastrace::collector::Config;
    use fastrace::prelude::*;
    use otel33_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use otel33_proto::transform::common::tonic::ResourceAttributesWithSchema;
    use otel33_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
    use otel33_sdk::error::OTelSdkResult;
    use otel33_sdk::trace::{SpanData, SpanExporter};
    use prost::Message;
    use std::borrow::Cow;
    use std::sync::Mutex;

    /// Encodes each batch as `opentelemetry-otlp` would before sending it.
    #[derive(Debug, Default)]
    struct EncodeOtlp {
        resource: ResourceAttributesWithSchema,
        out: Mutex<Vec<u8>>,
    }

    impl SpanExporter for EncodeOtlp {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            let n = batch.len();
            let request = ExportTraceServiceRequest {
                resource_spans: group_spans_by_resource_and_scope(batch, &self.resource),
            };
            let mut out = self.out.lock().unwrap();
            out.clear();
            request.encode(&mut *out).unwrap();
            black_box(&*out);
            DELIVERED.fetch_add(n as u64, Ordering::Relaxed);
            Ok(())
        }

        fn set_resource(&mut self, resource: &otel33_sdk::Resource) {
            self.resource = resource.into();
        }
    }

    pub fn install() {
        let resource = otel33_sdk::Resource::builder_empty()
            .with_attributes([otel33::KeyValue::new("service.name", "bench")])
            .build();
        let reporter = fastrace_opentelemetry::OpenTelemetryReporter::new(
            EncodeOtlp::default(),
            Cow::Owned(resource),
            otel33::InstrumentationScope::builder("bench").build(),
        );
        fastrace::set_reporter(reporter, Config::default());
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

/// Spans each library's pipeline has finished with.
fn delivered(clew: &Option<clew_client::Tracer>) -> u64 {
    match clew {
        Some(t) => t.reporter_stats().reported,
        None => DELIVERED.load(Ordering::Relaxed),
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

    // clew's datagrams go to a socket that is never read (the kernel
    // drops what overflows its buffer).
    let agent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let clew = match lib {
        "clew" => Some(clew_lib::tracer(agent.local_addr().unwrap())),
        "clew-otlp" => Some(clew_lib::with_sender(clew_lib::EncodeOtlp::default())),
        "clew-discard" => Some(clew_lib::with_sender(clew_lib::Discard)),
        _ => None,
    };
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
            if delivered(&clew) >= made {
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
    let delivered = delivered(&clew);
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
