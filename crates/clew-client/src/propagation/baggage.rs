//! W3C Baggage: `baggage: k1=v1,k2=v2;property`.

use super::{Extractor, Injector, Propagator, malformed, percent};
use crate::context::SpanContext;

/// The baggage header.
pub const BAGGAGE: &str = "baggage";
/// The spec's minimum limits, applied as maximums on extraction.
const MAX_MEMBERS: usize = 180;
const MAX_BYTES: usize = 8192;

/// The W3C Baggage format. Carries baggage only; combine it with a trace
/// context format in a [`super::CompositePropagator`].
#[derive(Clone, Copy, Debug, Default)]
pub struct W3cBaggagePropagator;

impl Propagator for W3cBaggagePropagator {
    fn inject(&self, context: &SpanContext, carrier: &mut dyn Injector) {
        let mut out = String::new();
        for (k, v) in context.baggage_items() {
            if out.len() + k.len() + v.len() + 2 > MAX_BYTES {
                break;
            }
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(&percent::encode(k));
            out.push('=');
            out.push_str(&percent::encode(v));
        }
        if !out.is_empty() {
            carrier.set(BAGGAGE, out);
        }
    }

    fn extract(&self, carrier: &dyn Extractor) -> Option<SpanContext> {
        let raw = carrier.get(BAGGAGE)?;
        if raw.len() > MAX_BYTES {
            return malformed(BAGGAGE, raw.get(..64).unwrap_or("…"), "too long");
        }
        let mut ctx = SpanContext::default();
        for member in raw.split(',').take(MAX_MEMBERS) {
            let kv = member.split(';').next().unwrap_or("");
            let Some((k, v)) = kv.split_once('=') else {
                if !kv.trim().is_empty() {
                    let _: Option<()> = malformed(BAGGAGE, raw, "member without '='");
                }
                continue;
            };
            // `+` decodes as a space: the OpenTelemetry SDKs (Python's
            // quote_plus, Java's URLEncoder) write spaces that way, and our
            // own encoder always escapes a literal `+`.
            match (
                percent::decode(k.trim(), true),
                percent::decode(v.trim(), true),
            ) {
                (Some(k), Some(v)) if !k.is_empty() => ctx.set_baggage_item(k, v),
                _ => {
                    let _: Option<()> = malformed(BAGGAGE, raw, "bad member");
                }
            }
        }
        (!ctx.is_empty()).then_some(ctx)
    }

    fn fields(&self) -> &'static [&'static str] {
        &[BAGGAGE]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[test]
    fn parses_properties_and_encoding() {
        let m: HashMap<String, String> = [(
            "baggage".to_string(),
            "a=1, b=x%20y;prop=1,bad,c=,d=p+q".to_string(),
        )]
        .into();
        let c = W3cBaggagePropagator.extract(&m).expect("baggage");
        assert_eq!(c.baggage_item("a"), Some("1"));
        assert_eq!(c.baggage_item("b"), Some("x y"));
        assert_eq!(c.baggage_item("c"), Some(""));
        assert_eq!(
            c.baggage_item("d"),
            Some("p q"),
            "OpenTelemetry SDKs write spaces as '+'"
        );
        assert!(!c.is_valid());
    }

    proptest! {
        #[test]
        fn round_trip(items in proptest::collection::vec(("[a-z]{1,8}", ".{0,12}"), 1..6)) {
            let mut c = SpanContext::default();
            for (k, v) in &items {
                c.set_baggage_item(k.clone(), v.clone());
            }
            let mut m = HashMap::new();
            W3cBaggagePropagator.inject(&c, &mut m);
            prop_assert_eq!(W3cBaggagePropagator.extract(&m), Some(c));
        }
    }
}
