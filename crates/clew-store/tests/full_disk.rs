//! Full-disk story: the data directory lives on a small tmpfs made by the
//! test, partly taken by a ballast file (something else filling the disk).
//!
//! 1. A store with no background work fills the disk through its WAL; from
//!    then on writes fail with a clear, retryable store error (no panic)
//!    and everything acknowledged is still served.
//! 2. The ballast goes: the same store writes again, into the same WAL
//!    segment its failed writes were cut back in, then "crashes" (dropped
//!    without close). Replay must find every record after the failed ones.
//! 3. The disk is filled again but for 64 KiB; a store restarted there
//!    (with background cuts and compactions) serves everything, fills the
//!    rest, and its cuts fail with errors while the disk is full.
//! 4. Space comes back: the same store's writes, cuts and compactions
//!    resume; after a clean restart every acknowledged span comes back
//!    exactly once.
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

fn config(dir: &Path, background: bool) -> DiskStoreConfig {
    let mut c = DiskStoreConfig::new(dir);
    c.wal_sync = WalSync::Always;
    // With background work, cuts and compactions run (and fail while the
    // disk is full) every 20 ms; the backlog limit (4 × head_max_spans) is
    // far above what the disk holds, so the WAL meets the full disk first.
    c.head_max_spans = 10_000;
    c.compaction_min_blocks = 2;
    c.page_spans = 256;
    c.maintenance_interval = background.then_some(Duration::from_millis(20));
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

/// Fills the file system with a ballast file until it is full (or up to
/// `limit` bytes); returns its path.
fn ballast(dir: &Path, limit: usize) -> PathBuf {
    use std::io::Write;
    let path = dir.join("ballast");
    let mut f = std::fs::File::create(&path).expect("create ballast");
    let chunk = vec![0x5a; 64 << 10];
    let mut written = 0;
    while written < limit {
        match f.write_all(&chunk) {
            Ok(()) => written += chunk.len(),
            Err(e) if e.raw_os_error() == Some(28) => break,
            Err(e) => panic!("write ballast: {e}"),
        }
    }
    path
}

/// Writes batches from `*n` on until five have failed; returns the
/// acknowledged ones and checks that every failure says the disk is full.
/// Once space is back: ten more batches, each of which must be accepted.
async fn write_ten(store: &DiskStore, n: &mut u64, acked: &mut Vec<u64>, p: &Arc<Process>) {
    for _ in 0..10 {
        store
            .write_spans(batch(*n, p))
            .await
            .expect("writes resume once space is free");
        acked.push(*n);
        *n += 1;
    }
}

async fn fill(store: &DiskStore, n: &mut u64, p: &Arc<Process>) -> Vec<u64> {
    let (mut acked, mut failures) = (Vec::new(), Vec::new());
    while failures.len() < 5 {
        assert!(*n < 5_000, "{TMPFS_SIZE} tmpfs never filled up");
        match store.write_spans(batch(*n, p)).await {
            Ok(()) => acked.push(*n),
            Err(e) => failures.push(e),
        }
        *n += 1;
    }
    eprintln!(
        "{} batches acknowledged before the disk filled; first error: {}",
        acked.len(),
        failures[0]
    );
    for e in &failures {
        assert!(is_disk_full(e), "a full disk should say so: {e}");
    }
    acked
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
    let data = fs.path().join("clew-data");
    let p = Arc::new(Process {
        service_name: "full-disk".into(),
        tags: vec![],
    });
    let mut n = 0u64;

    // 1. Fill the disk through the WAL of a store with no background work.
    let ballast_path = ballast(fs.path(), BALLAST_BYTES);
    let store = DiskStore::open(config(&data, false)).await.expect("open");
    let mut acked = fill(&store, &mut n, &p).await;
    assert!(acked.len() > 20, "the disk should hold many batches first");
    let stats = store.persistence_stats().expect("disk store stats");
    assert!(stats.wal_write_errors >= 5, "{stats:?}");
    assert_all_returned(&store, &acked, "while the disk is full").await;

    // 2. Space comes back: the same store writes again, into the segment
    //    its failed writes were cut back in; then it crashes.
    std::fs::remove_file(&ballast_path).expect("delete ballast");
    write_ten(&store, &mut n, &mut acked, &p).await;
    drop(store);
    let store = DiskStore::open(config(&data, false))
        .await
        .expect("reopen after a crash");
    assert_all_returned(&store, &acked, "replayed after the failed writes").await;
    drop(store);

    // 3. Nearly full again (64 KiB left, enough to start a WAL segment);
    //    restart there with background work, and fill the rest.
    let ballast_path = ballast(fs.path(), usize::MAX);
    let len = std::fs::metadata(&ballast_path).expect("ballast").len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&ballast_path)
        .and_then(|f| f.set_len(len.saturating_sub(64 << 10)))
        .expect("shrink ballast");
    let store = DiskStore::open(config(&data, true))
        .await
        .expect("restart on a nearly full disk");
    assert_all_returned(&store, &acked, "after a restart on a nearly full disk").await;
    acked.extend(fill(&store, &mut n, &p).await);
    // Cutting the replayed head into a block fails while the disk is full
    // (in the background too); nothing acknowledged goes missing.
    assert!(
        store.flush().await.is_err(),
        "a cut should fail on a full disk"
    );
    assert_all_returned(&store, &acked, "while cuts fail on a full disk").await;

    // 4. Space comes back: writes, cuts and compactions resume.
    std::fs::remove_file(&ballast_path).expect("delete ballast");
    write_ten(&store, &mut n, &mut acked, &p).await;
    store.flush().await.expect("cut once space is free");
    while store.compact().await.expect("compact once space is free") {}
    assert_all_returned(&store, &acked, "after space was freed").await;
    store.close().await;
    drop(store);

    // And after a clean restart, exactly once.
    let (store, report) = DiskStore::open_with_report(config(&data, true))
        .await
        .expect("reopen");
    assert!(report.unreadable_blocks.is_empty(), "{report:?}");
    assert_eq!(
        report.replayed_records, 0,
        "close() cut everything: {report:?}"
    );
    assert_all_returned(&store, &acked, "after restart").await;
    store.close().await;
}
