//! The query APIs' own runtime, on threads of lower CPU priority.
//!
//! A search over millions of spans is tens of milliseconds of CPU, and a
//! user (or Grafana) may run them back to back. On the ingest runtime's
//! threads, one search loop beside a full-speed sender took the CPU ingest
//! needed: HTTP thrift ingest fell from 439 k to 305 k spans/s on two cores
//! (bench-ingest `SEARCH_LOAD=1`). The query HTTP and gRPC listeners
//! therefore run on a runtime of their own whose worker and blocking threads
//! carry a nice value (`query.cpu_nice`, 5 by default): under contention
//! the kernel weighs a query thread at about a third of an ingest thread,
//! and gives it everything when ingest is idle. Admin (health, metrics)
//! stays on the main runtime at normal priority.

use std::io;

use axum::response::IntoResponse;
use tokio::runtime::Runtime;

use crate::query_cpu::Governor;

/// Most blocking threads the query runtime starts: heavy reads and answer
/// builders are already capped at one per core each, so this only bounds
/// cheap blocking work (file reads of the disk store).
const MAX_BLOCKING_THREADS: usize = 64;

/// A multi-threaded runtime (one worker per core) whose threads all run at
/// `nice`. Lowering a thread's priority never fails for lack of privilege;
/// if the system refuses anyway, the threads run at normal priority and
/// one warning says so.
///
/// With a `governor`, every thread of the runtime is paced by it (see
/// [`crate::query_cpu`]).
pub fn build(nice: u8, governor: Option<&'static Governor>) -> io::Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .thread_name("clew-query")
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .on_thread_start(move || {
            lower_priority(nice);
            if let Some(g) = governor {
                g.thread_started();
            }
        })
        .on_thread_stop(move || {
            if let Some(g) = governor {
                g.thread_stopping();
            }
        })
        .enable_all()
        .build()
}

/// `router`'s requests, handled on `rt` (the query runtime) whatever
/// runtime accepted the connection. The Zipkin read API shares port 9411
/// with Zipkin ingest, so its listener runs on the ingest runtime; this
/// moves its searches to the query threads, at their nice value and paced
/// like every other search, instead of at ingest's priority. A request
/// whose client goes away is aborted there too.
pub fn on_runtime(router: axum::Router, rt: tokio::runtime::Handle) -> axum::Router {
    router.layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            let task = rt.spawn(next.run(req));
            // Made before the future below, so dropping that future even
            // before its first poll aborts the task; dropped after the
            // answer too (aborting a finished task does nothing, and the
            // handle's drop releases its hold on the task).
            let abort = AbortOnDrop(task.abort_handle());
            async move {
                let out = task.await;
                drop(abort);
                out.unwrap_or_else(|e| {
                    tracing::error!(error = %e, "a query request's task failed");
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
                })
            }
        },
    ))
}

/// Aborts a task when the future awaiting it is dropped (the connection
/// closed before the answer).
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn lower_priority(nice: u8) {
    use std::sync::atomic::{AtomicBool, Ordering};
    static WARNED: AtomicBool = AtomicBool::new(false);
    if nice == 0 {
        return;
    }
    // SAFETY: plain syscalls on integers. On Linux the nice value belongs to
    // a thread, and PRIO_PROCESS with a thread ID sets that thread's only.
    let rc = unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, i32::from(nice))
    };
    if rc != 0 && !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            nice,
            error = %io::Error::last_os_error(),
            "cannot lower the query threads' priority; searches compete with ingest at equal priority"
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority(_nice: u8) {}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    /// The nice value of the calling thread, from its own /proc entry.
    fn thread_nice() -> Option<i64> {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
        // Field 19 is `nice`; fields after the ")" that ends the name.
        let rest = stat.rsplit_once(')')?.1;
        rest.split_whitespace().nth(16)?.parse().ok()
    }

    #[test]
    fn query_threads_run_at_the_configured_nice_value() {
        let before = thread_nice();
        // Raising priority back needs privilege, so only a runner at a
        // nice value of at most 7 can see 7 (CI runs at 0).
        if before.is_none_or(|n| n > 7) {
            return;
        }
        let rt = super::build(7, None).expect("runtime");
        let worker = rt.block_on(async { tokio::spawn(async { thread_nice() }).await });
        let blocking = rt.block_on(async { tokio::task::spawn_blocking(thread_nice).await });
        assert_eq!(worker.ok().flatten(), Some(7));
        assert_eq!(blocking.ok().flatten(), Some(7));
        // The calling thread keeps its priority.
        assert_eq!(thread_nice(), before);
    }

    #[test]
    fn a_router_on_the_query_runtime_answers_from_its_threads() {
        use tower::ServiceExt;
        let query = super::build(0, None).expect("runtime");
        let router = axum::Router::new().route(
            "/",
            axum::routing::get(|| async {
                std::thread::current()
                    .name()
                    .unwrap_or_default()
                    .to_string()
            }),
        );
        let router = super::on_runtime(router, query.handle().clone());
        let ingest = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let body = ingest.block_on(async {
            let req = axum::extract::Request::new(axum::body::Body::empty());
            let resp = router.oneshot(req).await.expect("infallible");
            axum::body::to_bytes(resp.into_body(), 1024)
                .await
                .expect("body")
        });
        assert_eq!(&body[..], b"clew-query");
    }
}
