//! Pre-encoded payloads, so the generator measures the server rather than
//! its own encoder.
//!
//! A worker builds a [`PayloadPool`] before the clock starts: a few thousand
//! spans of whole traces, grouped by service (a thrift `Batch` has one
//! process), cut into payloads of at most `--batch-spans` spans and, for UDP,
//! at most 65,000 bytes. A trace may straddle two payloads, as with a real
//! client. Sending walks the pool round after round; [`crate::patch`] gives
//! each round its own trace IDs.

use std::sync::Arc;

use clew_codec_jaeger::Protocol;
use clew_model::{Process, Span};

use crate::patch::{IdPatch, SENTINEL_HIGH};
use crate::shape::TraceGenerator;
use crate::timepatch::TimePatch;
use crate::transport::{EncodeError, Encoding};

/// Why a pool could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// One span alone does not fit the transport's size limit.
    #[error("a single span encodes to {size} bytes, over the {limit}-byte payload limit")]
    SpanTooLarge {
        /// Encoded size of the smallest payload tried.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The encoder wrote trace IDs in a form the patcher cannot find.
    #[error("found {found} trace IDs to re-stamp in a payload of {spans} spans")]
    IdsNotFound {
        /// Sentinels found.
        found: usize,
        /// Spans in the payload.
        spans: usize,
    },
    /// The encoder wrote span times in a form the patcher cannot find.
    #[error("found {found} span times to re-stamp in a payload of {spans} spans")]
    TimesNotFound {
        /// Timestamps found.
        found: usize,
        /// Spans in the payload.
        spans: usize,
    },
    /// The encoder refused the generated spans.
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

/// How to cut spans into payloads.
#[derive(Clone, Copy, Debug)]
pub struct PackLimits {
    /// Encoding of every payload.
    pub encoding: Encoding,
    /// Most spans per payload.
    pub max_spans: usize,
    /// Most bytes per payload (UDP datagrams), if limited.
    pub max_bytes: Option<usize>,
}

/// One ready-to-send payload.
#[derive(Clone, Debug)]
pub struct Payload {
    /// Encoded bytes, trace IDs re-stamped in place before each send.
    pub bytes: Vec<u8>,
    /// The spans inside, kept to encode a shorter payload when a `--traces`
    /// budget ends part-way through this one.
    pub spans: Vec<Span>,
    /// The process of every span.
    pub process: Arc<Process>,
    patch: IdPatch,
    times: TimePatch,
}

impl Payload {
    fn encode(
        encoding: Encoding,
        process: Arc<Process>,
        spans: Vec<Span>,
        seq_id: i32,
    ) -> Result<Self, PayloadError> {
        let mut bytes = Vec::new();
        encoding.encode(&process, &spans, seq_id, &mut bytes)?;
        let patch = IdPatch::locate(&bytes, encoding.id_form());
        if patch.count() < spans.len() {
            return Err(PayloadError::IdsNotFound {
                found: patch.count(),
                spans: spans.len(),
            });
        }
        let form = encoding.time_form();
        let times = TimePatch::locate(
            &bytes,
            form,
            spans.iter().flat_map(|s| {
                let end = form.has_end().then(|| s.start_time + s.duration);
                std::iter::once(s.start_time).chain(end)
            }),
        );
        if times.count() < spans.len() {
            return Err(PayloadError::TimesNotFound {
                found: times.count(),
                spans: spans.len(),
            });
        }
        Ok(Payload {
            bytes,
            spans,
            process,
            patch,
            times,
        })
    }

    /// Stamps every trace ID of the payload with `high` (from
    /// [`crate::patch::round_high`]) and moves every span time `shift_ns`
    /// past the time the pool was built.
    pub fn stamp(&mut self, high: u64, shift_ns: u64) {
        self.patch.apply(&mut self.bytes, high);
        self.times.apply(&mut self.bytes, shift_ns);
    }

    /// Encodes the first `n` spans alone, stamped as [`Payload::stamp`] does.
    pub fn encode_prefix(
        &self,
        n: usize,
        high: u64,
        shift_ns: u64,
        encoding: Encoding,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        let mut spans: Vec<Span> = self.spans.iter().take(n).cloned().collect();
        for span in &mut spans {
            span.trace_id.high = high;
            span.start_time = span.start_time.saturating_add(shift_ns);
            for r in &mut span.references {
                if r.trace_id.high == SENTINEL_HIGH {
                    r.trace_id.high = high;
                }
            }
        }
        out.clear();
        encoding.encode(&self.process, &spans, 0, out)
    }
}

/// The payloads one worker cycles through.
#[derive(Debug)]
pub struct PayloadPool {
    /// Payloads in sending order (services interleaved).
    pub payloads: Vec<Payload>,
}

impl PayloadPool {
    /// Builds a pool of at least `min_spans` spans (whole traces, every
    /// service represented) from `generator`.
    pub fn build(
        generator: &mut TraceGenerator,
        limits: PackLimits,
        min_spans: usize,
    ) -> Result<Self, PayloadError> {
        let shape = generator.shape();
        let services = shape.services.max(1);
        let per_trace = shape.spans_per_trace.max(1);
        let traces_per_service = min_spans.div_ceil(services * per_trace).max(1);

        let mut per_service: Vec<std::vec::IntoIter<Payload>> = Vec::with_capacity(services);
        for service in 0..services {
            let spans: Vec<Span> = (0..traces_per_service)
                .flat_map(|_| generator.trace(service, SENTINEL_HIGH))
                .collect();
            let payloads = pack(generator.process(service), spans, limits)?;
            per_service.push(payloads.into_iter());
        }
        // Interleave services so a short run still touches all of them.
        let mut payloads = Vec::new();
        loop {
            let before = payloads.len();
            for it in &mut per_service {
                payloads.extend(it.next());
            }
            if payloads.len() == before {
                break;
            }
        }
        Ok(PayloadPool { payloads })
    }

    /// Spans in one full round of the pool.
    pub fn spans_per_round(&self) -> usize {
        self.payloads.iter().map(|p| p.spans.len()).sum()
    }
}

/// Cuts `spans` (all of `process`) into payloads within `limits`.
pub fn pack(
    process: Arc<Process>,
    spans: Vec<Span>,
    limits: PackLimits,
) -> Result<Vec<Payload>, PayloadError> {
    let max_spans = limits.max_spans.max(1);
    let mut out = Vec::new();
    let mut rest = spans.as_slice();
    let mut scratch = Vec::new();
    while !rest.is_empty() {
        let mut n = rest.len().min(max_spans);
        if let Some(limit) = limits.max_bytes {
            n = n.min(fitting_spans(
                &process,
                rest,
                limits.encoding,
                limit,
                &mut scratch,
            )?);
        }
        let seq_id = i32::try_from(out.len()).unwrap_or(i32::MAX);
        out.push(Payload::encode(
            limits.encoding,
            process.clone(),
            rest[..n].to_vec(),
            seq_id,
        )?);
        rest = &rest[n..];
    }
    Ok(out)
}

/// How many leading spans of `spans` fit in `limit` bytes: estimated from
/// per-span sizes, then checked by encoding (and trimmed if the estimate was
/// optimistic), so no datagram ever exceeds the limit.
fn fitting_spans(
    process: &Process,
    spans: &[Span],
    encoding: Encoding,
    limit: usize,
    scratch: &mut Vec<u8>,
) -> Result<usize, PayloadError> {
    scratch.clear();
    encoding.encode(process, &[], 0, scratch)?;
    // Room for the list header growing from 1 byte to 5 once it has 15+ elements.
    let empty = scratch.len();
    let mut used = empty + 4;
    let mut n = 0;
    for span in spans {
        let size = span_size(process, span, encoding, empty, scratch)?;
        if used + size > limit {
            break;
        }
        used += size;
        n += 1;
    }
    loop {
        if n == 0 {
            scratch.clear();
            encoding.encode(process, &spans[..1], 0, scratch)?;
            return Err(PayloadError::SpanTooLarge {
                size: scratch.len(),
                limit,
            });
        }
        scratch.clear();
        encoding.encode(process, &spans[..n], 0, scratch)?;
        if scratch.len() <= limit {
            return Ok(n);
        }
        n -= 1;
    }
}

/// A span's encoded size. The codec's `encoded_span_size` is exact for the
/// thrift compact protocol; other encodings are measured by encoding.
/// `empty` is the size of the same payload with no spans.
fn span_size(
    process: &Process,
    span: &Span,
    encoding: Encoding,
    empty: usize,
    scratch: &mut Vec<u8>,
) -> Result<usize, PayloadError> {
    if encoding.protocol() == Some(Protocol::Compact) {
        return Ok(clew_codec_jaeger::encoded_span_size(span));
    }
    scratch.clear();
    encoding.encode(process, std::slice::from_ref(span), 0, scratch)?;
    Ok(scratch.len().saturating_sub(empty))
}

#[cfg(test)]
mod tests;
