//! The crate's error type: only start-up and configuration can fail; every
//! per-request problem is answered on the wire and counted instead.

use std::path::PathBuf;

/// A failure to start an ingest component or load its configuration.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The sampling strategies file could not be read.
    #[error("cannot read sampling strategies file {path}: {source}")]
    StrategiesRead {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The sampling strategies file is not valid strategies JSON.
    #[error("invalid sampling strategies file {path}: {source}")]
    StrategiesParse {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// A listener thread could not be started.
    #[error("cannot start {what}: {source}")]
    Spawn {
        /// Which listener.
        what: String,
        /// Why.
        source: std::io::Error,
    },
}
