//! Thrift → model: one generic decoder, monomorphised per protocol.
//!
//! Strings become [`Str`] slices of the input buffer (one reference-count
//! increment, no copy). The only allocations are the span vector and each
//! span's tag/log/reference vectors. Every element is charged to the
//! caller's [`DecodeBudget`] before it is built, and a vector is reserved
//! for at most as many elements as the remaining bytes can hold (a lying
//! list header reserves nothing it cannot back with input).

mod span;
mod tag;

use std::sync::Arc;

use bytes::Bytes;
use clew_model::{BudgetError, DecodeBudget, Process, Span, Str};
use clew_thrift::{ProtocolReader, TType};

use crate::{ClientStats, DecodeError, JaegerBatch};

/// Most warnings kept per span; hostile input cannot grow them further.
const MAX_WARNINGS: usize = 16;
/// Most list elements reserved up front, whatever a list header claims.
const MAX_RESERVE: usize = 1024;
/// Fewest bytes a `Span` struct takes in either protocol (its stop byte).
const MIN_SPAN_BYTES: usize = 1;
/// Fewest bytes a `Tag`, `Log` or `SpanRef` struct takes (its stop byte).
const MIN_STRUCT_BYTES: usize = 1;

/// Decodes Jaeger structs from `R`, whose slices all lie inside `buf`.
pub(crate) struct Decoder<'a, 'b, 'g, R> {
    r: R,
    buf: &'a Bytes,
    /// Problems noticed in the struct being decoded; moved onto its span.
    warnings: Vec<String>,
    /// What the decoded values may take; charged before each is built.
    budget: &'b mut DecodeBudget<'g>,
    /// A charge that failed where no error could be returned (string repair);
    /// reported when the current span ends.
    failed: Option<BudgetError>,
    /// Strings repaired with U+FFFD so far.
    repaired: usize,
}

impl<'a, 'b, 'g, R: ProtocolReader<'a>> Decoder<'a, 'b, 'g, R> {
    /// `r` must read from memory inside `buf` (callers guarantee this).
    pub(crate) fn new(r: R, buf: &'a Bytes, budget: &'b mut DecodeBudget<'g>) -> Self {
        Decoder {
            r,
            buf,
            warnings: Vec::new(),
            budget,
            failed: None,
            repaired: 0,
        }
    }

    /// Reads the `emitBatch` args struct and returns its field 1.
    pub(crate) fn emit_batch_args(&mut self) -> Result<JaegerBatch, DecodeError> {
        self.r.read_struct_begin()?;
        let mut batch = None;
        loop {
            let f = self.r.read_field_begin()?;
            match (f.id, f.ttype) {
                (_, TType::Stop) => break,
                (1, TType::Struct) => batch = Some(self.batch()?),
                (_, t) => self.r.skip(t)?,
            }
        }
        self.r.read_struct_end();
        batch.ok_or(DecodeError::MissingField("emitBatch.batch"))
    }

    /// Reads a `Batch` struct.
    pub(crate) fn batch(&mut self) -> Result<JaegerBatch, DecodeError> {
        self.r.read_struct_begin()?;
        let mut process: Option<Arc<Process>> = None;
        let mut process_warnings = Vec::new();
        let mut spans: Option<Vec<Span>> = None;
        let mut seq_no = None;
        let mut stats = None;
        loop {
            let f = self.r.read_field_begin()?;
            match (f.id, f.ttype) {
                (_, TType::Stop) => break,
                (1, TType::Struct) => {
                    let p = Arc::new(self.process()?);
                    process_warnings = std::mem::take(&mut self.warnings);
                    // Spans that arrived before their process get it now.
                    for s in spans.iter_mut().flatten() {
                        s.process = Arc::clone(&p);
                    }
                    process = Some(p);
                }
                (2, TType::List) => {
                    let p = process.clone().unwrap_or_default();
                    spans = Some(self.list(MIN_SPAN_BYTES, |d| {
                        d.budget.charge_span()?;
                        let span = d.span(&p)?;
                        match d.failed.take() {
                            Some(e) => Err(e.into()),
                            None => Ok(span),
                        }
                    })?);
                }
                (3, TType::I64) => seq_no = Some(self.r.read_i64()?),
                (4, TType::Struct) => stats = Some(self.client_stats()?),
                (_, t) => self.r.skip(t)?,
            }
        }
        self.r.read_struct_end();
        if process.is_none() {
            return Err(DecodeError::MissingField("Batch.process"));
        }
        let mut spans = spans.ok_or(DecodeError::MissingField("Batch.spans"))?;
        if !process_warnings.is_empty() {
            for s in &mut spans {
                let mut w = process_warnings.clone();
                w.append(&mut s.warnings);
                s.warnings = w;
            }
        }
        Ok(JaegerBatch {
            spans,
            seq_no,
            stats,
            repaired_strings: self.repaired,
        })
    }

    fn process(&mut self) -> Result<Process, DecodeError> {
        self.r.read_struct_begin()?;
        let mut p = Process::default();
        loop {
            let f = self.r.read_field_begin()?;
            match (f.id, f.ttype) {
                (_, TType::Stop) => break,
                (1, TType::Binary) => p.service_name = self.string()?,
                (2, TType::List) => p.tags = self.tags()?,
                (_, t) => self.r.skip(t)?,
            }
        }
        self.r.read_struct_end();
        Ok(p)
    }

    fn client_stats(&mut self) -> Result<ClientStats, DecodeError> {
        self.r.read_struct_begin()?;
        let mut s = ClientStats::default();
        loop {
            let f = self.r.read_field_begin()?;
            match (f.id, f.ttype) {
                (_, TType::Stop) => break,
                (1, TType::I64) => s.full_queue_dropped_spans = self.r.read_i64()?,
                (2, TType::I64) => s.too_large_dropped_spans = self.r.read_i64()?,
                (3, TType::I64) => s.failed_to_emit_spans = self.r.read_i64()?,
                (_, t) => self.r.skip(t)?,
            }
        }
        self.r.read_struct_end();
        Ok(s)
    }

    /// A `list<struct>` decoded element by element. `min_bytes` is the
    /// fewest input bytes one element can take; the vector is reserved for
    /// no more elements than the rest of the input could hold.
    fn list<T>(
        &mut self,
        min_bytes: usize,
        mut item: impl FnMut(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        let Some(size) = self.struct_list_begin()? else {
            return Ok(Vec::new());
        };
        let mut out = self.reserve::<T>(size, min_bytes)?;
        for _ in 0..size {
            out.push(item(self)?);
        }
        Ok(out)
    }

    /// An empty vector with room for the first elements of a list of
    /// `declared` elements, charged to the budget. Room for the rest is
    /// charged as elements arrive (by the callers' per-element charges).
    fn reserve<T>(&mut self, declared: usize, min_bytes: usize) -> Result<Vec<T>, DecodeError> {
        let n = declared
            .min(self.r.remaining() / min_bytes.max(1))
            .min(MAX_RESERVE);
        self.budget.charge_many::<T>(n)?;
        Ok(Vec::with_capacity(n))
    }

    /// Reads a list header and returns its size when the elements are
    /// structs. A list of any other element type is skipped and yields
    /// `None` (a type mismatch is treated like an unknown field, as
    /// thrift-generated code does).
    fn struct_list_begin(&mut self) -> Result<Option<usize>, DecodeError> {
        let h = self.r.read_list_begin()?;
        if h.elem == TType::Struct {
            return Ok(Some(h.size));
        }
        for _ in 0..h.size {
            self.r.skip(h.elem)?;
        }
        Ok(None)
    }

    /// A thrift `string` as a zero-copy [`Str`]. Invalid UTF-8 is repaired
    /// with U+FFFD (one copy) and noted as a warning on the span, because
    /// rejecting a whole batch for one bad tag value loses more than it saves.
    fn string(&mut self) -> Result<Str, DecodeError> {
        let raw = self.r.read_binary()?;
        Ok(self.str_from(raw))
    }

    fn str_from(&mut self, raw: &'a [u8]) -> Str {
        match Str::from_part_of(self.buf, raw) {
            Ok(s) => s,
            Err(_) => {
                self.repaired += 1;
                // The repaired copy is the one string that is not a slice.
                if let Err(e) = self.budget.charge(raw.len().saturating_mul(3)) {
                    self.failed.get_or_insert(e);
                }
                self.warn(|| {
                    "a string was not valid UTF-8; invalid bytes were replaced with U+FFFD"
                        .to_owned()
                });
                Str::from(String::from_utf8_lossy(raw).into_owned())
            }
        }
    }

    /// Records a warning for the struct being decoded (bounded per span).
    fn warn(&mut self, msg: impl FnOnce() -> String) {
        if self.warnings.len() < MAX_WARNINGS {
            let msg = msg();
            if !self.warnings.contains(&msg) {
                self.warnings.push(msg);
            }
        }
    }
}

/// Jaeger microseconds to model nanoseconds; `None` when negative or too
/// large for `u64` nanoseconds.
pub(crate) fn micros_to_nanos(us: i64) -> Option<u64> {
    u64::try_from(us).ok()?.checked_mul(1000)
}
