//! Sorts span and process tags by key, and log fields by key with `event`
//! first, so the UI shows tags in a stable order and deduplication can
//! compare spans field by field.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use clew_model::{KeyValue, Process, Trace, keys};

/// The order of `str::cmp` (bytes, then length), compared byte by byte:
/// tag keys are short and differ early, and a call to `memcmp` per
/// comparison was most of what sorting every span's tags cost.
fn key_order(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    match a.iter().zip(b).find(|(x, y)| x != y) {
        Some((x, y)) => x.cmp(y),
        None => a.len().cmp(&b.len()),
    }
}

fn sort_by_key(kvs: &mut [KeyValue]) {
    kvs.sort_by(|a, b| key_order(&a.key, &b.key));
}

fn sort_log_fields(kvs: &mut [KeyValue]) {
    kvs.sort_by(|a, b| {
        let a_event = &*a.key != keys::EVENT;
        let b_event = &*b.key != keys::EVENT;
        a_event
            .cmp(&b_event)
            .then_with(|| key_order(&a.key, &b.key))
    });
}

/// Sorts tags and log fields of every span and process.
pub fn adjust(trace: &mut Trace) {
    // Processes are shared between spans: sort each distinct one once and
    // keep sharing the sorted copy.
    let mut sorted: HashMap<*const Process, Arc<Process>> = HashMap::new();
    for span in &mut trace.spans {
        sort_by_key(&mut span.tags);
        for log in &mut span.logs {
            sort_log_fields(&mut log.fields);
        }
        let key = Arc::as_ptr(&span.process);
        let replacement = sorted
            .entry(key)
            .or_insert_with(|| {
                // A process whose tags are in order already (as every
                // process once adjusted is) is shared as it is, not copied.
                if span
                    .process
                    .tags
                    .is_sorted_by(|a, b| key_order(&a.key, &b.key).is_le())
                {
                    return span.process.clone();
                }
                let mut p = (*span.process).clone();
                sort_by_key(&mut p.tags);
                Arc::new(p)
            })
            .clone();
        span.process = replacement;
    }
}

#[cfg(test)]
mod tests {
    use clew_model::{KeyValue, Log, Trace};

    use super::*;
    use crate::adjust::fixtures::span;

    #[test]
    fn tags_sorted_and_event_first_in_logs() {
        let mut s = span(1, "svc", None);
        s.tags = vec![KeyValue::string("z", "1"), KeyValue::string("a", "2")];
        s.logs.push(Log {
            timestamp: 0,
            fields: vec![
                KeyValue::string("message", "m"),
                KeyValue::string("event", "e"),
                KeyValue::string("a", "x"),
            ],
        });
        let mut p = (*s.process).clone();
        p.tags = vec![
            KeyValue::string("ip", "1"),
            KeyValue::string("hostname", "h"),
        ];
        s.process = Arc::new(p);
        let shared = s.process.clone();
        let mut s2 = span(2, "svc", None);
        s2.process = shared;
        let mut trace = Trace {
            spans: vec![s, s2],
            warnings: vec![],
        };
        adjust(&mut trace);
        let keys = |kvs: &[KeyValue]| kvs.iter().map(|k| k.key.to_string()).collect::<Vec<_>>();
        let s = &trace.spans[0];
        assert_eq!(keys(&s.tags), vec!["a", "z"]);
        assert_eq!(keys(&s.logs[0].fields), vec!["event", "a", "message"]);
        assert_eq!(keys(&s.process.tags), vec!["hostname", "ip"]);
        assert!(Arc::ptr_eq(
            &trace.spans[0].process,
            &trace.spans[1].process
        ));
    }

    #[test]
    fn a_process_already_in_order_is_shared_not_copied() {
        let mut s = span(1, "svc", None);
        let mut p = (*s.process).clone();
        p.tags = vec![
            KeyValue::string("hostname", "h"),
            KeyValue::string("ip", "1"),
        ];
        let sorted = Arc::new(p);
        s.process = sorted.clone();
        let mut trace = Trace {
            spans: vec![s],
            warnings: vec![],
        };
        adjust(&mut trace);
        assert!(Arc::ptr_eq(&trace.spans[0].process, &sorted));
    }

    #[test]
    fn key_order_is_str_order() {
        let keys = [
            "", "a", "ab", "b", "attr_1", "attr_10", "attr_2", "é", "z\u{0}", "z",
        ];
        for a in keys {
            for b in keys {
                assert_eq!(key_order(a, b), a.cmp(b), "{a:?} vs {b:?}");
            }
        }
    }
}
