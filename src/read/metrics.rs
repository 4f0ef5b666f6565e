//! The reads in `/metrics`: read from `salesforce_reads` at scrape time, so every dyno shows the
//! same figures, right after a restart too.

use std::fmt::Write as _;

use super::store::ReadStatus;

/// A metric family: name, type, help, and its value for one object.
type Family = (
    &'static str,
    &'static str,
    &'static str,
    fn(&ReadStatus) -> f64,
);

/// Appends the reads' families to a Prometheus text exposition.
pub fn render(out: &mut String, reads: &[ReadStatus], label: impl Fn(&str) -> String) {
    let families: [Family; 5] = [
        (
            "sluice_read_lag_seconds",
            "gauge",
            "Seconds since the last finished read of the object began: how far the hub may be behind Salesforce.",
            |r| r.lag_seconds.unwrap_or(-1.0),
        ),
        (
            "sluice_read_last_poll_timestamp_seconds",
            "gauge",
            "When the last read of the object finished (Unix seconds; 0 before the first).",
            |r| {
                r.last_read_at
                    .map_or(0.0, |t| t.timestamp_millis() as f64 / 1000.0)
            },
        ),
        (
            "sluice_read_rows_total",
            "counter",
            "Rows read from Salesforce for the object.",
            |r| r.rows_read as f64,
        ),
        (
            "sluice_read_calls_total",
            "counter",
            "API calls the object's reads spent.",
            |r| r.calls as f64,
        ),
        (
            "sluice_read_calls_today",
            "gauge",
            "API calls the object's reads spent today (UTC).",
            |r| r.calls_today as f64,
        ),
    ];
    for (name, kind, help, value) in families {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for r in reads {
            let _ = writeln!(
                out,
                "{name}{{object=\"{}\"}} {}",
                label(&r.object),
                value(r)
            );
        }
    }
}
