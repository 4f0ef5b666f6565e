//! `sluice pull`: the declared pulls and their last runs, or one pull run now in this process
//! (`heroku run sluice pull orders-api`), under the same lease as the dynos' scheduler.

use std::fmt::Write as _;

use anyhow::Context;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::config::{DatabaseConfig, Env, pulls_from_env};
use crate::describe::{self, Describes};
use crate::sources::pulls::{Puller, RunOutcome, RunReport, store};

/// Runs `source`'s pull now, or lists every pull. The text to print, and whether it went well.
pub async fn run(env: &Env, source: Option<&str>) -> anyhow::Result<(String, bool)> {
    let (mappings, pulls) = pulls_from_env(env)?;
    let pool = crate::db::connect(&DatabaseConfig::from_env(env)?).await?;
    let Some(source) = source else {
        return Ok((list(&pool).await?, true));
    };
    anyhow::ensure!(
        pulls.get(source).is_some(),
        "no pull is declared for source {source:?} (a [pull] table in its mapping file)"
    );
    // Checked against the describes the hub last read, as `sluice mappings try` does: no call.
    let describes = Describes::default();
    for mapping in mappings.of_source(source) {
        if let Some(d) = describe::cached(&pool, mapping.object()).await? {
            describes.insert(d);
        }
    }
    let owner = format!("cli/{}", uuid::Uuid::new_v4().simple());
    let puller = Puller::new(pool, mappings, describes, pulls, owner);
    puller.register().await?;
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop.cancel();
        }
    });
    let outcome = puller
        .run(source, true, &shutdown)
        .await
        .with_context(|| format!("pulling {source}"))?;
    Ok(match outcome {
        RunOutcome::Ran(report) => {
            let ok = report.error.is_none();
            (render(&report), ok)
        }
        RunOutcome::Busy { owner, until } => (
            format!("{source} is being pulled by {owner} (lease until {until}); try again later\n"),
            false,
        ),
        RunOutcome::NotDue => (format!("{source} was not run\n"), false),
    })
}

fn render(r: &RunReport) -> String {
    let mut out = format!(
        "{}: run {} {}: {} page(s), {} record(s) read, {} staged, {} unchanged, {} rejected, {} page retry(ies)\n",
        r.source,
        r.run_id,
        format!("{:?}", r.status).to_lowercase(),
        r.pages,
        r.records_read,
        r.staged,
        r.unchanged,
        r.rejected,
        r.page_retries
    );
    if let Some(w) = &r.watermark {
        let _ = writeln!(out, "  watermark: {w}");
    }
    if let Some(e) = &r.error {
        let _ = writeln!(out, "  error: {e}");
    }
    out
}

async fn list(pool: &PgPool) -> Result<String, sqlx::Error> {
    let pulls = store::statuses(pool).await?;
    if pulls.is_empty() {
        return Ok("no pull has run yet (declare one with [pull] in a mapping file)\n".into());
    }
    let mut out = format!(
        "{:<20} {:<12} {:<20} {:>6} {:>8} {:>8} {:<20} {}\n",
        "SOURCE",
        "LAST RUN",
        "STARTED (UTC)",
        "PAGES",
        "READ",
        "REJECTED",
        "NEXT RUN (UTC)",
        "ERROR"
    );
    for p in pulls {
        let _ = writeln!(
            out,
            "{:<20} {:<12} {:<20} {:>6} {:>8} {:>8} {:<20} {}",
            p.source,
            p.running_on.as_ref().map_or_else(
                || p.last_status
                    .map_or("never".into(), |s| format!("{s:?}").to_lowercase()),
                |o| format!("running on {o}")
            ),
            p.last_started_at
                .map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
            p.last_pages.unwrap_or(0),
            p.last_records_read.unwrap_or(0),
            p.last_rejected.unwrap_or(0),
            p.next_run_at.format("%Y-%m-%d %H:%M:%S"),
            p.last_error.as_deref().unwrap_or("")
        );
    }
    Ok(out)
}
