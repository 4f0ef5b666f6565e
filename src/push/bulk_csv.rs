//! The CSV of a Bulk API 2.0 job (RFC 4180, LF, comma) and the keys that tie result rows back to
//! staged rows (docs/salesforce.md §5.2, §5.3).

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use crate::objects::ObjectSpec;
use crate::staging::{ClaimedRecord, Operation};

/// Doc §5.2: an empty value is ignored on update; `#N/A` sets the field to null.
const NULL: &str = "#N/A";
/// A deletion job's only column.
pub const ID_COLUMN: &str = "Id";

/// A job's CSV and each record's key, in record order.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkCsv {
    pub body: String,
    pub keys: Vec<String>,
}

/// Builds the CSV: for an upsert, the external id column first and then every field any record
/// has (a record without a field leaves it as it is in Salesforce, as in a collections call);
/// a reference `{"Account": {"External_Id__c": "A-1"}}` becomes the column
/// `Account.External_Id__c`. For a deletion, the Salesforce Ids.
pub fn build(spec: &ObjectSpec, operation: Operation, records: &[ClaimedRecord]) -> BulkCsv {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let mut keys = Vec::with_capacity(records.len());
    // Writing to a Vec cannot fail.
    match operation {
        Operation::Delete => {
            let _ = writer.write_record([ID_COLUMN]);
            for record in records {
                let id = record.salesforce_id.as_ref().map_or("", |id| id.as_str());
                let _ = writer.write_record([id]);
                keys.push(id.to_owned());
            }
        }
        Operation::Upsert => {
            let rows: Vec<Map<String, Value>> = records.iter().map(flatten).collect();
            let mut columns = BTreeSet::new();
            for row in &rows {
                columns.extend(
                    row.keys()
                        .filter(|k| **k != spec.external_id_field)
                        .cloned(),
                );
            }
            let header: Vec<&str> = std::iter::once(spec.external_id_field.as_str())
                .chain(columns.iter().map(String::as_str))
                .collect();
            let _ = writer.write_record(&header);
            for (record, row) in records.iter().zip(&rows) {
                let key = row
                    .get(&spec.external_id_field)
                    .map(cell)
                    .unwrap_or_else(|| record.external_id.to_string());
                let cells = header
                    .iter()
                    .skip(1)
                    .map(|c| row.get(*c).map(cell).unwrap_or_default());
                let _ = writer.write_record(std::iter::once(key.clone()).chain(cells));
                keys.push(key_of(&key));
            }
        }
    }
    let body = writer.into_inner().unwrap_or_default();
    BulkCsv {
        body: String::from_utf8(body).unwrap_or_default(),
        keys,
    }
}

/// The key of `record` in its job's CSV, as [`build`] writes it and [`row_key`] reads it back.
pub fn record_key(spec: &ObjectSpec, operation: Operation, record: &ClaimedRecord) -> String {
    match operation {
        Operation::Delete => record
            .salesforce_id
            .as_ref()
            .map_or_else(String::new, |id| id.as_str().to_owned()),
        Operation::Upsert => key_of(
            &record
                .fields
                .get(&spec.external_id_field)
                .map(cell)
                .unwrap_or_else(|| record.external_id.to_string()),
        ),
    }
}

/// The key that correlates a result row (its uploaded columns) with a record.
pub fn row_key(
    spec: &ObjectSpec,
    operation: Operation,
    sf_id: Option<&str>,
    fields: &HashMap<String, String>,
) -> Option<String> {
    match operation {
        Operation::Upsert => fields.get(&spec.external_id_field).map(|v| key_of(v)),
        Operation::Delete => fields
            .get(ID_COLUMN)
            .map(String::as_str)
            .or(sf_id)
            .filter(|id| !id.is_empty())
            .map(str::to_owned),
    }
}

/// External ids match case-insensitively in Salesforce.
fn key_of(external_id: &str) -> String {
    external_id.to_lowercase()
}

/// One level of references becomes `Relationship.Field` columns.
fn flatten(record: &ClaimedRecord) -> Map<String, Value> {
    let mut row = Map::new();
    for (name, value) in &record.fields {
        match value {
            Value::Object(reference) => {
                for (field, v) in reference {
                    row.insert(format!("{name}.{field}"), v.clone());
                }
            }
            other => {
                row.insert(name.clone(), other.clone());
            }
        }
    }
    row
}

fn cell(value: &Value) -> String {
    match value {
        Value::Null => NULL.into(),
        Value::String(s) if s.is_empty() => NULL.into(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::staging::{ExternalId, SalesforceId};

    fn spec() -> ObjectSpec {
        crate::objects::Catalog::default_set()
            .get("Contact")
            .cloned()
            .unwrap()
    }

    fn record(id: i64, fields: Value, salesforce_id: Option<&str>) -> ClaimedRecord {
        ClaimedRecord {
            id,
            external_id: ExternalId::parse(fields["External_Id__c"].as_str().unwrap_or("X"))
                .unwrap(),
            fields: fields.as_object().cloned().unwrap(),
            version: 1,
            attempts: 1,
            salesforce_id: salesforce_id.map(|id| SalesforceId::parse(id).unwrap()),
        }
    }

    #[test]
    fn upsert_csv_quotes_per_rfc_4180_and_spells_references_and_nulls_as_bulk_wants() {
        let records = [
            record(
                1,
                json!({"External_Id__c": "C-1", "LastName": "O\"Hara, \"Jr\"",
                       "Account": {"External_Id__c": "A-1"}, "Email": null}),
                None,
            ),
            record(
                2,
                json!({"External_Id__c": "c-2", "LastName": "Two\nlines", "Age__c": 42}),
                None,
            ),
        ];
        let csv = build(&spec(), Operation::Upsert, &records);
        assert_eq!(
            csv.body,
            "External_Id__c,Account.External_Id__c,Age__c,Email,LastName\n\
             C-1,A-1,,#N/A,\"O\"\"Hara, \"\"Jr\"\"\"\n\
             c-2,,42,,\"Two\nlines\"\n"
        );
        assert_eq!(csv.keys, ["c-1", "c-2"]);
        let result: HashMap<String, String> =
            [("External_Id__c".to_string(), "C-2".to_string())].into();
        assert_eq!(
            row_key(&spec(), Operation::Upsert, None, &result).as_deref(),
            Some("c-2")
        );
    }

    #[test]
    fn delete_csv_lists_salesforce_ids() {
        let records = [record(
            1,
            json!({"External_Id__c": "C-1"}),
            Some("003000000000001AAA"),
        )];
        let csv = build(&spec(), Operation::Delete, &records);
        assert_eq!(csv.body, "Id\n003000000000001AAA\n");
        assert_eq!(csv.keys, ["003000000000001AAA"]);
        let empty = HashMap::new();
        assert_eq!(
            row_key(
                &spec(),
                Operation::Delete,
                Some("003000000000001AAA"),
                &empty
            )
            .as_deref(),
            Some("003000000000001AAA")
        );
    }
}
