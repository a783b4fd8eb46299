//! The store's error type.

/// A storage failure. Query and ingest map it to HTTP 500 / gRPC INTERNAL.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot accept writes right now (full, shutting down).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The query asked for something the store cannot answer.
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// An I/O failure in a persistent backend.
    #[error("storage I/O error: {0}")]
    Io(#[from] std::io::Error),
}
