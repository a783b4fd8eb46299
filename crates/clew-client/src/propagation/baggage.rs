//! W3C Baggage: `baggage: k1=v1,k2=v2;property`.
//!
//! Extraction follows the W3C Baggage grammar member by member, as
//! OpenTelemetry does: a member whose key is not a token, whose value holds
//! characters outside `baggage-octet` (raw non-ASCII, spaces, quotes), or
//! whose properties are malformed is dropped alone; the valid members of
//! the same header are kept.

use super::{Extractor, Injector, Propagator, malformed, percent};
use crate::context::SpanContext;

/// The baggage header.
pub const BAGGAGE: &str = "baggage";
/// The spec's minimum limits, applied as maximums on extraction.
const MAX_MEMBERS: usize = 180;
const MAX_BYTES: usize = 8192;
/// A longer member is dropped (OpenTelemetry's per-pair limit).
const MAX_MEMBER_BYTES: usize = 4096;

/// The W3C Baggage format. Carries baggage only; combine it with a trace
/// context format in a [`super::CompositePropagator`].
#[derive(Clone, Copy, Debug, Default)]
pub struct W3cBaggagePropagator;

/// RFC 7230 `tchar`: what a baggage key may hold.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// `baggage-octet`: printable ASCII except space, `"`, `,`, `;` and `\`.
fn is_value(s: &str) -> bool {
    s.bytes()
        .all(|b| matches!(b, 0x21 | 0x23..=0x2b | 0x2d..=0x3a | 0x3c..=0x5b | 0x5d..=0x7e))
}

fn trim_ows(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// `key OWS "=" OWS value` or a bare `key`.
fn is_property(p: &str) -> bool {
    match p.split_once('=') {
        Some((k, v)) => is_token(trim_ows(k)) && is_value(trim_ows(v)),
        None => is_token(trim_ows(p)),
    }
}

/// One list member, decoded; `None` when it breaks the grammar.
fn member(m: &str) -> Option<(String, String)> {
    if m.len() > MAX_MEMBER_BYTES {
        return None;
    }
    let mut parts = m.split(';');
    let (k, v) = parts.next()?.split_once('=')?;
    let (k, v) = (trim_ows(k), trim_ows(v));
    if !(is_token(k) && is_value(v) && parts.all(is_property)) {
        return None;
    }
    // `+` decodes as a space: the OpenTelemetry SDKs (Python's quote_plus,
    // Java's URLEncoder) write spaces that way, and our own encoder always
    // escapes a literal `+`. Bad escapes are kept as written, as they do.
    let k = percent::decode_lossy(k, true);
    (!k.is_empty()).then(|| (k, percent::decode_lossy(v, true)))
}

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
            let end = (0..=64)
                .rev()
                .find(|&i| raw.is_char_boundary(i))
                .unwrap_or(0);
            return malformed(BAGGAGE, &raw[..end], "too long");
        }
        let mut ctx = SpanContext::default();
        let mut kept = 0;
        for m in raw.split(',').map(trim_ows).filter(|m| !m.is_empty()) {
            if kept == MAX_MEMBERS {
                log::debug!("clew: baggage has more than {MAX_MEMBERS} members; ignoring the rest");
                break;
            }
            match member(m) {
                Some((k, v)) => {
                    ctx.set_baggage_item(k, v);
                    kept += 1;
                }
                None => log::debug!("clew: ignoring malformed baggage member {m:?}"),
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
        assert_eq!(c.baggage_items().count(), 4, "'bad' is dropped alone");
    }

    #[test]
    fn invalid_members_are_dropped_one_by_one() {
        let m: HashMap<String, String> = [(
            "baggage".to_string(),
            "ok=1,caf\u{e9}=2,k=caf\u{e9},sp=a b,q=\"x\",k2 = v2 ;p1;p2=x,bad(key)=3,\
             prop=1;not a prop,last=%E2%82%AC,esc=%zz"
                .to_string(),
        )]
        .into();
        let c = W3cBaggagePropagator.extract(&m).expect("baggage");
        let items: Vec<(&str, &str)> = c.baggage_items().collect();
        assert_eq!(
            items,
            [
                ("ok", "1"),
                ("k2", "v2"),
                ("last", "\u{20ac}"),
                ("esc", "%zz")
            ]
        );
    }

    #[test]
    fn limits() {
        let many: Vec<String> = (0..200).map(|i| format!("k{i}=v")).collect();
        let m: HashMap<String, String> = [("baggage".to_string(), many.join(","))].into();
        let c = W3cBaggagePropagator.extract(&m).expect("baggage");
        assert_eq!(c.baggage_items().count(), MAX_MEMBERS);
        let long = format!("a=1,b={}", "x".repeat(MAX_MEMBER_BYTES));
        let m: HashMap<String, String> = [("baggage".to_string(), long)].into();
        let c = W3cBaggagePropagator.extract(&m).expect("baggage");
        assert_eq!(c.baggage_items().count(), 1);
        let huge = format!("a={}", "é".repeat(MAX_BYTES));
        let m: HashMap<String, String> = [("baggage".to_string(), huge)].into();
        assert!(W3cBaggagePropagator.extract(&m).is_none());
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
