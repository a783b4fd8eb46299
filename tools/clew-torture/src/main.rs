//! `clew-torture`: Clew's abuse suite. Starts `clew` (or attaches to a
//! running one), runs hostile cases one at a time, and for each records the
//! server's peak RSS, whether it survived, how fast admin health,
//! `/api/services` and a normal ingest request answered meanwhile, and what
//! `/metrics` counted; prints a markdown table and exits 1 if any case
//! misses a target. See docs/reliability.md.

mod cases;
mod grpc;
mod http;
mod metrics;
mod payload;
mod probe;
mod server;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use clap::Parser;

use cases::{Case, Ctx, Opts};
use probe::{ProbeStats, ProbeTargets, Probes};
use server::{RssSampler, Server};

/// Peak RSS target per case.
const RSS_TARGET: u64 = 2 << 30;

/// Clew's abuse suite (docs/reliability.md).
#[derive(Debug, Parser)]
#[command(name = "clew-torture", version, about)]
struct Cli {
    /// Start this clew binary (all ports 0, default flags otherwise).
    #[arg(long, value_name = "PATH", conflicts_with = "ready_file")]
    clew: Option<PathBuf>,
    /// Extra flags for the started clew (repeat; e.g. `--clew-arg=--queue-max-spans=50000`).
    #[arg(long = "clew-arg", value_name = "FLAG", allow_hyphen_values = true)]
    clew_args: Vec<String>,
    /// Target a running clew: its `--ready-file`…
    #[arg(long, value_name = "FILE", requires = "pid")]
    ready_file: Option<PathBuf>,
    /// …and its process ID (for /proc/PID/status).
    #[arg(long)]
    pid: Option<u32>,
    /// Run only cases whose name contains one of these (repeatable).
    #[arg(long = "case", value_name = "NAME")]
    cases: Vec<String>,
    /// The fast subset, with smaller sizes and shorter holds.
    #[arg(long)]
    quick: bool,
    /// List the cases and exit.
    #[arg(long)]
    list: bool,
    /// The server's HTTP body limit; bodies are built to just under it.
    #[arg(long, default_value_t = 16 << 20)]
    body_bytes: usize,
    /// The server's gRPC message limit.
    #[arg(long, default_value_t = 16 << 20)]
    grpc_bytes: usize,
    /// Connections for the idle and slowloris cases (default 10,000; 1,000 with --quick).
    #[arg(long)]
    conns: Option<usize>,
    /// Overload duration in seconds (default 60; 10 with --quick).
    #[arg(long)]
    overload_secs: Option<u64>,
    /// Also write the table to this file.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Where the started clew's stderr goes.
    #[arg(long, default_value = "clew-torture-server.log")]
    server_log: PathBuf,
}

/// One row of the table.
struct Row {
    name: &'static str,
    peak_rss: u64,
    alive: bool,
    probes: [ProbeStats; 3],
    client: String,
    counted: String,
    failures: Vec<String>,
    notes: Vec<String>,
    took: Duration,
}

fn main() {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("clew-torture: {e:#}");
            std::process::exit(2);
        }
    }
}

fn run(cli: &Cli) -> Result<bool> {
    let all = cases::all();
    if cli.list {
        for c in &all {
            println!(
                "{:<32} {}{}",
                c.name,
                c.what,
                if c.quick { " [quick]" } else { "" }
            );
        }
        return Ok(true);
    }
    let selected: Vec<&Case> = all
        .iter()
        .filter(|c| cli.cases.is_empty() || cli.cases.iter().any(|n| c.name.contains(n.as_str())))
        .filter(|c| !cli.quick || c.quick || !cli.cases.is_empty())
        .collect();
    if selected.is_empty() {
        bail!("no case matches {:?}; see --list", cli.cases);
    }
    let mut opts = if cli.quick {
        Opts::quick(cli.body_bytes, cli.grpc_bytes)
    } else {
        Opts::full(cli.body_bytes, cli.grpc_bytes)
    };
    if let Some(n) = cli.conns {
        opts.conns = n;
    }
    if let Some(s) = cli.overload_secs {
        opts.overload = Duration::from_secs(s);
    }
    let nofile = server::raise_nofile();
    eprintln!("clew-torture: RLIMIT_NOFILE raised to {nofile}");

    let start_server = || -> Result<Server> {
        match (&cli.clew, &cli.ready_file, cli.pid) {
            (Some(bin), _, _) => Server::start(bin, &cli.clew_args, &cli.server_log),
            (None, Some(file), Some(pid)) => Server::attach(file, pid),
            _ => bail!("give --clew PATH, or --ready-file FILE --pid PID"),
        }
    };
    let mut server = start_server()?;
    let ingest_body = Arc::new(payload::jaeger_batch(1, 1));
    let mut rows = Vec::new();
    for case in selected {
        if !server.alive() {
            if cli.clew.is_none() {
                bail!("the server is gone; cannot run {}", case.name);
            }
            eprintln!("clew-torture: restarting clew");
            server = start_server()?;
        }
        eprintln!("clew-torture: {} — {}", case.name, case.what);
        let row = run_case(case, &mut server, &opts, ingest_body.clone());
        eprintln!(
            "clew-torture: {}: peak {} MiB, {}",
            case.name,
            row.peak_rss >> 20,
            if row.failures.is_empty() {
                "ok".into()
            } else {
                row.failures.join("; ")
            }
        );
        rows.push(row);
    }
    if let Some(status) = server.stop() {
        eprintln!("clew-torture: clew exited with {status}");
    }
    let table = render(&rows, &opts, cli);
    println!("{table}");
    if let Some(path) = &cli.out {
        std::fs::write(path, &table)?;
    }
    Ok(rows.iter().all(|r| r.failures.is_empty()))
}

fn run_case(case: &Case, server: &mut Server, opts: &Opts, ingest_body: Arc<Vec<u8>>) -> Row {
    let admin = server.addr("admin_http");
    let targets = ProbeTargets {
        admin,
        query: server.addr("query_http"),
        collector: server.addr("collector_http"),
    };
    let before = metrics::scrape(admin);
    server.reset_peak();
    let sampler = RssSampler::start(server.pid);
    let probes = Probes::start(targets, ingest_body);
    let start = Instant::now();
    let outcome = (case.run)(&Ctx { server, opts });
    // Let queues drain and counters settle while still probing.
    std::thread::sleep(Duration::from_secs(2));
    let probes = probes.finish();
    let peak_rss = sampler.finish();
    let took = start.elapsed();
    let alive = server.alive();
    let after = metrics::scrape(admin);
    let deltas = metrics::delta(&before, &after);
    let refusals = metrics::refusals(&deltas);
    let counted_total: f64 = refusals.iter().map(|(_, v)| v).sum();
    let counted = if refusals.is_empty() {
        "nothing".to_string()
    } else {
        refusals
            .iter()
            .take(3)
            .map(|(k, v)| format!("`{}` +{}", k.trim_start_matches("clew_"), *v as u64))
            .collect::<Vec<_>>()
            .join("<br>")
    };
    let received = metrics::sum(&deltas, "clew_spans_received_total");
    let written = metrics::sum(&deltas, "clew_spans_written_total");
    let mut failures = Vec::new();
    let mut notes = Vec::new();
    let (client, refused, must_count) = match outcome {
        Ok(o) => {
            notes.extend(o.notes);
            failures.extend(o.failures);
            (o.client, o.refused, o.must_count)
        }
        Err(e) => {
            failures.push(format!("case error: {e:#}"));
            ("(case failed to run)".into(), 0, false)
        }
    };
    if peak_rss >= RSS_TARGET {
        failures.push(format!("peak RSS {} MiB ≥ 2 GiB", peak_rss >> 20));
    }
    if !alive {
        failures.push("process died".into());
    }
    for (i, what) in ["health", "/api/services"].iter().enumerate() {
        if !probes[i].ok() {
            failures.push(format!("{what}: {}", probes[i].cell().replace("**", "")));
            if let Some(e) = &probes[i].first_error {
                notes.push(format!("{what} first error: {e}"));
            }
        }
    }
    if (must_count || refused > 0) && counted_total == 0.0 {
        failures.push("refusals not counted on /metrics".into());
    }
    if received > 0.0 || written > 0.0 {
        notes.push(format!(
            "spans received +{}, written +{}",
            received as u64, written as u64
        ));
    }
    if !probes[2].ok()
        && let Some(e) = &probes[2].first_error
    {
        notes.push(format!("ingest probe: {e}"));
    }
    Row {
        name: case.name,
        peak_rss,
        alive,
        probes,
        client,
        counted,
        failures,
        notes,
        took,
    }
}

fn render(rows: &[Row], opts: &Opts, cli: &Cli) -> String {
    let mut s = String::new();
    let failed = rows.iter().filter(|r| !r.failures.is_empty()).count();
    s.push_str(&format!(
        "clew-torture{}: {} cases, {} failed. Body limit {} MiB, gRPC limit {} MiB, bombs {} MiB, {} copies per hostile request, {} connections.\n\n",
        if cli.quick { " --quick" } else { "" },
        rows.len(),
        failed,
        opts.body_bytes >> 20,
        opts.grpc_bytes >> 20,
        opts.bomb_bytes >> 20,
        opts.copies,
        opts.conns,
    ));
    s.push_str("| case | peak RSS | alive | health | /api/services | ingest probe | client saw | counted on /metrics | verdict |\n");
    s.push_str("|---|---:|---|---|---|---|---|---|---|\n");
    for r in rows {
        let verdict = if r.failures.is_empty() {
            "ok".to_string()
        } else {
            format!("**FAIL**: {}", r.failures.join("; "))
        };
        s.push_str(&format!(
            "| `{}` | {} MiB | {} | {} | {} | {} | {} ({:.0} s) | {} | {} |\n",
            r.name,
            r.peak_rss >> 20,
            if r.alive { "yes" } else { "**no**" },
            r.probes[0].cell(),
            r.probes[1].cell(),
            r.probes[2].cell(),
            r.client.replace('|', "\\|"),
            r.took.as_secs_f64(),
            r.counted.replace('|', "\\|"),
            verdict.replace('|', "\\|"),
        ));
    }
    let notes: Vec<String> = rows
        .iter()
        .filter(|r| !r.notes.is_empty())
        .map(|r| format!("- `{}`: {}", r.name, r.notes.join("; ").replace('\n', " ")))
        .collect();
    if !notes.is_empty() {
        s.push_str("\nNotes:\n");
        for n in notes {
            s.push_str(&n);
            s.push('\n');
        }
    }
    s
}
