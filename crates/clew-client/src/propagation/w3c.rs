//! W3C Trace Context: `traceparent` and `tracestate`.

use super::{Extractor, Injector, Propagator, hex, malformed};
use crate::context::{FLAG_SAMPLED, SpanContext};

/// `{version}-{trace-id}-{parent-id}-{flags}`.
pub const TRACEPARENT: &str = "traceparent";
/// Vendor state, passed on unchanged.
pub const TRACESTATE: &str = "tracestate";

/// The W3C Trace Context format.
#[derive(Clone, Copy, Debug, Default)]
pub struct TraceContextPropagator;

fn lower_hex(s: &str, n: usize) -> bool {
    hex::exact(s, n) && !s.bytes().any(|b| b.is_ascii_uppercase())
}

pub(crate) fn parse_traceparent(raw: &str) -> Option<SpanContext> {
    let v = raw.trim();
    let bad = |why| malformed(TRACEPARENT, raw, why);
    if !v.is_ascii() {
        return bad("not ASCII");
    }
    if v.len() < 55 {
        return bad("too short");
    }
    let version = &v[..2];
    if !lower_hex(version, 2) || version == "ff" {
        return bad("bad version");
    }
    // Version 00 is exactly 55 characters; later versions may append fields.
    if (version == "00" && v.len() != 55) || (v.len() > 55 && v.as_bytes()[55] != b'-') {
        return bad("bad length");
    }
    let b = v.as_bytes();
    if b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
        return bad("bad separators");
    }
    let (t, s, f) = (&v[3..35], &v[36..52], &v[53..55]);
    if !lower_hex(t, 32) || !lower_hex(s, 16) || !lower_hex(f, 2) {
        return bad("bad hex");
    }
    let trace_id = clew_model::TraceId::new(
        u64::from_str_radix(&t[..16], 16).ok()?,
        u64::from_str_radix(&t[16..], 16).ok()?,
    );
    let span_id = clew_model::SpanId(u64::from_str_radix(s, 16).ok()?);
    if trace_id.is_zero() || span_id.is_zero() {
        return bad("zero ID");
    }
    let flags = u8::from_str_radix(f, 16).ok()?;
    let jaeger_flags = if flags & 1 != 0 { FLAG_SAMPLED } else { 0 };
    Some(SpanContext::new(
        trace_id,
        span_id,
        clew_model::SpanId(0),
        jaeger_flags,
    ))
}

impl Propagator for TraceContextPropagator {
    fn inject(&self, context: &SpanContext, carrier: &mut dyn Injector) {
        if !context.is_valid() {
            return;
        }
        let mut v = String::with_capacity(55);
        v.push_str("00-");
        hex::push_trace_id(&mut v, context.trace_id(), false);
        v.push('-');
        hex::push_u64(&mut v, context.span_id().0);
        v.push_str(if context.is_sampled() { "-01" } else { "-00" });
        carrier.set(TRACEPARENT, v);
        if let Some(ts) = context.trace_state() {
            carrier.set(TRACESTATE, ts.to_owned());
        }
    }

    fn extract(&self, carrier: &dyn Extractor) -> Option<SpanContext> {
        // Direct lookup for the header that must be there; the optional
        // `tracestate` is looked up only when a context was found.
        let ctx = parse_traceparent(carrier.get(TRACEPARENT)?)?;
        match carrier.get(TRACESTATE).map(str::trim) {
            Some(ts) if !ts.is_empty() && ts.len() <= 512 && ts.split(',').count() <= 32 => {
                Some(ctx.with_trace_state(ts))
            }
            _ => Some(ctx),
        }
    }

    fn fields(&self) -> &'static [&'static str] {
        &[TRACEPARENT, TRACESTATE]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clew_model::{SpanId, TraceId};
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn extract(tp: &str) -> Option<SpanContext> {
        let m: HashMap<String, String> = [("traceparent".to_string(), tp.to_string())].into();
        TraceContextPropagator.extract(&m)
    }

    #[test]
    fn spec_example_parses() {
        let c = extract("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").expect("ctx");
        assert_eq!(
            c.trace_id(),
            TraceId::new(0x4bf92f3577b34da6, 0xa3ce929d0e0e4736)
        );
        assert_eq!(c.span_id(), SpanId(0x00f067aa0ba902b7));
        assert!(c.is_sampled());
        // Future versions may append fields.
        assert!(extract("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-extra").is_some());
    }

    #[test]
    fn invalid_forms_are_ignored() {
        for bad in [
            "",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
        ] {
            assert!(extract(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn tracestate_travels_with_the_context() {
        let m: HashMap<String, String> = [
            (
                "traceparent".to_string(),
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string(),
            ),
            ("tracestate".to_string(), "congo=t61rcWkgMzE".to_string()),
        ]
        .into();
        let c = TraceContextPropagator.extract(&m).expect("ctx");
        let mut out = HashMap::new();
        TraceContextPropagator.inject(&c, &mut out);
        assert_eq!(out["tracestate"], "congo=t61rcWkgMzE");
        assert_eq!(out["traceparent"], m["traceparent"]);
    }

    proptest! {
        #[test]
        fn round_trip(high: u64, low in 1u64.., span in 1u64.., sampled: bool) {
            let c = SpanContext::new(TraceId::new(high, low), SpanId(span), SpanId(0), u8::from(sampled));
            let mut m = HashMap::new();
            TraceContextPropagator.inject(&c, &mut m);
            prop_assert_eq!(TraceContextPropagator.extract(&m), Some(c));
        }

        #[test]
        fn never_panics(s in ".{0,80}") {
            let _ = extract(&s);
        }
    }
}
