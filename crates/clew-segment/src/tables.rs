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
use crate::pair_rows::PairRows;
use crate::strings::StringTable;
use crate::values::ValueReader;

/// Deepest nesting of array/map values accepted when decoding.
pub(crate) const MAX_VALUE_DEPTH: u32 = 32;

// Value type tags in the byte format (docs/storage-format.md, "Values").
pub(crate) const V_STR: u8 = 0;
pub(crate) const V_FALSE: u8 = 1;
pub(crate) const V_TRUE: u8 = 2;
pub(crate) const V_I64: u8 = 3;
pub(crate) const V_F64: u8 = 4;
pub(crate) const V_BINARY: u8 = 5;
pub(crate) const V_ARRAY: u8 = 6;
pub(crate) const V_MAP: u8 = 7;
/// Format v3 block pages: a string written in place (`blob`), not in the
/// block's tables: a value seen once in its page and not yet in the block
/// (random IDs, SQL with literals), which would otherwise make the block's
/// dictionary — and the memory of whoever writes or reads it — grow with
/// every span.
pub(crate) const V_INLINE: u8 = 8;
/// Format v3 block pages, span tags only: a string written in place whose
/// length follows (`var`) and whose bytes are the next ones of the page's
/// in-place tag strings stream.
pub(crate) const V_INLINE_TAG: u8 = 9;

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
    /// String → index in `string_order` and `slots`.
    strings: FastMap<Str, u32>,
    string_order: Vec<Str>,
    /// Per string (by index), the pair it formed as a value; kept apart
    /// from the map so a writer that knows a string's index already (the
    /// cut, see `crate::transcode`) reaches it without hashing the text.
    slots: Vec<StringSlot>,
    processes: FastMap<Vec<u8>, u32>,
    process_order: Vec<Vec<u8>>,
    process_by_ptr: FastMap<*const Process, (u32, Arc<Process>)>,
    scopes: FastMap<Vec<u8>, u32>,
    scope_order: Vec<Vec<u8>>,
    scope_by_ptr: FastMap<*const Scope, (u32, Arc<Scope>)>,
    /// Strings the page being encoded writes in place ([`V_INLINE`]).
    pub(crate) inline: FastSet<Str>,
    /// [`TableBuilder::put_tags_v2`]'s pairs to look up (kept for its
    /// allocation).
    deferred_pairs: Vec<DeferredPair>,
    /// WAL batches only ([`TableBuilder::for_batch`]): strings met by
    /// address (see [`AddressMemo`]).
    memo: Option<Box<AddressMemo>>,
}

/// Slots of an [`AddressMemo`] (a power of two).
const MEMO_SLOTS: usize = 512;

/// The last keys [`TableBuilder::key_string`] was given, by address and
/// length, with their index: a direct-mapped cache in front of the map.
///
/// Decoders hand out attribute keys as shared static strings (the OTLP
/// decoder interns them), so a batch's thousands of `attr_KK` keys are a
/// few dozen addresses; finding them by address skips hashing and
/// comparing their text, which was most of a WAL record's encoding.
///
/// An address names one text only while the string lives and does not
/// change: a builder with a memo must be given strings that all outlive
/// it, unchanged (`encode_batch` borrows its spans for the builder's
/// whole life), never temporaries or strings of sources it releases
/// while it runs (the block writers, which have no memo).
struct AddressMemo {
    slots: [(usize, usize, u32); MEMO_SLOTS],
}

/// The memo slot of the string at address `at`: the top bits of a
/// multiplicative hash, one per slot index bit.
fn memo_slot(at: usize) -> usize {
    let bits = MEMO_SLOTS.trailing_zeros();
    ((at as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - bits)) as usize
}

/// A span tag's pair whose ID is looked up after the span's other tags.
#[derive(Clone, Copy)]
pub(crate) struct DeferredPair {
    key: u32,
    /// The value's string index.
    value: u32,
    /// The value's string entry holds no pair yet: it gets this one.
    unset: bool,
}

/// Attribute keys and `key=value` pairs of a block, as string indexes, so
/// a repeated pair costs an integer-set probe, not a string hash.
#[derive(Default)]
pub(crate) struct TagIndex {
    pub(crate) keys: FastSet<u32>,
    /// `key << 32 | value` string indexes of string-valued attributes →
    /// pair ID (format v3), in order of first appearance in the block.
    pub(crate) pairs: FastMap<u64, u32>,
    /// The pairs by ID.
    pub(crate) pair_order: Vec<u64>,
    /// The same pairs by key, for the keys dense enough: probed before
    /// the map.
    rows: PairRows,
    /// [`crate::tag_hash`] of the other attributes (value in text form).
    pub(crate) other: FastSet<u64>,
    /// Keys seen with a value that is not a string in the tables (another
    /// type, or a string written in place).
    pub(crate) other_keys: FastSet<u32>,
    /// [`crate::tag_hash`] of the attributes whose string value the page
    /// being encoded writes in place (its own filter, not the block's).
    pub(crate) page_hashes: Vec<u64>,
    /// Pair IDs noted since the writer last took them (one trace's).
    pub(crate) noted: Vec<u32>,
    /// The process and scope whose pairs were noted last since then: the
    /// spans of a trace mostly share one, and noting its pairs once per
    /// span only gave `take_noted` duplicates to sort away.
    last_process: Option<(u32, Option<u32>)>,
    /// Pair IDs of the traces of the page being written.
    pub(crate) page_pairs: Vec<u32>,
    /// Pair IDs of each process's / scope's attributes, by table index.
    process_pairs: Vec<Vec<u32>>,
    scope_pairs: Vec<Vec<u32>>,
}

pub(crate) type FastSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;

/// What a [`TableBuilder`] knows of one of its strings: once it has been
/// an attribute's value (block builders), the pair it formed with the
/// first key seen with it. Nearly every value string comes with one key
/// only, so a tag's pair ID is read from the string's slot instead of a
/// probe of the block-wide pair map — whose cache misses (≈ 100 k pairs on
/// tracegen data) were the top symbol of a disk-store ingest profile (12 %
/// of the server's CPU).
#[derive(Clone, Copy)]
struct StringSlot {
    /// The first key this string was a value of, or [`NO_KEY`].
    pair_key: u32,
    /// The pair ID of (`pair_key`, this string).
    pair: u32,
}

const NO_KEY: u32 = u32::MAX;

impl TagIndex {
    /// The pair ID of (`key`, string `value`), a new one if unseen.
    fn pair_id(&mut self, key: u32, value: u32) -> u32 {
        if let Some(id) = self.rows.get(key, value) {
            return id;
        }
        let pair = u64::from(key) << 32 | u64::from(value);
        let next = self.pair_order.len() as u32;
        let id = *self.pairs.entry(pair).or_insert(next);
        if id == next {
            self.pair_order.push(pair);
            self.rows.put(key, value, id, &self.pair_order);
        }
        id
    }
}

/// Where [`TableBuilder::put_value`] put a value.
#[derive(Clone, Copy)]
enum Put {
    /// A string of the tables, at this index.
    Table(u32),
    /// A string written in place ([`V_INLINE`]).
    Inline,
    /// Not a string.
    Other,
}

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

    fn note(&mut self, key: u32, kv: &KeyValue, value: Put) {
        if let Some(ix) = self.tag_index.as_mut() {
            ix.keys.insert(key);
            match value {
                Put::Inline => {
                    ix.other_keys.insert(key);
                    if let Value::Str(s) = &kv.value {
                        ix.page_hashes.push(crate::tag_hash(&kv.key, s));
                    }
                }
                Put::Table(v) => {
                    let id = ix.pair_id(key, v);
                    ix.noted.push(id);
                }
                Put::Other => {
                    ix.other_keys.insert(key);
                    ix.other
                        .insert(crate::tag_hash(&kv.key, &kv.value.to_text()));
                }
            }
        }
    }

    /// Is this a block's builder (which keeps the attribute index and
    /// writes format v3 pages), not a WAL batch's?
    pub(crate) fn is_block(&self) -> bool {
        self.tag_index.is_some()
    }

    /// Notes the pairs of a process's (or scope's) attributes for the
    /// trace being encoded; they were recorded when it was first added.
    pub(crate) fn note_process(&mut self, process: u32, scope: Option<u32>) {
        if let Some(ix) = self.tag_index.as_mut() {
            if ix.last_process == Some((process, scope)) {
                return;
            }
            ix.last_process = Some((process, scope));
            let TagIndex {
                noted,
                process_pairs,
                scope_pairs,
                ..
            } = ix;
            if let Some(p) = process_pairs.get(process as usize) {
                noted.extend_from_slice(p);
            }
            if let Some(p) = scope.and_then(|s| scope_pairs.get(s as usize)) {
                noted.extend_from_slice(p);
            }
        }
    }

    /// The distinct pair IDs noted since the last call, sorted.
    pub(crate) fn take_noted(&mut self) -> Vec<u32> {
        let Some(ix) = self.tag_index.as_mut() else {
            return Vec::new();
        };
        ix.last_process = None;
        let mut v = std::mem::take(&mut ix.noted);
        v.sort_unstable();
        v.dedup();
        ix.page_pairs.extend_from_slice(&v);
        v
    }

    /// Moves the pairs noted since `mark` to a process's (`scope` false)
    /// or scope's list.
    fn keep_noted(&mut self, mark: usize, id: u32, scope: bool) {
        if let Some(ix) = self.tag_index.as_mut() {
            let pairs: Vec<u32> = ix.noted.drain(mark.min(ix.noted.len())..).collect();
            let list = if scope {
                &mut ix.scope_pairs
            } else {
                &mut ix.process_pairs
            };
            if list.len() <= id as usize {
                list.resize(id as usize + 1, Vec::new());
            }
            list[id as usize] = pairs;
        }
    }

    fn noted_len(&self) -> usize {
        self.tag_index.as_ref().map_or(0, |ix| ix.noted.len())
    }

    /// A builder for one WAL batch, with an [`AddressMemo`]: every string
    /// it is given must outlive it, unchanged.
    pub(crate) fn for_batch() -> TableBuilder {
        TableBuilder {
            memo: Some(Box::new(AddressMemo {
                slots: [(0, 0, 0); MEMO_SLOTS],
            })),
            ..TableBuilder::default()
        }
    }

    /// An attribute key's index: keys are what decoders share by address
    /// (values are sliced from each request, so the memo holds keys only,
    /// and a batch's values do not evict them).
    pub(crate) fn key_string(&mut self, s: &str) -> u32 {
        let Some(memo) = self.memo.as_deref_mut() else {
            return self.string(s);
        };
        let (at, len) = (s.as_ptr() as usize, s.len());
        let i = memo_slot(at);
        let (seen_at, seen_len, id) = memo.slots[i];
        // Address 0 never holds a string: an empty slot never matches.
        if (seen_at, seen_len) == (at, len) && at != 0 {
            return id;
        }
        let id = self.string(s);
        if let Some(memo) = self.memo.as_deref_mut() {
            memo.slots[i] = (at, len, id);
        }
        id
    }

    pub(crate) fn string(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.strings.get(s) {
            return id;
        }
        self.add_string(s)
    }

    fn add_string(&mut self, s: &str) -> u32 {
        let id = self.string_order.len() as u32;
        let owned = Str::from(s);
        self.strings.insert(owned.clone(), id);
        self.string_order.push(owned);
        self.slots.push(StringSlot {
            pair_key: NO_KEY,
            pair: 0,
        });
        id
    }

    /// The index of string `s`, if the tables hold it.
    pub(crate) fn lookup(&self, s: &str) -> Option<u32> {
        self.strings.get(s).copied()
    }

    /// Number of strings so far (the next string's index).
    pub(crate) fn string_count(&self) -> u32 {
        self.string_order.len() as u32
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
        inline: &mut Vec<u8>,
        kvs: &[KeyValue],
    ) {
        codes.put_var(kvs.len() as u64);
        let mut deferred = self.start_tags();
        for kv in kvs {
            let key = self.key_string(&kv.key);
            match &kv.value {
                Value::Str(s) if !self.is_inline(s) => {
                    let v = self.string(s);
                    self.put_tag_string(codes, strings, key, v, &mut deferred);
                }
                Value::Str(s) => self.put_tag_inline(codes, values, inline, key, &kv.key, s),
                _ => self.put_tag_other(codes, values, key, kv),
            }
        }
        self.finish_tags(deferred);
    }

    /// Does the page being encoded write this string in place?
    pub(crate) fn is_inline(&self, s: &str) -> bool {
        !self.inline.is_empty() && self.inline.contains(s)
    }

    /// Begins one span's tags (see [`TableBuilder::put_tag_string`]).
    pub(crate) fn start_tags(&mut self) -> Vec<DeferredPair> {
        std::mem::take(&mut self.deferred_pairs)
    }

    /// One string-valued span tag whose value is table string `v`.
    ///
    /// Block builders: the pairs whose ID the string's slot does not hold
    /// are looked up by [`TableBuilder::finish_tags`], after the span's
    /// other tags, back to back. The block-wide pair map outgrows the
    /// caches (≈ 100 k pairs on tracegen data), and independent probes in
    /// a tight loop wait for their cache misses together instead of one
    /// after another. IDs are still given in tag order, so the block is
    /// the same.
    pub(crate) fn put_tag_string(
        &mut self,
        codes: &mut Vec<u8>,
        strings: &mut Vec<u8>,
        key: u32,
        v: u32,
        deferred: &mut Vec<DeferredPair>,
    ) {
        codes.put_var(u64::from(key) << 1);
        strings.put_var(u64::from(v));
        let Some(ix) = self.tag_index.as_mut() else {
            return;
        };
        let slot = self.slots[v as usize];
        if slot.pair_key == key {
            ix.noted.push(slot.pair);
        } else if let Some(id) = ix.rows.get(key, v) {
            // The key has a pair already, so it is among the keys.
            ix.noted.push(id);
        } else {
            ix.keys.insert(key);
            deferred.push(DeferredPair {
                key,
                value: v,
                unset: slot.pair_key == NO_KEY,
            });
        }
    }

    /// One span tag (key `key`, text `key_text`) whose string value `s`
    /// the page writes in place. Takes text, not a `KeyValue`, so a
    /// transcoder writing a string it read in place builds no value.
    pub(crate) fn put_tag_inline(
        &mut self,
        codes: &mut Vec<u8>,
        values: &mut Vec<u8>,
        inline: &mut Vec<u8>,
        key: u32,
        key_text: &str,
        s: &str,
    ) {
        codes.put_var(u64::from(key) << 1 | 1);
        values.put_u8(V_INLINE_TAG);
        values.put_var(s.len() as u64);
        inline.put_bytes(s.as_bytes());
        // As `note` does for a value written in place.
        if let Some(ix) = self.tag_index.as_mut() {
            ix.keys.insert(key);
            ix.other_keys.insert(key);
            ix.page_hashes.push(crate::tag_hash(key_text, s));
        }
    }

    /// One span tag whose value is not a string.
    pub(crate) fn put_tag_other(
        &mut self,
        codes: &mut Vec<u8>,
        values: &mut Vec<u8>,
        key: u32,
        kv: &KeyValue,
    ) {
        codes.put_var(u64::from(key) << 1 | 1);
        let put = self.put_value(values, &kv.value);
        self.note(key, kv, put);
    }

    /// Ends one span's tags: looks up the deferred pairs, in tag order.
    pub(crate) fn finish_tags(&mut self, mut deferred: Vec<DeferredPair>) {
        if let Some(ix) = self.tag_index.as_mut() {
            for d in deferred.iter() {
                let pair = ix.pair_id(d.key, d.value);
                ix.noted.push(pair);
                let slot = &mut self.slots[d.value as usize];
                if d.unset && slot.pair_key == NO_KEY {
                    slot.pair_key = d.key;
                    slot.pair = pair;
                }
            }
        }
        deferred.clear();
        self.deferred_pairs = deferred;
    }

    pub(crate) fn process(&mut self, p: &Arc<Process>) -> u32 {
        let ptr = Arc::as_ptr(p);
        if let Some(&(id, _)) = self.process_by_ptr.get(&ptr) {
            return id;
        }
        let mut enc = Vec::new();
        enc.put_var(u64::from(self.string(&p.service_name)));
        let mark = self.noted_len();
        // Processes live in the tables: none of their strings in place.
        let inline = std::mem::take(&mut self.inline);
        self.put_kvs(&mut enc, &p.tags);
        self.inline = inline;
        let next = self.process_order.len() as u32;
        let id = *self.processes.entry(enc.clone()).or_insert(next);
        if id == next {
            self.process_order.push(enc);
        }
        self.keep_noted(mark, id, false);
        self.process_by_ptr.insert(ptr, (id, p.clone()));
        id
    }

    pub(crate) fn scope(&mut self, s: &Arc<Scope>) -> u32 {
        let ptr = Arc::as_ptr(s);
        if let Some(&(id, _)) = self.scope_by_ptr.get(&ptr) {
            return id;
        }
        let mut enc = Vec::new();
        let mark = self.noted_len();
        let inline = std::mem::take(&mut self.inline);
        self.put_kvs(&mut enc, &s.attributes);
        self.inline = inline;
        let next = self.scope_order.len() as u32;
        let id = *self.scopes.entry(enc.clone()).or_insert(next);
        if id == next {
            self.scope_order.push(enc);
        }
        self.keep_noted(mark, id, true);
        self.scope_by_ptr.insert(ptr, (id, s.clone()));
        id
    }

    /// Top-level attributes (log fields, link attributes, process tags,
    /// scope attributes): noted for the index.
    pub(crate) fn put_kvs(&mut self, out: &mut Vec<u8>, kvs: &[KeyValue]) {
        out.put_var(kvs.len() as u64);
        for kv in kvs {
            let key = self.key_string(&kv.key);
            out.put_var(u64::from(key));
            let value = self.put_value(out, &kv.value);
            self.note(key, kv, value);
        }
    }

    /// A map value's entries (not attributes of their own).
    fn put_kvs_nested(&mut self, out: &mut Vec<u8>, kvs: &[KeyValue]) {
        out.put_var(kvs.len() as u64);
        for kv in kvs {
            out.put_var(u64::from(self.key_string(&kv.key)));
            self.put_value(out, &kv.value);
        }
    }

    /// Writes a value; answers where a string went.
    fn put_value(&mut self, out: &mut Vec<u8>, v: &Value) -> Put {
        match v {
            Value::Str(s) if self.inline.contains(&**s) => {
                out.put_u8(V_INLINE);
                out.put_blob(s.as_bytes());
                return Put::Inline;
            }
            Value::Str(s) => {
                out.put_u8(V_STR);
                let id = self.string(s);
                out.put_var(u64::from(id));
                return Put::Table(id);
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
        Put::Other
    }

    /// Does the block's dictionary already hold this string?
    pub(crate) fn has_string(&self, s: &str) -> bool {
        self.strings.contains_key(s)
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
        // Format v3 blocks: the pair table (keys, then values, as two
        // columns so each compresses on its own) and the keys that also
        // carry values other than strings.
        if let Some(ix) = &self.tag_index {
            out.put_var(ix.pair_order.len() as u64);
            for &p in &ix.pair_order {
                out.put_var(p >> 32);
            }
            for &p in &ix.pair_order {
                out.put_var(p & 0xffff_ffff);
            }
            let mut other: Vec<u32> = ix.other_keys.iter().copied().collect();
            other.sort_unstable();
            out.put_var(other.len() as u64);
            for k in other {
                out.put_var(u64::from(k));
            }
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
    pub(crate) strings: StringTable,
    pub(crate) processes: Vec<Arc<Process>>,
    pub(crate) scopes: Vec<Arc<Scope>>,
    /// Format v3: `key << 32 | value` string indexes by pair ID.
    pub(crate) pairs: Vec<u64>,
    /// Format v3: keys that carry values other than strings, sorted.
    pub(crate) other_keys: Vec<u32>,
    /// Format v3 tables (with a pair table, maybe empty).
    pub(crate) has_pairs: bool,
    /// Pair → pair ID, built on first use.
    pub(crate) pair_lookup: std::sync::OnceLock<FastMap<u64, u32>>,
    /// Answer [`Tables::find`] by scanning the strings, never by a cached
    /// map: a WAL batch's tables (held by the head, hundreds of them, each
    /// with thousands of one-off strings on high-entropy data) would
    /// otherwise keep a second copy of every string in a hash map — 300 MB
    /// of a 2 M-span entropy run's heap.
    pub(crate) scan_only: bool,
}

impl Tables {
    /// Decodes a tables section.
    pub fn decode(raw: Bytes) -> Result<Tables, SegmentError> {
        let mut c = Cursor::new(&raw, "tables");
        let n = c.count(1)?;
        let mut spans = Vec::with_capacity(n);
        for _ in 0..n {
            let len = c.var()? as usize;
            let start = c.position();
            let text = c.take(len)?;
            std::str::from_utf8(text).map_err(|_| SegmentError::Corrupt("string is not UTF-8"))?;
            let end =
                u32::try_from(start + len).map_err(|_| SegmentError::Corrupt("tables size"))?;
            spans.push((start as u32, end));
        }
        let mut tables = Tables {
            strings: StringTable::new(raw.clone(), spans),
            ..Tables::default()
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
        // Format v3 appends the pair table; older tables end here.
        if c.remaining() > 0 {
            let n = c.count(2)?;
            let strings = tables.strings.len() as u64;
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                let key = c.var()?;
                if key >= strings {
                    return Err(SegmentError::Corrupt("pair key"));
                }
                pairs.push(key << 32);
            }
            for p in pairs.iter_mut() {
                let value = c.var()?;
                if value >= strings {
                    return Err(SegmentError::Corrupt("pair value"));
                }
                *p |= value;
            }
            let n = c.count(1)?;
            let mut other_keys = Vec::with_capacity(n);
            for _ in 0..n {
                let k = c.var()?;
                if k >= strings {
                    return Err(SegmentError::Corrupt("pair key"));
                }
                other_keys.push(k as u32);
            }
            tables.pairs = pairs;
            tables.other_keys = other_keys;
            tables.has_pairs = true;
        }
        Ok(tables)
    }

    /// Format v3: the pair ID of a string-valued attribute `key = value`
    /// (string indexes), if the block holds that pair.
    pub(crate) fn pair_id(&self, key: u32, value: u32) -> Option<u32> {
        let map = self.pair_lookup.get_or_init(|| {
            self.pairs
                .iter()
                .enumerate()
                .map(|(i, &p)| (p, i as u32))
                .collect()
        });
        map.get(&(u64::from(key) << 32 | u64::from(value))).copied()
    }

    /// Does this block's pair table cover every attribute of `key` (no
    /// value of it is anything but a string)? Only v3 tables know.
    pub(crate) fn pairs_cover(&self, key: u32) -> bool {
        self.has_pairs && self.other_keys.binary_search(&key).is_err()
    }

    /// Builds the string and pair lookups now rather than on the first
    /// search (for tracegen's 97,000 pairs that first search paid a few
    /// milliseconds per block).
    pub fn prepare_lookups(&self) {
        self.find("");
        self.pair_id(0, 0);
    }

    /// The index of a string in the tables, if the block holds it.
    pub(crate) fn find(&self, s: &str) -> Option<u32> {
        if self.scan_only {
            return self
                .strings
                .texts()
                .position(|x| x.len() == s.len() && x == s)
                .map(|i| i as u32);
        }
        let map = self.lookup.get_or_init(|| {
            self.strings
                .texts()
                .enumerate()
                .map(|(i, s)| (Str::from(s), i as u32))
                .collect()
        });
        map.get(s).copied()
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
        ValueReader::new(self).string(c)
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
        ValueReader::new(self).kvs(c, depth)
    }

    pub(crate) fn value(&self, c: &mut Cursor<'_>, depth: u32) -> Result<Value, SegmentError> {
        ValueReader::new(self).value(c, depth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The address memo gives every string the index its text gets
    /// without it: slices sharing an address but not a length, the same
    /// text at other addresses, and more strings than the memo has slots.
    #[test]
    fn the_address_memo_agrees_with_the_text() {
        static TEXT: &str = "attr_12 attr_1 val";
        let owned: Vec<String> = (0..2000).map(|i| format!("s{}", i % 700)).collect();
        let mut inputs: Vec<&str> = vec![&TEXT[..7], &TEXT[..6], &TEXT[8..14], &TEXT[..7]];
        for (i, o) in owned.iter().enumerate() {
            inputs.push(o);
            inputs.push(&TEXT[..1 + i % 18]);
        }
        let mut memo = TableBuilder::for_batch();
        let mut plain = TableBuilder::default();
        for s in &inputs {
            assert_eq!(memo.key_string(s), plain.key_string(s), "{s:?}");
        }
        assert_eq!(memo.strings(), plain.strings());
        assert_eq!(
            memo.key_string(&TEXT[..6]),
            memo.key_string(&TEXT[8..14]),
            "same text"
        );
    }

    /// Pair IDs are given in order of first appearance and each tag notes
    /// its own pair, whether the value's slot, a key's row or the map
    /// answers: tracegen's cycle (every value with every key) next to a
    /// key whose values are scattered far apart in the string table.
    #[test]
    fn each_tag_notes_its_own_pair_in_first_appearance_order() {
        let mut b = TableBuilder::for_block();
        let keys: Vec<String> = (0..97).map(|k| format!("attr_{k:02}")).collect();
        let values: Vec<String> = (0..1000).map(|v| format!("val_{v:03}")).collect();
        let mut expected_order: Vec<(String, String)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let (mut codes, mut strings, mut vals, mut inline) = (vec![], vec![], vec![], vec![]);
        let mut c = 0usize;
        for span in 0..30_000usize {
            let mut kvs = Vec::new();
            for _ in 0..11 {
                kvs.push((keys[c % 97].clone(), values[c % 1000].clone()));
                c += 1;
            }
            // A sparse key: a fresh value every span, so its values are
            // spread over the whole table.
            kvs.push(("sparse".to_string(), format!("s{}", span / 3)));
            let tags: Vec<KeyValue> = kvs
                .iter()
                .map(|(k, v)| KeyValue::string(k.as_str(), v.as_str()))
                .collect();
            b.put_tags_v2(&mut codes, &mut strings, &mut vals, &mut inline, &tags);
            let mut want: Vec<u32> = Vec::new();
            for (k, v) in &kvs {
                if seen.insert((k.clone(), v.clone())) {
                    expected_order.push((k.clone(), v.clone()));
                }
                let pair = u64::from(b.lookup(k).expect("key")) << 32
                    | u64::from(b.lookup(v).expect("value"));
                want.push(b.tag_index.as_ref().expect("a block builder").pairs[&pair]);
            }
            want.sort_unstable();
            want.dedup();
            assert_eq!(b.take_noted(), want, "span {span}");
        }
        let ix = b.tag_index.as_ref().expect("a block builder");
        let order: Vec<(String, String)> = ix
            .pair_order
            .iter()
            .map(|&p| {
                let s = b.strings();
                (
                    s[(p >> 32) as usize].to_string(),
                    s[p as u32 as usize].to_string(),
                )
            })
            .collect();
        assert_eq!(order, expected_order);
    }
}
