//! The thread's active span context (OpenTracing's scope manager).
//!
//! A stack per thread: activating pushes a context, dropping the scope pops
//! it. New spans without an explicit parent become children of the top,
//! unless the builder says `ignore_active_span`.

use std::cell::{Cell, RefCell};
use std::marker::PhantomData;

use crate::context::SpanContext;

thread_local! {
    static ACTIVE: RefCell<Vec<SpanContext>> = const { RefCell::new(Vec::new()) };
    /// `ACTIVE`'s length, mirrored in a cell without a destructor: every
    /// span start asks whether anything is active, and reading this costs
    /// one thread-local load, where `ACTIVE` (which must be dropped at
    /// thread exit) first checks its registration state and borrow flag.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Keeps a context active on this thread until dropped. Not `Send`: a scope
/// belongs to the thread that opened it.
#[derive(Debug)]
#[must_use = "the context is active only while the scope lives"]
pub struct ActiveScope {
    depth: usize,
    _not_send: PhantomData<*const ()>,
}

impl ActiveScope {
    /// Makes `context` the active one.
    pub fn enter(context: SpanContext) -> Self {
        let depth = ACTIVE.with(|a| {
            let mut a = a.borrow_mut();
            a.push(context);
            a.len()
        });
        DEPTH.set(depth);
        ActiveScope {
            depth,
            _not_send: PhantomData,
        }
    }
}

impl Drop for ActiveScope {
    fn drop(&mut self) {
        // Truncate rather than pop, so scopes dropped out of order cannot
        // leave stale contexts behind.
        let _ = ACTIVE.try_with(|a| {
            if let Ok(mut a) = a.try_borrow_mut() {
                a.truncate(self.depth.saturating_sub(1));
                DEPTH.set(a.len());
            }
        });
    }
}

/// The thread's active context, if any.
pub fn active_context() -> Option<SpanContext> {
    ACTIVE
        .try_with(|a| a.try_borrow().ok().and_then(|a| a.last().cloned()))
        .ok()
        .flatten()
}

/// True when some context is active (cheaper than cloning it).
#[inline]
pub(crate) fn has_active() -> bool {
    DEPTH.get() != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use clew_model::{SpanId, TraceId};

    #[test]
    fn scopes_nest_and_unwind() {
        assert!(active_context().is_none());
        let a = SpanContext::new(TraceId::new(0, 1), SpanId(1), SpanId(0), 1);
        let b = SpanContext::new(TraceId::new(0, 1), SpanId(2), SpanId(1), 1);
        let sa = ActiveScope::enter(a.clone());
        {
            let _sb = ActiveScope::enter(b.clone());
            assert_eq!(active_context(), Some(b));
        }
        assert_eq!(active_context(), Some(a));
        drop(sa);
        assert!(active_context().is_none());
        assert!(!has_active());
    }

    #[test]
    fn depth_follows_out_of_order_drops() {
        let ctx = SpanContext::new(TraceId::new(0, 1), SpanId(1), SpanId(0), 1);
        let outer = ActiveScope::enter(ctx.clone());
        let inner = ActiveScope::enter(ctx);
        assert!(has_active());
        // Dropping the outer scope first unwinds both.
        drop(outer);
        assert!(!has_active());
        assert!(active_context().is_none());
        drop(inner);
        assert!(!has_active());
    }
}
