//! The push engine's side of the table: what is due, claiming it under a lease, and extending or
//! giving back the lease. Outcomes are written in [`super::outcome`].
//!
//! Correctness across dynos rests on row locks and leases only (no advisory locks, no reliance
//! on LISTEN/NOTIFY): a claim takes due rows with `FOR UPDATE SKIP LOCKED` and leases them to one
//! scheduler; only the lease holder writes an outcome. A row is due when it is pending and its
//! next attempt has come, or when its lease expired (its scheduler died), unless a call that may
//! still write it went unanswered (`unanswered_until`, see [`super::outcome`]).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sqlx::PgPool;
use sqlx::types::Json;

use super::{ExternalId, ObjectName, Operation, SalesforceId};

/// A row claimed for one push.
#[derive(Debug, Clone)]
pub struct ClaimedRecord {
    pub id: i64,
    pub external_id: ExternalId,
    pub fields: Map<String, Value>,
    pub version: i64,
    /// Attempts so far, this one included.
    pub attempts: i32,
    /// Set once Salesforce has the record; a deletion needs it.
    pub salesforce_id: Option<SalesforceId>,
}

impl ClaimedRecord {
    /// The record without its fields, for what follows a Bulk job's upload: the job's outcomes
    /// need the row, its version and its keys, and the fields of 50,000 records are the largest
    /// part of a job's memory. The outcome of a record without fields takes the row's fields at
    /// `version` as the ones pushed.
    pub fn without_fields(&self) -> Self {
        Self {
            id: self.id,
            external_id: self.external_id.clone(),
            fields: Map::new(),
            version: self.version,
            attempts: self.attempts,
            salesforce_id: self.salesforce_id.clone(),
        }
    }
}

/// Due rows of one object and operation, as the planner sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct DueGroup {
    pub object: ObjectName,
    pub operation: Operation,
    pub count: u64,
    /// Age of the oldest change among them.
    pub oldest: Duration,
    /// Age of the newest change among them.
    pub newest: Duration,
    /// Age of the newest change among the first batch (the `batch` next in claim order).
    pub batch_newest: Duration,
}

/// What the planner decides on: due work per object and operation, with the age of its oldest
/// and newest change and of the newest change among the first `batch` rows, each counted from
/// the moment it was committed (`staging_commits`; see [`super::commits`]).
///
/// It runs at every step of the scheduler, so it never ranks the whole queue: the first `batch`
/// rows of a larger group are read in claim order from the index of pending rows (stopping after
/// `batch`), merged with the few in-flight rows whose lease expired; a group of `batch` rows or
/// fewer needs no such read (its first `batch` are all of it).
///
/// With `committed_after`, only changes committed after that moment count, and those of small
/// transactions whenever they were committed (the Bulk lane is busy: see `push::lane`).
pub async fn due_groups(
    pool: &PgPool,
    batch: i64,
    committed_after: Option<DateTime<Utc>>,
) -> Result<Vec<DueGroup>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"
        WITH due AS NOT MATERIALIZED (
            SELECT s.object, s.operation, s.sync_status, s.next_attempt_at, s.id,
                   coalesce(c.committed_at, s.updated_at) AS updated_at
            FROM staging_records s
            LEFT JOIN staging_commits c ON c.xid = s.change_xid
            WHERE s.origin = 'hub'
              AND ((s.sync_status = 'pending' AND s.next_attempt_at <= now())
                   OR (s.sync_status = 'in_flight' AND s.lease_expires_at < now()))
              AND (s.unanswered_until IS NULL OR s.unanswered_until <= now())
              AND s.bulk_job_id IS NULL
              AND ($2::timestamptz IS NULL OR coalesce(c.committed_at, s.updated_at) > $2
                   OR coalesce(c.changes, 0) <= $3)
        ),
        grouped AS (
            SELECT object, operation, count(*) AS count, min(updated_at) AS oldest,
                   max(updated_at) AS newest
            FROM due GROUP BY 1, 2
        )
        SELECT g.object AS "object!: ObjectName", g.operation AS "operation!: Operation",
               g.count AS "count!",
               extract(epoch FROM now() - g.oldest)::float8 AS "oldest!",
               extract(epoch FROM now() - g.newest)::float8 AS "newest!",
               extract(epoch FROM now() - CASE
                   WHEN g.count <= $1 THEN g.newest
                   ELSE (SELECT max(b.updated_at) FROM (
                             (SELECT d.next_attempt_at, d.id, d.updated_at FROM due d
                              WHERE d.object = g.object AND d.operation = g.operation
                                AND d.sync_status = 'pending'
                              ORDER BY d.next_attempt_at, d.id LIMIT $1)
                             UNION ALL
                             (SELECT d.next_attempt_at, d.id, d.updated_at FROM due d
                              WHERE d.object = g.object AND d.operation = g.operation
                                AND d.sync_status = 'in_flight'
                              ORDER BY d.next_attempt_at, d.id LIMIT $1)
                             ORDER BY 1, 2 LIMIT $1) b)
               END)::float8 AS "batch_newest!"
        FROM grouped g
        "#,
        batch,
        committed_after,
        SMALL_TRANSACTION,
    )
    .fetch_all(pool)
    .await?;
    let age = |secs: f64| Duration::from_secs_f64(secs.max(0.0));
    Ok(rows
        .into_iter()
        .map(|r| DueGroup {
            object: r.object,
            operation: r.operation,
            count: r.count.max(0) as u64,
            oldest: age(r.oldest),
            newest: age(r.newest),
            batch_newest: age(r.batch_newest),
        })
        .collect())
}

/// A claim: up to `limit` due rows of one object and operation, for `owner`.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    pub object: &'a ObjectName,
    pub operation: Operation,
    pub owner: &'a str,
    pub limit: i64,
    /// How long the rows stay leased to `owner` before another scheduler may take them.
    pub lease: Duration,
    /// Rows changed less than this long ago are left for a later batch: more changes may come.
    pub settle: Duration,
    /// For a call whose records Salesforce may still write after it went unanswered (sObject
    /// Collections): how long they are held if no answer is recorded. `None` for a Bulk job, which
    /// is followed by its id instead.
    pub unanswered_hold: Option<Duration>,
    /// Only rows whose change was committed after this, or by a small transaction (the Bulk lane
    /// is busy: a record posted just before a job claimed its rows, and not taken by it, goes on
    /// by Collections rather than wait for the next job with the rest of the backlog).
    pub committed_after: Option<DateTime<Utc>>,
    /// Fresh changes first, instead of the oldest (the Bulk lane is busy): those of small
    /// transactions (at most [`SMALL_TRANSACTION`] rows) before those of large ones, then the most
    /// recent first.
    pub fresh_first: bool,
}

/// A transaction that changed at most this many hub rows is a small one: a record saved in an app,
/// a short request. While a Bulk job runs its changes go by Collections, first (see `push::lane`).
/// A quarter of a call, so that an import posted in requests of a call's worth still waits for
/// the next job, where its records cost no call each.
pub const SMALL_TRANSACTION: i32 = 50;

/// Leases the claim's rows to its owner, oldest change first (unless `fresh_first`), and counts
/// the attempt.
pub async fn claim(pool: &PgPool, claim: Claim<'_>) -> Result<Vec<ClaimedRecord>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"
        WITH due AS (
            SELECT s.id FROM staging_records s
            LEFT JOIN staging_commits c ON c.xid = s.change_xid
            WHERE s.object = $1 AND s.operation = $2 AND s.origin = 'hub'
              AND ((s.sync_status = 'pending' AND s.next_attempt_at <= now()
                    AND coalesce(c.committed_at, s.updated_at)
                        <= now() - make_interval(secs => $6)
                    AND ($8::timestamptz IS NULL
                         OR coalesce(c.committed_at, s.updated_at) > $8
                         OR coalesce(c.changes, 0) <= $10))
                   OR (s.sync_status = 'in_flight' AND s.lease_expires_at < now()))
              AND (s.unanswered_until IS NULL OR s.unanswered_until <= now())
              AND s.bulk_job_id IS NULL
            ORDER BY CASE WHEN $9 THEN coalesce(c.changes, 0) > $10 END,
                     CASE WHEN $9 THEN s.updated_at END DESC NULLS LAST, s.next_attempt_at, s.id
            LIMIT $3
            FOR UPDATE OF s SKIP LOCKED
        )
        UPDATE staging_records s
        SET lease_owner = $4, lease_expires_at = now() + make_interval(secs => $5),
            attempts = s.attempts + 1,
            unanswered_until = now() + make_interval(secs => $7)
        FROM due WHERE s.id = due.id
        RETURNING s.id, s.external_id AS "external_id: ExternalId",
                  s.fields AS "fields: Json<Map<String, Value>>", s.version, s.attempts,
                  s.salesforce_id AS "salesforce_id: SalesforceId"
        "#,
        claim.object as &ObjectName,
        claim.operation as Operation,
        claim.limit,
        claim.owner,
        claim.lease.as_secs_f64(),
        claim.settle.as_secs_f64(),
        claim.unanswered_hold.map(|h| h.as_secs_f64()),
        claim.committed_after,
        claim.fresh_first,
        SMALL_TRANSACTION,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ClaimedRecord {
            id: r.id,
            external_id: r.external_id,
            fields: r.fields.0,
            version: r.version,
            attempts: r.attempts,
            salesforce_id: r.salesforce_id,
        })
        .collect())
}

/// Keeps rows leased to `owner` for `lease` more (a Bulk job still running).
pub async fn extend_lease(
    pool: &PgPool,
    owner: &str,
    ids: &[i64],
    lease: Duration,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query!(
        "UPDATE staging_records SET lease_expires_at = now() + make_interval(secs => $3) \
         WHERE id = ANY($1) AND lease_owner = $2",
        ids,
        owner,
        lease.as_secs_f64(),
    )
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}

/// Gives leased rows back without counting the attempt (they were not sent, or Salesforce
/// answered that it did nothing, asking us to pause): they are due again after `delay`.
pub async fn release(
    pool: &PgPool,
    owner: &str,
    ids: &[i64],
    delay: Duration,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query!(
        r#"
        UPDATE staging_records
        SET lease_owner = NULL, lease_expires_at = NULL, attempts = greatest(attempts - 1, 0),
            next_attempt_at = now() + make_interval(secs => $3), unanswered_until = NULL,
            bulk_job_id = NULL, bulk_version = NULL
        WHERE id = ANY($1) AND lease_owner = $2
        "#,
        ids,
        owner,
        delay.as_secs_f64(),
    )
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}

/// Gives back every row leased to `owner`, due at once (a scheduler stopping, or cut short). A
/// row whose call may have been sent stays held until its `unanswered_until`; a row of a Bulk job
/// stays tied to the job, which another scheduler resumes ([`adopt_job_rows`]).
pub async fn release_owned(pool: &PgPool, owner: &str) -> Result<u64, sqlx::Error> {
    let result = sqlx::query!(
        "UPDATE staging_records SET lease_owner = NULL, lease_expires_at = NULL, \
         attempts = greatest(attempts - 1, 0), next_attempt_at = now() \
         WHERE lease_owner = $1 AND bulk_job_id IS NULL",
        owner,
    )
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}

/// Ties rows leased to `owner` to the Bulk job they are sent in, with the version sent: until the
/// job's outcome is written, they are never claimed for another push.
pub async fn tie_to_job(
    pool: &PgPool,
    owner: &str,
    job_id: &str,
    records: &[ClaimedRecord],
) -> Result<u64, sqlx::Error> {
    let ids: Vec<i64> = records.iter().map(|r| r.id).collect();
    let versions: Vec<i64> = records.iter().map(|r| r.version).collect();
    let result = sqlx::query!(
        r#"
        UPDATE staging_records s SET bulk_job_id = $1, bulk_version = o.version
        FROM UNNEST($2::bigint[], $3::bigint[]) AS o(id, version)
        WHERE s.id = o.id AND s.lease_owner = $4
        "#,
        job_id,
        &ids,
        &versions,
        owner,
    )
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}

/// A row of a Bulk job taken over from another scheduler.
#[derive(Debug, Clone)]
pub struct JobRow {
    /// As it was sent: `version` is the version in the job. `fields` are the row's current
    /// fields, which are the ones sent unless `changed`.
    pub record: ClaimedRecord,
    /// The row changed after it was sent: its newer version goes once the job has ended.
    pub changed: bool,
}

/// Leases every row tied to `job_id` to `owner` (taking a job over after its scheduler died or
/// gave up following it).
pub async fn adopt_job_rows(
    pool: &PgPool,
    owner: &str,
    job_id: &str,
    lease: Duration,
) -> Result<Vec<JobRow>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"
        UPDATE staging_records
        SET lease_owner = $2, lease_expires_at = now() + make_interval(secs => $3)
        WHERE bulk_job_id = $1
        RETURNING id, external_id AS "external_id: ExternalId",
                  fields AS "fields: Json<Map<String, Value>>", version,
                  bulk_version AS "bulk_version!", attempts,
                  salesforce_id AS "salesforce_id: SalesforceId"
        "#,
        job_id,
        owner,
        lease.as_secs_f64(),
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| JobRow {
            changed: r.version != r.bulk_version,
            record: ClaimedRecord {
                id: r.id,
                external_id: r.external_id,
                fields: r.fields.0,
                version: r.bulk_version,
                attempts: r.attempts,
                salesforce_id: r.salesforce_id,
            },
        })
        .collect())
}
