//! One datagram → spans → pipeline. Runs on an agent decoder thread; every
//! failure is a counter plus a rate-limited warning, never an error upwards.

use std::time::Duration;

use bytes::Bytes;
use clew_codec_jaeger::{DecodeError, decode_emit_batch_args_with, parse_agent_envelope};
pub use clew_codec_jaeger::{EMIT_BATCH, EMIT_ZIPKIN_BATCH};
use clew_codec_zipkin::ZipkinError;
use clew_model::DecodeBudget;

use super::AgentPort;
use super::zipkin::decode_emit_zipkin_batch_args_with;
use crate::budget::Reservation;
use crate::log_limit::LogLimiter;
use crate::pipeline::Pipeline;
use crate::source::{Format, Source, Transport};

/// `reason` label values of `clew_agent_datagrams_rejected_total`.
pub mod reason {
    /// Not a Thrift message envelope for this port's protocol.
    pub const BAD_ENVELOPE: &str = "bad_envelope";
    /// The envelope was fine, the batch inside was not.
    pub const BAD_BATCH: &str = "bad_batch";
    /// A method the agent interface does not have.
    pub const UNKNOWN_METHOD: &str = "unknown_method";
    /// A known method this port does not serve (`emitZipkinBatch` off 5775).
    pub const UNSUPPORTED_METHOD: &str = "unsupported_method";
    /// The batch holds more spans, or decodes into more bytes, than one
    /// request may.
    pub const TOO_LARGE: &str = "too_large";
}

/// Decodes datagrams of one port and submits their spans.
pub(crate) struct DatagramHandler {
    pub(crate) port: AgentPort,
    pub(crate) pipeline: Pipeline,
    warn: LogLimiter,
}

impl DatagramHandler {
    pub(crate) fn new(port: AgentPort, pipeline: Pipeline) -> Self {
        DatagramHandler {
            port,
            pipeline,
            warn: LogLimiter::new(Duration::from_secs(10)),
        }
    }

    pub(crate) fn handle(&self, datagram: Bytes) {
        let protocol = self.port.protocol();
        let env = match parse_agent_envelope(&datagram, protocol) {
            Ok(env) => env,
            Err(e) => return self.reject(reason::BAD_ENVELOPE, &e),
        };
        match env.method {
            EMIT_BATCH => {
                let source = Source::new(Transport::Udp, self.port.jaeger_format());
                self.pipeline.metrics().record_bytes(source, datagram.len());
                // The datagram and what it decodes into are reserved from the
                // in-flight budget before they are held; a busy budget drops
                // the datagram (counted), as a full queue does.
                let Some(mut reservation) = self.reserve(source, datagram.len()) else {
                    return;
                };
                let limits = self.pipeline.decode_limits();
                let mut budget = DecodeBudget::with_grant(limits, &mut reservation);
                match decode_emit_batch_args_with(&datagram, env.args, protocol, &mut budget) {
                    Ok(batch) => {
                        self.pipeline
                            .metrics()
                            .record_repaired(batch.repaired_strings);
                        self.pipeline
                            .submit_reserved(batch.spans, source, reservation);
                    }
                    Err(DecodeError::Budget(e)) => {
                        self.pipeline.metrics().record_memory_refused(e);
                        self.reject(reason::TOO_LARGE, &e);
                    }
                    Err(e) => self.reject(reason::BAD_BATCH, &e),
                }
            }
            EMIT_ZIPKIN_BATCH if self.port.accepts_zipkin() => {
                let source = Source::new(Transport::Udp, Format::ZipkinThrift);
                self.pipeline.metrics().record_bytes(source, datagram.len());
                let Some(mut reservation) = self.reserve(source, datagram.len()) else {
                    return;
                };
                let limits = self.pipeline.decode_limits();
                let mut budget = DecodeBudget::with_grant(limits, &mut reservation);
                match decode_emit_zipkin_batch_args_with(&datagram, env.args, &mut budget) {
                    Ok(spans) => {
                        self.pipeline.submit_reserved(spans, source, reservation);
                    }
                    Err(ZipkinError::Budget(e)) => {
                        self.pipeline.metrics().record_memory_refused(e);
                        self.reject(reason::TOO_LARGE, &e);
                    }
                    Err(e) => self.reject(reason::BAD_BATCH, &e),
                }
            }
            EMIT_ZIPKIN_BATCH => self.reject(
                reason::UNSUPPORTED_METHOD,
                &"emitZipkinBatch is only served on the 5775 port",
            ),
            other => self.reject(reason::UNKNOWN_METHOD, &format_args!("method {other:?}")),
        }
    }

    /// Reserves `bytes` of the in-flight budget, or counts the datagram's
    /// spans as dropped (their number is unknown before decoding: 1 is counted).
    fn reserve(&self, source: Source, bytes: usize) -> Option<Reservation> {
        match self.pipeline.reserve(bytes) {
            Ok(r) => Some(r),
            Err(_) => {
                self.pipeline.metrics().record_dropped(source, 1);
                self.pipeline
                    .metrics()
                    .record_datagram_dropped(self.port.label());
                None
            }
        }
    }

    fn reject(&self, reason: &'static str, detail: &dyn std::fmt::Display) {
        let port = self.port.label();
        self.pipeline
            .metrics()
            .record_datagram_rejected(port, reason);
        if let Some(suppressed) = self.warn.allow() {
            tracing::warn!(
                port,
                reason,
                suppressed,
                "dropping agent datagram: {detail}"
            );
        }
    }
}
