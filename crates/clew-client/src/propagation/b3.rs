//! Zipkin B3: the single `b3` header and the `X-B3-*` multi-header form.

use clew_model::{SpanId, TraceId};

use super::{Extractor, Injector, Propagator, hex, malformed};
use crate::context::{FLAG_DEBUG, FLAG_SAMPLED, SpanContext};

/// Single header: `{trace}-{span}[-{1|0|d}[-{parent}]]`.
pub const B3: &str = "b3";
/// Multi-header trace ID.
pub const TRACE_ID: &str = "x-b3-traceid";
/// Multi-header span ID.
pub const SPAN_ID: &str = "x-b3-spanid";
/// Multi-header parent span ID.
pub const PARENT_ID: &str = "x-b3-parentspanid";
/// Multi-header sampling decision.
pub const SAMPLED: &str = "x-b3-sampled";
/// Multi-header debug flag.
pub const FLAGS: &str = "x-b3-flags";

fn trace_hex(t: TraceId) -> String {
    if t.high == 0 {
        format!("{:016x}", t.low)
    } else {
        t.to_hex32()
    }
}

fn b3_trace_id(s: &str) -> Option<TraceId> {
    if !(hex::exact(s, 16) || hex::exact(s, 32)) {
        return None;
    }
    hex::trace_id(s).filter(|t| !t.is_zero())
}

fn b3_span_id(s: &str) -> Option<SpanId> {
    if !hex::exact(s, 16) {
        return None;
    }
    hex::span_id(s).filter(|s| !s.is_zero())
}

/// The single-header B3 format.
#[derive(Clone, Copy, Debug, Default)]
pub struct B3SinglePropagator;

impl Propagator for B3SinglePropagator {
    fn inject(&self, c: &SpanContext, carrier: &mut dyn Injector) {
        if !c.is_valid() {
            return;
        }
        let state = if c.is_debug() {
            "d"
        } else if c.is_sampled() {
            "1"
        } else {
            "0"
        };
        let mut v = format!("{}-{}-{state}", trace_hex(c.trace_id()), c.span_id());
        if !c.parent_id().is_zero() {
            v.push('-');
            v.push_str(&c.parent_id().to_string());
        }
        carrier.set(B3, v);
    }

    fn extract(&self, carrier: &dyn Extractor) -> Option<SpanContext> {
        let raw = carrier.get(B3)?;
        let parts: Vec<&str> = raw.trim().split('-').collect();
        if parts.len() == 1 {
            // `b3: 0` (deny) or a bare decision: no context to continue.
            return None;
        }
        if parts.len() > 4 {
            return malformed(B3, raw, "too many fields");
        }
        let (Some(t), Some(s)) = (b3_trace_id(parts[0]), b3_span_id(parts[1])) else {
            return malformed(B3, raw, "bad IDs");
        };
        let flags = match parts.get(2).copied() {
            None => 0,
            Some("1") => FLAG_SAMPLED,
            Some("0") => 0,
            Some("d") => FLAG_SAMPLED | FLAG_DEBUG,
            Some(_) => return malformed(B3, raw, "bad sampling state"),
        };
        let parent = match parts.get(3) {
            None => SpanId(0),
            Some(p) => match b3_span_id(p) {
                Some(p) => p,
                None => return malformed(B3, raw, "bad parent ID"),
            },
        };
        Some(SpanContext::new(t, s, parent, flags))
    }

    fn fields(&self) -> &'static [&'static str] {
        &[B3]
    }
}

/// The multi-header B3 format (`X-B3-*`, written lowercase).
#[derive(Clone, Copy, Debug, Default)]
pub struct B3MultiPropagator;

impl Propagator for B3MultiPropagator {
    fn inject(&self, c: &SpanContext, carrier: &mut dyn Injector) {
        if !c.is_valid() {
            return;
        }
        carrier.set(TRACE_ID, trace_hex(c.trace_id()));
        carrier.set(SPAN_ID, c.span_id().to_string());
        if !c.parent_id().is_zero() {
            carrier.set(PARENT_ID, c.parent_id().to_string());
        }
        if c.is_debug() {
            carrier.set(FLAGS, "1".into());
        } else {
            carrier.set(SAMPLED, if c.is_sampled() { "1" } else { "0" }.into());
        }
    }

    fn extract(&self, carrier: &dyn Extractor) -> Option<SpanContext> {
        let raw_t = carrier.get(TRACE_ID)?;
        let raw_s = carrier.get(SPAN_ID)?;
        let (Some(t), Some(s)) = (b3_trace_id(raw_t.trim()), b3_span_id(raw_s.trim())) else {
            return malformed(TRACE_ID, raw_t, "bad trace or span ID");
        };
        let parent = match carrier.get(PARENT_ID) {
            None => SpanId(0),
            Some(p) => b3_span_id(p.trim()).unwrap_or(SpanId(0)),
        };
        let mut flags = match carrier.get(SAMPLED).map(str::trim) {
            Some("1" | "true") => FLAG_SAMPLED,
            _ => 0,
        };
        if carrier.get(FLAGS).map(str::trim) == Some("1") {
            flags = FLAG_SAMPLED | FLAG_DEBUG;
        }
        Some(SpanContext::new(t, s, parent, flags))
    }

    fn fields(&self) -> &'static [&'static str] {
        &[TRACE_ID, SPAN_ID, PARENT_ID, SAMPLED, FLAGS]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn m(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn single_header_forms() {
        let p = B3SinglePropagator;
        let c = p
            .extract(&m(&[(
                "b3",
                "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90",
            )]))
            .expect("ctx");
        assert_eq!(c.span_id(), SpanId(0xe457b5a2e4d86bd1));
        assert_eq!(c.parent_id(), SpanId(0x05e3ac9a4f6e3b90));
        assert!(c.is_sampled());
        let d = p
            .extract(&m(&[("b3", "e457b5a2e4d86bd1-e457b5a2e4d86bd1-d")]))
            .expect("ctx");
        assert!(d.is_debug());
        for bad in [
            "0",
            "x-y",
            "e457b5a2e4d86bd1-e457b5a2e4d86bd1-x",
            "e457b5a2e4d86bd1-00-1",
            "a-b-c-d-e",
        ] {
            assert!(p.extract(&m(&[("b3", bad)])).is_none(), "{bad}");
        }
    }

    #[test]
    fn multi_header_forms() {
        let p = B3MultiPropagator;
        let c = p
            .extract(&m(&[
                ("X-B3-TraceId", "463ac35c9f6413ad48485a3953bb6124"),
                ("X-B3-SpanId", "a2fb4a1d1a96d312"),
                ("X-B3-Sampled", "true"),
            ]))
            .expect("ctx");
        assert!(c.is_sampled());
        assert_eq!(c.trace_id().high, 0x463ac35c9f6413ad);
        let c = p
            .extract(&m(&[
                ("x-b3-traceid", "a2fb4a1d1a96d312"),
                ("x-b3-spanid", "a2fb4a1d1a96d312"),
                ("x-b3-flags", "1"),
            ]))
            .expect("ctx");
        assert!(c.is_debug());
        assert!(
            p.extract(&m(&[
                ("x-b3-traceid", "zz"),
                ("x-b3-spanid", "a2fb4a1d1a96d312")
            ]))
            .is_none()
        );
    }

    proptest! {
        #[test]
        fn round_trips(high: u64, low in 1u64.., span in 1u64.., parent: u64, flags in 0u8..4) {
            let flags = if flags & 2 != 0 { 3 } else { flags };
            let c = SpanContext::new(TraceId::new(high, low), SpanId(span), SpanId(parent), flags);
            for p in [&B3SinglePropagator as &dyn Propagator, &B3MultiPropagator] {
                let mut out = HashMap::new();
                p.inject(&c, &mut out);
                prop_assert_eq!(p.extract(&out), Some(c.clone()));
            }
        }
    }
}
