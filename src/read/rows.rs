//! Rows Salesforce answered (SOQL JSON or Bulk CSV) as staging's [`IncomingRow`]s, with their
//! `SystemModstamp`s, split into live records and deletions.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::config::reads::ReadObject;
use crate::salesforce::{SObjectDescribe, parse_datetime};
use crate::staging::{ExternalId, IncomingRow, ReadStamp, SalesforceId};

/// One page's rows, ready to store.
#[derive(Debug, Default)]
pub struct Batch {
    pub live: Vec<IncomingRow>,
    pub live_stamps: Vec<DateTime<Utc>>,
    pub deleted: Vec<SalesforceId>,
    pub deleted_stamps: Vec<DateTime<Utc>>,
    /// The newest `SystemModstamp` of the page.
    pub newest: Option<DateTime<Utc>>,
    /// Rows without a usable Id or `SystemModstamp` (never from Salesforce itself).
    pub unreadable: usize,
}

impl Batch {
    /// Adds one row: `values` by field name, `IsDeleted` included when read.
    fn push(&mut self, read: &ReadObject, mut values: Map<String, Value>) {
        let id = values.remove("Id");
        let stamp = values.remove("SystemModstamp");
        let deleted = values.remove("IsDeleted");
        let id = id.as_ref().and_then(Value::as_str).map(SalesforceId::parse);
        let stamp = stamp
            .as_ref()
            .and_then(Value::as_str)
            .and_then(parse_datetime);
        let (Some(Ok(id)), Some(stamp)) = (id, stamp) else {
            self.unreadable += 1;
            return;
        };
        self.newest = self.newest.max(Some(stamp));
        if deleted.as_ref().is_some_and(is_true) {
            self.deleted.push(id);
            self.deleted_stamps.push(stamp);
            return;
        }
        let external_id = values
            .get(&read.external_id_field)
            .and_then(Value::as_str)
            .and_then(|s| ExternalId::parse(s).ok());
        values.retain(|k, _| read.fields.contains(k));
        self.live.push(IncomingRow {
            external_id,
            salesforce_id: id,
            fields: values,
        });
        self.live_stamps.push(stamp);
    }

    /// SOQL records (`attributes` already dropped).
    pub fn from_query(read: &ReadObject, records: Vec<Map<String, Value>>) -> Self {
        let mut batch = Self::default();
        for record in records {
            batch.push(read, record);
        }
        batch
    }

    /// Bulk CSV rows: typed by the describe when known (CSV can't tell null from empty: both
    /// are null here, as SOQL answers them).
    pub fn from_csv(
        read: &ReadObject,
        columns: &[String],
        rows: &[Vec<String>],
        describe: Option<&SObjectDescribe>,
    ) -> Self {
        let mut batch = Self::default();
        for row in rows {
            let values = columns
                .iter()
                .zip(row)
                .map(|(column, raw)| (column.clone(), typed(describe, column, raw)))
                .collect();
            batch.push(read, values);
        }
        batch
    }

    pub fn stamp(started_at: DateTime<Utc>, stamps: &[DateTime<Utc>]) -> ReadStamp {
        ReadStamp {
            started_at: Some(started_at),
            modstamps: stamps.to_vec(),
        }
    }
}

fn is_true(v: &Value) -> bool {
    v.as_bool() == Some(true) || v.as_str() == Some("true")
}

/// A CSV cell as the JSON value SOQL would have answered.
fn typed(describe: Option<&SObjectDescribe>, column: &str, raw: &str) -> Value {
    if raw.is_empty() {
        return Value::Null;
    }
    let kind = describe
        .and_then(|d| d.fields.iter().find(|f| f.name == column))
        .map(|f| f.field_type.as_str());
    let number = || {
        raw.parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
    };
    match kind {
        Some("boolean") => Value::Bool(raw == "true"),
        Some("int") => raw
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(raw.to_owned())),
        Some("double" | "currency" | "percent") => number()
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(raw.to_owned())),
        _ if column == "IsDeleted" => Value::Bool(raw == "true"),
        _ => Value::String(raw.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::staging::ObjectName;

    fn read() -> ReadObject {
        ReadObject {
            object: ObjectName::parse("Contact").expect("name"),
            external_id_field: "External_Id__c".into(),
            fields: vec!["External_Id__c".into(), "LastName".into()],
            every: Duration::from_secs(5),
        }
    }

    #[test]
    fn rows_split_into_live_and_deleted_with_their_stamps() {
        let records = [
            json!({"Id": "003000000000001AAA", "SystemModstamp": "2026-12-05T10:00:00.000+0000",
                   "IsDeleted": false, "External_Id__c": "C-1", "LastName": "Durand", "Email": "x@y.z"}),
            json!({"Id": "003000000000002AAA", "SystemModstamp": "2026-12-05T10:00:05.000+0000",
                   "IsDeleted": true, "External_Id__c": "C-2", "LastName": "Gone"}),
            json!({"Id": "003000000000003AAA", "SystemModstamp": "2026-12-05T10:00:01.000+0000",
                   "IsDeleted": false, "External_Id__c": null, "LastName": "No key"}),
            json!({"Id": "nope", "SystemModstamp": "2026-12-05T10:00:01.000+0000"}),
        ];
        let records = records
            .into_iter()
            .map(|r| r.as_object().cloned().expect("object"))
            .collect();
        let batch = Batch::from_query(&read(), records);
        assert_eq!(batch.live.len(), 2);
        assert_eq!(
            batch.live[0].fields.keys().collect::<Vec<_>>(),
            ["External_Id__c", "LastName"]
        );
        assert_eq!(
            batch.live[0].external_id.as_ref().map(|e| e.as_str()),
            Some("C-1")
        );
        assert!(batch.live[1].external_id.is_none());
        assert_eq!(batch.deleted.len(), 1);
        assert_eq!(batch.unreadable, 1);
        assert_eq!(batch.newest, parse_datetime("2026-12-05T10:00:05.000+0000"));
    }

    #[test]
    fn csv_cells_come_back_typed_and_empty_as_null() {
        let columns: Vec<String> = ["Id", "SystemModstamp", "External_Id__c", "LastName"]
            .map(String::from)
            .to_vec();
        let rows = vec![
            ["003000000000001AAA", "2026-12-05T10:00:00.000Z", "C-1", ""]
                .map(String::from)
                .to_vec(),
        ];
        let batch = Batch::from_csv(&read(), &columns, &rows, None);
        assert_eq!(batch.live[0].fields["LastName"], Value::Null);
        assert_eq!(batch.live[0].fields["External_Id__c"], "C-1");
    }
}
