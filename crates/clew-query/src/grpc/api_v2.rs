//! `jaeger.api_v2.QueryService`: Jaeger's own gRPC query API, spans in
//! api_v2 protobuf with their processes embedded.

use clew_codec_jaeger::api_v2::{dependency_link, pb, span_to_pb, trace_id_from_bytes};
use clew_model::{Span, Trace};
use tokio_stream::Iter;
use tonic::{Request, Response, Status};

use super::convert::{SearchFields, time};
use super::proto_v2::query_service_server::QueryService;
use super::{MAX_SPANS_PER_CHUNK, search_status, store_status, with_warnings};
use crate::QueryState;
use crate::api::traces::TRACE_NOT_FOUND;
use crate::fetch;
use crate::limits::{self, Found, QueryLimits, take_within};

/// What Jaeger answers `ArchiveTrace` with when no archive store exists.
pub const ARCHIVE_NOT_CONFIGURED: &str = "archive span storage was not configured";

/// The streamed chunks of `GetTrace` and `FindTraces`.
pub type ChunkStream = Iter<std::vec::IntoIter<Result<pb::SpansResponseChunk, Status>>>;

/// The api_v2 query service over a [`QueryState`].
#[derive(Clone)]
pub struct QueryServiceV2 {
    state: QueryState,
}

impl QueryServiceV2 {
    /// A service reading from `state.reader`.
    pub fn new(state: QueryState) -> Self {
        QueryServiceV2 { state }
    }
}

/// Splits spans into chunks of at most [`MAX_SPANS_PER_CHUNK`], so a
/// 10,000-span trace never becomes one huge gRPC message.
fn push_chunks(spans: &[Span], out: &mut Vec<Result<pb::SpansResponseChunk, Status>>) {
    for chunk in spans.chunks(MAX_SPANS_PER_CHUNK) {
        out.push(Ok(pb::SpansResponseChunk {
            spans: chunk.iter().map(span_to_pb).collect(),
        }));
    }
}

fn stream_traces(traces: &[Trace]) -> ChunkStream {
    let mut out = Vec::new();
    for t in traces {
        push_chunks(&t.spans, &mut out);
    }
    tokio_stream::iter(out)
}

/// The chunks of found traces, cut at the response byte cap and the time
/// budget; a cut adds its warning.
fn stream_found(found: Found, limits: &QueryLimits) -> Response<ChunkStream> {
    let Found {
        traces,
        mut warnings,
        deadline,
    } = found;
    let per_trace = traces.iter().map(|t| {
        let mut chunks = Vec::new();
        push_chunks(&t.spans, &mut chunks);
        chunks
    });
    let size = |chunks: &Vec<Result<pb::SpansResponseChunk, Status>>| {
        chunks
            .iter()
            .map(|c| c.as_ref().map_or(0, prost::Message::encoded_len))
            .sum()
    };
    let (kept, cut) = take_within(per_trace, size, limits.max_response_bytes, deadline);
    warnings.extend(cut);
    let chunks: Vec<_> = kept.into_iter().flatten().collect();
    with_warnings(tokio_stream::iter(chunks), &warnings)
}

#[tonic::async_trait]
impl QueryService for QueryServiceV2 {
    type GetTraceStream = ChunkStream;
    type FindTracesStream = ChunkStream;

    async fn get_trace(
        &self,
        request: Request<pb::GetTraceRequest>,
    ) -> Result<Response<ChunkStream>, Status> {
        let req = request.into_inner();
        let id = trace_id_from_bytes(&req.trace_id)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        match fetch::trace(&*self.state.reader, id, req.raw_traces).await {
            Ok(Some(t)) => Ok(Response::new(stream_traces(&[t]))),
            Ok(None) => Err(Status::not_found(TRACE_NOT_FOUND)),
            Err(e) => Err(store_status(&e)),
        }
    }

    async fn archive_trace(
        &self,
        _request: Request<pb::ArchiveTraceRequest>,
    ) -> Result<Response<pb::ArchiveTraceResponse>, Status> {
        Err(Status::unimplemented(ARCHIVE_NOT_CONFIGURED))
    }

    async fn find_traces(
        &self,
        request: Request<pb::FindTracesRequest>,
    ) -> Result<Response<ChunkStream>, Status> {
        let q = request
            .into_inner()
            .query
            .ok_or_else(|| Status::invalid_argument("missing query"))?;
        let raw = q.raw_traces;
        let query = SearchFields {
            service_name: q.service_name,
            operation_name: q.operation_name,
            tags: q.tags,
            start_time_min: q.start_time_min,
            start_time_max: q.start_time_max,
            duration_min: q.duration_min,
            duration_max: q.duration_max,
            search_depth: q.search_depth,
        }
        .into_query()?;
        let found = limits::search(&*self.state.reader, &self.state.limits, query, raw)
            .await
            .map_err(|e| search_status(&e))?;
        Ok(stream_found(found, &self.state.limits))
    }

    async fn get_services(
        &self,
        _request: Request<pb::GetServicesRequest>,
    ) -> Result<Response<pb::GetServicesResponse>, Status> {
        let services = self
            .state
            .reader
            .services()
            .await
            .map_err(|e| store_status(&e))?;
        Ok(Response::new(pb::GetServicesResponse { services }))
    }

    async fn get_operations(
        &self,
        request: Request<pb::GetOperationsRequest>,
    ) -> Result<Response<pb::GetOperationsResponse>, Status> {
        let req = request.into_inner();
        let kind = Some(req.span_kind.as_str()).filter(|k| !k.is_empty());
        let ops = self
            .state
            .reader
            .operations(&req.service, kind)
            .await
            .map_err(|e| store_status(&e))?;
        // The deprecated name list is still filled: old clients read only it.
        let mut names: Vec<String> = ops.iter().map(|o| o.name.clone()).collect();
        names.dedup();
        let operations = ops
            .into_iter()
            .map(|o| pb::Operation {
                name: o.name,
                span_kind: o.span_kind,
            })
            .collect();
        Ok(Response::new(pb::GetOperationsResponse {
            operation_names: names,
            operations,
        }))
    }

    async fn get_dependencies(
        &self,
        request: Request<pb::GetDependenciesRequest>,
    ) -> Result<Response<pb::GetDependenciesResponse>, Status> {
        let req = request.into_inner();
        let start = time("start_time", req.start_time.as_ref())?;
        let end = time("end_time", req.end_time.as_ref())?;
        let (Some(start), Some(end)) = (start, end) else {
            return Err(Status::invalid_argument(
                "StartTime and EndTime must be initialized.",
            ));
        };
        let links =
            crate::limits::dependencies(&*self.state.reader, &self.state.limits, start, end)
                .await
                .map_err(|e| search_status(&e))?;
        let dependencies = links
            .iter()
            .map(|l| dependency_link(&l.parent, &l.child, l.call_count))
            .collect();
        Ok(Response::new(pb::GetDependenciesResponse { dependencies }))
    }
}
