//! Records changed in Salesforce, stored for internal apps and never pushed back.

use chrono::{DateTime, Utc};
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

/// Where a batch of Salesforce versions comes from: a read of the org ([`crate::read`]) knows
/// each record's `SystemModstamp` and when it began; records Apex sends know neither.
#[derive(Debug, Clone, Default)]
pub struct ReadStamp {
    /// When the read began (database clock): a field the hub pushed after it is not overwritten.
    pub started_at: Option<DateTime<Utc>>,
    /// Each row's `SystemModstamp`, in the order of the rows (empty: unknown).
    pub modstamps: Vec<DateTime<Utc>>,
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
/// Salesforce's values are recorded as what Salesforce has (`synced_fields`) and merged into the
/// fields the hub did not change; the origin stays `hub`, so the hub's own change is still pushed,
/// and a row that now equals Salesforce's copy becomes synced. Rows must have distinct Salesforce
/// Ids. See [`store_read`] for what a read adds.
pub async fn store_from_salesforce(
    pool: &PgPool,
    object: &ObjectName,
    rows: &[IncomingRow],
) -> Result<Vec<StoredRow>, sqlx::Error> {
    store_read(pool, object, rows, &ReadStamp::default()).await
}

/// [`store_from_salesforce`], for versions a read fetched: a version older than the row's
/// `salesforce_modstamp` is not stored, and fields the hub pushed after `started_at` keep the
/// hub's value (the read saw Salesforce before that push). Field by field, the rule is
/// `staging_salesforce_fresh` in `migrations/20261211000100_salesforce_reads.sql`.
pub async fn store_read(
    pool: &PgPool,
    object: &ObjectName,
    rows: &[IncomingRow],
    stamp: &ReadStamp,
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
    let modstamps: Vec<Option<DateTime<Utc>>> = (0..rows.len())
        .map(|i| stamp.modstamps.get(i).copied())
        .collect();
    sqlx::query_as!(
        StoredRow,
        r#"
        WITH incoming AS (
            SELECT t.ord, t.salesforce_id, t.fields, t.modstamp,
                   COALESCE(t.external_id, (
                       SELECT m.external_id FROM staging_records AS m
                       WHERE m.object = $1 AND m.salesforce_id = t.salesforce_id
                       ORDER BY m.updated_at DESC, m.id DESC LIMIT 1)) AS external_id
            FROM UNNEST($2::text[], $3::text[], $4::jsonb[], $5::timestamptz[]) WITH ORDINALITY
                AS t(external_id, salesforce_id, fields, modstamp, ord)
        ), chosen AS (
            -- Two Ids resolving to one row would make ON CONFLICT touch it twice: the last wins.
            SELECT DISTINCT ON (external_id) external_id, salesforce_id, fields, modstamp
            FROM incoming WHERE external_id IS NOT NULL
            ORDER BY external_id, ord DESC
        ), written AS (
            INSERT INTO staging_records AS s
                (object, external_id, fields, salesforce_id, origin, salesforce_modstamp)
            SELECT $1, c.external_id, c.fields, c.salesforce_id, 'salesforce', c.modstamp
            FROM chosen AS c
            ON CONFLICT ON CONSTRAINT staging_records_object_external_id_key DO UPDATE
            SET fields = s.fields || staging_salesforce_fresh(s.fields, s.synced_fields,
                    s.sync_status, s.origin, s.synced_at, EXCLUDED.fields, $6),
                salesforce_id = EXCLUDED.salesforce_id,
                salesforce_modstamp = GREATEST(s.salesforce_modstamp, EXCLUDED.salesforce_modstamp),
                origin = CASE WHEN s.sync_status IN ('synced', 'deleted') THEN 'salesforce' ELSE s.origin END,
                operation = CASE WHEN s.sync_status IN ('synced', 'deleted') THEN 'upsert' ELSE s.operation END,
                synced_fields = CASE WHEN s.sync_status IN ('synced', 'deleted') THEN s.synced_fields
                    ELSE COALESCE(s.synced_fields, '{}'::jsonb) || EXCLUDED.fields END
            WHERE NOT COALESCE(EXCLUDED.salesforce_modstamp < s.salesforce_modstamp, false)
              AND NOT (s.sync_status = 'deleted' AND s.origin = 'hub'
                       AND COALESCE(s.synced_at > $6, false))
              AND (s.fields || staging_salesforce_fresh(s.fields, s.synced_fields, s.sync_status,
                        s.origin, s.synced_at, EXCLUDED.fields, $6) IS DISTINCT FROM s.fields
                   OR s.salesforce_id IS DISTINCT FROM EXCLUDED.salesforce_id
                   OR (s.sync_status IN ('synced', 'deleted') AND s.operation <> 'upsert'))
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
        &modstamps as &[Option<DateTime<Utc>>],
        stamp.started_at,
    )
    .fetch_all(pool)
    .await
}

/// Records deleted in Salesforce (seen in the recycle bin by a read), by Salesforce Id, with
/// each one's `SystemModstamp`: their rows become `deleted` with `origin = 'salesforce'` (never
/// pushed back). A row with an unpushed hub change, or one the hub pushed after the read began,
/// is left alone: the hub's change is newer and will be pushed. Returns the rows deleted.
pub async fn store_deletions(
    pool: &PgPool,
    object: &ObjectName,
    ids: &[SalesforceId],
    stamp: &ReadStamp,
) -> Result<u64, sqlx::Error> {
    let ids: Vec<&str> = ids.iter().map(SalesforceId::as_str).collect();
    let modstamps: Vec<Option<DateTime<Utc>>> = (0..ids.len())
        .map(|i| stamp.modstamps.get(i).copied())
        .collect();
    let done = sqlx::query!(
        r#"
        UPDATE staging_records AS s
        SET operation = 'delete', origin = 'salesforce',
            salesforce_modstamp = GREATEST(s.salesforce_modstamp, d.modstamp)
        FROM UNNEST($2::text[], $3::timestamptz[]) AS d(salesforce_id, modstamp)
        WHERE s.object = $1 AND s.salesforce_id = d.salesforce_id
          AND s.sync_status = 'synced'
          AND NOT COALESCE(s.origin = 'hub' AND s.synced_at > $4, false)
          AND NOT COALESCE(d.modstamp < s.salesforce_modstamp, false)
        "#,
        object as &ObjectName,
        &ids as &[&str],
        &modstamps as &[Option<DateTime<Utc>>],
        stamp.started_at,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
