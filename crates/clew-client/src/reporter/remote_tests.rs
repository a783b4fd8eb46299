//! Tests of the remote reporter: batching, flushing, drops, thread exit.
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
    /// A sender that never returns from the first append until released,
    /// and keeps the drop counter the reporter hands it.
    #[derive(Debug)]
    struct Stuck(Receiver<()>, Arc<Mutex<Option<Arc<AtomicU64>>>>);
    impl Sender for Stuck {
        fn append(&mut self, _s: clew_model::Span) -> Result<usize, SendError> {
            let _ = self.0.recv_timeout(Duration::from_secs(10));
            Ok(1)
        }
        fn flush(&mut self) -> Result<usize, SendError> {
            Ok(0)
        }
        fn set_queue_drop_counter(&mut self, counter: Arc<AtomicU64>) {
            *self.1.lock() = Some(counter);
        }
    }
    let (release, rx) = bounded(1000);
    let counter = Arc::new(Mutex::new(None));
    let reporter = RemoteReporter::new(
        Stuck(rx, counter.clone()),
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
    // The sender saw the queue drops as of the last drain (on close).
    let seen = counter
        .lock()
        .as_ref()
        .expect("reporter handed over its drop counter")
        .load(Ordering::Relaxed);
    assert_eq!(seen, tracer.reporter_stats().dropped);
    assert!(seen >= stats.dropped, "{seen} < {stats:?}");
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

#[test]
fn spans_reported_one_by_one_arrive_with_their_times() {
    // Behind a composite (as with `log_spans`), the remote reporter gets
    // each span on its own through `report`.
    let rec = Recorder::default();
    let sent = rec.sent.clone();
    let remote = RemoteReporter::new(
        rec,
        RemoteReporterOptions {
            queue_size: 1000,
            flush_interval: Duration::from_secs(60),
            thread_batch: 100,
        },
    );
    let reporter = super::super::CompositeReporter::new(vec![Arc::new(remote)]);
    let tracer = Tracer::builder("svc")
        .sampler(ConstSampler(true))
        .reporter(reporter)
        .build();
    let before = crate::clock::now_unix_nanos();
    let root = tracer.span("root").with_tag("k", 1).start();
    tracer.span("child").child_of(&root).start().finish();
    root.finish();
    tracer.flush();
    let spans = sent.lock().clone();
    let names: Vec<&str> = spans.iter().map(|s| &*s.operation_name).collect();
    assert_eq!(names, ["child", "root"]);
    assert!(spans.iter().all(|s| s.start_time >= before));
    assert_eq!(spans[1].tag("k"), Some(&clew_model::Value::I64(1)));
    assert_eq!(spans[0].parent_span_id(), Some(spans[1].span_id));
    tracer.close();
}
