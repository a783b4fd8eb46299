//! Span rows → an OTLP `ExportTraceServiceRequest` in protobuf, without
//! building model spans or prost structs first.
//!
//! The bytes are exactly those `clew_codec_otlp::spans_to_request(..)
//! .encode_to_vec()` writes for the model spans the rows convert to
//! ([`SpanBatch::to_model`]); the tests below compare them byte for byte.
//! A row whose tags the OTLP mapping reads as fields (`span.kind`,
//! `otel.*`, `w3c.tracestate`, `error=true`), or that has logs, extra
//! references or a FOLLOWS_FROM parent, goes through the model and the
//! codec instead: those spans are rare, and the codec owns their mapping.
//!
//! The request is kept as bytes grouped the way the codec groups spans (a
//! `ResourceSpans` per process, a `ScopeSpans` per scope, each in the
//! order first seen), so appending a span is writing it once.
//
// This lives in the client, not in clew-codec-otlp, because the codec's
// encoder takes model spans and the rows are the client's own type; the
// same note as the Thrift row encoder's (`compact_rows.rs`).

use std::sync::Arc;

use clew_codec_otlp::keys;
use clew_model::{Process, RefType, SpanId};
use prost::encoding::{WireType, encode_key, encode_varint, encoded_len_varint};

use super::{Appended, SendError, Sender};
use crate::reporter::{SpanBatch, SpanRow};
use crate::tag::{Tag, TagValue};

/// A sender that fills one [`OtlpRequest`] and sends it (its
/// [`Sender::flush`]) once it holds `batch_spans` spans: the OTLP HTTP and
/// gRPC senders differ only in how they send.
pub(crate) trait BufferedOtlp: Sender {
    /// The request being filled and how many spans make it full.
    fn pending(&mut self) -> (&mut OtlpRequest, usize);
}

/// [`Sender::append`] of a [`BufferedOtlp`] sender.
pub(crate) fn append_span<S: BufferedOtlp>(
    sender: &mut S,
    span: &clew_model::Span,
) -> Result<usize, SendError> {
    let (request, batch_spans) = sender.pending();
    request.push_span(span);
    if request.len() >= batch_spans {
        return sender.flush();
    }
    Ok(0)
}

/// [`Sender::append_batch`] of a [`BufferedOtlp`] sender.
pub(crate) fn append_rows<S: BufferedOtlp>(
    sender: &mut S,
    batch: &SpanBatch,
    process: &Arc<Process>,
) -> Appended {
    let mut out = Appended::default();
    for row in &batch.rows {
        let (request, batch_spans) = sender.pending();
        request.push_row(batch, row, process);
        if request.len() >= batch_spans {
            super::note_sent(&mut out, sender.flush());
        }
    }
    out
}

/// An OTLP `ExportTraceServiceRequest` being filled, as protobuf bytes:
/// what [`super::OtlpHttpSender`] posts and [`super::OtlpGrpcSender`]
/// sends, for programs that bring their own transport.
///
/// Spans are grouped as `clew_codec_otlp::spans_to_request` groups them (a
/// `ResourceSpans` per process, a `ScopeSpans` per scope, in the order
/// first seen) and the bytes are the same as that request's.
#[derive(Debug, Default)]
pub struct OtlpRequest {
    resources: Vec<ResourceGroup>,
    spans: usize,
    /// One span's body while its length is not yet known.
    scratch: Vec<u8>,
    /// Encodings of recently seen processes.
    known: Vec<Resource>,
    /// Emptied span buffers of earlier requests, for new scope groups.
    spare: Vec<Vec<u8>>,
}

/// One `ResourceSpans` being filled: its process's encoded fields and its
/// scopes, in the order first seen.
#[derive(Debug)]
struct ResourceGroup {
    process: Arc<Process>,
    resource: Vec<u8>,
    schema_url: Vec<u8>,
    scopes: Vec<ScopeGroup>,
}

/// One `ScopeSpans`: its `scope` and `schema_url` fields, encoded, and its
/// spans (each a field 2 with key and length).
#[derive(Debug)]
struct ScopeGroup {
    scope: Vec<u8>,
    schema_url: Vec<u8>,
    spans: Vec<u8>,
}

impl OtlpRequest {
    /// An empty request.
    pub fn new() -> Self {
        Self::default()
    }

    /// Spans held.
    pub fn len(&self) -> usize {
        self.spans
    }

    /// True when no span was added since the last [`Self::take_into`].
    pub fn is_empty(&self) -> bool {
        self.spans == 0
    }

    /// Adds every span of a batch the reporter collected, all of `process`
    /// (what [`super::Sender::append_batch`] receives).
    pub fn push_batch(&mut self, batch: &SpanBatch, process: &Arc<Process>) {
        for row in &batch.rows {
            self.push_row(batch, row, process);
        }
    }

    /// Adds one row of `batch`, of `process`.
    pub(crate) fn push_row(&mut self, batch: &SpanBatch, row: &SpanRow, process: &Arc<Process>) {
        let tags = batch.row_tags(row);
        if !is_plain(row, tags) {
            let span = crate::reporter::row_to_model(row, tags, process);
            self.push_span(&span);
            return;
        }
        let mut body = std::mem::take(&mut self.scratch);
        body.clear();
        write_plain_span(&mut body, row, tags);
        let scope = self.scope_group(process, &[], &[]);
        encode_key(2, WireType::LengthDelimited, &mut scope.spans);
        encode_varint(body.len() as u64, &mut scope.spans);
        scope.spans.extend_from_slice(&body);
        self.scratch = body;
        self.spans += 1;
    }

    /// Adds a model span (mapped by clew-codec-otlp).
    pub fn push_span(&mut self, span: &clew_model::Span) {
        let resource_spans = clew_codec_otlp::spans_to_resource_spans(std::slice::from_ref(span));
        for rs in resource_spans {
            for ss in rs.scope_spans {
                let mut scope = Vec::new();
                if let Some(s) = &ss.scope {
                    prost::encoding::message::encode(1, s, &mut scope);
                }
                let schema_url = string_field(3, &ss.schema_url);
                let group = self.scope_group(&span.process, &scope, &schema_url);
                for s in &ss.spans {
                    prost::encoding::message::encode(2, s, &mut group.spans);
                }
                self.spans += ss.spans.len();
            }
        }
    }

    /// The group for spans of `process` in the scope encoded as
    /// `scope`/`schema_url`, created (in first-seen order) if new.
    fn scope_group(
        &mut self,
        process: &Arc<Process>,
        scope: &[u8],
        schema_url: &[u8],
    ) -> &mut ScopeGroup {
        let r = match self
            .resources
            .iter()
            .position(|g| Arc::ptr_eq(&g.process, process) || *g.process == **process)
        {
            Some(i) => i,
            None => {
                let known = self
                    .known
                    .iter()
                    .find(|k| Arc::ptr_eq(&k.process, process))
                    .cloned()
                    .unwrap_or_else(|| Resource::new(process));
                self.resources.push(ResourceGroup {
                    process: process.clone(),
                    resource: known.resource,
                    schema_url: known.schema_url,
                    scopes: Vec::new(),
                });
                self.resources.len() - 1
            }
        };
        let spare = &mut self.spare;
        let scopes = &mut self.resources[r].scopes;
        let s = match scopes
            .iter()
            .position(|g| g.scope == scope && g.schema_url == schema_url)
        {
            Some(i) => i,
            None => {
                scopes.push(ScopeGroup {
                    scope: scope.to_vec(),
                    schema_url: schema_url.to_vec(),
                    spans: spare.pop().unwrap_or_default(),
                });
                scopes.len() - 1
            }
        };
        &mut scopes[s]
    }

    /// Writes the request into `out` and empties this one (keeping the
    /// process encodings and span buffers for the next request).
    pub fn take_into(&mut self, out: &mut Vec<u8>) {
        let scope_len = |s: &ScopeGroup| s.scope.len() + s.spans.len() + s.schema_url.len();
        for rg in self.resources.drain(..) {
            let body = rg.resource.len()
                + rg.schema_url.len()
                + rg.scopes
                    .iter()
                    .map(|s| nested_len(scope_len(s)))
                    .sum::<usize>();
            encode_key(1, WireType::LengthDelimited, out);
            encode_varint(body as u64, out);
            out.extend_from_slice(&rg.resource);
            for mut s in rg.scopes {
                encode_key(2, WireType::LengthDelimited, out);
                encode_varint(scope_len(&s) as u64, out);
                out.extend_from_slice(&s.scope);
                out.extend_from_slice(&s.spans);
                out.extend_from_slice(&s.schema_url);
                s.spans.clear();
                self.spare.push(s.spans);
            }
            out.extend_from_slice(&rg.schema_url);
            if !self
                .known
                .iter()
                .any(|k| Arc::ptr_eq(&k.process, &rg.process))
            {
                if self.known.len() >= KNOWN_PROCESSES {
                    self.known.remove(0);
                }
                self.known.push(Resource {
                    process: rg.process,
                    resource: rg.resource,
                    schema_url: rg.schema_url,
                });
            }
        }
        self.spans = 0;
    }
}

/// The length of a nested message field (key, length, body).
fn nested_len(body: usize) -> usize {
    1 + encoded_len_varint(body as u64) + body
}

/// Processes whose encodings are kept between requests (a tracer has one).
const KNOWN_PROCESSES: usize = 4;

/// A process's `resource` and `schema_url` fields, encoded.
#[derive(Clone, Debug)]
struct Resource {
    process: Arc<Process>,
    /// Field 1 (`resource`) with its key and length.
    resource: Vec<u8>,
    /// Field 3 (`schema_url`), empty when the URL is.
    schema_url: Vec<u8>,
}

impl Resource {
    fn new(process: &Arc<Process>) -> Self {
        // The codec maps the process; a span with no content carries it.
        let probe = clew_model::Span::new(
            clew_model::TraceId::new(0, 1),
            SpanId(1),
            "",
            process.clone(),
        );
        let rs = clew_codec_otlp::spans_to_resource_spans(std::slice::from_ref(&probe));
        let (resource, schema_url) = rs
            .into_iter()
            .next()
            .map(|rs| {
                let mut resource = Vec::new();
                if let Some(r) = &rs.resource {
                    prost::encoding::message::encode(1, r, &mut resource);
                }
                (resource, string_field(3, &rs.schema_url))
            })
            .unwrap_or_default();
        Resource {
            process: process.clone(),
            resource,
            schema_url,
        }
    }
}
/// A string field as prost writes it: nothing when empty.
fn string_field(tag: u32, s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    if !s.is_empty() {
        prost::encoding::string::encode(tag, &s.to_owned(), &mut out);
    }
    out
}

/// Whether the codec would map this row field for field as written here:
/// no tag it reads as a span field, no logs or extra references, and a
/// CHILD_OF parent (which becomes `parent_span_id`, not a link).
fn is_plain(row: &SpanRow, tags: &[Tag]) -> bool {
    row.extras.is_none()
        && row.parent_ref_type() == RefType::ChildOf
        && tags.iter().all(|t| !is_mapped_key(t))
}

/// Tags the OTLP mapping turns into span fields (kind, status, scope,
/// trace state, dropped counts); `error` only when it is true (it then
/// becomes the status).
fn is_mapped_key(t: &Tag) -> bool {
    let k: &str = &t.key;
    k.starts_with("otel.")
        || k == keys::TRACE_STATE
        || k == clew_model::keys::SPAN_KIND
        || (k == clew_model::keys::ERROR
            && match &t.value {
                TagValue::Bool(b) => *b,
                TagValue::Str(s) => s == "true",
                _ => false,
            })
}

/// Wire types.
const LEN: u8 = 2;
const FIXED64: u8 = 1;
const VARINT: u8 = 0;

#[inline(always)]
fn key(tag: u8, wire: u8) -> u8 {
    (tag << 3) | wire
}

/// An OTLP `Span` for a plain row (see [`is_plain`]), fields in tag order
/// and defaults left out, as prost writes them.
fn write_plain_span(out: &mut Vec<u8>, row: &SpanRow, tags: &[Tag]) {
    out.push(key(1, LEN));
    out.push(16);
    out.extend_from_slice(&row.trace_id.to_bytes());
    out.push(key(2, LEN));
    out.push(8);
    out.extend_from_slice(&row.span_id.to_bytes());
    if row.parent_id != SpanId(0) {
        out.push(key(4, LEN));
        out.push(8);
        out.extend_from_slice(&row.parent_id.to_bytes());
    }
    if !row.operation_name.is_empty() {
        bytes_field(out, 5, row.operation_name.as_bytes());
    }
    let (start, duration) = row.times.unix();
    if start != 0 {
        out.push(key(7, FIXED64));
        out.extend_from_slice(&start.to_le_bytes());
    }
    let end = start.saturating_add(duration);
    if end != 0 {
        out.push(key(8, FIXED64));
        out.extend_from_slice(&end.to_le_bytes());
    }
    if let Some(s) = row.sampler() {
        let param = match s.param_value() {
            clew_model::Value::Bool(b) => TagValue::Bool(b),
            _ => TagValue::F64(s.param),
        };
        attribute(out, clew_model::keys::SAMPLER_TYPE, &s.kind.as_str().into());
        attribute(out, clew_model::keys::SAMPLER_PARAM, &param);
    }
    for t in tags {
        attribute(out, &t.key, &t.value);
    }
    let flags = u32::from(row.flags());
    if flags != 0 {
        // Field 16, fixed32: a two-byte key.
        encode_key(16, WireType::ThirtyTwoBit, out);
        out.extend_from_slice(&flags.to_le_bytes());
    }
}

/// A length-delimited field.
#[inline]
fn bytes_field(out: &mut Vec<u8>, tag: u8, v: &[u8]) {
    out.push(key(tag, LEN));
    encode_varint(v.len() as u64, out);
    out.extend_from_slice(v);
}

/// One `attributes` entry (field 9): `KeyValue { key, value: AnyValue }`.
fn attribute(out: &mut Vec<u8>, k: &str, v: &TagValue) {
    let value_len = any_value_len(v);
    let key_len = if k.is_empty() {
        0
    } else {
        1 + encoded_len_varint(k.len() as u64) + k.len()
    };
    let kv_len = key_len + 1 + encoded_len_varint(value_len as u64) + value_len;
    out.push(key(9, LEN));
    encode_varint(kv_len as u64, out);
    if !k.is_empty() {
        bytes_field(out, 1, k.as_bytes());
    }
    out.push(key(2, LEN));
    encode_varint(value_len as u64, out);
    match v {
        TagValue::Str(s) => bytes_field(out, 1, s.as_bytes()),
        TagValue::Bool(b) => {
            out.push(key(2, VARINT));
            out.push(u8::from(*b));
        }
        TagValue::I64(i) => {
            out.push(key(3, VARINT));
            encode_varint(*i as u64, out);
        }
        TagValue::F64(d) => {
            out.push(key(4, FIXED64));
            out.extend_from_slice(&d.to_le_bytes());
        }
        TagValue::Binary(b) => bytes_field(out, 7, b),
    }
}

/// The encoded length of an `AnyValue` holding `v` (a oneof: written even
/// when it holds a default).
fn any_value_len(v: &TagValue) -> usize {
    let len_field = |n: usize| 1 + encoded_len_varint(n as u64) + n;
    match v {
        TagValue::Str(s) => len_field(s.len()),
        TagValue::Bool(_) => 2,
        TagValue::I64(i) => 1 + encoded_len_varint(*i as u64),
        TagValue::F64(_) => 9,
        TagValue::Binary(b) => len_field(b.len()),
    }
}

/// The request as prost writes it from model spans: for tests.
#[cfg(test)]
pub(crate) fn model_request_bytes(spans: &[clew_model::Span]) -> Vec<u8> {
    use prost::Message;
    clew_codec_otlp::spans_to_request(spans).encode_to_vec()
}

#[cfg(test)]
#[path = "otlp_rows_tests.rs"]
mod tests;
