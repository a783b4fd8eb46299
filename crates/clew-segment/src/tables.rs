//! A block's shared tables: every distinct string once (operation names,
//! service names, attribute keys and string values, warnings) and every
//! distinct process once. Columns refer to them by index, which is what
//! makes a trace-aware block small: a repeated `attr_17=val_431` costs two
//! small integers, not two strings.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use clew_model::{KeyValue, Process, Scope, Str, Value};

use crate::SegmentError;
use crate::codec::{Cursor, Sink};

/// Deepest nesting of array/map values accepted when decoding.
const MAX_VALUE_DEPTH: u32 = 32;

// Value type tags in the byte format (docs/storage-format.md, "Values").
const V_STR: u8 = 0;
const V_FALSE: u8 = 1;
const V_TRUE: u8 = 2;
const V_I64: u8 = 3;
const V_F64: u8 = 4;
const V_BINARY: u8 = 5;
const V_ARRAY: u8 = 6;
const V_MAP: u8 = 7;

/// Fast, non-cryptographic hashing for the dictionaries (the keys come
/// from our own spans; SipHash's flood resistance buys nothing here and
/// showed at the top of ingest profiles).
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Builds the tables while columns are encoded. Owns its strings (each
/// distinct one copied once), so a writer can take traces one page at a
/// time and drop them; processes and scopes are remembered by pointer,
/// with the `Arc` kept so a freed address is never mistaken for another.
#[derive(Default)]
pub(crate) struct TableBuilder {
    /// What the block index needs about attributes, noted while encoding
    /// (`None` for WAL batches, which have no index).
    pub(crate) tag_index: Option<TagIndex>,
    strings: FastMap<Str, u32>,
    string_order: Vec<Str>,
    processes: FastMap<Vec<u8>, u32>,
    process_order: Vec<Vec<u8>>,
    process_by_ptr: FastMap<*const Process, (u32, Arc<Process>)>,
    scopes: FastMap<Vec<u8>, u32>,
    scope_order: Vec<Vec<u8>>,
    scope_by_ptr: FastMap<*const Scope, (u32, Arc<Scope>)>,
}

/// Attribute keys and `key=value` pairs of a block, as string indexes, so
/// a repeated pair costs an integer-set probe, not a string hash.
#[derive(Default)]
pub(crate) struct TagIndex {
    pub(crate) keys: FastSet<u32>,
    /// `key << 32 | value` string indexes of string-valued attributes.
    pub(crate) pairs: FastSet<u64>,
    /// [`crate::tag_hash`] of the other attributes (value in text form).
    pub(crate) other: FastSet<u64>,
}

pub(crate) type FastSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;

impl TableBuilder {
    /// A builder that also collects the block index's attribute facts.
    pub(crate) fn for_block() -> TableBuilder {
        TableBuilder {
            tag_index: Some(TagIndex::default()),
            ..TableBuilder::default()
        }
    }

    /// The strings, in index order.
    pub(crate) fn strings(&self) -> &[Str] {
        &self.string_order
    }

    fn note(&mut self, key: u32, kv: &KeyValue, value: Option<u32>) {
        if let Some(ix) = self.tag_index.as_mut() {
            ix.keys.insert(key);
            match value {
                Some(v) => {
                    ix.pairs.insert(u64::from(key) << 32 | u64::from(v));
                }
                None => {
                    ix.other
                        .insert(crate::tag_hash(&kv.key, &kv.value.to_text()));
                }
            }
        }
    }

    pub(crate) fn string(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.strings.get(s) {
            return id;
        }
        let id = self.string_order.len() as u32;
        let owned = Str::from(s);
        self.strings.insert(owned.clone(), id);
        self.string_order.push(owned);
        id
    }

    /// Span tags as format v2 writes them: the count in `codes`, then per
    /// tag `key << 1` with the value's string index in `strings` for a
    /// string value, or `key << 1 | 1` with the value in `values`. Each
    /// column holds one kind of integer, so a search can look for a key
    /// or a string value with a byte search before walking anything.
    pub(crate) fn put_tags_v2(
        &mut self,
        codes: &mut Vec<u8>,
        strings: &mut Vec<u8>,
        values: &mut Vec<u8>,
        kvs: &[KeyValue],
    ) {
        codes.put_var(kvs.len() as u64);
        for kv in kvs {
            let key = self.string(&kv.key);
            let code = u64::from(key) << 1;
            match &kv.value {
                Value::Str(s) => {
                    codes.put_var(code);
                    let v = self.string(s);
                    strings.put_var(u64::from(v));
                    self.note(key, kv, Some(v));
                }
                v => {
                    codes.put_var(code | 1);
                    self.put_value(values, v);
                    self.note(key, kv, None);
                }
            }
        }
    }

    pub(crate) fn process(&mut self, p: &Arc<Process>) -> u32 {
        let ptr = Arc::as_ptr(p);
        if let Some(&(id, _)) = self.process_by_ptr.get(&ptr) {
            return id;
        }
        let mut enc = Vec::new();
        enc.put_var(u64::from(self.string(&p.service_name)));
        self.put_kvs(&mut enc, &p.tags);
        let next = self.process_order.len() as u32;
        let id = *self.processes.entry(enc.clone()).or_insert(next);
        if id == next {
            self.process_order.push(enc);
        }
        self.process_by_ptr.insert(ptr, (id, p.clone()));
        id
    }

    pub(crate) fn scope(&mut self, s: &Arc<Scope>) -> u32 {
        let ptr = Arc::as_ptr(s);
        if let Some(&(id, _)) = self.scope_by_ptr.get(&ptr) {
            return id;
        }
        let mut enc = Vec::new();
        self.put_kvs(&mut enc, &s.attributes);
        let next = self.scope_order.len() as u32;
        let id = *self.scopes.entry(enc.clone()).or_insert(next);
        if id == next {
            self.scope_order.push(enc);
        }
        self.scope_by_ptr.insert(ptr, (id, s.clone()));
        id
    }

    /// Top-level attributes (log fields, link attributes, process tags,
    /// scope attributes): noted for the index.
    pub(crate) fn put_kvs(&mut self, out: &mut Vec<u8>, kvs: &[KeyValue]) {
        out.put_var(kvs.len() as u64);
        for kv in kvs {
            let key = self.string(&kv.key);
            out.put_var(u64::from(key));
            let value = self.put_value(out, &kv.value);
            self.note(key, kv, value);
        }
    }

    /// A map value's entries (not attributes of their own).
    fn put_kvs_nested(&mut self, out: &mut Vec<u8>, kvs: &[KeyValue]) {
        out.put_var(kvs.len() as u64);
        for kv in kvs {
            out.put_var(u64::from(self.string(&kv.key)));
            self.put_value(out, &kv.value);
        }
    }

    /// Writes a value; answers its string index when it is a string.
    fn put_value(&mut self, out: &mut Vec<u8>, v: &Value) -> Option<u32> {
        match v {
            Value::Str(s) => {
                out.put_u8(V_STR);
                let id = self.string(s);
                out.put_var(u64::from(id));
                return Some(id);
            }
            Value::Bool(false) => out.put_u8(V_FALSE),
            Value::Bool(true) => out.put_u8(V_TRUE),
            Value::I64(i) => {
                out.put_u8(V_I64);
                out.put_zigzag(*i);
            }
            Value::F64(f) => {
                out.put_u8(V_F64);
                out.put_u64(f.to_bits());
            }
            Value::Binary(b) => {
                out.put_u8(V_BINARY);
                out.put_blob(b);
            }
            Value::Array(items) => {
                out.put_u8(V_ARRAY);
                out.put_var(items.len() as u64);
                for item in items {
                    self.put_value(out, item);
                }
            }
            Value::Map(kvs) => {
                out.put_u8(V_MAP);
                self.put_kvs_nested(out, kvs);
            }
        }
        None
    }

    /// The tables section: strings, processes, scopes.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let bytes: usize = self.string_order.iter().map(|s| s.len() + 2).sum();
        let mut out = Vec::with_capacity(bytes + 16);
        out.put_var(self.string_order.len() as u64);
        for s in &self.string_order {
            out.put_blob(s.as_bytes());
        }
        out.put_var(self.process_order.len() as u64);
        for p in &self.process_order {
            out.put_blob(p);
        }
        out.put_var(self.scope_order.len() as u64);
        for p in &self.scope_order {
            out.put_blob(p);
        }
        out
    }
}

/// Decoded tables. Strings are slices of one shared buffer, so a decoded
/// span's strings cost a reference count, not an allocation.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    /// String → index, built on first use by a filtered read.
    pub(crate) lookup: std::sync::OnceLock<FastMap<Str, u32>>,
    pub(crate) strings: Vec<Str>,
    pub(crate) processes: Vec<Arc<Process>>,
    pub(crate) scopes: Vec<Arc<Scope>>,
}

impl Tables {
    /// Decodes a tables section.
    pub fn decode(raw: Bytes) -> Result<Tables, SegmentError> {
        let mut c = Cursor::new(&raw, "tables");
        let n = c.count(1)?;
        let mut strings = Vec::with_capacity(n);
        for _ in 0..n {
            let len = c.var()? as usize;
            let start = c.position();
            c.take(len)?;
            let s = Str::try_from(raw.slice(start..start + len))
                .map_err(|_| SegmentError::Corrupt("string is not UTF-8"))?;
            strings.push(s);
        }
        let mut tables = Tables {
            lookup: std::sync::OnceLock::new(),
            strings,
            processes: Vec::new(),
            scopes: Vec::new(),
        };
        let n = c.count(2)?;
        let mut processes = Vec::with_capacity(n);
        for _ in 0..n {
            let mut p = Cursor::new(c.blob()?, "process");
            let service_name = tables.string(&mut p)?;
            let tags = tables.kvs(&mut p, 0)?;
            processes.push(Arc::new(Process { service_name, tags }));
        }
        tables.processes = processes;
        let n = c.count(1)?;
        let mut scopes = Vec::with_capacity(n);
        for _ in 0..n {
            let mut p = Cursor::new(c.blob()?, "scope");
            let attributes = tables.kvs(&mut p, 0)?;
            scopes.push(Arc::new(Scope { attributes }));
        }
        tables.scopes = scopes;
        Ok(tables)
    }

    /// The index of a string in the tables, if the block holds it.
    pub(crate) fn find(&self, s: &str) -> Option<u32> {
        let map = self.lookup.get_or_init(|| {
            self.strings
                .iter()
                .enumerate()
                .map(|(i, s)| (s.clone(), i as u32))
                .collect()
        });
        map.get(s).copied()
    }

    /// Reads what [`TableBuilder::put_tags_v2`] wrote.
    pub(crate) fn tags_v2(
        &self,
        codes: &mut Cursor<'_>,
        strings: &mut Cursor<'_>,
        values: &mut Cursor<'_>,
    ) -> Result<Vec<KeyValue>, SegmentError> {
        let n = codes.count(1)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let code = codes.var()?;
            let key = self
                .strings
                .get((code >> 1) as usize)
                .cloned()
                .ok_or(SegmentError::Corrupt("string index"))?;
            let value = if code & 1 == 0 {
                Value::Str(self.string(strings)?)
            } else {
                self.value(values, 0)?
            };
            out.push(KeyValue { key, value });
        }
        Ok(out)
    }

    /// Number of distinct strings.
    pub fn string_count(&self) -> usize {
        self.strings.len()
    }

    /// Number of distinct processes.
    pub fn process_count(&self) -> usize {
        self.processes.len()
    }

    pub(crate) fn string(&self, c: &mut Cursor<'_>) -> Result<Str, SegmentError> {
        let id = c.var()?;
        self.strings
            .get(id as usize)
            .cloned()
            .ok_or(SegmentError::Corrupt("string index"))
    }

    pub(crate) fn process(&self, c: &mut Cursor<'_>) -> Result<Arc<Process>, SegmentError> {
        let id = c.var()?;
        self.processes
            .get(id as usize)
            .cloned()
            .ok_or(SegmentError::Corrupt("process index"))
    }

    /// A scope reference: 0 = none, n = scope n - 1.
    pub(crate) fn scope(&self, c: &mut Cursor<'_>) -> Result<Option<Arc<Scope>>, SegmentError> {
        match c.var()? {
            0 => Ok(None),
            n => self
                .scopes
                .get((n - 1) as usize)
                .cloned()
                .map(Some)
                .ok_or(SegmentError::Corrupt("scope index")),
        }
    }

    pub(crate) fn kvs(
        &self,
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

    /// Reads what [`TableBuilder::put_kvs_split`] wrote.
    pub(crate) fn kvs_split(
        &self,
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

    fn value(&self, c: &mut Cursor<'_>, depth: u32) -> Result<Value, SegmentError> {
        if depth > MAX_VALUE_DEPTH {
            return Err(SegmentError::Corrupt("value nesting"));
        }
        Ok(match c.u8()? {
            V_STR => Value::Str(self.string(c)?),
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
