//! The benchmark cases, one module per case, one function per library.
//!
//! Every library is configured to do the equivalent work: spans are sampled
//! (or not) by a constant sampler and handed to the library's own batching
//! pipeline, whose exporter discards them. So the numbers include getting
//! the span to the reporter/processor, not sending it.

#![allow(clippy::unwrap_used)]

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use divan::{Bencher, black_box};

// ---------------------------------------------------------------- clew --

mod clew_setup {
    use super::*;
    use clew_client::Tracer;
    use clew_client::reporter::{RemoteReporter, RemoteReporterOptions};
    use clew_client::sampler::ConstSampler;
    use clew_client::sender::{SendError, Sender};

    pub static DELIVERED: AtomicU64 = AtomicU64::new(0);

    #[derive(Debug)]
    struct Discard;
    impl Sender for Discard {
        fn append(&mut self, span: clew_model::Span) -> Result<usize, SendError> {
            black_box(span);
            DELIVERED.fetch_add(1, Ordering::Relaxed);
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
                    queue_size: 4096,
                    ..Default::default()
                },
            ))
            .build()
    }

    pub static SAMPLED: LazyLock<Tracer> = LazyLock::new(|| tracer(true));
    pub static UNSAMPLED: LazyLock<Tracer> = LazyLock::new(|| tracer(false));

    /// Spans delivered to the sender so far, after a flush.
    pub fn delivered() -> u64 {
        SAMPLED.flush();
        DELIVERED.load(Ordering::Relaxed)
    }
}

// ------------------------------------------------- OpenTelemetry SDK --

mod otel_setup {
    use super::*;
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::trace::{
        BatchSpanProcessor, Sampler, SdkTracer, SdkTracerProvider, SpanData, SpanExporter,
    };

    pub static DELIVERED: AtomicU64 = AtomicU64::new(0);

    #[derive(Debug)]
    struct Discard;
    impl SpanExporter for Discard {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            DELIVERED.fetch_add(batch.len() as u64, Ordering::Relaxed);
            black_box(batch);
            Ok(())
        }
    }

    /// Spans delivered to the exporter so far, after a flush.
    pub fn delivered() -> u64 {
        let _ = SAMPLED_PROVIDER.force_flush();
        DELIVERED.load(Ordering::Relaxed)
    }

    fn provider(sampled: bool) -> SdkTracerProvider {
        SdkTracerProvider::builder()
            .with_sampler(if sampled {
                Sampler::AlwaysOn
            } else {
                Sampler::AlwaysOff
            })
            .with_span_processor(BatchSpanProcessor::builder(Discard).build())
            .build()
    }

    pub static SAMPLED_PROVIDER: LazyLock<SdkTracerProvider> = LazyLock::new(|| provider(true));
    pub static UNSAMPLED_PROVIDER: LazyLock<SdkTracerProvider> = LazyLock::new(|| provider(false));
    pub static SAMPLED: LazyLock<SdkTracer> = LazyLock::new(|| SAMPLED_PROVIDER.tracer("bench"));
    pub static UNSAMPLED: LazyLock<SdkTracer> =
        LazyLock::new(|| UNSAMPLED_PROVIDER.tracer("bench"));
}

// --------------------------------------------------------- fastrace --

mod fastrace_setup {
    use super::*;
    use fastrace::collector::{Config, Reporter, SpanRecord};

    pub static DELIVERED: AtomicU64 = AtomicU64::new(0);

    struct Discard;
    impl Reporter for Discard {
        fn report(&mut self, spans: Vec<SpanRecord>) {
            DELIVERED.fetch_add(spans.len() as u64, Ordering::Relaxed);
            divan::black_box(spans);
        }
    }

    /// Spans delivered to the reporter so far, after a flush.
    pub fn delivered() -> u64 {
        fastrace::flush();
        DELIVERED.load(Ordering::Relaxed)
    }

    pub fn install() {
        fastrace::set_reporter(Discard, Config::default());
    }
}

// ------------------------------------------------ rustracing_jaeger --

mod rustracing_setup {
    use super::*;
    use rustracing::sampler::{AllSampler, NullSampler};
    use rustracing_jaeger::Tracer;

    pub static DELIVERED: AtomicU64 = AtomicU64::new(0);

    /// Spans taken off the channel so far.
    pub fn delivered() -> u64 {
        DELIVERED.load(Ordering::Relaxed)
    }

    fn tracer(sampled: bool) -> Tracer {
        let (tx, rx) = crossbeam_channel::bounded(1 << 16);
        // Stands in for the reporter thread: takes spans off the channel.
        std::thread::spawn(move || {
            for s in rx {
                black_box(s);
                DELIVERED.fetch_add(1, Ordering::Relaxed);
            }
        });
        if sampled {
            Tracer::with_sender(AllSampler, tx)
        } else {
            Tracer::with_sender(NullSampler, tx)
        }
    }

    pub static SAMPLED: LazyLock<Tracer> = LazyLock::new(|| tracer(true));
    pub static UNSAMPLED: LazyLock<Tracer> = LazyLock::new(|| tracer(false));
}

// -------------------------------------- tracing + tracing-opentelemetry --

mod tracing_setup {
    use super::*;
    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::layer::SubscriberExt;

    fn dispatch(provider: &opentelemetry_sdk::trace::SdkTracerProvider) -> tracing::Dispatch {
        let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"));
        tracing::Dispatch::new(tracing_subscriber::registry().with(layer))
    }

    pub static SAMPLED: LazyLock<tracing::Dispatch> =
        LazyLock::new(|| dispatch(&super::otel_setup::SAMPLED_PROVIDER));
    pub static UNSAMPLED: LazyLock<tracing::Dispatch> =
        LazyLock::new(|| dispatch(&super::otel_setup::UNSAMPLED_PROVIDER));
}

/// Initialises every library before timing starts.
pub fn setup() {
    LazyLock::force(&clew_setup::SAMPLED);
    LazyLock::force(&clew_setup::UNSAMPLED);
    LazyLock::force(&otel_setup::SAMPLED);
    LazyLock::force(&otel_setup::UNSAMPLED);
    LazyLock::force(&rustracing_setup::SAMPLED);
    LazyLock::force(&rustracing_setup::UNSAMPLED);
    LazyLock::force(&tracing_setup::SAMPLED);
    LazyLock::force(&tracing_setup::UNSAMPLED);
    fastrace_setup::install();
}

/// Set when any row dropped spans; `main` then exits with status 1.
pub static INVALID: AtomicBool = AtomicBool::new(false);

/// Runs one single-threaded case and checks that the library delivered
/// every span the case made (`spans` per iteration): a library that sheds
/// spans does less work, so such a row is printed INVALID. clew is also
/// checked against its own drop counter.
fn checked<O>(
    b: Bencher,
    lib: &str,
    spans: u64,
    delivered: fn() -> u64,
    mut run: impl FnMut() -> O,
) {
    let before = delivered();
    let clew_dropped = clew_setup::SAMPLED.reporter_stats().dropped;
    let iterations = Cell::new(0u64);
    b.bench_local(|| {
        iterations.set(iterations.get() + 1);
        run()
    });
    let created = iterations.get() * spans;
    let mut got = delivered() - before;
    for _ in 0..100 {
        if got >= created {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        got = delivered() - before;
    }
    let clew_dropped = clew_setup::SAMPLED.reporter_stats().dropped - clew_dropped;
    if got != created || clew_dropped != 0 {
        INVALID.store(true, Ordering::Relaxed);
        eprintln!(
            "INVALID ROW {lib}: created {created} spans, delivered {got} (clew's drop counter: +{clew_dropped})"
        );
    }
}

/// After the run: clew's drop counter covers the two-thread cases too
/// (the peers' deliveries are checked only in single-threaded cases). Exits
/// with status 1 when any row dropped spans.
pub fn finish() {
    let dropped = clew_setup::SAMPLED.reporter_stats().dropped;
    if dropped != 0 {
        eprintln!("INVALID: clew dropped {dropped} spans in this run");
    }
    if INVALID.load(Ordering::Relaxed) || dropped != 0 {
        eprintln!("rows marked INVALID dropped spans: their times are not results");
        std::process::exit(1);
    }
}

// ============================================================ cases ==

/// A root span started and finished, no tags.
mod sampled_span {
    use super::*;

    #[divan::bench]
    fn clew(b: Bencher) {
        checked(b, "sampled_span clew", 1, clew_setup::delivered, || {
            clew_setup::SAMPLED.span("op").start().finish()
        });
    }

    #[divan::bench]
    fn opentelemetry(b: Bencher) {
        use opentelemetry::trace::{Span, Tracer};
        checked(
            b,
            "sampled_span opentelemetry",
            1,
            otel_setup::delivered,
            || otel_setup::SAMPLED.start("op").end(),
        );
    }

    #[divan::bench]
    fn fastrace(b: Bencher) {
        checked(
            b,
            "sampled_span fastrace",
            1,
            fastrace_setup::delivered,
            || {
                drop(fastrace::Span::root(
                    "op",
                    fastrace::prelude::SpanContext::random(),
                ))
            },
        );
    }

    #[divan::bench]
    fn rustracing_jaeger(b: Bencher) {
        checked(
            b,
            "sampled_span rustracing_jaeger",
            1,
            rustracing_setup::delivered,
            || drop(rustracing_setup::SAMPLED.span("op").start()),
        );
    }

    #[divan::bench]
    fn tracing_opentelemetry(b: Bencher) {
        checked(
            b,
            "sampled_span tracing_opentelemetry",
            1,
            otel_setup::delivered,
            || {
                tracing::dispatcher::with_default(&tracing_setup::SAMPLED, || {
                    drop(tracing::info_span!("op").entered());
                })
            },
        );
    }
}

/// A root span with three tags (string, int, bool). The bodies are shared
/// with `two_threads_3_tags`.
mod sampled_span_3_tags {
    use super::*;

    pub(super) fn clew_body() {
        let mut s = clew_setup::SAMPLED.span("op").start();
        s.set_tag("http.method", "GET")
            .set_tag("http.status_code", 200)
            .set_tag("error", false);
        s.finish();
    }

    pub(super) fn opentelemetry_body() {
        use opentelemetry::KeyValue;
        use opentelemetry::trace::{Span, Tracer};
        let mut s = otel_setup::SAMPLED.start("op");
        s.set_attribute(KeyValue::new("http.method", "GET"));
        s.set_attribute(KeyValue::new("http.status_code", 200));
        s.set_attribute(KeyValue::new("error", false));
        s.end();
    }

    pub(super) fn fastrace_body() {
        let s = fastrace::Span::root("op", fastrace::prelude::SpanContext::random());
        // fastrace properties are strings only.
        let s = s
            .with_property(|| ("http.method", "GET"))
            .with_property(|| ("http.status_code", "200"))
            .with_property(|| ("error", "false"));
        drop(s);
    }

    pub(super) fn rustracing_jaeger_body() {
        use rustracing::tag::Tag;
        let s = rustracing_setup::SAMPLED
            .span("op")
            .tag(Tag::new("http.method", "GET"))
            .tag(Tag::new("http.status_code", 200i64))
            .tag(Tag::new("error", false))
            .start();
        drop(s);
    }

    pub(super) fn tracing_opentelemetry_body() {
        tracing::dispatcher::with_default(&tracing_setup::SAMPLED, || {
            drop(
                tracing::info_span!(
                    "op",
                    http.method = "GET",
                    http.status_code = 200,
                    error = false
                )
                .entered(),
            );
        });
    }

    #[divan::bench]
    fn clew(b: Bencher) {
        checked(b, "3_tags clew", 1, clew_setup::delivered, clew_body);
    }

    #[divan::bench]
    fn opentelemetry(b: Bencher) {
        checked(
            b,
            "3_tags opentelemetry",
            1,
            otel_setup::delivered,
            opentelemetry_body,
        );
    }

    #[divan::bench]
    fn fastrace(b: Bencher) {
        checked(
            b,
            "3_tags fastrace",
            1,
            fastrace_setup::delivered,
            fastrace_body,
        );
    }

    #[divan::bench]
    fn rustracing_jaeger(b: Bencher) {
        checked(
            b,
            "3_tags rustracing_jaeger",
            1,
            rustracing_setup::delivered,
            rustracing_jaeger_body,
        );
    }

    #[divan::bench]
    fn tracing_opentelemetry(b: Bencher) {
        checked(
            b,
            "3_tags tracing_opentelemetry",
            1,
            otel_setup::delivered,
            tracing_opentelemetry_body,
        );
    }
}

/// A root span the sampler rejects.
mod unsampled_span {
    use super::*;

    #[divan::bench]
    fn clew() {
        let mut s = clew_setup::UNSAMPLED.span("op").start();
        s.set_tag("http.method", "GET");
        s.finish();
    }

    #[divan::bench]
    fn opentelemetry() {
        use opentelemetry::KeyValue;
        use opentelemetry::trace::{Span, Tracer};
        let mut s = otel_setup::UNSAMPLED.start("op");
        s.set_attribute(KeyValue::new("http.method", "GET"));
        s.end();
    }

    #[divan::bench]
    fn fastrace() {
        let ctx = fastrace::prelude::SpanContext::random().sampled(false);
        drop(fastrace::Span::root("op", ctx).with_property(|| ("http.method", "GET")));
    }

    #[divan::bench]
    fn rustracing_jaeger() {
        use rustracing::tag::Tag;
        drop(
            rustracing_setup::UNSAMPLED
                .span("op")
                .tag(Tag::new("http.method", "GET"))
                .start(),
        );
    }

    #[divan::bench]
    fn tracing_opentelemetry() {
        tracing::dispatcher::with_default(&tracing_setup::UNSAMPLED, || {
            drop(tracing::info_span!("op", http.method = "GET").entered());
        });
    }
}

/// A child span of a parent context received from elsewhere.
mod child_span {
    use super::*;

    #[divan::bench]
    fn clew(b: Bencher) {
        let parent = clew_setup::SAMPLED.span("parent").start();
        let ctx = parent.context().clone();
        checked(b, "child_span clew", 1, clew_setup::delivered, || {
            clew_setup::SAMPLED
                .span("child")
                .child_of(&ctx)
                .start()
                .finish()
        });
    }

    #[divan::bench]
    fn opentelemetry(b: Bencher) {
        use opentelemetry::Context;
        use opentelemetry::trace::{Span, TraceContextExt, Tracer};
        let parent = otel_setup::SAMPLED.start("parent");
        let cx = Context::new().with_remote_span_context(parent.span_context().clone());
        checked(
            b,
            "child_span opentelemetry",
            1,
            otel_setup::delivered,
            || otel_setup::SAMPLED.start_with_context("child", &cx).end(),
        );
    }

    #[divan::bench]
    fn fastrace(b: Bencher) {
        use fastrace::prelude::{SpanContext, SpanId, TraceId};
        let ctx = SpanContext::new(TraceId(7), SpanId(9));
        checked(
            b,
            "child_span fastrace",
            1,
            fastrace_setup::delivered,
            || drop(fastrace::Span::root("child", ctx)),
        );
    }

    #[divan::bench]
    fn rustracing_jaeger(b: Bencher) {
        let parent = rustracing_setup::SAMPLED.span("parent").start();
        let ctx = parent.context().cloned();
        checked(
            b,
            "child_span rustracing_jaeger",
            1,
            rustracing_setup::delivered,
            || {
                drop(
                    rustracing_setup::SAMPLED
                        .span("child")
                        .child_of(&ctx)
                        .start(),
                )
            },
        );
    }

    #[divan::bench]
    fn tracing_opentelemetry(b: Bencher) {
        use opentelemetry::Context;
        use opentelemetry::trace::{TraceContextExt, Tracer};
        use tracing_opentelemetry::OpenTelemetrySpanExt;
        let parent = otel_setup::SAMPLED.start("parent");
        let cx = Context::new()
            .with_remote_span_context(opentelemetry::trace::Span::span_context(&parent).clone());
        tracing::dispatcher::with_default(&tracing_setup::SAMPLED, || {
            checked(
                b,
                "child_span tracing_opentelemetry",
                1,
                otel_setup::delivered,
                || {
                    let s = tracing::info_span!("child");
                    let _ = s.set_parent(cx.clone());
                    drop(s.entered());
                },
            );
        });
    }
}

/// Inject a context into a header map and extract it again, Jaeger format.
mod inject_extract_jaeger {
    use super::*;

    #[divan::bench]
    fn clew(b: Bencher) {
        use clew_client::propagation::{JaegerPropagator, Propagator};
        let s = clew_setup::SAMPLED.span("p").start();
        let ctx = s.context().clone();
        let p = JaegerPropagator::default();
        b.bench_local(|| {
            let mut m: HashMap<String, String> = HashMap::new();
            p.inject(&ctx, &mut m);
            black_box(p.extract(&m))
        });
    }

    #[divan::bench]
    fn opentelemetry(b: Bencher) {
        use opentelemetry::Context;
        use opentelemetry::propagation::TextMapPropagator;
        use opentelemetry::trace::{Span, TraceContextExt, Tracer};
        let p = opentelemetry_jaeger_propagator::Propagator::new();
        let s = otel_setup::SAMPLED.start("p");
        let cx = Context::new().with_remote_span_context(s.span_context().clone());
        b.bench_local(|| {
            let mut m: HashMap<String, String> = HashMap::new();
            p.inject_context(&cx, &mut m);
            black_box(p.extract(&m))
        });
    }

    #[divan::bench]
    fn rustracing_jaeger(b: Bencher) {
        use rustracing_jaeger::span::SpanContext;
        let s = rustracing_setup::SAMPLED.span("p").start();
        let ctx = s.context().cloned().unwrap();
        b.bench_local(|| {
            let mut m: HashMap<String, String> = HashMap::new();
            ctx.inject_to_text_map(&mut m).unwrap();
            black_box(SpanContext::extract_from_text_map(&m).unwrap())
        });
    }
}

/// Inject a context into a header map and extract it again, W3C format.
mod inject_extract_w3c {
    use super::*;

    #[divan::bench]
    fn clew(b: Bencher) {
        use clew_client::propagation::{Propagator, TraceContextPropagator};
        let s = clew_setup::SAMPLED.span("p").start();
        let ctx = s.context().clone();
        b.bench_local(|| {
            let mut m: HashMap<String, String> = HashMap::new();
            TraceContextPropagator.inject(&ctx, &mut m);
            black_box(TraceContextPropagator.extract(&m))
        });
    }

    #[divan::bench]
    fn opentelemetry(b: Bencher) {
        use opentelemetry::Context;
        use opentelemetry::propagation::TextMapPropagator;
        use opentelemetry::trace::{Span, TraceContextExt, Tracer};
        let p = opentelemetry_sdk::propagation::TraceContextPropagator::new();
        let s = otel_setup::SAMPLED.start("p");
        let cx = Context::new().with_remote_span_context(s.span_context().clone());
        b.bench_local(|| {
            let mut m: HashMap<String, String> = HashMap::new();
            p.inject_context(&cx, &mut m);
            black_box(p.extract(&m))
        });
    }

    #[divan::bench]
    fn fastrace(b: Bencher) {
        use fastrace::prelude::SpanContext;
        let ctx = SpanContext::random();
        b.bench_local(|| {
            let mut m: HashMap<String, String> = HashMap::new();
            m.insert("traceparent".into(), ctx.encode_w3c_traceparent());
            black_box(SpanContext::decode_w3c_traceparent(&m["traceparent"]))
        });
    }
}

/// Sampled spans with 3 tags from 2 threads at once (time per span per thread).
mod two_threads_3_tags {
    #[divan::bench(threads = [2])]
    fn clew() {
        super::sampled_span_3_tags::clew_body();
    }

    #[divan::bench(threads = [2])]
    fn opentelemetry() {
        super::sampled_span_3_tags::opentelemetry_body();
    }

    #[divan::bench(threads = [2])]
    fn fastrace() {
        super::sampled_span_3_tags::fastrace_body();
    }

    #[divan::bench(threads = [2])]
    fn rustracing_jaeger() {
        super::sampled_span_3_tags::rustracing_jaeger_body();
    }

    #[divan::bench(threads = [2])]
    fn tracing_opentelemetry() {
        super::sampled_span_3_tags::tracing_opentelemetry_body();
    }
}
