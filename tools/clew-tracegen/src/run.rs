//! A run: build every worker's payload pool, then let the workers send until
//! the duration or trace budget is spent, and report what went out.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::patch::round_high;
use crate::payload::{PackLimits, PayloadError, PayloadPool};
use crate::rate::{Pacer, sleep_until};
use crate::shape::{TraceGenerator, TraceShape};
use crate::stats::{Stats, Summary, spawn_progress};
use crate::transport::{Encoding, Transport, TransportError, TransportKind};

/// When a run ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// After this much wall time.
    After(Duration),
    /// After this many traces in total (split evenly across workers).
    Traces(u64),
}

/// Everything a run needs; built from the command line by [`crate::cli`].
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Wire path.
    pub transport: TransportKind,
    /// `host:port` or URL.
    pub target: String,
    /// Sending threads, each with its own connection and payload pool.
    pub workers: usize,
    /// When to stop.
    pub stop: Stop,
    /// Trace shape.
    pub shape: TraceShape,
    /// Most spans per payload.
    pub batch_spans: usize,
    /// Spans/s across all workers; 0 means as fast as possible.
    pub rate: u64,
    /// Distinct spans pre-encoded per worker.
    pub pool_spans: usize,
    /// Print progress to stderr every second.
    pub progress: bool,
    /// Seed for trace and span IDs.
    pub seed: u64,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The transport could not be opened.
    #[error("cannot open {transport} transport to {target}: {source}")]
    Transport {
        /// Which transport.
        transport: TransportKind,
        /// Where to.
        target: String,
        /// Why.
        source: TransportError,
    },
    /// Payloads could not be built.
    #[error("cannot pre-encode payloads: {0}")]
    Payload(#[from] PayloadError),
}

/// State every worker reads.
struct Shared {
    stats: Arc<Stats>,
    pacer: Option<Pacer>,
    deadline: Option<Instant>,
    encoding: Encoding,
    /// When the pool was built (Unix ns): payload times are shifted by now − this.
    start_ns: u64,
    errors_logged: AtomicU64,
}

/// How many failures are written to stderr before going quiet (all are counted).
const ERRORS_LOGGED: u64 = 5;
/// Pause after a failed send so a dead server does not turn into a busy loop.
const ERROR_BACKOFF: Duration = Duration::from_millis(10);

/// Runs the load and returns its summary.
pub fn run(cfg: &RunConfig) -> Result<Summary, RunError> {
    let workers = cfg.workers.max(1);
    let limits = PackLimits {
        encoding: cfg.transport.encoding(),
        max_spans: cfg.batch_spans.max(1),
        max_bytes: cfg.transport.max_payload_bytes(),
    };
    let start_ns = unix_ns();
    let mut prepared = Vec::with_capacity(workers);
    for w in 0..workers {
        let transport =
            cfg.transport
                .connect(&cfg.target)
                .map_err(|source| RunError::Transport {
                    transport: cfg.transport,
                    target: cfg.target.clone(),
                    source,
                })?;
        let seed = cfg.seed ^ (w as u64).wrapping_mul(0xA076_1D64_78BD_642F);
        let mut generator = TraceGenerator::new(cfg.shape, seed, start_ns);
        let pool = PayloadPool::build(&mut generator, limits, cfg.pool_spans.max(cfg.batch_spans))?;
        let budget = match cfg.stop {
            Stop::Traces(t) => {
                let traces = t / workers as u64 + u64::from((w as u64) < t % workers as u64);
                Some(traces * cfg.shape.spans_per_trace.max(1) as u64)
            }
            Stop::After(_) => None,
        };
        prepared.push((pool, transport, budget));
    }

    let start = Instant::now();
    let shared = Shared {
        stats: Arc::new(Stats::default()),
        pacer: (cfg.rate > 0).then(|| Pacer::new(start, cfg.rate)),
        deadline: match cfg.stop {
            Stop::After(d) => Some(start + d),
            Stop::Traces(_) => None,
        },
        encoding: limits.encoding,
        start_ns,
        errors_logged: AtomicU64::new(0),
    };
    let progress = cfg
        .progress
        .then(|| spawn_progress(shared.stats.clone(), start));
    std::thread::scope(|s| {
        for (w, (pool, transport, budget)) in prepared.into_iter().enumerate() {
            let shared = &shared;
            s.spawn(move || work(w, pool, transport, budget, shared));
        }
    });
    let elapsed = start.elapsed();
    if let Some((stop, handle)) = progress {
        drop(stop);
        let _ = handle.join();
    }
    Ok(shared.stats.summary(cfg.transport.name(), workers, elapsed))
}

/// One worker: walk the pool round after round, stamping each round's trace IDs.
fn work(
    worker: usize,
    mut pool: PayloadPool,
    mut transport: Box<dyn Transport>,
    mut remaining: Option<u64>,
    shared: &Shared,
) {
    let mut scratch = Vec::new();
    let mut round = 0u64;
    loop {
        for payload in &mut pool.payloads {
            if shared.deadline.is_some_and(|d| Instant::now() >= d) {
                return;
            }
            let n = payload.spans.len();
            let take = match remaining {
                Some(0) => return,
                Some(r) => n.min(usize::try_from(r).unwrap_or(usize::MAX)),
                None => n,
            };
            if let Some(pacer) = &shared.pacer {
                let due = pacer.claim(take as u64);
                if shared.deadline.is_some_and(|d| due >= d) {
                    return;
                }
                sleep_until(due);
            }
            let high = round_high(worker, round);
            // Spans are stamped with the time they are sent, as a real
            // client's are, not the time the pool was built.
            let shift = unix_ns().saturating_sub(shared.start_ns);
            let bytes: &[u8] = if take == n {
                payload.stamp(high, shift);
                &payload.bytes
            } else {
                if let Err(e) =
                    payload.encode_prefix(take, high, shift, shared.encoding, &mut scratch)
                {
                    // The same spans encoded fine into the pool, so this cannot
                    // happen; count it rather than panic if it does.
                    shared.stats.failed(take);
                    eprintln!("tracegen: worker {worker}: {e}");
                    return;
                }
                &scratch
            };
            match transport.send(bytes) {
                Ok(()) => shared.stats.sent(take, bytes.len()),
                Err(e) => {
                    shared.stats.failed(take);
                    if shared.errors_logged.fetch_add(1, Ordering::Relaxed) < ERRORS_LOGGED {
                        eprintln!("tracegen: worker {worker}: send failed: {e}");
                    }
                    std::thread::sleep(ERROR_BACKOFF);
                }
            }
            if let Some(r) = &mut remaining {
                *r -= take as u64;
            }
        }
        round += 1;
    }
}

/// Now, in Unix nanoseconds.
fn unix_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}
