//! The push engine's queries on `staging_records`: claim due rows under a lease, write outcomes back.
//!
//! Correctness across dynos rests on row locks and leases only (no advisory locks, no reliance
//! on LISTEN/NOTIFY): a claim takes due rows with `FOR UPDATE SKIP LOCKED` and leases them to one
//! scheduler; outcomes are written only by the lease holder.

use std::time::Duration;

use serde_json::{Map, Value};
use sqlx::PgPool;

/// A row claimed for one push.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedRecord {
    pub id: i64,
    pub external_id: String,
    #[sqlx(json)]
    pub fields: Map<String, Value>,
    pub version: i64,
    pub attempts: i32,
}

/// What to write back for one pushed row.
#[derive(Debug, Clone)]
pub enum RecordOutcome {
    /// Salesforce has the pushed version.
    Synced { salesforce_id: String },
    /// Try again after `delay` (transient error); parked as failed after the last attempt.
    Retry { delay: Duration, error: PushFailure },
    /// Salesforce refused this version; kept until the data changes or someone retries it.
    Failed(PushFailure),
}

/// Salesforce's own error for a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushFailure {
    pub code: String,
    pub message: String,
    pub fields: Vec<String>,
}

/// Leases up to `limit` due rows of `object` to `owner`, oldest change first. Rows whose lease
/// expired (their scheduler died) are due again.
pub async fn claim(
    pool: &PgPool,
    object: &str,
    owner: &str,
    limit: i64,
    lease: Duration,
) -> Result<Vec<ClaimedRecord>, sqlx::Error> {
    sqlx::query_as(
        r#"
        WITH due AS (
            SELECT id FROM staging_records
            WHERE object = $1 AND operation = 'upsert' AND origin = 'hub'
              AND (   (sync_status = 'pending' AND next_attempt_at <= now())
                   OR (sync_status = 'in_flight' AND lease_expires_at < now()))
            ORDER BY next_attempt_at, id
            LIMIT $2
            FOR UPDATE SKIP LOCKED
        )
        UPDATE staging_records s
        SET sync_status = 'in_flight', lease_owner = $3,
            lease_expires_at = now() + make_interval(secs => $4), attempts = s.attempts + 1
        FROM due WHERE s.id = due.id
        RETURNING s.id, s.external_id, s.fields, s.version, s.attempts
        "#,
    )
    .bind(object)
    .bind(limit)
    .bind(owner)
    .bind(lease.as_secs_f64())
    .fetch_all(pool)
    .await
}

/// Writes the outcome of a push, for rows still leased to `owner`, in one statement. A row that
/// changed while in flight goes back to pending so its newer version is pushed too.
pub async fn record_outcomes(
    pool: &PgPool,
    owner: &str,
    max_attempts: i32,
    pushed: &[(ClaimedRecord, RecordOutcome)],
) -> Result<u64, sqlx::Error> {
    let mut ids = Vec::with_capacity(pushed.len());
    let mut versions = Vec::with_capacity(pushed.len());
    let mut kinds = Vec::with_capacity(pushed.len());
    let mut sf_ids: Vec<Option<String>> = Vec::with_capacity(pushed.len());
    let mut codes: Vec<Option<String>> = Vec::with_capacity(pushed.len());
    let mut messages: Vec<Option<String>> = Vec::with_capacity(pushed.len());
    let mut error_fields: Vec<Value> = Vec::with_capacity(pushed.len());
    let mut pushed_fields = Vec::with_capacity(pushed.len());
    let mut delays = Vec::with_capacity(pushed.len());
    for (record, outcome) in pushed {
        ids.push(record.id);
        versions.push(record.version);
        pushed_fields.push(Value::Object(record.fields.clone()));
        let (kind, sf_id, failure, delay) = match outcome {
            RecordOutcome::Synced { salesforce_id } => {
                ("synced", Some(salesforce_id.clone()), None, 0.0)
            }
            RecordOutcome::Retry { delay, error } => {
                ("retry", None, Some(error), delay.as_secs_f64())
            }
            RecordOutcome::Failed(error) => ("failed", None, Some(error), 0.0),
        };
        kinds.push(kind);
        sf_ids.push(sf_id);
        codes.push(failure.map(|f| f.code.clone()));
        messages.push(failure.map(|f| f.message.clone()));
        error_fields.push(Value::from(
            failure.map(|f| f.fields.clone()).unwrap_or_default(),
        ));
        delays.push(delay);
    }
    let result = sqlx::query(
        r#"
        UPDATE staging_records s SET
            sync_status = CASE
                WHEN o.kind = 'synced' AND (s.version = o.version OR s.fields = o.pushed_fields) THEN 'synced'
                WHEN o.kind = 'failed' AND s.version = o.version THEN 'failed'
                WHEN o.kind = 'retry' AND s.version = o.version AND s.attempts >= $10 THEN 'failed'
                ELSE 'pending' END,
            salesforce_id = COALESCE(o.salesforce_id, s.salesforce_id),
            synced_version = CASE WHEN o.kind = 'synced' THEN o.version ELSE s.synced_version END,
            synced_fields = CASE WHEN o.kind = 'synced' THEN o.pushed_fields ELSE s.synced_fields END,
            synced_at = CASE WHEN o.kind = 'synced' THEN now() ELSE s.synced_at END,
            attempts = CASE WHEN o.kind = 'synced' OR s.version <> o.version THEN 0 ELSE s.attempts END,
            next_attempt_at = CASE WHEN o.kind = 'retry' AND s.version = o.version
                THEN now() + make_interval(secs => o.delay) ELSE now() END,
            last_error_code = CASE WHEN s.version = o.version THEN o.code END,
            last_error_message = CASE WHEN s.version = o.version THEN o.message END,
            last_error_fields = CASE WHEN s.version = o.version AND o.code IS NOT NULL
                THEN ARRAY(SELECT jsonb_array_elements_text(o.error_fields)) END,
            lease_owner = NULL,
            lease_expires_at = NULL
        FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
                    $7::jsonb[], $8::jsonb[], $9::float8[])
             AS o(id, version, kind, salesforce_id, code, message, error_fields, pushed_fields, delay)
        WHERE s.id = o.id AND s.lease_owner = $11 AND s.sync_status = 'in_flight'
        "#,
    )
    .bind(&ids)
    .bind(&versions)
    .bind(&kinds)
    .bind(&sf_ids)
    .bind(&codes)
    .bind(&messages)
    .bind(&error_fields)
    .bind(&pushed_fields)
    .bind(&delays)
    .bind(max_attempts)
    .bind(owner)
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

/// Objects with due work, for the scheduler's choice of what to push next.
pub async fn objects_with_due_work(pool: &PgPool) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        r#"
        SELECT DISTINCT object FROM staging_records
        WHERE operation = 'upsert' AND origin = 'hub'
          AND (   (sync_status = 'pending' AND next_attempt_at <= now())
               OR (sync_status = 'in_flight' AND lease_expires_at < now()))
        "#,
    )
    .fetch_all(pool)
    .await
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
