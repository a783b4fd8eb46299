//! AWS X-Ray: `X-Amzn-Trace-Id: Root=1-{8 hex}-{24 hex};Parent={16 hex};Sampled={0|1}`.

use clew_model::SpanId;

use super::{Extractor, Injector, Propagator, hex, malformed};
use crate::context::{FLAG_SAMPLED, SpanContext};

/// The X-Ray header.
pub const HEADER: &str = "x-amzn-trace-id";

/// The AWS X-Ray format. The 128-bit trace ID is split as X-Ray does: the
/// first 8 hex digits (an epoch in X-Ray's own IDs) and the other 24.
#[derive(Clone, Copy, Debug, Default)]
pub struct XRayPropagator;

impl Propagator for XRayPropagator {
    fn inject(&self, c: &SpanContext, carrier: &mut dyn Injector) {
        if !c.is_valid() {
            return;
        }
        let t = c.trace_id().to_hex32();
        carrier.set(
            HEADER,
            format!(
                "Root=1-{}-{};Parent={};Sampled={}",
                &t[..8],
                &t[8..],
                c.span_id(),
                u8::from(c.is_sampled())
            ),
        );
    }

    fn extract(&self, carrier: &dyn Extractor) -> Option<SpanContext> {
        let raw = carrier.get(HEADER)?;
        let (mut root, mut parent, mut sampled) = (None, None, false);
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
                "Sampled" => sampled = v.trim() == "1",
                _ => {}
            }
        }
        match (
            root.filter(|t| !t.is_zero()),
            parent.filter(|p| !p.is_zero()),
        ) {
            (Some(t), Some(p)) => Some(SpanContext::new(
                t,
                p,
                SpanId(0),
                if sampled { FLAG_SAMPLED } else { 0 },
            )),
            _ => malformed(HEADER, raw, "missing Root or Parent"),
        }
    }

    fn fields(&self) -> &'static [&'static str] {
        &[HEADER]
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
        ] {
            let m: HashMap<String, String> = [(HEADER.to_string(), bad.to_string())].into();
            assert!(XRayPropagator.extract(&m).is_none(), "{bad}");
        }
    }
}
