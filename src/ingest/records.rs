//! Parsing a posted batch into records: each record is checked on its own, so that one bad record
//! is reported without failing the others; a body that is not a batch at all fails as a whole.

use serde_json::{Map, Value};

use crate::http::FieldProblem;
use crate::objects::{ObjectSpec, is_api_name};
use crate::staging::StageRow;

/// The most records one request may carry; larger loads are split by the sender.
pub const MAX_RECORDS_PER_REQUEST: usize = 10_000;
/// Salesforce's longest text field is far longer, but external ids are indexed keys.
const MAX_EXTERNAL_ID_LEN: usize = 255;

/// A batch split into the records to stage and the problems of the others.
#[derive(Debug, Default)]
pub struct ParsedBatch {
    /// Valid records, one per external id (later records merged into earlier ones), with the
    /// request indexes each stands for.
    pub rows: Vec<(StageRow, Vec<usize>)>,
    /// Problems, each naming the record's index.
    pub problems: Vec<FieldProblem>,
    /// Number of records in the request.
    pub total: usize,
}

/// Why a body is refused as a whole.
#[derive(Debug, PartialEq, Eq)]
pub struct BatchError {
    pub rule: &'static str,
    pub message: String,
}

pub fn parse_batch(body: &[u8], spec: &ObjectSpec) -> Result<ParsedBatch, BatchError> {
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
                "{} records; at most {MAX_RECORDS_PER_REQUEST} per request",
                items.len()
            ),
        });
    }
    let mut batch = ParsedBatch {
        total: items.len(),
        ..ParsedBatch::default()
    };
    let mut position: std::collections::HashMap<String, usize> = Default::default();
    for (index, item) in items.into_iter().enumerate() {
        match parse_record(index, item, spec) {
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
    Ok(batch)
}

fn parse_record(
    index: usize,
    item: Value,
    spec: &ObjectSpec,
) -> Result<StageRow, Vec<FieldProblem>> {
    let Value::Object(raw) = item else {
        return Err(vec![problem(
            index,
            None,
            "record",
            "type",
            "expected a JSON object",
        )]);
    };
    let external_id = external_id_of(&raw, &spec.external_id_field);
    let ext_for_problem = external_id.as_ref().ok().cloned();
    let mut problems = Vec::new();
    if let Err((rule, message)) = &external_id {
        problems.push(problem(index, None, &spec.external_id_field, rule, message));
    }
    let mut fields = Map::new();
    for (name, value) in raw {
        if name == spec.external_id_field {
            continue; // checked and normalized above
        }
        match normalize_field(&name, value) {
            Ok(value) => {
                fields.insert(name, value);
            }
            Err((rule, message)) => {
                problems.push(problem(
                    index,
                    ext_for_problem.clone(),
                    &name,
                    rule,
                    &message,
                ));
            }
        }
    }
    match external_id {
        Ok(external_id) if problems.is_empty() => {
            fields.insert(
                spec.external_id_field.clone(),
                Value::String(external_id.clone()),
            );
            Ok(StageRow {
                external_id,
                fields,
            })
        }
        _ => Err(problems),
    }
}

fn external_id_of(raw: &Map<String, Value>, field: &str) -> Result<String, (&'static str, String)> {
    let id = match raw.get(field) {
        None | Some(Value::Null) => {
            return Err(("required", "the external id is required".into()));
        }
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) if n.is_u64() || n.is_i64() => n.to_string(),
        Some(_) => return Err(("type", "expected a string".into())),
    };
    if id.is_empty() {
        return Err(("required", "the external id is blank".into()));
    }
    if id.chars().count() > MAX_EXTERNAL_ID_LEN {
        return Err((
            "too_long",
            format!("longer than {MAX_EXTERNAL_ID_LEN} characters"),
        ));
    }
    Ok(id)
}

/// Checks one field and returns its normalized value (strings trimmed).
fn normalize_field(name: &str, value: Value) -> Result<Value, (&'static str, String)> {
    if !is_api_name(name) {
        return Err(("field_name", "not a Salesforce field API name".into()));
    }
    if name.eq_ignore_ascii_case("Id") || name.eq_ignore_ascii_case("attributes") {
        return Err((
            "not_allowed",
            "set by Salesforce; records are matched by their external id".into(),
        ));
    }
    match value {
        Value::String(s) => Ok(Value::String(s.trim().to_owned())),
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(value),
        Value::Object(reference) => parse_reference(reference),
        Value::Array(_) => Err((
            "type",
            "arrays are not field values (multi-select picklists are strings joined by ';')".into(),
        )),
    }
}

/// A parent referenced by its external id: `{"External_Id__c": "A-1"}`, as Salesforce resolves it.
fn parse_reference(reference: Map<String, Value>) -> Result<Value, (&'static str, String)> {
    let bad = || {
        (
            "reference",
            "a reference is an object with exactly one external id field and its string value"
                .to_owned(),
        )
    };
    let mut entries = reference.into_iter();
    let (Some((field, Value::String(id))), None) = (entries.next(), entries.next()) else {
        return Err(bad());
    };
    let id = id.trim();
    if !is_api_name(&field) || id.is_empty() {
        return Err(bad());
    }
    let mut normalized = Map::new();
    normalized.insert(field, Value::String(id.to_owned()));
    Ok(Value::Object(normalized))
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
