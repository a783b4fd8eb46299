//! `clew`: the all-in-one tracing backend.
//!
//! Table of contents: parse flags → resolve config → start logging → run the
//! all-in-one role until SIGINT/SIGTERM, then drain and exit.

mod admin;
mod cli;
mod config;
mod logging;
mod net;
#[cfg(target_os = "linux")]
mod query_cpu;
mod query_runtime;
mod roles;
mod shutdown;
mod storage;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc malloc: ingest allocates and frees millions of
/// small span parts per second from several threads, where glibc's arena
/// growth and page faults cost about 40 % of server CPU in the ingest
/// benchmark (docs/benchmarks.md). Transparent huge pages are switched off
/// at start (see [`disable_transparent_huge_pages`]).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    disable_transparent_huge_pages();
    delay_heap_purging();
    let cli = cli::Cli::parse();
    if let Some(cli::Command::Storage(cmd)) = &cli.command {
        return storage::run(cmd);
    }
    let config = match cli.resolve() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("clew: {e}");
            return ExitCode::from(2);
        }
    };
    logging::init(&config.log_level);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("clew: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let governor = query_cpu::install(config.query.busy_cpu_percent, cores);
    let query_rt = match query_runtime::build(config.query.cpu_nice, governor) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("clew: cannot start the query runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(roles::all_in_one::run(
        config,
        cli.ready_file,
        query_rt.handle().clone(),
    ));
    // The query listeners stopped with the rest; what is left (a search
    // past its deadline) need not hold up the exit.
    query_rt.shutdown_timeout(std::time::Duration::from_secs(1));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("clew: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// How long mimalloc keeps freed pages before returning them to the OS.
/// Its default (10 ms) gives back a request body's pages between two
/// requests, so the next body faults them in and the kernel zeroes them
/// again: `clear_page_erms` took 37 % of server CPU in the HTTP ingest
/// benchmark, 3 % with one second (docs/benchmarks.md). Idle memory still
/// goes back to the OS after a second. `MIMALLOC_PURGE_DELAY` in the
/// environment wins, for experiments.
const HEAP_PURGE_DELAY_MS: std::ffi::c_long = 1000;

/// `mi_option_purge_delay`'s position in mimalloc.h's `mi_option_e` (the
/// same in mimalloc 2 and 3); libmimalloc-sys does not export it.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

#[allow(unsafe_code)]
fn delay_heap_purging() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets a plain integer option, which mimalloc reads
        // atomically; no pointer crosses the boundary.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, HEAP_PURGE_DELAY_MS) };
    }
}

/// With THP, every first touch of fresh heap zeroes a whole 2 MiB page:
/// the kernel's page clearing then took 60–76 % of server CPU under ingest
/// load, against 24–34 % without (docs/benchmarks.md, "What changed with
/// mimalloc"). The store grows its heap continuously, so small pages win.
fn disable_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    if let Err(e) = nix::sys::prctl::set_thp_disable(true) {
        eprintln!("clew: could not disable transparent huge pages ({e}); ingest may use more CPU");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(unsafe_code)]
    fn the_purge_delay_option_is_the_one_set() {
        delay_heap_purging();
        // SAFETY: reads a plain integer option.
        let got = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        let want = std::env::var("MIMALLOC_PURGE_DELAY")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(HEAP_PURGE_DELAY_MS);
        assert_eq!(got, want);
        // The option after it (use_numa_nodes) keeps its default of 0, so
        // the index did not land on a neighbour.
        let numa = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY + 1) };
        assert_eq!(numa, 0);
    }
}

/// Elsewhere than Linux searches are not paced (the governor reads Linux
/// CPU clocks).
#[cfg(not(target_os = "linux"))]
mod query_cpu {
    pub struct Governor;
    impl Governor {
        pub fn thread_started(&'static self) {}
        pub fn thread_stopping(&self) {}
        pub fn register(&'static self, _: &mut prometheus_client::registry::Registry) {}
    }
    pub fn install(_: u8, _: usize) -> Option<&'static Governor> {
        None
    }
    pub fn governor() -> Option<&'static Governor> {
        None
    }
}
