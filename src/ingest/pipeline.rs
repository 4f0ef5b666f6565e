//! One chunk of records through the pipeline: normalize, check against describe, stage.

use std::collections::HashSet;

use serde_json::Value;
use sqlx::PgConnection;

use super::ndjson::LineError;
use super::records::{self, ParsedBatch};
use crate::normalize::Mapping;
use crate::salesforce::SObjectDescribe;
use crate::staging::{self, ExternalId, ObjectName, StageOutcome, StageRow};

/// Normalizes, validates and stages `items` in the caller's transaction (one statement for the
/// lookup of existing rows, one for the writes).
pub async fn stage_chunk(
    conn: &mut PgConnection,
    object: &ObjectName,
    mapping: &Mapping,
    describe: Option<&SObjectDescribe>,
    items: Vec<(usize, Result<Value, LineError>)>,
) -> Result<(ParsedBatch, Vec<StageOutcome>), sqlx::Error> {
    let mut batch = records::prepare(items, mapping);
    if let Some(describe) = describe
        && !batch.rows.is_empty()
    {
        let ids: Vec<&str> = batch
            .rows
            .iter()
            .map(|(r, _)| r.external_id.as_str())
            .collect();
        let staged: HashSet<ExternalId> = staging::existing_external_ids(conn, object, &ids)
            .await?
            .into_iter()
            .collect();
        records::validate(&mut batch, describe, &staged);
    }
    let rows: Vec<&StageRow> = batch.rows.iter().map(|(row, _)| row).collect();
    let outcomes = if rows.is_empty() {
        Vec::new()
    } else {
        staging::stage_records(conn, object, &rows).await?
    };
    Ok((batch, outcomes))
}
