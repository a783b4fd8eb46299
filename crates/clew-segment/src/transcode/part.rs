//! Writing one source part of a trace into the page being encoded.

use clew_model::{KeyValue, Reference, SpanId};

use super::source::{Resolved, TablesRef, resolve, string_id, tag_string, text, text_of};
use super::{Dictionary, RawTrace, Transcoder, UNKNOWN, corrupt, dictionary, source};
use crate::SegmentError;
use crate::codec::Sink;
use crate::page::{
    PARENT_EXPLICIT, PARENT_INDEX_BASE, PARENT_NONE, S_DURATIONS, S_FLAGS, S_LOGS, S_OPERATIONS,
    S_PARENTS, S_PROCESSES, S_REFS, S_SCOPES, S_SPAN_IDS, S_STARTS, S_TAG_VALUES, S_TAGS,
    S_WARNINGS, parent_code, put_refs, read_refs,
};
use crate::streams::{S_INLINE_TAGS, S_TAG_STRINGS};
use crate::tables::{FastMap, Tables};

/// Block index of a dictionary's process or scope `i`, added to the
/// block's tables on first use.
fn remap<T>(
    map: &mut [u32],
    items: &[std::sync::Arc<T>],
    i: usize,
    add: impl FnOnce(&std::sync::Arc<T>) -> u32,
    what: &'static str,
) -> Result<u32, SegmentError> {
    match (map.get_mut(i), items.get(i)) {
        (Some(&mut known), _) if known != UNKNOWN => Ok(known),
        (Some(slot), Some(item)) => {
            *slot = add(item);
            Ok(*slot)
        }
        _ => Err(corrupt(what)),
    }
}

impl Transcoder<'_> {
    /// Writes the spans of part `(s, ti)` of `t` into the page's streams
    /// `st`, as `page::encode` writes them from the decoded spans.
    pub(super) fn encode_part(
        &mut self,
        st: &mut [Vec<u8>],
        t: &RawTrace,
        (s, ti): (u32, u32),
        unit: u64,
        page_first: u32,
        first_index: Option<&FastMap<u64, usize>>,
    ) -> Result<(), SegmentError> {
        let builder = &mut *self.tables;
        let src = source(self.sources, s)?;
        let tr = src.trace(ti)?;
        let Dictionary {
            tables,
            strings: smap,
            processes: pmap,
            scopes: scmap,
            ..
        } = dictionary(self.dicts, src.dict)?;
        let tables: &Tables = TablesRef::get(tables);
        let mut c = src.cursors(tr);
        let ids = c[S_SPAN_IDS];
        for _ in 0..tr.spans {
            let span_id = c[S_SPAN_IDS].u64()?;
            st[S_SPAN_IDS].put_u64(span_id);
            match (c[S_PARENTS].var()?, first_index) {
                (PARENT_NONE, _) => st[S_PARENTS].put_var(PARENT_NONE),
                // One source's spans only: the trace is the source's, so
                // is the index.
                (code, None) if code != PARENT_EXPLICIT => st[S_PARENTS].put_var(code),
                (code, fi) => {
                    let refs = if code == PARENT_EXPLICIT {
                        read_refs(&mut c[S_REFS], tables)?
                    } else {
                        // A parent by index in its source: by span ID in
                        // the merged trace.
                        let mut at = ids;
                        at.take(((code - PARENT_INDEX_BASE) as usize).saturating_mul(8))?;
                        vec![Reference::child_of(t.id, SpanId(at.u64()?))]
                    };
                    let code = fi.map_or(PARENT_EXPLICIT, |fi| parent_code(&refs, t.id, fi));
                    st[S_PARENTS].put_var(code);
                    if code == PARENT_EXPLICIT {
                        put_refs(&mut st[S_REFS], builder, &refs);
                    }
                }
            }
            let start = tr
                .start
                .saturating_add(c[S_STARTS].var()?.saturating_mul(src.unit));
            let duration = c[S_DURATIONS].var()?.saturating_mul(src.unit);
            st[S_STARTS].put_var((start - t.start) / unit);
            st[S_DURATIONS].put_var(duration / unit);
            let pi = c[S_PROCESSES].var()? as usize;
            let p = remap(
                pmap,
                &tables.processes,
                pi,
                |p| builder.process(p),
                "process index",
            )?;
            st[S_PROCESSES].put_var(u64::from(p));
            let op = string_id(smap, tables, c[S_OPERATIONS].var()?, builder)?;
            st[S_OPERATIONS].put_var(u64::from(op));
            st[S_FLAGS].put_var(c[S_FLAGS].var()?);
            let nt = c[S_TAGS].count(1)?;
            let mut codes = std::mem::take(&mut st[S_TAGS]);
            let mut strings = std::mem::take(&mut st[S_TAG_STRINGS]);
            let mut values = std::mem::take(&mut st[S_TAG_VALUES]);
            let mut inline = std::mem::take(&mut st[S_INLINE_TAGS]);
            codes.put_var(nt as u64);
            let mut deferred = builder.start_tags();
            for _ in 0..nt {
                let code = c[S_TAGS].var()?;
                let key = string_id(smap, tables, code >> 1, builder)?;
                match tag_string(&mut c, code)? {
                    Some(v) => match resolve(smap, tables, v, builder, page_first)? {
                        Resolved::Table(v) => {
                            builder.put_tag_string(&mut codes, &mut strings, key, v, &mut deferred)
                        }
                        Resolved::Inline => {
                            let value = text_of(tables, v)?;
                            let key_text = text(tables, code >> 1)?;
                            builder.put_tag_inline(
                                &mut codes,
                                &mut values,
                                &mut inline,
                                key,
                                key_text,
                                value,
                            );
                        }
                    },
                    None => {
                        let value = tables.value(&mut c[S_TAG_VALUES], 0)?;
                        let kv = KeyValue::new(text(tables, code >> 1)?, value);
                        builder.put_tag_other(&mut codes, &mut values, key, &kv);
                    }
                }
            }
            builder.finish_tags(deferred);
            st[S_TAGS] = codes;
            st[S_TAG_STRINGS] = strings;
            st[S_TAG_VALUES] = values;
            st[S_INLINE_TAGS] = inline;
            let nl = c[S_LOGS].count(2)?;
            st[S_LOGS].put_var(nl as u64);
            for _ in 0..nl {
                st[S_LOGS].put_zigzag(c[S_LOGS].zigzag()?);
                let fields = tables.kvs(&mut c[S_LOGS], 0)?;
                builder.put_kvs(&mut st[S_LOGS], &fields);
            }
            let scope = match c[S_SCOPES].var()? {
                0 => None,
                n => Some(remap(
                    scmap,
                    &tables.scopes,
                    (n - 1) as usize,
                    |sc| builder.scope(sc),
                    "scope index",
                )?),
            };
            st[S_SCOPES].put_var(scope.map_or(0, |s| u64::from(s) + 1));
            builder.note_process(p, scope);
            let nw = c[S_WARNINGS].count(1)?;
            st[S_WARNINGS].put_var(nw as u64);
            for _ in 0..nw {
                let id = string_id(smap, tables, c[S_WARNINGS].var()?, builder)?;
                st[S_WARNINGS].put_var(u64::from(id));
            }
        }
        Ok(())
    }
}
