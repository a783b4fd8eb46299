//! Conformance suite every backend must pass (filled in below).

use crate::{TraceReader, TraceWriter};

/// Runs every conformance check, each against a fresh store from `make`.
pub async fn run_conformance<S: TraceWriter + TraceReader>(make: impl Fn() -> S) {
    let _ = make();
}
