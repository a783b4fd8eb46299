//! When a thread hands its collected spans over.

use std::sync::Arc;

use parking_lot::Mutex;

use crate::Tracer;
use crate::reporter::{Reporter, SpanBatch};
use crate::sampler::ConstSampler;
use crate::span::FinishedSpan;

/// Records the operation names of each batch it is handed.
#[derive(Debug, Default)]
struct Batches {
    size: usize,
    got: Mutex<Vec<Vec<String>>>,
}

impl Reporter for Batches {
    fn report(&self, span: Box<FinishedSpan>) {
        self.got.lock().push(vec![span.operation_name.to_string()]);
    }
    fn batch_size(&self) -> usize {
        self.size
    }
    fn report_batch(&self, batch: &mut SpanBatch) {
        let names = batch.rows.iter().map(|r| r.operation_name.to_string());
        self.got.lock().push(names.collect());
    }
}

fn setup(size: usize) -> (Tracer, Arc<Batches>) {
    let rep = Arc::new(Batches {
        size,
        ..Default::default()
    });
    let t = Tracer::builder("svc")
        .sampler(ConstSampler(true))
        .reporter_arc(rep.clone())
        .build();
    (t, rep)
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_local_subtree_is_handed_over_once_when_its_root_finishes() {
    let (t, rep) = setup(100);
    let root = t.span("root").start();
    for name in ["a", "b", "c"] {
        t.span(name).child_of(&root).start().finish();
    }
    assert!(rep.got.lock().is_empty(), "children wait for their root");
    root.finish();
    assert_eq!(*rep.got.lock(), vec![names(&["a", "b", "c", "root"])]);
    // A span with nothing open on the thread is a subtree of its own.
    t.span("alone").start().finish();
    assert_eq!(rep.got.lock()[1], names(&["alone"]));
}

#[test]
fn full_batches_are_handed_over_before_the_root_finishes() {
    let (t, rep) = setup(2);
    let root = t.span("root").start();
    for name in ["a", "b", "c"] {
        t.span(name).child_of(&root).start().finish();
    }
    assert_eq!(*rep.got.lock(), vec![names(&["a", "b"])]);
    root.finish();
    assert_eq!(rep.got.lock()[1], names(&["c", "root"]));
}

#[test]
fn flush_and_thread_exit_hand_over_what_waits() {
    let (t, rep) = setup(100);
    let root = t.span("root").start();
    t.span("a").child_of(&root).start().finish();
    t.flush();
    assert_eq!(*rep.got.lock(), vec![names(&["a"])]);
    let t2 = t.clone();
    std::thread::spawn(move || {
        let open = t2.span("never-finished-here").start();
        t2.span("b").child_of(&open).start().finish();
        std::mem::forget(open);
    })
    .join()
    .expect("thread");
    assert_eq!(rep.got.lock()[1], names(&["b"]));
    root.finish();
}

/// The batch's age is its first span's end: with that end an hour ago
/// the batch is handed over at the next age check, before the root
/// finishes; with it an hour ahead it waits for the root.
#[test]
fn an_old_batch_is_handed_over_before_its_root_finishes() {
    use std::time::{Duration, SystemTime};
    for (ago, handed_early) in [(true, true), (false, false)] {
        let (t, rep) = setup(1000);
        let root = t.span("root").start();
        let hour = Duration::from_secs(3600);
        let first_end = if ago {
            SystemTime::now() - hour
        } else {
            SystemTime::now() + hour
        };
        t.span("first")
            .child_of(&root)
            .with_start_time(first_end - Duration::from_secs(1))
            .start()
            .finish_at(first_end);
        for _ in 1..super::AGE_CHECK_EVERY {
            t.span("c").child_of(&root).start().finish();
        }
        let got = rep.got.lock().clone();
        if handed_early {
            assert_eq!(got.len(), 1, "handed over at the age check");
            assert_eq!(got[0].len(), super::AGE_CHECK_EVERY);
            assert_eq!(got[0][0], "first");
        } else {
            assert!(got.is_empty(), "a young batch waits for its root");
        }
        root.finish();
        let total: usize = rep.got.lock().iter().map(Vec::len).sum();
        assert_eq!(total, super::AGE_CHECK_EVERY + 1);
    }
}

#[test]
fn a_root_finished_on_another_thread_releases_its_home_batch() {
    let (t, rep) = setup(100);
    let root = t.span("root").start();
    t.span("a").child_of(&root).start().finish();
    // The root moves away and finishes elsewhere, where nothing is open.
    std::thread::spawn(move || root.finish())
        .join()
        .expect("thread");
    assert_eq!(*rep.got.lock(), vec![names(&["root"])]);
    // Back home, the next finish hands over what waited for the root.
    t.span("b").start().finish();
    assert_eq!(rep.got.lock()[1], names(&["a", "b"]));
    // And the thread starts new subtrees afresh.
    let r2 = t.span("r2").start();
    t.span("c").child_of(&r2).start().finish();
    r2.finish();
    assert_eq!(rep.got.lock()[2], names(&["c", "r2"]));
}

/// Keeps every span it gets, batched or alone, as (name, start, duration).
#[derive(Debug, Default)]
struct Times {
    got: Mutex<Vec<(String, u64, u64)>>,
}

impl Reporter for Times {
    fn report(&self, span: Box<FinishedSpan>) {
        let got = (
            span.operation_name.to_string(),
            span.start_time,
            span.duration,
        );
        self.got.lock().push(got);
    }
    fn batch_size(&self) -> usize {
        100
    }
    fn report_batch(&self, batch: &mut SpanBatch) {
        let p = Arc::new(clew_model::Process::new("svc"));
        let spans = batch.to_model(&p);
        let got = spans.map(|s| (s.operation_name.to_string(), s.start_time, s.duration));
        self.got.lock().extend(got);
    }
}

/// Spans started and finished by another thread-local's destructor, while
/// the thread exits (its stage closed before or after that destructor:
/// the order is the runtime's), are delivered with their real times.
#[test]
fn spans_of_an_exiting_thread_are_delivered_with_their_times() {
    let rep = Arc::new(Times::default());
    let t = Tracer::builder("svc")
        .sampler(ConstSampler(true))
        .reporter_arc(rep.clone())
        .build();

    struct AtExit(Option<(Tracer, crate::Span)>);
    impl Drop for AtExit {
        fn drop(&mut self) {
            if let Some((t, root)) = self.0.take() {
                t.span("late").child_of(&root).start().finish();
                root.finish();
            }
        }
    }
    thread_local! {
        static AT_EXIT: std::cell::RefCell<AtExit> = const { std::cell::RefCell::new(AtExit(None)) };
    }

    let t2 = t.clone();
    let before = crate::clock::now_unix_nanos();
    std::thread::spawn(move || {
        // Registered before the stage's owner, so (if destructors run in
        // reverse order) it runs after the stage closed.
        AT_EXIT.with(|_| ());
        let root = t2.span("root").start();
        t2.span("early").child_of(&root).start().finish();
        AT_EXIT.with(|a| a.borrow_mut().0 = Some((t2.clone(), root)));
    })
    .join()
    .expect("thread");
    let after = crate::clock::now_unix_nanos();
    let mut got = rep.got.lock().clone();
    got.sort();
    let names: Vec<&str> = got.iter().map(|(n, ..)| n.as_str()).collect();
    assert_eq!(names, ["early", "late", "root"]);
    for (name, start, duration) in got {
        assert!(
            start >= before && start + duration <= after,
            "{name}: {start} + {duration} not within {before}..{after}"
        );
    }
}

#[test]
fn span_by_span_reporters_get_each_span_as_it_finishes() {
    let (t, rep) = setup(0);
    let root = t.span("root").start();
    t.span("a").child_of(&root).start().finish();
    assert_eq!(*rep.got.lock(), vec![names(&["a"])]);
    root.finish();
}

/// Keeps each batch as model spans.
#[derive(Debug, Default)]
struct Models {
    got: Mutex<Vec<clew_model::Span>>,
}

impl Reporter for Models {
    fn report(&self, _span: Box<FinishedSpan>) {
        panic!("a batching reporter gets batches");
    }
    fn batch_size(&self) -> usize {
        100
    }
    fn report_batch(&self, batch: &mut SpanBatch) {
        let p = Arc::new(clew_model::Process::new("svc"));
        self.got.lock().extend(batch.to_model(&p));
    }
}

/// A plain child (the builder's fast path) is recorded as the general
/// path records the same child: same trace, parent, reference kind, flags
/// and name; only its ID, times and the tag that forced the general path
/// differ.
#[test]
fn plain_children_match_the_general_path() {
    let rep = Arc::new(Models::default());
    let t = Tracer::builder("svc")
        .sampler(ConstSampler(true))
        .reporter_arc(rep.clone())
        .build();
    let root = t.span("root").start();
    let other = t.span("other").start();
    t.span("c").child_of(&root).start().finish();
    t.span("c")
        .child_of(&root)
        .with_tag("x", 1)
        .start()
        .finish();
    t.span("f").follows_from(&other).start().finish();
    t.span("f")
        .follows_from(&other)
        .with_tag("x", 1)
        .start()
        .finish();
    {
        // A child of the active span, with no reference given.
        let _active = root.activate();
        t.span("a").start().finish();
        t.span("a").with_tag("x", 1).start().finish();
    }
    other.finish();
    root.finish();
    let spans = rep.got.lock().clone();
    let by_name = |n: &str| -> Vec<clew_model::Span> {
        spans
            .iter()
            .filter(|s| &*s.operation_name == n)
            .cloned()
            .collect()
    };
    for name in ["c", "f", "a"] {
        let got = by_name(name);
        assert_eq!(got.len(), 2, "{name}");
        let (fast, mut general) = (got[0].clone(), got[1].clone());
        assert!(fast.tags.is_empty(), "{name}: {:?}", fast.tags);
        general.tags.retain(|kv| &*kv.key != "x");
        general.span_id = fast.span_id;
        general.start_time = fast.start_time;
        general.duration = fast.duration;
        assert_eq!(fast, general, "{name}");
        assert_eq!(fast.references.len(), 1);
    }
    assert_eq!(
        by_name("f")[0].references[0].ref_type,
        clew_model::RefType::FollowsFrom
    );
}
