//! Unsampled spans allocate nothing once a thread has made its first one
//! (whose context box is then recycled): counted by a global allocator that
//! counts this thread's allocations.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use clew_client::Tracer;
use clew_client::reporter::InMemoryReporter;
use clew_client::sampler::ConstSampler;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|a| a.set(a.get() + 1));
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn allocations_in(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn unsampled_spans_allocate_nothing_after_the_first() {
    let t = Tracer::builder("svc")
        .sampler(ConstSampler(false))
        .reporter(InMemoryReporter::new())
        .build();
    let received = clew_client::SpanContext::new(
        clew_model::TraceId::new(0, 7),
        clew_model::SpanId(8),
        clew_model::SpanId(0),
        0,
    );
    let run = || {
        t.span("root").start().finish();
        let mut s = t.span("tagged").start();
        s.set_tag("http.method", "GET")
            .set_tag("http.status_code", 200);
        s.finish();
        let parent = t.span("parent").start();
        t.span("child").child_of(&parent).start().finish();
        drop(parent);
        t.span("remote").child_of(&received).start().finish();
    };
    // The counter sees this thread's allocations.
    assert_eq!(
        allocations_in(|| drop(std::hint::black_box(Box::new(1u64)))),
        1
    );
    // The thread's first spans take their boxes (and register the
    // thread-local that frees them at exit).
    run();
    let n = allocations_in(|| {
        for _ in 0..1000 {
            run();
        }
    });
    assert_eq!(n, 0, "allocations in 1,000 rounds of unsampled spans");
}
