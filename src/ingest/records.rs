//! Turning posted records into rows to stage: each record is normalized through its sender's
//! mapping and checked against Salesforce's describe on its own, so that one bad record is
//! reported without failing the others; a body that is not a batch at all fails as a whole.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::ndjson::LineError;
use crate::error::FieldProblem;
use crate::normalize::{FieldIssue, Mapping, validate_record};
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
    /// Problems, each naming the record's index.
    pub problems: Vec<FieldProblem>,
    /// Number of records read.
    pub total: usize,
}

/// Why a body is refused as a whole.
#[derive(Debug, PartialEq, Eq)]
pub struct BatchError {
    pub rule: &'static str,
    pub message: String,
}

/// Reads a JSON array body into its items.
pub fn parse_array(body: &[u8]) -> Result<Vec<Value>, BatchError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| BatchError {
        rule: "json",
        message: format!("not valid JSON: {e}"),
    })?;
    let Value::Array(items) = value else {
        return Err(BatchError {
            rule: "type",
            message: "expected a JSON array of records".into(),
        });
    };
    if items.is_empty() {
        return Err(BatchError {
            rule: "empty",
            message: "the array holds no records".into(),
        });
    }
    if items.len() > MAX_RECORDS_PER_REQUEST {
        return Err(BatchError {
            rule: "too_many",
            message: format!(
                "{} records; at most {MAX_RECORDS_PER_REQUEST} per array (send NDJSON for more)",
                items.len()
            ),
        });
    }
    Ok(items)
}

/// Normalizes items (with their request indexes) through `mapping`, merging repeated external ids.
pub fn prepare(
    items: impl IntoIterator<Item = (usize, Result<Value, LineError>)>,
    mapping: &Mapping,
) -> ParsedBatch {
    let mut batch = ParsedBatch::default();
    let mut position: HashMap<ExternalId, usize> = HashMap::new();
    for (index, item) in items {
        batch.total += 1;
        let item = match item {
            Ok(item) => item,
            Err(e) => {
                batch
                    .problems
                    .push(problem(index, None, "record", "json", &e.message));
                continue;
            }
        };
        match normalize(index, item, mapping) {
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
            Err(problems) => batch.problems.extend(problems),
        }
    }
    batch
}

/// Checks each row against Salesforce's describe; rows Salesforce would refuse become problems.
/// `staged` holds the external ids already in staging: the others are inserts, which need every
/// required field.
pub fn validate(batch: &mut ParsedBatch, describe: &SObjectDescribe, staged: &HashSet<ExternalId>) {
    let rows = std::mem::take(&mut batch.rows);
    for (row, indexes) in rows {
        let issues = validate_record(describe, &row.fields, !staged.contains(&row.external_id));
        if issues.is_empty() {
            batch.rows.push((row, indexes));
            continue;
        }
        for &index in &indexes {
            for issue in &issues {
                batch
                    .problems
                    .push(from_issue(index, Some(row.external_id.to_string()), issue));
            }
        }
    }
}

fn normalize(index: usize, item: Value, mapping: &Mapping) -> Result<StageRow, Vec<FieldProblem>> {
    let Value::Object(raw) = item else {
        return Err(vec![problem(
            index,
            None,
            "record",
            "type",
            "expected a JSON object",
        )]);
    };
    let fields: Map<String, Value> = mapping.apply(&raw).map_err(|issues| {
        let external_id = raw
            .get(mapping.external_id_field())
            .and_then(Value::as_str)
            .map(str::to_owned);
        issues
            .iter()
            .map(|i| from_issue(index, external_id.clone(), i))
            .collect::<Vec<_>>()
    })?;
    let field = mapping.external_id_field();
    let raw = match fields.get(field) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let external_id = ExternalId::parse(&raw).map_err(|e| {
        let (rule, message) = match e {
            InvalidKey::TooLong => ("too_long", e.to_string()),
            _ => ("required", "the external id is required".to_owned()),
        };
        vec![problem(index, None, field, rule, &message)]
    })?;
    Ok(StageRow {
        external_id,
        fields,
    })
}

fn from_issue(index: usize, external_id: Option<String>, issue: &FieldIssue) -> FieldProblem {
    let message = match &issue.salesforce_code {
        Some(code) => format!("{} ({code})", issue.message),
        None => issue.message.clone(),
    };
    problem(index, external_id, &issue.field, &issue.rule, &message)
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
        rule: rule.into(),
        message: message.into(),
    }
}

#[cfg(test)]
mod tests;
