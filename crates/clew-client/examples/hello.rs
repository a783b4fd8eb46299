//! The reference user story: a const sampler, a logging reporter that
//! flushes every second to the agent at 127.0.0.1:5775, a global tracer,
//! `hello` and its child `world`.
//!
//! Run: `cargo run -p clew-client --example hello [-- --agent HOST:PORT]`
//! (`CLEW_AGENT_ADDR` overrides the agent address too).

use std::time::Duration;

use clew_client::config::SamplerType;
use clew_client::{Config, global};

fn agent_address() -> String {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--agent" {
            if let Some(v) = args.next() {
                return v;
            }
        } else if let Some(v) = a.strip_prefix("--agent=") {
            return v.to_owned();
        }
    }
    std::env::var("CLEW_AGENT_ADDR").unwrap_or_else(|_| "127.0.0.1:5775".to_owned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (tracer, closer) = Config::new("hello-world")
        .sampler(SamplerType::Const, 1.0)
        .log_spans(true)
        .flush_interval(Duration::from_secs(1))
        .agent(agent_address())
        .build()?;
    global::set_tracer(tracer);

    let tracer = global::tracer();
    let hello = tracer.span("hello").start();
    let world = tracer.span("world").child_of(&hello).start();
    world.finish();
    hello.finish();

    closer.close();
    Ok(())
}
