//! Sampling strategies: the file, the computed table, the HTTP endpoints
//! (agent port 5778 and the collector's `/api/sampling`), and hot reload.

mod file;
mod http;
mod json;
mod strategy;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use parking_lot::{Mutex, RwLock};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use file::{OperationStrategy, ServiceStrategy, StrategiesFile};
pub use http::{SAMPLING_PORT, sampling_handler_legacy, sampling_handler_proto, sampling_router};
pub use json::{to_legacy_json, to_proto_json};
pub use strategy::{
    OperationProbability, PerOperationSampling, StrategyResponse, StrategyTable, StrategyType,
};

use crate::config::IngestConfig;
use crate::error::IngestError;

/// Jaeger's default probability when a strategies file leaves a gap.
pub const JAEGER_DEFAULT_SAMPLING_PROBABILITY: f64 = 0.001;

/// The strategies being served, swappable at run time by a file reload.
#[derive(Debug)]
pub struct SamplingStrategies {
    table: RwLock<Arc<StrategyTable>>,
    source: Option<FileSource>,
}

#[derive(Debug)]
struct FileSource {
    path: PathBuf,
    default_probability: f64,
    /// Modification time and content of the last file read (good or bad),
    /// so an unchanged file is neither re-read nor re-reported.
    last: Mutex<(Option<SystemTime>, Vec<u8>)>,
}

impl SamplingStrategies {
    /// Every service sampled with probability 1.0: what Jaeger's all-in-one
    /// serves, so traces from a development setup always show up.
    pub fn default_all_in_one() -> Self {
        Self::uniform(1.0)
    }

    /// Every service sampled with `probability`.
    pub fn uniform(probability: f64) -> Self {
        SamplingStrategies {
            table: RwLock::new(Arc::new(StrategyTable::uniform(probability))),
            source: None,
        }
    }

    /// Loads a Jaeger strategies file; gaps (no default strategy, unknown
    /// types) get Jaeger's default probability, 0.001.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, IngestError> {
        Self::from_file_with_default(path, JAEGER_DEFAULT_SAMPLING_PROBABILITY)
    }

    /// Loads a Jaeger strategies file; `default_probability` fills its gaps.
    /// Warnings (unknown types, rate-limited operations) are logged.
    pub fn from_file_with_default(
        path: impl AsRef<Path>,
        default_probability: f64,
    ) -> Result<Self, IngestError> {
        let path = path.as_ref().to_path_buf();
        let mtime = modified(&path);
        let bytes = std::fs::read(&path).map_err(|source| IngestError::StrategiesRead {
            path: path.clone(),
            source,
        })?;
        let table =
            parse(&bytes, default_probability).map_err(|source| IngestError::StrategiesParse {
                path: path.clone(),
                source,
            })?;
        Ok(SamplingStrategies {
            table: RwLock::new(Arc::new(table)),
            source: Some(FileSource {
                path,
                default_probability,
                last: Mutex::new((mtime, bytes)),
            }),
        })
    }

    /// The file from the config when one is set, else uniform `default_sampling_probability`.
    pub fn from_config(cfg: &IngestConfig) -> Result<Self, IngestError> {
        match &cfg.sampling_strategies_file {
            Some(path) => Self::from_file_with_default(path, cfg.default_sampling_probability),
            None => Ok(Self::uniform(cfg.default_sampling_probability)),
        }
    }

    /// The strategy for a service.
    pub fn for_service(&self, service: &str) -> StrategyResponse {
        self.table.read().for_service(service).clone()
    }

    /// Re-reads the file if its modification time or content changed. Bad
    /// new content keeps the old table and is logged as an error. Returns
    /// true when a new table was installed.
    pub fn reload_if_changed(&self) -> bool {
        let Some(src) = &self.source else {
            return false;
        };
        let mtime = modified(&src.path);
        let mut last = src.last.lock();
        if mtime.is_some() && mtime == last.0 {
            return false;
        }
        let bytes = match std::fs::read(&src.path) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(path = %src.path.display(), error = %e, "cannot re-read sampling strategies; keeping the old ones");
                last.0 = mtime;
                return false;
            }
        };
        last.0 = mtime;
        if bytes == last.1 {
            return false;
        }
        last.1 = bytes.clone();
        match parse(&bytes, src.default_probability) {
            Ok(table) => {
                *self.table.write() = Arc::new(table);
                tracing::info!(path = %src.path.display(), "sampling strategies reloaded");
                true
            }
            Err(e) => {
                tracing::error!(path = %src.path.display(), error = %e, "invalid sampling strategies; keeping the old ones");
                false
            }
        }
    }

    /// Polls the file every `interval` until `shutdown`; `None` when the
    /// strategies do not come from a file.
    pub fn spawn_reload(
        self: &Arc<Self>,
        interval: Duration,
        shutdown: CancellationToken,
    ) -> Option<JoinHandle<()>> {
        self.source.as_ref()?;
        let this = self.clone();
        Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tick.tick() => {
                        let this = this.clone();
                        // File I/O off the async workers.
                        let _ = tokio::task::spawn_blocking(move || this.reload_if_changed()).await;
                    }
                }
            }
        }))
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn parse(bytes: &[u8], default_probability: f64) -> Result<StrategyTable, serde_json::Error> {
    let file: StrategiesFile = serde_json::from_slice(bytes)?;
    let (table, warnings) = StrategyTable::compute(&file, default_probability);
    for w in warnings {
        tracing::warn!("sampling strategies: {w}");
    }
    Ok(table)
}

#[cfg(test)]
mod reload_tests {
    use super::*;

    /// Writes `content` and stamps a distinct modification time, so the test
    /// does not depend on the file system's timestamp granularity.
    fn write(path: &Path, content: &str, secs: u64) {
        std::fs::write(path, content).expect("write strategies");
        let f = std::fs::File::options()
            .write(true)
            .open(path)
            .expect("open");
        f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 + secs))
            .expect("set mtime");
    }

    #[test]
    fn reload_picks_up_changes_and_keeps_old_on_bad_content() {
        let dir = std::env::temp_dir().join(format!("clew-sampling-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("strategies.json");
        write(
            &path,
            r#"{"default_strategy": {"type": "probabilistic", "param": 0.5}}"#,
            1,
        );
        let s = SamplingStrategies::from_file(&path).expect("loads");
        assert_eq!(s.for_service("x"), StrategyResponse::probabilistic(0.5));
        assert!(!s.reload_if_changed(), "unchanged file is not reloaded");

        write(
            &path,
            r#"{"default_strategy": {"type": "ratelimiting", "param": 7}}"#,
            2,
        );
        assert!(s.reload_if_changed());
        assert_eq!(s.for_service("x"), StrategyResponse::rate_limiting(7));

        write(&path, "{not json", 3);
        assert!(!s.reload_if_changed());
        assert_eq!(s.for_service("x"), StrategyResponse::rate_limiting(7));

        assert!(SamplingStrategies::from_file(dir.join("missing.json")).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
