//! The blocking HTTP client used off the hot path (sampling polls, the
//! collector sender). `ureq` keeps tokio out of programs that do not use it.

use std::time::Duration;

/// An HTTP agent with the given timeout for connect, read and write.
pub(crate) fn agent(timeout: Duration) -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(timeout)
        .user_agent(concat!("clew-client/", env!("CARGO_PKG_VERSION")))
        .build()
}
