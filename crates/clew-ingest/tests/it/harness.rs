//! A pipeline in front of a MemoryStore, plus fixtures and polling helpers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clew_ingest::{IngestConfig, IngestMetrics, Pipeline, PipelineTask};
use clew_model::{KeyValue, Log, Process, Reference, Span, SpanId, Trace, TraceId};
use clew_store::{MemoryStore, MemoryStoreConfig, TraceReader};

pub struct Ingest {
    pub store: Arc<MemoryStore>,
    pub metrics: Arc<IngestMetrics>,
    pub pipeline: Pipeline,
    pub task: PipelineTask,
}

impl Ingest {
    pub fn start(cfg: IngestConfig) -> Self {
        let store = Arc::new(MemoryStore::new(MemoryStoreConfig {
            max_spans: 10_000_000,
            max_bytes: 4 << 30,
        }));
        let metrics = Arc::new(IngestMetrics::unregistered());
        let (pipeline, task) = Pipeline::start(&cfg, store.clone(), metrics.clone());
        Ingest {
            store,
            metrics,
            pipeline,
            task,
        }
    }

    /// Polls the store until the trace holds `spans` spans (or fails after 10 s).
    pub async fn wait_for_trace(&self, id: TraceId, spans: usize) -> Trace {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(t)) = self.store.get_trace(id).await
                && t.spans.len() >= spans
            {
                return t;
            }
            assert!(
                Instant::now() < deadline,
                "trace {id} never reached {spans} spans"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// Polls `cond` until true, failing after 10 s with `what`.
pub async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A process and `n` spans of one trace with tags, a log and references.
pub fn fixture(trace: TraceId, service: &str, n: u64) -> (Arc<Process>, Vec<Span>) {
    let mut process = Process::new(service);
    process.tags.push(KeyValue::string("hostname", "box-1"));
    let process = Arc::new(process);
    let spans = (1..=n)
        .map(|i| {
            let mut s = Span::new(trace, SpanId(i), format!("op-{i}"), process.clone());
            s.start_time = 1_700_000_000_000_000_000 + i * 1_000;
            s.duration = 5_000;
            s.flags = 1;
            s.tags.push(KeyValue::string("span.kind", "server"));
            s.tags.push(KeyValue::i64("http.status_code", 200));
            s.logs.push(Log {
                timestamp: s.start_time + 1_000,
                fields: vec![KeyValue::string("event", "hello")],
            });
            if i > 1 {
                s.references.push(Reference::child_of(trace, SpanId(1)));
            }
            s
        })
        .collect();
    (process, spans)
}

/// Serves an axum router on 127.0.0.1:0; returns `http://addr`.
pub async fn serve_http(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("bound address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

/// Serves gRPC routes on 127.0.0.1:0 the way the binary should (tuned
/// windows, TCP_NODELAY); returns `http://addr`.
pub async fn serve_grpc(routes: tonic::service::Routes) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("bound address");
    tokio::spawn(
        clew_ingest::grpc_server_builder()
            .add_routes(routes)
            .serve_with_incoming(clew_ingest::grpc_incoming(listener)),
    );
    format!("http://{addr}")
}

/// Gzips `data`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data).expect("in-memory write");
    enc.finish().expect("in-memory finish")
}

/// The tag `key` of `span`, failing the test when absent.
pub fn tag<'a>(span: &'a Span, key: &str) -> &'a clew_model::Value {
    span.tag(key)
        .unwrap_or_else(|| panic!("span {} has no tag {key:?}: {:?}", span.span_id, span.tags))
}

/// Sends and receives raw message bytes.
#[derive(Clone, Copy, Default)]
pub struct RawCodec;

impl tonic::codec::Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;
    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }
    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl tonic::codec::Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        use bytes::BufMut;
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Vec<u8>>, tonic::Status> {
        use bytes::Buf;
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}
