//! The record of Bulk API 2.0 jobs (`push_bulk_jobs`), so that operators can see recent jobs.

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

pub async fn created(
    pool: &PgPool,
    job_id: &str,
    object: &ObjectName,
    operation: Operation,
    records: usize,
    owner: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO push_bulk_jobs (job_id, object, operation, state, records, owner) \
         VALUES ($1, $2, $3, 'Open', $4, $5) \
         ON CONFLICT ON CONSTRAINT push_bulk_jobs_pkey DO NOTHING",
        job_id,
        object as &ObjectName,
        operation as Operation,
        records as i32,
        owner,
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
         finished_at = now(), updated_at = now() WHERE job_id = $1",
        job_id,
        counts.succeeded as i32,
        counts.failed as i32,
        counts.unprocessed as i32,
    )
    .execute(pool)
    .await?;
    Ok(())
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
