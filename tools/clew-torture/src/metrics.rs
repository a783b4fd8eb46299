//! `/metrics` before and after a case: which counters moved.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

/// Series → value, from the Prometheus text format.
pub type Sample = BTreeMap<String, f64>;

/// Scrapes admin `/metrics`; empty when it does not answer.
pub fn scrape(admin: SocketAddr) -> Sample {
    scrape_full(admin).unwrap_or_default()
}

fn scrape_full(admin: SocketAddr) -> Option<Sample> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect_timeout(&admin, Duration::from_secs(5)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET /metrics HTTP/1.0\r\nHost: {admin}\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let body = text.split_once("\r\n\r\n")?.1;
    Some(parse(body))
}

/// Parses `name{labels} value` lines.
pub fn parse(text: &str) -> Sample {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// Counter deltas (`*_total` series that grew).
pub fn delta(before: &Sample, after: &Sample) -> Vec<(String, f64)> {
    after
        .iter()
        .filter(|(k, _)| k.split('{').next().is_some_and(|n| n.ends_with("_total")))
        .filter_map(|(k, v)| {
            let d = v - before.get(k).copied().unwrap_or(0.0);
            (d > 0.0).then(|| (k.clone(), d))
        })
        .collect()
}

/// Whether a moved series records a refusal, drop, truncation or limit.
pub fn is_refusal(series: &str) -> bool {
    let name = series.split('{').next().unwrap_or("");
    const WORDS: [&str; 13] = [
        "reject",
        "refus",
        "drop",
        "exhaust",
        "timeout",
        "timed_out",
        "closed",
        "limit",
        "too_large",
        "budget",
        "truncat",
        "repair",
        "shed",
    ];
    if WORDS.iter().any(|w| name.contains(w)) {
        return true;
    }
    if name.contains("requests")
        && let Some(status) = label(series, "status").or_else(|| label(series, "code"))
    {
        return !matches!(
            status.as_str(),
            "200" | "202" | "204" | "OK" | "Ok" | "0" | "ok"
        );
    }
    false
}

fn label(series: &str, key: &str) -> Option<String> {
    let labels = series.split_once('{')?.1.trim_end_matches('}');
    labels.split(',').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"').to_string())
    })
}

/// Refusal-type deltas, largest first, as `series +n`.
pub fn refusals(deltas: &[(String, f64)]) -> Vec<(String, f64)> {
    let mut r: Vec<_> = deltas
        .iter()
        .filter(|(k, _)| is_refusal(k))
        .cloned()
        .collect();
    r.sort_by(|a, b| b.1.total_cmp(&a.1));
    r
}

/// `clew_spans_received_total{…}` summed over labels.
pub fn sum(deltas: &[(String, f64)], name: &str) -> f64 {
    deltas
        .iter()
        .filter(|(k, _)| k.split('{').next() == Some(name))
        .map(|(_, v)| v)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_refusals_by_name_and_status() {
        assert!(is_refusal(
            r#"clew_spans_rejected_total{reason="zero_trace_id"}"#
        ));
        assert!(is_refusal(
            r#"clew_ingest_http_requests_total{api="otlp",status="413"}"#
        ));
        assert!(!is_refusal(
            r#"clew_ingest_http_requests_total{api="otlp",status="200"}"#
        ));
        assert!(!is_refusal("clew_spans_written_total"));
    }
}
