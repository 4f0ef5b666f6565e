//! The hub's state as figures read from Postgres: what `/metrics`, the status page and
//! `sluice status` show. Computed when asked, so every dyno (and a one-off dyno) sees the same.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// Counts by sync status and the lag of one object.
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct ObjectFigures {
    pub object: String,
    pub pending: i64,
    pub in_flight: i64,
    pub synced: i64,
    pub failed: i64,
    pub discarded: i64,
    /// Age of the oldest change not yet in Salesforce (pending or in flight), in seconds.
    pub lag_seconds: Option<f64>,
}

impl ObjectFigures {
    pub fn by_status(&self) -> [(&'static str, i64); 5] {
        [
            ("pending", self.pending),
            ("in_flight", self.in_flight),
            ("synced", self.synced),
            ("failed", self.failed),
            ("discarded", self.discarded),
        ]
    }
}

/// Per object, in `order` first (the catalog, parents first; objects without rows get zeros),
/// then any other object found in the table.
pub async fn per_object(pool: &PgPool, order: &[&str]) -> Result<Vec<ObjectFigures>, sqlx::Error> {
    let rows: Vec<ObjectFigures> = sqlx::query_as(
        r#"
        SELECT object,
            count(*) FILTER (WHERE sync_status = 'pending')   AS pending,
            count(*) FILTER (WHERE sync_status = 'in_flight') AS in_flight,
            count(*) FILTER (WHERE sync_status = 'synced')    AS synced,
            count(*) FILTER (WHERE sync_status = 'failed')    AS failed,
            count(*) FILTER (WHERE sync_status = 'discarded') AS discarded,
            extract(epoch FROM now() - min(updated_at)
                FILTER (WHERE sync_status IN ('pending', 'in_flight')))::float8 AS lag_seconds
        FROM staging_records
        GROUP BY object
        "#,
    )
    .fetch_all(pool)
    .await?;
    let mut out: Vec<ObjectFigures> = order
        .iter()
        .map(|name| {
            rows.iter()
                .find(|r| r.object == *name)
                .cloned()
                .unwrap_or_else(|| ObjectFigures {
                    object: (*name).to_owned(),
                    ..Default::default()
                })
        })
        .collect();
    let mut others: Vec<ObjectFigures> = rows
        .into_iter()
        .filter(|r| !order.contains(&r.object.as_str()))
        .collect();
    others.sort_by(|a, b| a.object.cmp(&b.object));
    out.extend(others);
    Ok(out)
}

/// The org's daily API usage as last reported by Salesforce (`Sforce-Limit-Info` or `/limits`).
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct Usage {
    pub used: i64,
    pub max: i64,
    pub observed_at: Option<DateTime<Utc>>,
    pub paused_until: Option<DateTime<Utc>>,
}

impl Usage {
    pub fn left(&self) -> i64 {
        (self.max - self.used).max(0)
    }

    /// Share of the allowance used, in percent; `None` before Salesforce reported it.
    pub fn percent_used(&self) -> Option<f64> {
        (self.max > 0).then(|| self.used as f64 * 100.0 / self.max as f64)
    }
}

pub async fn usage(pool: &PgPool) -> Result<Usage, sqlx::Error> {
    sqlx::query_as("SELECT used, max, observed_at, paused_until FROM salesforce_usage WHERE id")
        .fetch_optional(pool)
        .await
        .map(Option::unwrap_or_default)
}

/// One sample of the usage history (the highest seen in that minute).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct UsageSample {
    pub minute: DateTime<Utc>,
    pub used: i64,
    pub max: i64,
}

/// The last 24 hours of usage samples, oldest first.
pub async fn usage_history(pool: &PgPool) -> Result<Vec<UsageSample>, sqlx::Error> {
    sqlx::query_as(
        "SELECT minute, used, max FROM salesforce_usage_samples \
         WHERE minute > now() - interval '24 hours' ORDER BY minute",
    )
    .fetch_all(pool)
    .await
}

/// Failed records grouped by object and Salesforce error code, most frequent first.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FailureGroup {
    pub object: String,
    pub code: Option<String>,
    pub count: i64,
}

pub async fn failure_groups(pool: &PgPool) -> Result<Vec<FailureGroup>, sqlx::Error> {
    sqlx::query_as(
        "SELECT object, last_error_code AS code, count(*) AS count FROM staging_records \
         WHERE sync_status = 'failed' GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2",
    )
    .fetch_all(pool)
    .await
}

/// A Bulk API 2.0 ingest job the push engine ran (`push_bulk_jobs`).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct BulkJob {
    pub job_id: String,
    pub object: String,
    pub operation: String,
    pub state: String,
    pub records: i32,
    pub succeeded: Option<i32>,
    pub failed: Option<i32>,
    pub unprocessed: Option<i32>,
    pub error_message: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// The most recent Bulk API jobs, or `None` while the table does not exist (a database not yet
/// migrated to the push engine's jobs table).
pub async fn recent_bulk_jobs(
    pool: &PgPool,
    limit: i64,
) -> Result<Option<Vec<BulkJob>>, sqlx::Error> {
    let exists: Option<String> = sqlx::query_scalar("SELECT to_regclass('push_bulk_jobs')::text")
        .fetch_one(pool)
        .await?;
    if exists.is_none() {
        return Ok(None);
    }
    sqlx::query_as(
        "SELECT job_id, object, operation, state, records, succeeded, failed, unprocessed, \
         error_message, created_at, finished_at FROM push_bulk_jobs \
         ORDER BY created_at DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
    .map(Some)
}
