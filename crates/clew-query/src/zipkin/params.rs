//! Zipkin read-API parameters: times in epoch milliseconds, durations in
//! microseconds, and `annotationQuery` terms joined by `and`.

use clew_model::{Trace, Value};
use clew_store::{TagFilter, TraceQuery};

use crate::go_syntax::parse_int;
use crate::params::Params;

/// Zipkin's default result count.
pub const DEFAULT_LIMIT: usize = 10;
/// Zipkin's default lookback: one day, in ms.
pub const DEFAULT_LOOKBACK_MS: u64 = 86_400_000;
const MS: u64 = 1_000_000;
const US: u64 = 1_000;

/// A parsed `/api/v2/traces` request.
#[derive(Debug)]
pub struct Search {
    /// What the store can filter on.
    pub query: TraceQuery,
    /// `annotationQuery` terms without `=`: an annotation value or a tag key
    /// some span must have; the store filters only on key=value, so these
    /// are checked on the returned traces.
    pub bare_terms: Vec<String>,
}

impl Search {
    /// Whether one span of `t` carries every bare term, as an annotation
    /// (a log's `event` field) or a tag key.
    pub fn matches_bare_terms(&self, t: &Trace) -> bool {
        if self.bare_terms.is_empty() {
            return true;
        }
        t.spans.iter().any(|s| {
            self.bare_terms.iter().all(|term| {
                s.tags.iter().any(|kv| *kv.key == **term)
                    || s.logs
                        .iter()
                        .flat_map(|l| &l.fields)
                        .any(|kv| matches!(&kv.value, Value::Str(v) if **v == **term))
            })
        })
    }
}

fn number(p: &Params, name: &str) -> Result<Option<u64>, String> {
    p.get(name)
        .map(|v| {
            let n = parse_int(v, 64).map_err(|e| format!("{name}: {e}"))?;
            u64::try_from(n).map_err(|_| format!("{name} must not be negative"))
        })
        .transpose()
}

/// Parses `/api/v2/traces` parameters; `now_ns` is the default `endTs`.
pub fn parse_search(p: &Params, now_ns: u64) -> Result<Search, String> {
    let end = number(p, "endTs")?.map_or(now_ns, |ms| ms.saturating_mul(MS));
    let lookback = number(p, "lookback")?.unwrap_or(DEFAULT_LOOKBACK_MS);
    let limit = number(p, "limit")?
        .and_then(|l| usize::try_from(l).ok())
        .filter(|l| *l > 0)
        .unwrap_or(DEFAULT_LIMIT);
    let duration_min = number(p, "minDuration")?.map(|us| us.saturating_mul(US));
    let duration_max = number(p, "maxDuration")?.map(|us| us.saturating_mul(US));
    let mut tags = Vec::new();
    let mut bare_terms = Vec::new();
    if let Some(q) = p.get("annotationQuery") {
        for term in q.split(" and ").map(str::trim).filter(|t| !t.is_empty()) {
            match term.split_once('=') {
                Some((k, v)) => tags.push(TagFilter {
                    key: k.to_string(),
                    value: v.to_string(),
                }),
                None => bare_terms.push(term.to_string()),
            }
        }
    }
    // Zipkin's UI sends "all" for "any span name".
    let operation = p
        .get("spanName")
        .filter(|n| !n.eq_ignore_ascii_case("all"))
        .map(str::to_string);
    Ok(Search {
        query: TraceQuery {
            service: p.get("serviceName").map(str::to_string),
            operation,
            tags,
            start_min: end.saturating_sub(lookback.saturating_mul(MS)),
            start_max: end,
            duration_min,
            duration_max,
            limit,
            max_bytes: None,
            deadline: None,
        },
        bare_terms,
    })
}

/// Parses `/api/v2/dependencies`: `endTs` (required, ms) and `lookback`
/// (ms, default one day) → a window in ns.
pub fn parse_dependencies(p: &Params) -> Result<(u64, u64), String> {
    let end = number(p, "endTs")?.ok_or("endTs is required")?;
    let lookback = number(p, "lookback")?.unwrap_or(DEFAULT_LOOKBACK_MS);
    let end = end.saturating_mul(MS);
    Ok((end.saturating_sub(lookback.saturating_mul(MS)), end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> Result<Search, String> {
        parse_search(&Params::parse(Some(q)), 5_000 * MS)
    }

    #[test]
    fn defaults_follow_zipkin() {
        let s = parse("").expect("valid");
        assert_eq!(s.query.limit, DEFAULT_LIMIT);
        assert_eq!(s.query.start_max, 5_000 * MS);
        assert_eq!(s.query.start_min, 0, "a day before 5 s saturates at 0");
        assert!(s.bare_terms.is_empty());
    }

    #[test]
    fn units_are_ms_for_times_and_us_for_durations() {
        let s =
            parse("endTs=1700000000000&lookback=1000&minDuration=1500&maxDuration=2000&limit=3")
                .expect("valid");
        let q = s.query;
        assert_eq!(
            (q.start_min, q.start_max),
            (1_699_999_999_000 * MS, 1_700_000_000_000 * MS)
        );
        assert_eq!(
            (q.duration_min, q.duration_max),
            (Some(1_500_000), Some(2_000_000))
        );
        assert_eq!(q.limit, 3);
    }

    #[test]
    fn annotation_query_splits_tags_from_bare_terms() {
        let s = parse("annotationQuery=http.method%3DGET%20and%20retry%20and%20error&spanName=all")
            .expect("valid");
        assert_eq!(
            s.query.tags,
            vec![TagFilter {
                key: "http.method".into(),
                value: "GET".into()
            }]
        );
        assert_eq!(s.bare_terms, ["retry", "error"]);
        assert_eq!(s.query.operation, None);
    }

    #[test]
    fn bad_numbers_and_missing_end_are_errors() {
        assert!(parse("limit=ten").is_err());
        assert!(parse("minDuration=-5").is_err());
        assert!(parse_dependencies(&Params::parse(Some("lookback=5"))).is_err());
        assert_eq!(
            parse_dependencies(&Params::parse(Some("endTs=10&lookback=4"))),
            Ok((6 * MS, 10 * MS))
        );
    }
}
