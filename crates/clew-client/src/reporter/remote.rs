//! Batches spans to a sender on a background thread.
//!
//! The caller's side is built for the hot path: a finished span is pushed
//! into a buffer owned by the calling thread (an uncontended lock, no shared
//! counter). When that buffer holds a batch, the whole batch moves to a
//! bounded queue with one `try_send`; if the queue is full the batch is
//! dropped and counted, so callers never block and memory stays bounded.
//! The background thread converts spans to the model, feeds the sender, and
//! on every flush interval also collects the partial batches of all threads.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use clew_model::Process;
use crossbeam_channel::{Receiver, Sender as Chan, TrySendError, bounded, unbounded};
use parking_lot::Mutex;

use super::{Reporter, ReporterStats};
use crate::sender::Sender;
use crate::span::FinishedSpan;

/// Settings of a [`RemoteReporter`].
#[derive(Clone, Debug)]
pub struct RemoteReporterOptions {
    /// Spans that may wait in the shared queue (Jaeger: 100). Rounded up to
    /// whole thread batches.
    pub queue_size: usize,
    /// How often partial batches are collected and sent (Jaeger: 1 s).
    pub flush_interval: Duration,
    /// Spans a thread gathers before handing them over in one step.
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

type Batch = Vec<Box<FinishedSpan>>;

#[derive(Debug)]
struct LocalBuffer {
    spans: Mutex<Batch>,
}

enum Control {
    Flush(Chan<()>),
    Close(Chan<()>),
}

/// Keeps what the background thread writes off the cache line the hot
/// path reads: without it, every counter update by the reporter thread
/// would make the next `report` miss its cache.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Padded<T>(T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

#[derive(Debug)]
struct Shared {
    // Read on every report.
    id: u64,
    queue: Chan<Batch>,
    thread_batch: usize,
    closed: AtomicBool,
    // Written by the background thread.
    locals: Padded<Mutex<Vec<Weak<LocalBuffer>>>>,
    process: Padded<Mutex<Arc<Process>>>,
    reported: Padded<AtomicU64>,
    dropped: Padded<AtomicU64>,
    failed: Padded<AtomicU64>,
}

impl Shared {
    fn new_batch(&self) -> Batch {
        Vec::with_capacity(self.thread_batch)
    }

    /// Queues a batch; when the queue is full the spans are dropped (and
    /// counted) by recycling their records, which is cheaper than freeing.
    fn hand_over(&self, batch: Batch) {
        if let Err(TrySendError::Full(b) | TrySendError::Disconnected(b)) =
            self.queue.try_send(batch)
        {
            self.dropped.fetch_add(b.len() as u64, Ordering::Relaxed);
            crate::span::pool::recycle_batch_local(b);
        }
    }
}

/// This thread's buffer for one reporter; leftovers are handed over when
/// the thread exits.
struct LocalHandle {
    shared: Arc<Shared>,
    buffer: Arc<LocalBuffer>,
}

impl Drop for LocalHandle {
    fn drop(&mut self) {
        let rest = std::mem::take(&mut *self.buffer.spans.lock());
        if !rest.is_empty() && !self.shared.closed.load(Ordering::Relaxed) {
            self.shared.hand_over(rest);
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
        let thread_batch = options.thread_batch.max(1);
        let slots = options.queue_size.max(1).div_ceil(thread_batch);
        let (queue, queue_rx) = bounded(slots);
        let (control, control_rx) = unbounded();
        let shared = Arc::new(Shared {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            queue,
            locals: Padded(Mutex::new(Vec::new())),
            process: Padded(Mutex::new(Arc::new(Process::new("unknown_service")))),
            thread_batch,
            closed: AtomicBool::new(false),
            reported: Padded(AtomicU64::new(0)),
            dropped: Padded(AtomicU64::new(0)),
            failed: Padded(AtomicU64::new(0)),
        });
        let worker = Worker {
            shared: shared.clone(),
            sender: Box::new(sender),
            queue: queue_rx,
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
}

impl Reporter for RemoteReporter {
    #[inline]
    fn report(&self, span: Box<FinishedSpan>) {
        let shared = &self.shared;
        if shared.closed.load(Ordering::Relaxed) {
            shared.dropped.fetch_add(1, Ordering::Relaxed);
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
                    let buffer = Arc::new(LocalBuffer {
                        spans: Mutex::new(shared.new_batch()),
                    });
                    shared.locals.lock().push(Arc::downgrade(&buffer));
                    locals.push(LocalHandle {
                        shared: shared.clone(),
                        buffer,
                    });
                    locals.len() - 1
                }
            };
            let mut spans = locals[idx].buffer.spans.lock();
            if let Some(s) = span.take() {
                spans.push(s);
            }
            if spans.len() >= shared.thread_batch {
                let full = std::mem::replace(&mut *spans, shared.new_batch());
                drop(spans);
                shared.hand_over(full);
            }
        });
        if let Some(s) = span {
            // No usable thread-local (thread exiting): hand over alone.
            shared.hand_over(vec![s]);
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
    queue: Receiver<Batch>,
    control: Receiver<Control>,
    interval: Duration,
}

impl Worker {
    fn run(mut self) {
        let mut next_tick = Instant::now() + self.interval;
        loop {
            let wait = next_tick.saturating_duration_since(Instant::now());
            crossbeam_channel::select! {
                recv(self.queue) -> b => if let Ok(b) = b { self.process(b) },
                recv(self.control) -> c => match c {
                    Ok(Control::Flush(ack)) => {
                        self.drain_all();
                        self.send_result(|s| s.flush());
                        let _ = ack.send(());
                    }
                    Ok(Control::Close(ack)) => {
                        self.drain_all();
                        self.send_result(|s| s.close());
                        let _ = ack.send(());
                        return;
                    }
                    Err(_) => return,
                },
                default(wait) => {
                    self.drain_all();
                    self.send_result(|s| s.flush());
                    next_tick = Instant::now() + self.interval;
                }
            }
            if Instant::now() >= next_tick {
                self.drain_all();
                self.send_result(|s| s.flush());
                next_tick = Instant::now() + self.interval;
            }
        }
    }

    /// Everything queued plus every thread's partial batch.
    fn drain_all(&mut self) {
        while let Ok(b) = self.queue.try_recv() {
            self.process(b);
        }
        let buffers: Vec<Arc<LocalBuffer>> = {
            let mut locals = self.shared.locals.lock();
            locals.retain(|w| w.strong_count() > 0);
            locals.iter().filter_map(Weak::upgrade).collect()
        };
        for buf in buffers {
            let batch = std::mem::take(&mut *buf.spans.lock());
            if !batch.is_empty() {
                self.process(batch);
            }
        }
    }

    fn process(&mut self, mut batch: Batch) {
        let process = self.shared.process.lock().clone();
        for record in batch.iter_mut() {
            let span = crate::convert::take_model(record, &process);
            self.send_result(|s| s.append(span));
        }
        crate::span::pool::recycle_batch(batch);
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
mod tests {
    use super::*;
    use crate::Tracer;
    use crate::sampler::ConstSampler;
    use crate::sender::SendError;

    /// Records what it is asked to send.
    #[derive(Debug, Clone, Default)]
    struct Recorder {
        sent: Arc<Mutex<Vec<clew_model::Span>>>,
        pending: Vec<clew_model::Span>,
    }

    impl Sender for Recorder {
        fn append(&mut self, span: clew_model::Span) -> Result<usize, SendError> {
            self.pending.push(span);
            Ok(0)
        }
        fn flush(&mut self) -> Result<usize, SendError> {
            let n = self.pending.len();
            self.sent.lock().append(&mut self.pending);
            Ok(n)
        }
    }

    #[test]
    fn spans_from_many_threads_arrive_after_flush() {
        let rec = Recorder::default();
        let sent = rec.sent.clone();
        let reporter = RemoteReporter::new(
            rec,
            RemoteReporterOptions {
                queue_size: 10_000,
                flush_interval: Duration::from_secs(60),
                thread_batch: 8,
            },
        );
        let tracer = Tracer::builder("svc")
            .sampler(ConstSampler(true))
            .reporter(reporter)
            .build();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let t = tracer.clone();
                std::thread::spawn(move || {
                    for _ in 0..5 {
                        t.span("op").start().finish();
                    }
                })
            })
            .collect();
        for h in threads {
            h.join().expect("thread");
        }
        // 3 more on this thread stay in its partial batch until flushed.
        for _ in 0..3 {
            tracer.span("main").start().finish();
        }
        tracer.flush();
        assert_eq!(sent.lock().len(), 23);
        assert_eq!(tracer.reporter_stats().reported, 23);
        assert_eq!(&*sent.lock()[0].process.service_name, "svc");
        tracer.close();
    }

    #[test]
    fn flush_interval_sends_without_being_asked() {
        let rec = Recorder::default();
        let sent = rec.sent.clone();
        let reporter = RemoteReporter::new(
            rec,
            RemoteReporterOptions {
                flush_interval: Duration::from_millis(20),
                ..Default::default()
            },
        );
        let tracer = Tracer::builder("svc").reporter(reporter).build();
        tracer.span("op").start().finish();
        let deadline = Instant::now() + Duration::from_secs(5);
        while sent.lock().is_empty() {
            assert!(Instant::now() < deadline, "interval flush never happened");
            std::thread::sleep(Duration::from_millis(5));
        }
        tracer.close();
    }

    #[test]
    fn full_queue_drops_and_counts_instead_of_blocking() {
        /// A sender that never returns from the first append until released.
        #[derive(Debug)]
        struct Stuck(Receiver<()>);
        impl Sender for Stuck {
            fn append(&mut self, _s: clew_model::Span) -> Result<usize, SendError> {
                let _ = self.0.recv_timeout(Duration::from_secs(10));
                Ok(1)
            }
            fn flush(&mut self) -> Result<usize, SendError> {
                Ok(0)
            }
        }
        let (release, rx) = bounded(1000);
        let reporter = RemoteReporter::new(
            Stuck(rx),
            RemoteReporterOptions {
                queue_size: 2,
                flush_interval: Duration::from_secs(60),
                thread_batch: 1,
            },
        );
        let tracer = Tracer::builder("svc").reporter(reporter).build();
        let start = Instant::now();
        for _ in 0..100 {
            tracer.span("op").start().finish();
        }
        assert!(start.elapsed() < Duration::from_secs(2), "report blocked");
        let stats = tracer.reporter_stats();
        assert!(stats.dropped >= 90, "{stats:?}");
        for _ in 0..1000 {
            let _ = release.try_send(());
        }
        tracer.close();
        tracer.span("late").start().finish();
        assert!(tracer.reporter_stats().dropped > stats.dropped);
    }

    #[test]
    fn close_sends_what_exiting_threads_left() {
        let rec = Recorder::default();
        let sent = rec.sent.clone();
        let reporter = RemoteReporter::new(
            rec,
            RemoteReporterOptions {
                queue_size: 1000,
                flush_interval: Duration::from_secs(60),
                thread_batch: 100,
            },
        );
        let tracer = Tracer::builder("svc").reporter(reporter).build();
        let t = tracer.clone();
        std::thread::spawn(move || t.span("bye").start().finish())
            .join()
            .expect("thread");
        tracer.close();
        assert_eq!(sent.lock().len(), 1);
    }
}
