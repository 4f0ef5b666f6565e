//! `/metrics` in the Prometheus text format.
//!
//! Events (records received, pushed, Salesforce calls, ...) are counted with the `metrics` facade
//! in the code where they happen and kept by `metrics-exporter-prometheus`'s recorder, per process.
//! The queue's state (depth, lag, counts by status, the daily API budget) is read from Postgres at
//! scrape time, so it is the same on every dyno and right after a restart.
//!
//! Heroku exposes one port per web dyno, so `/metrics` is served on the main listener behind the
//! bearer auth (`sync:admin`): a separate listener could not be reached from outside, and an
//! unauthenticated one would publish object names and volumes.

use std::fmt::Write as _;
use std::sync::OnceLock;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::figures;
use crate::auth::{Caller, Scope};
use crate::error::{ApiError, Problem};
use crate::salesforce::gate;
use crate::state::AppState;

/// The Prometheus text exposition format, version 0.0.4.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

const SECONDS_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder (once; later calls return the same handle). Counts made
/// before it is installed are lost, so `serve` installs it before the hub's first call.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(crate::push::metrics::BATCH_SIZE_METRIC.into()),
                crate::push::metrics::BATCH_SIZE_BUCKETS,
            )
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
            })
            .expect("bucket lists are not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics shows only gauges");
        }
        crate::ingest::metrics::describe();
        crate::ingest::merger::describe();
        crate::push::metrics::describe();
        crate::salesforce::metrics::describe();
        crate::sources::metrics::describe();
        handle
    })
}

/// The recorder's counters and histograms followed by the gauges read from Postgres.
pub async fn render(state: &AppState) -> Result<String, sqlx::Error> {
    let handle = install();
    handle.run_upkeep();
    let mut out = handle.render();
    let objects = figures::per_object(&state.pool, &state.catalog).await?;
    let usage = gate::usage(&state.pool).await?;
    gauge_family(
        &mut out,
        "sluice_queue_depth",
        "Records waiting to be pushed (pending), per object.",
    );
    for o in &objects {
        let _ = writeln!(
            out,
            "sluice_queue_depth{{object=\"{}\"}} {}",
            label(o.object.as_str()),
            o.pending
        );
    }
    gauge_family(
        &mut out,
        "sluice_queue_lag_seconds",
        "Age of the oldest change not yet in Salesforce, per object (0 when none).",
    );
    for o in &objects {
        let _ = writeln!(
            out,
            "sluice_queue_lag_seconds{{object=\"{}\"}} {:.3}",
            label(o.object.as_str()),
            o.lag_seconds.unwrap_or(0.0)
        );
    }
    gauge_family(
        &mut out,
        "sluice_records",
        "Staged records by object and sync status.",
    );
    for o in &objects {
        for (status, count) in o.by_status() {
            let _ = writeln!(
                out,
                "sluice_records{{object=\"{}\",status=\"{status}\"}} {count}",
                label(o.object.as_str())
            );
        }
    }
    for (name, help, value) in [
        (
            "sluice_salesforce_api_used",
            "Daily API requests used by the org, as Salesforce last reported.",
            usage.used,
        ),
        (
            "sluice_salesforce_api_max",
            "The org's daily API request allowance.",
            usage.max,
        ),
        (
            "sluice_salesforce_api_left",
            "Daily API requests left in the org's allowance.",
            usage.left(),
        ),
    ] {
        gauge_family(&mut out, name, help);
        let _ = writeln!(out, "{name} {value}");
    }
    paused(&mut out, &usage);
    let inbox = crate::staging::inbox::depth(&state.pool).await?;
    gauge_family(
        &mut out,
        "sluice_inbox_records",
        "Records accepted into the ingest inbox and not merged into staging yet.",
    );
    let _ = writeln!(out, "sluice_inbox_records {inbox}");
    let reads = crate::read::store::statuses(&state.pool).await?;
    crate::read::metrics::render(&mut out, &reads, label);
    Ok(out)
}

/// `sluice_push_paused{reason}`: 1 for the reason every dyno holds its calls now, 0 for the
/// others, and when that pause ends.
fn paused(out: &mut String, usage: &gate::Usage) {
    let hold = usage.hold_at(chrono::Utc::now());
    gauge_family(
        out,
        "sluice_push_paused",
        "1 while every dyno holds its calls to Salesforce for this reason (budget, outage, limit).",
    );
    for reason in gate::PauseReason::ALL {
        let on = hold.is_some_and(|h| h.reason == reason);
        let _ = writeln!(
            out,
            "sluice_push_paused{{reason=\"{reason}\"}} {}",
            u8::from(on)
        );
    }
    gauge_family(
        out,
        "sluice_push_paused_until_seconds",
        "Unix time the current pause ends (0 when calls are not paused).",
    );
    let until = hold.map_or(0, |h| h.until.timestamp());
    let _ = writeln!(out, "sluice_push_paused_until_seconds {until}");
}

fn gauge_family(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
}

/// Escapes a label value as the text format requires (backslash, double quote, newline).
fn label(value: &str) -> String {
    value
        .replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

/// Counters, histograms and queue gauges in the Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text exposition format 0.0.4", body = String, content_type = "text/plain"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks sync:admin", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_metrics(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(Scope::SyncAdmin)?;
    let body = render(&state).await?;
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(label("x\ny"), r"x\ny");
    }
}
