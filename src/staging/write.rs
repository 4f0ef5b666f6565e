use std::collections::HashMap;

use serde_json::{Map, Value};
use sqlx::PgConnection;

/// A normalized record ready to stage.
#[derive(Debug, Clone, PartialEq)]
pub struct StageRow {
    pub external_id: String,
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
    object: &str,
    rows: &[&StageRow],
) -> Result<Vec<StageOutcome>, sqlx::Error> {
    let ids: Vec<&str> = rows.iter().map(|r| r.external_id.as_str()).collect();
    let fields: Vec<Value> = rows
        .iter()
        .map(|r| Value::Object(r.fields.clone()))
        .collect();
    // A row comes back only when the statement changed it; the trigger has then decided whether
    // the new content still needs pushing (it may equal what Salesforce already has).
    let changed: Vec<(String, String)> = sqlx::query_as(
        r#"
        INSERT INTO staging_records AS s (object, external_id, fields)
        SELECT $1, t.external_id, t.fields
        FROM UNNEST($2::text[], $3::jsonb[]) AS t(external_id, fields)
        ON CONFLICT ON CONSTRAINT staging_records_object_external_id_key DO UPDATE
            SET fields = s.fields || EXCLUDED.fields, operation = 'upsert', origin = 'hub'
            WHERE s.fields || EXCLUDED.fields IS DISTINCT FROM s.fields
               OR s.operation <> 'upsert'
               OR s.origin <> 'hub'
        RETURNING s.external_id, s.sync_status
        "#,
    )
    .bind(object)
    .bind(&ids)
    .bind(&fields)
    .fetch_all(&mut *conn)
    .await?;
    let changed: HashMap<String, String> = changed.into_iter().collect();
    Ok(rows
        .iter()
        .map(|r| match changed.get(&r.external_id).map(String::as_str) {
            Some("synced") | None => StageOutcome::Unchanged,
            Some(_) => StageOutcome::Queued,
        })
        .collect())
}

/// The external ids among `ids` that already have a row for `object`.
pub async fn existing_external_ids(
    conn: &mut PgConnection,
    object: &str,
    ids: &[&str],
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT external_id FROM staging_records WHERE object = $1 AND external_id = ANY($2)",
    )
    .bind(object)
    .bind(ids)
    .fetch_all(conn)
    .await
}
