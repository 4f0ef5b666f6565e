//! Logs: one structured line per event on stdout, logfmt by default (what Heroku's log tools
//! parse), JSON as an option. `RUST_LOG` sets the filter.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;

const DEFAULT_FILTER: &str = "info,sqlx=warn,tower_http=warn,hyper=warn";

pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let registry = tracing_subscriber::registry().with(filter);
    // A second init (tests, several subcommands) keeps the first subscriber.
    let _ = match format {
        LogFormat::Logfmt => registry.with(tracing_logfmt::layer()).try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .flatten_event(true),
            )
            .try_init(),
    };
}

/// The format from `LOG_FORMAT` alone, for subcommands that read no other configuration.
pub fn format_from_env() -> LogFormat {
    match std::env::var("LOG_FORMAT").as_deref() {
        Ok("json") => LogFormat::Json,
        _ => LogFormat::Logfmt,
    }
}
