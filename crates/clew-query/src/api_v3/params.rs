//! API v3 HTTP query parameters. The gateway accepts camelCase names and,
//! for older clients, the snake_case ones Jaeger 1.x used; times are
//! RFC 3339, durations Go duration strings, attributes a JSON string map.

use std::collections::BTreeMap;

use clew_store::{TagFilter, TraceQuery};

use crate::go_syntax::{parse_duration, parse_int};
use crate::params::{DEFAULT_LIMIT, Params};
use crate::rfc3339::parse_rfc3339;

/// A parsed search.
pub struct SearchRequest {
    /// The store query.
    pub query: TraceQuery,
    /// Skip the adjusters.
    pub raw: bool,
}

/// The first of `names` present, with the name it was found under.
fn first<'a>(p: &'a Params, names: &[&'static str]) -> Option<(&'static str, &'a str)> {
    names.iter().find_map(|n| p.get(n).map(|v| (*n, v)))
}

/// Go's `ParseBool` truth for the first of `names` present.
pub fn flag(p: &Params, names: &[&'static str]) -> bool {
    matches!(
        first(p, names).map(|(_, v)| v),
        Some("1" | "t" | "T" | "true" | "TRUE" | "True")
    )
}

fn malformed(name: &str, e: impl std::fmt::Display) -> String {
    format!("malformed parameter {name}: {e}")
}

fn time(p: &Params, names: &[&'static str]) -> Result<Option<u64>, String> {
    first(p, names)
        .map(|(n, v)| parse_rfc3339(v).map_err(|e| malformed(n, e)))
        .transpose()
}

/// Checks an optional time hint (`startTime`/`endTime` of a trace fetch);
/// the value itself is not needed by an in-memory lookup.
pub fn time_hint(p: &Params, names: [&'static str; 2]) -> Result<(), String> {
    time(p, &names).map(|_| ())
}

fn duration(p: &Params, names: &[&'static str]) -> Result<Option<u64>, String> {
    first(p, names)
        .map(|(n, v)| {
            let ns = parse_duration(v).map_err(|e| malformed(n, e))?;
            u64::try_from(ns).map_err(|_| malformed(n, "negative duration"))
        })
        .transpose()
}

/// Parses the `query.*` search parameters.
pub fn parse_search(p: &Params) -> Result<SearchRequest, String> {
    const MIN: &[&str] = &["query.startTimeMin", "query.start_time_min"];
    const MAX: &[&str] = &["query.startTimeMax", "query.start_time_max"];
    let (Some(start_min), Some(start_max)) = (time(p, MIN)?, time(p, MAX)?) else {
        return Err("query.start_time_min and query.start_time_max are required parameters".into());
    };
    if start_min >= start_max {
        return Err("query.start_time_min must be before query.start_time_max".into());
    }
    let duration_min = duration(p, &["query.durationMin", "query.duration_min"])?;
    let duration_max = duration(p, &["query.durationMax", "query.duration_max"])?;
    let depth = [
        "query.searchDepth",
        "query.search_depth",
        "query.num_traces",
    ];
    let limit = match first(p, &depth) {
        None => DEFAULT_LIMIT,
        Some((n, v)) => {
            let d = parse_int(v, 32).map_err(|e| malformed(n, e))?;
            usize::try_from(d)
                .ok()
                .filter(|d| *d > 0)
                .unwrap_or(DEFAULT_LIMIT)
        }
    };
    let mut tags = Vec::new();
    if let Some(raw) = p.get("query.attributes") {
        let map: BTreeMap<String, String> =
            serde_json::from_str(raw).map_err(|e| malformed("query.attributes", e))?;
        tags = map
            .into_iter()
            .map(|(key, value)| TagFilter { key, value })
            .collect();
    }
    let text = |names: &[&'static str]| first(p, names).map(|(_, v)| v.to_string());
    Ok(SearchRequest {
        query: TraceQuery {
            service: text(&["query.serviceName", "query.service_name"]),
            operation: text(&["query.operationName", "query.operation_name"]),
            tags,
            start_min,
            start_max,
            duration_min,
            duration_max,
            limit,
            max_bytes: None,
            deadline: None,
        },
        raw: flag(p, &["query.rawTraces", "query.raw_traces"]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> Result<SearchRequest, String> {
        parse_search(&Params::parse(Some(q)))
    }

    const WINDOW: &str =
        "query.startTimeMin=2023-11-14T22:13:20Z&query.startTimeMax=2023-11-14T22:13:21Z";

    #[test]
    fn camel_and_snake_case_names_mean_the_same() {
        let camel = parse(&format!(
            "{WINDOW}&query.serviceName=a&query.operationName=b&query.durationMin=1ms&query.searchDepth=5&query.rawTraces=true"
        ))
        .expect("valid");
        let snake = parse(
            "query.start_time_min=2023-11-14T22:13:20Z&query.start_time_max=2023-11-14T22:13:21Z\
             &query.service_name=a&query.operation_name=b&query.duration_min=1ms&query.num_traces=5&query.raw_traces=true",
        )
        .expect("valid");
        assert_eq!(camel.query, snake.query);
        assert!(camel.raw && snake.raw);
        let q = camel.query;
        assert_eq!(
            (q.service.as_deref(), q.operation.as_deref()),
            (Some("a"), Some("b"))
        );
        assert_eq!(
            (q.start_min, q.start_max),
            (1_700_000_000_000_000_000, 1_700_000_001_000_000_000)
        );
        assert_eq!((q.duration_min, q.limit), (Some(1_000_000), 5));
    }

    #[test]
    fn attributes_are_a_json_string_map() {
        let q = parse(&format!(
            "{WINDOW}&query.attributes=%7B%22error%22%3A%22true%22%7D"
        ))
        .expect("valid")
        .query;
        assert_eq!(
            q.tags,
            vec![TagFilter {
                key: "error".into(),
                value: "true".into()
            }]
        );
        let err = parse(&format!("{WINDOW}&query.attributes=nope"))
            .err()
            .expect("bad JSON");
        assert!(
            err.starts_with("malformed parameter query.attributes"),
            "{err}"
        );
    }

    #[test]
    fn the_window_is_required_ordered_and_rfc3339() {
        let missing = parse("query.startTimeMin=2023-11-14T22:13:20Z")
            .err()
            .expect("no max");
        assert_eq!(
            missing,
            "query.start_time_min and query.start_time_max are required parameters"
        );
        let reversed = parse(
            "query.startTimeMin=2023-11-14T22:13:21Z&query.startTimeMax=2023-11-14T22:13:20Z",
        );
        assert!(reversed.is_err());
        let garbage = parse("query.startTimeMin=yesterday&query.startTimeMax=2023-11-14T22:13:20Z")
            .err()
            .expect("not a time");
        assert!(
            garbage.starts_with("malformed parameter query.startTimeMin"),
            "{garbage}"
        );
    }
}
