//! Operators' and Apex's hands on the queue: list failed records, send records again, give up on
//! failed ones. Every "send again" goes through [`requeue`], whatever asks for it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};

use super::{ExternalId, ObjectName, SalesforceId, SyncStatus};

/// A record whose current version Salesforce refused (or that failed past its retries).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FailedRecord {
    #[schema(value_type = String)]
    pub object: ObjectName,
    #[schema(value_type = String)]
    pub external_id: ExternalId,
    #[schema(value_type = Option<String>)]
    pub salesforce_id: Option<SalesforceId>,
    /// Salesforce's error code, e.g. `REQUIRED_FIELD_MISSING`.
    pub error_code: Option<String>,
    /// Salesforce's message.
    pub error_message: Option<String>,
    /// The fields Salesforce named.
    pub error_fields: Option<Vec<String>>,
    pub attempts: i32,
    pub version: i64,
    pub failed_at: DateTime<Utc>,
}

/// Which failed records an operation applies to. All given conditions must hold; an empty filter
/// means every failed record.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FailureFilter {
    /// Only this object, e.g. `Contact`.
    pub object: Option<String>,
    /// Only this Salesforce error code, e.g. `INVALID_EMAIL_ADDRESS`.
    pub code: Option<String>,
    /// Only these external ids (with `object`).
    #[param(value_type = Option<Vec<String>>)]
    pub external_ids: Option<Vec<String>>,
}

pub async fn list_failed(
    pool: &PgPool,
    filter: &FailureFilter,
    limit: i64,
) -> Result<Vec<FailedRecord>, sqlx::Error> {
    sqlx::query_as!(
        FailedRecord,
        r#"
        SELECT object AS "object: ObjectName", external_id AS "external_id: ExternalId",
               salesforce_id AS "salesforce_id: SalesforceId", last_error_code AS error_code,
               last_error_message AS error_message, last_error_fields AS error_fields, attempts,
               version, updated_at AS failed_at
        FROM staging_records
        WHERE sync_status = 'failed'
          AND ($1::text IS NULL OR object = $1)
          AND ($2::text IS NULL OR last_error_code = $2)
          AND ($3::text[] IS NULL OR external_id = ANY($3))
        ORDER BY updated_at DESC, id DESC LIMIT $4
        "#,
        filter.object,
        filter.code,
        filter.external_ids.as_deref(),
        limit,
    )
    .fetch_all(pool)
    .await
}

/// Which records to send again.
#[derive(Debug, Clone)]
pub enum Requeue<'a> {
    /// Failed records matching the filter, with fresh attempts (`sluice retry`, the failures API,
    /// the status page).
    Failed(&'a FailureFilter),
    /// These records, now: pending ones skip their backoff, failed ones start over (Apex's
    /// push-now).
    Now {
        object: &'a ObjectName,
        external_ids: &'a [String],
    },
    /// Every record of `object` first received in `[from, to)` that is not waiting or in flight
    /// (`sluice replay`: after a restore in Salesforce, or to repair records changed there by
    /// hand; Salesforce's upsert by external id makes a second send of the same fields harmless).
    Received {
        object: &'a ObjectName,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
}

/// What [`requeue`] selects, as one statement's parameters.
#[derive(Default)]
struct Selector<'a> {
    statuses: Vec<&'static str>,
    object: Option<&'a str>,
    code: Option<&'a str>,
    external_ids: Option<&'a [String]>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
}

impl<'a> Requeue<'a> {
    fn selector(&self) -> Selector<'a> {
        let statuses = |s: &[SyncStatus]| s.iter().map(|s| s.as_str()).collect();
        match *self {
            Requeue::Failed(filter) => Selector {
                statuses: statuses(&[SyncStatus::Failed]),
                object: filter.object.as_deref(),
                code: filter.code.as_deref(),
                external_ids: filter.external_ids.as_deref(),
                ..Selector::default()
            },
            Requeue::Now {
                object,
                external_ids,
            } => Selector {
                statuses: statuses(&[SyncStatus::Pending, SyncStatus::Failed]),
                object: Some(object.as_str()),
                external_ids: Some(external_ids),
                ..Selector::default()
            },
            Requeue::Received { object, from, to } => Selector {
                statuses: statuses(&[
                    SyncStatus::Synced,
                    SyncStatus::Failed,
                    SyncStatus::Discarded,
                ]),
                object: Some(object.as_str()),
                from: Some(from),
                to: Some(to),
                ..Selector::default()
            },
        }
    }
}

/// Makes the selected records pending and due now, with fresh attempts, and returns how many.
/// Content and version stay as they are. A record that waited for its batch keeps
/// its place in the batch window; the others count as changed now. The staging table's statement
/// trigger wakes the schedulers.
pub async fn requeue(pool: &PgPool, which: Requeue<'_>) -> Result<u64, sqlx::Error> {
    let s = which.selector();
    let result = sqlx::query!(
        r#"
        UPDATE staging_records
        SET synced_version = NULL, failed_version = NULL, discarded_version = NULL,
            attempts = 0, next_attempt_at = now(),
            updated_at = CASE WHEN sync_status = 'pending' THEN updated_at ELSE now() END
        WHERE origin = 'hub' AND sync_status = ANY($1)
          AND ($2::text IS NULL OR object = $2)
          AND ($3::text IS NULL OR last_error_code = $3)
          AND ($4::text[] IS NULL OR external_id = ANY($4))
          AND ($5::timestamptz IS NULL OR received_at >= $5)
          AND ($6::timestamptz IS NULL OR received_at < $6)
        "#,
        &s.statuses as &[&str],
        s.object,
        s.code,
        s.external_ids,
        s.from,
        s.to,
    )
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}

/// Gives up on matching failed records (kept, with their error, as `discarded`).
pub async fn discard(pool: &PgPool, filter: &FailureFilter) -> Result<u64, sqlx::Error> {
    let result = sqlx::query!(
        r#"
        UPDATE staging_records SET discarded_version = version, updated_at = now()
        WHERE sync_status = 'failed'
          AND ($1::text IS NULL OR object = $1)
          AND ($2::text IS NULL OR last_error_code = $2)
          AND ($3::text[] IS NULL OR external_id = ANY($3))
        "#,
        filter.object,
        filter.code,
        filter.external_ids.as_deref(),
    )
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}

/// One asked-for external id, and where it stands.
#[derive(Debug)]
pub struct KnownStatus {
    pub external_id: String,
    /// `None` when the hub has no such record.
    pub sync_status: Option<SyncStatus>,
}

/// Where each of `external_ids` stands, in id order (for answers that list every id asked about).
pub async fn statuses(
    pool: &PgPool,
    object: &ObjectName,
    external_ids: &[String],
) -> Result<Vec<KnownStatus>, sqlx::Error> {
    sqlx::query_as!(
        KnownStatus,
        r#"
        SELECT w.external_id AS "external_id!", s.sync_status AS "sync_status?: SyncStatus"
        FROM (SELECT DISTINCT unnest($2::text[]) AS external_id) AS w
        LEFT JOIN staging_records AS s ON s.object = $1 AND s.external_id = w.external_id
        ORDER BY w.external_id
        "#,
        object as &ObjectName,
        external_ids,
    )
    .fetch_all(pool)
    .await
}
