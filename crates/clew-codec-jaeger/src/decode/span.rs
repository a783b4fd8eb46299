//! `Span`, `SpanRef` and `Log` structs.

use std::sync::Arc;

use clew_model::{Log, Process, RefType, Reference, Span, SpanId, Str, TraceId};
use clew_thrift::{ProtocolReader, TType};

use super::{Decoder, MIN_STRUCT_BYTES, micros_to_nanos};
use crate::DecodeError;

impl<'a, R: ProtocolReader<'a>> Decoder<'a, '_, '_, R> {
    /// One `Span`. Missing required scalars default to zero (the ingest
    /// validator rejects zero IDs); a missing operation name is empty.
    pub(super) fn span(&mut self, process: &Arc<Process>) -> Result<Span, DecodeError> {
        self.r.read_struct_begin()?;
        let (mut low, mut high, mut span_id, mut parent) = (0i64, 0i64, 0i64, 0i64);
        let (mut flags, mut start, mut duration) = (0i32, 0i64, 0i64);
        let mut operation_name = Str::new();
        let mut references = Vec::new();
        let mut tags = Vec::new();
        let mut logs = Vec::new();
        loop {
            let f = self.r.read_field_begin()?;
            match (f.id, f.ttype) {
                (_, TType::Stop) => break,
                (1, TType::I64) => low = self.r.read_i64()?,
                (2, TType::I64) => high = self.r.read_i64()?,
                (3, TType::I64) => span_id = self.r.read_i64()?,
                (4, TType::I64) => parent = self.r.read_i64()?,
                (5, TType::Binary) => operation_name = self.string()?,
                (6, TType::List) => {
                    references = self.list(MIN_STRUCT_BYTES, |d| {
                        d.budget.charge_for::<Reference>()?;
                        d.span_ref()
                    })?
                }
                (7, TType::I32) => flags = self.r.read_i32()?,
                (8, TType::I64) => start = self.r.read_i64()?,
                (9, TType::I64) => duration = self.r.read_i64()?,
                (10, TType::List) => tags = self.tags()?,
                (11, TType::List) => {
                    logs = self.list(MIN_STRUCT_BYTES, |d| {
                        d.budget.charge_for::<Log>()?;
                        d.log()
                    })?
                }
                (_, t) => self.r.skip(t)?,
            }
        }
        self.r.read_struct_end();

        let trace_id = TraceId::new(high as u64, low as u64);
        add_parent(&mut references, trace_id, SpanId(parent as u64));
        let start_time = micros_to_nanos(start).unwrap_or_else(|| {
            self.warn(|| format!("startTime {start}µs is out of range; set to 0"));
            0
        });
        let duration = micros_to_nanos(duration).unwrap_or_else(|| {
            self.warn(|| format!("duration {duration}µs is negative or out of range; set to 0"));
            0
        });
        Ok(Span {
            trace_id,
            span_id: SpanId(span_id as u64),
            operation_name,
            references,
            flags: flags as u32,
            start_time,
            duration,
            tags,
            logs,
            process: Arc::clone(process),
            scope: None,
            warnings: std::mem::take(&mut self.warnings),
        })
    }

    fn span_ref(&mut self) -> Result<Reference, DecodeError> {
        self.r.read_struct_begin()?;
        let (mut kind, mut low, mut high, mut span_id) = (0i32, 0i64, 0i64, 0i64);
        loop {
            let f = self.r.read_field_begin()?;
            match (f.id, f.ttype) {
                (_, TType::Stop) => break,
                (1, TType::I32) => kind = self.r.read_i32()?,
                (2, TType::I64) => low = self.r.read_i64()?,
                (3, TType::I64) => high = self.r.read_i64()?,
                (4, TType::I64) => span_id = self.r.read_i64()?,
                (_, t) => self.r.skip(t)?,
            }
        }
        self.r.read_struct_end();
        let ref_type = match kind {
            0 => RefType::ChildOf,
            1 => RefType::FollowsFrom,
            other => {
                self.warn(|| format!("unknown reference type {other}; read as CHILD_OF"));
                RefType::ChildOf
            }
        };
        Ok(Reference {
            ref_type,
            trace_id: TraceId::new(high as u64, low as u64),
            span_id: SpanId(span_id as u64),
            tags: Vec::new(),
        })
    }

    fn log(&mut self) -> Result<Log, DecodeError> {
        self.r.read_struct_begin()?;
        let mut ts = 0i64;
        let mut fields = Vec::new();
        loop {
            let f = self.r.read_field_begin()?;
            match (f.id, f.ttype) {
                (_, TType::Stop) => break,
                (1, TType::I64) => ts = self.r.read_i64()?,
                (2, TType::List) => fields = self.tags()?,
                (_, t) => self.r.skip(t)?,
            }
        }
        self.r.read_struct_end();
        let timestamp = micros_to_nanos(ts).unwrap_or_else(|| {
            self.warn(|| format!("log timestamp {ts}µs is out of range; set to 0"));
            0
        });
        Ok(Log { timestamp, fields })
    }
}

/// Jaeger's ingest rule: a non-zero `parentSpanId` becomes a CHILD_OF
/// reference, prepended, unless the references already point at that span
/// in the same trace with either type. Clients fill `parentSpanId` for
/// FOLLOWS_FROM spans too (Python's jaeger-client does), and turning that
/// into an extra CHILD_OF would change the relationship they sent.
fn add_parent(refs: &mut Vec<Reference>, trace_id: TraceId, parent: SpanId) {
    if parent.is_zero() {
        return;
    }
    let present = refs
        .iter()
        .any(|r| r.span_id == parent && r.trace_id == trace_id);
    if !present {
        refs.insert(0, Reference::child_of(trace_id, parent));
    }
}
