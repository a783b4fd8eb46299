//! Several formats at once, chosen by name (config, `OTEL_PROPAGATORS`).

use std::str::FromStr;
use std::sync::Arc;

use super::{
    B3MultiPropagator, B3SinglePropagator, CloudTracePropagator, Extractor, Injector,
    JaegerPropagator, Propagator, TraceContextPropagator, W3cBaggagePropagator, XRayPropagator,
};
use crate::context::SpanContext;

/// A propagation format by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PropagationFormat {
    /// `uber-trace-id` + `uberctx-*` (`jaeger`).
    Jaeger,
    /// `traceparent` + `tracestate` (`tracecontext`, also `w3c`).
    TraceContext,
    /// W3C `baggage` (`baggage`).
    Baggage,
    /// Single `b3` header (`b3`).
    B3,
    /// `X-B3-*` headers (`b3multi`).
    B3Multi,
    /// `X-Amzn-Trace-Id` (`xray`).
    XRay,
    /// `X-Cloud-Trace-Context` (`cloudtrace`).
    CloudTrace,
}

/// A propagator name nobody knows.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown propagation format {0:?}")]
pub struct UnknownFormat(pub String);

impl FromStr for PropagationFormat {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "jaeger" => PropagationFormat::Jaeger,
            "tracecontext" | "w3c" => PropagationFormat::TraceContext,
            "baggage" => PropagationFormat::Baggage,
            "b3" => PropagationFormat::B3,
            "b3multi" => PropagationFormat::B3Multi,
            "xray" => PropagationFormat::XRay,
            "cloudtrace" | "gcp" => PropagationFormat::CloudTrace,
            other => return Err(UnknownFormat(other.to_owned())),
        })
    }
}

impl PropagationFormat {
    /// The propagator for this format.
    pub fn propagator(self) -> Arc<dyn Propagator> {
        match self {
            PropagationFormat::Jaeger => Arc::new(JaegerPropagator::default()),
            PropagationFormat::TraceContext => Arc::new(TraceContextPropagator),
            PropagationFormat::Baggage => Arc::new(W3cBaggagePropagator),
            PropagationFormat::B3 => Arc::new(B3SinglePropagator),
            PropagationFormat::B3Multi => Arc::new(B3MultiPropagator),
            PropagationFormat::XRay => Arc::new(XRayPropagator),
            PropagationFormat::CloudTrace => Arc::new(CloudTracePropagator),
        }
    }

    /// Parses a comma-separated list (`OTEL_PROPAGATORS` style); `none`
    /// yields an empty list.
    pub fn parse_list(s: &str) -> Result<Vec<PropagationFormat>, UnknownFormat> {
        let mut out = Vec::new();
        for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name.eq_ignore_ascii_case("none") {
                return Ok(Vec::new());
            }
            let f: PropagationFormat = name.parse()?;
            if !out.contains(&f) {
                out.push(f);
            }
        }
        Ok(out)
    }
}

/// Injects with every format; extracts the trace identity from the first
/// format that has one and merges baggage from all of them.
#[derive(Clone, Debug, Default)]
pub struct CompositePropagator {
    parts: Vec<Arc<dyn Propagator>>,
}

impl CompositePropagator {
    /// A composite of these propagators, in priority order.
    pub fn new(parts: Vec<Arc<dyn Propagator>>) -> Self {
        CompositePropagator { parts }
    }

    /// A composite of named formats.
    pub fn from_formats(formats: &[PropagationFormat]) -> Self {
        Self::new(formats.iter().map(|f| f.propagator()).collect())
    }
}

impl Propagator for CompositePropagator {
    fn inject(&self, context: &SpanContext, carrier: &mut dyn Injector) {
        for p in &self.parts {
            p.inject(context, carrier);
        }
    }

    fn needs_xray_trace_ids(&self) -> bool {
        self.parts.iter().any(|p| p.needs_xray_trace_ids())
    }

    fn extract(&self, carrier: &dyn Extractor) -> Option<SpanContext> {
        let mut found: Option<SpanContext> = None;
        let mut extra = SpanContext::default();
        for p in &self.parts {
            let Some(c) = p.extract(carrier) else {
                continue;
            };
            match &mut found {
                None if c.is_valid() => found = Some(c),
                _ => {
                    extra.merge_baggage_from(&c);
                    if let (Some(d), None) = (c.debug_id(), extra.debug_id()) {
                        extra = extra.with_debug_id(d);
                    }
                }
            }
        }
        let mut ctx = found.unwrap_or_else(|| {
            let mut e = SpanContext::default();
            if let Some(d) = extra.debug_id() {
                e = e.with_debug_id(d);
            }
            e
        });
        ctx.merge_baggage_from(&extra);
        (!ctx.is_empty()).then_some(ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clew_model::{SpanId, TraceId};
    use std::collections::HashMap;

    proptest::proptest! {
        /// Every format, fed arbitrary values in every header it reads,
        /// returns a context or nothing and never panics.
        #[test]
        fn extraction_never_panics(v in ".{0,120}", k in "[a-z-]{1,12}") {
            let all = [
                PropagationFormat::Jaeger, PropagationFormat::TraceContext, PropagationFormat::Baggage,
                PropagationFormat::B3, PropagationFormat::B3Multi, PropagationFormat::XRay,
                PropagationFormat::CloudTrace,
            ];
            let p = CompositePropagator::from_formats(&all);
            let headers = [
                "uber-trace-id", "uberctx-x", "jaeger-debug-id", "jaeger-baggage", "traceparent",
                "tracestate", "baggage", "b3", "x-b3-traceid", "x-b3-spanid", "x-b3-sampled",
                "x-b3-flags", "x-amzn-trace-id", "x-cloud-trace-context",
            ];
            for h in headers {
                let mut m: HashMap<String, String> = HashMap::new();
                m.insert(h.to_string(), v.clone());
                m.insert(format!("uberctx-{k}"), v.clone());
                let _ = p.extract(&m);
            }
        }
    }

    #[test]
    fn names_parse_like_otel_propagators() {
        assert_eq!(
            PropagationFormat::parse_list("tracecontext, baggage,b3multi,jaeger,xray"),
            Ok(vec![
                PropagationFormat::TraceContext,
                PropagationFormat::Baggage,
                PropagationFormat::B3Multi,
                PropagationFormat::Jaeger,
                PropagationFormat::XRay
            ])
        );
        assert_eq!(PropagationFormat::parse_list("none"), Ok(vec![]));
        assert!(PropagationFormat::parse_list("ottrace2").is_err());
    }

    #[test]
    fn composite_injects_all_and_merges_baggage_on_extract() {
        let p = CompositePropagator::from_formats(&[
            PropagationFormat::TraceContext,
            PropagationFormat::Baggage,
            PropagationFormat::Jaeger,
        ]);
        let ctx = SpanContext::new(TraceId::new(0, 7), SpanId(8), SpanId(0), 1)
            .with_baggage_item("k", "v");
        let mut m = HashMap::new();
        p.inject(&ctx, &mut m);
        assert!(
            m.contains_key("traceparent")
                && m.contains_key("uber-trace-id")
                && m.contains_key("baggage")
        );
        // Only W3C baggage plus a Jaeger trace: both contribute.
        let mut only: HashMap<String, String> = HashMap::new();
        only.insert("uber-trace-id".into(), m["uber-trace-id"].clone());
        only.insert("baggage".into(), "a=1".into());
        let c = p.extract(&only).expect("ctx");
        assert_eq!(c.span_id(), SpanId(8));
        assert_eq!(c.baggage_item("a"), Some("1"));
        assert!(p.extract(&HashMap::<String, String>::new()).is_none());
    }
}
