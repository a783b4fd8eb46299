//! Ingest stories over real sockets and real wire bytes: one test binary,
//! one module per listener.

mod agent_udp;
mod collector_http;
mod harness;
mod jaeger_grpc;
mod otlp_fixture;
mod otlp_grpc;
mod otlp_http;
mod otlp_load;
mod python_clients;
mod sampling_http;
mod udp_load;
mod zipkin_http;
