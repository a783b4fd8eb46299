//! Google Cloud Trace: `X-Cloud-Trace-Context: {32 hex}/{decimal span};o={0|1}`.

use clew_model::SpanId;

use super::{Extractor, Injector, Propagator, hex, malformed};
use crate::context::{FLAG_SAMPLED, SpanContext};

/// The Cloud Trace header.
pub const HEADER: &str = "x-cloud-trace-context";

/// `o={number}`: a bit field whose bit 0 is "sampled" (`o=1`, `o=01`, `o=3`
/// are all sampled). Anything else reads as not sampled.
fn sampled_option(options: &str) -> bool {
    let Some(n) = options.trim().strip_prefix("o=") else {
        return false;
    };
    let n = n.trim();
    // Only the last digit decides the parity, so any length is fine.
    !n.is_empty()
        && n.bytes().all(|b| b.is_ascii_digit())
        && n.bytes().last().is_some_and(|d| (d - b'0') & 1 == 1)
}

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
        let span = (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
            .filter(|s| *s != 0);
        let sampled = options.is_some_and(sampled_option);
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
        for (o, sampled) in [
            ("o=1", true),
            ("o=01", true),
            ("o=3", true),
            ("o=2", false),
            ("o=0", false),
            ("o=x", false),
            ("", false),
        ] {
            let m: HashMap<String, String> = [(
                "X-Cloud-Trace-Context".to_string(),
                format!("105445aa7843bc8bf206b12000100000/7;{o}"),
            )]
            .into();
            let c = CloudTracePropagator.extract(&m).expect("ctx");
            assert_eq!(c.is_sampled(), sampled, "{o}");
        }
        for bad in [
            "105445aa7843bc8bf206b12000100000/+1",
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
