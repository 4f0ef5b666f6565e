//! The changes feed: rows whose content changed, in the order of the transactions that changed
//! them, with a cursor stored by the caller (`GET /v1/objects/{object}/changes`).
//!
//! Each content change stamps the row with its transaction's 64-bit id (`change_xid`, set by a
//! trigger). A page only holds rows below the oldest transaction still running, so no change can
//! later commit behind a cursor already handed out: a reader that resumes from its cursor, even
//! after a restart, misses nothing. A row changed again moves to its new place in the feed (the
//! feed holds each record's latest state, not every intermediate one).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sqlx::PgPool;
use sqlx::types::Json;

use super::{ExternalId, ObjectName, Operation, SalesforceId, SyncStatus};

/// Where a reader stands: after the row `id` changed by transaction `xid`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct ChangeCursor {
    pub xid: i64,
    pub id: i64,
}

/// One changed record, as it is now.
#[derive(Debug, Clone)]
pub struct ChangedRecord {
    pub cursor: ChangeCursor,
    pub external_id: ExternalId,
    pub salesforce_id: Option<SalesforceId>,
    pub operation: Operation,
    pub origin: String,
    pub sync_status: SyncStatus,
    pub version: i64,
    pub fields: Map<String, Value>,
    pub updated_at: DateTime<Utc>,
}

/// Up to `limit` records of `object` changed after `after`, oldest change first.
pub async fn changes_after(
    pool: &PgPool,
    object: &ObjectName,
    after: ChangeCursor,
    limit: i64,
) -> Result<Vec<ChangedRecord>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"
        SELECT s.change_xid, s.id, s.external_id AS "external_id: ExternalId",
               s.salesforce_id AS "salesforce_id: SalesforceId",
               s.operation AS "operation: Operation", s.origin,
               s.sync_status AS "sync_status!: SyncStatus", s.version,
               s.fields AS "fields: Json<Map<String, Value>>", s.updated_at
        FROM staging_records AS s
        WHERE s.object = $1 AND (s.change_xid, s.id) > ($2, $3)
          AND s.change_xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
        ORDER BY s.change_xid, s.id
        LIMIT $4
        "#,
        object as &ObjectName,
        after.xid,
        after.id,
        limit,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ChangedRecord {
            cursor: ChangeCursor {
                xid: r.change_xid,
                id: r.id,
            },
            external_id: r.external_id,
            salesforce_id: r.salesforce_id,
            operation: r.operation,
            origin: r.origin,
            sync_status: r.sync_status,
            version: r.version,
            fields: r.fields.0,
            updated_at: r.updated_at,
        })
        .collect())
}
