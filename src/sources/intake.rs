//! A source's payloads through its mappings into staging, in the caller's transaction.

use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use utoipa::ToSchema;

use crate::describe::Describes;
use crate::error::FieldProblem;
use crate::ingest::intake::stage_records;
use crate::normalize::MappingSet;
use crate::staging::ObjectName;

/// Rejected records' problems kept per event or page, for operators.
pub const MAX_PROBLEMS: usize = 100;

/// What the payloads made, every object together.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Intake {
    /// Records made of the payloads (before validation).
    pub records: usize,
    /// New or changed: queued for Salesforce.
    pub staged: usize,
    /// Equal to what is staged or already in Salesforce.
    pub unchanged: usize,
    /// Refused by the mapping or the describe; see `errors`.
    pub rejected: usize,
    /// Why (at most 100), each naming the object in `salesforce_field` when it can.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

impl Intake {
    pub fn add(&mut self, other: Intake) {
        self.records += other.records;
        self.staged += other.staged;
        self.unchanged += other.unchanged;
        self.rejected += other.rejected;
        let room = MAX_PROBLEMS.saturating_sub(self.errors.len());
        self.errors.extend(other.errors.into_iter().take(room));
    }
}

/// Stages what `payloads` make for each object of `source` that takes `event_type`, parents
/// first. `None` when no object of the source takes this event type (nothing is written).
pub async fn stage_payloads(
    conn: &mut PgConnection,
    mappings: &MappingSet,
    describes: &Describes,
    source: &str,
    event_type: Option<&str>,
    payloads: &[Value],
) -> Result<Option<Intake>, sqlx::Error> {
    let taking: Vec<_> = mappings
        .of_source(source)
        .into_iter()
        .filter(|m| m.takes(event_type))
        .collect();
    if taking.is_empty() {
        return Ok(None);
    }
    let mut intake = Intake::default();
    for mapping in taking {
        let records: Vec<Value> = payloads
            .iter()
            .flat_map(|p| mapping.records_of(p))
            .collect();
        if records.is_empty() {
            continue;
        }
        // The catalog refused any mapped object that is not an API name at start-up.
        let Ok(object) = ObjectName::parse(mapping.object()) else {
            tracing::error!(
                object = mapping.object(),
                "a mapped object is not an API name"
            );
            continue;
        };
        let describe = describes.get(mapping.object());
        let made = records.len();
        let answer = stage_records(conn, &object, mapping, describe.as_deref(), records).await?;
        super::metrics::records(
            source,
            mapping.object(),
            answer.staged,
            answer.unchanged,
            answer.rejected,
        );
        let errors = answer
            .results
            .into_iter()
            .flat_map(|r| r.errors)
            .map(|mut e| {
                // The sender's field alone is ambiguous across objects: say which one.
                e.field = format!("{}: {}", mapping.object(), e.field);
                e
            });
        intake.add(Intake {
            records: made,
            staged: answer.staged,
            unchanged: answer.unchanged,
            rejected: answer.rejected,
            errors: errors.collect(),
        });
    }
    Ok(Some(intake))
}
