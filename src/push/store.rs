//! The push engine's queries on `staging_records`: look at due work, claim it under a lease,
//! extend or give back the lease. Outcomes are written in [`super::outcomes`].
//!
//! Correctness across dynos rests on row locks and leases only (no advisory locks, no reliance
//! on LISTEN/NOTIFY): a claim takes due rows with `FOR UPDATE SKIP LOCKED` and leases them to one
//! scheduler; outcomes are written only by the lease holder.

use std::time::Duration;

use serde_json::{Map, Value};
use sqlx::PgPool;

pub use super::outcomes::{PushFailure, RecordOutcome, record_outcomes};
use super::plan::{DueGroup, Operation};
use crate::salesforce::MAX_COLLECTION_RECORDS;

/// A row claimed for one push.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedRecord {
    pub id: i64,
    pub external_id: String,
    #[sqlx(json)]
    pub fields: Map<String, Value>,
    pub version: i64,
    pub attempts: i32,
    /// Set once Salesforce has the record; a deletion needs it.
    pub salesforce_id: Option<String>,
}

/// Rows a scheduler may take now: pending and due, or leased by a scheduler that died.
const DUE: &str = "origin = 'hub' \
     AND (   (sync_status = 'pending' AND next_attempt_at <= now()) \
          OR (sync_status = 'in_flight' AND lease_expires_at < now()))";

/// Leases up to `limit` due rows of `object` and `operation` to `owner`, oldest change first.
/// Rows whose lease expired (their scheduler died) are due again. Rows changed less than
/// `settle` ago are left for a later batch: more changes may be coming for them.
pub async fn claim(
    pool: &PgPool,
    object: &str,
    operation: Operation,
    owner: &str,
    limit: i64,
    lease: Duration,
    settle: Duration,
) -> Result<Vec<ClaimedRecord>, sqlx::Error> {
    sqlx::query_as(&format!(
        r#"
        WITH due AS (
            SELECT id FROM staging_records
            WHERE object = $1 AND operation = $5 AND {DUE}
              AND (updated_at <= now() - make_interval(secs => $6) OR sync_status = 'in_flight')
            ORDER BY next_attempt_at, id
            LIMIT $2
            FOR UPDATE SKIP LOCKED
        )
        UPDATE staging_records s
        SET sync_status = 'in_flight', lease_owner = $3,
            lease_expires_at = now() + make_interval(secs => $4), attempts = s.attempts + 1
        FROM due WHERE s.id = due.id
        RETURNING s.id, s.external_id, s.fields, s.version, s.attempts, s.salesforce_id
        "#
    ))
    .bind(object)
    .bind(limit)
    .bind(owner)
    .bind(lease.as_secs_f64())
    .bind(operation.as_str())
    .bind(settle.as_secs_f64())
    .fetch_all(pool)
    .await
}

/// Due work per object and operation, with the age of its oldest and newest change and of the
/// newest change in its next batch: what the planner decides on.
pub async fn due_groups(pool: &PgPool) -> Result<Vec<DueGroup>, sqlx::Error> {
    let rows: Vec<(String, String, i64, f64, f64, f64)> = sqlx::query_as(&format!(
        r#"
        WITH due AS (
            SELECT object, operation, updated_at,
                   row_number() OVER (PARTITION BY object, operation
                                      ORDER BY next_attempt_at, id) AS rank
            FROM staging_records WHERE {DUE}
        )
        SELECT object, operation, count(*),
               extract(epoch FROM now() - min(updated_at))::float8,
               extract(epoch FROM now() - max(updated_at))::float8,
               extract(epoch FROM now() - max(updated_at) FILTER (WHERE rank <= $1))::float8
        FROM due GROUP BY 1, 2
        "#
    ))
    .bind(MAX_COLLECTION_RECORDS as i64)
    .fetch_all(pool)
    .await?;
    let secs = |s: f64| Duration::from_secs_f64(s.max(0.0));
    Ok(rows
        .into_iter()
        .filter_map(|(object, operation, count, oldest, newest, batch_newest)| {
            Some(DueGroup {
                operation: Operation::parse(&operation)?,
                object,
                count: count as u64,
                oldest: secs(oldest),
                newest: secs(newest),
                batch_newest: secs(batch_newest),
            })
        })
        .collect())
}

/// Objects with due work (any operation).
pub async fn objects_with_due_work(pool: &PgPool) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "SELECT DISTINCT object FROM staging_records WHERE {DUE}"
    ))
    .fetch_all(pool)
    .await
}

/// Keeps rows leased to `owner` for `lease` more (a Bulk job still running).
pub async fn extend_lease(
    pool: &PgPool,
    owner: &str,
    ids: &[i64],
    lease: Duration,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE staging_records SET lease_expires_at = now() + make_interval(secs => $3) \
         WHERE id = ANY($1) AND lease_owner = $2 AND sync_status = 'in_flight'",
    )
    .bind(ids)
    .bind(owner)
    .bind(lease.as_secs_f64())
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}

/// Gives leased rows back without counting the attempt (the scheduler is stopping, or Salesforce
/// asked us to pause): they are due again after `delay`.
pub async fn release(
    pool: &PgPool,
    owner: &str,
    ids: &[i64],
    delay: Duration,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        r#"
        UPDATE staging_records
        SET sync_status = 'pending', lease_owner = NULL, lease_expires_at = NULL,
            attempts = greatest(attempts - 1, 0),
            next_attempt_at = now() + make_interval(secs => $3)
        WHERE id = ANY($1) AND lease_owner = $2 AND sync_status = 'in_flight'
        "#,
    )
    .bind(ids)
    .bind(owner)
    .bind(delay.as_secs_f64())
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}

/// Gives back every row leased to `owner`, due at once.
pub async fn release_owned(pool: &PgPool, owner: &str) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE staging_records SET sync_status = 'pending', lease_owner = NULL, \
         lease_expires_at = NULL, attempts = greatest(attempts - 1, 0), next_attempt_at = now() \
         WHERE lease_owner = $1 AND sync_status = 'in_flight'",
    )
    .bind(owner)
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}
