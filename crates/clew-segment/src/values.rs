//! Reading strings, values and key-value lists out of a page's columns.
//!
//! A page's spans repeat the same few strings over and over (tag keys,
//! common values, operation and service names). Making a `Str` from the
//! tables costs a UTF-8 check and a copy each time, and was the largest
//! part of decoding a page for a search; a [`ValueReader::for_page`]
//! builds each string of the first [`MEMO_MAX`] indexes once per page and
//! clones it after. Strings past that (in a high-entropy block, one-off
//! values, which do not repeat anyway) are built on each use, so the memo
//! stays small however big the block's tables are, and is dropped with
//! the page.

use bytes::Bytes;
use clew_model::{KeyValue, Str, Value};

use crate::SegmentError;
use crate::codec::Cursor;
use crate::tables::{
    MAX_VALUE_DEPTH, Tables, V_ARRAY, V_BINARY, V_F64, V_FALSE, V_I64, V_INLINE, V_INLINE_TAG,
    V_MAP, V_STR, V_TRUE,
};

/// String indexes a page reader remembers (32 bytes each: 128 KiB at most).
/// Blocks number their strings in order of first use, so the strings
/// every span repeats (keys, service and operation names) come early.
const MEMO_MAX: usize = 4096;

/// Reads strings and values that refer to one block's (or batch's) tables.
pub(crate) struct ValueReader<'t> {
    tables: &'t Tables,
    /// Strings already made, by index (empty: no memo).
    memo: Vec<Option<Str>>,
}

impl<'t> ValueReader<'t> {
    /// A reader that makes every string on each use (for one-off reads:
    /// a process, a scope, a few references).
    pub(crate) fn new(tables: &'t Tables) -> ValueReader<'t> {
        ValueReader {
            tables,
            memo: Vec::new(),
        }
    }

    /// A reader for a whole page: each string made once (see the module
    /// docs).
    pub(crate) fn for_page(tables: &'t Tables) -> ValueReader<'t> {
        ValueReader {
            tables,
            memo: vec![None; tables.strings.len().min(MEMO_MAX)],
        }
    }

    /// String `id` of the tables. Inlined: returned through memory, the
    /// string's partial stores stalled the caller's copy of it.
    #[inline(always)]
    fn string_at(&mut self, id: u64) -> Result<Str, SegmentError> {
        let made = |i| {
            self.tables
                .strings
                .get(i)
                .ok_or(SegmentError::Corrupt("string index"))
        };
        let i = usize::try_from(id).map_err(|_| SegmentError::Corrupt("string index"))?;
        match self.memo.get_mut(i) {
            Some(Some(s)) => Ok(s.clone()),
            Some(slot) => {
                let s = made(i)?;
                *slot = Some(s.clone());
                Ok(s)
            }
            None => made(i),
        }
    }

    /// A string index from `c`, as its string.
    #[inline(always)]
    pub(crate) fn string(&mut self, c: &mut Cursor<'_>) -> Result<Str, SegmentError> {
        let id = c.var()?;
        self.string_at(id)
    }

    pub(crate) fn kvs(
        &mut self,
        c: &mut Cursor<'_>,
        depth: u32,
    ) -> Result<Vec<KeyValue>, SegmentError> {
        let n = c.count(2)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let key = self.string(c)?;
            let value = self.value(c, depth)?;
            out.push(KeyValue { key, value });
        }
        Ok(out)
    }

    /// Reads v1 span tags: keys from one stream, values from another.
    pub(crate) fn kvs_split(
        &mut self,
        keys: &mut Cursor<'_>,
        values: &mut Cursor<'_>,
    ) -> Result<Vec<KeyValue>, SegmentError> {
        let n = keys.count(1)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let key = self.string(keys)?;
            let value = self.value(values, 0)?;
            out.push(KeyValue { key, value });
        }
        Ok(out)
    }

    /// Reads what `TableBuilder::put_tags_v2` wrote.
    pub(crate) fn tags_v2(
        &mut self,
        codes: &mut Cursor<'_>,
        strings: &mut Cursor<'_>,
        values: &mut Cursor<'_>,
        inline: &mut Cursor<'_>,
    ) -> Result<Vec<KeyValue>, SegmentError> {
        let n = codes.count(1)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let code = codes.var()?;
            let key = self.string_at(code >> 1)?;
            if code & 1 == 0 {
                // The common case, pushed on its own: merged with the other
                // kinds of value, the push copied the value through a
                // temporary whose partial stores stalled the copy.
                let value = Value::Str(self.string(strings)?);
                out.push(KeyValue { key, value });
            } else {
                out.push(KeyValue {
                    key,
                    value: self.tag_value(values, inline)?,
                });
            }
        }
        Ok(out)
    }

    /// A span tag value other than a table string: written in place, or
    /// in the values stream.
    #[inline(never)]
    fn tag_value(
        &mut self,
        values: &mut Cursor<'_>,
        inline: &mut Cursor<'_>,
    ) -> Result<Value, SegmentError> {
        if values.clone_peek_u8()? != V_INLINE_TAG {
            return self.value(values, 0);
        }
        values.u8()?;
        let len =
            usize::try_from(values.var()?).map_err(|_| SegmentError::Corrupt("string length"))?;
        Ok(Value::Str(
            Str::try_from(Bytes::copy_from_slice(inline.take(len)?))
                .map_err(|_| SegmentError::Corrupt("string is not UTF-8"))?,
        ))
    }

    pub(crate) fn value(&mut self, c: &mut Cursor<'_>, depth: u32) -> Result<Value, SegmentError> {
        if depth > MAX_VALUE_DEPTH {
            return Err(SegmentError::Corrupt("value nesting"));
        }
        Ok(match c.u8()? {
            V_STR => Value::Str(self.string(c)?),
            V_INLINE => Value::Str(
                Str::try_from(Bytes::copy_from_slice(c.blob()?))
                    .map_err(|_| SegmentError::Corrupt("string is not UTF-8"))?,
            ),
            V_FALSE => Value::Bool(false),
            V_TRUE => Value::Bool(true),
            V_I64 => Value::I64(c.zigzag()?),
            V_F64 => Value::F64(f64::from_bits(c.u64()?)),
            V_BINARY => Value::Binary(Bytes::copy_from_slice(c.blob()?)),
            V_ARRAY => {
                let n = c.count(1)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.value(c, depth + 1)?);
                }
                Value::Array(items)
            }
            V_MAP => Value::Map(self.kvs(c, depth + 1)?),
            _ => return Err(SegmentError::Corrupt("value type")),
        })
    }
}
