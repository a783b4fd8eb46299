//! The tracer: starts spans, owns the sampler, reporter and propagator.

use std::borrow::Cow;
use std::sync::Arc;

use clew_model::Process;

use crate::context::SpanContext;
use crate::id::TraceIdKind;
use crate::propagation::{Extractor, Injector, Propagator, binary};
use crate::reporter::{NullReporter, Reporter, ReporterStats};
use crate::sampler::{ConstSampler, Sampler, SamplingDecision};
use crate::span::{Span, SpanBuilder};

#[derive(Debug)]
pub(crate) struct TracerInner {
    pub(crate) id: u64,
    pub(crate) sampler: Arc<dyn Sampler>,
    /// The sampler's [`Sampler::constant_decision`], asked once here so
    /// root spans skip the call through the trait object.
    pub(crate) constant_decision: Option<SamplingDecision>,
    pub(crate) reporter: Arc<dyn Reporter>,
    pub(crate) propagator: Arc<dyn Propagator>,
    pub(crate) process: Arc<Process>,
    pub(crate) trace_ids: TraceIdKind,
    pub(crate) disabled: bool,
    /// Roots without a parent are never sampled (a disabled tracer, or a
    /// sampler whose constant decision is no): their start skips the
    /// sampling code.
    pub(crate) roots_unsampled: bool,
    /// The reporter takes batches ([`Reporter::batch_size`] > 0): sampled
    /// spans are collected thread-locally (see `span::local`).
    pub(crate) batching: bool,
}

/// Starts spans. Cheap to clone (one `Arc`), `Send + Sync`.
///
/// ```
/// use clew_client::{Tracer, sampler::ConstSampler, reporter::InMemoryReporter};
/// let reporter = InMemoryReporter::new();
/// let tracer = Tracer::builder("demo")
///     .sampler(ConstSampler(true))
///     .reporter(reporter.clone())
///     .build();
/// let root = tracer.span("hello").start();
/// tracer.span("world").child_of(&root).with_tag("k", 1).start().finish();
/// root.finish();
/// assert_eq!(reporter.spans().len(), 2);
/// ```
#[derive(Clone, Debug)]
pub struct Tracer {
    inner: Arc<TracerInner>,
}

impl Tracer {
    /// Starts configuring a tracer for a service.
    pub fn builder(service_name: impl Into<String>) -> TracerBuilder {
        TracerBuilder::new(service_name.into())
    }

    /// A tracer that samples nothing and reports nothing.
    pub fn noop() -> Self {
        Tracer::builder("noop")
            .sampler(ConstSampler(false))
            .disabled(true)
            .build()
    }

    pub(crate) fn inner(&self) -> &TracerInner {
        &self.inner
    }

    /// Prepares a span with this operation name.
    #[inline]
    pub fn span(&self, operation_name: impl Into<Cow<'static, str>>) -> SpanBuilder<'_> {
        SpanBuilder::new(self, operation_name.into())
    }

    /// Starts a span with no options (child of the active span, if any).
    #[inline]
    pub fn start_span(&self, operation_name: impl Into<Cow<'static, str>>) -> Span {
        self.span(operation_name).start()
    }

    /// The service name spans are reported under.
    pub fn service_name(&self) -> &str {
        &self.inner.process.service_name
    }

    /// How this tracer makes trace IDs.
    pub fn trace_id_kind(&self) -> TraceIdKind {
        self.inner.trace_ids
    }

    /// The process (service name and tracer tags) spans are reported with.
    pub fn process(&self) -> &Arc<Process> {
        &self.inner.process
    }

    /// Writes `context` into a carrier with the configured propagator.
    pub fn inject(&self, context: &SpanContext, carrier: &mut dyn Injector) {
        self.inner.propagator.inject(context, carrier);
    }

    /// Reads a context from a carrier with the configured propagator;
    /// `None` when the carrier has none or it is malformed.
    pub fn extract(&self, carrier: &dyn Extractor) -> Option<SpanContext> {
        self.inner.propagator.extract(carrier)
    }

    /// Encodes `context` in Jaeger's binary carrier format.
    pub fn inject_binary(&self, context: &SpanContext) -> Vec<u8> {
        binary::encode(context)
    }

    /// Decodes a Jaeger binary carrier.
    pub fn extract_binary(&self, bytes: &[u8]) -> Option<SpanContext> {
        binary::decode(bytes)
            .map_err(|e| log::debug!("clew: ignoring binary carrier: {e}"))
            .ok()
    }

    /// Sends everything buffered so far and waits for it.
    pub fn flush(&self) {
        crate::span::local::hand_off_this_thread();
        self.inner.reporter.flush();
    }

    /// Flushes and stops the reporter and sampler; spans finished afterwards
    /// are dropped (and counted).
    pub fn close(&self) {
        crate::span::local::hand_off_this_thread();
        self.inner.reporter.close();
        self.inner.sampler.close();
    }

    /// Reporter counters (reported, dropped, failed spans).
    pub fn reporter_stats(&self) -> ReporterStats {
        self.inner.reporter.stats()
    }
}

/// Builds a [`Tracer`] from parts. [`crate::Config`] builds one from
/// settings and environment variables.
#[derive(Debug)]
#[must_use]
pub struct TracerBuilder {
    process: Process,
    sampler: Arc<dyn Sampler>,
    reporter: Arc<dyn Reporter>,
    propagator: Option<Arc<dyn Propagator>>,
    trace_id_128bit: bool,
    xray_trace_ids: Option<bool>,
    disabled: bool,
    standard_tags: bool,
}

impl TracerBuilder {
    fn new(service_name: String) -> Self {
        TracerBuilder {
            process: Process::new(service_name),
            sampler: Arc::new(ConstSampler(true)),
            reporter: Arc::new(NullReporter),
            propagator: None,
            trace_id_128bit: false,
            xray_trace_ids: None,
            disabled: false,
            standard_tags: true,
        }
    }

    /// The sampler (default: `const` true).
    pub fn sampler(mut self, sampler: impl Sampler + 'static) -> Self {
        self.sampler = Arc::new(sampler);
        self
    }

    /// A shared sampler.
    pub fn sampler_arc(mut self, sampler: Arc<dyn Sampler>) -> Self {
        self.sampler = sampler;
        self
    }

    /// The reporter (default: one that drops everything).
    pub fn reporter(mut self, reporter: impl Reporter + 'static) -> Self {
        self.reporter = Arc::new(reporter);
        self
    }

    /// A shared reporter.
    pub fn reporter_arc(mut self, reporter: Arc<dyn Reporter>) -> Self {
        self.reporter = reporter;
        self
    }

    /// The propagator for inject/extract (default: Jaeger headers).
    pub fn propagator(mut self, propagator: impl Propagator + 'static) -> Self {
        self.propagator = Some(Arc::new(propagator));
        self
    }

    /// A shared propagator.
    pub fn propagator_arc(mut self, propagator: Arc<dyn Propagator>) -> Self {
        self.propagator = Some(propagator);
        self
    }

    /// A tracer-level (process) tag.
    pub fn tag(mut self, key: &str, value: impl Into<crate::TagValue>) -> Self {
        let kv = crate::Tag::new(key.to_owned(), value).into_model();
        self.process.tags.push(kv);
        self
    }

    /// Generate 128-bit trace IDs (default: 64-bit, as Jaeger clients).
    pub fn trace_id_128bit(mut self, yes: bool) -> Self {
        self.trace_id_128bit = yes;
        self
    }

    /// Make trace IDs AWS X-Ray accepts: 128 bits whose first 32 are the
    /// start time in Unix seconds ([`TraceIdKind::XRay`]). Default: on when
    /// the propagator writes X-Ray headers
    /// ([`Propagator::needs_xray_trace_ids`]), off otherwise.
    pub fn xray_trace_ids(mut self, yes: bool) -> Self {
        self.xray_trace_ids = Some(yes);
        self
    }

    /// A disabled tracer starts only unsampled spans.
    pub fn disabled(mut self, yes: bool) -> Self {
        self.disabled = yes;
        self
    }

    /// Whether to add `jaeger.version`, `hostname`, `ip` and `client-uuid`
    /// process tags (default: yes, as Jaeger clients do).
    pub fn standard_process_tags(mut self, yes: bool) -> Self {
        self.standard_tags = yes;
        self
    }

    /// Builds the tracer and tells the reporter which process it reports for.
    pub fn build(self) -> Tracer {
        let mut process = self.process;
        if self.standard_tags {
            crate::process::add_standard_tags(&mut process);
        }
        let process = Arc::new(process);
        self.reporter.set_process(process.clone());
        let id = crate::registry::register(&self.reporter);
        let propagator = self
            .propagator
            .unwrap_or_else(|| Arc::new(crate::propagation::JaegerPropagator::default()));
        let trace_ids = if self
            .xray_trace_ids
            .unwrap_or_else(|| propagator.needs_xray_trace_ids())
        {
            TraceIdKind::XRay
        } else if self.trace_id_128bit {
            TraceIdKind::Random128
        } else {
            TraceIdKind::Random64
        };
        let batching = self.reporter.batch_size() > 0;
        let constant_decision = self.sampler.constant_decision();
        Tracer {
            inner: Arc::new(TracerInner {
                id,
                roots_unsampled: self.disabled || constant_decision.is_some_and(|d| !d.sampled),
                constant_decision,
                sampler: self.sampler,
                reporter: self.reporter,
                propagator,
                process,
                trace_ids,
                disabled: self.disabled,
                batching,
            }),
        }
    }
}
