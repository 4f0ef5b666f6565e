//! The record of Bulk API 2.0 jobs (`push_bulk_jobs`): what operators see of recent jobs, and
//! the lease by which one scheduler follows a job until its results are written, so that a job
//! cut short (a failed poll, a restart) is resumed by its id instead of being sent again.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use crate::staging::{ObjectName, Operation};

/// One Bulk job as the scheduler last saw it.
#[derive(Debug, Clone, Serialize)]
pub struct BulkJob {
    pub job_id: String,
    pub object: String,
    pub operation: String,
    /// Salesforce's job state (`Open`, `UploadComplete`, `InProgress`, `JobComplete`, `Failed`,
    /// `Aborted`), or `Abandoned` when Sluice stopped following it.
    pub state: String,
    pub records: i32,
    pub succeeded: Option<i32>,
    pub failed: Option<i32>,
    pub unprocessed: Option<i32>,
    pub error_message: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Counts of a finished job, by result kind.
#[derive(Debug, Clone, Copy, Default)]
pub struct JobCounts {
    pub succeeded: usize,
    pub failed: usize,
    pub unprocessed: usize,
}

/// Records a job just created, leased to `owner` for `lease`.
pub async fn created(
    pool: &PgPool,
    job_id: &str,
    object: &ObjectName,
    operation: Operation,
    records: usize,
    owner: &str,
    lease: Duration,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO push_bulk_jobs (job_id, object, operation, state, records, owner, \
             lease_owner, lease_expires_at) \
         VALUES ($1, $2, $3, 'Open', $4, $5, $5, now() + make_interval(secs => $6)) \
         ON CONFLICT ON CONSTRAINT push_bulk_jobs_pkey DO NOTHING",
        job_id,
        object as &ObjectName,
        operation as Operation,
        records as i32,
        owner,
        lease.as_secs_f64(),
    )
    .execute(pool)
    .await?;
    // Old rows go now and then; a job's results are kept 7 days by Salesforce (docs/salesforce.md §5.4).
    sqlx::query!("DELETE FROM push_bulk_jobs WHERE created_at < now() - interval '30 days'")
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn state(
    pool: &PgPool,
    job_id: &str,
    state: &str,
    error_message: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE push_bulk_jobs SET state = $2, error_message = coalesce($3, error_message), \
         updated_at = now() WHERE job_id = $1",
        job_id,
        state,
        error_message,
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn finished(pool: &PgPool, job_id: &str, counts: JobCounts) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE push_bulk_jobs SET succeeded = $2, failed = $3, unprocessed = $4, \
         finished_at = now(), updated_at = now(), lease_owner = NULL, lease_expires_at = NULL \
         WHERE job_id = $1",
        job_id,
        counts.succeeded as i32,
        counts.failed as i32,
        counts.unprocessed as i32,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// A job that was never closed, so Salesforce processes none of it: its rows go again.
pub async fn abandoned(pool: &PgPool, job_id: &str, why: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE push_bulk_jobs SET state = 'Abandoned', error_message = $2, finished_at = now(), \
         updated_at = now(), lease_owner = NULL, lease_expires_at = NULL WHERE job_id = $1",
        job_id,
        why,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// A job some scheduler must follow to its end.
#[derive(Debug, Clone)]
pub struct Unfinished {
    pub job_id: String,
    pub object: ObjectName,
    pub operation: Operation,
}

/// Takes over the oldest unfinished job whose lease expired (its scheduler died, was stopped, or
/// put the job aside after failing to follow it), leased to `owner` for `lease`.
pub async fn adopt(
    pool: &PgPool,
    owner: &str,
    lease: Duration,
) -> Result<Option<Unfinished>, sqlx::Error> {
    sqlx::query_as!(
        Unfinished,
        r#"
        UPDATE push_bulk_jobs SET lease_owner = $1,
            lease_expires_at = now() + make_interval(secs => $2), updated_at = now()
        WHERE job_id = (
            SELECT job_id FROM push_bulk_jobs
            WHERE finished_at IS NULL AND (lease_expires_at IS NULL OR lease_expires_at < now())
            ORDER BY created_at LIMIT 1
            FOR UPDATE SKIP LOCKED)
        RETURNING job_id, object AS "object: ObjectName", operation AS "operation: Operation"
        "#,
        owner,
        lease.as_secs_f64(),
    )
    .fetch_optional(pool)
    .await
}

/// Keeps following the job: `false` when it is no longer `owner`'s.
pub async fn extend(
    pool: &PgPool,
    job_id: &str,
    owner: &str,
    lease: Duration,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query!(
        "UPDATE push_bulk_jobs SET lease_expires_at = now() + make_interval(secs => $3) \
         WHERE job_id = $1 AND lease_owner = $2 AND finished_at IS NULL",
        job_id,
        owner,
        lease.as_secs_f64(),
    )
    .execute(pool)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Puts the job aside: any scheduler resumes it after `after`.
pub async fn set_aside(
    pool: &PgPool,
    job_id: &str,
    owner: &str,
    after: Duration,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE push_bulk_jobs SET lease_expires_at = now() + make_interval(secs => $3), \
         updated_at = now() WHERE job_id = $1 AND lease_owner = $2 AND finished_at IS NULL",
        job_id,
        owner,
        after.as_secs_f64(),
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Lets another scheduler take over at once every job `owner` follows (it is stopping).
pub async fn release_owned(pool: &PgPool, owner: &str) -> Result<u64, sqlx::Error> {
    let result = sqlx::query!(
        "UPDATE push_bulk_jobs SET lease_expires_at = now() \
         WHERE lease_owner = $1 AND finished_at IS NULL",
        owner,
    )
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}

/// The most recent jobs, newest first.
pub async fn recent(pool: &PgPool, limit: i64) -> Result<Vec<BulkJob>, sqlx::Error> {
    sqlx::query_as!(
        BulkJob,
        "SELECT job_id, object, operation, state, records, succeeded, failed, unprocessed, \
         error_message, created_at, finished_at FROM push_bulk_jobs \
         ORDER BY created_at DESC, job_id LIMIT $1",
        limit,
    )
    .fetch_all(pool)
    .await
}
