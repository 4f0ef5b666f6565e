//! One chunk of records through the pipeline: normalize, check against describe, stage.

use std::collections::HashSet;

use sqlx::PgConnection;

use super::records::{self, ParsedBatch};
use super::strict_json::Item;
use crate::normalize::Mapping;
use crate::salesforce::SObjectDescribe;
use crate::staging::{self, ObjectName, StageOutcome, StageRow, inbox};

/// Where a chunk's records go, and what is known of the rows they may update.
struct Route {
    /// Through the inbox (`staging::inbox`) rather than straight into staging.
    inbox: bool,
    /// Rows the records may update: staged ones, and those with records in the inbox. `None`:
    /// any of them may (a large chunk while the inbox holds records of its object).
    known: Option<HashSet<String>>,
}

/// Normalizes `items` and checks them against the describe, reading (never writing) staging and
/// the inbox to know which records are updates. Ingest stages what this accepts; a preview only
/// shows it.
///
/// A large chunk while the inbox holds records of its object can't tell a creation from an update
/// of one of those (the inbox is not indexed by key, to stay cheap to write): its records are not
/// held to the fields a creation needs. If one was a creation lacking them after all, the push
/// refuses it without a call (`push::preflight`), with Salesforce's code, as a failed record.
pub async fn check_chunk(
    conn: &mut PgConnection,
    object: &ObjectName,
    mapping: &Mapping,
    describe: Option<&SObjectDescribe>,
    items: Vec<Item>,
) -> Result<ParsedBatch, sqlx::Error> {
    Ok(checked(conn, object, mapping, describe, items).await?.0)
}

async fn checked(
    conn: &mut PgConnection,
    object: &ObjectName,
    mapping: &Mapping,
    describe: Option<&SObjectDescribe>,
    items: Vec<Item>,
) -> Result<(ParsedBatch, bool), sqlx::Error> {
    let mut batch = records::prepare(items, mapping);
    let ids = records::external_ids(&batch);
    let route = route(conn, object, describe.is_some(), &ids).await?;
    let known = route
        .known
        .unwrap_or_else(|| ids.iter().map(|id| (*id).to_owned()).collect());
    records::validate(&mut batch, mapping, describe, &known);
    Ok((batch, route.inbox))
}

/// A chunk of more than [`inbox::DIRECT_MAX_RECORDS`] records goes through the inbox; a smaller
/// one too when the inbox holds a record of one of its rows, so that it is applied after it.
async fn route(
    conn: &mut PgConnection,
    object: &ObjectName,
    checks_describe: bool,
    ids: &[&str],
) -> Result<Route, sqlx::Error> {
    let large = ids.len() > inbox::DIRECT_MAX_RECORDS;
    let held = !ids.is_empty() && inbox::holds(conn, object).await?;
    if large && held {
        return Ok(Route {
            inbox: true,
            known: None,
        });
    }
    let mut known: HashSet<String> = if held {
        inbox::pending_keys(conn, object, ids)
            .await?
            .into_iter()
            .collect()
    } else {
        HashSet::new()
    };
    let inbox = large || !known.is_empty();
    if checks_describe && !ids.is_empty() {
        let staged = staging::existing_external_ids(conn, object, ids).await?;
        known.extend(staged.into_iter().map(String::from));
    }
    Ok(Route {
        inbox,
        known: Some(known),
    })
}

/// Normalizes, validates and stages `items` in the caller's transaction. Through the inbox, every
/// record is answered as staged (whether it changes anything is found at the merge); straight into
/// staging, the answer tells staged from unchanged records.
pub async fn stage_chunk(
    conn: &mut PgConnection,
    object: &ObjectName,
    mapping: &Mapping,
    describe: Option<&SObjectDescribe>,
    items: Vec<Item>,
) -> Result<(ParsedBatch, Vec<StageOutcome>), sqlx::Error> {
    let (batch, via_inbox) = checked(conn, object, mapping, describe, items).await?;
    let rows: Vec<&StageRow> = batch.rows.iter().map(|(row, _)| row).collect();
    let outcomes = if rows.is_empty() {
        Vec::new()
    } else if via_inbox {
        inbox::accept(conn, object, &rows).await?;
        vec![StageOutcome::Queued; rows.len()]
    } else {
        staging::stage_records(conn, object, &rows).await?
    };
    Ok((batch, outcomes))
}
