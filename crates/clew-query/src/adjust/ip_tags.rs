//! Old clients sent IPv4 addresses as a packed integer (`ip=167772161`);
//! the UI shows them dotted (`10.0.0.1`), as Jaeger's IP tag adjuster does.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use clew_model::{KeyValue, Process, Trace, Value};

/// Tag keys that hold an IPv4 address.
const IP_KEYS: [&str; 2] = ["ip", "peer.ipv4"];

/// The address a packed IP tag holds, if `kv` is one.
fn packed(kv: &KeyValue) -> Option<u32> {
    if !IP_KEYS.contains(&&*kv.key) {
        return None;
    }
    match kv.value {
        // Java clients sent the address as a signed 32-bit int.
        Value::I64(v) => Some(v as u32),
        Value::F64(v) if v.fract() == 0.0 && v >= 0.0 && v <= f64::from(u32::MAX) => Some(v as u32),
        _ => None,
    }
}

fn normalise(kvs: &mut [KeyValue]) {
    for kv in kvs.iter_mut() {
        if let Some(ip) = packed(kv) {
            kv.value = Value::Str(Ipv4Addr::from(ip).to_string().into());
        }
    }
}

/// Rewrites packed `ip` / `peer.ipv4` tags of spans and processes.
pub fn adjust(trace: &mut Trace) {
    let mut fixed: HashMap<*const Process, Arc<Process>> = HashMap::new();
    for span in &mut trace.spans {
        normalise(&mut span.tags);
        let key = Arc::as_ptr(&span.process);
        if let Some(p) = fixed.get(&key) {
            span.process = p.clone();
            continue;
        }
        // Copied only when it has a tag to rewrite (almost never).
        let new = if span.process.tags.iter().any(|kv| packed(kv).is_some()) {
            let mut p = (*span.process).clone();
            normalise(&mut p.tags);
            Arc::new(p)
        } else {
            span.process.clone()
        };
        fixed.insert(key, new.clone());
        span.process = new;
    }
}

#[cfg(test)]
mod tests {
    use clew_model::{KeyValue, Trace, Value};

    use super::*;
    use crate::adjust::fixtures::span;

    #[test]
    fn packed_ips_become_dotted() {
        let mut s = span(1, "svc", None);
        s.tags = vec![
            KeyValue::i64("peer.ipv4", 0x0a00_0001),
            KeyValue::i64("other", 5),
            KeyValue::string("ip", "1.2.3.4"),
        ];
        let mut p = (*s.process).clone();
        p.tags = vec![KeyValue::i64("ip", -1_062_731_774)]; // 192.168.0.2 as signed int32
        s.process = Arc::new(p);
        let mut trace = Trace {
            spans: vec![s],
            warnings: vec![],
        };
        adjust(&mut trace);
        let s = &trace.spans[0];
        assert_eq!(s.tags[0].value, Value::Str("10.0.0.1".into()));
        assert_eq!(s.tags[1].value, Value::I64(5));
        assert_eq!(s.tags[2].value, Value::Str("1.2.3.4".into()));
        assert_eq!(s.process.tags[0].value, Value::Str("192.168.0.2".into()));
    }

    #[test]
    fn a_process_without_packed_ips_is_shared_not_copied() {
        let mut s = span(1, "svc", None);
        let mut p = (*s.process).clone();
        p.tags = vec![KeyValue::string("ip", "10.0.0.1"), KeyValue::i64("pid", 7)];
        let process = Arc::new(p);
        s.process = process.clone();
        let mut trace = Trace {
            spans: vec![s],
            warnings: vec![],
        };
        adjust(&mut trace);
        assert!(Arc::ptr_eq(&trace.spans[0].process, &process));
        assert_eq!(trace.spans[0].process.tags[1].value, Value::I64(7));
    }
}
