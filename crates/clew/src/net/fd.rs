//! The file-descriptor limit: raised to the hard limit at start, and the
//! connection caps kept below it, so running out of descriptors can never
//! silence every listener at once.

use super::ConnectionLimits;

/// Descriptors kept out of the connection caps: listening and UDP sockets,
/// the store's files, the runtime's own.
pub const FD_HEADROOM: u64 = 256;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the soft
/// limit in force afterwards (`None` where it cannot be read).
pub fn raise_nofile_limit() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        use nix::sys::resource::{Resource, getrlimit, setrlimit};
        let (soft, hard) = match getrlimit(Resource::RLIMIT_NOFILE) {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!("cannot read the file descriptor limit: {e}");
                return None;
            }
        };
        if soft >= hard {
            tracing::info!(limit = soft, "file descriptor limit");
            return Some(soft);
        }
        match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => {
                tracing::info!(limit = hard, raised_from = soft, "file descriptor limit");
                Some(hard)
            }
            Err(e) => {
                tracing::warn!(
                    limit = soft,
                    hard,
                    "cannot raise the file descriptor limit to the hard limit: {e}"
                );
                Some(soft)
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// Lowers `max_total` so that every cap together (the total plus the
/// reserves of admin HTTP, query HTTP and query gRPC plus [`FD_HEADROOM`])
/// fits `nofile`, with a warning naming the setting.
pub fn fit_to_fd_limit(mut limits: ConnectionLimits, nofile: Option<u64>) -> ConnectionLimits {
    let Some(nofile) = nofile else {
        return limits;
    };
    let reserves = 3 * limits.reserved as u64;
    let room = nofile.saturating_sub(FD_HEADROOM + reserves).max(16);
    if limits.max_total as u64 > room {
        tracing::warn!(
            "connections.max_total = {} does not fit the file descriptor limit of {nofile} \
             (with {reserves} reserved and {FD_HEADROOM} kept for other files); using {room}",
            limits.max_total
        );
        limits.max_total = usize::try_from(room).unwrap_or(usize::MAX);
    }
    limits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_is_lowered_to_fit_the_descriptor_limit() {
        let limits = ConnectionLimits {
            max_total: 4096,
            reserved: 64,
            ..ConnectionLimits::default()
        };
        assert_eq!(
            fit_to_fd_limit(limits.clone(), Some(1024)).max_total,
            1024 - 256 - 192
        );
        assert_eq!(
            fit_to_fd_limit(limits.clone(), Some(1 << 20)).max_total,
            4096
        );
        assert_eq!(fit_to_fd_limit(limits, None).max_total, 4096);
    }
}
