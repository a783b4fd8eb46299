//! Zipkin's shared-span RPC model gives the client and the server side of a
//! call the same span ID. The UI needs unique IDs to build the tree, so the
//! server side gets a fresh ID, becomes the client span's child, and the
//! server's children (which pointed at the shared ID) follow it.

use std::collections::{HashMap, HashSet};

use clew_model::{Reference, Span, SpanId, Trace};

/// Makes server spans that share their ID with a client span unique.
pub fn adjust(trace: &mut Trace) {
    // Each span's kind, read once (it is a scan of the span's tags).
    let mut servers: Vec<bool> = Vec::with_capacity(trace.spans.len());
    let mut client_ids: Vec<SpanId> = Vec::new();
    for s in &trace.spans {
        let kind = s.kind_tag();
        servers.push(kind == "server");
        if kind == "client" {
            client_ids.push(s.span_id);
        }
    }
    client_ids.sort_unstable();
    // Nearly always no server span shares its ID: nothing else to build.
    let shared =
        |(s, server): (&Span, &bool)| *server && client_ids.binary_search(&s.span_id).is_ok();
    if !trace.spans.iter().zip(&servers).any(shared) {
        return;
    }
    let client_ids: HashSet<SpanId> = client_ids.into_iter().collect();
    let mut used: HashSet<SpanId> = trace.spans.iter().map(|s| s.span_id).collect();
    let mut next = trace.spans.iter().map(|s| s.span_id.0).max().unwrap_or(0);
    let mut renamed: HashMap<SpanId, SpanId> = HashMap::new();
    for (span, &server) in trace.spans.iter_mut().zip(&servers) {
        if !server || !client_ids.contains(&span.span_id) {
            continue;
        }
        let Some(new_id) = fresh_id(&mut next, &used) else {
            span.warnings
                .push("cannot assign unique span ID, too many spans in the trace".into());
            continue;
        };
        used.insert(new_id);
        let old = span.span_id;
        renamed.insert(old, new_id);
        set_parent(span, old);
        span.span_id = new_id;
    }
    if renamed.is_empty() {
        return;
    }
    for span in &mut trace.spans {
        let new_parent = span.parent_span_id().and_then(|p| renamed.get(&p).copied());
        // The renamed server span itself keeps the client as parent.
        if let Some(new_parent) = new_parent.filter(|np| *np != span.span_id) {
            set_parent(span, new_parent);
        }
    }
}

/// The next unused ID above `next`, skipping 0 after wrap-around; `None`
/// only if the whole space is exhausted.
fn fresh_id(next: &mut u64, used: &HashSet<SpanId>) -> Option<SpanId> {
    for _ in 0..=used.len() {
        *next = next.wrapping_add(1);
        let id = SpanId(*next);
        if !id.is_zero() && !used.contains(&id) {
            return Some(id);
        }
    }
    None
}

/// Points the span's parent reference at `parent` (or adds a CHILD_OF one).
fn set_parent(span: &mut Span, parent: SpanId) {
    let current = span.parent_span_id();
    let trace_id = span.trace_id;
    if let Some(r) = span
        .references
        .iter_mut()
        .find(|r| Some(r.span_id) == current && r.trace_id == trace_id)
    {
        r.span_id = parent;
    } else {
        span.references
            .insert(0, Reference::child_of(trace_id, parent));
    }
}

#[cfg(test)]
mod tests {
    use clew_model::{Reference, SpanId, Trace};

    use super::*;
    use crate::adjust::fixtures::{TID, span};

    #[test]
    fn shared_server_span_gets_new_id_and_children_follow() {
        let mut root = span(1, "fe", None);
        root.references.clear();
        let mut client = span(2, "fe", Some("client"));
        client.references.push(Reference::child_of(TID, SpanId(1)));
        // Zipkin shared span: server side carries the client's ID and parent.
        let mut server = span(2, "be", Some("server"));
        server.references.push(Reference::child_of(TID, SpanId(1)));
        let mut grandchild = span(3, "be", None);
        grandchild
            .references
            .push(Reference::child_of(TID, SpanId(2)));
        let mut trace = Trace {
            spans: vec![root, client, server, grandchild],
            warnings: vec![],
        };
        adjust(&mut trace);
        let s = &trace.spans;
        assert_eq!(s[1].span_id, SpanId(2), "client keeps its ID");
        assert_eq!(s[1].parent_span_id(), Some(SpanId(1)));
        assert_eq!(s[2].span_id, SpanId(4), "server gets max+1");
        assert_eq!(
            s[2].parent_span_id(),
            Some(SpanId(2)),
            "server is the client's child"
        );
        assert_eq!(
            s[3].parent_span_id(),
            Some(SpanId(4)),
            "server's child follows"
        );
    }

    #[test]
    fn server_without_shared_id_or_parent_is_untouched_or_gets_child_of() {
        let client = span(5, "fe", Some("client"));
        let server = span(5, "be", Some("server")); // no references at all
        let other = span(6, "be", Some("server"));
        let mut trace = Trace {
            spans: vec![client, server, other],
            warnings: vec![],
        };
        adjust(&mut trace);
        assert_eq!(trace.spans[1].span_id, SpanId(7));
        assert_eq!(
            trace.spans[1].references,
            vec![Reference::child_of(TID, SpanId(5))]
        );
        assert_eq!(trace.spans[2].span_id, SpanId(6));
    }
}
