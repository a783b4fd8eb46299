//! The thread's active span context (OpenTracing's scope manager).
//!
//! A stack per thread: activating pushes a context, dropping the scope pops
//! it. New spans without an explicit parent become children of the top,
//! unless the builder says `ignore_active_span`.

use std::cell::RefCell;
use std::marker::PhantomData;

use crate::context::SpanContext;

thread_local! {
    static ACTIVE: RefCell<Vec<SpanContext>> = const { RefCell::new(Vec::new()) };
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
    ACTIVE
        .try_with(|a| a.try_borrow().map(|a| !a.is_empty()).unwrap_or(false))
        .unwrap_or(false)
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
    }
}
