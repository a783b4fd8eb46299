//! Jaeger agent UDP listeners (5775, 6831, 6832).
//!
//! Loopback UDP tops out near 50–80 k datagrams/s here, and the kernel drops
//! whatever does not fit its receive buffer, so the reader does nothing but
//! receive: a dedicated OS thread with a blocking socket (a short timeout lets
//! it notice shutdown), a large `SO_RCVBUF`, and each datagram copied into its
//! own `Bytes` (decoded spans borrow their strings from it) and passed to a
//! decoder thread over a bounded channel. When the decoder falls behind the
//! channel fills and datagrams are dropped and counted, rather than letting
//! memory grow. With `agent_decode_threads = 0` decoding happens inline.

mod datagram;
mod port;
mod zipkin;

use std::io::ErrorKind;
use std::net::UdpSocket;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use crossbeam_channel::{Receiver, TrySendError, bounded};
use tokio_util::sync::CancellationToken;

pub use datagram::{EMIT_BATCH, EMIT_ZIPKIN_BATCH, reason};
pub use port::AgentPort;

use crate::error::IngestError;
use crate::log_limit::LogLimiter;
use crate::metrics::IngestMetrics;
use crate::pipeline::Pipeline;
use datagram::DatagramHandler;

/// Receive buffer size: bigger than any UDP payload (65,507 bytes on IPv4;
/// clients cap theirs at 65,000), so no datagram is ever truncated.
const RECV_BUF: usize = 65_536;

/// How often a blocked reader wakes to check for shutdown.
const POLL: Duration = Duration::from_millis(100);

/// Starts the listener threads for one agent port. The socket is already
/// bound (so port 0 works); settings come from the pipeline's config. The
/// returned thread exits, after its decoders, once `shutdown` is cancelled.
pub fn spawn_agent_udp(
    socket: UdpSocket,
    port: AgentPort,
    pipeline: Pipeline,
    metrics: Arc<IngestMetrics>,
    shutdown: CancellationToken,
) -> Result<JoinHandle<()>, IngestError> {
    let cfg = pipeline.config().clone();
    let spawn_err = |source| IngestError::Spawn {
        what: format!("agent UDP listener {}", port.label()),
        source,
    };
    socket.set_nonblocking(false).map_err(spawn_err)?;
    socket.set_read_timeout(Some(POLL)).map_err(spawn_err)?;
    if let Ok(addr) = socket.local_addr() {
        metrics.set_agent_port(port.label(), addr.port());
    }
    let granted = set_recv_buffer(&socket, cfg.udp_recv_buffer_bytes);
    metrics.set_udp_recv_buffer(port.label(), granted);
    // Linux reports twice the usable size and caps requests at
    // net.core.rmem_max. Only a buffer too small to hold a burst of a few
    // dozen full datagrams is worth a warning; anything above that is noted.
    let addr = socket.local_addr().ok();
    if granted < MIN_COMFORTABLE_RECV_BUFFER {
        warn_small_buffer(granted, cfg.udp_recv_buffer_bytes);
    } else {
        tracing::debug!(
            port = port.label(),
            ?addr,
            requested = cfg.udp_recv_buffer_bytes,
            granted,
            "agent UDP receive buffer"
        );
    }

    let handler = Arc::new(DatagramHandler::new(port, pipeline));
    let mut decoders = Vec::new();
    let sink = if cfg.agent_decode_threads == 0 {
        Sink::Inline(handler)
    } else {
        let (tx, rx) = bounded::<Bytes>(cfg.udp_queue_datagrams.max(1));
        for i in 0..cfg.agent_decode_threads {
            let rx = rx.clone();
            let handler = handler.clone();
            let t = std::thread::Builder::new()
                .name(format!("clew-udp{}-dec{i}", port.label()))
                .spawn(move || decode_loop(rx, &handler))
                .map_err(spawn_err)?;
            decoders.push(t);
        }
        Sink::Queue(tx)
    };
    let reader = Reader {
        socket,
        port,
        metrics,
        sink,
        shutdown,
    };
    std::thread::Builder::new()
        .name(format!("clew-udp{}", port.label()))
        .spawn(move || {
            reader.run();
            for d in decoders {
                if d.join().is_err() {
                    tracing::error!("agent UDP decoder thread panicked");
                }
            }
        })
        .map_err(spawn_err)
}

/// Below this (as the kernel reports it) bursts of full 65,000-byte
/// datagrams overflow the socket before the reader wakes up.
const MIN_COMFORTABLE_RECV_BUFFER: usize = 2 * 1024 * 1024;

/// Says once per process (not once per port) that the kernel granted a
/// small UDP receive buffer, and exactly how to raise it.
fn warn_small_buffer(granted: usize, requested: usize) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        tracing::warn!(
            granted,
            requested,
            "the kernel granted agent UDP sockets a {granted}-byte receive buffer; bursts of \
             spans may be lost. Raise the limit with: sudo sysctl -w net.core.rmem_max={requested}"
        );
    });
}

/// Asks for `bytes` of receive buffer and returns what the kernel granted.
/// Linux reports twice the usable size it reserves; the value is reported as is.
fn set_recv_buffer(socket: &UdpSocket, bytes: usize) -> usize {
    let sock = socket2::SockRef::from(socket);
    if let Err(e) = sock.set_recv_buffer_size(bytes) {
        tracing::warn!(error = %e, "cannot set SO_RCVBUF");
    }
    sock.recv_buffer_size().unwrap_or(0)
}

enum Sink {
    Inline(Arc<DatagramHandler>),
    Queue(crossbeam_channel::Sender<Bytes>),
}

struct Reader {
    socket: UdpSocket,
    port: AgentPort,
    metrics: Arc<IngestMetrics>,
    sink: Sink,
    shutdown: CancellationToken,
}

impl Reader {
    fn run(self) {
        let label = self.port.label();
        let mut buf = vec![0u8; RECV_BUF];
        let errors_log = LogLimiter::new(Duration::from_secs(10));
        let drops_log = LogLimiter::new(Duration::from_secs(10));
        while !self.shutdown.is_cancelled() {
            let n = match self.socket.recv(&mut buf) {
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) =>
                {
                    continue;
                }
                Err(e) => {
                    // E.g. ECONNREFUSED echoes on some systems; never fatal,
                    // but do not spin if the socket is broken for good.
                    if let Some(suppressed) = errors_log.allow() {
                        tracing::warn!(port = label, error = %e, suppressed, "agent UDP receive failed");
                    }
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            };
            self.metrics.record_datagram(label);
            let datagram = Bytes::copy_from_slice(&buf[..n]);
            match &self.sink {
                Sink::Inline(handler) => handler.handle(datagram),
                Sink::Queue(tx) => match tx.try_send(datagram) {
                    Ok(()) => {}
                    Err(TrySendError::Full(_)) => {
                        self.metrics.record_datagram_dropped(label);
                        if let Some(suppressed) = drops_log.allow() {
                            tracing::warn!(
                                port = label,
                                suppressed,
                                "agent UDP decoder is behind; datagram dropped"
                            );
                        }
                    }
                    Err(TrySendError::Disconnected(_)) => break,
                },
            }
        }
        // Dropping the sender lets decoders finish what is queued and exit.
    }
}

fn decode_loop(rx: Receiver<Bytes>, handler: &DatagramHandler) {
    for datagram in rx.iter() {
        handler.handle(datagram);
    }
}
