//! Context propagation: writing a [`SpanContext`] into a carrier (HTTP
//! headers, a text map) and reading it back, in every common format.
//!
//! Malformed input is never an error the caller must handle: extractors log
//! it at debug level and return `None`, as a missing header would.

mod b3;
mod baggage;
pub mod binary;
mod carrier;
mod cloud_trace;
mod composite;
mod hex;
mod jaeger;
mod percent;
mod w3c;
mod xray;

pub use b3::{B3MultiPropagator, B3SinglePropagator};
pub use baggage::W3cBaggagePropagator;
pub use carrier::{Extractor, Injector};
pub use cloud_trace::CloudTracePropagator;
pub use composite::{CompositePropagator, PropagationFormat, UnknownFormat};
pub use jaeger::JaegerPropagator;
pub use w3c::TraceContextPropagator;
pub use xray::XRayPropagator;

pub(crate) use percent::decode as percent_decode;

use std::fmt::Debug;

use crate::context::SpanContext;

/// Writes and reads span contexts in one format.
pub trait Propagator: Send + Sync + Debug {
    /// Writes `context` (and its baggage, if the format carries baggage).
    fn inject(&self, context: &SpanContext, carrier: &mut dyn Injector);

    /// Reads a context; `None` when absent or malformed.
    fn extract(&self, carrier: &dyn Extractor) -> Option<SpanContext>;

    /// The header names this format writes (for CORS lists and tests).
    fn fields(&self) -> &'static [&'static str] {
        &[]
    }

    /// True when this format carries AWS X-Ray trace IDs, which the X-Ray
    /// service accepts only with a time in their first 32 bits: a tracer
    /// built with such a propagator then makes [`crate::TraceIdKind::XRay`]
    /// IDs unless told otherwise.
    fn needs_xray_trace_ids(&self) -> bool {
        false
    }
}

/// Logs why a header was ignored; returns `None` for `?`-style chaining.
pub(crate) fn malformed<T>(header: &str, value: &str, why: &str) -> Option<T> {
    log::debug!("clew: ignoring malformed {header} header {value:?}: {why}");
    None
}
