//! Command-line flags, modelled on Jaeger's `tracegen` so its users feel at home.

use std::time::Duration;

use clap::Parser;

use crate::run::{RunConfig, Stop};
use crate::shape::TraceShape;
use crate::transport::TransportKind;

/// Load generator for Clew (and any Jaeger-compatible collector or agent).
///
/// Sends traces shaped like Jaeger tracegen's: a root `lets-go` server span
/// and `child-span-NN` client children with `attr_KK=val_VV` attributes.
/// Payloads are encoded before the clock starts and re-stamped with fresh
/// trace IDs per round and the current time per send (spans carry the time
/// they were sent, as a real client's do), so the generator is rarely the
/// bottleneck.
/// Progress goes to stderr every second; the last line on stdout is a JSON
/// summary.
#[derive(Debug, Parser)]
#[command(name = "clew-tracegen", version, about, long_about)]
pub struct Cli {
    /// Wire path: udp-compact (agent 6831), udp-binary (agent 6832),
    /// http-thrift (collector 14268, `POST /api/traces`), otlp-grpc (4317,
    /// `TraceService/Export`), otlp-http (4318, `POST /v1/traces` protobuf),
    /// zipkin-json or zipkin-proto (9411, `POST /api/v2/spans`).
    #[arg(long, default_value = "udp-compact", value_name = "KIND")]
    pub transport: TransportKind,

    /// Where to send: `host:port`, or for HTTP also `http://host:port[/path]`
    /// (gRPC: `http://host:port`)
    /// [default: the transport's standard port on 127.0.0.1].
    #[arg(long, value_name = "ADDR")]
    pub target: Option<String>,

    /// Sending threads, each with its own socket or keep-alive connection.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub workers: usize,

    /// Run for this long (`30s`, `500ms`, `2m`) [default: 10s unless --traces].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, conflicts_with = "traces")]
    pub duration: Option<Duration>,

    /// Send exactly this many traces in total, then stop.
    #[arg(long, value_name = "N")]
    pub traces: Option<u64>,

    /// Spans per trace, the root included.
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub spans_per_trace: u32,

    /// String attributes (`attr_KK=val_VV`) on each child span.
    #[arg(long, default_value_t = 11, value_name = "N")]
    pub tags_per_span: usize,

    /// Distinct services `tracegen-NN`; each trace belongs to one.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub services: u32,

    /// Most spans per payload (HTTP request, gRPC call or UDP datagram;
    /// datagrams also stop at 65,000 bytes). 500 is Jaeger tracegen's
    /// batch; OpenTelemetry SDKs export 512.
    #[arg(long, default_value_t = 500, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub batch_spans: u32,

    /// Cap on spans/s across all workers; 0 means unlimited.
    #[arg(long, default_value_t = 0, value_name = "SPANS_PER_S")]
    pub rate: u64,

    /// Distinct spans pre-encoded per worker (the pool cycles with new trace IDs).
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub pool_spans: usize,

    /// Seed for trace and span IDs [default: from the clock].
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Do not print progress to stderr.
    #[arg(long)]
    pub quiet: bool,
}

/// Default run length when neither --duration nor --traces is given.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(10);

impl Cli {
    /// The run the flags describe.
    pub fn to_config(&self) -> RunConfig {
        let stop = match (self.traces, self.duration) {
            (Some(t), _) => Stop::Traces(t),
            (None, Some(d)) => Stop::After(d),
            (None, None) => Stop::After(DEFAULT_DURATION),
        };
        let seed = self.seed.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0)
        });
        RunConfig {
            transport: self.transport,
            target: self
                .target
                .clone()
                .unwrap_or_else(|| self.transport.default_target().to_string()),
            workers: self.workers.max(1),
            stop,
            shape: TraceShape {
                spans_per_trace: self.spans_per_trace as usize,
                tags_per_span: self.tags_per_span,
                services: self.services as usize,
            },
            batch_spans: self.batch_spans as usize,
            rate: self.rate,
            pool_spans: self.pool_spans,
            progress: !self.quiet,
            seed,
        }
    }
}

/// Parses `1.5s`, `500ms`, `2m`, `1h`, `250us` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("invalid duration {s:?}: expected e.g. 30s, 500ms, 2m"))?;
    let scale = match unit {
        "" | "s" => 1.0,
        "ms" => 1e-3,
        "us" | "µs" => 1e-6,
        "m" => 60.0,
        "h" => 3600.0,
        _ => {
            return Err(format!(
                "invalid duration unit {unit:?} in {s:?}: use h, m, s, ms or us"
            ));
        }
    };
    let secs = value * scale;
    if !secs.is_finite() || secs <= 0.0 {
        return Err(format!("duration {s:?} must be positive"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5d").is_err());
    }

    #[test]
    fn defaults_follow_jaeger_tracegen_shape() {
        let cli = Cli::try_parse_from(["clew-tracegen"]).expect("parse");
        let cfg = cli.to_config();
        assert_eq!(cfg.transport, TransportKind::UdpCompact);
        assert_eq!(cfg.target, "127.0.0.1:6831");
        assert_eq!(cfg.shape, TraceShape::default());
        assert_eq!(cfg.batch_spans, 500);
        assert_eq!(cfg.stop, Stop::After(DEFAULT_DURATION));
    }

    #[test]
    fn flags_map_onto_the_run() {
        let cli = Cli::try_parse_from([
            "clew-tracegen",
            "--transport=http-thrift",
            "--target=127.0.0.1:9",
            "--workers=4",
            "--traces=100",
            "--services=3",
            "--rate=300000",
        ])
        .expect("parse");
        let cfg = cli.to_config();
        assert_eq!(cfg.transport, TransportKind::HttpThrift);
        assert_eq!(cfg.target, "127.0.0.1:9");
        assert_eq!((cfg.workers, cfg.rate, cfg.shape.services), (4, 300_000, 3));
        assert_eq!(cfg.stop, Stop::Traces(100));
    }

    #[test]
    fn otlp_and_zipkin_kinds_default_to_their_standard_ports() {
        for (kind, target) in [
            ("otlp-grpc", "http://127.0.0.1:4317"),
            ("otlp-http", "http://127.0.0.1:4318/v1/traces"),
            ("zipkin-json", "http://127.0.0.1:9411/api/v2/spans"),
            ("zipkin-proto", "http://127.0.0.1:9411/api/v2/spans"),
        ] {
            let flag = format!("--transport={kind}");
            let cli = Cli::try_parse_from(["clew-tracegen", flag.as_str()]).expect("parse");
            let cfg = cli.to_config();
            assert_eq!(cfg.transport.name(), kind);
            assert_eq!(cfg.target, target);
        }
    }

    #[test]
    fn duration_and_traces_are_exclusive() {
        assert!(Cli::try_parse_from(["clew-tracegen", "--duration=1s", "--traces=1"]).is_err());
        assert!(Cli::try_parse_from(["clew-tracegen", "--spans-per-trace=0"]).is_err());
    }
}
