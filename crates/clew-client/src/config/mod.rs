//! Tracer configuration: one struct, buildable in code or from the
//! `JAEGER_*` / `OTEL_*` environment, turned into a tracer by [`Config::build`].

mod build;
mod duration;
mod env;

pub use build::Closer;
pub use duration::parse_duration;

use std::str::FromStr;
use std::time::Duration;

use crate::propagation::{PropagationFormat, UnknownFormat};

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// An environment variable or field has a value that does not parse.
    #[error("invalid {name}: {value:?} ({why})")]
    Invalid {
        /// Variable or field name.
        name: &'static str,
        /// The offending value.
        value: String,
        /// What was expected.
        why: &'static str,
    },
    /// The service name is missing.
    #[error("a service name is required (JAEGER_SERVICE_NAME or OTEL_SERVICE_NAME)")]
    NoServiceName,
    /// A propagation format name is unknown.
    #[error(transparent)]
    Propagation(#[from] UnknownFormat),
    /// The agent address could not be resolved or bound.
    #[error("cannot open UDP sender to {addr}: {source}")]
    Agent {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// OTLP export was asked for, but the crate was built without the `otlp` feature.
    #[error("OTLP export needs clew-client's `otlp` feature")]
    OtlpDisabled,
}

/// Jaeger's sampler types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SamplerType {
    /// All (param 1) or nothing (param 0).
    Const,
    /// A fixed fraction (param = rate).
    Probabilistic,
    /// At most param traces per second.
    RateLimiting,
    /// Strategies polled from the agent (param = initial rate).
    Remote,
}

impl FromStr for SamplerType {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "const" => SamplerType::Const,
            "probabilistic" => SamplerType::Probabilistic,
            "ratelimiting" | "rate_limiting" | "rate-limiting" => SamplerType::RateLimiting,
            "remote" => SamplerType::Remote,
            _ => return Err(()),
        })
    }
}

/// Sampler settings.
#[derive(Clone, Debug, PartialEq)]
pub struct SamplerConfig {
    /// Which sampler.
    pub kind: SamplerType,
    /// Its parameter (see [`SamplerType`]).
    pub param: f64,
    /// Strategy URL for `remote` (`http://127.0.0.1:5778/sampling`).
    pub sampling_endpoint: String,
    /// Poll interval for `remote`.
    pub refresh_interval: Duration,
    /// Per-operation sampler cap for `remote`.
    pub max_operations: usize,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        SamplerConfig {
            kind: SamplerType::Remote,
            param: 0.001,
            sampling_endpoint: crate::sampler::DEFAULT_SAMPLING_ENDPOINT.to_owned(),
            refresh_interval: Duration::from_secs(60),
            max_operations: 2000,
        }
    }
}

/// Where spans go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// UDP thrift compact `emitBatch` to an agent `host:port`.
    Agent(String),
    /// HTTP thrift binary to a collector URL (`.../api/traces`).
    Collector(String),
    /// OTLP/HTTP protobuf to a receiver URL (needs the `otlp` feature).
    Otlp(String),
    /// OTLP/gRPC to a receiver URL, e.g. `http://127.0.0.1:4317` (needs the
    /// `otlp` feature).
    OtlpGrpc(String),
    /// Nowhere (only the logging reporter, if enabled).
    None,
}

/// Reporter settings.
#[derive(Clone, Debug, PartialEq)]
pub struct ReporterConfig {
    /// Also print `Reporting span …` for every span.
    pub log_spans: bool,
    /// Shared queue size in spans (Jaeger: 100).
    pub queue_size: usize,
    /// How often buffered spans are sent (Jaeger: 1 s).
    pub flush_interval: Duration,
    /// Where spans are sent.
    pub destination: Destination,
    /// Basic-auth user for the collector.
    pub user: Option<String>,
    /// Basic-auth password for the collector.
    pub password: Option<String>,
    /// Bearer token for the collector.
    pub auth_token: Option<String>,
}

/// Jaeger agent's compact-thrift UDP port, where clients send by default.
pub const DEFAULT_AGENT: &str = "localhost:6831";

impl Default for ReporterConfig {
    fn default() -> Self {
        ReporterConfig {
            log_spans: false,
            queue_size: 100,
            flush_interval: Duration::from_secs(1),
            destination: Destination::Agent(DEFAULT_AGENT.to_owned()),
            user: None,
            password: None,
            auth_token: None,
        }
    }
}

/// Everything needed to build a tracer.
///
/// ```no_run
/// use clew_client::{Config, config::SamplerType};
/// use std::time::Duration;
/// let (tracer, closer) = Config::new("hello-world")
///     .sampler(SamplerType::Const, 1.0)
///     .log_spans(true)
///     .flush_interval(Duration::from_secs(1))
///     .agent("127.0.0.1:5775")
///     .build()?;
/// tracer.span("hello").start().finish();
/// closer.close();
/// # Ok::<(), clew_client::config::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Service name (required).
    pub service_name: String,
    /// A disabled config builds a no-op tracer.
    pub disabled: bool,
    /// Tracer-level tags, sent as process tags.
    pub tags: Vec<(String, String)>,
    /// Generate 128-bit trace IDs.
    pub trace_id_128bit: bool,
    /// Generate trace IDs the AWS X-Ray service accepts (128 bits starting
    /// with the time in seconds). `None`: on when the X-Ray format is among
    /// [`Self::propagation`]. Env: `CLEW_XRAY_TRACE_IDS`.
    pub xray_trace_ids: Option<bool>,
    /// Sampler.
    pub sampler: SamplerConfig,
    /// Reporter.
    pub reporter: ReporterConfig,
    /// Propagation formats, in extraction priority order (empty: Jaeger).
    pub propagation: Vec<PropagationFormat>,
}

impl Config {
    /// Jaeger client defaults for a service.
    pub fn new(service_name: impl Into<String>) -> Self {
        Config {
            service_name: service_name.into(),
            disabled: false,
            tags: Vec::new(),
            trace_id_128bit: false,
            xray_trace_ids: None,
            sampler: SamplerConfig::default(),
            reporter: ReporterConfig::default(),
            propagation: Vec::new(),
        }
    }

    /// Reads `JAEGER_*` and `OTEL_*` variables over the defaults.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_with(|k| std::env::var(k).ok())
    }

    /// Like [`Self::from_env`] with an explicit variable source (tests,
    /// config files mapped to the same names).
    pub fn from_env_with(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut c = Config::new(String::new());
        env::apply(&mut c, &get)?;
        Ok(c)
    }

    /// Applies environment variables over this configuration.
    pub fn with_env(mut self) -> Result<Self, ConfigError> {
        env::apply(&mut self, &|k| std::env::var(k).ok())?;
        Ok(self)
    }

    /// Sets the sampler type and parameter.
    pub fn sampler(mut self, kind: SamplerType, param: f64) -> Self {
        self.sampler.kind = kind;
        self.sampler.param = param;
        self
    }

    /// Also logs every span.
    pub fn log_spans(mut self, yes: bool) -> Self {
        self.reporter.log_spans = yes;
        self
    }

    /// Sets the flush interval.
    pub fn flush_interval(mut self, d: Duration) -> Self {
        self.reporter.flush_interval = d;
        self
    }

    /// Sets the queue size.
    pub fn queue_size(mut self, n: usize) -> Self {
        self.reporter.queue_size = n;
        self
    }

    /// Sends to an agent at `host:port` over UDP.
    pub fn agent(mut self, host_port: impl Into<String>) -> Self {
        self.reporter.destination = Destination::Agent(host_port.into());
        self
    }

    /// Sends to a collector URL over HTTP.
    pub fn collector_endpoint(mut self, url: impl Into<String>) -> Self {
        self.reporter.destination = Destination::Collector(url.into());
        self
    }

    /// Adds a tracer tag.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push((key.into(), value.into()));
        self
    }

    /// Forces X-Ray-compatible trace IDs on or off (default: on with the
    /// X-Ray propagation format).
    pub fn xray_trace_ids(mut self, yes: bool) -> Self {
        self.xray_trace_ids = Some(yes);
        self
    }

    /// Sets the propagation formats.
    pub fn propagation(mut self, formats: Vec<PropagationFormat>) -> Self {
        self.propagation = formats;
        self
    }
}
