//! Both merges on the same inputs: the transcoding one must store the
//! very bytes the decoding one stores, and fail without storing anything
//! when an input page does not read.

use std::collections::HashSet;
use std::sync::Arc;

use clew_model::{KeyValue, Log, Process, Reference, Span, SpanId, TraceId, Value};
use clew_segment::{BlockOptions, EncodedBlock, group_by_trace, write_block};
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use super::{decoded, raw, shared_traces, transcodable};
use crate::disk::block::{Block, BlockError, block_path};

const T0: u64 = 1_700_000_000_000_000_000;

/// splitmix64, so every run builds the same spans.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n
    }
}

/// Spans of `traces` traces spread over `inputs` inputs (so many traces
/// are in several), with one-off strings (written in place) in tags, logs
/// and links, repeated ones, non-string values and parents within and
/// across inputs.
fn spans(seed: u64, traces: u64, inputs: usize) -> Vec<Vec<Span>> {
    let mut rng = Rng(seed);
    let procs: Vec<Arc<Process>> = (0..3)
        .map(|i| {
            Arc::new(Process {
                service_name: format!("svc{i}").into(),
                tags: vec![KeyValue::string("host", format!("h{i}"))],
            })
        })
        .collect();
    let mut out = vec![Vec::new(); inputs];
    for t in 0..traces {
        let id = TraceId::new(seed, t + 1);
        let n = 1 + rng.below(6);
        for i in 0..n {
            let p = procs[rng.below(3) as usize].clone();
            let mut s = Span::new(id, SpanId(i + 1), format!("op{}", rng.below(4)), p);
            let scale = if t % 5 == 0 { 1 } else { 1000 };
            s.start_time = T0 + (t * 50 + rng.below(200)) * scale;
            s.duration = (1 + rng.below(1000)) * scale;
            if i > 0 {
                s.references = vec![Reference::child_of(id, SpanId(rng.below(i) + 1))];
            }
            s.tags = vec![
                KeyValue::string("span.kind", ["server", "client"][rng.below(2) as usize]),
                KeyValue::string("sql", format!("select {} from t{}", rng.below(1 << 40), t)),
                KeyValue::string("route", format!("/r{}", rng.below(5))),
                KeyValue::i64("n", rng.below(100) as i64),
            ];
            if rng.below(4) == 0 {
                s.tags.push(KeyValue::new(
                    "list",
                    Value::Array(vec![Value::Str(format!("/r{}", rng.below(5)).into())]),
                ));
            }
            if rng.below(3) == 0 {
                s.logs.push(Log {
                    timestamp: s.start_time + 1,
                    fields: vec![
                        KeyValue::string("event", format!("e{}", rng.below(1 << 30))),
                        KeyValue::bool("retry", true),
                    ],
                });
            }
            if rng.below(5) == 0 {
                let mut link = Reference::follows_from(TraceId::new(seed, 999), SpanId(7));
                link.tags = vec![KeyValue::string("why", format!("w{}", rng.below(1 << 20)))];
                s.references.push(link);
            }
            out[rng.below(inputs as u64) as usize].push(s);
        }
    }
    out
}

/// Stores each input as a block; answers them as compaction sees them.
async fn store_inputs(
    objects: &Arc<dyn ObjectStore>,
    inputs: Vec<Vec<Span>>,
    page_spans: usize,
) -> Vec<Arc<Block>> {
    let opts = BlockOptions {
        page_spans,
        ..BlockOptions::default()
    };
    let mut out = Vec::new();
    for (n, spans) in inputs.into_iter().enumerate() {
        let EncodedBlock { bytes, index, .. } = write_block(group_by_trace(spans), &opts);
        let path = block_path(&index, n as u64 + 1);
        let size = bytes.len() as u64;
        objects.put(&path, bytes.into()).await.expect("put");
        out.push(Arc::new(Block::new(n as u64 + 1, path, size, index)));
    }
    out
}

async fn writing() -> tokio::sync::OwnedRwLockReadGuard<()> {
    Arc::new(tokio::sync::RwLock::new(())).read_owned().await
}

fn out_opts(page_spans: usize) -> BlockOptions {
    BlockOptions {
        page_spans,
        zstd_level: 9,
        level: 1,
        ..BlockOptions::default()
    }
}

/// Merges `inputs` both ways; answers the two stored files.
async fn merge_both_ways(
    objects: &Arc<dyn ObjectStore>,
    inputs: &[Arc<Block>],
    page_spans: usize,
) -> (Vec<u8>, Vec<u8>) {
    let shared = shared_traces(objects.as_ref(), inputs).await.expect("ids");
    let (a, b) = (Path::from("merged/decoded"), Path::from("merged/raw"));
    let opts = out_opts(page_spans);
    decoded::merge(
        objects,
        inputs,
        &shared,
        opts.clone(),
        a.clone(),
        writing().await,
    )
    .await
    .expect("decoded merge");
    raw::merge(objects, inputs, shared, opts, b.clone(), writing().await)
        .await
        .expect("transcoded merge");
    let get = |p: Path| async move {
        let got = objects.get(&p).await.expect("stored");
        got.bytes().await.expect("bytes").to_vec()
    };
    (get(a).await, get(b).await)
}

#[tokio::test]
async fn the_transcoded_merge_stores_the_bytes_the_decoded_merge_stores() {
    for (seed, traces, inputs, page_in, page_out) in [
        (1, 40, 3, 7, 16),
        (2, 120, 4, 32, 8192),
        (3, 60, 2, 1, 5),
        (4, 200, 5, 50, 64),
    ] {
        let objects: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let blocks = store_inputs(&objects, spans(seed, traces, inputs), page_in).await;
        assert!(blocks.iter().all(|b| transcodable(&b.index)));
        let shared = shared_traces(objects.as_ref(), &blocks).await.expect("ids");
        assert!(
            shared.len() > traces as usize / 4,
            "seed {seed}: traces in several inputs"
        );
        let (decoded, transcoded) = merge_both_ways(&objects, &blocks, page_out).await;
        assert!(
            decoded == transcoded,
            "seed {seed}: the merged blocks differ"
        );
        let back = clew_segment::decode_block(&transcoded).expect("decodes");
        let ids: HashSet<TraceId> = back.traces.iter().map(|t| t.id).collect();
        assert_eq!(ids.len(), back.traces.len(), "each trace stored once");
        assert_eq!(ids.len() as u64, traces);
    }
}

#[tokio::test]
async fn a_page_that_does_not_read_fails_the_merge_and_stores_nothing() {
    let objects: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let blocks = store_inputs(&objects, spans(9, 40, 2), 8).await;
    let shared = shared_traces(objects.as_ref(), &blocks).await.expect("ids");
    // Corrupt the last page of the second input after its trace IDs were
    // read (and cached), as a disk error between the two would.
    let b = &blocks[1];
    let page = b.index.pages.last().expect("a page").section.range();
    let mut bytes = objects
        .get(&b.path)
        .await
        .expect("get")
        .bytes()
        .await
        .expect("bytes")
        .to_vec();
    bytes[page.end as usize - 1] ^= 0xff;
    objects.put(&b.path, bytes.into()).await.expect("put");
    let path = Path::from("merged/raw");
    let got = raw::merge(
        &objects,
        &blocks,
        shared,
        out_opts(16),
        path.clone(),
        writing().await,
    )
    .await;
    assert!(
        matches!(
            got,
            Err(BlockError::Format(clew_segment::SegmentError::Checksum(_)))
        ),
        "{:?}",
        got.err()
    );
    assert!(objects.head(&path).await.is_err(), "nothing stored");
}
