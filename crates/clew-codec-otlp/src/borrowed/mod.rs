//! The zero-copy OTLP protobuf decoder: walks `ExportTraceServiceRequest`
//! bytes straight into model spans.
//!
//! prost would allocate a `String` per attribute key and value and then the
//! mapping would move them again; here every string is a [`Str`] slice of the
//! request body, validated once. The output is identical to
//! [`crate::decode_prost`]'s (property-tested), including prost's merge
//! rules for repeated singular fields: scalars take the last value, nested
//! messages merge.

use std::cell::RefCell;
use std::sync::Arc;

use bytes::Bytes;
use clew_model::{KeyValue, Log, Str};

use crate::assemble::{self, RawLink, RawSpan};
use crate::error::OtlpError;
use crate::intern::{KEYS, KeyTable};
use crate::reject::Decoded;
use crate::wire::{RECURSION_LIMIT, Reader, WireError, WireType};

mod values;

/// Decodes a protobuf `ExportTraceServiceRequest` (`POST /v1/traces` with
/// `application/x-protobuf`, or a gRPC message body) into model spans.
pub fn decode(body: &Bytes) -> Result<Decoded, OtlpError> {
    Ok(KEYS.with(|keys| decode_with(body, keys))?)
}

fn decode_with(body: &Bytes, keys: &RefCell<KeyTable>) -> Result<Decoded, WireError> {
    let ctx = Ctx { body, keys };
    let mut out = Decoded::default();
    let mut r = Reader::new(body, 0);
    while !r.is_empty() {
        let (field, wire) = r.key()?;
        match field {
            1 => {
                r.expect(wire, WireType::Len)?;
                let rs = r.bytes()?;
                ctx.resource_spans(rs, &mut out)?;
            }
            _ => r.skip(wire, field, RECURSION_LIMIT)?,
        }
    }
    Ok(out)
}

/// The body, for slicing strings out of it, and the key table.
struct Ctx<'a> {
    body: &'a Bytes,
    keys: &'a RefCell<KeyTable>,
}

/// Depth budget left when entering the messages below a span (request,
/// resource spans, scope spans and span already entered).
const SPAN_DEPTH: u32 = RECURSION_LIMIT - 4;

impl<'a> Ctx<'a> {
    fn offset(&self, s: &[u8]) -> usize {
        (s.as_ptr() as usize).saturating_sub(self.body.as_ptr() as usize)
    }

    fn reader(&self, s: &'a [u8]) -> Reader<'a> {
        Reader::new(s, self.offset(s))
    }

    // Inlined so the returned `Str` stays in registers: returned through
    // memory it was read back misaligned, a store-forwarding stall per string.
    #[inline(always)]
    fn str(&self, s: &'a [u8]) -> Result<Str, WireError> {
        if s.is_empty() {
            return Ok(Str::new());
        }
        // `s` is a sub-slice of the body (every reader walks the body):
        // short strings are copied inline, long ones share the body.
        Str::from_part_of(self.body, s).map_err(|_| WireError {
            at: self.offset(s),
            reason: "string field is not valid UTF-8",
        })
    }

    /// An attribute key: interned when possible (see [`crate::intern`]).
    #[inline(always)]
    fn key(&self, s: &'a [u8]) -> Result<Str, WireError> {
        let interned = match self.keys.try_borrow_mut() {
            Ok(mut keys) => keys.get(s),
            Err(_) => None,
        };
        match interned {
            Some(k) => Ok(k),
            None => self.str(s),
        }
    }

    /// Validates an `EntityRef` (strings 1–4, the last two repeated).
    fn entity_ref(&self, msg: &'a [u8]) -> Result<(), WireError> {
        let mut r = self.reader(msg);
        while !r.is_empty() {
            let (field, wire) = r.key()?;
            match field {
                1..=4 => {
                    r.expect(wire, WireType::Len)?;
                    self.str(r.bytes()?)?;
                }
                _ => r.skip(wire, field, RECURSION_LIMIT - 4)?,
            }
        }
        Ok(())
    }

    fn resource_spans(&self, msg: &'a [u8], out: &mut Decoded) -> Result<(), WireError> {
        let mut r = self.reader(msg);
        let mut attrs = Vec::new();
        let mut dropped = 0u32;
        let mut schema_url: &[u8] = &[];
        let mut scopes: Vec<&'a [u8]> = Vec::new();
        while !r.is_empty() {
            let (field, wire) = r.key()?;
            match field {
                1 => {
                    r.expect(wire, WireType::Len)?;
                    let mut res = self.reader(r.bytes()?);
                    while !res.is_empty() {
                        let (f, w) = res.key()?;
                        match f {
                            1 => {
                                res.expect(w, WireType::Len)?;
                                attrs.push(self.key_value(res.bytes()?, RECURSION_LIMIT - 3)?);
                            }
                            2 => {
                                res.expect(w, WireType::Varint)?;
                                dropped = res.varint()? as u32;
                            }
                            3 => {
                                // `entity_refs`: not mapped, but checked as
                                // prost checks it, so both decoders refuse
                                // the same bodies.
                                res.expect(w, WireType::Len)?;
                                self.entity_ref(res.bytes()?)?;
                            }
                            _ => res.skip(w, f, RECURSION_LIMIT - 3)?,
                        }
                    }
                }
                2 => {
                    r.expect(wire, WireType::Len)?;
                    scopes.push(r.bytes()?);
                }
                3 => {
                    r.expect(wire, WireType::Len)?;
                    schema_url = r.bytes()?;
                    self.str(schema_url)?;
                }
                _ => r.skip(wire, field, RECURSION_LIMIT - 2)?,
            }
        }
        let process = Arc::new(assemble::process_from(
            attrs,
            dropped,
            self.str(schema_url)?,
        ));
        let mut spans = Vec::new();
        for scope in scopes {
            self.scope_spans(scope, &process, &mut spans, out)?;
        }
        Ok(())
    }

    fn scope_spans(
        &self,
        msg: &'a [u8],
        process: &Arc<clew_model::Process>,
        spans: &mut Vec<&'a [u8]>,
        out: &mut Decoded,
    ) -> Result<(), WireError> {
        let mut r = self.reader(msg);
        let (mut name, mut version, mut schema_url) = (Str::new(), Str::new(), Str::new());
        let mut attrs = Vec::new();
        let mut dropped = 0u32;
        spans.clear();
        while !r.is_empty() {
            let (field, wire) = r.key()?;
            match field {
                1 => {
                    r.expect(wire, WireType::Len)?;
                    let mut s = self.reader(r.bytes()?);
                    while !s.is_empty() {
                        let (f, w) = s.key()?;
                        match f {
                            // Scope names and versions are copied into every
                            // span's tags: interning them saves two atomics a span.
                            1 => {
                                s.expect(w, WireType::Len)?;
                                name = self.key(s.bytes()?)?;
                            }
                            2 => {
                                s.expect(w, WireType::Len)?;
                                version = self.key(s.bytes()?)?;
                            }
                            3 => {
                                s.expect(w, WireType::Len)?;
                                attrs.push(self.key_value(s.bytes()?, RECURSION_LIMIT - 4)?);
                            }
                            4 => {
                                s.expect(w, WireType::Varint)?;
                                dropped = s.varint()? as u32;
                            }
                            _ => s.skip(w, f, RECURSION_LIMIT - 4)?,
                        }
                    }
                }
                2 => {
                    r.expect(wire, WireType::Len)?;
                    spans.push(r.bytes()?);
                }
                3 => {
                    r.expect(wire, WireType::Len)?;
                    schema_url = self.str(r.bytes()?)?;
                }
                _ => r.skip(wire, field, RECURSION_LIMIT - 3)?,
            }
        }
        let scope_tags = assemble::scope_tags(name, version, attrs, dropped, schema_url);
        out.spans.reserve(spans.len());
        let mut scratch = Vec::new();
        for msg in spans.iter() {
            let raw = self.span(msg, &mut scratch, scope_tags.len())?;
            match assemble::finish(raw, &scope_tags, process) {
                Ok(s) => out.spans.push(s),
                Err(reason) => out.rejected.add(reason),
            }
        }
        Ok(())
    }

    /// One span. Its attributes are collected in `scratch` (reused from
    /// span to span) and then moved into a vector allocated once at its
    /// final size, attributes plus the tags the mapping appends (kind,
    /// status, the scope's `scope_tags`…): cheaper than growing it, or than
    /// a first pass counting attributes.
    fn span(
        &self,
        msg: &'a [u8],
        scratch: &mut Vec<KeyValue>,
        scope_tags: usize,
    ) -> Result<RawSpan<'a>, WireError> {
        let mut r = self.reader(msg);
        let mut s = RawSpan::default();
        scratch.clear();
        while !r.is_empty() {
            let (field, wire) = r.key()?;
            match field {
                1 => {
                    r.expect(wire, WireType::Len)?;
                    s.trace_id = r.bytes()?;
                }
                2 => {
                    r.expect(wire, WireType::Len)?;
                    s.span_id = r.bytes()?;
                }
                3 => {
                    r.expect(wire, WireType::Len)?;
                    s.trace_state = self.str(r.bytes()?)?;
                }
                4 => {
                    r.expect(wire, WireType::Len)?;
                    s.parent_span_id = r.bytes()?;
                }
                5 => {
                    r.expect(wire, WireType::Len)?;
                    s.name = self.str(r.bytes()?)?;
                }
                6 => {
                    r.expect(wire, WireType::Varint)?;
                    s.kind = r.varint()? as i32;
                }
                7 => {
                    r.expect(wire, WireType::Fixed64)?;
                    s.start = r.fixed64()?;
                }
                8 => {
                    r.expect(wire, WireType::Fixed64)?;
                    s.end = r.fixed64()?;
                }
                9 => {
                    r.expect(wire, WireType::Len)?;
                    scratch.push(self.key_value(r.bytes()?, SPAN_DEPTH)?);
                }
                10 => {
                    r.expect(wire, WireType::Varint)?;
                    s.dropped_attributes = r.varint()? as u32;
                }
                11 => {
                    r.expect(wire, WireType::Len)?;
                    s.logs.push(self.event(r.bytes()?)?);
                }
                12 => {
                    r.expect(wire, WireType::Varint)?;
                    s.dropped_events = r.varint()? as u32;
                }
                13 => {
                    r.expect(wire, WireType::Len)?;
                    s.links.push(self.link(r.bytes()?)?);
                }
                14 => {
                    r.expect(wire, WireType::Varint)?;
                    s.dropped_links = r.varint()? as u32;
                }
                15 => {
                    r.expect(wire, WireType::Len)?;
                    let mut st = self.reader(r.bytes()?);
                    while !st.is_empty() {
                        let (f, w) = st.key()?;
                        match f {
                            2 => {
                                st.expect(w, WireType::Len)?;
                                s.status_message = self.str(st.bytes()?)?;
                            }
                            3 => {
                                st.expect(w, WireType::Varint)?;
                                s.status_code = st.varint()? as i32;
                            }
                            _ => st.skip(w, f, SPAN_DEPTH - 1)?,
                        }
                    }
                }
                16 => {
                    r.expect(wire, WireType::Fixed32)?;
                    s.flags = r.fixed32()?;
                }
                _ => r.skip(wire, field, SPAN_DEPTH)?,
            }
        }
        s.attributes = Vec::with_capacity(scratch.len() + assemble::appended_tags(&s, scope_tags));
        s.attributes.append(scratch);
        Ok(s)
    }

    fn event(&self, msg: &'a [u8]) -> Result<Log, WireError> {
        let mut r = self.reader(msg);
        let (mut time, mut name, mut dropped) = (0u64, Str::new(), 0u32);
        let mut attrs = Vec::new();
        while !r.is_empty() {
            let (field, wire) = r.key()?;
            match field {
                1 => {
                    r.expect(wire, WireType::Fixed64)?;
                    time = r.fixed64()?;
                }
                2 => {
                    r.expect(wire, WireType::Len)?;
                    name = self.str(r.bytes()?)?;
                }
                3 => {
                    r.expect(wire, WireType::Len)?;
                    attrs.push(self.key_value(r.bytes()?, SPAN_DEPTH - 1)?);
                }
                4 => {
                    r.expect(wire, WireType::Varint)?;
                    dropped = r.varint()? as u32;
                }
                _ => r.skip(wire, field, SPAN_DEPTH - 1)?,
            }
        }
        Ok(assemble::event_to_log(time, name, attrs, dropped))
    }

    fn link(&self, msg: &'a [u8]) -> Result<RawLink<'a>, WireError> {
        let mut r = self.reader(msg);
        let mut l = RawLink {
            trace_id: &[],
            span_id: &[],
            trace_state: Str::new(),
            attributes: Vec::new(),
            dropped_attributes: 0,
            flags: 0,
        };
        while !r.is_empty() {
            let (field, wire) = r.key()?;
            match field {
                1 => {
                    r.expect(wire, WireType::Len)?;
                    l.trace_id = r.bytes()?;
                }
                2 => {
                    r.expect(wire, WireType::Len)?;
                    l.span_id = r.bytes()?;
                }
                3 => {
                    r.expect(wire, WireType::Len)?;
                    l.trace_state = self.str(r.bytes()?)?;
                }
                4 => {
                    r.expect(wire, WireType::Len)?;
                    l.attributes
                        .push(self.key_value(r.bytes()?, SPAN_DEPTH - 1)?);
                }
                5 => {
                    r.expect(wire, WireType::Varint)?;
                    l.dropped_attributes = r.varint()? as u32;
                }
                6 => {
                    r.expect(wire, WireType::Fixed32)?;
                    l.flags = r.fixed32()?;
                }
                _ => r.skip(wire, field, SPAN_DEPTH - 1)?,
            }
        }
        Ok(l)
    }
}
