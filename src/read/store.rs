//! `salesforce_reads`: one row per declared object, where its read stands, who runs it (a lease,
//! not an advisory lock) and what it cost.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::staging::ObjectName;

/// A read this process may run now, with where the object stands.
#[derive(Debug, Clone)]
pub struct Leased {
    /// When the read began (database clock).
    pub started_at: DateTime<Utc>,
    pub watermark: Option<DateTime<Utc>>,
    pub first_load_done: bool,
    pub first_load_job: Option<String>,
}

/// Why a read may go now.
#[derive(Debug, Clone, Copy)]
pub enum Trigger {
    /// The safety poll: at least this long since the last read began.
    Safety(Duration),
    /// A change event committed at this instant (Salesforce's clock): read unless a read already
    /// got past it, and no sooner than `every` after the last read began.
    Change {
        committed_at: DateTime<Utc>,
        every: Duration,
    },
}

/// Creates the objects' rows (once).
pub async fn declare(pool: &PgPool, objects: &[ObjectName]) -> Result<(), sqlx::Error> {
    let names: Vec<&str> = objects.iter().map(ObjectName::as_str).collect();
    sqlx::query!(
        "INSERT INTO salesforce_reads (object) SELECT UNNEST($1::text[]) ON CONFLICT DO NOTHING",
        &names as &[&str],
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Takes the object's lease when no other dyno holds it and the trigger says a read is due.
pub async fn try_lease(
    pool: &PgPool,
    object: &ObjectName,
    owner: &str,
    lease: Duration,
    trigger: Trigger,
) -> Result<Option<Leased>, sqlx::Error> {
    let (gap, committed_at) = match trigger {
        Trigger::Safety(gap) => (gap, None),
        Trigger::Change {
            committed_at,
            every,
        } => (every, Some(committed_at)),
    };
    let row = sqlx::query!(
        r#"
        UPDATE salesforce_reads
        SET lease_owner = $2, lease_expires_at = now() + make_interval(secs => $3),
            last_started_at = now()
        WHERE object = $1
          AND (lease_owner IS NULL OR lease_expires_at < now() OR lease_owner = $2)
          AND (last_started_at IS NULL OR last_started_at <= now() - make_interval(secs => $4))
          AND ($5::timestamptz IS NULL OR watermark IS NULL OR watermark < $5)
        RETURNING now() AS "started_at!", watermark, first_load_done, first_load_job
        "#,
        object as &ObjectName,
        owner,
        lease.as_secs_f64(),
        gap.as_secs_f64(),
        committed_at,
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| Leased {
        started_at: r.started_at,
        watermark: r.watermark,
        first_load_done: r.first_load_done,
        first_load_job: r.first_load_job,
    }))
}

/// Whether a read already went past a change committed at `committed_at`.
pub async fn read_past(
    pool: &PgPool,
    object: &ObjectName,
    committed_at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let past = sqlx::query_scalar!(
        r#"SELECT COALESCE(watermark >= $2, false) AS "past!" FROM salesforce_reads WHERE object = $1"#,
        object as &ObjectName,
        committed_at,
    )
    .fetch_optional(pool)
    .await?;
    Ok(past.unwrap_or(false))
}

/// What one page (or one step of a first load) did: recorded with a renewed lease, only while the
/// lease is still this owner's. Returns false when it is not (another dyno took the read over).
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub watermark: Option<DateTime<Utc>>,
    pub rows: i64,
    pub calls: i64,
    /// The first load's job, once created (and cleared when done).
    pub first_load_job: Option<String>,
    pub first_load_done: bool,
}

pub async fn record_progress(
    pool: &PgPool,
    object: &ObjectName,
    owner: &str,
    lease: Duration,
    progress: &Progress,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"
        UPDATE salesforce_reads
        SET watermark = GREATEST(watermark, $4),
            rows_read = rows_read + $5,
            calls = calls + $6,
            calls_today = CASE WHEN calls_day = (now() AT TIME ZONE 'UTC')::date
                               THEN calls_today + $6 ELSE $6 END,
            calls_day = (now() AT TIME ZONE 'UTC')::date,
            first_load_job = $7,
            first_load_done = first_load_done OR $8,
            lease_expires_at = now() + make_interval(secs => $3)
        WHERE object = $1 AND lease_owner = $2
        "#,
        object as &ObjectName,
        owner,
        lease.as_secs_f64(),
        progress.watermark,
        progress.rows,
        progress.calls,
        progress.first_load_job,
        progress.first_load_done,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends a read and gives the lease back: `error` is `None` when it finished.
pub async fn finish(
    pool: &PgPool,
    object: &ObjectName,
    owner: &str,
    started_at: DateTime<Utc>,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"
        UPDATE salesforce_reads
        SET lease_owner = NULL, lease_expires_at = NULL, reads = reads + 1,
            last_read_at = CASE WHEN $4::text IS NULL THEN now() ELSE last_read_at END,
            read_through = CASE WHEN $4::text IS NULL THEN $3 ELSE read_through END,
            last_error = $4
        WHERE object = $1 AND lease_owner = $2
        "#,
        object as &ObjectName,
        owner,
        started_at,
        error,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Gives back every lease of `owner` (shutdown).
pub async fn release_all(pool: &PgPool, owner: &str) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE salesforce_reads SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = $1",
        owner,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// The calls the reads spent today (UTC), all objects together.
pub async fn calls_today(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT COALESCE(sum(calls_today), 0)::bigint AS "calls!" FROM salesforce_reads
           WHERE calls_day = (now() AT TIME ZONE 'UTC')::date"#
    )
    .fetch_one(pool)
    .await
}

/// Where one object's read stands, for operators.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReadStatus {
    pub object: String,
    pub last_read_at: Option<DateTime<Utc>>,
    pub last_started_at: Option<DateTime<Utc>>,
    /// Seconds behind Salesforce: since the start of the last finished read.
    pub lag_seconds: Option<f64>,
    pub watermark: Option<DateTime<Utc>>,
    pub first_load_done: bool,
    pub reads: i64,
    pub rows_read: i64,
    pub calls: i64,
    pub calls_today: i64,
    pub lease_owner: Option<String>,
    pub last_error: Option<String>,
}

pub async fn statuses(pool: &PgPool) -> Result<Vec<ReadStatus>, sqlx::Error> {
    sqlx::query_as!(
        ReadStatus,
        r#"
        SELECT object, last_read_at, last_started_at,
               extract(epoch FROM now() - read_through)::float8 AS lag_seconds,
               watermark, first_load_done, reads, rows_read, calls,
               CASE WHEN calls_day = (now() AT TIME ZONE 'UTC')::date THEN calls_today ELSE 0 END
                   AS "calls_today!",
               lease_owner, last_error
        FROM salesforce_reads ORDER BY object
        "#
    )
    .fetch_all(pool)
    .await
}
