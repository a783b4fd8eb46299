//! `jaeger.api_v3.QueryService`: traces as OTLP `TracesData`, one streamed
//! message per trace.

use clew_codec_otlp::proto::trace::v1::TracesData;
use clew_codec_otlp::spans_to_resource_spans;
use clew_model::Trace;
use tokio_stream::Iter;
use tonic::{Request, Response, Status};

use super::convert::{SearchFields, time};
use super::proto_v3 as v3;
use super::proto_v3::query_service_server::QueryService;
use super::{search_status, store_status, with_warnings};
use crate::QueryState;
use crate::api::traces::TRACE_NOT_FOUND;
use crate::fetch;
use crate::limits::{self, Found, take_within};
use crate::params::parse_trace_id;

/// Jaeger's answer to a search without its (required) time window.
pub const TIME_WINDOW_REQUIRED: &str = "start time min and max are required parameters";

/// The streamed messages of `GetTrace` and `FindTraces`.
pub type TracesStream = Iter<std::vec::IntoIter<Result<TracesData, Status>>>;

/// The api_v3 query service over a [`QueryState`].
#[derive(Clone)]
pub struct QueryServiceV3 {
    state: QueryState,
}

impl QueryServiceV3 {
    /// A service reading from `state.reader`.
    pub fn new(state: QueryState) -> Self {
        QueryServiceV3 { state }
    }
}

/// One trace as OTLP.
pub fn traces_data(trace: &Trace) -> TracesData {
    TracesData {
        resource_spans: spans_to_resource_spans(&trace.spans),
    }
}

fn stream(traces: &[Trace]) -> TracesStream {
    tokio_stream::iter(
        traces
            .iter()
            .map(|t| Ok(traces_data(t)))
            .collect::<Vec<_>>(),
    )
}

#[tonic::async_trait]
impl QueryService for QueryServiceV3 {
    type GetTraceStream = TracesStream;
    type FindTracesStream = TracesStream;

    async fn get_trace(
        &self,
        request: Request<v3::GetTraceRequest>,
    ) -> Result<Response<TracesStream>, Status> {
        let req = request.into_inner();
        let id = parse_trace_id(&req.trace_id).map_err(Status::invalid_argument)?;
        match fetch::trace(&*self.state.reader, id, req.raw_traces).await {
            Ok(Some(t)) => Ok(Response::new(stream(&[t]))),
            Ok(None) => Err(Status::not_found(TRACE_NOT_FOUND)),
            Err(e) => Err(store_status(&e)),
        }
    }

    async fn find_traces(
        &self,
        request: Request<v3::FindTracesRequest>,
    ) -> Result<Response<TracesStream>, Status> {
        let q = request
            .into_inner()
            .query
            .ok_or_else(|| Status::invalid_argument("missing query"))?;
        if q.start_time_min.is_none() || q.start_time_max.is_none() {
            return Err(Status::invalid_argument(TIME_WINDOW_REQUIRED));
        }
        let raw = q.raw_traces;
        let query = SearchFields {
            service_name: q.service_name,
            operation_name: q.operation_name,
            tags: q.attributes,
            start_time_min: q.start_time_min,
            start_time_max: q.start_time_max,
            duration_min: q.duration_min,
            duration_max: q.duration_max,
            search_depth: q.search_depth,
        }
        .into_query()?;
        let Found {
            traces,
            mut warnings,
            deadline,
        } = limits::search(&*self.state.reader, &self.state.limits, query, raw)
            .await
            .map_err(|e| search_status(&e))?;
        let (kept, cut) = take_within(
            traces.iter().map(traces_data),
            prost::Message::encoded_len,
            self.state.limits.max_response_bytes,
            deadline,
        );
        warnings.extend(cut);
        let stream = tokio_stream::iter(kept.into_iter().map(Ok).collect::<Vec<_>>());
        Ok(with_warnings(stream, &warnings))
    }

    async fn get_services(
        &self,
        _request: Request<v3::GetServicesRequest>,
    ) -> Result<Response<v3::GetServicesResponse>, Status> {
        let services = self
            .state
            .reader
            .services()
            .await
            .map_err(|e| store_status(&e))?;
        Ok(Response::new(v3::GetServicesResponse { services }))
    }

    async fn get_operations(
        &self,
        request: Request<v3::GetOperationsRequest>,
    ) -> Result<Response<v3::GetOperationsResponse>, Status> {
        let req = request.into_inner();
        let kind = Some(req.span_kind.as_str()).filter(|k| !k.is_empty());
        let operations = self
            .state
            .reader
            .operations(&req.service, kind)
            .await
            .map_err(|e| store_status(&e))?
            .into_iter()
            .map(|o| v3::Operation {
                name: o.name,
                span_kind: o.span_kind,
            })
            .collect();
        Ok(Response::new(v3::GetOperationsResponse { operations }))
    }

    async fn get_dependencies(
        &self,
        request: Request<v3::GetDependenciesRequest>,
    ) -> Result<Response<v3::DependenciesResponse>, Status> {
        let req = request.into_inner();
        let start = time("start_time", req.start_time.as_ref())?;
        let end = time("end_time", req.end_time.as_ref())?;
        let (Some(start), Some(end)) = (start, end) else {
            return Err(Status::invalid_argument(
                "start time and end time are required parameters",
            ));
        };
        let dependencies =
            crate::limits::dependencies(&*self.state.reader, &self.state.limits, start, end)
                .await
                .map_err(|e| search_status(&e))?
                .into_iter()
                .map(|l| v3::Dependency {
                    parent: l.parent,
                    child: l.child,
                    call_count: l.call_count,
                })
                .collect();
        Ok(Response::new(v3::DependenciesResponse { dependencies }))
    }
}
