//! Owned, compact copies of spans for stores that keep them in memory.
//!
//! Decoders hand out spans whose strings are slices of the request body
//! (zero-copy), so one stored span would keep its whole request body alive:
//! a 500-span, 1 MB batch stays resident until its *last* span is evicted,
//! and a byte limit that counts span sizes would not bound memory at all.
//! [`Compactor`] copies every string and binary value of a span into one
//! buffer owned by that span (one allocation per span), and every process
//! and scope once per batch, so what a store holds is exactly what it
//! counts ([`held_bytes`]), and eviction frees it.

use std::collections::HashMap;
use std::mem::size_of;
use std::sync::Arc;

use clew_model::{Bytes, KeyValue, Log, Process, Reference, Scope, Span, Str, Value};

/// One string or binary field of a span.
enum Slot<'a> {
    Str(&'a mut Str),
    Bin(&'a mut Bytes),
}

fn walk_value(v: &mut Value, f: &mut dyn FnMut(Slot<'_>)) {
    match v {
        Value::Str(s) => f(Slot::Str(s)),
        Value::Binary(b) => f(Slot::Bin(b)),
        Value::Array(items) => items.iter_mut().for_each(|x| walk_value(x, f)),
        Value::Map(kvs) => walk_kvs(kvs, f),
        Value::Bool(_) | Value::I64(_) | Value::F64(_) => {}
    }
}

fn walk_kvs(kvs: &mut [KeyValue], f: &mut dyn FnMut(Slot<'_>)) {
    for kv in kvs {
        f(Slot::Str(&mut kv.key));
        walk_value(&mut kv.value, f);
    }
}

/// Copies every slot `walk` visits into new buffers (one for text, one for
/// binary values, which are rare) and points the slots at them. The text
/// buffer is built as a `String` and sliced by `str` ranges, so nothing is
/// validated as UTF-8 again. Returns the bytes copied.
fn repack(walk: &mut impl FnMut(&mut dyn FnMut(Slot<'_>))) -> usize {
    let (mut text_len, mut bin_len) = (0usize, 0usize);
    // Inline strings (see `Str`) own their bytes already; only strings that
    // share a buffer — a request body — are copied.
    walk(&mut |slot| match slot {
        Slot::Str(s) if s.is_shared() => text_len += s.len(),
        Slot::Str(_) => {}
        Slot::Bin(b) => bin_len += b.len(),
    });
    if text_len == 0 && bin_len == 0 {
        return 0;
    }
    let mut text = String::with_capacity(text_len);
    let mut bin = Vec::with_capacity(bin_len);
    walk(&mut |slot| match slot {
        Slot::Str(s) if s.is_shared() => text.push_str(s),
        Slot::Str(_) => {}
        Slot::Bin(b) => bin.extend_from_slice(b),
    });
    let text = Str::from(text);
    let bin = Bytes::from(bin);
    let (mut at, mut bin_at) = (0usize, 0usize);
    walk(&mut |slot| match slot {
        Slot::Str(s) if s.is_shared() => {
            let len = s.len();
            // Each piece was a whole `str`, so its ends are boundaries.
            *s = text.slice_ref(&text[at..at + len]);
            at += len;
        }
        Slot::Str(_) => {}
        Slot::Bin(b) => {
            let len = b.len();
            *b = if len == 0 {
                Bytes::new()
            } else {
                bin.slice(bin_at..bin_at + len)
            };
            bin_at += len;
        }
    });
    text_len + bin_len
}

/// Re-homes the strings of a batch's spans, sharing one compact copy of
/// each process and scope among the spans that shared the original.
#[derive(Default)]
pub(crate) struct Compactor {
    processes: HashMap<*const Process, Arc<Process>>,
    scopes: HashMap<*const Scope, Arc<Scope>>,
}

impl Compactor {
    /// `span` with every string in a buffer of its own (processes and
    /// scopes compacted once per batch), and the bytes it now holds.
    pub(crate) fn span(&mut self, mut span: Span) -> (Span, usize) {
        let strings = repack(&mut |f: &mut dyn FnMut(Slot<'_>)| {
            f(Slot::Str(&mut span.operation_name));
            walk_kvs(&mut span.tags, f);
            for log in &mut span.logs {
                walk_kvs(&mut log.fields, f);
            }
            for r in &mut span.references {
                walk_kvs(&mut r.tags, f);
            }
        });
        let key = Arc::as_ptr(&span.process);
        let process = match self.processes.get(&key) {
            Some(p) => p.clone(),
            None => {
                let mut p = (*span.process).clone();
                repack(&mut |f: &mut dyn FnMut(Slot<'_>)| {
                    f(Slot::Str(&mut p.service_name));
                    walk_kvs(&mut p.tags, f);
                });
                let p = Arc::new(p);
                self.processes.insert(key, p.clone());
                p
            }
        };
        span.process = process;
        if let Some(scope) = &span.scope {
            let key = Arc::as_ptr(scope);
            let compact = match self.scopes.get(&key) {
                Some(s) => s.clone(),
                None => {
                    let mut s = (**scope).clone();
                    repack(&mut |f: &mut dyn FnMut(Slot<'_>)| walk_kvs(&mut s.attributes, f));
                    let s = Arc::new(s);
                    self.scopes.insert(key, s.clone());
                    s
                }
            };
            span.scope = Some(compact);
        }
        let held = held_bytes(&span, strings);
        (span, held)
    }
}

fn kvs_bytes(kvs: &Vec<KeyValue>) -> usize {
    kvs.capacity() * size_of::<KeyValue>()
        + kvs
            .iter()
            .map(|kv| match &kv.value {
                Value::Array(items) => items.capacity() * size_of::<Value>(),
                Value::Map(m) => kvs_bytes(m),
                _ => 0,
            })
            .sum::<usize>()
}

/// What a compacted span holds on the heap: the span itself, its vectors'
/// capacities, its string buffer (`strings` bytes plus the buffer's header),
/// and its process and scope counted in full (shared ones are counted once
/// per span, an overestimate that keeps the figure an upper bound however
/// clients batch).
pub(crate) fn held_bytes(span: &Span, strings: usize) -> usize {
    size_of::<Span>()
        + strings
        + 64
        + kvs_bytes(&span.tags)
        + span.logs.capacity() * size_of::<Log>()
        + span
            .logs
            .iter()
            .map(|l| kvs_bytes(&l.fields))
            .sum::<usize>()
        + span.references.capacity() * size_of::<Reference>()
        + span
            .references
            .iter()
            .map(|r| kvs_bytes(&r.tags))
            .sum::<usize>()
        + span
            .warnings
            .iter()
            .map(|w| 24 + w.capacity())
            .sum::<usize>()
        + span.process.estimated_size()
        + span.scope.as_deref().map_or(0, Scope::estimated_size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clew_model::{SpanId, TraceId};

    #[test]
    fn compacted_spans_do_not_share_the_request_body() {
        let body = Bytes::from(vec![b'x'; 100_000]);
        let slice = |n: usize| Str::try_from(body.slice(0..n)).expect("ascii");
        let process = Arc::new(Process {
            service_name: slice(3),
            tags: vec![KeyValue {
                key: slice(4),
                value: Value::Str(slice(5)),
            }],
        });
        let mut span = Span::new(TraceId::new(0, 1), SpanId(2), slice(6), process.clone());
        span.tags.push(KeyValue {
            key: slice(1),
            value: Value::Binary(body.slice(0..7)),
        });
        let mut other = span.clone();
        other.span_id = SpanId(3);
        let mut c = Compactor::default();
        let (a, held) = c.span(span.clone());
        let (b, _) = c.span(other);
        assert_eq!(a, span, "same values");
        assert!(Arc::ptr_eq(&a.process, &b.process), "one process per batch");
        assert!(held < 2_000, "held {held} bytes");
        // Only the test's own handles keep the body now.
        drop((span, process));
        assert!(body.is_unique(), "no compacted value points into the body");
    }
}
