//! The Apex endpoints' statements: each request is one round trip.

use serde_json::{Map, Value};
use sqlx::PgPool;

use super::SalesforceId;
use crate::staging::{StagedRecord, SyncStatus};

pub async fn find_by_salesforce_id(
    pool: &PgPool,
    object: &str,
    id: &SalesforceId,
) -> Result<Option<StagedRecord>, sqlx::Error> {
    // Ids are unique per org; should two rows carry one (an external id changed in Salesforce),
    // the one changed last is the record as it is now.
    sqlx::query_as(
        "SELECT * FROM staging_records WHERE object = $1 AND salesforce_id = $2 \
         ORDER BY updated_at DESC, id DESC LIMIT 1",
    )
    .bind(object)
    .bind(id.as_str())
    .fetch_optional(pool)
    .await
}

/// One asked-for external id, and what push-now found for it.
#[derive(Debug, sqlx::FromRow)]
pub struct PushNowRow {
    pub external_id: String,
    /// The status before this request; `None` when the hub has no such record.
    pub sync_status: Option<SyncStatus>,
    pub queued: bool,
}

/// Makes pending and failed records due now (failed ones with fresh attempts). The staging
/// table's statement trigger notifies `sluice_pending` because rows are left pending.
pub async fn push_now(
    pool: &PgPool,
    object: &str,
    external_ids: &[String],
) -> Result<Vec<PushNowRow>, sqlx::Error> {
    sqlx::query_as(
        r#"
        WITH wanted AS (
            SELECT DISTINCT unnest($2::text[]) AS external_id
        ), queued AS (
            UPDATE staging_records AS s
            SET next_attempt_at = now(),
                sync_status = 'pending',
                attempts = CASE WHEN s.sync_status = 'failed' THEN 0 ELSE s.attempts END,
                updated_at = CASE WHEN s.sync_status = 'failed' THEN now() ELSE s.updated_at END
            FROM wanted AS w
            WHERE s.object = $1 AND s.external_id = w.external_id
              AND s.sync_status IN ('pending', 'failed')
            RETURNING s.external_id
        )
        SELECT w.external_id, s.sync_status, q.external_id IS NOT NULL AS queued
        FROM wanted AS w
        LEFT JOIN staging_records AS s ON s.object = $1 AND s.external_id = w.external_id
        LEFT JOIN queued AS q ON q.external_id = w.external_id
        ORDER BY w.external_id
        "#,
    )
    .bind(object)
    .bind(external_ids)
    .fetch_all(pool)
    .await
}

/// A record as Salesforce sent it, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingRow {
    /// The external id field's value, when the record has one.
    pub external_id: Option<String>,
    pub salesforce_id: SalesforceId,
    /// Fields by API name, without `Id`; the external id field included when set.
    pub fields: Map<String, Value>,
}

/// What storing did with one [`IncomingRow`], in input order.
#[derive(Debug, sqlx::FromRow)]
pub struct StoredRow {
    /// `None`: no external id, and no staged row has this Salesforce Id.
    pub external_id: Option<String>,
    /// The row's status after the statement.
    pub sync_status: Option<SyncStatus>,
    /// Whether the statement changed the row (false: Salesforce sent what the hub had).
    pub written: bool,
}

/// Stores records Salesforce changed, in one statement.
///
/// A record is matched by its external id, else by its Salesforce Id. On a row with no unpushed
/// hub change (new, synced, or deleted: Salesforce says the record exists again) it is written
/// with `origin = 'salesforce'`, which the staging trigger records as synced: it is never pushed
/// back. On a row whose hub change is still unpushed (pending, in flight, failed, discarded),
/// Salesforce's fields are merged into both the fields and what Salesforce is known to have, and
/// the origin stays `hub`: the hub's own change is still pushed, and a row that now equals
/// Salesforce's copy becomes synced. Rows must have distinct Salesforce Ids.
pub async fn store_from_salesforce(
    pool: &PgPool,
    object: &str,
    rows: &[IncomingRow],
) -> Result<Vec<StoredRow>, sqlx::Error> {
    let external_ids: Vec<Option<&str>> = rows.iter().map(|r| r.external_id.as_deref()).collect();
    let ids: Vec<&str> = rows.iter().map(|r| r.salesforce_id.as_str()).collect();
    let fields: Vec<Value> = rows
        .iter()
        .map(|r| Value::Object(r.fields.clone()))
        .collect();
    sqlx::query_as(
        r#"
        WITH incoming AS (
            SELECT t.ord, t.salesforce_id, t.fields,
                   COALESCE(t.external_id, (
                       SELECT m.external_id FROM staging_records AS m
                       WHERE m.object = $1 AND m.salesforce_id = t.salesforce_id
                       ORDER BY m.updated_at DESC, m.id DESC LIMIT 1)) AS external_id
            FROM UNNEST($2::text[], $3::text[], $4::jsonb[]) WITH ORDINALITY
                AS t(external_id, salesforce_id, fields, ord)
        ), chosen AS (
            -- Two Ids resolving to one row would make ON CONFLICT touch it twice: the last wins.
            SELECT DISTINCT ON (external_id) external_id, salesforce_id, fields
            FROM incoming WHERE external_id IS NOT NULL
            ORDER BY external_id, ord DESC
        ), written AS (
            INSERT INTO staging_records AS s (object, external_id, fields, salesforce_id, origin)
            SELECT $1, c.external_id, c.fields, c.salesforce_id, 'salesforce' FROM chosen AS c
            ON CONFLICT ON CONSTRAINT staging_records_object_external_id_key DO UPDATE
            SET fields = s.fields || EXCLUDED.fields,
                salesforce_id = EXCLUDED.salesforce_id,
                origin = CASE WHEN s.sync_status IN ('synced', 'deleted') THEN 'salesforce' ELSE s.origin END,
                operation = CASE WHEN s.sync_status IN ('synced', 'deleted') THEN 'upsert' ELSE s.operation END,
                synced_fields = CASE WHEN s.sync_status IN ('synced', 'deleted') THEN s.synced_fields
                    ELSE COALESCE(s.synced_fields, '{}'::jsonb) || EXCLUDED.fields END
            WHERE s.fields || EXCLUDED.fields IS DISTINCT FROM s.fields
               OR s.salesforce_id IS DISTINCT FROM EXCLUDED.salesforce_id
               OR (s.sync_status IN ('synced', 'deleted') AND s.operation <> 'upsert')
            RETURNING s.external_id, s.sync_status
        )
        SELECT i.external_id, COALESCE(w.sync_status, cur.sync_status) AS sync_status,
               w.external_id IS NOT NULL AS written
        FROM incoming AS i
        LEFT JOIN written AS w ON w.external_id = i.external_id
        LEFT JOIN staging_records AS cur ON cur.object = $1 AND cur.external_id = i.external_id
        ORDER BY i.ord
        "#,
    )
    .bind(object)
    .bind(&external_ids)
    .bind(&ids)
    .bind(&fields)
    .fetch_all(pool)
    .await
}
