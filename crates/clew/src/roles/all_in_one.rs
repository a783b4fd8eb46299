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
use axum::Router;
use clew_ingest::{AgentPort, IngestMetrics, Pipeline, SamplingStrategies};
use clew_query::{QueryMetrics, QueryState};
use clew_store::{MemoryStore, MemoryStoreConfig, TraceReader, TraceWriter};
use prometheus_client::registry::Registry;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::listeners::{Bound, write_ready_file};
use crate::admin::{self, AdminState, StoreGauges};
use crate::config::Config;

/// Runs until SIGINT/SIGTERM.
pub async fn run(config: Config, ready_file: Option<PathBuf>) -> Result<()> {
    let bound = Bound::bind(&config.listen)?;
    let addrs = bound.addrs;

    let mut registry = Registry::with_prefix("clew");
    let store = Arc::new(MemoryStore::new(MemoryStoreConfig {
        max_spans: config.store.memory_max_spans,
        max_bytes: config.store.memory_max_bytes,
    }));
    let ingest_metrics = Arc::new(IngestMetrics::new(&mut registry));
    let query_metrics = Arc::new(QueryMetrics::new(&mut registry));
    let store_gauges = StoreGauges::register(&mut registry);
    let registry = Arc::new(registry);

    let sampling = Arc::new(
        SamplingStrategies::from_config(&config.ingest).with_context(|| {
            format!(
                "ingest.sampling_strategies_file {:?}",
                config.ingest.sampling_strategies_file
            )
        })?,
    );
    let writer: Arc<dyn TraceWriter> = store.clone();
    let (pipeline, pipeline_task) = Pipeline::start(&config.ingest, writer, ingest_metrics.clone());

    let shutdown = CancellationToken::new();
    let reload = sampling.spawn_reload(
        std::time::Duration::from_secs(config.ingest.sampling_reload_interval_secs.max(1)),
        shutdown.clone(),
    );
    let serving = Arc::new(AtomicBool::new(true));
    let mut servers = JoinSet::new();

    let reader: Arc<dyn TraceReader> = store.clone();
    let query_state = QueryState {
        reader: reader.clone(),
        metrics: query_metrics,
    };
    let query = clew_query::with_base_path(
        clew_query::router(query_state.clone()),
        &config.listen.query_base_path,
    );
    let query_grpc = clew_query::grpc_query_services(query_state.clone());
    let zipkin = clew_query::zipkin_read_router(query_state).merge(
        clew_ingest::zipkin_ingest_router(pipeline.clone(), ingest_metrics.clone()),
    );
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

    serve_http(&mut servers, bound.query_http, query, &shutdown)?;
    serve_http(&mut servers, bound.admin_http, admin, &shutdown)?;
    serve_http(&mut servers, bound.collector_http, collector, &shutdown)?;
    serve_http(&mut servers, bound.sampling_http, sampling_http, &shutdown)?;
    serve_http(&mut servers, bound.zipkin_http, zipkin, &shutdown)?;
    serve_http(&mut servers, bound.otlp_http, otlp_http, &shutdown)?;
    serve_grpc(&mut servers, bound.query_grpc, query_grpc, &shutdown)?;
    serve_grpc(&mut servers, bound.otlp_grpc, otlp_grpc, &shutdown)?;
    serve_grpc(
        &mut servers,
        bound.collector_grpc,
        collector_grpc,
        &shutdown,
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

    crate::shutdown::signal().await;
    serving.store(false, Ordering::Relaxed);
    shutdown.cancel();
    while let Some(res) = servers.join_next().await {
        if let Ok(Err(e)) = res {
            tracing::warn!("server ended with error: {e}");
        }
    }
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
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Serves gRPC services over HTTP/2 on an already-bound listener, with the
/// ingest-tuned windows and TCP_NODELAY (harmless for the query port).
fn serve_grpc(
    set: &mut JoinSet<std::io::Result<()>>,
    listener: std::net::TcpListener,
    routes: tonic::service::Routes,
    shutdown: &CancellationToken,
) -> Result<()> {
    let incoming = clew_ingest::grpc_incoming(tokio::net::TcpListener::from_std(listener)?);
    let token = shutdown.clone();
    set.spawn(async move {
        clew_ingest::grpc_server_builder()
            .add_routes(routes)
            .serve_with_incoming_shutdown(incoming, token.cancelled_owned())
            .await
            .map_err(std::io::Error::other)
    });
    Ok(())
}

fn serve_http(
    set: &mut JoinSet<std::io::Result<()>>,
    listener: std::net::TcpListener,
    router: Router,
    shutdown: &CancellationToken,
) -> Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let token = shutdown.clone();
    set.spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(token.cancelled_owned())
            .await
    });
    Ok(())
}
