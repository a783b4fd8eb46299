//! Full-disk story: the data directory lives on a small tmpfs made by the
//! test, partly taken by a ballast file (something else filling the disk).
//! The store ingests until the disk is full and must then
//! - answer writes with a clear, retryable store error (no panic, no
//!   half-written record in front of later ones),
//! - keep serving everything it acknowledged, while full and after a restart,
//! - accept writes again once the ballast is deleted, with background cuts
//!   that failed meanwhile catching up.
//!
//! Mounting needs root (CI and the dev machine run as root); without it the
//! test says "skipped" on stderr and why.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use clew_model::{KeyValue, Process, Reference, Span, SpanId, TraceId};
use clew_store::{DiskStore, DiskStoreConfig, StoreError, TraceReader, TraceWriter, WalSync};

const TMPFS_SIZE: &str = "8m";
const BALLAST_BYTES: usize = 4 << 20;
const TRACES_PER_BATCH: u64 = 10;
const SPANS_PER_TRACE: u64 = 10;

/// A tmpfs mounted on a fresh temporary directory, unmounted on drop (also
/// when an assertion fails), so a failed run leaves no mount behind.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts one, or says why it cannot.
    fn mount(size: &str) -> Result<Tmpfs, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(self.dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            // Files still open (a store leaked by a panic): detach lazily.
            let _ = Command::new("umount")
                .arg("-l")
                .arg(self.dir.path())
                .status();
        }
    }
}

fn config(dir: &Path) -> DiskStoreConfig {
    let mut c = DiskStoreConfig::new(dir);
    c.wal_sync = WalSync::Always;
    // Cuts and compactions run (and fail, once the disk is full) in the
    // background; the backlog limit (4 × head_max_spans) is far above what
    // the disk holds, so the WAL is what meets the full disk first.
    c.head_max_spans = 10_000;
    c.compaction_min_blocks = 2;
    c.page_spans = 256;
    c.maintenance_interval = Some(Duration::from_millis(20));
    c.retention = None;
    c
}

fn trace_id(batch: u64, t: u64) -> TraceId {
    TraceId::new(0xd15c, batch * TRACES_PER_BATCH + t + 1)
}

/// Incompressible text, so the disk fills after a few hundred batches
/// rather than thousands.
fn noise(seed: u64) -> String {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..12)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            format!("{x:016x}")
        })
        .collect()
}

fn batch(n: u64, process: &Arc<Process>) -> Vec<Span> {
    let mut spans = Vec::new();
    for t in 0..TRACES_PER_BATCH {
        let id = trace_id(n, t);
        for i in 0..SPANS_PER_TRACE {
            let mut s = Span::new(id, SpanId(i + 1), format!("op-{i}"), process.clone());
            s.start_time = 1_700_000_000_000_000_000 + (n * 1000 + i) * 1_000_000;
            s.duration = 1_000_000;
            s.tags
                .push(KeyValue::string("payload", noise(n * 1_000 + t * 10 + i)));
            if i > 0 {
                s.references.push(Reference::child_of(id, SpanId(1)));
            }
            spans.push(s);
        }
    }
    spans
}

/// Every batch in `acked` comes back exactly once: 10 spans per trace.
async fn assert_all_returned(store: &DiskStore, acked: &[u64], when: &str) {
    for &n in acked {
        for t in 0..TRACES_PER_BATCH {
            let got = store.get_trace(trace_id(n, t)).await.expect("get_trace");
            let count = got.map_or(0, |t| t.spans.len() as u64);
            assert_eq!(
                count, SPANS_PER_TRACE,
                "{when}: batch {n} trace {t} lost or duplicated"
            );
        }
    }
}

fn is_disk_full(e: &StoreError) -> bool {
    let text = e.to_string();
    matches!(e, StoreError::Unavailable(_) | StoreError::Io(_))
        && (text.contains("os error 28") || text.contains("No space left"))
}

fn ballast(dir: &Path) -> PathBuf {
    let path = dir.join("ballast");
    std::fs::write(&path, vec![0x5a; BALLAST_BYTES]).expect("write ballast");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_fails_writes_cleanly_keeps_acknowledged_spans_and_recovers() {
    let fs = match Tmpfs::mount(TMPFS_SIZE) {
        Ok(fs) => fs,
        Err(why) => {
            eprintln!("skipped: full-disk test needs a tmpfs mount (root): {why}");
            return;
        }
    };
    let ballast = ballast(fs.path());
    let data = fs.path().join("clew-data");
    let p = Arc::new(Process {
        service_name: "full-disk".into(),
        tags: vec![],
    });

    // 1. Ingest until the disk is full; every acknowledged batch is noted.
    let store = DiskStore::open(config(&data)).await.expect("open");
    let mut acked = Vec::new();
    let mut failures = Vec::new();
    let mut n = 0u64;
    while failures.len() < 5 {
        assert!(n < 5_000, "{TMPFS_SIZE} tmpfs never filled up");
        match store.write_spans(batch(n, &p)).await {
            Ok(()) => acked.push(n),
            Err(e) => failures.push(e),
        }
        n += 1;
    }
    assert!(acked.len() > 20, "the disk should hold many batches first");
    eprintln!(
        "{} batches acknowledged before the disk filled; first error: {}",
        acked.len(),
        failures[0]
    );
    for e in &failures {
        assert!(is_disk_full(e), "a full disk should say so: {e}");
    }
    let stats = store.persistence_stats().expect("disk store stats");
    assert!(stats.wal_write_errors >= 1, "{stats:?}");
    // A cut while full fails with an error or succeeds; either way nothing
    // acknowledged is lost.
    let _ = store.flush().await;
    assert_all_returned(&store, &acked, "while the disk is full").await;

    // 2. Restart while still full: whatever open answers, it must not
    //    panic; if it opens, everything acknowledged is served.
    store.close().await;
    drop(store);
    match DiskStore::open(config(&data)).await {
        Ok(s) => {
            assert_all_returned(&s, &acked, "after a restart on a full disk").await;
            s.close().await;
        }
        Err(e) => eprintln!("restart on the full disk refused to open: {e}"),
    }

    // 3. Space comes back: writes resume and the failed cuts catch up.
    std::fs::remove_file(&ballast).expect("delete ballast");
    let store = DiskStore::open(config(&data))
        .await
        .expect("open once space is free");
    let resumed: Vec<u64> = (n..n + 20).collect();
    for &b in &resumed {
        store
            .write_spans(batch(b, &p))
            .await
            .expect("writes resume once space is free");
    }
    store.flush().await.expect("cut once space is free");
    while store.compact().await.expect("compact once space is free") {}
    assert_all_returned(&store, &acked, "after space was freed").await;
    assert_all_returned(&store, &resumed, "written after space was freed").await;
    store.close().await;
    drop(store);

    // 4. And after a clean restart, exactly once.
    let (store, report) = DiskStore::open_with_report(config(&data))
        .await
        .expect("reopen");
    assert!(report.unreadable_blocks.is_empty(), "{report:?}");
    assert_all_returned(&store, &acked, "after restart").await;
    assert_all_returned(&store, &resumed, "after restart").await;
    store.close().await;
}
