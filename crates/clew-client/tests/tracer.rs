//! The span API as a user sees it, through the in-memory reporter.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clew_client::propagation::{Extractor, JaegerPropagator, Propagator};
use clew_client::reporter::InMemoryReporter;
use clew_client::sampler::{ConstSampler, ProbabilisticSampler};
use clew_client::{RefType, SpanContext, Tag, TagValue, Tracer, global};

fn tracer(sampled: bool) -> (Tracer, InMemoryReporter) {
    let r = InMemoryReporter::new();
    let t = Tracer::builder("svc")
        .sampler(ConstSampler(sampled))
        .reporter(r.clone())
        .build();
    (t, r)
}

#[test]
fn child_inherits_trace_flags_and_baggage() {
    let (t, r) = tracer(true);
    let mut root = t.span("root").start();
    root.set_baggage_item("user", "42");
    let child = t.span("child").child_of(&root).start();
    assert_eq!(child.context().trace_id(), root.context().trace_id());
    assert_eq!(child.context().parent_id(), root.context().span_id());
    assert_eq!(child.baggage_item("user"), Some("42"));
    child.finish();
    root.finish();
    let spans = r.take();
    assert_eq!(spans.len(), 2);
    assert_eq!(spans[1].sampler.map(|s| s.kind.as_str()), Some("const"));
    assert!(spans[0].sampler.is_none());
}

#[test]
fn unsampled_spans_are_not_reported_and_children_follow_the_parent() {
    let (t, r) = tracer(false);
    let root = t.span("root").start();
    assert!(!root.is_sampled());
    let (t2, r2) = tracer(true);
    // A sampled tracer continuing an unsampled trace does not sample it.
    let child = t2.span("child").child_of(&root).start();
    assert!(!child.is_sampled());
    child.finish();
    root.finish();
    assert!(r.is_empty() && r2.is_empty());
}

#[test]
fn debug_id_forces_sampling_and_tags_the_root() {
    let (t, r) = tracer(false);
    let mut carrier = HashMap::new();
    carrier.insert("jaeger-debug-id".to_string(), "corr-1".to_string());
    let parent = t.extract(&carrier).expect("debug container");
    let span = t.span("forced").child_of(&parent).start();
    assert!(span.context().is_sampled() && span.context().is_debug());
    span.finish();
    let s = &r.take()[0];
    assert_eq!(s.tag("jaeger-debug-id"), Some(&TagValue::from("corr-1")));
    assert_eq!(s.context.parent_id().0, 0);
}

#[test]
fn active_span_is_the_implicit_parent_unless_ignored() {
    let (t, r) = tracer(true);
    let root = t.span("root").start();
    {
        let _scope = root.activate();
        t.span("implicit").start().finish();
        t.span("detached").ignore_active_span().start().finish();
    }
    t.span("after").start().finish();
    let root_ctx = root.context().clone();
    root.finish();
    let spans = r.take();
    assert_eq!(spans[0].context.parent_id(), root_ctx.span_id());
    assert_eq!(spans[1].context.parent_id().0, 0);
    assert_ne!(spans[1].context.trace_id(), root_ctx.trace_id());
    assert_eq!(spans[2].context.parent_id().0, 0);
}

#[test]
fn follows_from_alone_is_the_parent_with_its_kind() {
    let (t, r) = tracer(true);
    let cause = t.span("cause").start();
    t.span("effect").follows_from(&cause).start().finish();
    let s = &r.take()[0];
    assert_eq!(s.context.parent_id(), cause.context().span_id());
    assert_eq!(s.parent_ref_type, RefType::FollowsFrom);
    let m = clew_client::to_model(s.clone(), t.process());
    assert_eq!(m.references[0].ref_type, RefType::FollowsFrom);
}

#[test]
fn explicit_times_tags_logs_and_rename_are_recorded() {
    let (t, r) = tracer(true);
    let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let mut s = t
        .span("draft")
        .with_tag("k", "v")
        .with_start_time(start)
        .start();
    s.set_tag("n", 7)
        .set_tag("ok", true)
        .set_operation_name("final")
        .log_at(
            start + Duration::from_millis(5),
            [
                Tag::new("event", "cache-miss"),
                Tag::new("key", String::from("a")),
            ],
        );
    s.finish_at(start + Duration::from_millis(10));
    let f = &r.take()[0];
    assert_eq!(f.operation_name, "final");
    assert_eq!(f.start_time, 1_700_000_000_000_000_000);
    assert_eq!(f.duration, 10_000_000);
    assert_eq!(f.tags.len(), 3);
    assert_eq!(f.logs[0].timestamp, 1_700_000_000_005_000_000);
    assert_eq!(f.logs[0].fields.len(), 2);
}

#[test]
fn dropping_a_span_finishes_it_with_a_plausible_time() {
    let (t, r) = tracer(true);
    {
        let _s = t.span("dropped").start();
        std::thread::sleep(Duration::from_millis(2));
    }
    let f = &r.take()[0];
    assert!(f.duration >= 1_000_000, "{}", f.duration);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    assert!(now.abs_diff(f.start_time) < 5_000_000_000);
}

#[test]
fn spans_can_finish_on_another_thread() {
    let (t, r) = tracer(true);
    let s = t.span("moved").start();
    std::thread::spawn(move || s.finish())
        .join()
        .expect("thread");
    assert_eq!(r.len(), 1);
}

#[test]
fn trace_ids_are_128_bit_when_asked() {
    let t = Tracer::builder("svc").trace_id_128bit(true).build();
    assert!((0..20).any(|_| t.span("x").start().context().trace_id().high != 0));
    let t = Tracer::builder("svc").build();
    assert!((0..20).all(|_| t.span("x").start().context().trace_id().high == 0));
}

#[test]
fn probabilistic_roots_carry_their_rate() {
    let r = InMemoryReporter::new();
    let t = Tracer::builder("svc")
        .sampler(ProbabilisticSampler::new(1.0))
        .reporter(r.clone())
        .build();
    t.span("x").start().finish();
    let m = clew_client::to_model(r.take().remove(0), t.process());
    assert_eq!(
        m.tag("sampler.type").and_then(|v| v.as_str()),
        Some("probabilistic")
    );
    assert_eq!(m.tag("sampler.param"), Some(&clew_model::Value::F64(1.0)));
}

#[test]
fn injected_context_continues_in_another_tracer() {
    let (a, ra) = tracer(true);
    let (b, rb) = tracer(false);
    let mut root = a.span("client").start();
    root.set_baggage_item("tenant", "t 1");
    let mut headers = http::HeaderMap::new();
    a.inject(root.context(), &mut headers);
    let parent: SpanContext = b.extract(&headers).expect("context");
    assert_eq!(parent.baggage_item("tenant"), Some("t 1"));
    let server = b.span("server").child_of(&parent).start();
    assert!(
        server.is_sampled(),
        "sampling decision travels with the trace"
    );
    server.finish();
    root.finish();
    assert_eq!(
        rb.spans()[0].context.trace_id(),
        ra.spans()[0].context.trace_id()
    );
    // Binary carrier round trip too.
    let bytes = a.inject_binary(&ra.spans()[0].context);
    assert_eq!(
        b.extract_binary(&bytes).map(|c| c.span_id()),
        Some(ra.spans()[0].context.span_id())
    );
    // Garbage is ignored.
    assert!(b.extract_binary(&[1, 2, 3]).is_none());
    let bad: HashMap<String, String> = [("uber-trace-id".into(), "nope".into())].into();
    assert!(
        JaegerPropagator::default()
            .extract(&bad as &dyn Extractor)
            .is_none()
    );
}

#[test]
fn global_tracer_defaults_to_noop_and_can_be_set() {
    assert!(!global::tracer().span("x").start().is_sampled());
    let (t, r) = tracer(true);
    global::set_tracer(t);
    global::tracer().span("g").start().finish();
    assert_eq!(r.len(), 1);
    global::take_tracer();
}

#[test]
fn tracer_and_spans_cross_threads() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    fn assert_send<T: Send + 'static>() {}
    assert_send_sync::<Tracer>();
    assert_send_sync::<SpanContext>();
    assert_send::<clew_client::Span>();
}

#[test]
fn composite_reporter_gives_every_child_the_span() {
    use clew_client::reporter::CompositeReporter;
    let a = InMemoryReporter::new();
    let b = InMemoryReporter::new();
    let t = Tracer::builder("svc")
        .reporter(CompositeReporter::default().with(a.clone()).with(b.clone()))
        .build();
    t.span("x").with_tag("k", 1).start().finish();
    assert_eq!(a.spans(), b.spans());
    assert_eq!(a.len(), 1);
}

/// Counts `sample` calls; its constant decision (if any) says "sampled".
#[derive(Debug, Default)]
struct CountingSampler {
    calls: std::sync::atomic::AtomicUsize,
    constant: bool,
}

impl clew_client::sampler::Sampler for CountingSampler {
    fn sample(
        &self,
        _trace_id: clew_client::TraceId,
        _operation: &str,
    ) -> clew_client::sampler::SamplingDecision {
        self.calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        clew_client::sampler::SamplingDecision::new(
            false,
            clew_client::sampler::SamplerKind::Probabilistic,
            0.0,
        )
    }

    fn constant_decision(&self) -> Option<clew_client::sampler::SamplingDecision> {
        self.constant.then(|| {
            clew_client::sampler::SamplingDecision::new(
                true,
                clew_client::sampler::SamplerKind::Const,
                1.0,
            )
        })
    }
}

#[test]
fn a_constant_decision_replaces_the_sampler_call() {
    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    for constant in [false, true] {
        let sampler = Arc::new(CountingSampler {
            constant,
            ..Default::default()
        });
        let r = InMemoryReporter::new();
        let t = Tracer::builder("svc")
            .sampler_arc(sampler.clone())
            .reporter(r.clone())
            .build();
        for _ in 0..3 {
            let root = t.span("root").start();
            // Children follow the parent without asking the sampler.
            t.span("child").child_of(&root).start().finish();
            assert_eq!(root.is_sampled(), constant);
            root.finish();
        }
        let calls = sampler.calls.load(Ordering::Relaxed);
        if constant {
            assert_eq!(calls, 0);
            let spans = r.take();
            assert_eq!(spans.len(), 6);
            assert_eq!(spans[1].sampler.map(|s| s.kind.as_str()), Some("const"));
        } else {
            assert_eq!(calls, 3);
            assert!(r.is_empty());
        }
    }
}

#[test]
fn explicit_parent_outranks_the_active_one_and_active_unsampled_is_followed() {
    let (t, r) = tracer(true);
    let (unsampled_tracer, _) = tracer(false);
    let explicit = t.span("explicit").start();
    let quiet = unsampled_tracer.span("quiet").start();
    {
        let _scope = quiet.activate();
        // Under an unsampled active span, new spans stay unsampled...
        let implicit = t.span("implicit").start();
        assert!(!implicit.is_sampled());
        assert_eq!(implicit.context().parent_id(), quiet.context().span_id());
        implicit.finish();
        // ...unless given a parent of their own.
        let child = t.span("child").child_of(&explicit).start();
        assert!(child.is_sampled());
        assert_eq!(child.context().parent_id(), explicit.context().span_id());
        child.finish();
    }
    explicit.finish();
    quiet.finish();
    let names: Vec<_> = r.take().into_iter().map(|s| s.operation_name).collect();
    assert_eq!(names, ["child", "explicit"]);
}

#[test]
fn child_of_outranks_an_earlier_follows_from_and_empty_contexts_are_ignored() {
    let (t, r) = tracer(true);
    let cause = t.span("cause").start();
    let parent = t.span("parent").start();
    let empty = SpanContext::default();
    t.span("effect")
        .child_of(&empty)
        .follows_from(&cause)
        .child_of(&parent)
        .start()
        .finish();
    let s = &r.take()[0];
    assert_eq!(s.context.parent_id(), parent.context().span_id());
    assert_eq!(s.context.trace_id(), parent.context().trace_id());
    assert_eq!(s.parent_ref_type, RefType::ChildOf);
    assert_eq!(s.references.len(), 1);
    assert_eq!(s.references[0].ref_type, RefType::FollowsFrom);
    assert_eq!(s.references[0].span_id, cause.context().span_id());
}

#[test]
fn references_added_after_start_are_reported_after_the_parent() {
    let (t, r) = tracer(true);
    let parent = t.span("parent").start();
    let cause = t.span("cause").start();
    let mut s = t.span("effect").child_of(&parent).start();
    s.add_reference(RefType::FollowsFrom, cause.context())
        .add_reference(RefType::FollowsFrom, &SpanContext::default());
    s.finish();
    let (quiet, _) = tracer(false);
    let mut u = quiet.span("unsampled").start();
    u.add_reference(RefType::FollowsFrom, cause.context());
    u.finish();
    let spans = r.take();
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].context.parent_id(), parent.context().span_id());
    assert_eq!(spans[0].references.len(), 1, "the empty context is ignored");
    assert_eq!(spans[0].references[0].ref_type, RefType::FollowsFrom);
    assert_eq!(spans[0].references[0].span_id, cause.context().span_id());
}

/// B3 without a sampling state (and X-Ray `Sampled=?`) defers the decision:
/// this tracer's sampler decides, and the decision sticks for the children.
#[test]
fn deferred_parent_lets_the_local_sampler_decide() {
    use clew_client::propagation::{B3SinglePropagator, XRayPropagator};
    let b3: HashMap<String, String> = [(
        "b3".to_string(),
        "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1".to_string(),
    )]
    .into();
    let xray: HashMap<String, String> = [(
        "X-Amzn-Trace-Id".to_string(),
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?".to_string(),
    )]
    .into();
    let parents = [
        B3SinglePropagator.extract(&b3).expect("b3"),
        XRayPropagator.extract(&xray).expect("xray"),
    ];
    for parent in &parents {
        assert!(parent.is_sampling_deferred());
        let (t, r) = tracer(true);
        let span = t.span("server").child_of(parent).start();
        assert!(span.is_sampled(), "an always-on sampler keeps the trace");
        assert!(!span.context().is_sampling_deferred());
        assert_eq!(span.context().trace_id(), parent.trace_id());
        assert_eq!(span.context().parent_id(), parent.span_id());
        let child = t.span("child").child_of(&span).start();
        assert!(child.is_sampled());
        child.finish();
        span.finish();
        let spans = r.take();
        assert_eq!(spans.len(), 2);
        // The span that decided carries the sampler tags, as a root does.
        assert_eq!(spans[1].sampler.map(|s| s.kind.as_str()), Some("const"));

        let (t, r) = tracer(false);
        let span = t.span("server").child_of(parent).start();
        assert!(!span.is_sampled() && !span.context().is_sampling_deferred());
        assert_eq!(span.context().trace_id(), parent.trace_id());
        let child = t.span("child").child_of(&span).start();
        assert!(!child.is_sampled());
        child.finish();
        span.finish();
        assert!(r.is_empty());

        let off = Tracer::builder("off").disabled(true).build();
        assert!(!off.span("x").child_of(parent).start().is_sampled());
    }
}

#[test]
fn xray_propagator_selects_xray_trace_ids() {
    use clew_client::propagation::{PropagationFormat, XRayPropagator};
    use clew_client::{Config, TraceIdKind};
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let t = Tracer::builder("x").propagator(XRayPropagator).build();
    assert_eq!(t.trace_id_kind(), TraceIdKind::XRay);
    let id = t.span("root").start().context().trace_id();
    assert!((id.high >> 32).abs_diff(now) <= 2, "{id:?}");
    // Inside a composite too, and off when asked.
    let (t, _c) = Config::new("x")
        .propagation(vec![
            PropagationFormat::TraceContext,
            PropagationFormat::XRay,
        ])
        .build()
        .expect("config");
    assert_eq!(t.trace_id_kind(), TraceIdKind::XRay);
    let (t, _c) = Config::new("x")
        .propagation(vec![PropagationFormat::XRay])
        .xray_trace_ids(false)
        .build()
        .expect("config");
    assert_eq!(t.trace_id_kind(), TraceIdKind::Random64);
    let (t, _c) = Config::new("x")
        .xray_trace_ids(true)
        .build()
        .expect("config");
    assert_eq!(t.trace_id_kind(), TraceIdKind::XRay);
    let env = Config::from_env_with(|k| {
        match k {
            "OTEL_SERVICE_NAME" => Some("e"),
            "OTEL_PROPAGATORS" => Some("xray"),
            "CLEW_XRAY_TRACE_IDS" => Some("false"),
            _ => None,
        }
        .map(str::to_owned)
    })
    .expect("env");
    assert_eq!(env.xray_trace_ids, Some(false));
    assert_eq!(
        Tracer::builder("j").build().trace_id_kind(),
        TraceIdKind::Random64
    );
}
