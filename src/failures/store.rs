use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};

/// A record whose current version Salesforce refused (or that failed past its retries).
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct FailedRecord {
    pub object: String,
    pub external_id: String,
    pub salesforce_id: Option<String>,
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

const FILTER: &str = "sync_status = 'failed' \
    AND ($1::text IS NULL OR object = $1) \
    AND ($2::text IS NULL OR last_error_code = $2) \
    AND ($3::text[] IS NULL OR external_id = ANY($3))";

pub async fn list(
    pool: &PgPool,
    filter: &FailureFilter,
    limit: i64,
) -> Result<Vec<FailedRecord>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT object, external_id, salesforce_id, last_error_code AS error_code, \
         last_error_message AS error_message, last_error_fields AS error_fields, attempts, \
         version, updated_at AS failed_at \
         FROM staging_records WHERE {FILTER} ORDER BY updated_at DESC, id DESC LIMIT $4"
    ))
    .bind(&filter.object)
    .bind(&filter.code)
    .bind(&filter.external_ids)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Puts matching failed records back in the queue with fresh attempts; returns how many.
pub async fn retry(pool: &PgPool, filter: &FailureFilter) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(&format!(
        "UPDATE staging_records SET sync_status = 'pending', attempts = 0, \
         next_attempt_at = now(), updated_at = now() WHERE {FILTER}"
    ))
    .bind(&filter.object)
    .bind(&filter.code)
    .bind(&filter.external_ids)
    .execute(pool)
    .await?;
    // The staging table's statement trigger notifies the schedulers of the new pending rows.
    Ok(result.rows_affected())
}

/// Gives up on matching failed records (kept, with their error, as `discarded`).
pub async fn discard(pool: &PgPool, filter: &FailureFilter) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(&format!(
        "UPDATE staging_records SET sync_status = 'discarded', updated_at = now() WHERE {FILTER}"
    ))
    .bind(&filter.object)
    .bind(&filter.code)
    .bind(&filter.external_ids)
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}
