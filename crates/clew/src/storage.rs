//! The span store behind the all-in-one role (embedded `disk` by default,
//! `memory` on request), its `/metrics` gauges, and the
//! `clew storage inspect|verify DIR` commands.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clew_store::{
    DiskStore, DiskStoreConfig, MemoryStore, MemoryStoreConfig, TraceReader, TraceWriter, WalSync,
};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;

use crate::config::StoreConfig;

/// `clew storage …`: look at a data directory without starting the server.
#[derive(Debug, clap::Subcommand)]
pub enum StorageCommand {
    /// List blocks (time range, spans, traces, size, level) and WAL segments.
    Inspect {
        /// Data directory (the server's --data-dir).
        dir: PathBuf,
    },
    /// Read every block and WAL record and check every checksum; exit 1 on any problem.
    Verify {
        /// Data directory (the server's --data-dir).
        dir: PathBuf,
    },
}

/// The opened store, as the roles need it.
pub struct OpenedStore {
    /// Where ingest writes.
    pub writer: Arc<dyn TraceWriter>,
    /// What queries read.
    pub reader: Arc<dyn TraceReader>,
    /// The embedded store, when that is the backend (for shutdown).
    pub disk: Option<Arc<DiskStore>>,
}

/// Opens the configured backend.
pub async fn open(cfg: &StoreConfig) -> Result<OpenedStore> {
    if cfg.backend == "memory" {
        let store = Arc::new(MemoryStore::new(MemoryStoreConfig {
            max_spans: cfg.memory_max_spans,
            max_bytes: cfg.memory_max_bytes,
        }));
        return Ok(OpenedStore {
            writer: store.clone(),
            reader: store,
            disk: None,
        });
    }
    let mut c = DiskStoreConfig::new(&cfg.data_dir);
    c.wal_sync = match cfg.wal_sync_ms {
        0 => WalSync::Always,
        ms => WalSync::Interval(Duration::from_millis(ms)),
    };
    c.retention =
        (cfg.retention_hours > 0).then(|| Duration::from_secs(cfg.retention_hours * 3600));
    c.max_bytes = (cfg.max_disk_bytes > 0).then_some(cfg.max_disk_bytes);
    c.head_max_spans = cfg.head_max_spans;
    c.head_max_bytes = cfg.head_max_bytes;
    let (store, report) = DiskStore::open_with_report(c)
        .await
        .with_context(|| format!("store.data_dir {}", cfg.data_dir.display()))?;
    tracing::info!(
        data_dir = %cfg.data_dir.display(),
        blocks = report.blocks,
        replayed_spans = report.replayed_spans,
        wal_truncations = report.wal_truncations.len(),
        unreadable_blocks = report.unreadable_blocks.len(),
        elapsed_ms = report.elapsed.as_millis() as u64,
        "embedded store opened"
    );
    let store = Arc::new(store);
    Ok(OpenedStore {
        writer: store.clone(),
        reader: store.clone(),
        disk: Some(store),
    })
}

/// Registers `store_disk_*` gauges and refreshes them every few seconds
/// from [`TraceReader::persistence_stats`] until `shutdown`.
pub fn register_metrics(
    registry: &mut Registry,
    reader: Arc<dyn TraceReader>,
    shutdown: CancellationToken,
) {
    if reader.persistence_stats().is_none() {
        return;
    }
    let names: [(&str, &str); 10] = [
        ("store_disk_blocks", "Immutable blocks listed"),
        ("store_disk_block_bytes", "Bytes of blocks"),
        ("store_disk_wal_bytes", "Bytes of write-ahead-log segments"),
        (
            "store_disk_head_spans",
            "Spans in the in-memory head, not yet in a block",
        ),
        (
            "store_disk_blocks_cut",
            "Blocks cut from the head since start",
        ),
        ("store_disk_compactions", "Compactions finished since start"),
        (
            "store_disk_retention_deleted_blocks",
            "Blocks deleted by retention since start",
        ),
        (
            "store_disk_corrupt_block_reads",
            "Block reads skipped for a bad checksum or format since start",
        ),
        (
            "store_disk_wal_truncations",
            "Torn WAL tails truncated at start",
        ),
        (
            "store_disk_wal_write_errors",
            "Writes refused because the WAL could not be written",
        ),
    ];
    let gauges: Vec<Gauge> = names
        .iter()
        .map(|(name, help)| {
            let g = Gauge::default();
            registry.register(*name, *help, g.clone());
            g
        })
        .collect();
    tokio::spawn(async move {
        loop {
            if let Some(s) = reader.persistence_stats() {
                let values = [
                    s.blocks,
                    s.block_bytes,
                    s.wal_bytes,
                    s.head_spans,
                    s.blocks_cut,
                    s.compactions,
                    s.retention_deleted_blocks,
                    s.corrupt_block_reads,
                    s.wal_truncations,
                    s.wal_write_errors,
                ];
                for (g, v) in gauges.iter().zip(values) {
                    g.set(v as i64);
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
        }
    });
}

fn time(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Runs `clew storage …`; prints to stdout, problems to stderr.
pub fn run(cmd: &StorageCommand) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("clew: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (dir, verify) = match cmd {
        StorageCommand::Inspect { dir } => (dir.as_path(), false),
        StorageCommand::Verify { dir } => (dir.as_path(), true),
    };
    match runtime.block_on(report(dir, verify)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("clew: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn report(dir: &Path, verify: bool) -> Result<bool> {
    let r = if verify {
        clew_store::verify_dir(dir).await?
    } else {
        clew_store::inspect_dir(dir).await?
    };
    println!("data directory {}", dir.display());
    println!(
        "{:<72} {:>5} {:>20} {:>20} {:>10} {:>9} {:>12} {:>7}",
        "block", "level", "first span", "last span", "spans", "traces", "bytes", "B/span"
    );
    let (mut spans, mut bytes) = (0u64, 0u64);
    for b in &r.blocks {
        match &b.index {
            Ok(i) => {
                spans += i.spans;
                bytes += b.size;
                println!(
                    "{:<72} {:>5} {:>20} {:>20} {:>10} {:>9} {:>12} {:>7.1}",
                    b.path,
                    i.level,
                    time(i.min_start),
                    time(i.max_start),
                    i.spans,
                    i.traces,
                    b.size,
                    b.size as f64 / i.spans.max(1) as f64
                );
            }
            Err(e) => println!("{:<72} unreadable: {e}", b.path),
        }
    }
    println!(
        "{} blocks, {spans} spans, {bytes} bytes ({:.1} bytes/span)",
        r.blocks.len(),
        bytes as f64 / spans.max(1) as f64
    );
    for w in &r.wal {
        println!(
            "wal {:016x}: {} bytes, {} records{}",
            w.seq,
            w.size,
            w.records,
            if w.torn_bytes > 0 {
                format!(", {} torn bytes at the end", w.torn_bytes)
            } else {
                String::new()
            }
        );
    }
    let unreadable = r.blocks.iter().filter(|b| b.index.is_err()).count();
    if verify {
        for e in &r.errors {
            eprintln!("problem: {e}");
        }
        if r.errors.is_empty() {
            println!("verify: every block and WAL record checks out");
        }
        return Ok(r.errors.is_empty());
    }
    Ok(unreadable == 0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_print_as_utc() {
        assert_eq!(
            super::time(1_700_000_000_000_000_000),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(super::time(0), "1970-01-01T00:00:00Z");
    }
}
