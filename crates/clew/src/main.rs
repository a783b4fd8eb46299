//! `clew`: the all-in-one tracing backend.
//!
//! Table of contents: parse flags → resolve config → start logging → run the
//! all-in-one role until SIGINT/SIGTERM, then drain and exit.

mod admin;
mod cli;
mod config;
mod logging;
mod net;
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
    match runtime.block_on(roles::all_in_one::run(config, cli.ready_file)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("clew: {e:#}");
            ExitCode::FAILURE
        }
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
