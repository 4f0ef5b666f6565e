//! A Bulk job's records while Salesforce processes them (docs/salesforce.md §5.1): polling a job
//! takes seconds to minutes, and two jobs may run at once (see [`super::lane`]).
//!
//! Reading the results needs only each record's key and attempts; the fields are needed again
//! only when the outcomes are written (the fields Salesforce now has are stored as the row's
//! synced fields). Parsed, 50,000 records' fields take about 38 MB (a map node per record);
//! as the JSON text they were read from, about a fifth of that. So they wait as text.

use serde_json::{Map, Value};

use crate::staging::ClaimedRecord;

/// Records whose fields are set aside as JSON text; [`restore`](Self::restore) gives them back
/// as they were.
pub(super) struct ParkedRecords {
    /// The records, their fields empty.
    records: Vec<ClaimedRecord>,
    /// `fields[i]` is `records[i]`'s fields, serialized.
    fields: Vec<Box<str>>,
}

impl ParkedRecords {
    pub(super) fn park(mut records: Vec<ClaimedRecord>) -> Self {
        let fields = records
            .iter_mut()
            .map(|r| {
                let fields = std::mem::take(&mut r.fields);
                // A map of JSON values always serializes.
                serde_json::to_string(&fields)
                    .unwrap_or_default()
                    .into_boxed_str()
            })
            .collect();
        Self { records, fields }
    }

    /// The records as results correlation needs them: without their fields.
    pub(super) fn records(&self) -> &[ClaimedRecord] {
        &self.records
    }

    pub(super) fn len(&self) -> usize {
        self.records.len()
    }

    /// The records with their fields back, parsed from the text serde_json wrote (a round trip
    /// that gives the same values back).
    pub(super) fn restore(self) -> Vec<ClaimedRecord> {
        self.records
            .into_iter()
            .zip(self.fields)
            .map(|(mut record, text)| {
                record.fields = serde_json::from_str::<Map<String, Value>>(&text)
                    .unwrap_or_else(|e| {
                        tracing::error!(record = record.id, error = %e, "a parked record's fields did not parse back");
                        Map::new()
                    });
                record
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::staging::{ExternalId, SalesforceId};

    #[test]
    fn parked_records_come_back_with_the_same_fields() {
        let fields = json!({
            "External_Id__c": "C-1", "LastName": "O\"Hara \u{e9}\n", "Email": null,
            "Age__c": 42, "Score__c": 0.1, "Big__c": 18446744073709551615u64, "Neg__c": -7,
            "Active__c": true, "Account": {"External_Id__c": "A-1"}, "Tags__c": ["a", "b"],
        });
        let record = ClaimedRecord {
            id: 7,
            external_id: ExternalId::parse("C-1").unwrap(),
            fields: fields.as_object().cloned().unwrap(),
            version: 3,
            attempts: 2,
            salesforce_id: Some(SalesforceId::parse("003000000000001AAA").unwrap()),
        };
        let parked = ParkedRecords::park(vec![record.clone()]);
        assert!(parked.records()[0].fields.is_empty());
        assert_eq!(parked.records()[0].attempts, 2);
        let restored = parked.restore();
        assert_eq!(restored.len(), 1);
        assert_eq!(Value::Object(restored[0].fields.clone()), fields);
        assert_eq!(
            (restored[0].id, restored[0].version),
            (record.id, record.version)
        );
    }
}
