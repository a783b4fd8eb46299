//! End-to-end stories: each module starts the real `clew` binary on port 0
//! and talks to it over the wire, as a user's client or browser would.

mod abuse;
mod fidelity;
mod harness;
mod interop;
mod interop_otel_zipkin;
mod lifecycle;
mod limits;
mod query_api;
mod read_apis;
mod storage;
mod user_story;
