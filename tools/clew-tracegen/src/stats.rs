//! Counters shared by the workers, the once-a-second progress line, and the
//! final JSON summary.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::Serialize;

/// What the workers have done so far.
#[derive(Debug, Default)]
pub struct Stats {
    spans: AtomicU64,
    batches: AtomicU64,
    bytes: AtomicU64,
    errors: AtomicU64,
    failed_spans: AtomicU64,
}

impl Stats {
    /// Records a delivered payload.
    pub fn sent(&self, spans: usize, bytes: usize) {
        self.spans.fetch_add(spans as u64, Ordering::Relaxed);
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        self.batches.fetch_add(1, Ordering::Relaxed);
    }

    /// Records a payload the transport refused.
    pub fn failed(&self, spans: usize) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.failed_spans.fetch_add(spans as u64, Ordering::Relaxed);
    }

    /// Spans delivered so far.
    pub fn spans(&self) -> u64 {
        self.spans.load(Ordering::Relaxed)
    }

    /// Failed payloads so far.
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// The summary of a run that took `elapsed`.
    pub fn summary(&self, transport: &str, workers: usize, elapsed: Duration) -> Summary {
        let spans = self.spans();
        let secs = elapsed.as_secs_f64();
        Summary {
            transport: transport.to_string(),
            workers,
            spans_sent: spans,
            batches: self.batches.load(Ordering::Relaxed),
            bytes_sent: self.bytes.load(Ordering::Relaxed),
            elapsed_s: round3(secs),
            spans_per_s: if secs > 0.0 {
                (spans as f64 / secs).round()
            } else {
                0.0
            },
            errors: self.errors(),
            spans_failed: self.failed_spans.load(Ordering::Relaxed),
        }
    }
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// The final line on stdout, one JSON object, so scripts can parse a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Transport name (`udp-compact`, `http-thrift`, …).
    pub transport: String,
    /// Worker threads used.
    pub workers: usize,
    /// Spans in payloads the transport accepted.
    pub spans_sent: u64,
    /// Payloads (datagrams or requests) accepted.
    pub batches: u64,
    /// Payload bytes accepted.
    pub bytes_sent: u64,
    /// Wall time from the first send to the last.
    pub elapsed_s: f64,
    /// `spans_sent / elapsed_s`.
    pub spans_per_s: f64,
    /// Payloads that failed (error status, refused, timed out).
    pub errors: u64,
    /// Spans inside the failed payloads.
    pub spans_failed: u64,
}

/// Prints `elapsed, spans sent, spans/s over the last second` to stderr once
/// a second until the returned sender is dropped or sent to.
pub fn spawn_progress(
    stats: std::sync::Arc<Stats>,
    start: Instant,
) -> (mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let (stop, rx) = mpsc::channel::<()>();
    let handle = std::thread::spawn(move || {
        let mut last = (start, 0u64);
        while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(Duration::from_secs(1)) {
            let now = Instant::now();
            let spans = stats.spans();
            let window = now.duration_since(last.0).as_secs_f64().max(1e-9);
            let rate = (spans - last.1) as f64 / window;
            let _ = writeln!(
                std::io::stderr(),
                "tracegen: {:6.1}s  {spans:>12} spans sent  {rate:>10.0} spans/s  {} errors",
                now.duration_since(start).as_secs_f64(),
                stats.errors(),
            );
            last = (now, spans);
        }
    });
    (stop, handle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_spans_batches_and_rate() {
        let s = Stats::default();
        s.sent(500, 1000);
        s.sent(500, 1000);
        s.failed(500);
        let sum = s.summary("http-thrift", 2, Duration::from_millis(500));
        assert_eq!(sum.spans_sent, 1000);
        assert_eq!(sum.batches, 2);
        assert_eq!(sum.bytes_sent, 2000);
        assert_eq!(sum.errors, 1);
        assert_eq!(sum.spans_failed, 500);
        assert_eq!(sum.spans_per_s, 2000.0);
        let json = serde_json::to_value(&sum).expect("json");
        for key in [
            "transport",
            "spans_sent",
            "batches",
            "elapsed_s",
            "spans_per_s",
            "errors",
        ] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
    }
}
