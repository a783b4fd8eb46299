//! Agent UDP listeners: real sockets on 127.0.0.1:0, real thrift datagrams.

use std::net::UdpSocket;
use std::thread::JoinHandle;
use std::time::Duration;

use clew_codec_jaeger::{Protocol, encode_emit_batch_message};
use clew_ingest::agent::reason;
use clew_ingest::{AgentPort, Format, IngestConfig, Source, Transport, spawn_agent_udp};
use clew_model::TraceId;
use clew_thrift::{CompactWriter, MessageType, ProtocolWriter, TType};
use tokio_util::sync::CancellationToken;

use crate::harness::{Ingest, fixture, wait_until};

struct Agent {
    addr: std::net::SocketAddr,
    thread: JoinHandle<()>,
}

fn spawn(ingest: &Ingest, port: AgentPort, shutdown: &CancellationToken) -> Agent {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let addr = socket.local_addr().expect("addr");
    let thread = spawn_agent_udp(
        socket,
        port,
        ingest.pipeline.clone(),
        ingest.metrics.clone(),
        shutdown.clone(),
    )
    .expect("spawn agent");
    Agent { addr, thread }
}

fn client() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").expect("bind client")
}

/// A oneway message with an args struct whose field 1 is an empty list.
fn message(method: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = CompactWriter::new(&mut out);
    w.write_message_begin(method, MessageType::Oneway, 1);
    w.write_struct_begin();
    w.write_field_begin(TType::List, 1);
    w.write_list_begin(TType::Struct, 0);
    w.write_field_stop();
    w.write_struct_end();
    out
}

#[tokio::test]
async fn emit_batch_on_every_port_reaches_the_store() {
    for decode_threads in [0usize, 1] {
        let ingest = Ingest::start(IngestConfig {
            agent_decode_threads: decode_threads,
            ..IngestConfig::default()
        });
        let shutdown = CancellationToken::new();
        let cases = [
            (AgentPort::Compact6831, Protocol::Compact, 0x6831),
            (AgentPort::Binary6832, Protocol::Binary, 0x6832),
            (AgentPort::Compact5775, Protocol::Compact, 0x5775),
        ];
        let udp = client();
        let mut agents = Vec::new();
        for (port, protocol, id) in cases {
            let agent = spawn(&ingest, port, &shutdown);
            let trace = TraceId::new(decode_threads as u64, id);
            let (process, spans) = fixture(trace, "udp-svc", 4);
            let mut dgram = Vec::new();
            encode_emit_batch_message(&process, &spans, 7, protocol, &mut dgram);
            udp.send_to(&dgram, agent.addr).expect("send");
            let stored = ingest.wait_for_trace(trace, 4).await;
            let mut got = stored.spans.clone();
            got.sort_by_key(|s| s.span_id);
            assert_eq!(&*got[0].process.service_name, "udp-svc");
            assert_eq!(got[3].tags, spans[3].tags);
            assert_eq!(got[3].logs, spans[3].logs);
            assert_eq!(got[3].references, spans[3].references);
            assert_eq!(got[3].start_time, spans[3].start_time);
            assert_eq!(got[3].duration, spans[3].duration);
            agents.push((port, agent));
        }
        let compact = Source::new(Transport::Udp, Format::JaegerThriftCompact);
        let binary = Source::new(Transport::Udp, Format::JaegerThriftBinary);
        assert_eq!(ingest.metrics.spans_received(compact), 8);
        assert_eq!(ingest.metrics.spans_received(binary), 4);
        for (port, _) in &agents {
            assert_eq!(ingest.metrics.datagrams_received(port.label()), 1);
        }

        shutdown.cancel();
        for (_, agent) in agents {
            agent.thread.join().expect("agent thread exits cleanly");
        }
    }
}

#[tokio::test]
async fn malformed_datagrams_are_counted_and_harmless() {
    let ingest = Ingest::start(IngestConfig::default());
    let shutdown = CancellationToken::new();
    let agent = spawn(&ingest, AgentPort::Compact6831, &shutdown);
    let binary_agent = spawn(&ingest, AgentPort::Binary6832, &shutdown);
    let udp = client();

    udp.send_to(b"garbage datagram", agent.addr).expect("send");
    udp.send_to(&message("fooBar"), agent.addr).expect("send");
    udp.send_to(&message("emitZipkinBatch"), agent.addr)
        .expect("send");
    // A compact emitBatch whose batch is truncated.
    let (process, spans) = fixture(TraceId::new(0, 9), "svc", 2);
    let mut dgram = Vec::new();
    encode_emit_batch_message(&process, &spans, 1, Protocol::Compact, &mut dgram);
    udp.send_to(&dgram[..dgram.len() / 2], agent.addr)
        .expect("send");
    // Compact bytes on the binary port.
    udp.send_to(&dgram, binary_agent.addr).expect("send");
    // And a good one still gets through afterwards.
    udp.send_to(&dgram, agent.addr).expect("send");
    ingest.wait_for_trace(TraceId::new(0, 9), 2).await;

    let m = ingest.metrics.clone();
    wait_until("rejections counted", || {
        m.datagrams_rejected("6831", reason::BAD_ENVELOPE) == 1
            && m.datagrams_rejected("6831", reason::UNKNOWN_METHOD) == 1
            && m.datagrams_rejected("6831", reason::UNSUPPORTED_METHOD) == 1
            && m.datagrams_rejected("6831", reason::BAD_BATCH) == 1
            && m.datagrams_rejected("6832", reason::BAD_ENVELOPE) == 1
    })
    .await;
    assert_eq!(m.datagrams_received("6831"), 5);

    shutdown.cancel();
    agent.thread.join().expect("clean exit");
    binary_agent.thread.join().expect("clean exit");
}

#[tokio::test]
async fn shutdown_stops_the_reader_promptly_and_drain_keeps_spans() {
    let ingest = Ingest::start(IngestConfig::default());
    let shutdown = CancellationToken::new();
    let agent = spawn(&ingest, AgentPort::Compact6831, &shutdown);
    let (process, spans) = fixture(TraceId::new(0, 0x51), "svc", 3);
    let mut dgram = Vec::new();
    encode_emit_batch_message(&process, &spans, 1, Protocol::Compact, &mut dgram);
    client().send_to(&dgram, agent.addr).expect("send");
    let m = ingest.metrics.clone();
    wait_until("datagram received", || {
        m.spans_received(Source::new(Transport::Udp, Format::JaegerThriftCompact)) == 3
    })
    .await;

    let started = std::time::Instant::now();
    shutdown.cancel();
    agent.thread.join().expect("clean exit");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "reader noticed shutdown"
    );
    let Ingest {
        store,
        pipeline,
        task,
        ..
    } = ingest;
    drop(pipeline);
    task.drain_and_stop().await;
    let t = clew_store::TraceReader::get_trace(&*store, TraceId::new(0, 0x51))
        .await
        .expect("read")
        .expect("trace stored");
    assert_eq!(t.spans.len(), 3);
}

#[tokio::test]
async fn emit_zipkin_batch_on_5775_reaches_the_store() {
    let ingest = Ingest::start(IngestConfig::default());
    let shutdown = CancellationToken::new();
    let agent = spawn(&ingest, AgentPort::Compact5775, &shutdown);
    let trace = TraceId::new(0, 0x2175);
    let (_, spans) = fixture(trace, "zipkin-svc", 2);

    let mut dgram = Vec::new();
    let mut w = CompactWriter::new(&mut dgram);
    w.write_message_begin("emitZipkinBatch", MessageType::Oneway, 3);
    w.write_struct_begin();
    w.write_field_begin(TType::List, 1);
    clew_codec_zipkin::thrift::encode_span_list(
        &spans,
        clew_codec_zipkin::thrift::Protocol::Compact,
        &mut dgram,
    );
    dgram.push(0); // field stop of the args struct
    client().send_to(&dgram, agent.addr).expect("send");

    let stored = ingest.wait_for_trace(trace, 2).await;
    assert!(
        stored
            .spans
            .iter()
            .all(|s| &*s.process.service_name == "zipkin-svc"),
        "{:?}",
        stored
            .spans
            .iter()
            .map(|s| s.process.service_name.clone())
            .collect::<Vec<_>>()
    );
    let zipkin = Source::new(Transport::Udp, Format::ZipkinThrift);
    assert_eq!(ingest.metrics.spans_received(zipkin), 2);

    // A broken span list is a counted bad batch.
    let mut broken = message("emitZipkinBatch");
    let at = broken.len() - 2;
    broken[at] = 0x5c; // list header claims five structs; one byte follows
    client().send_to(&broken, agent.addr).expect("send");
    let m = ingest.metrics.clone();
    wait_until("bad zipkin batch counted", || {
        m.datagrams_rejected("5775", reason::BAD_BATCH) == 1
    })
    .await;

    shutdown.cancel();
    agent.thread.join().expect("clean exit");
}
