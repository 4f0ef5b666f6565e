//! Turning posted records into rows to stage: each record is normalized through its sender's
//! mapping and checked against Salesforce's describe on its own, so that one bad record is
//! reported without failing the others; a body that is not a batch at all fails as a whole.
//! A refused record lists every problem it has, the mapping's and the describe's together.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::strict_json::{self, ArrayError, Item};
use crate::error::FieldProblem;
use crate::normalize::{FieldIssue, Mapping, Normalized};
use crate::salesforce::SObjectDescribe;
use crate::staging::{ExternalId, InvalidKey, StageRow};

/// The most records one JSON array may carry; larger loads use NDJSON.
pub const MAX_RECORDS_PER_REQUEST: usize = 10_000;

/// Records split into the rows to stage and the problems of the others.
#[derive(Debug, Default)]
pub struct ParsedBatch {
    /// Valid records, one per external id (later records merged into earlier ones, field by
    /// field), with the request indexes each stands for.
    pub rows: Vec<(StageRow, Vec<usize>)>,
    /// Records their mapping refused, with the fields it could make, until the describe has
    /// checked those too ([`validate`] turns them into problems).
    pub refused: Vec<Refused>,
    /// Problems, each naming the record's index.
    pub problems: Vec<FieldProblem>,
    /// Number of records read.
    pub total: usize,
}

/// A record the mapping refused.
#[derive(Debug)]
pub struct Refused {
    pub index: usize,
    /// The record's external id, when its rule made one.
    pub external_id: Option<String>,
    pub record: Normalized,
}

/// Why a body is refused as a whole.
#[derive(Debug, PartialEq, Eq)]
pub struct BatchError {
    pub rule: &'static str,
    pub message: String,
}

/// Reads a JSON array body into its items, each with its index; a record that is not one (a key
/// given twice) is an error of that record.
pub fn parse_array(body: &[u8]) -> Result<Vec<Item>, BatchError> {
    let items = strict_json::parse_array(body, MAX_RECORDS_PER_REQUEST).map_err(|e| match e {
        ArrayError::Json(e) => BatchError {
            rule: "json",
            message: format!("not valid JSON: {e}"),
        },
        ArrayError::NotArray => BatchError {
            rule: "type",
            message: "expected a JSON array of records".into(),
        },
        ArrayError::TooMany { count, max } => BatchError {
            rule: "too_many",
            message: format!("{count} records; at most {max} per array (send NDJSON for more)"),
        },
    })?;
    if items.is_empty() {
        return Err(BatchError {
            rule: "empty",
            message: "the array holds no records".into(),
        });
    }
    Ok(items)
}

/// Normalizes items (with their request indexes) through `mapping`, merging repeated external ids.
pub fn prepare(items: impl IntoIterator<Item = Item>, mapping: &Mapping) -> ParsedBatch {
    let mut batch = ParsedBatch::default();
    let mut position: HashMap<ExternalId, usize> = HashMap::new();
    for (index, item) in items {
        batch.total += 1;
        let item = match item {
            Ok(item) => item,
            Err(e) => {
                batch
                    .problems
                    .push(problem(index, None, &e.field, e.rule, &e.message));
                continue;
            }
        };
        match normalize(index, item, mapping) {
            Err(Refusal::Record(problem)) => batch.problems.push(*problem),
            Err(Refusal::Fields(refused)) => batch.refused.push(refused),
            Ok(row) => match position.get(&row.external_id) {
                Some(&at) => {
                    let (earlier, indexes) = &mut batch.rows[at];
                    earlier.fields.extend(row.fields);
                    indexes.push(index);
                }
                None => {
                    position.insert(row.external_id.clone(), batch.rows.len());
                    batch.rows.push((row, vec![index]));
                }
            },
        }
    }
    batch
}

/// The external ids the describe check needs to know the state of: staged ones are updates.
pub fn external_ids(batch: &ParsedBatch) -> Vec<&str> {
    let rows = batch.rows.iter().map(|(r, _)| r.external_id.as_str());
    let refused = batch
        .refused
        .iter()
        .filter_map(|r| r.external_id.as_deref());
    rows.chain(refused).collect()
}

/// Checks each record against Salesforce's describe, when it is known; rows Salesforce would
/// refuse and the records the mapping refused become problems, each listing everything wrong.
/// `staged` holds the external ids already in staging: the others are inserts, which need every
/// required field.
pub fn validate(
    batch: &mut ParsedBatch,
    mapping: &Mapping,
    describe: Option<&SObjectDescribe>,
    staged: &HashSet<String>,
) {
    let for_insert = |id: Option<&str>| id.is_none_or(|id| !staged.contains(id));
    for mut refused in std::mem::take(&mut batch.refused) {
        if let Some(describe) = describe {
            let insert = for_insert(refused.external_id.as_deref());
            mapping.check_describe(describe, &mut refused.record, insert);
        }
        for issue in &refused.record.issues {
            let problem = from_issue(refused.index, refused.external_id.clone(), issue);
            batch.problems.push(problem);
        }
    }
    let Some(describe) = describe else { return };
    let rows = std::mem::take(&mut batch.rows);
    for (row, indexes) in rows {
        let mut record = Normalized {
            fields: row.fields,
            issues: Vec::new(),
        };
        mapping.check_describe(
            describe,
            &mut record,
            for_insert(Some(row.external_id.as_str())),
        );
        if record.issues.is_empty() {
            let row = StageRow {
                external_id: row.external_id,
                fields: record.fields,
            };
            batch.rows.push((row, indexes));
            continue;
        }
        for &index in &indexes {
            for issue in &record.issues {
                batch
                    .problems
                    .push(from_issue(index, Some(row.external_id.to_string()), issue));
            }
        }
    }
}

/// Why a record is not a row to stage.
enum Refusal {
    /// Not a record at all.
    Record(Box<FieldProblem>),
    /// Problems with its fields, which the describe may add to.
    Fields(Refused),
}

fn normalize(index: usize, item: Value, mapping: &Mapping) -> Result<StageRow, Refusal> {
    let Value::Object(raw) = item else {
        return Err(Refusal::Record(Box::new(problem(
            index,
            None,
            "record",
            "type",
            "expected a JSON object",
        ))));
    };
    let mut record = mapping.normalize(&raw);
    let field = mapping.external_id_field();
    if let Some(issue) = raw_key_issue(mapping, &raw) {
        record
            .issues
            .retain(|i| i.salesforce_field.as_deref() != Some(field));
        record.issues.push(issue);
    }
    let external_id = match key_of(record.fields.get(field)) {
        Ok(id) => Some(id),
        Err(e) => {
            // The mapping says why when it refused the field itself; otherwise the key says.
            let named = |i: &FieldIssue| i.salesforce_field.as_deref() == Some(field);
            if !record.issues.iter().any(named) {
                let (rule, message) = match e {
                    KeyError::Invalid(InvalidKey::TooLong) => ("too_long", e.to_string()),
                    KeyError::Invalid(InvalidKey::ControlCharacter(_)) => {
                        ("control_character", format!("the external id {e}"))
                    }
                    KeyError::Type(_) => ("type", e.to_string()),
                    _ => ("required", "the external id is required".to_owned()),
                };
                record
                    .issues
                    .push(FieldIssue::new(field, rule, message).on(field));
            }
            None
        }
    };
    match external_id {
        Some(external_id) if record.issues.is_empty() => Ok(StageRow {
            external_id,
            fields: record.fields,
        }),
        external_id => Err(Refusal::Fields(Refused {
            index,
            external_id: external_id.map(String::from),
            record,
        })),
    }
}

/// Why a normalized field is not an external id.
#[derive(Debug, thiserror::Error)]
enum KeyError {
    #[error(transparent)]
    Invalid(#[from] InvalidKey),
    /// A number that is not an integer held exactly (1.0, 1e3, past 64 bits), or another type:
    /// its text would be a guess.
    #[error("the external id must be a string or an integer, not {0}")]
    Type(String),
}

/// The sender's external id as sent must be text without control characters (CR, LF, NUL, …)
/// or an integer JSON holds exactly: cleaning would otherwise turn `"C\n1"` into `"C 1"` and
/// `1.0` into `"1.0"`, guessing at a key that decides which record is written.
fn raw_key_issue(mapping: &Mapping, raw: &Map<String, Value>) -> Option<FieldIssue> {
    let field = mapping.external_id_field();
    mapping.external_id_inputs(raw).find_map(|(name, value)| {
        let (rule, message) = match value {
            Value::String(s) => {
                let c = s.chars().find(|c| c.is_control())?;
                let e = InvalidKey::ControlCharacter(c.into());
                ("control_character", format!("the external id {e}"))
            }
            Value::Number(n) if n.is_i64() || n.is_u64() => return None,
            Value::Null => return None,
            other => ("type", KeyError::Type(other.to_string()).to_string()),
        };
        Some(FieldIssue::new(name, rule, message).on(field))
    })
}

/// The external id a normalized field holds: a string, or an integer that JSON held exactly.
fn key_of(value: Option<&Value>) -> Result<ExternalId, KeyError> {
    match value {
        None | Some(Value::Null) => Ok(ExternalId::parse("")?),
        Some(Value::String(s)) => Ok(ExternalId::parse(s)?),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => {
            Ok(ExternalId::parse(&n.to_string())?)
        }
        Some(other) => Err(KeyError::Type(other.to_string())),
    }
}

fn from_issue(index: usize, external_id: Option<String>, issue: &FieldIssue) -> FieldProblem {
    let message = match &issue.salesforce_code {
        Some(code) => format!("{} ({code})", issue.message),
        None => issue.message.clone(),
    };
    FieldProblem {
        salesforce_field: issue.salesforce_field.clone(),
        ..problem(index, external_id, &issue.field, &issue.rule, &message)
    }
}

fn problem(
    index: usize,
    external_id: Option<String>,
    field: &str,
    rule: &str,
    message: &str,
) -> FieldProblem {
    FieldProblem {
        index: Some(index),
        external_id,
        field: field.into(),
        salesforce_field: None,
        rule: rule.into(),
        message: message.into(),
    }
}

#[cfg(test)]
mod tests;
