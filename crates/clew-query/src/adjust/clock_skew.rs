//! Clock-skew correction (reference §10): spans recorded on another host
//! than their parent are shifted so they sit inside the parent, assuming
//! symmetric network latency. Hosts are told apart by the process `ip` tag.
//!
//! Off by default (`max_delta == 0`, Jaeger's default): then this adjuster
//! does nothing at all, rather than adding Jaeger's "adjustment disabled"
//! warning to every skewed span.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use clew_model::{Span, SpanId, Trace, Value};

/// The host a span ran on, from its process `ip` tag ("" when unknown).
fn host_key(span: &Span) -> String {
    let Some(tag) = span.process.tags.iter().find(|t| &*t.key == "ip") else {
        return String::new();
    };
    match &tag.value {
        Value::Str(s) => s.to_string(),
        Value::I64(v) => Ipv4Addr::from(*v as u32).to_string(),
        Value::Binary(b) => match b.len() {
            4 => <[u8; 4]>::try_from(&b[..])
                .map_or_else(|_| String::new(), |a| Ipv4Addr::from(a).to_string()),
            16 => <[u8; 16]>::try_from(&b[..])
                .map_or_else(|_| String::new(), |a| Ipv6Addr::from(a).to_string()),
            _ => String::new(),
        },
        _ => String::new(),
    }
}

/// How far `child` must move (ns, signed) to fit its already adjusted parent.
fn skew(child: &Span, parent: &Span) -> i128 {
    let (cs, ps) = (i128::from(child.start_time), i128::from(parent.start_time));
    let (cd, pd) = (i128::from(child.duration), i128::from(parent.duration));
    if cs >= ps && cs + cd <= ps + pd {
        return 0;
    }
    if cd > pd {
        // Cannot fit: only make sure it does not start before the parent.
        return if cs < ps { ps - cs } else { 0 };
    }
    let latency = (pd - cd) / 2;
    ps + latency - cs
}

/// Go's `time.Duration` text for whole microsecond-or-finer deltas, enough
/// for warnings (`1.5ms`, `-2s`, `250ns`).
fn go_duration(ns: i128) -> String {
    let abs = ns.unsigned_abs();
    let sign = if ns < 0 { "-" } else { "" };
    let (value, unit) = match abs {
        0 => return "0s".into(),
        a if a < 1_000 => return format!("{sign}{a}ns"),
        a if a < 1_000_000 => (a as f64 / 1e3, "µs"),
        a if a < 1_000_000_000 => (a as f64 / 1e6, "ms"),
        a => (a as f64 / 1e9, "s"),
    };
    format!("{sign}{value}{unit}")
}

fn shift(span: &mut Span, delta: i128) {
    let apply = |t: u64| u64::try_from(i128::from(t) + delta).unwrap_or(0);
    span.start_time = apply(span.start_time);
    for log in &mut span.logs {
        log.timestamp = apply(log.timestamp);
    }
}

/// Corrects skew across hosts by at most `max_delta` nanoseconds; 0 disables.
pub fn adjust(trace: &mut Trace, max_delta: u64) {
    if max_delta == 0 {
        return;
    }
    let mut index: HashMap<SpanId, usize> = HashMap::with_capacity(trace.spans.len());
    for (i, s) in trace.spans.iter().enumerate() {
        if index.insert(s.span_id, i).is_some() {
            trace
                .warnings
                .push("duplicate span IDs; skipping clock skew adjustment".into());
            return;
        }
    }
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); trace.spans.len()];
    let mut roots = Vec::new();
    for (i, s) in trace.spans.iter().enumerate() {
        match s.parent_span_id().map(|p| index.get(&p).copied()) {
            Some(Some(p)) if p != i => children[p].push(i),
            Some(_) => roots.push(i),
            None => roots.push(i),
        }
    }
    let hosts: Vec<String> = trace.spans.iter().map(host_key).collect();
    // (span, parent, inherited (host, delta)); explicit stack: traces can be deep.
    let mut stack: Vec<(usize, Option<usize>, String, i128)> = roots
        .into_iter()
        .rev()
        .map(|r| (r, None, hosts[r].clone(), 0))
        .collect();
    while let Some((i, parent, mut host, mut delta)) = stack.pop() {
        let other_host = hosts[i].is_empty() || hosts[i] != host;
        if let Some(p) = parent.filter(|_| other_host) {
            host = hosts[i].clone();
            delta = skew(&trace.spans[i], &trace.spans[p]);
        }
        if delta != 0 {
            let span = &mut trace.spans[i];
            if delta.unsigned_abs() > u128::from(max_delta) {
                span.warnings.push(format!(
                    "max clock skew adjustment delta of {} exceeded; not applying calculated delta of {}",
                    go_duration(i128::from(max_delta)),
                    go_duration(delta)
                ));
            } else {
                shift(span, delta);
                span.warnings.push(format!(
                    "This span's timestamps were adjusted by {}",
                    go_duration(delta)
                ));
            }
        }
        for &c in children[i].iter().rev() {
            stack.push((c, Some(i), host.clone(), delta));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use clew_model::{KeyValue, Log, Process, Reference, SpanId, Trace};

    use super::*;
    use crate::adjust::fixtures::{TID, span};

    const MS: u64 = 1_000_000;

    fn on_host(mut s: Span, ip: &str, start_ms: u64, dur_ms: u64, parent: Option<u64>) -> Span {
        let mut p = (*s.process).clone();
        p.tags.push(KeyValue::string("ip", ip));
        s.process = Arc::new(p);
        s.start_time = 1_000_000 * MS + start_ms * MS;
        s.duration = dur_ms * MS;
        if let Some(parent) = parent {
            s.references.push(Reference::child_of(TID, SpanId(parent)));
        }
        s
    }

    fn trace() -> Trace {
        let root = on_host(span(1, "fe", None), "10.0.0.1", 0, 100, None);
        // Remote child starts 500 ms "before" its parent: skewed clock.
        let mut remote = on_host(span(2, "be", None), "10.0.0.2", 0, 40, Some(1));
        remote.start_time = 1_000_000 * MS - 500 * MS;
        remote.logs.push(Log {
            timestamp: remote.start_time + MS,
            fields: vec![],
        });
        // Same host as `remote`: inherits its delta.
        let mut local = on_host(span(3, "be", None), "10.0.0.2", 0, 10, Some(2));
        local.start_time = 1_000_000 * MS - 490 * MS;
        Trace {
            spans: vec![root, remote, local],
            warnings: vec![],
        }
    }

    #[test]
    fn disabled_by_default_changes_nothing() {
        let mut t = trace();
        let before = t.clone();
        adjust(&mut t, 0);
        assert_eq!(t, before);
    }

    #[test]
    fn remote_child_is_centred_in_parent_and_same_host_children_follow() {
        let mut t = trace();
        adjust(&mut t, 1_000 * MS);
        // Parent [0,100] ms, child 40 ms → latency 30 ms → child starts at 30 ms.
        let base = 1_000_000 * MS;
        assert_eq!(t.spans[1].start_time, base + 30 * MS);
        assert_eq!(t.spans[1].logs[0].timestamp, base + 31 * MS);
        assert_eq!(
            t.spans[1].warnings,
            vec!["This span's timestamps were adjusted by 530ms".to_string()]
        );
        assert_eq!(t.spans[2].start_time, base + 40 * MS);
        assert!(t.spans[0].warnings.is_empty());
    }

    #[test]
    fn deltas_over_the_maximum_only_warn() {
        let mut t = trace();
        adjust(&mut t, 100 * MS);
        assert_eq!(t.spans[1].start_time, 1_000_000 * MS - 500 * MS);
        assert_eq!(
            t.spans[1].warnings,
            vec!["max clock skew adjustment delta of 100ms exceeded; not applying calculated delta of 530ms".to_string()]
        );
    }

    #[test]
    fn duplicate_ids_skip_with_a_trace_warning() {
        let mut t = trace();
        t.spans.push(t.spans[0].clone());
        adjust(&mut t, 1_000 * MS);
        assert_eq!(
            t.warnings,
            vec!["duplicate span IDs; skipping clock skew adjustment".to_string()]
        );
        assert_eq!(t.spans[1].start_time, 1_000_000 * MS - 500 * MS);
    }

    #[test]
    fn packed_and_binary_ips_are_host_keys() {
        let mut s = span(1, "x", None);
        s.process = Arc::new(Process {
            service_name: "x".into(),
            tags: vec![KeyValue::i64("ip", 0x0a00_0001)],
        });
        assert_eq!(host_key(&s), "10.0.0.1");
        s.process = Arc::new(Process {
            service_name: "x".into(),
            tags: vec![KeyValue::binary("ip", vec![10u8, 0, 0, 2])],
        });
        assert_eq!(host_key(&s), "10.0.0.2");
    }
}
