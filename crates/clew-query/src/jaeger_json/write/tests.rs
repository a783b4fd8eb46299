//! The direct writer against the DTO path it replaces: same bytes.

use std::sync::Arc;

use clew_model::{
    Bytes, KeyValue, Log, Process, RefType, Reference, Span, SpanId, Trace, TraceId, Value,
};

use super::write_trace;
use crate::jaeger_json::{render_trace, to_go_json};

fn via_dtos(trace: &Trace) -> String {
    String::from_utf8(to_go_json(&render_trace(trace), false).expect("serialises")).expect("utf-8")
}

fn direct(trace: &Trace) -> String {
    let mut out = Vec::new();
    write_trace(&mut out, trace);
    String::from_utf8(out).expect("utf-8")
}

fn assert_same(trace: &Trace) {
    let (want, got) = (via_dtos(trace), direct(trace));
    assert_eq!(got, want);
    // And it is JSON.
    serde_json::from_str::<serde_json::Value>(&got).expect("valid JSON");
}

/// Text that needs every kind of escaping serde_json does, and some it
/// does not (`/`, non-ASCII, DEL).
const AWKWARD: &[&str] = &[
    "",
    "plain",
    "quote \" and backslash \\",
    "controls \u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1f}",
    "slash / and DEL \u{7f}",
    "non-ASCII é ü 漢字 🚀 \u{2028}\u{2029}",
    "</script><script>alert(1)</script>",
    "a string that is longer than twenty-three bytes, so it is shared",
];

const FLOATS: &[f64] = &[
    0.0,
    -0.0,
    1.5,
    42.0,
    0.1,
    -3.25,
    1e21,
    1e20,
    1e-7,
    1e-6,
    123_456_789.125,
    f64::MAX,
    f64::MIN_POSITIVE,
    5e-324,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
];

const INTS: &[i64] = &[
    0,
    1,
    -1,
    42,
    (1 << 53) - 1,
    1 << 53,
    -((1 << 53) - 1),
    -(1 << 53),
    i64::MAX,
    i64::MIN,
];

/// A small deterministic generator, so the cases vary but never flake.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn text(&mut self) -> &'static str {
        AWKWARD[self.below(AWKWARD.len())]
    }
}

fn value(rng: &mut Rng, depth: u32) -> Value {
    match rng.below(if depth > 1 { 5 } else { 7 }) {
        0 => Value::Str(rng.text().into()),
        1 => Value::Bool(rng.below(2) == 0),
        2 => Value::I64(INTS[rng.below(INTS.len())]),
        3 => Value::F64(FLOATS[rng.below(FLOATS.len())]),
        4 => {
            let n = rng.below(6);
            Value::Binary(Bytes::from(
                (0..n).map(|_| rng.next() as u8).collect::<Vec<u8>>(),
            ))
        }
        5 => Value::Array((0..rng.below(3)).map(|_| value(rng, depth + 1)).collect()),
        _ => Value::Map(key_values(rng, depth + 1, 3)),
    }
}

fn key_values(rng: &mut Rng, depth: u32, most: usize) -> Vec<KeyValue> {
    (0..rng.below(most + 1))
        .map(|_| KeyValue::new(rng.text(), value(rng, depth)))
        .collect()
}

fn trace_id(rng: &mut Rng) -> TraceId {
    let high = if rng.below(2) == 0 { 0 } else { rng.next() };
    TraceId::new(high, rng.next())
}

fn varied_trace(rng: &mut Rng) -> Trace {
    let tid = trace_id(rng);
    // Up to 12 processes, so keys `p10`, `p11`, `p12` sort before `p2`;
    // some equal in value but not shared.
    let processes: Vec<Arc<Process>> = (0..1 + rng.below(12))
        .map(|i| {
            Arc::new(Process {
                service_name: format!("svc-{}{}", i % 7, rng.text()).into(),
                tags: key_values(rng, 0, 3),
            })
        })
        .collect();
    let spans = (0..rng.below(8))
        .map(|i| {
            let p = processes[rng.below(processes.len())].clone();
            let p = if rng.below(4) == 0 {
                Arc::new((*p).clone())
            } else {
                p
            };
            let mut s = Span::new(tid, SpanId(rng.next()), rng.text(), p);
            s.flags = [0, 1, 2, 3, u32::MAX][rng.below(5)];
            s.start_time = rng.next() >> rng.below(64);
            s.duration = rng.next() >> rng.below(64);
            s.tags = key_values(rng, 0, 6);
            s.logs = (0..rng.below(3))
                .map(|_| Log {
                    timestamp: rng.next(),
                    fields: key_values(rng, 0, 3),
                })
                .collect();
            s.references = (0..rng.below(3))
                .map(|_| Reference {
                    ref_type: if rng.below(2) == 0 {
                        RefType::ChildOf
                    } else {
                        RefType::FollowsFrom
                    },
                    trace_id: if rng.below(3) == 0 {
                        trace_id(rng)
                    } else {
                        tid
                    },
                    span_id: SpanId(rng.next() >> rng.below(64)),
                    tags: Vec::new(),
                })
                .collect();
            s.warnings = (0..rng.below(3)).map(|_| rng.text().to_string()).collect();
            if i == 0 && rng.below(2) == 0 {
                s.span_id = SpanId(0);
            }
            s
        })
        .collect();
    Trace {
        spans,
        warnings: (0..rng.below(3)).map(|_| rng.text().to_string()).collect(),
    }
}

#[test]
fn varied_traces_write_the_bytes_the_dtos_serialise_to() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..3_000 {
        assert_same(&varied_trace(&mut rng));
    }
}

#[test]
fn an_empty_trace_writes_as_the_dtos() {
    assert_same(&Trace::default());
    assert_same(&Trace {
        spans: Vec::new(),
        warnings: vec!["w".into()],
    });
}

#[test]
fn every_awkward_string_float_and_integer_writes_as_the_dtos() {
    let p = Arc::new(Process::new("svc"));
    let mut s = Span::new(TraceId::new(1, 2), SpanId(3), "op", p);
    for t in AWKWARD {
        s.tags.push(KeyValue::string(*t, *t));
    }
    for &f in FLOATS {
        s.tags.push(KeyValue::f64("f", f));
    }
    for &i in INTS {
        s.tags.push(KeyValue::i64("i", i));
    }
    s.tags.push(KeyValue::binary("b", Bytes::from_static(b"")));
    s.tags
        .push(KeyValue::binary("b", Bytes::from_static(b"\x00\xff\x10")));
    let trace = Trace {
        spans: vec![s],
        warnings: Vec::new(),
    };
    assert_same(&trace);
}
