//! `source_pulls` and `source_pull_runs`: each pull's lease, position and watermark, and its runs.
//! Every write after the claim is fenced by the lease (`lease_owner = $owner`): a dyno that lost
//! its lease (it stalled past it and another took over) writes nothing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};

use super::fetch::Position;

/// Where an unfinished run goes on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    pub next: Position,
    /// The watermark the run sends (fixed for the whole run).
    pub watermark_from: Option<String>,
    /// The largest watermark value read so far.
    pub max_seen: Option<String>,
}

/// A pull this process now holds.
#[derive(Debug)]
pub struct Claimed {
    pub run_id: i64,
    pub watermark: Option<String>,
    pub resume: Option<Resume>,
    /// Consecutive failed runs before this one.
    pub failures: i32,
}

/// Makes sure every declared pull has its row (a new pull is due at once).
pub async fn register(pool: &PgPool, sources: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO source_pulls (source) SELECT unnest($1::text[]) \
         ON CONFLICT ON CONSTRAINT source_pulls_pkey DO NOTHING",
        sources,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Takes the pull's lease when it is free (or expired) and the pull is due, asked for, or
/// `force`d, and opens a run. A run still marked running was its dead holder's: interrupted.
pub async fn claim(
    pool: &PgPool,
    source: &str,
    owner: &str,
    lease: Duration,
    force: bool,
) -> Result<Option<Claimed>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let Some(row) = sqlx::query!(
        r#"UPDATE source_pulls
           SET lease_owner = $2, lease_expires_at = now() + make_interval(secs => $3),
               run_requested_at = NULL
           WHERE source = $1
             AND (lease_owner IS NULL OR lease_expires_at < now())
             AND ($4 OR next_run_at <= now() OR run_requested_at IS NOT NULL)
           RETURNING watermark, resume AS "resume: Json<Resume>", failures"#,
        source,
        owner,
        lease.as_secs_f64(),
        force,
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(None);
    };
    sqlx::query!(
        "UPDATE source_pull_runs SET status = 'interrupted', finished_at = now(), \
         error = coalesce(error, 'its process stopped before the run finished; resumed by the next run') \
         WHERE source = $1 AND status = 'running'",
        source,
    )
    .execute(&mut *tx)
    .await?;
    let resume = row.resume.map(|Json(r)| r);
    let watermark_from = resume
        .as_ref()
        .map_or(row.watermark.clone(), |r| r.watermark_from.clone());
    let run_id = sqlx::query_scalar!(
        "INSERT INTO source_pull_runs (source, owner, watermark_from) VALUES ($1, $2, $3) RETURNING id",
        source,
        owner,
        watermark_from,
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(Claimed {
        run_id,
        watermark: row.watermark,
        resume,
        failures: row.failures,
    }))
}

/// Who holds the pull's lease, and until when, if anyone does.
pub async fn holder(
    pool: &PgPool,
    source: &str,
) -> Result<Option<(String, DateTime<Utc>)>, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT lease_owner, lease_expires_at FROM source_pulls \
         WHERE source = $1 AND lease_expires_at >= now()",
        source,
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|r| Some((r.lease_owner?, r.lease_expires_at?))))
}

/// What one page made, counted on its run.
#[derive(Debug, Clone, Copy, Default)]
pub struct PageCounts {
    pub read: i32,
    pub staged: i32,
    pub unchanged: i32,
    pub rejected: i32,
}

/// Moves the run to `resume` and renews the lease, in the transaction that staged the page.
/// False when the lease is no longer ours: the caller rolls back.
pub async fn save_page(
    conn: &mut PgConnection,
    source: &str,
    owner: &str,
    lease: Duration,
    run_id: i64,
    resume: &Resume,
    counts: PageCounts,
) -> Result<bool, sqlx::Error> {
    let held = sqlx::query_scalar!(
        "UPDATE source_pulls SET resume = $3, lease_expires_at = now() + make_interval(secs => $4) \
         WHERE source = $1 AND lease_owner = $2 RETURNING true",
        source,
        owner,
        Json(resume) as _,
        lease.as_secs_f64(),
    )
    .fetch_optional(&mut *conn)
    .await?;
    if held.is_none() {
        return Ok(false);
    }
    sqlx::query!(
        "UPDATE source_pull_runs SET pages = pages + 1, records_read = records_read + $2, \
         staged = staged + $3, unchanged = unchanged + $4, rejected = rejected + $5 WHERE id = $1",
        run_id,
        counts.read,
        counts.staged,
        counts.unchanged,
        counts.rejected,
    )
    .execute(conn)
    .await?;
    Ok(true)
}

/// Renews the lease while a page is retried. False when it is no longer ours.
pub async fn extend_lease(
    pool: &PgPool,
    source: &str,
    owner: &str,
    lease: Duration,
) -> Result<bool, sqlx::Error> {
    let held = sqlx::query_scalar!(
        "UPDATE source_pulls SET lease_expires_at = now() + make_interval(secs => $3) \
         WHERE source = $1 AND lease_owner = $2 RETURNING true",
        source,
        owner,
        lease.as_secs_f64(),
    )
    .fetch_optional(pool)
    .await?;
    Ok(held.is_some())
}

/// How a run ends.
pub enum Ending<'a> {
    /// Every page read: the watermark moves, the next run is `every` away.
    Succeeded { watermark: Option<&'a str> },
    /// The position is kept for the next run, `retry_in` away.
    Failed { error: &'a str, retry_in: Duration },
    /// Stopped (shutdown): the position is kept and the pull is due again at once, for any dyno.
    Interrupted,
}

/// Ends the run and gives the lease back (only if still ours; the run row is ours either way).
pub async fn finish(
    pool: &PgPool,
    source: &str,
    owner: &str,
    run_id: i64,
    every: Duration,
    retries: i32,
    ending: Ending<'_>,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let (status, error, watermark_to) = match &ending {
        Ending::Succeeded { watermark } => {
            sqlx::query!(
                "UPDATE source_pulls SET watermark = $3, resume = NULL, failures = 0, \
                 next_run_at = now() + make_interval(secs => $4), \
                 lease_owner = NULL, lease_expires_at = NULL \
                 WHERE source = $1 AND lease_owner = $2",
                source,
                owner,
                *watermark,
                every.as_secs_f64(),
            )
            .execute(&mut *tx)
            .await?;
            ("succeeded", None, *watermark)
        }
        Ending::Failed { error, retry_in } => {
            sqlx::query!(
                "UPDATE source_pulls SET failures = failures + 1, \
                 next_run_at = now() + make_interval(secs => $3), \
                 lease_owner = NULL, lease_expires_at = NULL \
                 WHERE source = $1 AND lease_owner = $2",
                source,
                owner,
                retry_in.as_secs_f64(),
            )
            .execute(&mut *tx)
            .await?;
            ("failed", Some(*error), None)
        }
        Ending::Interrupted => {
            release(&mut tx, source, owner).await?;
            (
                "interrupted",
                Some("stopped by its process (shutdown); resumed by the next run"),
                None,
            )
        }
    };
    sqlx::query!(
        "UPDATE source_pull_runs SET status = $2, finished_at = now(), error = $3, \
         watermark_to = $4, page_retries = $5 WHERE id = $1",
        run_id,
        status,
        error,
        watermark_to,
        retries,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

async fn release(conn: &mut PgConnection, source: &str, owner: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE source_pulls SET lease_owner = NULL, lease_expires_at = NULL, next_run_at = now() \
         WHERE source = $1 AND lease_owner = $2",
        source,
        owner,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Gives back every pull `owner` holds, its runs interrupted (shutdown past its deadline).
pub async fn release_all(pool: &PgPool, owner: &str) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let released = sqlx::query!(
        "UPDATE source_pulls SET lease_owner = NULL, lease_expires_at = NULL, next_run_at = now() \
         WHERE lease_owner = $1",
        owner,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query!(
        "UPDATE source_pull_runs SET status = 'interrupted', finished_at = now(), \
         error = 'stopped by its process (shutdown); resumed by the next run' \
         WHERE owner = $1 AND status = 'running'",
        owner,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(released)
}

/// Asks for a run as soon as a scheduler sees it. False when there is no such pull.
pub async fn request_run(pool: &PgPool, source: &str) -> Result<bool, sqlx::Error> {
    let found = sqlx::query_scalar!(
        "UPDATE source_pulls SET run_requested_at = now() WHERE source = $1 RETURNING true",
        source,
    )
    .fetch_optional(pool)
    .await?;
    Ok(found.is_some())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Succeeded,
    Failed,
    Interrupted,
}

/// A pull as operators see it: where it stands and its last run.
#[derive(Debug, Clone, Serialize)]
pub struct PullStatus {
    pub source: String,
    pub watermark: Option<String>,
    pub next_run_at: DateTime<Utc>,
    pub failures: i32,
    pub running_on: Option<String>,
    pub run_requested: bool,
    pub last_status: Option<RunStatus>,
    pub last_started_at: Option<DateTime<Utc>>,
    pub last_finished_at: Option<DateTime<Utc>>,
    pub last_pages: Option<i32>,
    pub last_records_read: Option<i32>,
    pub last_staged: Option<i32>,
    pub last_rejected: Option<i32>,
    pub last_page_retries: Option<i32>,
    pub last_error: Option<String>,
}

pub async fn statuses(pool: &PgPool) -> Result<Vec<PullStatus>, sqlx::Error> {
    sqlx::query_as!(
        PullStatus,
        r#"SELECT p.source, p.watermark, p.next_run_at, p.failures,
                  CASE WHEN p.lease_expires_at >= now() THEN p.lease_owner END AS running_on,
                  p.run_requested_at IS NOT NULL AS "run_requested!",
                  r.status AS "last_status?: RunStatus", r.started_at AS "last_started_at?",
                  r.finished_at AS last_finished_at, r.pages AS "last_pages?",
                  r.records_read AS "last_records_read?", r.staged AS "last_staged?",
                  r.rejected AS "last_rejected?", r.page_retries AS "last_page_retries?",
                  r.error AS last_error
           FROM source_pulls p
           LEFT JOIN LATERAL (SELECT * FROM source_pull_runs
                              WHERE source = p.source ORDER BY id DESC LIMIT 1) r ON true
           ORDER BY p.source"#
    )
    .fetch_all(pool)
    .await
}

/// Forgets runs older than 30 days.
pub async fn prune_runs(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "DELETE FROM source_pull_runs WHERE started_at < now() - interval '30 days' \
         AND status <> 'running'"
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
