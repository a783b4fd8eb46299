//! Turning a [`Config`] into a running tracer.

use std::sync::Arc;

use super::{Config, ConfigError, Destination, SamplerType};
use crate::propagation::{CompositePropagator, JaegerPropagator, Propagator};
use crate::reporter::{
    CompositeReporter, LoggingReporter, NullReporter, RemoteReporter, RemoteReporterOptions,
    Reporter,
};
use crate::sampler::{
    ConstSampler, ProbabilisticSampler, RateLimitingSampler, RemoteSampler, RemoteSamplerOptions,
    Sampler,
};
use crate::sender::{HttpSender, HttpSenderOptions, Sender, UdpSender};
use crate::tracer::Tracer;

/// Flushes and closes the tracer when closed or dropped, so spans finished
/// before the end of `main` are sent.
#[derive(Debug)]
#[must_use = "dropping the closer closes the tracer at once"]
pub struct Closer {
    tracer: Option<Tracer>,
}

impl Closer {
    /// A closer for a tracer built by hand.
    pub fn new(tracer: Tracer) -> Self {
        Closer {
            tracer: Some(tracer),
        }
    }

    /// Flushes and closes now.
    pub fn close(mut self) {
        self.close_inner();
    }

    fn close_inner(&mut self) {
        if let Some(t) = self.tracer.take() {
            t.close();
        }
    }
}

impl Drop for Closer {
    fn drop(&mut self) {
        self.close_inner();
    }
}

impl Config {
    /// Builds the sampler, sender, reporter and propagator this
    /// configuration describes, and the tracer using them.
    pub fn build(&self) -> Result<(Tracer, Closer), ConfigError> {
        if self.service_name.trim().is_empty() {
            return Err(ConfigError::NoServiceName);
        }
        let mut b = Tracer::builder(self.service_name.clone())
            .trace_id_128bit(self.trace_id_128bit)
            .propagator_arc(self.propagator())
            .sampler_arc(self.build_sampler());
        if let Some(x) = self.xray_trace_ids {
            b = b.xray_trace_ids(x);
        }
        for (k, v) in &self.tags {
            b = b.tag(k, v.clone());
        }
        if self.disabled {
            b = b.disabled(true).sampler(ConstSampler(false));
        } else {
            b = b.reporter_arc(self.build_reporter()?);
        }
        let tracer = b.build();
        Ok((tracer.clone(), Closer::new(tracer)))
    }

    fn propagator(&self) -> Arc<dyn Propagator> {
        match self.propagation.as_slice() {
            [] => Arc::new(JaegerPropagator::default()),
            [one] => one.propagator(),
            many => Arc::new(CompositePropagator::from_formats(many)),
        }
    }

    fn build_sampler(&self) -> Arc<dyn Sampler> {
        let s = &self.sampler;
        match s.kind {
            SamplerType::Const => Arc::new(ConstSampler(s.param != 0.0)),
            SamplerType::Probabilistic => Arc::new(ProbabilisticSampler::new(s.param)),
            SamplerType::RateLimiting => Arc::new(RateLimitingSampler::new(s.param)),
            SamplerType::Remote => {
                let mut o = RemoteSamplerOptions::new(self.service_name.clone());
                o.endpoint = s.sampling_endpoint.clone();
                o.refresh_interval = s.refresh_interval;
                o.max_operations = s.max_operations;
                o.initial = Arc::new(ProbabilisticSampler::new(s.param));
                Arc::new(RemoteSampler::new(o))
            }
        }
    }

    fn build_sender(&self) -> Result<Option<Box<dyn Sender>>, ConfigError> {
        let r = &self.reporter;
        Ok(match &r.destination {
            Destination::None => None,
            Destination::Agent(addr) => Some(Box::new(UdpSender::new(addr.as_str()).map_err(
                |source| ConfigError::Agent {
                    addr: addr.clone(),
                    source,
                },
            )?)),
            Destination::Collector(url) => Some(Box::new(HttpSender::new(
                url.clone(),
                HttpSenderOptions {
                    user: r.user.clone(),
                    password: r.password.clone(),
                    auth_token: r.auth_token.clone(),
                    ..Default::default()
                },
            ))),
            #[cfg(feature = "otlp")]
            Destination::Otlp(url) => {
                Some(Box::new(crate::sender::OtlpHttpSender::new(url.clone())))
            }
            #[cfg(feature = "otlp")]
            Destination::OtlpGrpc(url) => Some(Box::new(
                crate::sender::OtlpGrpcSender::new(url.clone()).map_err(|e| {
                    ConfigError::Invalid {
                        name: "OTLP endpoint",
                        value: format!("{url} ({e})"),
                        why: "expected an http(s) URL",
                    }
                })?,
            )),
            #[cfg(not(feature = "otlp"))]
            Destination::Otlp(_) | Destination::OtlpGrpc(_) => {
                return Err(ConfigError::OtlpDisabled);
            }
        })
    }

    fn build_reporter(&self) -> Result<Arc<dyn Reporter>, ConfigError> {
        let r = &self.reporter;
        let remote: Option<Arc<dyn Reporter>> = self.build_sender()?.map(|sender| {
            Arc::new(RemoteReporter::new(
                sender,
                RemoteReporterOptions {
                    queue_size: r.queue_size,
                    flush_interval: r.flush_interval,
                    ..Default::default()
                },
            )) as Arc<dyn Reporter>
        });
        Ok(match (r.log_spans, remote) {
            (true, Some(remote)) => Arc::new(CompositeReporter::new(vec![
                Arc::new(LoggingReporter::new()),
                remote,
            ])),
            (true, None) => Arc::new(LoggingReporter::new()),
            (false, Some(remote)) => remote,
            (false, None) => Arc::new(NullReporter),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::time::Duration;

    #[test]
    fn built_tracer_sends_to_the_agent_on_close() {
        let agent = UdpSocket::bind("127.0.0.1:0").expect("bind");
        agent
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let (tracer, closer) = Config::new("cfg-test")
            .sampler(SamplerType::Const, 1.0)
            .agent(agent.local_addr().expect("addr").to_string())
            .flush_interval(Duration::from_secs(60))
            .tag("team", "core")
            .build()
            .expect("build");
        tracer.span("op").start().finish();
        closer.close();
        let mut buf = vec![0u8; 65_536];
        let n = agent.recv(&mut buf).expect("datagram");
        let body = clew_model::Bytes::copy_from_slice(&buf[..n]);
        let p = clew_codec_jaeger::Protocol::Compact;
        let env = clew_codec_jaeger::parse_agent_envelope(&body, p).expect("envelope");
        let batch = clew_codec_jaeger::decode_emit_batch_args(&body, env.args, p).expect("batch");
        let span = &batch.spans[0];
        assert_eq!(&*span.operation_name, "op");
        assert_eq!(&*span.process.service_name, "cfg-test");
        let tag = |k: &str| {
            span.process
                .tags
                .iter()
                .find(|t| &*t.key == k)
                .map(|t| t.value.to_text())
        };
        assert_eq!(tag("team").as_deref(), Some("core"));
        assert_eq!(
            tag("jaeger.version").as_deref(),
            Some(crate::process::CLIENT_VERSION)
        );
        assert!(tag("hostname").is_some() && tag("ip").is_some() && tag("client-uuid").is_some());
        assert_eq!(
            span.tag("sampler.type").map(|v| v.to_text()).as_deref(),
            Some("const")
        );
    }

    #[test]
    fn disabled_config_builds_a_tracer_that_samples_nothing() {
        let mut c = Config::new("off").sampler(SamplerType::Const, 1.0);
        c.disabled = true;
        let (t, _closer) = c.build().expect("build");
        assert!(!t.span("x").start().is_sampled());
    }

    #[test]
    fn missing_service_name_is_an_error() {
        assert!(matches!(
            Config::new(" ").build(),
            Err(ConfigError::NoServiceName)
        ));
    }
}
