//! The binary format read back by a small decoder, and the golden body the
//! UI's own decoder is tested against (`ui/test/data/ui-trace-v3.bin`,
//! read by `ui/test/binary.test.ts`), so both sides agree on every byte.

use std::sync::Arc;

use clew_model::{Log, Process, Reference, Span, SpanId, TraceId};

use super::*;

/// The header and each column's bytes, by name.
fn decode(body: &[u8]) -> (Json, HashMap<String, (String, Vec<u8>)>) {
    assert_eq!(&body[..8], MAGIC);
    let len = u32::from_le_bytes(body[8..12].try_into().expect("4 bytes")) as usize;
    assert_eq!((12 + len) % 8, 0, "columns start aligned");
    let header: Json = serde_json::from_slice(&body[12..12 + len]).expect("header JSON");
    let mut off = 12 + len;
    let mut cols = HashMap::new();
    for c in header["columns"].as_array().expect("columns") {
        let (name, ty) = (c[0].as_str().expect("name"), c[1].as_str().expect("type"));
        let count = c[2].as_u64().expect("count") as usize;
        let size = count
            * match ty {
                "u8" | "json" => 1,
                "u32" | "i32" => 4,
                _ => 8,
            };
        assert_eq!(off % 8, 0, "{name} aligned");
        cols.insert(
            name.to_string(),
            (ty.to_string(), body[off..off + size].to_vec()),
        );
        off = (off + size).next_multiple_of(8);
    }
    assert_eq!(off, body.len(), "nothing after the last column");
    (header, cols)
}

fn u32s(b: &[u8]) -> Vec<u32> {
    b.chunks(4)
        .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
        .collect()
}

fn f64s(b: &[u8]) -> Vec<f64> {
    b.chunks(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect()
}

/// Two spans, one child with an error tag, an int tag, a log and a
/// FOLLOWS_FROM reference to a span that is not in the trace.
pub(super) fn sample() -> Trace {
    let t = TraceId::new(0, 0xab);
    let p = Arc::new(Process {
        service_name: "svc".into(),
        tags: vec![KeyValue::string("host", "h1")],
    });
    let mut root = Span::new(t, SpanId(1), "root", p.clone());
    root.start_time = 1_000_000;
    root.duration = 5_000_000;
    let mut child = Span::new(t, SpanId(0x1_0000_0002), "child \"q\"", p);
    child.start_time = 2_000_000;
    child.duration = 1_000_000;
    child.references.push(Reference::child_of(t, SpanId(1)));
    child.references.push(Reference::follows_from(t, SpanId(9)));
    child.tags.push(KeyValue::bool("error", true));
    child.tags.push(KeyValue::i64("n", 7));
    child.logs.push(Log {
        timestamp: 2_500_000,
        fields: vec![
            KeyValue::string("event", "svc"),
            KeyValue::string("note", "late"),
        ],
    });
    Trace {
        spans: vec![root, child],
        warnings: vec![],
    }
}

#[test]
fn renders_aligned_columns_split_strings_parents_and_refs() {
    let (h, cols) = decode(&render(&sample()));
    assert_eq!(h["format"], FORMAT);
    assert_eq!(h["traceID"], "00000000000000ab");
    assert_eq!(h["startTime"], 1000);
    assert_eq!(h["spanCount"], 2);
    let col = |name: &str| cols.get(name).map(|c| c.1.clone()).expect("column present");
    assert_eq!(u32s(&col("parent")), vec![u32::MAX, 0]);
    assert_eq!(f64s(&col("start")), vec![0.0, 1000.0]);
    assert_eq!(f64s(&col("duration")), vec![5000.0, 1000.0]);
    assert_eq!(u32s(&col("spanID")), vec![0, 1, 1, 2]);
    assert_eq!(col("flags")[1] & 1, 1, "child is an error");
    // The header holds the tree's strings; the rest come at the end.
    let head: Vec<String> = serde_json::from_value(h["strings"].clone()).expect("strings");
    let rest: Vec<String> = serde_json::from_slice(&col("strings")).expect("json column");
    let all: Vec<String> = head.iter().chain(&rest).cloned().collect();
    let ops = u32s(&col("operation"));
    assert!((ops[1] as usize) < head.len());
    assert_eq!(all[ops[1] as usize], "child \"q\"");
    assert_eq!(
        all[h["processes"][0]["service"].as_u64().expect("index") as usize],
        "svc"
    );
    assert!(
        head.contains(&"h1".to_string()),
        "process tags in the header"
    );
    assert!(rest.contains(&"late".to_string()), "log values at the end");
    // error=true, n=7 on span 1.
    assert_eq!(u32s(&col("tagStart")), vec![0, 0, 2]);
    assert_eq!(col("tagType"), vec![1, 2]);
    assert_eq!(f64s(&col("tagValue")), vec![1.0, 7.0]);
    assert_eq!(all[u32s(&col("tagKey"))[1] as usize], "n");
    assert_eq!(u32s(&col("logStart")), vec![0, 0, 1]);
    assert_eq!(f64s(&col("logTime")), vec![1500.0]);
    assert_eq!(u32s(&col("logFieldStart")), vec![0, 2]);
    assert_eq!(all[f64s(&col("logValue"))[1] as usize], "late");
    assert_eq!(h["refs"]["1"][0][0], 1);
    assert_eq!(h["refs"]["1"][0][2], "0000000000000009");
}

#[test]
fn an_empty_trace_renders_empty_columns() {
    let (h, cols) = decode(&render(&Trace {
        spans: vec![],
        warnings: vec!["w".into()],
    }));
    assert_eq!(h["spanCount"], 0);
    assert_eq!(h["warnings"][0], "w");
    assert_eq!(cols["tagStart"].1, vec![0, 0, 0, 0], "one offset");
    assert!(cols["parent"].1.is_empty());
}

/// The UI's decoder test reads this file; `CLEW_BLESS=1` rewrites it after
/// a deliberate format change.
#[test]
fn golden_body_for_the_ui_decoder() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/test/data/ui-trace-v3.bin");
    let body = render(&sample());
    if std::env::var_os("CLEW_BLESS").is_some() {
        std::fs::write(&path, &body).expect("write golden");
    }
    let golden = std::fs::read(&path).expect("golden file present (CLEW_BLESS=1 writes it)");
    assert!(
        golden == body,
        "the format changed: rerun with CLEW_BLESS=1 and update ui/test/binary.test.ts"
    );
}
