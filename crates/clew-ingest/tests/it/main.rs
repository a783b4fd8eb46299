//! Ingest stories over real sockets and real thrift bytes: one test binary,
//! one module per listener.

mod agent_udp;
mod collector_http;
mod harness;
mod sampling_http;
mod udp_load;
