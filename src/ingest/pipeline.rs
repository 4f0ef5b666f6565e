//! One chunk of records through the pipeline: normalize, check against describe, stage.

use std::collections::HashSet;

use sqlx::PgConnection;

use super::records::{self, ParsedBatch};
use super::strict_json::Item;
use crate::normalize::Mapping;
use crate::salesforce::SObjectDescribe;
use crate::staging::{self, ObjectName, StageOutcome, StageRow};

/// Normalizes `items` and checks them against the describe, reading (never writing) staging to
/// know which records are updates. Ingest stages what this accepts; a preview only shows it.
pub async fn check_chunk(
    conn: &mut PgConnection,
    object: &ObjectName,
    mapping: &Mapping,
    describe: Option<&SObjectDescribe>,
    items: Vec<Item>,
) -> Result<ParsedBatch, sqlx::Error> {
    let mut batch = records::prepare(items, mapping);
    let ids = records::external_ids(&batch);
    let staged: HashSet<String> = if describe.is_some() && !ids.is_empty() {
        staging::existing_external_ids(conn, object, &ids)
            .await?
            .into_iter()
            .map(String::from)
            .collect()
    } else {
        HashSet::new()
    };
    records::validate(&mut batch, mapping, describe, &staged);
    Ok(batch)
}

/// Normalizes, validates and stages `items` in the caller's transaction (one statement for the
/// lookup of existing rows, one for the writes).
pub async fn stage_chunk(
    conn: &mut PgConnection,
    object: &ObjectName,
    mapping: &Mapping,
    describe: Option<&SObjectDescribe>,
    items: Vec<Item>,
) -> Result<(ParsedBatch, Vec<StageOutcome>), sqlx::Error> {
    let batch = check_chunk(conn, object, mapping, describe, items).await?;
    let rows: Vec<&StageRow> = batch.rows.iter().map(|(row, _)| row).collect();
    let outcomes = if rows.is_empty() {
        Vec::new()
    } else {
        staging::stage_records(conn, object, &rows).await?
    };
    Ok((batch, outcomes))
}
