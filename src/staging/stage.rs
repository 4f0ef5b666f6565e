//! Changes that come into the hub: records to create or update, and deletions.

use std::collections::HashMap;

use serde_json::{Map, Value};
use sqlx::{PgConnection, PgPool};

use super::{ExternalId, ObjectName, SyncStatus};

/// A normalized record ready to stage.
#[derive(Debug, Clone, PartialEq)]
pub struct StageRow {
    pub external_id: ExternalId,
    pub fields: Map<String, Value>,
}

/// What staging did with one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageOutcome {
    /// New or changed: queued for the push.
    Queued,
    /// Equal to what is staged or already in Salesforce: nothing to push.
    Unchanged,
}

/// Stages records of one object in one statement. New fields are merged into the staged ones
/// (last received wins, field by field). Rows must have distinct external ids: merge duplicates
/// first. Returns one outcome per row, in order.
pub async fn stage_records(
    conn: &mut PgConnection,
    object: &ObjectName,
    rows: &[&StageRow],
) -> Result<Vec<StageOutcome>, sqlx::Error> {
    let (ids, fields) = as_columns(rows)?;
    // A row comes back only when the statement changed it; the trigger has then decided whether
    // the new content still needs pushing (it may equal what Salesforce already has).
    let changed = sqlx::query!(
        r#"
        INSERT INTO staging_records AS s (object, external_id, fields)
        SELECT $1, t.external_id, t.fields::jsonb
        FROM UNNEST($2::text[], $3::text[]) AS t(external_id, fields)
        ON CONFLICT ON CONSTRAINT staging_records_object_external_id_key DO UPDATE
            SET fields = s.fields || EXCLUDED.fields, operation = 'upsert', origin = 'hub'
            WHERE s.fields || EXCLUDED.fields IS DISTINCT FROM s.fields
               OR s.operation <> 'upsert'
               OR s.origin <> 'hub'
        RETURNING s.external_id, s.sync_status AS "sync_status: SyncStatus"
        "#,
        object as &ObjectName,
        &ids as &[&str],
        &fields,
    )
    .fetch_all(&mut *conn)
    .await?;
    let changed: HashMap<String, SyncStatus> = changed
        .into_iter()
        .map(|r| (r.external_id, r.sync_status))
        .collect();
    Ok(rows
        .iter()
        .map(|r| match changed.get(r.external_id.as_str()) {
            Some(SyncStatus::Synced) | None => StageOutcome::Unchanged,
            Some(_) => StageOutcome::Queued,
        })
        .collect())
}

/// The rows' external ids and fields, as arrays to bind. The fields go as JSON text, cast in SQL:
/// binding jsonb would first clone every row's map into a `Value`, and Postgres parses the text
/// either way.
fn as_columns<'a>(rows: &[&'a StageRow]) -> Result<(Vec<&'a str>, Vec<String>), sqlx::Error> {
    let ids = rows.iter().map(|r| r.external_id.as_str()).collect();
    let fields = rows
        .iter()
        .map(|r| serde_json::to_string(&r.fields))
        .collect::<Result<Vec<String>, _>>()
        .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    Ok((ids, fields))
}

/// The external ids among `ids` that already have a row for `object`.
pub async fn existing_external_ids(
    conn: &mut PgConnection,
    object: &ObjectName,
    ids: &[&str],
) -> Result<Vec<ExternalId>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT external_id AS "external_id: ExternalId" FROM staging_records
           WHERE object = $1 AND external_id = ANY($2)"#,
        object as &ObjectName,
        ids as &[&str],
    )
    .fetch_all(conn)
    .await
}

/// Marks the row for deletion; the staging trigger bumps its version and queues it (a row in
/// flight is pushed again after, as a deletion). False when there is no such row. The inbox is
/// merged first: the record may have come in a request not merged yet.
pub async fn stage_deletion(
    pool: &PgPool,
    object: &ObjectName,
    external_id: &ExternalId,
) -> Result<bool, sqlx::Error> {
    super::inbox::merge_all(pool, super::inbox::FLUSH_MAX_ROUNDS).await?;
    let found = sqlx::query_scalar!(
        "UPDATE staging_records SET operation = 'delete', origin = 'hub' \
         WHERE object = $1 AND external_id = $2 RETURNING id",
        object as &ObjectName,
        external_id as &ExternalId,
    )
    .fetch_optional(pool)
    .await?;
    Ok(found.is_some())
}
