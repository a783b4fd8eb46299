//! `JAEGER_*` and the overlapping `OTEL_*` variables onto a [`Config`].
//!
//! Jaeger variables win over OpenTelemetry ones when both are set, since a
//! program configured for a Jaeger client is what this crate replaces.

use super::{Config, ConfigError, Destination, SamplerType, parse_duration};
use crate::propagation::PropagationFormat;

type Get<'a> = &'a dyn Fn(&str) -> Option<String>;

fn non_empty(get: Get<'_>, name: &str) -> Option<String> {
    get(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn invalid(name: &'static str, value: &str, why: &'static str) -> ConfigError {
    ConfigError::Invalid {
        name,
        value: value.to_owned(),
        why,
    }
}

fn parse_bool(name: &'static str, v: &str) -> Result<bool, ConfigError> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(invalid(name, v, "expected true or false")),
    }
}

fn parse_f64(name: &'static str, v: &str) -> Result<f64, ConfigError> {
    v.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .ok_or_else(|| invalid(name, v, "expected a number"))
}

/// `k1=v1,k2=${ENV_VAR:default}` (Jaeger's tracer tags).
fn jaeger_tags(raw: &str, get: Get<'_>) -> Vec<(String, String)> {
    raw.split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            let v = v.trim();
            let value = match v.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                Some(inner) => {
                    let (var, default) = inner.split_once(':').unwrap_or((inner, ""));
                    non_empty(get, var.trim()).unwrap_or_else(|| default.to_owned())
                }
                None => v.to_owned(),
            };
            (k.trim().to_owned(), value)
        })
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

/// `k1=v1,k2=v2` with percent-encoded values (OTel resource attributes).
fn otel_attributes(raw: &str) -> Vec<(String, String)> {
    raw.split(',')
        .filter_map(|kv| kv.split_once('='))
        .filter_map(|(k, v)| {
            let v = crate::propagation::percent_decode(v.trim(), false)?;
            Some((k.trim().to_owned(), v))
        })
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

pub(super) fn apply(c: &mut Config, get: Get<'_>) -> Result<(), ConfigError> {
    // Service name and tags.
    let attrs = non_empty(get, "OTEL_RESOURCE_ATTRIBUTES")
        .map(|r| otel_attributes(&r))
        .unwrap_or_default();
    for (k, v) in &attrs {
        if k == "service.name" {
            c.service_name = v.clone();
        } else {
            c.tags.push((k.clone(), v.clone()));
        }
    }
    if let Some(s) = non_empty(get, "OTEL_SERVICE_NAME") {
        c.service_name = s;
    }
    if let Some(s) = non_empty(get, "JAEGER_SERVICE_NAME") {
        c.service_name = s;
    }
    if let Some(t) = non_empty(get, "JAEGER_TAGS") {
        c.tags.extend(jaeger_tags(&t, get));
    }
    if let Some(v) = non_empty(get, "OTEL_SDK_DISABLED") {
        c.disabled = parse_bool("OTEL_SDK_DISABLED", &v)?;
    }
    if let Some(v) = non_empty(get, "JAEGER_DISABLED") {
        c.disabled = parse_bool("JAEGER_DISABLED", &v)?;
    }
    if let Some(v) = non_empty(get, "JAEGER_TRACEID_128BIT") {
        c.trace_id_128bit = parse_bool("JAEGER_TRACEID_128BIT", &v)?;
    }
    if let Some(v) = non_empty(get, "CLEW_XRAY_TRACE_IDS") {
        c.xray_trace_ids = Some(parse_bool("CLEW_XRAY_TRACE_IDS", &v)?);
    }
    apply_sampler(c, get)?;
    apply_reporter(c, get)?;
    // Propagation.
    if let Some(v) = non_empty(get, "OTEL_PROPAGATORS") {
        c.propagation = PropagationFormat::parse_list(&v)?;
    }
    if let Some(v) = non_empty(get, "JAEGER_PROPAGATION") {
        c.propagation = PropagationFormat::parse_list(&v)?;
    }
    Ok(())
}

fn apply_sampler(c: &mut Config, get: Get<'_>) -> Result<(), ConfigError> {
    if let Some(s) = non_empty(get, "OTEL_TRACES_SAMPLER") {
        let arg = non_empty(get, "OTEL_TRACES_SAMPLER_ARG");
        let ratio = || -> Result<f64, ConfigError> {
            arg.as_deref()
                .map_or(Ok(1.0), |a| parse_f64("OTEL_TRACES_SAMPLER_ARG", a))
        };
        match s.as_str() {
            "always_on" | "parentbased_always_on" => {
                c.sampler.kind = SamplerType::Const;
                c.sampler.param = 1.0;
            }
            "always_off" | "parentbased_always_off" => {
                c.sampler.kind = SamplerType::Const;
                c.sampler.param = 0.0;
            }
            "traceidratio" | "parentbased_traceidratio" => {
                c.sampler.kind = SamplerType::Probabilistic;
                c.sampler.param = ratio()?;
            }
            "jaeger_remote" | "parentbased_jaeger_remote" => {
                c.sampler.kind = SamplerType::Remote;
                for kv in arg.as_deref().unwrap_or("").split(',') {
                    match kv.split_once('=').map(|(k, v)| (k.trim(), v.trim())) {
                        Some(("endpoint", v)) => c.sampler.sampling_endpoint = v.to_owned(),
                        Some(("pollingIntervalMs", v)) => {
                            if let Some(d) = parse_duration(v) {
                                c.sampler.refresh_interval = d;
                            }
                        }
                        Some(("initialSamplingRate", v)) => {
                            c.sampler.param = parse_f64("OTEL_TRACES_SAMPLER_ARG", v)?
                        }
                        _ => {}
                    }
                }
            }
            other => return Err(invalid("OTEL_TRACES_SAMPLER", other, "unknown sampler")),
        }
    }
    if let Some(t) = non_empty(get, "JAEGER_SAMPLER_TYPE") {
        c.sampler.kind = t.parse().map_err(|()| {
            invalid(
                "JAEGER_SAMPLER_TYPE",
                &t,
                "const, probabilistic, ratelimiting or remote",
            )
        })?;
    }
    if let Some(p) = non_empty(get, "JAEGER_SAMPLER_PARAM") {
        c.sampler.param = parse_f64("JAEGER_SAMPLER_PARAM", &p)?;
    }
    if let Some(hp) = non_empty(get, "JAEGER_SAMPLER_MANAGER_HOST_PORT") {
        c.sampler.sampling_endpoint = format!("http://{hp}/sampling");
    } else if let Some(host) = non_empty(get, "JAEGER_AGENT_HOST") {
        c.sampler.sampling_endpoint = format!("http://{host}:5778/sampling");
    }
    if let Some(u) = non_empty(get, "JAEGER_SAMPLING_ENDPOINT") {
        c.sampler.sampling_endpoint = u;
    }
    if let Some(v) = non_empty(get, "JAEGER_SAMPLER_MAX_OPERATIONS") {
        c.sampler.max_operations = v
            .parse()
            .map_err(|_| invalid("JAEGER_SAMPLER_MAX_OPERATIONS", &v, "expected an integer"))?;
    }
    if let Some(v) = non_empty(get, "JAEGER_SAMPLER_REFRESH_INTERVAL") {
        c.sampler.refresh_interval = parse_duration(&v)
            .ok_or_else(|| invalid("JAEGER_SAMPLER_REFRESH_INTERVAL", &v, "expected a duration"))?;
    }
    Ok(())
}

fn apply_reporter(c: &mut Config, get: Get<'_>) -> Result<(), ConfigError> {
    let r = &mut c.reporter;
    if let Some(v) = non_empty(get, "JAEGER_REPORTER_LOG_SPANS") {
        r.log_spans = parse_bool("JAEGER_REPORTER_LOG_SPANS", &v)?;
    }
    if let Some(v) = non_empty(get, "JAEGER_REPORTER_MAX_QUEUE_SIZE") {
        r.queue_size = v
            .parse()
            .map_err(|_| invalid("JAEGER_REPORTER_MAX_QUEUE_SIZE", &v, "expected an integer"))?;
    }
    if let Some(v) = non_empty(get, "JAEGER_REPORTER_FLUSH_INTERVAL") {
        r.flush_interval = parse_duration(&v)
            .ok_or_else(|| invalid("JAEGER_REPORTER_FLUSH_INTERVAL", &v, "expected a duration"))?;
    }
    // OTLP first, so Jaeger's own variables win when both are present.
    let otlp = non_empty(get, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .or_else(|| non_empty(get, "OTEL_EXPORTER_OTLP_ENDPOINT"));
    let grpc = non_empty(get, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        .or_else(|| non_empty(get, "OTEL_EXPORTER_OTLP_PROTOCOL"))
        .is_some_and(|p| p == "grpc");
    let otlp_dest = |url: Option<String>| {
        if grpc {
            Destination::OtlpGrpc(url.unwrap_or_else(|| "http://localhost:4317".into()))
        } else {
            Destination::Otlp(url.unwrap_or_else(|| "http://localhost:4318".into()))
        }
    };
    match non_empty(get, "OTEL_TRACES_EXPORTER").as_deref() {
        Some("none") => r.destination = Destination::None,
        Some("otlp") => r.destination = otlp_dest(otlp),
        _ => {
            if otlp.is_some() {
                r.destination = otlp_dest(otlp);
            }
        }
    }
    let host = non_empty(get, "JAEGER_AGENT_HOST");
    let port = non_empty(get, "JAEGER_AGENT_PORT");
    if host.is_some() || port.is_some() {
        if let Some(p) = &port {
            p.parse::<u16>()
                .map_err(|_| invalid("JAEGER_AGENT_PORT", p, "expected a port number"))?;
        }
        r.destination = Destination::Agent(format!(
            "{}:{}",
            host.as_deref().unwrap_or("localhost"),
            port.as_deref().unwrap_or("6831")
        ));
    }
    if let Some(e) = non_empty(get, "JAEGER_ENDPOINT") {
        r.destination = Destination::Collector(e);
    }
    r.user = non_empty(get, "JAEGER_USER").or(r.user.take());
    r.password = non_empty(get, "JAEGER_PASSWORD").or(r.password.take());
    r.auth_token = non_empty(get, "JAEGER_AUTH_TOKEN").or(r.auth_token.take());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::time::Duration;

    fn cfg(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_env_with(|k| m.get(k).cloned())
    }

    #[test]
    fn jaeger_variables_fill_every_field() {
        let c = cfg(&[
            ("JAEGER_SERVICE_NAME", "svc"),
            ("JAEGER_AGENT_HOST", "agent"),
            ("JAEGER_AGENT_PORT", "5775"),
            ("JAEGER_SAMPLER_TYPE", "const"),
            ("JAEGER_SAMPLER_PARAM", "1"),
            ("JAEGER_REPORTER_LOG_SPANS", "true"),
            ("JAEGER_REPORTER_MAX_QUEUE_SIZE", "500"),
            ("JAEGER_REPORTER_FLUSH_INTERVAL", "2s"),
            ("JAEGER_TAGS", "a=1, b=${HOME_X:dflt},c=${SET}"),
            ("SET", "yes"),
            ("JAEGER_TRACEID_128BIT", "true"),
            ("JAEGER_PROPAGATION", "jaeger,b3"),
        ])
        .expect("config");
        assert_eq!(c.service_name, "svc");
        assert_eq!(
            c.reporter.destination,
            Destination::Agent("agent:5775".into())
        );
        assert_eq!(c.sampler.kind, SamplerType::Const);
        assert_eq!(c.sampler.param, 1.0);
        assert_eq!(c.sampler.sampling_endpoint, "http://agent:5778/sampling");
        assert!(c.reporter.log_spans);
        assert_eq!(c.reporter.queue_size, 500);
        assert_eq!(c.reporter.flush_interval, Duration::from_secs(2));
        assert_eq!(
            c.tags,
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "dflt".into()),
                ("c".into(), "yes".into())
            ]
        );
        assert!(c.trace_id_128bit);
        assert_eq!(
            c.propagation,
            vec![PropagationFormat::Jaeger, PropagationFormat::B3]
        );
    }

    #[test]
    fn endpoint_overrides_agent_and_otel_fills_gaps() {
        let c = cfg(&[
            ("OTEL_SERVICE_NAME", "otel-svc"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=prod%20eu,service.name=ignored",
            ),
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
            ("OTEL_PROPAGATORS", "tracecontext,baggage"),
            ("JAEGER_ENDPOINT", "http://c:14268/api/traces"),
            ("JAEGER_USER", "u"),
        ])
        .expect("config");
        assert_eq!(c.service_name, "otel-svc");
        assert_eq!(
            c.tags,
            vec![("deployment.environment".into(), "prod eu".into())]
        );
        assert_eq!(c.sampler.kind, SamplerType::Probabilistic);
        assert_eq!(c.sampler.param, 0.25);
        assert_eq!(
            c.reporter.destination,
            Destination::Collector("http://c:14268/api/traces".into())
        );
        assert_eq!(c.reporter.user.as_deref(), Some("u"));
        assert_eq!(
            c.propagation,
            vec![PropagationFormat::TraceContext, PropagationFormat::Baggage]
        );
    }

    #[test]
    fn otlp_endpoint_selects_otlp() {
        let c = cfg(&[
            ("OTEL_SERVICE_NAME", "s"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:4318"),
        ])
        .expect("config");
        assert_eq!(
            c.reporter.destination,
            Destination::Otlp("http://h:4318".into())
        );
        let c = cfg(&[
            ("OTEL_SERVICE_NAME", "s"),
            ("OTEL_TRACES_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ])
        .expect("config");
        assert_eq!(
            c.reporter.destination,
            Destination::OtlpGrpc("http://localhost:4317".into())
        );
    }

    #[test]
    fn bad_values_are_named_in_the_error() {
        for (k, v) in [
            ("JAEGER_SAMPLER_TYPE", "sometimes"),
            ("JAEGER_SAMPLER_PARAM", "x"),
            ("JAEGER_AGENT_PORT", "99999"),
            ("JAEGER_REPORTER_FLUSH_INTERVAL", "soon"),
            ("JAEGER_DISABLED", "maybe"),
            ("OTEL_PROPAGATORS", "smoke-signals"),
        ] {
            let err = cfg(&[(k, v)]).expect_err(k);
            let msg = err.to_string();
            assert!(msg.contains(k) || msg.contains(v), "{msg}");
        }
    }
}
