//! Records changed in Salesforce, stored for internal apps and never pushed back.

use serde_json::{Map, Value};
use sqlx::PgPool;

use super::{ExternalId, ObjectName, SalesforceId, SyncStatus};

/// A record as Salesforce sent it, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingRow {
    /// The external id field's value, when the record has one.
    pub external_id: Option<ExternalId>,
    pub salesforce_id: SalesforceId,
    /// Fields by API name, without `Id`; the external id field included when set.
    pub fields: Map<String, Value>,
}

/// What storing did with one [`IncomingRow`], in input order.
#[derive(Debug)]
pub struct StoredRow {
    /// `None`: no external id, and no staged row has this Salesforce Id.
    pub external_id: Option<ExternalId>,
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
    object: &ObjectName,
    rows: &[IncomingRow],
) -> Result<Vec<StoredRow>, sqlx::Error> {
    let external_ids: Vec<Option<&str>> = rows
        .iter()
        .map(|r| r.external_id.as_ref().map(ExternalId::as_str))
        .collect();
    let ids: Vec<&str> = rows.iter().map(|r| r.salesforce_id.as_str()).collect();
    let fields: Vec<Value> = rows
        .iter()
        .map(|r| Value::Object(r.fields.clone()))
        .collect();
    sqlx::query_as!(
        StoredRow,
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
        SELECT i.external_id AS "external_id: ExternalId",
               COALESCE(w.sync_status, cur.sync_status) AS "sync_status: SyncStatus",
               w.external_id IS NOT NULL AS "written!"
        FROM incoming AS i
        LEFT JOIN written AS w ON w.external_id = i.external_id
        LEFT JOIN staging_records AS cur ON cur.object = $1 AND cur.external_id = i.external_id
        ORDER BY i.ord
        "#,
        object as &ObjectName,
        &external_ids as &[Option<&str>],
        &ids as &[&str],
        &fields,
    )
    .fetch_all(pool)
    .await
}
