//! All-in-one: agent, collector, sampling, store, query and admin in one
//! process — the drop-in for `jaegertracing/all-in-one`.
//!
//! Start-up binds every socket first (failing fast with the listener's
//! name), then starts the store, the ingest pipeline, and one server per
//! socket. Shutdown runs in the reverse order: stop accepting, let the
//! listeners finish what they hold, drain the queue into the store, exit.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use anyhow::{Context, Result};
use clew_ingest::{AgentPort, IngestMetrics, Pipeline, SamplingStrategies};
use clew_query::{QueryMetrics, QueryState};
use clew_store::{ConcurrencyLimitedReader, TraceReader, TraceWriter};
use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;

use super::listeners::{Bound, write_ready_file};
use crate::admin::{self, AdminState, StoreGauges};
use crate::config::Config;
use crate::net::gate::{ConnectionBudget, ConnectionMetrics};
use crate::net::{self, Room, Servers};

/// Runs until SIGINT/SIGTERM. Everything runs on the calling runtime but
/// the query HTTP and gRPC listeners, which run on `query_rt` (threads of
/// lower priority: [`crate::query_runtime`]).
pub async fn run(
    config: Config,
    ready_file: Option<PathBuf>,
    query_rt: tokio::runtime::Handle,
) -> Result<()> {
    let main_rt = tokio::runtime::Handle::current();
    // Before binding, so every socket counts against the raised limit.
    let nofile = net::fd::raise_nofile_limit();
    let bound = Bound::bind(&config.listen)?;
    let addrs = bound.addrs;

    let mut registry = Registry::with_prefix("clew");
    let store = crate::storage::open(&config.store).await?;
    let ingest_metrics = Arc::new(IngestMetrics::new(&mut registry));
    let query_metrics = Arc::new(QueryMetrics::new(&mut registry));
    let store_gauges = StoreGauges::register(&mut registry);
    let connection_metrics = ConnectionMetrics::register(&mut registry);
    if let Some(g) = crate::query_cpu::governor() {
        g.register(&mut registry);
    }
    crate::storage::register_metrics(
        &mut registry,
        store.reader.clone(),
        CancellationToken::new(),
    );
    let registry = Arc::new(registry);

    let sampling = Arc::new(
        SamplingStrategies::from_config(&config.ingest).with_context(|| {
            format!(
                "ingest.sampling_strategies_file {:?}",
                config.ingest.sampling_strategies_file
            )
        })?,
    );
    let writer: Arc<dyn TraceWriter> = store.writer.clone();
    let (pipeline, pipeline_task) = Pipeline::start(&config.ingest, writer, ingest_metrics.clone());

    let shutdown = CancellationToken::new();
    let reload = sampling.spawn_reload(
        std::time::Duration::from_secs(config.ingest.sampling_reload_interval_secs.max(1)),
        shutdown.clone(),
    );
    let serving = Arc::new(AtomicBool::new(true));
    let budget = ConnectionBudget::new(
        net::fd::fit_to_fd_limit(config.connections.clone(), nofile),
        connection_metrics,
    );
    let mut servers = Servers::new(budget, config.ingest.http_max_body_bytes, shutdown.clone());

    let reader: Arc<dyn TraceReader> = store.reader.clone();
    // Searches and dependency graphs may touch every stored span: at most
    // one per core runs at a time, so their peak memory is bounded and
    // trace-by-ID, services and health never wait behind them.
    let heavy_reads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let query_reader: Arc<dyn TraceReader> =
        Arc::new(ConcurrencyLimitedReader::new(reader.clone(), heavy_reads));
    let query_state = QueryState {
        reader: query_reader,
        metrics: query_metrics,
        limits: config.query.clone(),
    };
    let query = clew_query::with_base_path(
        clew_query::router(query_state.clone()),
        &config.listen.query_base_path,
    );
    let query_grpc = clew_query::grpc_query_services(query_state.clone());
    let zipkin_read = crate::query_runtime::on_runtime(
        clew_query::zipkin_read_router(query_state),
        query_rt.clone(),
    );
    let zipkin = zipkin_read.merge(clew_ingest::zipkin_ingest_router(
        pipeline.clone(),
        ingest_metrics.clone(),
    ));
    let otlp_http = clew_ingest::otlp_http_router(pipeline.clone(), ingest_metrics.clone());
    let otlp_grpc = tonic::service::Routes::new(clew_ingest::otlp_grpc_service(
        pipeline.clone(),
        ingest_metrics.clone(),
    ));
    let (jaeger_collector, jaeger_sampling) = clew_ingest::jaeger_grpc_services(
        pipeline.clone(),
        ingest_metrics.clone(),
        sampling.clone(),
    );
    let collector_grpc = tonic::service::Routes::new(jaeger_collector).add_service(jaeger_sampling);
    let admin = admin::router(AdminState {
        registry,
        store_gauges,
        store: reader,
        up_since: SystemTime::now(),
        serving: serving.clone(),
    });
    let collector = clew_ingest::collector_http_router(
        pipeline.clone(),
        ingest_metrics.clone(),
        sampling.clone(),
    );
    let sampling_http = clew_ingest::sampling_router(sampling.clone());

    // Admin and query keep reserved room: they answer during an ingest flood.
    servers.http(
        "query_http",
        bound.query_http,
        query,
        Room::Reserved,
        &query_rt,
    )?;
    servers.http(
        "admin_http",
        bound.admin_http,
        admin,
        Room::Reserved,
        &main_rt,
    )?;
    servers.http(
        "collector_http",
        bound.collector_http,
        collector,
        Room::Shared,
        &main_rt,
    )?;
    servers.http(
        "sampling_http",
        bound.sampling_http,
        sampling_http,
        Room::Shared,
        &main_rt,
    )?;
    servers.http(
        "zipkin_http",
        bound.zipkin_http,
        zipkin,
        Room::Shared,
        &main_rt,
    )?;
    servers.http(
        "otlp_http",
        bound.otlp_http,
        otlp_http,
        Room::Shared,
        &main_rt,
    )?;
    servers.grpc(
        "query_grpc",
        bound.query_grpc,
        query_grpc,
        Room::Reserved,
        &query_rt,
    )?;
    servers.grpc(
        "otlp_grpc",
        bound.otlp_grpc,
        otlp_grpc,
        Room::Shared,
        &main_rt,
    )?;
    servers.grpc(
        "collector_grpc",
        bound.collector_grpc,
        collector_grpc,
        Room::Shared,
        &main_rt,
    )?;

    let udp = [
        (bound.agent_compact, AgentPort::Compact6831),
        (bound.agent_binary, AgentPort::Binary6832),
        (bound.agent_zipkin_compact, AgentPort::Compact5775),
    ];
    let mut agents = Vec::new();
    for (socket, port) in udp {
        agents.push(clew_ingest::spawn_agent_udp(
            socket,
            port,
            pipeline.clone(),
            ingest_metrics.clone(),
            shutdown.clone(),
        )?);
    }

    for (name, addr) in &addrs {
        tracing::info!(listener = name, %addr, "listening");
    }
    // Before announcing readiness: a SIGTERM sent the moment the ready file
    // appears must find its handler.
    let signals = crate::shutdown::Signals::install();
    if let Some(path) = &ready_file {
        write_ready_file(path, &addrs)?;
    }
    tracing::info!(
        "Clew is ready: UI and API at http://{}/",
        addrs
            .get("query_http")
            .map(|a| a.to_string())
            .unwrap_or_default()
    );

    signals.recv().await;
    serving.store(false, Ordering::Relaxed);
    shutdown.cancel();
    servers.join().await;
    for agent in agents {
        if agent.join().is_err() {
            tracing::warn!("an agent listener thread panicked");
        }
    }
    if let Some(reload) = reload {
        let _ = reload.await;
    }
    drop(pipeline);
    pipeline_task.drain_and_stop().await;
    if let Some(disk) = &store.disk {
        disk.close().await;
    }
    tracing::info!("stopped cleanly");
    Ok(())
}
