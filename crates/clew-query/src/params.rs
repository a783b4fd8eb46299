//! Query-string parameters of the Jaeger API, parsed and checked the way
//! Jaeger's Go query service does (same defaults, same 400 messages).

use std::collections::BTreeMap;

use clew_model::TraceId;
use clew_store::{TagFilter, TraceQuery};

use crate::go_syntax::{parse_duration, parse_int};

/// Default number of traces a search returns.
pub const DEFAULT_LIMIT: usize = 100;
/// Default search window before `end`: 48 hours, in nanoseconds.
pub const DEFAULT_SEARCH_LOOKBACK_NS: u64 = 48 * 3600 * 1_000_000_000;
/// Default `/api/dependencies` lookback: 24 hours, in milliseconds.
pub const DEFAULT_DEPENDENCY_LOOKBACK_MS: i64 = 24 * 3600 * 1000;

/// The decoded query string. Keys may repeat (`traceID`, `tag`, `tags`).
#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Decodes a raw (URL-encoded) query string.
    pub fn parse(raw: Option<&str>) -> Self {
        let raw = raw.unwrap_or("");
        Params(
            form_urlencoded::parse(raw.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `key`, treating an empty value as absent (Go's
    /// `FormValue` returns "" for both and Jaeger checks for "").
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// Every value of `key`, in order.
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Go's `strconv.ParseBool` truth, errors read as false (Jaeger's `raw`).
    pub fn flag(&self, key: &str) -> bool {
        matches!(
            self.get(key),
            Some("1" | "t" | "T" | "true" | "TRUE" | "True")
        )
    }
}

/// A parameter error; the text is the 400 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError(pub String);

fn param_error(name: &str, err: String) -> ParamError {
    ParamError(format!("unable to parse param '{name}': {err}"))
}

/// Parses a trace ID as Jaeger's `TraceIDFromString` does: 1–32 hex digits,
/// the last 16 being the low half, missing leading zeros allowed.
pub fn parse_trace_id(s: &str) -> Result<TraceId, String> {
    if s.len() > 32 {
        return Err(format!(
            "TraceID cannot be longer than 32 hex characters: {s}"
        ));
    }
    let hex = |part: &str| -> Result<u64, String> {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "strconv.ParseUint: parsing {part:?}: invalid syntax"
            ));
        }
        u64::from_str_radix(part, 16)
            .map_err(|_| format!("strconv.ParseUint: parsing {part:?}: value out of range"))
    };
    if s.len() > 16 {
        let (hi, lo) = s.split_at(s.len() - 16);
        Ok(TraceId::new(hex(hi)?, hex(lo)?))
    } else {
        Ok(TraceId::new(0, hex(s)?))
    }
}

/// An optional integer time parameter in units of `unit_ns` nanoseconds.
fn time_param(p: &Params, name: &str, unit_ns: u64) -> Result<Option<u64>, ParamError> {
    match p.get(name) {
        None => Ok(None),
        Some(v) => {
            let n = parse_int(v, 64).map_err(|e| param_error(name, e))?;
            Ok(Some(u64::try_from(n).unwrap_or(0).saturating_mul(unit_ns)))
        }
    }
}

/// A duration parameter in Go syntax; negative or zero means "no bound".
fn duration_param(p: &Params, name: &str) -> Result<Option<u64>, ParamError> {
    match p.get(name) {
        None => Ok(None),
        Some(v) => {
            let ns = parse_duration(v).map_err(|e| param_error(name, e))?;
            Ok(u64::try_from(ns).ok().filter(|n| *n > 0))
        }
    }
}

/// Tag filters from `tag=key:value` (split at the first colon) and `tags=`
/// JSON objects of strings; later values win for a repeated key, and the
/// JSON form wins over the `tag` form, as in Jaeger.
pub fn parse_tags(p: &Params) -> Result<Vec<TagFilter>, ParamError> {
    let mut tags: BTreeMap<String, String> = BTreeMap::new();
    for t in p.all("tag") {
        match t.split_once(':') {
            Some((k, v)) => {
                tags.insert(k.to_string(), v.to_string());
            }
            None => {
                return Err(ParamError(format!(
                    "malformed 'tag' parameter, expecting key:value, received: {t}"
                )));
            }
        }
    }
    for json in p.all("tags") {
        let map: BTreeMap<String, String> = serde_json::from_str(json).map_err(|e| {
            ParamError(format!(
                "malformed 'tags' parameter, cannot unmarshal JSON: {e}"
            ))
        })?;
        tags.extend(map);
    }
    Ok(tags
        .into_iter()
        .map(|(key, value)| TagFilter { key, value })
        .collect())
}

/// What `GET /api/traces` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceRequest {
    /// Fetch these traces (other filters ignored).
    ByIds(Vec<TraceId>),
    /// Search.
    Search(TraceQuery),
}

/// Parses `GET /api/traces` parameters. `now_ns` is the current time.
pub fn parse_trace_request(p: &Params, now_ns: u64) -> Result<TraceRequest, ParamError> {
    let start = time_param(p, "start", 1_000)?;
    let end = time_param(p, "end", 1_000)?.unwrap_or(now_ns);
    let start = start.unwrap_or_else(|| end.saturating_sub(DEFAULT_SEARCH_LOOKBACK_NS));
    let tags = parse_tags(p)?;
    let limit = match p.get("limit") {
        None => DEFAULT_LIMIT,
        // Jaeger passes non-positive limits to storage, which reads them
        // as "no limit"; our stores read 0 that way.
        Some(v) => usize::try_from(parse_int(v, 32).map_err(ParamError)?).unwrap_or(0),
    };
    let duration_min = duration_param(p, "minDuration")?;
    let duration_max = duration_param(p, "maxDuration")?;
    let mut ids = Vec::new();
    for raw in p.all("traceID") {
        let id = parse_trace_id(raw)
            .map_err(|e| ParamError(format!("cannot parse traceID param: {e}")))?;
        ids.push(id);
    }
    let service = p.get("service");
    if ids.is_empty() && service.is_none() {
        return Err(ParamError("parameter 'service' is required".into()));
    }
    if matches!((duration_min, duration_max), (Some(min), Some(max)) if max < min) {
        return Err(ParamError(
            "'maxDuration' should be greater than 'minDuration'".into(),
        ));
    }
    if !ids.is_empty() {
        return Ok(TraceRequest::ByIds(ids));
    }
    Ok(TraceRequest::Search(TraceQuery {
        service: service.map(str::to_string),
        operation: p.get("operation").map(str::to_string),
        tags,
        start_min: start,
        start_max: end,
        duration_min,
        duration_max,
        limit,
        max_bytes: None,
        deadline: None,
    }))
}

/// Validates the optional `start`/`end` hints of `GET /api/traces/{id}`.
pub fn check_time_hints(p: &Params) -> Result<(), ParamError> {
    time_param(p, "start", 1_000)?;
    time_param(p, "end", 1_000)?;
    Ok(())
}

/// What `GET /api/dependencies` asks for: a window in nanoseconds and an
/// optional service filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependencyRequest {
    /// Window start, Unix nanoseconds.
    pub start: u64,
    /// Window end, Unix nanoseconds.
    pub end: u64,
    /// Keep only links touching this service.
    pub service: Option<String>,
}

/// Parses `endTs` (ms, default now) and `lookback` (ms, default 24h).
pub fn parse_dependency_request(p: &Params, now_ns: u64) -> Result<DependencyRequest, ParamError> {
    let end = time_param(p, "endTs", 1_000_000)?.unwrap_or(now_ns);
    let lookback_ms = match p.get("lookback") {
        None => DEFAULT_DEPENDENCY_LOOKBACK_MS,
        Some(v) => parse_int(v, 64).map_err(|e| param_error("lookback", e))?,
    };
    let lookback = u64::try_from(lookback_ms)
        .unwrap_or(0)
        .saturating_mul(1_000_000);
    Ok(DependencyRequest {
        start: end.saturating_sub(lookback),
        end,
        service: p.get("service").map(str::to_string),
    })
}

#[cfg(test)]
mod tests;
