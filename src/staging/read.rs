use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::PgPool;
use utoipa::ToSchema;

/// Where a record stands with Salesforce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    /// Waiting to be pushed.
    Pending,
    /// Being pushed by a scheduler now.
    InFlight,
    /// Salesforce has this version.
    Synced,
    /// Salesforce refused this version; see the error.
    Failed,
    /// An operator gave up on this failed version; a new change makes it pending again.
    Discarded,
    /// Deleted as asked: Salesforce no longer has the record (or never had it).
    Deleted,
}

/// A staged record and its sync state, as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct StagedRecord {
    pub object: String,
    pub external_id: String,
    #[schema(value_type = Object)]
    #[sqlx(json)]
    pub fields: Map<String, Value>,
    /// The Salesforce Id, once Salesforce has the record.
    pub salesforce_id: Option<String>,
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

const RECORD_COLUMNS: &str = "object, external_id, fields, salesforce_id, sync_status, version, \
     attempts, last_error_code, last_error_message, received_at, updated_at, synced_at";

pub async fn find_record(
    pool: &PgPool,
    object: &str,
    external_id: &str,
) -> Result<Option<StagedRecord>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {RECORD_COLUMNS} FROM staging_records WHERE object = $1 AND external_id = $2"
    ))
    .bind(object)
    .bind(external_id)
    .fetch_optional(pool)
    .await
}

/// Records per object and status.
pub async fn status_counts(pool: &PgPool) -> Result<Vec<(String, SyncStatus, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT object, sync_status, count(*) FROM staging_records GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .fetch_all(pool)
    .await
}
