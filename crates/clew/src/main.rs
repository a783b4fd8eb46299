//! `clew`: the all-in-one tracing backend.
//!
//! Table of contents: parse flags → resolve config → start logging → run the
//! all-in-one role until SIGINT/SIGTERM, then drain and exit.

mod admin;
mod cli;
mod config;
mod roles;
mod shutdown;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc malloc: ingest allocates and frees millions of
/// small span parts per second from several threads, where glibc's arena
/// growth and page faults cost about 40 % of server CPU in the ingest
/// benchmark (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let config = match cli.resolve() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("clew: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config.log_level);
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

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
