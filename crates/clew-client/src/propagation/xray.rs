//! AWS X-Ray: `X-Amzn-Trace-Id: Root=1-{8 hex}-{24 hex};Parent={16 hex};Sampled={0|1|?}`.

use clew_model::SpanId;

use super::{Extractor, Injector, Propagator, hex, malformed};
use crate::context::{FLAG_SAMPLED, SpanContext};

/// The X-Ray header, spelled as AWS spells it. Written exactly so: plain
/// dictionaries on the other side (OpenTelemetry's Python propagator reads
/// a `dict` carrier) look it up case-sensitively. Read in any case.
pub const HEADER: &str = "X-Amzn-Trace-Id";

/// The AWS X-Ray format. The 128-bit trace ID is split as X-Ray does: the
/// first 8 hex digits (an epoch in X-Ray's own IDs) and the other 24.
///
/// `Sampled=?`, and a header without `Sampled`, leave the decision to the
/// receiver: the context is [deferred](SpanContext::is_sampling_deferred)
/// and the local sampler decides. A deferred context is written back with
/// `Sampled=?`.
#[derive(Clone, Copy, Debug, Default)]
pub struct XRayPropagator;

impl Propagator for XRayPropagator {
    fn inject(&self, c: &SpanContext, carrier: &mut dyn Injector) {
        if !c.is_valid() {
            return;
        }
        let t = c.trace_id().to_hex32();
        let sampled = if c.is_sampled() {
            "1"
        } else if c.is_sampling_deferred() {
            "?"
        } else {
            "0"
        };
        carrier.set(
            HEADER,
            format!(
                "Root=1-{}-{};Parent={};Sampled={sampled}",
                &t[..8],
                &t[8..],
                c.span_id(),
            ),
        );
    }

    fn extract(&self, carrier: &dyn Extractor) -> Option<SpanContext> {
        let raw = carrier.get(HEADER)?;
        // `None`: no decision (deferred).
        let (mut root, mut parent, mut sampled) = (None, None, None);
        for part in raw.split(';') {
            let Some((k, v)) = part.trim().split_once('=') else {
                continue;
            };
            match k.trim() {
                "Root" => {
                    let mut it = v.trim().split('-');
                    match (it.next(), it.next(), it.next(), it.next()) {
                        (Some("1"), Some(e), Some(r), None)
                            if hex::exact(e, 8) && hex::exact(r, 24) =>
                        {
                            root = hex::trace_id(&format!("{e}{r}"));
                        }
                        _ => return malformed(HEADER, raw, "bad Root"),
                    }
                }
                "Parent" => {
                    let v = v.trim();
                    parent = if hex::exact(v, 16) {
                        hex::span_id(v)
                    } else {
                        None
                    };
                }
                "Sampled" => {
                    sampled = match v.trim() {
                        "1" => Some(true),
                        "0" => Some(false),
                        "?" => None,
                        _ => return malformed(HEADER, raw, "bad Sampled"),
                    }
                }
                _ => {}
            }
        }
        match (
            root.filter(|t| !t.is_zero()),
            parent.filter(|p| !p.is_zero()),
        ) {
            (Some(t), Some(p)) => Some(match sampled {
                Some(s) => SpanContext::new(t, p, SpanId(0), if s { FLAG_SAMPLED } else { 0 }),
                None => SpanContext::deferred(t, p, SpanId(0)),
            }),
            _ => malformed(HEADER, raw, "missing Root or Parent"),
        }
    }

    fn fields(&self) -> &'static [&'static str] {
        &[HEADER]
    }

    fn needs_xray_trace_ids(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clew_model::TraceId;
    use std::collections::HashMap;

    #[test]
    fn aws_example_and_round_trip() {
        let m: HashMap<String, String> = [(
            "X-Amzn-Trace-Id".to_string(),
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
                .to_string(),
        )]
        .into();
        let c = XRayPropagator.extract(&m).expect("ctx");
        assert_eq!(
            c.trace_id(),
            TraceId::new(0x5759e988bd862e3f, 0xe1be46a994272793)
        );
        assert_eq!(c.span_id(), SpanId(0x53995c3f42cd8ad8));
        assert!(c.is_sampled());
        let mut out = HashMap::new();
        XRayPropagator.inject(&c, &mut out);
        assert_eq!(out[HEADER], m["X-Amzn-Trace-Id"]);
        for bad in [
            "Root=2-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8",
            "Root=1-xx-yy;Parent=1",
            "Parent=53995c3f42cd8ad8",
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=yes",
        ] {
            let m: HashMap<String, String> = [(HEADER.to_string(), bad.to_string())].into();
            assert!(XRayPropagator.extract(&m).is_none(), "{bad}");
        }
    }

    #[test]
    fn header_is_written_canonically_and_read_in_any_case() {
        let c = SpanContext::new(TraceId::new(1, 2), SpanId(3), SpanId(0), 1);
        let mut out: HashMap<String, String> = HashMap::new();
        XRayPropagator.inject(&c, &mut out);
        assert_eq!(out.keys().collect::<Vec<_>>(), ["X-Amzn-Trace-Id"]);
        for name in ["x-amzn-trace-id", "X-AMZN-TRACE-ID", "X-Amzn-Trace-Id"] {
            let m: HashMap<String, String> =
                [(name.to_string(), out["X-Amzn-Trace-Id"].clone())].into();
            assert_eq!(XRayPropagator.extract(&m), Some(c.clone()), "{name}");
        }
    }

    #[test]
    fn question_mark_and_missing_sampled_defer_the_decision() {
        for v in [
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?",
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8",
        ] {
            let m: HashMap<String, String> = [(HEADER.to_string(), v.to_string())].into();
            let c = XRayPropagator.extract(&m).expect("ctx");
            assert!(c.is_sampling_deferred() && !c.is_sampled(), "{v}");
            let mut out = HashMap::new();
            XRayPropagator.inject(&c, &mut out);
            assert!(out[HEADER].ends_with(";Sampled=?"), "{}", out[HEADER]);
        }
        let m: HashMap<String, String> = [(
            HEADER.to_string(),
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"
                .to_string(),
        )]
        .into();
        assert!(
            !XRayPropagator
                .extract(&m)
                .expect("ctx")
                .is_sampling_deferred()
        );
    }
}
