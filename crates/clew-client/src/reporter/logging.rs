//! Prints one line per finished span, as Jaeger clients' logging reporter does.

use std::io::Write;

use parking_lot::Mutex;

use super::Reporter;
use crate::span::FinishedSpan;

/// Writes `Reporting span <trace-id>:<span-id>:<parent-id>:<flags>` for every
/// span (hex IDs formatted as Jaeger clients print them), to stdout unless
/// another writer is given.
pub struct LoggingReporter {
    out: Mutex<Box<dyn Write + Send>>,
}

impl std::fmt::Debug for LoggingReporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoggingReporter")
    }
}

impl Default for LoggingReporter {
    fn default() -> Self {
        Self::new()
    }
}

impl LoggingReporter {
    /// Logs to stdout.
    pub fn new() -> Self {
        Self::with_writer(std::io::stdout())
    }

    /// Logs to any writer (a file, a buffer in tests).
    pub fn with_writer(w: impl Write + Send + 'static) -> Self {
        LoggingReporter {
            out: Mutex::new(Box::new(w)),
        }
    }

    /// The line printed for a span (without newline).
    pub fn line(span: &FinishedSpan) -> String {
        format!("Reporting span {}", span.context)
    }
}

impl Reporter for LoggingReporter {
    fn report(&self, span: Box<FinishedSpan>) {
        let mut out = self.out.lock();
        let _ = writeln!(out, "Reporting span {}", span.context);
        let _ = out.flush();
    }

    fn flush(&self) {
        let _ = self.out.lock().flush();
    }
}
