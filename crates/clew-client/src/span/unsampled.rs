//! Recycled boxes for unsampled spans' contexts.
//!
//! An unsampled span keeps its context in a box, so a [`super::Span`] is
//! two words (a tag and a pointer) that travel in registers. Holding the
//! 56-byte context inline made every span kept in a variable and borrowed
//! (`let mut s = …; s.set_tag(…); s.finish()`) be copied into `finish`
//! with wide loads over the narrow stores that had just built it, which
//! stalled (failed store-to-load forwarding): 13–15 ns for an unsampled
//! span with a tag, against 5 ns for one finished in a chained call.
//!
//! The boxes are reused on the thread that finishes the span: one slot
//! for the box finished last (a span that starts and finishes in turn
//! takes it back at once), a small stash behind it for nested spans. So
//! the steady state allocates nothing, and a thread's boxes are freed when
//! it exits.
//!
//! The spare boxes live in a thread-local without a destructor
//! (`ManuallyDrop`), so reaching it tests nothing (a thread-local with one
//! is checked for having been registered or destroyed at every access:
//! three instructions, twice a span). A second thread-local, registered
//! when a thread first keeps a box, frees them at thread exit; a box
//! recycled after that is freed at once.

use std::cell::{Cell, RefCell};
use std::mem::ManuallyDrop;

use crate::context::SpanContext;

/// Boxes a thread keeps behind its last-finished slot, at most.
const STASH_MAX: usize = 64;

/// This thread's spare context boxes.
struct Spare {
    /// The box finished last; the next unsampled span takes it.
    last: Cell<Option<Box<SpanContext>>>,
    /// More boxes, for spans that nest (touched only out of line). Boxes,
    /// not contexts: the allocations themselves are what is reused.
    #[allow(clippy::vec_box)]
    stash: RefCell<Vec<Box<SpanContext>>>,
    /// [`SPARE_OWNER`] is registered to free the boxes at thread exit (and
    /// has not yet done so).
    owned: Cell<bool>,
}

/// Frees this thread's spare boxes when the thread exits.
struct SpareOwner;

impl Drop for SpareOwner {
    fn drop(&mut self) {
        let _ = SPARE.try_with(|s| {
            s.owned.set(false);
            drop(s.last.take());
            if let Ok(mut stash) = s.stash.try_borrow_mut() {
                drop(std::mem::take(&mut *stash));
            }
        });
    }
}

thread_local! {
    static SPARE: ManuallyDrop<Spare> = const {
        ManuallyDrop::new(Spare {
            last: Cell::new(None),
            stash: RefCell::new(Vec::new()),
            owned: Cell::new(false),
        })
    };
    static SPARE_OWNER: SpareOwner = const { SpareOwner };
}

/// The context `make` builds, in a (recycled) box. A closure, so the
/// context is built after the box is taken, straight into it: built first,
/// it went through the stack and was copied in with wide loads over the
/// narrow stores that had just written it (a stall).
#[inline(always)]
pub(crate) fn boxed(make: impl FnOnce() -> SpanContext) -> Box<SpanContext> {
    let mut spare = take();
    // Every spare box was released (see `recycle`) or is new: the old
    // context owns nothing, and forgetting it skips the checks a drop makes.
    std::mem::forget(std::mem::replace(&mut *spare, make()));
    spare
}

/// A child context of `parent` in a (recycled) box, written in place field
/// by field (a closure building it was kept out of line and returned the
/// context through memory).
#[inline(always)]
pub(crate) fn child_of(parent: &SpanContext, span_id: clew_model::SpanId) -> Box<SpanContext> {
    let mut spare = take();
    spare.become_child_of_released(parent, span_id, None);
    spare
}

#[inline(always)]
fn take() -> Box<SpanContext> {
    match SPARE.try_with(|s| s.last.take()) {
        Ok(Some(spare)) => spare,
        _ => take_stashed(),
    }
}

/// A box from the stash, or a new one. Out of line: nested spans and a
/// thread's first span only.
#[cold]
#[inline(never)]
fn take_stashed() -> Box<SpanContext> {
    SPARE
        .try_with(|s| s.stash.try_borrow_mut().ok()?.pop())
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Releases the context's shared parts and keeps the box for this
/// thread's next unsampled span.
#[inline(always)]
pub(crate) fn recycle(mut context: Box<SpanContext>) {
    context.release_shared();
    let _ = SPARE.try_with(move |s| {
        if !s.owned.get() {
            return adopt(s, context);
        }
        if let Some(older) = s.last.replace(Some(context)) {
            stash(s, older);
        }
    });
}

/// The first box a thread keeps: registers [`SPARE_OWNER`] to free the
/// boxes at thread exit, or, when the thread is exiting (the owner is
/// gone), frees the box now.
#[cold]
#[inline(never)]
fn adopt(s: &Spare, context: Box<SpanContext>) {
    if SPARE_OWNER.try_with(|_| ()).is_ok() {
        s.owned.set(true);
        if let Some(older) = s.last.replace(Some(context)) {
            stash(s, older);
        }
    }
}

/// [`recycle`], out of line: for unsampled spans dropped unfinished.
#[inline(never)]
pub(crate) fn recycle_unfinished(context: Box<SpanContext>) {
    recycle(context);
}

/// The last-finished slot was taken: keep the older box in the stash (or
/// free it when the stash is full).
#[cold]
#[inline(never)]
fn stash(s: &Spare, spare: Box<SpanContext>) {
    if let Ok(mut stash) = s.stash.try_borrow_mut()
        && stash.len() < STASH_MAX
    {
        stash.push(spare);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clew_model::{SpanId, TraceId};

    #[test]
    fn a_recycled_box_is_reused_and_released() {
        let ctx = SpanContext::new(TraceId::new(0, 1), SpanId(2), SpanId(0), 0)
            .with_baggage_item("k", "v");
        let shared = |c: &SpanContext| c.baggage_arc().map(std::sync::Arc::strong_count);
        let first = boxed(|| ctx.clone());
        assert_eq!(shared(&ctx), Some(2));
        let addr = &*first as *const SpanContext as usize;
        recycle(first);
        // Released on recycling, not when reused.
        assert_eq!(shared(&ctx), Some(1));
        let again = boxed(SpanContext::default);
        assert_eq!(&*again as *const SpanContext as usize, addr);
        assert_eq!(*again, SpanContext::default());
        recycle(again);
    }

    /// Boxes taken and recycled by a thread-local's destructor while the
    /// thread exits, before or after the owner freed the spare boxes (the
    /// order is the runtime's): nothing is kept past the owner, and the
    /// contexts' shared parts are released either way.
    #[test]
    fn boxes_recycled_while_the_thread_exits_are_released() {
        use std::sync::Arc;
        let ctx = SpanContext::new(TraceId::new(0, 1), SpanId(2), SpanId(0), 0)
            .with_baggage_item("k", "v");
        let shared = |c: &SpanContext| c.baggage_arc().map(Arc::strong_count);

        struct AtExit(Option<SpanContext>);
        impl Drop for AtExit {
            fn drop(&mut self) {
                if let Some(ctx) = self.0.take() {
                    for _ in 0..3 {
                        recycle(boxed(|| ctx.clone()));
                    }
                }
            }
        }
        thread_local! {
            static AT_EXIT: std::cell::RefCell<AtExit> =
                const { std::cell::RefCell::new(AtExit(None)) };
        }

        let c = ctx.clone();
        std::thread::spawn(move || {
            // Registered before the owner (which the first recycled box
            // registers), so it may run after the owner.
            AT_EXIT.with(|_| ());
            recycle(boxed(|| c.clone()));
            AT_EXIT.with(|a| a.borrow_mut().0 = Some(c));
        })
        .join()
        .expect("thread");
        assert_eq!(shared(&ctx), Some(1));
    }

    #[test]
    fn nested_boxes_go_to_the_stash() {
        let outer = boxed(SpanContext::default);
        let inner = boxed(SpanContext::default);
        let addrs = [&*outer, &*inner].map(|b| b as *const SpanContext as usize);
        recycle(inner);
        recycle(outer);
        // Both are kept: the last finished in the slot, the other stashed.
        let a = boxed(SpanContext::default);
        let b = boxed(SpanContext::default);
        let mut got = [&*a, &*b].map(|b| b as *const SpanContext as usize);
        got.sort_unstable();
        let mut want = addrs;
        want.sort_unstable();
        assert_eq!(got, want);
    }
}
