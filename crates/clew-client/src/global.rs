//! A process-wide tracer, for code that cannot be handed one.

use std::sync::OnceLock;

use parking_lot::RwLock;

use crate::tracer::Tracer;

fn slot() -> &'static RwLock<Option<Tracer>> {
    static SLOT: OnceLock<RwLock<Option<Tracer>>> = OnceLock::new();
    SLOT.get_or_init(|| RwLock::new(None))
}

/// Makes `tracer` the global tracer, returning the previous one.
pub fn set_tracer(tracer: Tracer) -> Option<Tracer> {
    slot().write().replace(tracer)
}

/// The global tracer (a no-op tracer until one is set). Clone it once and
/// keep it where spans are started often.
pub fn tracer() -> Tracer {
    if let Some(t) = slot().read().as_ref() {
        return t.clone();
    }
    static NOOP: OnceLock<Tracer> = OnceLock::new();
    NOOP.get_or_init(Tracer::noop).clone()
}

/// Removes the global tracer.
pub fn take_tracer() -> Option<Tracer> {
    slot().write().take()
}
