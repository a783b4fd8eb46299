//! Jaeger's binary carrier (as jaeger-client-go and -java write it).
//!
//! Big-endian: trace ID high u64, low u64, span ID u64, parent ID u64,
//! flags u8, baggage count i32, then per item key length i32, key, value
//! length i32, value.

use clew_model::{SpanId, TraceId};

use crate::context::SpanContext;

/// Limits Jaeger's Go extractor applies, so a hostile carrier cannot make
/// us allocate much.
const MAX_ITEMS: usize = 180;
const MAX_ITEM_BYTES: usize = 4096;

/// Why a binary carrier was rejected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BinaryCarrierError {
    /// The bytes end before the structure does.
    #[error("truncated binary carrier")]
    Truncated,
    /// A count or length is negative or beyond the limits.
    #[error("binary carrier length out of range")]
    BadLength,
    /// Baggage is not UTF-8.
    #[error("binary carrier baggage is not UTF-8")]
    NotUtf8,
    /// The trace or span ID is zero.
    #[error("binary carrier has a zero ID")]
    ZeroId,
}

/// Encodes a context.
pub fn encode(c: &SpanContext) -> Vec<u8> {
    let mut out = Vec::with_capacity(37);
    let t = c.trace_id();
    out.extend_from_slice(&t.high.to_be_bytes());
    out.extend_from_slice(&t.low.to_be_bytes());
    out.extend_from_slice(&c.span_id().0.to_be_bytes());
    out.extend_from_slice(&c.parent_id().0.to_be_bytes());
    out.push(c.flags());
    let items: Vec<(&str, &str)> = c.baggage_items().collect();
    out.extend_from_slice(&(items.len() as i32).to_be_bytes());
    for (k, v) in items {
        out.extend_from_slice(&(k.len() as i32).to_be_bytes());
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(&(v.len() as i32).to_be_bytes());
        out.extend_from_slice(v.as_bytes());
    }
    out
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], BinaryCarrierError> {
        if self.0.len() < n {
            return Err(BinaryCarrierError::Truncated);
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u64(&mut self) -> Result<u64, BinaryCarrierError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(b))
    }
    fn len(&mut self, max: usize) -> Result<usize, BinaryCarrierError> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        let n = i32::from_be_bytes(b);
        usize::try_from(n)
            .ok()
            .filter(|n| *n <= max)
            .ok_or(BinaryCarrierError::BadLength)
    }
    fn string(&mut self, max: usize) -> Result<String, BinaryCarrierError> {
        let n = self.len(max)?;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| BinaryCarrierError::NotUtf8)
    }
}

/// Decodes a context.
pub fn decode(bytes: &[u8]) -> Result<SpanContext, BinaryCarrierError> {
    let mut r = Reader(bytes);
    let trace = TraceId::new(r.u64()?, r.u64()?);
    let span = SpanId(r.u64()?);
    let parent = SpanId(r.u64()?);
    let flags = r.take(1)?[0];
    if trace.is_zero() || span.is_zero() {
        return Err(BinaryCarrierError::ZeroId);
    }
    let mut ctx = SpanContext::new(trace, span, parent, flags);
    let count = r.len(MAX_ITEMS)?;
    for _ in 0..count {
        let k = r.string(MAX_ITEM_BYTES)?;
        let v = r.string(MAX_ITEM_BYTES)?;
        ctx.set_baggage_item(k, v);
    }
    Ok(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn layout_is_jaegers() {
        let c = SpanContext::new(TraceId::new(1, 2), SpanId(3), SpanId(4), 1)
            .with_baggage_item("k", "v");
        let b = encode(&c);
        assert_eq!(b.len(), 8 * 4 + 1 + 4 + 4 + 1 + 4 + 1);
        assert_eq!(&b[..8], &[0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(b[32], 1);
        assert_eq!(decode(&b), Ok(c));
        assert_eq!(decode(&b[..10]), Err(BinaryCarrierError::Truncated));
        let mut neg = b.clone();
        neg[33..37].copy_from_slice(&(-1i32).to_be_bytes());
        assert_eq!(decode(&neg), Err(BinaryCarrierError::BadLength));
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&bytes);
        }

        #[test]
        fn round_trip(high: u64, low in 1u64.., span in 1u64.., parent: u64, flags: u8,
                      items in proptest::collection::vec(("[a-z]{1,5}", ".{0,8}"), 0..4)) {
            let mut c = SpanContext::new(TraceId::new(high, low), SpanId(span), SpanId(parent), flags);
            for (k, v) in items {
                c.set_baggage_item(k, v);
            }
            prop_assert_eq!(decode(&encode(&c)), Ok(c));
        }
    }
}
