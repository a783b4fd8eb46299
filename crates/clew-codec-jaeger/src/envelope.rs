//! Agent datagrams: the thrift message envelope around `emitBatch` args.

use bytes::Bytes;
use clew_model::DecodeBudget;
use clew_thrift::{BinaryReader, CompactReader, MessageType, ProtocolReader};

use crate::decode::Decoder;
use crate::{DecodeError, JaegerBatch, Protocol};

/// `Agent.emitBatch(1: jaeger.Batch batch)`, sent to UDP 6831 (compact) and 6832 (binary).
pub const EMIT_BATCH: &str = "emitBatch";
/// `Agent.emitZipkinBatch(1: list<zipkincore.Span> spans)`, sent to UDP 5775 (compact).
pub const EMIT_ZIPKIN_BATCH: &str = "emitZipkinBatch";

/// The envelope of one agent datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AgentEnvelope<'a> {
    /// Method name (`emitBatch`, `emitZipkinBatch`, or whatever the client sent).
    pub method: &'a str,
    /// Sender's sequence id (Jaeger clients count up; the agent ignores it).
    pub seq_id: i32,
    /// The rest of the datagram after the envelope header: the args struct.
    pub args: &'a [u8],
}

/// Parses the message envelope at the start of `datagram`. Accepts ONEWAY
/// (what clients send) and CALL messages; replies and exceptions are refused.
pub fn parse_agent_envelope(
    datagram: &[u8],
    protocol: Protocol,
) -> Result<AgentEnvelope<'_>, DecodeError> {
    match protocol {
        Protocol::Compact => envelope(CompactReader::new(datagram)),
        Protocol::Binary => envelope(BinaryReader::new(datagram)),
    }
}

fn envelope<'a>(mut r: impl ProtocolReader<'a>) -> Result<AgentEnvelope<'a>, DecodeError> {
    let h = r.read_message_begin()?;
    if !matches!(h.kind, MessageType::Oneway | MessageType::Call) {
        return Err(DecodeError::BadEnvelope(
            "message is a reply or exception, not a call",
        ));
    }
    let method = std::str::from_utf8(h.name)
        .map_err(|_| DecodeError::BadEnvelope("method name is not UTF-8"))?;
    Ok(AgentEnvelope {
        method,
        seq_id: h.seq_id,
        args: r.rest(),
    })
}

/// Decodes the `emitBatch` args struct (field 1 = `Batch`).
///
/// `datagram` is the whole received buffer and `args` should be a slice of
/// it (as [`parse_agent_envelope`] returns), so strings are shared with the
/// datagram rather than copied. If `args` lies elsewhere it is copied once.
pub fn decode_emit_batch_args(
    datagram: &Bytes,
    args: &[u8],
    protocol: Protocol,
) -> Result<JaegerBatch, DecodeError> {
    decode_emit_batch_args_with(datagram, args, protocol, &mut DecodeBudget::default())
}

/// [`decode_emit_batch_args`] charging every decoded value to `budget`.
pub fn decode_emit_batch_args_with(
    datagram: &Bytes,
    args: &[u8],
    protocol: Protocol,
    budget: &mut DecodeBudget<'_>,
) -> Result<JaegerBatch, DecodeError> {
    match offset_in(datagram, args) {
        Some(start) => decode_args(datagram, start, args.len(), protocol, budget),
        None => {
            let owned = Bytes::copy_from_slice(args);
            decode_args(&owned, 0, owned.len(), protocol, budget)
        }
    }
}

fn decode_args(
    buf: &Bytes,
    start: usize,
    len: usize,
    protocol: Protocol,
    budget: &mut DecodeBudget<'_>,
) -> Result<JaegerBatch, DecodeError> {
    let slice = &buf[start..start + len];
    match protocol {
        Protocol::Compact => Decoder::new(CompactReader::new(slice), buf, budget).emit_batch_args(),
        Protocol::Binary => Decoder::new(BinaryReader::new(slice), buf, budget).emit_batch_args(),
    }
}

/// Where `inner` starts within `outer`, if it lies entirely inside it.
fn offset_in(outer: &[u8], inner: &[u8]) -> Option<usize> {
    let o = outer.as_ptr() as usize;
    let i = inner.as_ptr() as usize;
    let start = i.checked_sub(o)?;
    (start.checked_add(inner.len())? <= outer.len()).then_some(start)
}
