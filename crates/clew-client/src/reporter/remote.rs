//! Batches spans to a sender on a background thread.
//!
//! Threads collect finished spans in their own [`SpanBatch`] (see
//! `span::local`) and hand a whole batch over at once: one short lock of
//! the shared queue per batch, not per span, which moves the batch in and
//! gives the thread an emptied one back (vectors are reused, never
//! copied). The queue holds at most `queue_size` spans; a batch that does
//! not fit is cut, and the spans beyond are dropped and counted, so
//! callers never block and memory stays bounded. The background thread
//! takes every queued batch at once, has the sender encode them straight
//! from the rows, and flushes on the interval.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use clew_model::Process;
use crossbeam_channel::{Receiver, Sender as Chan, bounded, unbounded};
use parking_lot::Mutex;

use super::{Reporter, ReporterStats, SpanBatch};
use crate::sender::Sender;
use crate::span::FinishedSpan;
use crate::span::pool;

/// Settings of a [`RemoteReporter`].
#[derive(Clone, Debug)]
pub struct RemoteReporterOptions {
    /// Spans that may wait for the background thread, across all threads
    /// (Jaeger: 100); beyond that, spans are dropped and counted.
    pub queue_size: usize,
    /// How often buffered spans are sent (Jaeger: 1 s).
    pub flush_interval: Duration,
    /// The background thread is woken once this many spans wait (or half
    /// the queue, whichever is more, up to 4,096 spans).
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

/// Waiting spans that wake the background thread, at most.
pub const MAX_WAKE_AT: usize = 4096;
/// Spans a thread collects before handing them over, at most.
const MAX_THREAD_BATCH: usize = 1024;

/// Keeps what other threads write off the cache lines the hot path reads.
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

#[derive(Debug)]
struct Shared {
    capacity: usize,
    wake_at: usize,
    batch_size: usize,
    closed: AtomicBool,
    wake: Chan<()>,
    queue: Padded<Mutex<Queue>>,
    process: Padded<Mutex<Arc<Process>>>,
    reported: Padded<AtomicU64>,
    failed: Padded<AtomicU64>,
    dropped: Padded<AtomicU64>,
}

/// Batches waiting for the background thread, and emptied ones for the
/// threads to collect into next.
#[derive(Debug, Default)]
struct Queue {
    batches: Vec<SpanBatch>,
    /// Spans in `batches`.
    spans: usize,
    free: Vec<SpanBatch>,
}

/// Emptied batches kept for reuse, at most.
const FREE_BATCHES: usize = 64;
/// Batches up to this many spans are copied onto the last queued batch
/// rather than moved: a thread whose spans are mostly roots hands over
/// one or two at a time, and moving would cost it a fresh batch each
/// time the background thread has not given enough back yet.
const COPY_AT_MOST: usize = 32;

impl Queue {
    /// Takes a thread's batch, leaving it empty (with capacity) for reuse.
    fn take(&mut self, batch: &mut SpanBatch) {
        if batch.len() <= COPY_AT_MOST {
            if self.batches.is_empty() {
                let fresh = self.free.pop().unwrap_or_default();
                self.batches.push(fresh);
            }
            if let Some(last) = self.batches.last_mut() {
                last.append(batch);
            }
            return;
        }
        // An emptied batch the background thread gave back; else one as
        // large as this one, so the thread does not grow it again.
        let empty = self.free.pop().unwrap_or_else(|| batch.empty_like());
        self.batches.push(std::mem::replace(batch, empty));
    }
}

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
        let capacity = options.queue_size.max(1);
        let (wake, wake_rx) = bounded(1);
        let (control, control_rx) = unbounded();
        let shared = Arc::new(Shared {
            capacity,
            // Waking the background thread is a futex call when it sleeps,
            // so not per batch; records never wait for it (threads recycle
            // their own), so rare wakes cost only latency.
            wake_at: options
                .thread_batch
                .max((capacity / 2).min(MAX_WAKE_AT))
                .clamp(1, capacity),
            // Half the queue, so two threads' batches fit side by side.
            batch_size: (capacity / 2).clamp(1, MAX_THREAD_BATCH),
            closed: AtomicBool::new(false),
            wake,
            queue: Padded(Mutex::new(Queue::default())),
            process: Padded(Mutex::new(Arc::new(Process::new("unknown_service")))),
            reported: Padded(AtomicU64::new(0)),
            failed: Padded(AtomicU64::new(0)),
            dropped: Padded(AtomicU64::new(0)),
        });
        let worker = Worker {
            shared: shared.clone(),
            sender,
            queue_dropped,
            taken: Vec::new(),
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

    fn count_dropped(&self, n: usize) {
        self.shared.dropped.fetch_add(n as u64, Ordering::Relaxed);
    }
}

impl Reporter for RemoteReporter {
    fn batch_size(&self) -> usize {
        self.shared.batch_size
    }

    /// One span on its own (reporters that wrap this one, as
    /// `log_spans` does; spans finished while a thread exits): written
    /// straight onto the last queued batch, allocating nothing.
    fn report(&self, mut span: Box<FinishedSpan>) {
        let shared = &self.shared;
        if shared.closed.load(Ordering::Relaxed) {
            self.count_dropped(1);
            pool::recycle_local(span);
            return;
        }
        let mut queue = shared.queue.lock();
        if queue.spans >= shared.capacity {
            drop(queue);
            self.count_dropped(1);
            pool::recycle_local(span);
            return;
        }
        queue.spans += 1;
        if queue.batches.is_empty() {
            let fresh = queue.free.pop().unwrap_or_default();
            queue.batches.push(fresh);
        }
        if let Some(last) = queue.batches.last_mut() {
            last.push_finished(&mut span);
        }
        let wake = queue.spans >= shared.wake_at;
        drop(queue);
        pool::recycle_local(span);
        if wake {
            let _ = shared.wake.try_send(());
        }
    }

    fn report_batch(&self, batch: &mut SpanBatch) {
        let shared = &self.shared;
        if shared.closed.load(Ordering::Relaxed) {
            self.count_dropped(batch.len());
            return;
        }
        let mut queue = shared.queue.lock();
        let room = shared.capacity.saturating_sub(queue.spans);
        let cut = batch.len().saturating_sub(room);
        batch.truncate(room);
        if !batch.is_empty() {
            queue.spans += batch.len();
            queue.take(batch);
        }
        let wake = queue.spans >= shared.wake_at;
        drop(queue);
        if cut > 0 {
            self.count_dropped(cut);
        }
        if wake {
            let _ = shared.wake.try_send(());
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
        ReporterStats {
            reported: self.shared.reported.load(Ordering::Relaxed),
            dropped: self.shared.dropped.load(Ordering::Relaxed),
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
    /// The batches being sent; swapped with the queue's on each drain.
    taken: Vec<SpanBatch>,
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

    /// Takes everything queued, then sends it.
    fn drain(&mut self) {
        {
            let mut queue = self.shared.queue.lock();
            std::mem::swap(&mut queue.batches, &mut self.taken);
            queue.spans = 0;
        }
        self.queue_dropped.store(
            self.shared.dropped.load(Ordering::Relaxed),
            Ordering::Relaxed,
        );
        if self.taken.is_empty() {
            return;
        }
        let process = self.shared.process.lock().clone();
        let (mut sent, mut lost) = (0, 0);
        // Times are not settled here: the encoders convert raw readings as
        // they read them. Writing every row on this thread left the rows'
        // cache lines modified in this core, and the threads that got the
        // emptied batches back fetched each line from here as they wrote
        // their next spans into it (calling-thread CPU at n = 1,000: 57–64
        // ns per span with a sender that reads nothing, 73–94 with UDP).
        for batch in &mut self.taken {
            let out = self.sender.append_batch(batch, &process);
            sent += out.sent;
            lost += out.lost;
            batch.clear();
        }
        self.shared
            .reported
            .fetch_add(sent as u64, Ordering::Relaxed);
        self.shared.failed.fetch_add(lost as u64, Ordering::Relaxed);
        let mut queue = self.shared.queue.lock();
        let keep = FREE_BATCHES.saturating_sub(queue.free.len());
        let n = self.taken.len();
        queue
            .free
            .extend(self.taken.drain(n.saturating_sub(keep)..));
        drop(queue);
        self.taken.clear();
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
