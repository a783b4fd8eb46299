//! Fans spans out to several reporters.

use std::sync::Arc;

use clew_model::Process;

use super::{Reporter, ReporterStats};
use crate::span::FinishedSpan;

/// Reports each span to every child, in order (the last one gets the span
/// itself, the others a clone).
#[derive(Debug, Default)]
pub struct CompositeReporter {
    children: Vec<Arc<dyn Reporter>>,
}

impl CompositeReporter {
    /// A composite of these reporters.
    pub fn new(children: Vec<Arc<dyn Reporter>>) -> Self {
        CompositeReporter { children }
    }

    /// Adds one more reporter.
    pub fn with(mut self, r: impl Reporter + 'static) -> Self {
        self.children.push(Arc::new(r));
        self
    }
}

impl Reporter for CompositeReporter {
    fn report(&self, span: Box<FinishedSpan>) {
        if let Some((last, rest)) = self.children.split_last() {
            for r in rest {
                r.report(Box::new((*span).clone()));
            }
            last.report(span);
        }
    }

    fn flush(&self) {
        self.children.iter().for_each(|r| r.flush());
    }

    fn close(&self) {
        self.children.iter().for_each(|r| r.close());
    }

    fn set_process(&self, process: Arc<Process>) {
        self.children
            .iter()
            .for_each(|r| r.set_process(process.clone()));
    }

    fn stats(&self) -> ReporterStats {
        self.children
            .iter()
            .map(|r| r.stats())
            .fold(ReporterStats::default(), |a, b| a + b)
    }
}
