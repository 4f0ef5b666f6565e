//! sObject Collections: up to 200 upserts by external id, or 200 deletions by Salesforce Id, in
//! one API call (docs/salesforce.md §3). Each record's result becomes its outcome.

use tracing::Instrument;

use super::results::outcome_of;
use crate::objects::ObjectSpec;
use crate::salesforce::{RecordResult, SalesforceClient, SalesforceError};
use crate::staging::{ClaimedRecord, Operation, RecordOutcome};

/// Upserts `claimed` by the object's external id field, in one call.
pub async fn upsert(
    client: &SalesforceClient,
    spec: &ObjectSpec,
    claimed: &[ClaimedRecord],
    log_payloads: bool,
) -> Result<Vec<RecordOutcome>, SalesforceError> {
    let span = tracing::info_span!("push_batch", object = %spec.name, records = claimed.len(), batch_id = %uuid::Uuid::new_v4().simple());
    let payload = log_payloads
        .then(|| serde_json::to_string(&claimed.iter().map(|r| &r.fields).collect::<Vec<_>>()))
        .and_then(Result::ok);
    span.in_scope(|| tracing::debug!(external_ids = %crate::telemetry::id_list(claimed.iter().map(|r| r.external_id.as_str())), payload = payload.as_deref(), "batch claimed"));
    let records = claimed
        .iter()
        .map(|r| with_key(&spec.external_id_field, r))
        .collect();
    let results = client
        .upsert_collection(spec.name.as_str(), &spec.external_id_field, records)
        .instrument(span)
        .await?;
    outcomes(claimed, &results, Operation::Upsert)
}

/// The record's fields, with its external id field set from the staged key when they don't hold it
/// (a row written with SQL may leave it out; a Bulk job's CSV does the same).
fn with_key(field: &str, record: &ClaimedRecord) -> serde_json::Map<String, serde_json::Value> {
    let mut fields = record.fields.clone();
    if !fields.contains_key(field) {
        let key = serde_json::Value::String(record.external_id.to_string());
        fields.insert(field.to_owned(), key);
    }
    fields
}

/// Deletes `claimed` (each with its Salesforce Id) in one call.
pub async fn delete(
    client: &SalesforceClient,
    spec: &ObjectSpec,
    claimed: &[ClaimedRecord],
) -> Result<Vec<RecordOutcome>, SalesforceError> {
    let ids: Vec<String> = claimed
        .iter()
        .filter_map(|r| r.salesforce_id.as_ref().map(ToString::to_string))
        .collect();
    let span = tracing::info_span!("delete_batch", object = %spec.name, records = ids.len());
    let results = client.delete_collection(&ids).instrument(span).await?;
    outcomes(claimed, &results, Operation::Delete)
}

/// One outcome per record; Salesforce answers one result per record, in order (§3).
fn outcomes(
    claimed: &[ClaimedRecord],
    results: &[RecordResult],
    operation: Operation,
) -> Result<Vec<RecordOutcome>, SalesforceError> {
    if results.len() != claimed.len() {
        return Err(SalesforceError::Protocol(format!(
            "{} results for {} records",
            results.len(),
            claimed.len()
        )));
    }
    Ok(claimed
        .iter()
        .zip(results)
        .map(|(record, result)| outcome_of(record, result, operation))
        .collect())
}
