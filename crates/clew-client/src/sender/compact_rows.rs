//! Span rows → Jaeger thrift compact `Span` structs, without building
//! model spans first.
//!
//! The bytes are exactly those clew-codec-jaeger writes for the model span
//! a row converts to (`SpanBatch::to_model`); the tests below compare them
//! byte for byte, so what reaches an agent does not depend on the path.
//! Field IDs are known here, so field headers are constants and each span
//! is a run of pushes into one buffer.
//
// This lives in the client, not the codec crate, because the codec's
// encoder takes model spans; a codec-side writer over a span trait would
// let both share it.

use std::borrow::Cow;

use clew_model::{RefType, SpanId, TraceId};

use crate::reporter::{SpanBatch, SpanRow};
use crate::span::SpanRef;
use crate::tag::{Tag, TagValue};

/// Compact type codes (thrift's `TCompactProtocol`).
const I32: u8 = 5;
const I64: u8 = 6;
const DOUBLE: u8 = 7;
const BINARY: u8 = 8;
const LIST: u8 = 9;
const STRUCT: u8 = 12;
const BOOL_TRUE: u8 = 1;
const BOOL_FALSE: u8 = 2;

/// jaeger.thrift `TagType`.
const TAG_STRING: i32 = 0;
const TAG_DOUBLE: i32 = 1;
const TAG_BOOL: i32 = 2;
const TAG_LONG: i32 = 3;
const TAG_BINARY: i32 = 4;

/// Appends compact values to a buffer, tracking the last field ID of the
/// struct being written (field headers are deltas from it).
///
/// Numbers and headers go first into a small array on the stack and reach
/// the vector in runs: pushing byte by byte into a `&mut Vec` makes the
/// compiler reload the vector's length after every byte (a byte store
/// may alias it), which cost more than the encoding itself.
struct Out<'a> {
    buf: &'a mut Vec<u8>,
    tmp: [u8; TMP],
    n: usize,
    last: i16,
}

/// Stack bytes; flushed when fewer than a header and a varint remain.
const TMP: usize = 96;
/// The most one field header plus one value takes (1 + 5 + 10).
const MAX_FIELD: usize = 16;

impl<'a> Out<'a> {
    fn new(buf: &'a mut Vec<u8>) -> Self {
        Out {
            buf,
            tmp: [0; TMP],
            n: 0,
            last: 0,
        }
    }

    #[inline(always)]
    fn room(&mut self) {
        if self.n > TMP - MAX_FIELD {
            self.flush();
        }
    }

    #[inline]
    fn flush(&mut self) {
        self.buf.extend_from_slice(&self.tmp[..self.n]);
        self.n = 0;
    }

    #[inline(always)]
    fn byte(&mut self, b: u8) {
        self.tmp[self.n] = b;
        self.n += 1;
    }

    #[inline(always)]
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.byte((v as u8) | 0x80);
            v >>= 7;
        }
        self.byte(v as u8);
    }

    #[inline(always)]
    fn field(&mut self, code: u8, id: i16) {
        self.room();
        let delta = id - self.last;
        if (1..=15).contains(&delta) {
            self.byte(((delta as u8) << 4) | code);
        } else {
            self.byte(code);
            self.varint(u64::from(zigzag32(i32::from(id))));
        }
        self.last = id;
    }

    #[inline(always)]
    fn i64_field(&mut self, id: i16, v: i64) {
        self.field(I64, id);
        self.varint(zigzag64(v));
    }

    #[inline(always)]
    fn i32_field(&mut self, id: i16, v: i32) {
        self.field(I32, id);
        self.varint(u64::from(zigzag32(v)));
    }

    #[inline]
    fn binary_field(&mut self, id: i16, v: &[u8]) {
        self.field(BINARY, id);
        self.binary(v);
    }

    #[inline]
    fn binary(&mut self, v: &[u8]) {
        let len = v.len().min(i32::MAX as usize);
        self.room();
        self.varint(len as u64);
        if len <= TMP - self.n {
            self.tmp[self.n..self.n + len].copy_from_slice(&v[..len]);
            self.n += len;
        } else {
            self.flush();
            self.buf.extend_from_slice(&v[..len]);
        }
    }

    #[inline(always)]
    fn double(&mut self, v: f64) {
        self.room();
        for b in v.to_le_bytes() {
            self.byte(b);
        }
    }

    fn list_header(&mut self, elem: u8, size: usize) {
        self.flush();
        list_header(self.buf, elem, size);
    }

    /// Writes a nested struct: `f` starts with a fresh field ID.
    #[inline]
    fn nested(&mut self, f: impl FnOnce(&mut Self)) {
        let saved = std::mem::replace(&mut self.last, 0);
        f(self);
        self.stop();
        self.last = saved;
    }

    #[inline(always)]
    fn stop(&mut self) {
        self.room();
        self.byte(0);
    }
}

/// A compact list header.
pub(crate) fn list_header(buf: &mut Vec<u8>, elem: u8, size: usize) {
    let size = size.min(i32::MAX as usize);
    if size < 15 {
        buf.push(((size as u8) << 4) | elem);
    } else {
        buf.push(0xf0 | elem);
        let mut v = size as u64;
        while v >= 0x80 {
            buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        buf.push(v as u8);
    }
}

/// The compact code of a struct element, for the batch's span list.
pub(crate) const STRUCT_ELEM: u8 = STRUCT;

#[inline]
fn zigzag32(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

#[inline]
fn zigzag64(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Model nanoseconds to thrift microseconds.
#[inline]
fn micros(ns: u64) -> i64 {
    (ns / 1000) as i64
}

/// The row's references as the model span lists them: the parent first.
fn references<'a>(row: &'a SpanRow) -> impl Iterator<Item = SpanRef> + 'a {
    let parent = (row.parent_id != SpanId(0)).then_some(SpanRef {
        ref_type: row.parent_ref_type(),
        trace_id: row.trace_id,
        span_id: row.parent_id,
    });
    let extra = row.extras.as_ref().map_or(&[][..], |e| &e.references[..]);
    parent.into_iter().chain(extra.iter().copied())
}

/// Appends one `Span` struct (an element of `Batch.spans`) for `row`.
/// Inlined into the sender's loop over a batch's rows: left to the
/// compiler, whether it was inlined changed with unrelated code elsewhere
/// in the crate (out of line, the UDP sender ran 2 % more instructions).
#[inline]
pub(crate) fn write_span(buf: &mut Vec<u8>, batch: &SpanBatch, row: &SpanRow) {
    let mut o = Out::new(buf);
    let trace = row.trace_id;
    // `parentSpanId`: the first CHILD_OF reference in the span's own trace.
    let parent = if row.parent_ref_type() == RefType::ChildOf || row.extras.is_some() {
        references(row)
            .find(|r| r.ref_type == RefType::ChildOf && r.trace_id == trace)
            .map_or(0, |r| r.span_id.0)
    } else {
        0
    };
    o.i64_field(1, trace.low as i64);
    o.i64_field(2, trace.high as i64);
    o.i64_field(3, row.span_id.0 as i64);
    o.i64_field(4, parent as i64);
    o.binary_field(5, row.operation_name.as_bytes());
    let n_refs = usize::from(row.parent_id != SpanId(0))
        + row.extras.as_ref().map_or(0, |e| e.references.len());
    if n_refs > 0 {
        o.field(LIST, 6);
        o.list_header(STRUCT, n_refs);
        for r in references(row) {
            o.nested(|o| write_ref(o, r.ref_type, r.trace_id, r.span_id));
        }
    }
    o.i32_field(7, i32::from(row.flags()));
    let (start, duration) = row.times.unix();
    o.i64_field(8, micros(start));
    o.i64_field(9, micros(duration));
    let tags = batch.row_tags(row);
    let sampler = row.sampler();
    let n_tags = tags.len() + if sampler.is_some() { 2 } else { 0 };
    if n_tags > 0 {
        o.field(LIST, 10);
        o.list_header(STRUCT, n_tags);
        if let Some(s) = &sampler {
            let kind = TagValue::Str(Cow::Borrowed(s.kind.as_str()));
            o.nested(|o| write_tag(o, clew_model::keys::SAMPLER_TYPE, &kind));
            let param = match s.param_value() {
                clew_model::Value::Bool(b) => TagValue::Bool(b),
                clew_model::Value::F64(v) => TagValue::F64(v),
                _ => TagValue::F64(s.param),
            };
            o.nested(|o| write_tag(o, clew_model::keys::SAMPLER_PARAM, &param));
        }
        for t in tags {
            o.nested(|o| write_tag(o, &t.key, &t.value));
        }
    }
    if let Some(logs) = row.extras.as_ref().map(|e| &e.logs)
        && !logs.is_empty()
    {
        o.field(LIST, 11);
        o.list_header(STRUCT, logs.len());
        for l in logs {
            o.nested(|o| {
                o.i64_field(1, micros(l.timestamp));
                o.field(LIST, 2);
                write_tags(o, &l.fields);
            });
        }
    }
    o.stop();
    o.flush();
}

fn write_ref(o: &mut Out<'_>, kind: RefType, trace: TraceId, span: SpanId) {
    o.i32_field(
        1,
        match kind {
            RefType::ChildOf => 0,
            RefType::FollowsFrom => 1,
        },
    );
    o.i64_field(2, trace.low as i64);
    o.i64_field(3, trace.high as i64);
    o.i64_field(4, span.0 as i64);
}

fn write_tags(o: &mut Out<'_>, tags: &[Tag]) {
    o.list_header(STRUCT, tags.len());
    for t in tags {
        o.nested(|o| write_tag(o, &t.key, &t.value));
    }
}

fn write_tag(o: &mut Out<'_>, key: &str, value: &TagValue) {
    o.binary_field(1, key.as_bytes());
    match value {
        TagValue::Str(s) => {
            o.i32_field(2, TAG_STRING);
            o.binary_field(3, s.as_bytes());
        }
        TagValue::F64(v) => {
            o.i32_field(2, TAG_DOUBLE);
            o.field(DOUBLE, 4);
            o.double(*v);
        }
        TagValue::Bool(v) => {
            o.i32_field(2, TAG_BOOL);
            o.field(if *v { BOOL_TRUE } else { BOOL_FALSE }, 5);
        }
        TagValue::I64(v) => {
            o.i32_field(2, TAG_LONG);
            o.i64_field(6, *v);
        }
        TagValue::Binary(b) => {
            o.i32_field(2, TAG_BINARY);
            o.binary_field(7, b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tracer;
    use crate::reporter::InMemoryReporter;
    use crate::sampler::{ConstSampler, ProbabilisticSampler};
    use clew_model::Process;
    use std::sync::Arc;

    fn batch_of(tracer: &Tracer, rep: &InMemoryReporter, make: impl FnOnce(&Tracer)) -> SpanBatch {
        make(tracer);
        let mut batch = SpanBatch::new();
        for mut r in rep.take() {
            batch.push_finished(&mut r);
        }
        batch
    }

    /// Every row encodes to the bytes the codec writes for its model span.
    fn assert_same_bytes(batch: &SpanBatch) {
        let p = Arc::new(Process::new("svc"));
        for (row, model) in batch.rows.iter().zip(batch.to_model(&p)) {
            let mut ours = Vec::new();
            write_span(&mut ours, batch, row);
            assert_eq!(ours.len(), clew_codec_jaeger::encoded_span_size(&model));
            // The codec writes the span inside a batch: compare with the
            // tail of a one-span batch, whose own bytes come last.
            let mut theirs = Vec::new();
            clew_codec_jaeger::encode_batch(
                &p,
                std::slice::from_ref(&model),
                clew_codec_jaeger::Protocol::Compact,
                &mut theirs,
            );
            // Batch = process, list header, span, stop.
            let end = theirs.len() - 1;
            assert_eq!(&theirs[end - ours.len()..end], &ours[..], "{model:?}");
        }
    }

    #[test]
    fn rows_encode_like_model_spans() {
        let rep = InMemoryReporter::new();
        let t = Tracer::builder("svc")
            .sampler(ConstSampler(true))
            .reporter(rep.clone())
            .build();
        let batch = batch_of(&t, &rep, |t| {
            let root = t.span("root").with_tag("a", 1).start();
            let other = t.span("other").start();
            let mut child = t.span("child").child_of(&root).follows_from(&other).start();
            child
                .set_tag("s", String::from("owned"))
                .set_tag("f", 1.5)
                .set_tag("b", false)
                .set_tag("t", true)
                .set_tag("bin", vec![1u8, 2, 3])
                .set_tag("neg", -7)
                .log_event("ev");
            child.finish();
            // A FOLLOWS_FROM parent only: parentSpanId stays 0.
            t.span("ff").follows_from(&root).start().finish();
            let mut many = t.span("many").child_of(&root).start();
            for i in 0..20 {
                many.set_tag(format!("k{i}"), i);
            }
            many.finish();
            root.finish();
            other.finish();
        });
        assert_eq!(batch.len(), 5);
        assert_same_bytes(&batch);
    }

    #[test]
    fn probabilistic_sampler_tags_encode_like_model_spans() {
        let rep = InMemoryReporter::new();
        let t = Tracer::builder("svc")
            .sampler(ProbabilisticSampler::new(1.0))
            .reporter(rep.clone())
            .trace_id_128bit(true)
            .build();
        let batch = batch_of(&t, &rep, |t| t.span("r").start().finish());
        assert_same_bytes(&batch);
    }
}
