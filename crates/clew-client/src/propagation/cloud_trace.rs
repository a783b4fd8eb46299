//! Google Cloud Trace: `X-Cloud-Trace-Context: {32 hex}/{decimal span};o={0|1}`.

use clew_model::SpanId;

use super::{Extractor, Injector, Propagator, hex, malformed};
use crate::context::{FLAG_SAMPLED, SpanContext};

/// The Cloud Trace header.
pub const HEADER: &str = "x-cloud-trace-context";

/// The Google Cloud Trace format (span IDs are decimal there).
#[derive(Clone, Copy, Debug, Default)]
pub struct CloudTracePropagator;

impl Propagator for CloudTracePropagator {
    fn inject(&self, c: &SpanContext, carrier: &mut dyn Injector) {
        if c.is_valid() {
            carrier.set(
                HEADER,
                format!(
                    "{}/{};o={}",
                    c.trace_id().to_hex32(),
                    c.span_id().0,
                    u8::from(c.is_sampled())
                ),
            );
        }
    }

    fn extract(&self, carrier: &dyn Extractor) -> Option<SpanContext> {
        let raw = carrier.get(HEADER)?;
        let (ids, options) = match raw.trim().split_once(';') {
            Some((ids, o)) => (ids, Some(o)),
            None => (raw.trim(), None),
        };
        let Some((t, s)) = ids.split_once('/') else {
            return malformed(HEADER, raw, "missing '/'");
        };
        let trace = hex::exact(t, 32)
            .then(|| hex::trace_id(t))
            .flatten()
            .filter(|t| !t.is_zero());
        let span = s.parse::<u64>().ok().filter(|s| *s != 0);
        let sampled = matches!(options.map(str::trim), Some("o=1"));
        match (trace, span) {
            (Some(trace), Some(span)) => Some(SpanContext::new(
                trace,
                SpanId(span),
                SpanId(0),
                if sampled { FLAG_SAMPLED } else { 0 },
            )),
            _ => malformed(HEADER, raw, "bad trace or span ID"),
        }
    }

    fn fields(&self) -> &'static [&'static str] {
        &[HEADER]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn google_example_and_round_trip() {
        let m: HashMap<String, String> = [(
            HEADER.to_string(),
            "105445aa7843bc8bf206b12000100000/1;o=1".to_string(),
        )]
        .into();
        let c = CloudTracePropagator.extract(&m).expect("ctx");
        assert_eq!(c.span_id(), SpanId(1));
        assert!(c.is_sampled());
        let mut out = HashMap::new();
        CloudTracePropagator.inject(&c, &mut out);
        assert_eq!(out[HEADER], m[HEADER]);
        for bad in [
            "abc",
            "105445aa7843bc8bf206b12000100000/x",
            "zz/1;o=1",
            "105445aa7843bc8bf206b12000100000/0",
        ] {
            let m: HashMap<String, String> = [(HEADER.to_string(), bad.to_string())].into();
            assert!(CloudTracePropagator.extract(&m).is_none(), "{bad}");
        }
    }
}
