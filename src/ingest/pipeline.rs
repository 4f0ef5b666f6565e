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
    /// The inbox's depth at the look ([`inbox::Look::depth`]); 0 when not looked at.
    inbox_depth: i64,
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
) -> Result<(ParsedBatch, Route), sqlx::Error> {
    let mut batch = records::prepare(items, mapping);
    let ids = records::external_ids(&batch);
    let mut route = route(conn, object, describe.is_some(), &ids).await?;
    let known = route
        .known
        .take()
        .unwrap_or_else(|| ids.iter().map(|id| (*id).to_owned()).collect());
    records::validate(&mut batch, mapping, describe, &known);
    Ok((batch, route))
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
    let look = if ids.is_empty() {
        inbox::Look {
            holds: false,
            depth: 0,
        }
    } else {
        inbox::look(conn, object).await?
    };
    let held = look.holds;
    if large && held {
        return Ok(Route {
            inbox: true,
            inbox_depth: look.depth,
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
        inbox_depth: look.depth,
        known: Some(known),
    })
}

/// A chunk normalized and checked, with where its records go: [`Checked::stage`] writes them.
pub struct Checked {
    batch: ParsedBatch,
    route: Route,
}

impl Checked {
    /// How many records the inbox held at most when this chunk looked, if its records go through
    /// it; `None` when they go straight into staging or there is nothing to stage.
    pub fn inbox_depth(&self) -> Option<i64> {
        (self.route.inbox && !self.batch.rows.is_empty()).then_some(self.route.inbox_depth)
    }

    /// Stages the chunk's valid records in the caller's transaction. Through the inbox, every
    /// record is answered as staged (whether it changes anything is found at the merge); straight
    /// into staging, the answer tells staged from unchanged records.
    pub async fn stage(
        self,
        conn: &mut PgConnection,
        object: &ObjectName,
    ) -> Result<(ParsedBatch, Vec<StageOutcome>), sqlx::Error> {
        let Self { batch, route } = self;
        let rows: Vec<&StageRow> = batch.rows.iter().map(|(row, _)| row).collect();
        let outcomes = if rows.is_empty() {
            Vec::new()
        } else if route.inbox {
            inbox::accept(conn, object, &rows).await?;
            vec![StageOutcome::Queued; rows.len()]
        } else {
            staging::stage_records(conn, object, &rows).await?
        };
        Ok((batch, outcomes))
    }
}

/// Normalizes and checks `items` ([`check_chunk`]), and says where they would go.
pub async fn check_for_staging(
    conn: &mut PgConnection,
    object: &ObjectName,
    mapping: &Mapping,
    describe: Option<&SObjectDescribe>,
    items: Vec<Item>,
) -> Result<Checked, sqlx::Error> {
    let (batch, route) = checked(conn, object, mapping, describe, items).await?;
    Ok(Checked { batch, route })
}

/// Normalizes, validates and stages `items` in the caller's transaction ([`Checked::stage`]).
pub async fn stage_chunk(
    conn: &mut PgConnection,
    object: &ObjectName,
    mapping: &Mapping,
    describe: Option<&SObjectDescribe>,
    items: Vec<Item>,
) -> Result<(ParsedBatch, Vec<StageOutcome>), sqlx::Error> {
    check_for_staging(conn, object, mapping, describe, items)
        .await?
        .stage(conn, object)
        .await
}
