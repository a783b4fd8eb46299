//! Batches spans to a sender on a background thread.
//!
//! The caller's side is built for the hot path: each thread that reports
//! gets its own single-producer ring buffer, so handing over a finished
//! span is one store into memory no other thread writes (no lock, no
//! shared counter). Every `thread_batch` spans the thread nudges the
//! background thread; when its ring is full the span is dropped and
//! counted, so callers never block and memory stays bounded. The
//! background thread drains all rings, converts spans to the model, feeds
//! the sender, and flushes on the interval.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use clew_model::Process;
use crossbeam_channel::{Receiver, Sender as Chan, bounded, unbounded};
use parking_lot::Mutex;

use super::{Reporter, ReporterStats};
use crate::sender::Sender;
use crate::span::FinishedSpan;
use crate::span::pool;

/// Settings of a [`RemoteReporter`].
#[derive(Clone, Debug)]
pub struct RemoteReporterOptions {
    /// Spans each reporting thread may have waiting (Jaeger: 100); beyond
    /// that, spans are dropped and counted.
    pub queue_size: usize,
    /// How often buffered spans are sent (Jaeger: 1 s).
    pub flush_interval: Duration,
    /// A thread wakes the background thread after this many spans (or half
    /// its ring, whichever is more).
    pub thread_batch: usize,
}

impl Default for RemoteReporterOptions {
    fn default() -> Self {
        RemoteReporterOptions {
            queue_size: 100,
            flush_interval: Duration::from_secs(1),
            thread_batch: 64,
        }
    }
}

type Record = Box<FinishedSpan>;

/// Spans after which a thread wakes the background thread, at most.
const MAX_WAKE_EVERY: usize = 1024;

/// Keeps what other threads write off the cache lines the hot path reads:
/// without it, every counter update by the reporter thread would make the
/// next `report` miss its cache.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Padded<T>(T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

enum Control {
    Flush(Chan<()>),
    Close(Chan<()>),
}

/// The background thread's end of one thread's ring.
struct Ring {
    consumer: rtrb::Consumer<Record>,
    dropped: Arc<Padded<AtomicU64>>,
}

#[derive(Debug)]
struct Shared {
    // Read on every report.
    id: u64,
    ring_capacity: usize,
    wake_every: usize,
    closed: AtomicBool,
    wake: Chan<()>,
    // Written by the background thread or rarely.
    rings: Padded<Mutex<Vec<Ring>>>,
    process: Padded<Mutex<Arc<Process>>>,
    reported: Padded<AtomicU64>,
    failed: Padded<AtomicU64>,
    /// Drops not attributable to a live ring (after close, retired rings).
    dropped_other: Padded<AtomicU64>,
}

impl std::fmt::Debug for Ring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ring")
    }
}

/// This thread's producer end for one reporter.
struct LocalHandle {
    shared: Arc<Shared>,
    producer: rtrb::Producer<Record>,
    dropped: Arc<Padded<AtomicU64>>,
    since_wake: usize,
}

/// A thread that exits wakes the background thread if it left spans in
/// its ring, so they are sent (and their records recycled) now rather than
/// at the next flush interval: short-lived threads would otherwise leave
/// every span waiting, and allocate records for the next thread.
impl Drop for LocalHandle {
    fn drop(&mut self) {
        if self.since_wake > 0 {
            let _ = self.shared.wake.try_send(());
        }
    }
}

thread_local! {
    static LOCALS: RefCell<Vec<LocalHandle>> = const { RefCell::new(Vec::new()) };
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Sends spans through a [`Sender`] from a background thread.
#[derive(Debug)]
pub struct RemoteReporter {
    shared: Arc<Shared>,
    control: Chan<Control>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl RemoteReporter {
    /// Starts the background thread.
    pub fn new(sender: impl Sender + 'static, options: RemoteReporterOptions) -> Self {
        let mut sender: Box<dyn Sender> = Box::new(sender);
        let queue_dropped = Arc::new(AtomicU64::new(0));
        sender.set_queue_drop_counter(queue_dropped.clone());
        let ring_capacity = options.queue_size.max(2);
        let (wake, wake_rx) = bounded(1);
        let (control, control_rx) = unbounded();
        let shared = Arc::new(Shared {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            ring_capacity,
            // Waking the background thread is a shared-channel operation
            // (and a futex wake when it sleeps), so not per span; but not
            // as rarely as once per half ring either when rings are large:
            // records come back to the pool only after the background
            // thread drained them, and a thread that outruns it allocates.
            wake_every: options
                .thread_batch
                .max((ring_capacity / 2).min(MAX_WAKE_EVERY))
                .clamp(1, ring_capacity),
            closed: AtomicBool::new(false),
            wake,
            rings: Padded(Mutex::new(Vec::new())),
            process: Padded(Mutex::new(Arc::new(Process::new("unknown_service")))),
            reported: Padded(AtomicU64::new(0)),
            failed: Padded(AtomicU64::new(0)),
            dropped_other: Padded(AtomicU64::new(0)),
        });
        let worker = Worker {
            shared: shared.clone(),
            sender,
            queue_dropped,
            wake: wake_rx,
            control: control_rx,
            interval: options.flush_interval.max(Duration::from_millis(1)),
        };
        let thread = std::thread::Builder::new()
            .name("clew-reporter".into())
            .spawn(move || worker.run())
            .map_err(|e| log::warn!("clew: cannot start reporter thread: {e}"))
            .ok();
        RemoteReporter {
            shared,
            control,
            thread: Mutex::new(thread),
        }
    }

    fn request(&self, make: impl FnOnce(Chan<()>) -> Control) {
        let (ack, done) = bounded(1);
        if self.control.send(make(ack)).is_ok() {
            let _ = done.recv_timeout(Duration::from_secs(30));
        }
    }

    fn register(shared: &Arc<Shared>) -> LocalHandle {
        let (producer, consumer) = rtrb::RingBuffer::new(shared.ring_capacity);
        let dropped = Arc::new(Padded(AtomicU64::new(0)));
        shared.rings.lock().push(Ring {
            consumer,
            dropped: dropped.clone(),
        });
        LocalHandle {
            shared: shared.clone(),
            producer,
            dropped,
            since_wake: 0,
        }
    }
}

impl Reporter for RemoteReporter {
    #[inline]
    fn report(&self, span: Box<FinishedSpan>) {
        let shared = &self.shared;
        if shared.closed.load(Ordering::Relaxed) {
            shared.dropped_other.fetch_add(1, Ordering::Relaxed);
            pool::recycle_local(span);
            return;
        }
        let mut span = Some(span);
        let _ = LOCALS.try_with(|locals| {
            let Ok(mut locals) = locals.try_borrow_mut() else {
                return;
            };
            let idx = match locals.iter().position(|h| h.shared.id == shared.id) {
                Some(i) => i,
                None => {
                    // Forget rings of reporters closed since (programs and
                    // tests that build many tracers).
                    locals.retain(|h| !h.shared.closed.load(Ordering::Relaxed));
                    locals.push(Self::register(shared));
                    locals.len() - 1
                }
            };
            let h = &mut locals[idx];
            let Some(s) = span.take() else { return };
            match h.producer.push(s) {
                Ok(()) => {
                    h.since_wake += 1;
                    if h.since_wake >= shared.wake_every {
                        h.since_wake = 0;
                        let _ = shared.wake.try_send(());
                    }
                }
                Err(rtrb::PushError::Full(s)) => {
                    // Only this thread writes its drop counter.
                    let d = h.dropped.load(Ordering::Relaxed);
                    h.dropped.store(d + 1, Ordering::Relaxed);
                    pool::recycle_local(s);
                    let _ = shared.wake.try_send(());
                }
            }
        });
        if let Some(s) = span {
            // No usable thread-local (thread exiting): drop and count.
            shared.dropped_other.fetch_add(1, Ordering::Relaxed);
            drop(s);
        }
    }

    fn flush(&self) {
        if !self.shared.closed.load(Ordering::Relaxed) {
            self.request(Control::Flush);
        }
    }

    fn close(&self) {
        if self.shared.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        self.request(Control::Close);
        if let Some(t) = self.thread.lock().take() {
            let _ = t.join();
        }
    }

    fn set_process(&self, process: Arc<Process>) {
        *self.shared.process.lock() = process;
    }

    fn stats(&self) -> ReporterStats {
        let live: u64 = self
            .shared
            .rings
            .lock()
            .iter()
            .map(|r| r.dropped.load(Ordering::Relaxed))
            .sum();
        ReporterStats {
            reported: self.shared.reported.load(Ordering::Relaxed),
            dropped: live + self.shared.dropped_other.load(Ordering::Relaxed),
            failed: self.shared.failed.load(Ordering::Relaxed),
        }
    }
}

impl Drop for RemoteReporter {
    fn drop(&mut self) {
        self.close();
    }
}

struct Worker {
    shared: Arc<Shared>,
    sender: Box<dyn Sender>,
    /// Every span the reporter dropped so far (the `dropped` of
    /// [`ReporterStats`]), refreshed on each drain for the sender to report.
    queue_dropped: Arc<AtomicU64>,
    wake: Receiver<()>,
    control: Receiver<Control>,
    interval: Duration,
}

impl Worker {
    fn run(mut self) {
        let mut next_tick = Instant::now() + self.interval;
        loop {
            let wait = next_tick.saturating_duration_since(Instant::now());
            crossbeam_channel::select! {
                recv(self.wake) -> _ => self.drain(),
                recv(self.control) -> c => match c {
                    Ok(Control::Flush(ack)) => {
                        self.drain();
                        self.send_result(|s| s.flush());
                        let _ = ack.send(());
                    }
                    Ok(Control::Close(ack)) => {
                        self.drain();
                        self.send_result(|s| s.close());
                        let _ = ack.send(());
                        return;
                    }
                    Err(_) => return,
                },
                default(wait) => {}
            }
            if Instant::now() >= next_tick {
                self.drain();
                self.send_result(|s| s.flush());
                next_tick = Instant::now() + self.interval;
            }
        }
    }

    /// Takes everything waiting in every thread's ring, then sends it.
    fn drain(&mut self) {
        let mut batch: Vec<Record> = Vec::new();
        {
            let mut rings = self.shared.rings.lock();
            for r in rings.iter_mut() {
                while let Ok(s) = r.consumer.pop() {
                    batch.push(s);
                }
            }
            // Rings of exited threads: drained above, keep their drop counts.
            let shared = &self.shared;
            rings.retain(|r| {
                let keep = !r.consumer.is_abandoned() || !r.consumer.is_empty();
                if !keep {
                    shared
                        .dropped_other
                        .fetch_add(r.dropped.load(Ordering::Relaxed), Ordering::Relaxed);
                }
                keep
            });
            // Under the rings lock, so no count is moving between a ring
            // and `dropped_other` while summing.
            let live: u64 = rings
                .iter()
                .map(|r| r.dropped.load(Ordering::Relaxed))
                .sum();
            let total = live + shared.dropped_other.load(Ordering::Relaxed);
            self.queue_dropped.store(total, Ordering::Relaxed);
        }
        if !batch.is_empty() {
            self.process(batch);
        }
    }

    fn process(&mut self, mut batch: Vec<Record>) {
        let process = self.shared.process.lock().clone();
        let mut sent = 0u64;
        let mut failed = 0u64;
        for record in batch.iter_mut() {
            let span = crate::convert::take_model(record, &process);
            match self.sender.append(span) {
                Ok(n) => sent += n as u64,
                Err(e) => {
                    failed += e.spans_lost as u64;
                    log::debug!("clew: sending spans failed: {e}");
                }
            }
        }
        self.shared.reported.fetch_add(sent, Ordering::Relaxed);
        self.shared.failed.fetch_add(failed, Ordering::Relaxed);
        pool::recycle_batch(batch);
    }

    fn send_result(
        &mut self,
        f: impl FnOnce(&mut dyn Sender) -> Result<usize, crate::sender::SendError>,
    ) {
        match f(&mut *self.sender) {
            Ok(n) => {
                self.shared.reported.fetch_add(n as u64, Ordering::Relaxed);
            }
            Err(e) => {
                self.shared
                    .failed
                    .fetch_add(e.spans_lost as u64, Ordering::Relaxed);
                log::debug!("clew: sending spans failed: {e}");
            }
        }
    }
}

#[cfg(test)]
#[path = "remote_tests.rs"]
mod tests;
