//! Request fields of both gRPC services → store queries.
//!
//! api_v2's and api_v3's `TraceQueryParameters` carry the same fields (v3
//! calls `tags` `attributes`), so both convert through [`SearchFields`].

use std::collections::HashMap;

use clew_codec_jaeger::api_v2::{duration_to_ns, timestamp_to_ns};
use clew_store::{TagFilter, TraceQuery};
use prost_types::{Duration, Timestamp};
use tonic::Status;

use crate::params::DEFAULT_LIMIT;

/// The search fields shared by api_v2 and api_v3.
pub(super) struct SearchFields {
    pub service_name: String,
    pub operation_name: String,
    pub tags: HashMap<String, String>,
    pub start_time_min: Option<Timestamp>,
    pub start_time_max: Option<Timestamp>,
    pub duration_min: Option<Duration>,
    pub duration_max: Option<Duration>,
    pub search_depth: i32,
}

/// A timestamp field as Unix ns; a negative or absurd one is a client error.
pub(super) fn time(field: &str, t: Option<&Timestamp>) -> Result<Option<u64>, Status> {
    t.map(|t| {
        timestamp_to_ns(t)
            .ok_or_else(|| Status::invalid_argument(format!("{field} is out of range")))
    })
    .transpose()
}

fn duration(field: &str, d: Option<&Duration>) -> Result<Option<u64>, Status> {
    d.map(|d| {
        duration_to_ns(d)
            .ok_or_else(|| Status::invalid_argument(format!("{field} is negative or out of range")))
    })
    .transpose()
}

impl SearchFields {
    /// The store query. Unset times leave that end of the window open; a
    /// non-positive search depth means Jaeger's default of 100 traces.
    pub(super) fn into_query(self) -> Result<TraceQuery, Status> {
        let start_min = time("start_time_min", self.start_time_min.as_ref())?.unwrap_or(0);
        let start_max = time("start_time_max", self.start_time_max.as_ref())?.unwrap_or(u64::MAX);
        let duration_min = duration("duration_min", self.duration_min.as_ref())?;
        let duration_max = duration("duration_max", self.duration_max.as_ref())?;
        let mut tags: Vec<TagFilter> = self
            .tags
            .into_iter()
            .map(|(key, value)| TagFilter { key, value })
            .collect();
        // Map order is random; a stable order keeps queries comparable.
        tags.sort_by(|a, b| a.key.cmp(&b.key));
        let limit = usize::try_from(self.search_depth)
            .ok()
            .filter(|d| *d > 0)
            .unwrap_or(DEFAULT_LIMIT);
        Ok(TraceQuery {
            service: Some(self.service_name).filter(|s| !s.is_empty()),
            operation: Some(self.operation_name).filter(|s| !s.is_empty()),
            tags,
            start_min,
            start_max,
            duration_min,
            duration_max,
            limit,
            max_bytes: None,
            deadline: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> SearchFields {
        SearchFields {
            service_name: String::new(),
            operation_name: String::new(),
            tags: HashMap::new(),
            start_time_min: None,
            start_time_max: None,
            duration_min: None,
            duration_max: None,
            search_depth: 0,
        }
    }

    #[test]
    fn empty_fields_mean_no_filter_and_the_default_depth() {
        let q = fields().into_query().expect("valid");
        assert_eq!(q.service, None);
        assert_eq!(q.operation, None);
        assert_eq!(
            (q.start_min, q.start_max, q.limit),
            (0, u64::MAX, DEFAULT_LIMIT)
        );
    }

    #[test]
    fn every_field_reaches_the_store_query() {
        let mut f = fields();
        f.service_name = "svc".into();
        f.operation_name = "op".into();
        f.tags.insert("b".into(), "2".into());
        f.tags.insert("a".into(), "1".into());
        f.start_time_min = Some(Timestamp {
            seconds: 1,
            nanos: 0,
        });
        f.start_time_max = Some(Timestamp {
            seconds: 2,
            nanos: 5,
        });
        f.duration_min = Some(Duration {
            seconds: 0,
            nanos: 10,
        });
        f.duration_max = Some(Duration {
            seconds: 1,
            nanos: 0,
        });
        f.search_depth = 7;
        let q = f.into_query().expect("valid");
        assert_eq!(q.service.as_deref(), Some("svc"));
        assert_eq!(q.operation.as_deref(), Some("op"));
        let keys: Vec<&str> = q.tags.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!((q.start_min, q.start_max), (1_000_000_000, 2_000_000_005));
        assert_eq!(
            (q.duration_min, q.duration_max),
            (Some(10), Some(1_000_000_000))
        );
        assert_eq!(q.limit, 7);
    }

    #[test]
    fn negative_times_are_invalid_arguments() {
        let mut f = fields();
        f.start_time_min = Some(Timestamp {
            seconds: -1,
            nanos: 0,
        });
        let err = f.into_query().expect_err("negative time");
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
    }
}
