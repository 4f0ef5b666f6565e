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

/// At most this many ids in one log line.
const MAX_IDS_LOGGED: usize = 1000;

/// External ids as one log field, `A-1,A-2,…`, bounded so a batch of 50,000 makes no
/// megabyte line: the record-level trace (`grep <external id>` finds the request that staged a
/// record and the batch that pushed it).
pub fn id_list<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for (i, id) in ids.into_iter().enumerate() {
        if i == MAX_IDS_LOGGED {
            out.push_str(",…");
            break;
        }
        if i > 0 {
            out.push(',');
        }
        out.push_str(id);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_lists_are_joined_and_bounded() {
        assert_eq!(id_list(["C-1", "C-2"]), "C-1,C-2");
        let many: Vec<String> = (0..1500).map(|i| i.to_string()).collect();
        let line = id_list(many.iter().map(String::as_str));
        assert!(line.ends_with(",…"));
        assert_eq!(line.split(',').count(), MAX_IDS_LOGGED + 1);
    }
}
