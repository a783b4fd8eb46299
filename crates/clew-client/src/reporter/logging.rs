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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tracer;
    use std::sync::Arc;

    /// A writer the test can read back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn one_jaeger_style_line_per_span() {
        let out = Shared::default();
        let t = Tracer::builder("svc")
            .reporter(LoggingReporter::with_writer(out.clone()))
            .trace_id_128bit(true)
            .build();
        let root = t.span("a").start();
        let ctx = root.context().clone();
        root.finish();
        let text = String::from_utf8(out.0.lock().clone()).expect("utf-8");
        let tid = format!("{:016x}{:016x}", ctx.trace_id().high, ctx.trace_id().low);
        let expected = format!(
            "Reporting span {}:{:016x}:0000000000000000:1\n",
            if ctx.trace_id().high == 0 {
                format!("{:016x}", ctx.trace_id().low)
            } else {
                tid
            },
            ctx.span_id().0
        );
        assert_eq!(text, expected);
    }
}
