//! Reading staged records: one by its keys, and the counts operators look at.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::PgPool;
use sqlx::types::Json;
use utoipa::ToSchema;

use super::{ExternalId, ObjectName, SalesforceId, SyncStatus};

/// A staged record and its sync state, as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StagedRecord {
    #[schema(value_type = String)]
    pub object: ObjectName,
    #[schema(value_type = String)]
    pub external_id: ExternalId,
    #[schema(value_type = Object)]
    pub fields: Json<Map<String, Value>>,
    /// The Salesforce Id, once Salesforce has the record.
    #[schema(value_type = Option<String>)]
    pub salesforce_id: Option<SalesforceId>,
    pub sync_status: SyncStatus,
    pub version: i64,
    pub attempts: i32,
    /// Salesforce's error code for the last failed attempt, e.g. `REQUIRED_FIELD_MISSING`.
    pub last_error_code: Option<String>,
    pub last_error_message: Option<String>,
    pub received_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub synced_at: Option<DateTime<Utc>>,
}

pub async fn find_record(
    pool: &PgPool,
    object: &ObjectName,
    external_id: &ExternalId,
) -> Result<Option<StagedRecord>, sqlx::Error> {
    sqlx::query_as!(
        StagedRecord,
        r#"
        SELECT object AS "object: ObjectName", external_id AS "external_id: ExternalId",
               fields AS "fields: Json<Map<String, Value>>",
               salesforce_id AS "salesforce_id: SalesforceId",
               sync_status AS "sync_status: SyncStatus", version, attempts, last_error_code,
               last_error_message, received_at, updated_at, synced_at
        FROM staging_records WHERE object = $1 AND external_id = $2
        "#,
        object as &ObjectName,
        external_id as &ExternalId,
    )
    .fetch_optional(pool)
    .await
}

/// The record Salesforce knows by `id`. Ids are unique per org; should two rows carry one (an
/// external id changed in Salesforce), the one changed last is the record as it is now.
pub async fn find_by_salesforce_id(
    pool: &PgPool,
    object: &ObjectName,
    id: &SalesforceId,
) -> Result<Option<StagedRecord>, sqlx::Error> {
    sqlx::query_as!(
        StagedRecord,
        r#"
        SELECT object AS "object: ObjectName", external_id AS "external_id: ExternalId",
               fields AS "fields: Json<Map<String, Value>>",
               salesforce_id AS "salesforce_id: SalesforceId",
               sync_status AS "sync_status: SyncStatus", version, attempts, last_error_code,
               last_error_message, received_at, updated_at, synced_at
        FROM staging_records WHERE object = $1 AND salesforce_id = $2
        ORDER BY updated_at DESC, id DESC LIMIT 1
        "#,
        object as &ObjectName,
        id as &SalesforceId,
    )
    .fetch_optional(pool)
    .await
}

/// Counts by sync status and the lag of one object.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectCounts {
    pub object: ObjectName,
    pub pending: i64,
    pub in_flight: i64,
    pub synced: i64,
    pub failed: i64,
    pub discarded: i64,
    /// Deleted in Salesforce by the hub (a staged delete that went through).
    pub deleted: i64,
    /// Age of the oldest change not yet in Salesforce (pending or in flight), in seconds.
    pub lag_seconds: Option<f64>,
}

impl ObjectCounts {
    /// An object without rows.
    pub fn empty(object: ObjectName) -> Self {
        Self {
            object,
            pending: 0,
            in_flight: 0,
            synced: 0,
            failed: 0,
            discarded: 0,
            deleted: 0,
            lag_seconds: None,
        }
    }

    pub fn by_status(&self) -> [(&'static str, i64); 6] {
        [
            ("pending", self.pending),
            ("in_flight", self.in_flight),
            ("synced", self.synced),
            ("failed", self.failed),
            ("discarded", self.discarded),
            ("deleted", self.deleted),
        ]
    }
}

/// Per object that has rows, in name order.
pub async fn counts_per_object(pool: &PgPool) -> Result<Vec<ObjectCounts>, sqlx::Error> {
    sqlx::query_as!(
        ObjectCounts,
        r#"
        SELECT object AS "object!: ObjectName",
            count(*) FILTER (WHERE sync_status = 'pending')   AS "pending!",
            count(*) FILTER (WHERE sync_status = 'in_flight') AS "in_flight!",
            count(*) FILTER (WHERE sync_status = 'synced')    AS "synced!",
            count(*) FILTER (WHERE sync_status = 'failed')    AS "failed!",
            count(*) FILTER (WHERE sync_status = 'discarded') AS "discarded!",
            count(*) FILTER (WHERE sync_status = 'deleted')   AS "deleted!",
            extract(epoch FROM now() - min(updated_at)
                FILTER (WHERE sync_status IN ('pending', 'in_flight')))::float8 AS lag_seconds
        FROM staging_records
        GROUP BY object ORDER BY object
        "#
    )
    .fetch_all(pool)
    .await
}

/// Failed records grouped by object and Salesforce error code, most frequent first.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureGroup {
    pub object: ObjectName,
    pub code: Option<String>,
    pub count: i64,
}

pub async fn failure_groups(pool: &PgPool) -> Result<Vec<FailureGroup>, sqlx::Error> {
    sqlx::query_as!(
        FailureGroup,
        r#"
        SELECT object AS "object: ObjectName", last_error_code AS code, count(*) AS "count!"
        FROM staging_records WHERE sync_status = 'failed'
        GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2
        "#
    )
    .fetch_all(pool)
    .await
}
