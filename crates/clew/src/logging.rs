//! Logs: `tracing` to stderr, filtered by `log_level` (see
//! [`crate::cli::Cli::log_level`] for where it comes from), with ANSI
//! colours only when stderr is a terminal — a log file or `journalctl`
//! gets plain text.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Level names a bare directive may be.
const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// Checks a filter in `RUST_LOG` syntax. Stricter than `EnvFilter`, which
/// reads a bare word such as `verbose` as "every level of the target
/// `verbose`" and so would silently switch off all of Clew's logs: a bare
/// directive must be a level; a target needs `target=level`.
pub fn check_filter(filter: &str) -> Result<(), String> {
    for directive in filter.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let bare = !directive.contains('=') && !directive.contains('[');
        if bare && !LEVELS.contains(&directive.to_ascii_lowercase().as_str()) {
            return Err(format!(
                "invalid log filter {filter:?}: {directive:?} is not a level ({}); \
                 write target=level for a target",
                LEVELS.join(", ")
            ));
        }
    }
    EnvFilter::builder()
        .parse(filter)
        .map(|_| ())
        .map_err(|e| format!("invalid log filter {filter:?}: {e}"))
}

/// Installs the global subscriber. `filter` has passed [`check_filter`].
pub fn init(filter: &str) {
    let filter = EnvFilter::builder()
        .parse(filter)
        .unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}

#[cfg(test)]
mod tests {
    use super::check_filter;

    #[test]
    fn levels_and_target_directives_pass() {
        for ok in ["info", "WARN", "clew_ingest=debug,info", "h2=off,debug", ""] {
            assert_eq!(check_filter(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn a_malformed_filter_is_an_error() {
        for bad in ["verbose", "info,clew=loud", "infoo"] {
            let err = check_filter(bad).expect_err(bad);
            assert!(err.contains(bad), "{err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }
}
