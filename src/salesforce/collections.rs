//! sObject Collections: upsert and delete up to 200 records in one API call (§3).

use reqwest::Method;
use serde::Serialize;
use serde_json::{Map, Value};

use super::client::{Payload, SalesforceClient, api_name};
use super::error::SalesforceError;
use super::types::RecordResult;

/// §3: more than 200 gives `EXCEEDED_ID_LIMIT` for the whole call.
pub const MAX_COLLECTION_RECORDS: usize = 200;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CollectionBody<'a> {
    /// Each record commits or fails on its own; the caller retries the failed ones (§3).
    all_or_none: bool,
    records: &'a [Map<String, Value>],
}

impl SalesforceClient {
    /// `PATCH /composite/sobjects/{object}/{external_id_field}` with `allOrNone: false` (§3).
    ///
    /// Returns one result per record, in input order. A 200 answer with failed records is `Ok`:
    /// look at each [`RecordResult`]. `attributes.type` is set on every record; the external-id
    /// value must be in each record's fields. More than 200 records fail before anything is sent.
    pub async fn upsert_collection(
        &self,
        object: &str,
        external_id_field: &str,
        mut records: Vec<Map<String, Value>>,
    ) -> Result<Vec<RecordResult>, SalesforceError> {
        let object = api_name(object)?;
        let external_id_field = api_name(external_id_field)?;
        check_size(records.len())?;
        if records.is_empty() {
            return Ok(Vec::new());
        }
        // Upsert collections take one type, the one in the URI (§3).
        for record in &mut records {
            let mut attributes = Map::new();
            attributes.insert("type".into(), Value::String(object.to_owned()));
            record.insert("attributes".into(), Value::Object(attributes));
        }
        let payload = Payload::json(&CollectionBody {
            all_or_none: false,
            records: &records,
        })?;
        let path = ["composite", "sobjects", object, external_id_field];
        let answer = self.call(Method::PATCH, &path, &[], payload).await?;
        let results: Vec<RecordResult> = answer.json("collection upsert results")?;
        expect_one_per_input(results, records.len())
    }

    /// `DELETE /composite/sobjects?ids=…&allOrNone=false` (§3). Results follow the order of `ids`.
    pub async fn delete_collection(
        &self,
        ids: &[String],
    ) -> Result<Vec<RecordResult>, SalesforceError> {
        check_size(ids.len())?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Ids go in a comma-separated query value, so a comma inside one would split it.
        if let Some(bad) = ids
            .iter()
            .find(|id| id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            return Err(SalesforceError::InvalidInput(format!(
                "{bad:?} is not a Salesforce record id"
            )));
        }
        let joined = ids.join(",");
        // allOrNone is a query parameter for DELETE only (§3, jsforce PR #1692).
        let query = [("ids", joined.as_str()), ("allOrNone", "false")];
        let answer = self
            .call(
                Method::DELETE,
                &["composite", "sobjects"],
                &query,
                Payload::Empty,
            )
            .await?;
        let results: Vec<RecordResult> = answer.json("collection delete results")?;
        expect_one_per_input(results, ids.len())
    }
}

fn check_size(count: usize) -> Result<(), SalesforceError> {
    if count > MAX_COLLECTION_RECORDS {
        return Err(SalesforceError::TooManyRecords {
            count,
            max: MAX_COLLECTION_RECORDS,
        });
    }
    Ok(())
}

/// Results are matched to inputs by position (§3), so a short or long answer can't be trusted.
fn expect_one_per_input(
    results: Vec<RecordResult>,
    sent: usize,
) -> Result<Vec<RecordResult>, SalesforceError> {
    if results.len() != sent {
        return Err(SalesforceError::Protocol(format!(
            "{} results for {sent} records",
            results.len()
        )));
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_allornone_false_and_records() {
        let mut record = Map::new();
        record.insert("Name".into(), Value::String("x".into()));
        let body = serde_json::to_value(CollectionBody {
            all_or_none: false,
            records: &[record],
        })
        .unwrap();
        assert_eq!(
            body,
            serde_json::json!({"allOrNone": false, "records": [{"Name": "x"}]})
        );
    }

    #[test]
    fn size_is_checked_before_sending() {
        assert!(check_size(200).is_ok());
        assert!(matches!(
            check_size(201),
            Err(SalesforceError::TooManyRecords {
                count: 201,
                max: 200
            })
        ));
        assert!(expect_one_per_input(Vec::new(), 1).is_err());
    }
}
