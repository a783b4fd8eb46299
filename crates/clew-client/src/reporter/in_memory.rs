//! Keeps finished spans in memory, for users' tests.

use std::sync::Arc;

use parking_lot::Mutex;

use super::{Reporter, ReporterStats};
use crate::span::FinishedSpan;

/// Collects spans; clones share the same store, so keep one clone to read
/// what the tracer reported.
#[derive(Clone, Debug, Default)]
pub struct InMemoryReporter {
    spans: Arc<Mutex<Vec<FinishedSpan>>>,
}

impl InMemoryReporter {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of the spans reported so far, in finishing order.
    pub fn spans(&self) -> Vec<FinishedSpan> {
        self.spans.lock().clone()
    }

    /// Removes and returns the spans reported so far.
    pub fn take(&self) -> Vec<FinishedSpan> {
        std::mem::take(&mut *self.spans.lock())
    }

    /// Number of spans held.
    pub fn len(&self) -> usize {
        self.spans.lock().len()
    }

    /// True when nothing was reported.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Reporter for InMemoryReporter {
    fn report(&self, span: Box<FinishedSpan>) {
        self.spans.lock().push(*span);
    }

    fn stats(&self) -> ReporterStats {
        ReporterStats {
            reported: self.len() as u64,
            ..Default::default()
        }
    }
}
