//! Jaeger's native headers: `uber-trace-id`, `uberctx-*`, `jaeger-debug-id`,
//! `jaeger-baggage`.

use super::{Extractor, Injector, Propagator, hex, malformed, percent};
use crate::context::SpanContext;

/// The trace context header.
pub const TRACE_HEADER: &str = "uber-trace-id";
/// Prefix of one-header-per-item baggage.
pub const BAGGAGE_PREFIX: &str = "uberctx-";
/// Forces sampling of a new trace and tags its root with the value.
pub const DEBUG_HEADER: &str = "jaeger-debug-id";
/// Baggage for a request that has no trace yet: `k1=v1, k2=v2`.
pub const BAGGAGE_HEADER: &str = "jaeger-baggage";

/// Jaeger's propagation format.
#[derive(Clone, Copy, Debug)]
pub struct JaegerPropagator {
    /// Percent-encode baggage values (HTTP headers: yes; raw text maps: no).
    pub url_encode_baggage: bool,
}

impl Default for JaegerPropagator {
    fn default() -> Self {
        JaegerPropagator {
            url_encode_baggage: true,
        }
    }
}

/// Parses `trace:span:parent:flags` (possibly percent-encoded).
pub(crate) fn parse_trace_header(raw: &str) -> Option<SpanContext> {
    let decoded;
    let value = if raw.contains('%') {
        decoded = percent::decode(raw, false)?;
        decoded.as_str()
    } else {
        raw
    };
    let mut parts = value.trim().split(':');
    let (Some(t), Some(s), Some(p), Some(f), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return malformed(TRACE_HEADER, raw, "expected 4 fields");
    };
    let trace_id = hex::trace_id(t).filter(|t| !t.is_zero());
    let span_id = hex::span_id(s).filter(|s| !s.is_zero());
    let parent = hex::span_id(p);
    let flags = (f.len() <= 2)
        .then(|| u8::from_str_radix(f, 16).ok())
        .flatten();
    match (trace_id, span_id, parent, flags) {
        (Some(t), Some(s), Some(p), Some(f)) => Some(SpanContext::new(t, s, p, f)),
        _ => malformed(TRACE_HEADER, raw, "bad ID or flags"),
    }
}

/// `trace:span:parent:flags`, as `SpanContext`'s `Display` writes it.
pub(crate) fn trace_header(c: &SpanContext) -> String {
    let mut v = String::with_capacity(70);
    hex::push_trace_id(&mut v, c.trace_id(), true);
    v.push(':');
    hex::push_u64(&mut v, c.span_id().0);
    v.push(':');
    hex::push_u64(&mut v, c.parent_id().0);
    v.push(':');
    hex::push_u8_min(&mut v, c.flags());
    v
}

impl Propagator for JaegerPropagator {
    fn inject(&self, context: &SpanContext, carrier: &mut dyn Injector) {
        if context.is_valid() {
            carrier.set(TRACE_HEADER, trace_header(context));
        }
        for (k, v) in context.baggage_items() {
            let key = format!("{BAGGAGE_PREFIX}{k}");
            let value = if self.url_encode_baggage {
                percent::encode(v)
            } else {
                v.to_owned()
            };
            carrier.set(&key, value);
        }
    }

    fn extract(&self, carrier: &dyn Extractor) -> Option<SpanContext> {
        // One pass over the carrier finds every Jaeger header, whatever its
        // case, instead of a lookup (and a case-insensitive miss) per header.
        let mut trace = None;
        let mut debug_id = None;
        let mut bag_header = None;
        let mut items: Vec<(String, String)> = Vec::new();
        carrier.for_each(&mut |k, v| {
            if k.eq_ignore_ascii_case(TRACE_HEADER) {
                trace = Some(v.to_owned());
            } else if k.len() > BAGGAGE_PREFIX.len()
                && k.is_char_boundary(BAGGAGE_PREFIX.len())
                && k[..BAGGAGE_PREFIX.len()].eq_ignore_ascii_case(BAGGAGE_PREFIX)
            {
                let key = k[BAGGAGE_PREFIX.len()..].to_ascii_lowercase();
                match percent::decode(v, false) {
                    Some(v) => items.push((key, v)),
                    None => {
                        let _: Option<()> = malformed(k, v, "bad percent-encoding");
                    }
                }
            } else if k.eq_ignore_ascii_case(DEBUG_HEADER) {
                debug_id = Some(v.to_owned());
            } else if k.eq_ignore_ascii_case(BAGGAGE_HEADER) {
                bag_header = Some(v.to_owned());
            }
        });
        let mut ctx = trace
            .as_deref()
            .and_then(parse_trace_header)
            .unwrap_or_default();
        for (k, v) in items {
            ctx.set_baggage_item(k, v);
        }
        if let Some(raw) = bag_header.as_deref() {
            for item in raw.split(',') {
                let Some((k, v)) = item.split_once('=') else {
                    let _: Option<()> = malformed(BAGGAGE_HEADER, raw, "item without '='");
                    continue;
                };
                if let (Some(k), Some(v)) = (
                    percent::decode(k.trim(), false),
                    percent::decode(v.trim(), false),
                ) && !k.is_empty()
                {
                    ctx.set_baggage_item(k, v);
                }
            }
        }
        if let Some(d) = debug_id
            && !d.is_empty()
            && !ctx.is_valid()
        {
            ctx = ctx.with_debug_id(d);
        }
        (!ctx.is_empty()).then_some(ctx)
    }

    fn fields(&self) -> &'static [&'static str] {
        &[TRACE_HEADER, DEBUG_HEADER, BAGGAGE_HEADER]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::FLAG_SAMPLED;
    use clew_model::{SpanId, TraceId};
    use std::collections::HashMap;

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn inject_writes_jaeger_text_form() {
        let ctx = SpanContext::new(TraceId::new(0, 0xabc), SpanId(0xdef), SpanId(0), 1)
            .with_baggage_item("user", "a b");
        let mut m = HashMap::new();
        JaegerPropagator::default().inject(&ctx, &mut m);
        assert_eq!(
            m["uber-trace-id"],
            "0000000000000abc:0000000000000def:0000000000000000:1"
        );
        assert_eq!(m["uberctx-user"], "a%20b");
        let back = JaegerPropagator::default().extract(&m).expect("round trip");
        assert_eq!(back, ctx);
    }

    #[test]
    fn extract_accepts_short_ids_encoded_values_and_128_bit() {
        let p = JaegerPropagator::default();
        let c = p
            .extract(&map(&[("uber-trace-id", "abc%3A1%3A0%3A3")]))
            .expect("ctx");
        assert_eq!(c.trace_id(), TraceId::new(0, 0xabc));
        assert!(c.is_debug());
        let c = p
            .extract(&map(&[(
                "Uber-Trace-Id",
                "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1",
            )]))
            .expect("ctx");
        assert_eq!(
            c.trace_id(),
            TraceId::new(0x4bf92f3577b34da6, 0xa3ce929d0e0e4736)
        );
        assert_eq!(c.flags(), FLAG_SAMPLED);
    }

    #[test]
    fn malformed_headers_are_ignored() {
        let p = JaegerPropagator::default();
        for bad in [
            "",
            "1:2:3",
            "1:2:3:4:5",
            "0:1:0:1",
            "1:0:0:1",
            "x:1:0:1",
            "1:1:0:zzz",
            "%zz",
            "1:1:0:100",
        ] {
            assert!(
                p.extract(&map(&[("uber-trace-id", bad)])).is_none(),
                "{bad}"
            );
        }
    }

    #[test]
    fn debug_id_and_jaeger_baggage_without_trace() {
        let p = JaegerPropagator::default();
        let c = p
            .extract(&map(&[
                ("jaeger-debug-id", "dbg1"),
                ("jaeger-baggage", "a=1, b = 2,broken"),
            ]))
            .expect("container");
        assert!(!c.is_valid());
        assert_eq!(c.debug_id(), Some("dbg1"));
        assert_eq!(c.baggage_item("a"), Some("1"));
        assert_eq!(c.baggage_item("b"), Some("2"));
    }
}
