//! zipkincore thrift: `list<zipkincore.Span>` as the agent's `emitZipkinBatch`
//! (compact protocol, UDP 5775) and `POST /api/v1/spans` (binary protocol) carry it.
//!
//! Decoding is zero-copy: names, keys and values are slices of the caller's
//! [`Bytes`]. Field ids and types are zipkincore.thrift's.

use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::Bytes;
use std::mem::size_of;

use clew_model::{DecodeBudget, Span, SpanId, Str, TraceId, Value};
use clew_thrift::{
    BinaryReader, BinaryWriter, CompactReader, CompactWriter, ProtocolReader, ProtocolWriter, TType,
};

use crate::error::ZipkinError;
use crate::mapping;
use crate::span::Endpoint;
use crate::v1::{V1Annotation, V1BinaryAnnotation, V1Span};

/// Which thrift protocol a payload uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// TCompactProtocol (agent UDP 5775).
    Compact,
    /// TBinaryProtocol (HTTP `application/x-thrift`).
    Binary,
}

/// zipkincore `AnnotationType` values.
mod annotation_type {
    pub const BOOL: i32 = 0;
    pub const BYTES: i32 = 1;
    pub const I16: i32 = 2;
    pub const I32: i32 = 3;
    pub const I64: i32 = 4;
    pub const DOUBLE: i32 = 5;
    pub const STRING: i32 = 6;
}

/// Decodes the `list<zipkincore.Span>` at the start of `list`, which must be
/// a sub-slice of `buf` (strings are sliced out of `buf` without copying;
/// a `list` outside `buf` still decodes, by copying). Bytes after the list
/// are ignored.
pub fn decode_span_list(
    buf: &Bytes,
    list: &[u8],
    protocol: Protocol,
) -> Result<Vec<Span>, ZipkinError> {
    decode_span_list_with(buf, list, protocol, &mut DecodeBudget::default())
}

/// [`decode_span_list`] charging every decoded value to `budget` before it
/// is built (see [`clew_model::DecodeBudget`]).
pub fn decode_span_list_with(
    buf: &Bytes,
    list: &[u8],
    protocol: Protocol,
    budget: &mut DecodeBudget<'_>,
) -> Result<Vec<Span>, ZipkinError> {
    match protocol {
        Protocol::Compact => read_span_list(buf, &mut CompactReader::new(list), budget),
        Protocol::Binary => read_span_list(buf, &mut BinaryReader::new(list), budget),
    }
}

/// Reads a `list<zipkincore.Span>` from a reader positioned at the list
/// header (for example at field 1 of `emitZipkinBatch`'s arguments), leaving
/// it just after the list.
pub fn read_span_list<'a, R: ProtocolReader<'a>>(
    buf: &Bytes,
    r: &mut R,
    budget: &mut DecodeBudget<'_>,
) -> Result<Vec<Span>, ZipkinError> {
    Ok(mapping::to_model(
        read_v1_list(buf, r, budget)?
            .into_iter()
            .flat_map(V1Span::into_v2)
            .collect(),
    ))
}

/// What one v1 span may cost on its way to the model: itself, the (up to
/// two) v2 spans it splits into, and their model spans and processes.
const SPAN_COST: usize = size_of::<V1Span>()
    + 2 * size_of::<crate::ZipkinSpan>()
    + size_of::<Span>()
    + 2 * size_of::<clew_model::Process>();
/// What one annotation may cost: itself, its v2 form and its model log.
const ANNOTATION_COST: usize =
    size_of::<V1Annotation>() + size_of::<crate::Annotation>() + size_of::<clew_model::Log>() + 64;
/// What one binary annotation may cost: itself, a v2 tag and a model tag.
const BINARY_ANNOTATION_COST: usize =
    size_of::<V1BinaryAnnotation>() + 2 * size_of::<clew_model::KeyValue>() + 64;
/// Most elements reserved up front, whatever a list header declares.
const MAX_RESERVE: usize = 1024;

/// Reads the list as v1 spans, before any conversion, charging `budget`.
pub fn read_v1_list<'a, R: ProtocolReader<'a>>(
    buf: &Bytes,
    r: &mut R,
    budget: &mut DecodeBudget<'_>,
) -> Result<Vec<V1Span>, ZipkinError> {
    let h = r.read_list_begin()?;
    if h.elem != TType::Struct {
        return Err(ZipkinError::Field {
            field: "spans",
            reason: format!("list of {:?}, expected structs", h.elem),
        });
    }
    budget.check_spans(h.size)?;
    let mut spans = Vec::with_capacity(h.size.min(MAX_RESERVE));
    for _ in 0..h.size {
        budget.charge_span()?;
        budget.charge(SPAN_COST)?;
        spans.push(read_span(buf, r, budget)?);
    }
    Ok(spans)
}

/// Turns a slice of the payload into a [`Str`]: short text inline, longer
/// text sharing `buf`'s memory.
fn str_of(buf: &Bytes, s: &[u8], field: &'static str) -> Result<Str, ZipkinError> {
    Str::from_part_of(buf, s).map_err(|_| ZipkinError::Utf8 { field })
}

fn non_negative(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn read_span<'a, R: ProtocolReader<'a>>(
    buf: &Bytes,
    r: &mut R,
    budget: &mut DecodeBudget<'_>,
) -> Result<V1Span, ZipkinError> {
    let (mut low, mut high) = (0u64, 0u64);
    let mut span = V1Span {
        trace_id: TraceId::default(),
        name: Str::new(),
        id: SpanId(0),
        parent_id: None,
        annotations: Vec::new(),
        binary_annotations: Vec::new(),
        debug: false,
        timestamp: None,
        duration: None,
    };
    r.read_struct_begin()?;
    loop {
        let f = r.read_field_begin()?;
        match (f.id, f.ttype) {
            (_, TType::Stop) => break,
            (1, TType::I64) => low = r.read_i64()? as u64,
            (3, TType::Binary) => span.name = str_of(buf, r.read_binary()?, "name")?,
            (4, TType::I64) => span.id = SpanId(r.read_i64()? as u64),
            (5, TType::I64) => {
                span.parent_id = Some(SpanId(r.read_i64()? as u64)).filter(|p| !p.is_zero())
            }
            (6, TType::List) => {
                let h = r.read_list_begin()?;
                if h.elem != TType::Struct {
                    skip_elems(r, h.elem, h.size)?;
                    continue;
                }
                span.annotations.reserve(h.size.min(MAX_RESERVE));
                for _ in 0..h.size {
                    budget.charge(ANNOTATION_COST)?;
                    span.annotations.push(read_annotation(buf, r)?);
                }
            }
            (8, TType::List) => {
                let h = r.read_list_begin()?;
                if h.elem != TType::Struct {
                    skip_elems(r, h.elem, h.size)?;
                    continue;
                }
                span.binary_annotations.reserve(h.size.min(MAX_RESERVE));
                for _ in 0..h.size {
                    budget.charge(BINARY_ANNOTATION_COST)?;
                    span.binary_annotations
                        .push(read_binary_annotation(buf, r)?);
                }
            }
            (9, TType::Bool) => span.debug = r.read_bool()?,
            (10, TType::I64) => span.timestamp = Some(non_negative(r.read_i64()?)),
            (11, TType::I64) => span.duration = Some(non_negative(r.read_i64()?)),
            (12, TType::I64) => high = r.read_i64()? as u64,
            (_, t) => r.skip(t)?,
        }
    }
    r.read_struct_end();
    span.trace_id = TraceId::new(high, low);
    Ok(span)
}

fn skip_elems<'a, R: ProtocolReader<'a>>(
    r: &mut R,
    elem: TType,
    n: usize,
) -> Result<(), ZipkinError> {
    for _ in 0..n {
        r.skip(elem)?;
    }
    Ok(())
}

fn read_annotation<'a, R: ProtocolReader<'a>>(
    buf: &Bytes,
    r: &mut R,
) -> Result<V1Annotation, ZipkinError> {
    let mut a = V1Annotation {
        timestamp: 0,
        value: Str::new(),
        endpoint: None,
    };
    r.read_struct_begin()?;
    loop {
        let f = r.read_field_begin()?;
        match (f.id, f.ttype) {
            (_, TType::Stop) => break,
            (1, TType::I64) => a.timestamp = non_negative(r.read_i64()?),
            (2, TType::Binary) => a.value = str_of(buf, r.read_binary()?, "annotation value")?,
            (3, TType::Struct) => a.endpoint = read_endpoint(buf, r)?,
            (_, t) => r.skip(t)?,
        }
    }
    r.read_struct_end();
    Ok(a)
}

fn read_binary_annotation<'a, R: ProtocolReader<'a>>(
    buf: &Bytes,
    r: &mut R,
) -> Result<V1BinaryAnnotation, ZipkinError> {
    let mut key = Str::new();
    let mut raw: &[u8] = &[];
    let mut ty = annotation_type::STRING;
    let mut endpoint = None;
    r.read_struct_begin()?;
    loop {
        let f = r.read_field_begin()?;
        match (f.id, f.ttype) {
            (_, TType::Stop) => break,
            (1, TType::Binary) => key = str_of(buf, r.read_binary()?, "binary annotation key")?,
            (2, TType::Binary) => raw = r.read_binary()?,
            (3, TType::I32) => ty = r.read_i32()?,
            (4, TType::Struct) => endpoint = read_endpoint(buf, r)?,
            (_, t) => r.skip(t)?,
        }
    }
    r.read_struct_end();
    Ok(V1BinaryAnnotation {
        key,
        value: typed_value(buf, raw, ty),
        endpoint,
    })
}

/// The typed value of a binary annotation. A value whose bytes do not fit
/// its declared type is kept as binary rather than rejected, so nothing the
/// client sent is lost.
fn typed_value(buf: &Bytes, raw: &[u8], ty: i32) -> Value {
    use annotation_type::*;
    let typed = match ty {
        BOOL if raw.len() == 1 => Some(Value::Bool(raw[0] != 0)),
        I16 => <[u8; 2]>::try_from(raw)
            .ok()
            .map(|b| Value::I64(i16::from_be_bytes(b).into())),
        I32 => <[u8; 4]>::try_from(raw)
            .ok()
            .map(|b| Value::I64(i32::from_be_bytes(b).into())),
        I64 => <[u8; 8]>::try_from(raw)
            .ok()
            .map(|b| Value::I64(i64::from_be_bytes(b))),
        DOUBLE => <[u8; 8]>::try_from(raw)
            .ok()
            .map(|b| Value::F64(f64::from_be_bytes(b))),
        STRING => Str::from_part_of(buf, raw).ok().map(Value::Str),
        _ => None,
    };
    typed.unwrap_or_else(|| Value::Binary(clew_model::share_or_copy(buf, raw)))
}

fn read_endpoint<'a, R: ProtocolReader<'a>>(
    buf: &Bytes,
    r: &mut R,
) -> Result<Option<Endpoint>, ZipkinError> {
    let mut ep = Endpoint::default();
    r.read_struct_begin()?;
    loop {
        let f = r.read_field_begin()?;
        match (f.id, f.ttype) {
            (_, TType::Stop) => break,
            (1, TType::I32) => {
                let ip = r.read_i32()? as u32;
                ep.ipv4 = (ip != 0).then(|| Ipv4Addr::from(ip));
            }
            (2, TType::I16) => ep.port = r.read_i16()? as u16,
            (3, TType::Binary) => ep.service_name = str_of(buf, r.read_binary()?, "service_name")?,
            (4, TType::Binary) => {
                let b = r.read_binary()?;
                ep.ipv6 = match b.len() {
                    0 => None,
                    _ => Some(<[u8; 16]>::try_from(b).map(Ipv6Addr::from).map_err(|_| {
                        ZipkinError::Address {
                            field: "ipv6",
                            value: format!("{} bytes", b.len()),
                        }
                    })?),
                };
            }
            (_, t) => r.skip(t)?,
        }
    }
    r.read_struct_end();
    Ok((!ep.is_empty()).then_some(ep))
}

/// Encodes model spans as a `list<zipkincore.Span>` (no message envelope).
pub fn encode_span_list(spans: &[Span], protocol: Protocol, out: &mut Vec<u8>) {
    let v1: Vec<V1Span> = spans
        .iter()
        .map(|s| V1Span::from_v2(&mapping::from_model(s)))
        .collect();
    match protocol {
        Protocol::Compact => write_v1_list(&v1, &mut CompactWriter::new(out)),
        Protocol::Binary => write_v1_list(&v1, &mut BinaryWriter::new(out)),
    }
}

/// Writes v1 spans as a thrift list.
pub fn write_v1_list<W: ProtocolWriter>(spans: &[V1Span], w: &mut W) {
    w.write_list_begin(TType::Struct, spans.len());
    for s in spans {
        write_span(s, w);
    }
}

fn write_span<W: ProtocolWriter>(s: &V1Span, w: &mut W) {
    w.write_struct_begin();
    w.write_field_begin(TType::I64, 1);
    w.write_i64(s.trace_id.low as i64);
    w.write_field_begin(TType::Binary, 3);
    w.write_string(&s.name);
    w.write_field_begin(TType::I64, 4);
    w.write_i64(s.id.0 as i64);
    if let Some(p) = s.parent_id {
        w.write_field_begin(TType::I64, 5);
        w.write_i64(p.0 as i64);
    }
    w.write_field_begin(TType::List, 6);
    w.write_list_begin(TType::Struct, s.annotations.len());
    for a in &s.annotations {
        w.write_struct_begin();
        w.write_field_begin(TType::I64, 1);
        w.write_i64(a.timestamp as i64);
        w.write_field_begin(TType::Binary, 2);
        w.write_string(&a.value);
        if let Some(ep) = &a.endpoint {
            w.write_field_begin(TType::Struct, 3);
            write_endpoint(ep, w);
        }
        w.write_field_stop();
        w.write_struct_end();
    }
    w.write_field_begin(TType::List, 8);
    w.write_list_begin(TType::Struct, s.binary_annotations.len());
    for b in &s.binary_annotations {
        write_binary_annotation(b, w);
    }
    if s.debug {
        w.write_field_begin(TType::Bool, 9);
        w.write_bool(true);
    }
    if let Some(ts) = s.timestamp {
        w.write_field_begin(TType::I64, 10);
        w.write_i64(ts as i64);
    }
    if let Some(d) = s.duration {
        w.write_field_begin(TType::I64, 11);
        w.write_i64(d as i64);
    }
    if s.trace_id.high != 0 {
        w.write_field_begin(TType::I64, 12);
        w.write_i64(s.trace_id.high as i64);
    }
    w.write_field_stop();
    w.write_struct_end();
}

fn write_binary_annotation<W: ProtocolWriter>(b: &V1BinaryAnnotation, w: &mut W) {
    use annotation_type::*;
    let text;
    let (ty, raw): (i32, &[u8]) = match &b.value {
        Value::Str(s) => (STRING, s.as_bytes()),
        Value::Bool(v) => (BOOL, if *v { &[1] } else { &[0] }),
        Value::I64(v) => {
            text = v.to_be_bytes().to_vec();
            (I64, &text)
        }
        Value::F64(v) => {
            text = v.to_be_bytes().to_vec();
            (DOUBLE, &text)
        }
        Value::Binary(v) => (BYTES, v),
        other => {
            text = other.to_text().into_bytes();
            (STRING, &text)
        }
    };
    w.write_struct_begin();
    w.write_field_begin(TType::Binary, 1);
    w.write_string(&b.key);
    w.write_field_begin(TType::Binary, 2);
    w.write_binary(raw);
    w.write_field_begin(TType::I32, 3);
    w.write_i32(ty);
    if let Some(ep) = &b.endpoint {
        w.write_field_begin(TType::Struct, 4);
        write_endpoint(ep, w);
    }
    w.write_field_stop();
    w.write_struct_end();
}

fn write_endpoint<W: ProtocolWriter>(ep: &Endpoint, w: &mut W) {
    w.write_struct_begin();
    w.write_field_begin(TType::I32, 1);
    w.write_i32(ep.ipv4.map_or(0, u32::from) as i32);
    w.write_field_begin(TType::I16, 2);
    w.write_i16(ep.port as i16);
    w.write_field_begin(TType::Binary, 3);
    w.write_string(&ep.service_name);
    if let Some(ip) = ep.ipv6 {
        w.write_field_begin(TType::Binary, 4);
        w.write_binary(&ip.octets());
    }
    w.write_field_stop();
    w.write_struct_end();
}

#[cfg(test)]
mod tests {
    use super::*;
    use clew_model::{KeyValue, SpanKind};

    /// Strings too long to be inline in a `Str` are views into the payload.
    #[test]
    fn long_strings_share_the_payload_buffer() {
        let mut s = Span::new(
            TraceId::new(7, 8),
            SpanId(9),
            "an-operation-name-longer-than-inline",
            std::sync::Arc::new(clew_model::Process::new("svc")),
        );
        s.tags.push(KeyValue::string("span.kind", "client"));
        s.tags.push(KeyValue::f64("ratio", 0.5));
        s.start_time = 1_000_000;
        s.duration = 2_000;
        let mut out = Vec::new();
        encode_span_list(std::slice::from_ref(&s), Protocol::Compact, &mut out);
        let buf = Bytes::from(out);
        let spans = decode_span_list(&buf, &buf, Protocol::Compact).expect("decodes");
        let d = &spans[0];
        assert_eq!(d.trace_id, TraceId::new(7, 8));
        assert_eq!(d.kind(), SpanKind::Client);
        assert_eq!(d.tag("ratio"), Some(&Value::F64(0.5)));
        let name = d.operation_name.as_bytes().as_ptr() as usize;
        let range = buf.as_ptr() as usize..buf.as_ptr() as usize + buf.len();
        assert!(
            range.contains(&name),
            "operation name should point into the payload"
        );
    }

    #[test]
    fn mistyped_binary_annotation_is_kept_as_bytes() {
        let buf = Bytes::from_static(&[1, 2, 3]);
        assert_eq!(
            typed_value(&buf, &buf[..], annotation_type::I64),
            Value::Binary(Bytes::from_static(&[1, 2, 3]))
        );
        assert_eq!(
            typed_value(&buf, &buf[..2], annotation_type::I16),
            Value::I64(0x0102)
        );
    }
}
