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

/// A B3 sampling state: `1`/`0`, `d` (debug), and the legacy spellings
/// `true`/`false` that B3's documentation still accepts (any case).
/// `None` when unknown.
fn sampling_state(s: &str) -> Option<Decision> {
    Some(match s {
        "1" => Decision::Sampled,
        "0" => Decision::NotSampled,
        "d" => Decision::Debug,
        _ if s.eq_ignore_ascii_case("true") => Decision::Sampled,
        _ if s.eq_ignore_ascii_case("false") => Decision::NotSampled,
        _ => return None,
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decision {
    Sampled,
    NotSampled,
    Debug,
    /// No sampling state: the receiver decides.
    Deferred,
}

fn context(t: TraceId, s: SpanId, parent: SpanId, d: Decision) -> SpanContext {
    match d {
        Decision::Sampled => SpanContext::new(t, s, parent, FLAG_SAMPLED),
        Decision::NotSampled => SpanContext::new(t, s, parent, 0),
        Decision::Debug => SpanContext::new(t, s, parent, FLAG_SAMPLED | FLAG_DEBUG),
        Decision::Deferred => SpanContext::deferred(t, s, parent),
    }
}

/// The parent ID is informational: a malformed one is ignored (logged) and
/// the context kept, in both B3 forms.
fn lenient_parent(raw: Option<&str>, header: &str) -> SpanId {
    match raw.map(str::trim) {
        None | Some("") => SpanId(0),
        Some(p) => b3_span_id(p).unwrap_or_else(|| {
            log::debug!("clew: ignoring malformed B3 parent span ID {p:?} in {header}");
            SpanId(0)
        }),
    }
}

/// The single-header B3 format.
///
/// `{trace}-{span}` without a sampling state defers the decision to the
/// receiver: the context is [deferred](SpanContext::is_sampling_deferred)
/// and the local sampler decides, where reading it as unsampled would
/// lose every trace a proxy or mesh starts this way. A deferred context is
/// written back without a sampling state.
#[derive(Clone, Copy, Debug, Default)]
pub struct B3SinglePropagator;

impl Propagator for B3SinglePropagator {
    fn inject(&self, c: &SpanContext, carrier: &mut dyn Injector) {
        if !c.is_valid() {
            return;
        }
        let state = if c.is_debug() {
            "-d"
        } else if c.is_sampled() {
            "-1"
        } else if c.is_sampling_deferred() {
            ""
        } else {
            "-0"
        };
        let mut v = format!("{}-{}{state}", trace_hex(c.trace_id()), c.span_id());
        // The parent follows the state and cannot be written without one.
        if !c.parent_id().is_zero() && !state.is_empty() {
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
        let decision = match parts.get(2).copied() {
            None => Decision::Deferred,
            Some(state) => match sampling_state(state) {
                Some(d) => d,
                None => return malformed(B3, raw, "bad sampling state"),
            },
        };
        let parent = lenient_parent(parts.get(3).copied(), B3);
        Some(context(t, s, parent, decision))
    }

    fn fields(&self) -> &'static [&'static str] {
        &[B3]
    }
}

/// The multi-header B3 format (`X-B3-*`, written lowercase).
///
/// Without `X-B3-Sampled` and `X-B3-Flags` the decision is deferred, as in
/// the single-header form; `X-B3-Sampled` accepts `1`, `0`, `d` and the
/// legacy `true`/`false`.
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
        } else if c.is_sampled() {
            carrier.set(SAMPLED, "1".into());
        } else if !c.is_sampling_deferred() {
            carrier.set(SAMPLED, "0".into());
        }
    }

    fn extract(&self, carrier: &dyn Extractor) -> Option<SpanContext> {
        let raw_t = carrier.get(TRACE_ID)?;
        let raw_s = carrier.get(SPAN_ID)?;
        let (Some(t), Some(s)) = (b3_trace_id(raw_t.trim()), b3_span_id(raw_s.trim())) else {
            return malformed(TRACE_ID, raw_t, "bad trace or span ID");
        };
        let parent = lenient_parent(carrier.get(PARENT_ID), PARENT_ID);
        let mut decision = match carrier.get(SAMPLED).map(str::trim) {
            None | Some("") => Decision::Deferred,
            // An unreadable state is a "no", as before: the sender did
            // decide something.
            Some(v) => sampling_state(v).unwrap_or(Decision::NotSampled),
        };
        if carrier.get(FLAGS).map(str::trim) == Some("1") {
            decision = Decision::Debug;
        }
        Some(context(t, s, parent, decision))
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
    fn missing_sampling_state_defers_in_both_forms() {
        let single = B3SinglePropagator
            .extract(&m(&[(
                "b3",
                "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1",
            )]))
            .expect("ctx");
        let multi = B3MultiPropagator
            .extract(&m(&[
                ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
                ("x-b3-spanid", "e457b5a2e4d86bd1"),
            ]))
            .expect("ctx");
        for c in [&single, &multi] {
            assert!(c.is_sampling_deferred() && !c.is_sampled() && !c.is_debug());
        }
        assert_eq!(single, multi);
        // Written back without a decision, read back the same.
        let mut out = HashMap::new();
        B3SinglePropagator.inject(&single, &mut out);
        assert_eq!(
            out["b3"],
            "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1"
        );
        let mut out = HashMap::new();
        B3MultiPropagator.inject(&multi, &mut out);
        assert!(!out.contains_key(SAMPLED) && !out.contains_key(FLAGS));
        assert_eq!(B3MultiPropagator.extract(&out), Some(multi));
    }

    #[test]
    fn legacy_and_debug_sampling_spellings() {
        for (v, sampled, debug) in [
            ("1", true, false),
            ("true", true, false),
            ("True", true, false),
            ("d", true, true),
            ("0", false, false),
            ("false", false, false),
        ] {
            let c = B3MultiPropagator
                .extract(&m(&[
                    ("x-b3-traceid", "a2fb4a1d1a96d312"),
                    ("x-b3-spanid", "a2fb4a1d1a96d312"),
                    ("x-b3-sampled", v),
                ]))
                .expect("ctx");
            assert_eq!(
                (c.is_sampled(), c.is_debug()),
                (sampled, debug),
                "multi {v}"
            );
            assert!(!c.is_sampling_deferred());
            let c = B3SinglePropagator
                .extract(&m(&[(
                    "b3",
                    &format!("a2fb4a1d1a96d312-a2fb4a1d1a96d312-{v}"),
                )]))
                .expect("ctx");
            assert_eq!(
                (c.is_sampled(), c.is_debug()),
                (sampled, debug),
                "single {v}"
            );
        }
    }

    #[test]
    fn a_bad_parent_is_ignored_in_both_forms() {
        let single = B3SinglePropagator
            .extract(&m(&[("b3", "a2fb4a1d1a96d312-e457b5a2e4d86bd1-1-zz")]))
            .expect("context kept");
        let multi = B3MultiPropagator
            .extract(&m(&[
                ("x-b3-traceid", "a2fb4a1d1a96d312"),
                ("x-b3-spanid", "e457b5a2e4d86bd1"),
                ("x-b3-parentspanid", "zz"),
                ("x-b3-sampled", "1"),
            ]))
            .expect("context kept");
        assert_eq!(single, multi);
        assert_eq!(single.parent_id(), SpanId(0));
        assert!(single.is_sampled());
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
        fn round_trips(high: u64, low in 1u64.., span in 1u64.., parent: u64, flags in 0u8..5) {
            let c = match flags {
                4 => SpanContext::deferred(TraceId::new(high, low), SpanId(span), SpanId(parent)),
                f => SpanContext::new(
                    TraceId::new(high, low),
                    SpanId(span),
                    SpanId(parent),
                    if f & 2 != 0 { 3 } else { f },
                ),
            };
            for (single, p) in [(true, &B3SinglePropagator as &dyn Propagator), (false, &B3MultiPropagator)] {
                let mut out = HashMap::new();
                p.inject(&c, &mut out);
                let mut want = c.clone();
                if c.is_sampling_deferred() && single {
                    // The single form has no place for a parent without a state.
                    want = SpanContext::deferred(c.trace_id(), c.span_id(), SpanId(0));
                }
                prop_assert_eq!(p.extract(&out), Some(want));
            }
        }
    }
}
