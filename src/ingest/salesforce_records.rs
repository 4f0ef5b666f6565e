//! Parsing records Salesforce sends back: `[{"Id": "003...", <fields>}]`, as Apex builds them
//! (from a map, or `JSON.serialize` of sObjects, whose `attributes` member is checked and dropped).
//! Each record is checked on its own so one bad record does not fail the others.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::MAX_RECORDS_PER_REQUEST;
use crate::error::FieldProblem;
use crate::objects::ObjectSpec;
use crate::staging::{ExternalId, IncomingRow, SalesforceId, is_api_name};

/// The most records one request may carry, as for ingest.
pub const MAX_SALESFORCE_RECORDS: usize = MAX_RECORDS_PER_REQUEST;

/// Fields Salesforce maintains itself. They are not stored: a later hub change to the row pushes
/// its stored fields, and Salesforce refuses these in an upsert (`INVALID_FIELD_FOR_INSERT_UPDATE`).
const SYSTEM_FIELDS: [&str; 9] = [
    "CreatedById",
    "CreatedDate",
    "IsDeleted",
    "LastActivityDate",
    "LastModifiedById",
    "LastModifiedDate",
    "LastReferencedDate",
    "LastViewedDate",
    "SystemModstamp",
];

/// Records to store (one per Salesforce Id, later fields merged over earlier ones) with the
/// request indexes each stands for, and the problems of the others.
#[derive(Debug, Default)]
pub struct IncomingBatch {
    pub rows: Vec<(IncomingRow, Vec<usize>)>,
    pub problems: Vec<FieldProblem>,
    pub total: usize,
}

/// Why a body is refused as a whole: (rule, message), always about `body`.
pub type BodyError = (&'static str, String);

pub fn parse(body: Value, spec: &ObjectSpec) -> Result<IncomingBatch, BodyError> {
    let Value::Array(items) = body else {
        return Err(("type", "expected a JSON array of records".into()));
    };
    if items.is_empty() {
        return Err(("empty", "the array holds no records".into()));
    }
    if items.len() > MAX_SALESFORCE_RECORDS {
        return Err((
            "too_many",
            format!(
                "{} records; at most {MAX_SALESFORCE_RECORDS} per request",
                items.len()
            ),
        ));
    }
    let mut batch = IncomingBatch {
        total: items.len(),
        ..IncomingBatch::default()
    };
    let mut position: HashMap<SalesforceId, usize> = HashMap::new();
    for (index, item) in items.into_iter().enumerate() {
        match parse_record(index, item, spec) {
            Ok(row) => match position.get(&row.salesforce_id) {
                Some(&at) => {
                    let (earlier, indexes) = &mut batch.rows[at];
                    earlier.fields.extend(row.fields);
                    if row.external_id.is_some() {
                        earlier.external_id = row.external_id;
                    }
                    indexes.push(index);
                }
                None => {
                    position.insert(row.salesforce_id.clone(), batch.rows.len());
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
) -> Result<IncomingRow, Vec<FieldProblem>> {
    let problem = |field: &str, rule: &str, message: String| FieldProblem {
        index: Some(index),
        external_id: None,
        field: field.into(),
        salesforce_field: None,
        rule: rule.into(),
        message,
    };
    let Value::Object(mut raw) = item else {
        return Err(vec![problem(
            "record",
            "type",
            "expected a JSON object".into(),
        )]);
    };
    let mut problems = Vec::new();
    let id = match raw.remove("Id") {
        Some(Value::String(id)) => SalesforceId::parse(id.trim())
            .map_err(|e| problems.push(problem("Id", "salesforce_id", e.to_string())))
            .ok(),
        None | Some(Value::Null) => {
            problems.push(problem(
                "Id",
                "required",
                "the Salesforce Id is required".into(),
            ));
            None
        }
        Some(_) => {
            problems.push(problem("Id", "type", "expected a string".into()));
            None
        }
    };
    if let Some(attributes) = raw.remove("attributes")
        && let Some(kind) = attributes.get("type").and_then(Value::as_str)
        && !kind.eq_ignore_ascii_case(spec.name.as_str())
    {
        problems.push(problem(
            "attributes.type",
            "object",
            format!("a {kind} record sent to the {} route", spec.name),
        ));
    }
    let external_id = match raw.remove(&spec.external_id_field) {
        None | Some(Value::Null) => None,
        Some(value) => match external_id_of(value) {
            Ok(id) => Some(id),
            Err(message) => {
                problems.push(problem(&spec.external_id_field, "external_id", message));
                None
            }
        },
    };
    let mut fields = Map::new();
    for (name, value) in raw {
        if SYSTEM_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(&name)) {
            continue;
        }
        if !is_api_name(&name) {
            let message = "not a Salesforce field API name".into();
            problems.push(problem(&name, "field_name", message));
            continue;
        }
        match value {
            Value::Object(_) | Value::Array(_) => problems.push(problem(
                &name,
                "type",
                "expected a field value; send a lookup as its Id field (e.g. AccountId)".into(),
            )),
            scalar => {
                fields.insert(name, scalar);
            }
        }
    }
    if let Some(external_id) = &external_id {
        fields.insert(
            spec.external_id_field.clone(),
            Value::String(external_id.to_string()),
        );
    }
    match id {
        Some(salesforce_id) if problems.is_empty() => Ok(IncomingRow {
            external_id,
            salesforce_id,
            fields,
        }),
        _ => {
            for p in &mut problems {
                p.external_id = external_id.as_ref().map(ToString::to_string);
            }
            Err(problems)
        }
    }
}

fn external_id_of(value: Value) -> Result<ExternalId, String> {
    let id = match value {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) if n.is_u64() || n.is_i64() => n.to_string(),
        _ => return Err("expected a string".into()),
    };
    ExternalId::parse(&id).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn contact() -> ObjectSpec {
        ObjectSpec::new("Contact", "External_Id__c").unwrap()
    }

    #[test]
    fn apex_serialized_records_lose_id_attributes_and_system_fields() {
        let body = json!([{
            "attributes": {"type": "Contact", "url": "/services/data/v66.0/sobjects/Contact/003"},
            "Id": "0035g00000AbCdE",
            "External_Id__c": " C-1 ",
            "LastName": "Durand",
            "LastModifiedDate": "2026-11-28T10:00:00.000+0000",
        }]);
        let batch = parse(body, &contact()).unwrap();
        assert!(batch.problems.is_empty(), "{:?}", batch.problems);
        let (row, indexes) = &batch.rows[0];
        assert_eq!(indexes, &[0]);
        assert_eq!(
            row.external_id.as_ref().map(ExternalId::as_str),
            Some("C-1")
        );
        assert_eq!(row.salesforce_id.as_str(), "0035g00000AbCdEAAV");
        assert_eq!(
            Value::Object(row.fields.clone()),
            json!({"External_Id__c": "C-1", "LastName": "Durand"})
        );
    }

    #[test]
    fn each_bad_record_names_its_field_and_the_others_pass() {
        let body = json!([
            {"LastName": "No Id"},
            {"Id": "003-bad", "LastName": "Bad Id"},
            {"attributes": {"type": "Account"}, "Id": "0035g00000AbCdE"},
            {"Id": "0035g00000AbCdF", "Account": {"Name": "Acme"}},
            {"Id": "0035g00000AbCdG", "Email": "a@example.com"},
            {"Id": "0035g00000AbCdG", "Phone": "+33 1 23 45 67 89"},
        ]);
        let batch = parse(body, &contact()).unwrap();
        let fields: Vec<(Option<usize>, &str)> = batch
            .problems
            .iter()
            .map(|p| (p.index, p.field.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                (Some(0), "Id"),
                (Some(1), "Id"),
                (Some(2), "attributes.type"),
                (Some(3), "Account"),
            ]
        );
        assert_eq!(batch.rows.len(), 1);
        assert_eq!(batch.rows[0].1, [4, 5]);
        assert_eq!(batch.rows[0].0.fields.len(), 2);
    }

    #[test]
    fn a_body_that_is_not_a_batch_is_refused_whole() {
        assert_eq!(parse(json!({}), &contact()).unwrap_err().0, "type");
        assert_eq!(parse(json!([]), &contact()).unwrap_err().0, "empty");
    }
}
