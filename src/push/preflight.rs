//! Rows written straight into `staging_records` with SQL never went through ingest's checks.
//! Before an upsert is sent, each record is checked against Salesforce's describe as ingest
//! would: one that Salesforce would refuse for a reason the describe shows fails here, with the
//! code Salesforce would have answered, and costs no API call.

use crate::describe::Describes;
use crate::normalize::validate_record;
use crate::objects::ObjectSpec;
use crate::staging::{ClaimedRecord, PushFailure, RecordOutcome};

/// Splits `claimed` into the records fit to send and the refused ones, with their outcome.
pub fn check(
    describes: &Describes,
    spec: &ObjectSpec,
    claimed: Vec<ClaimedRecord>,
) -> (Vec<ClaimedRecord>, Vec<(ClaimedRecord, RecordOutcome)>) {
    let Some(describe) = describes.get(spec.name.as_str()) else {
        return (claimed, Vec::new());
    };
    let mut fit = Vec::with_capacity(claimed.len());
    let mut refused = Vec::new();
    for record in claimed {
        // Without a Salesforce Id the upsert may create the record: required fields apply.
        let issues = validate_record(&describe, &record.fields, record.salesforce_id.is_none());
        let Some(first) = issues.first() else {
            fit.push(record);
            continue;
        };
        let failure = PushFailure {
            code: first
                .salesforce_code
                .clone()
                .unwrap_or_else(|| "INVALID_FIELD".to_owned()),
            message: issues
                .iter()
                .map(|i| format!("{}: {}", i.field, i.message))
                .collect::<Vec<_>>()
                .join("; "),
            fields: issues.iter().map(|i| i.field.clone()).collect(),
        };
        refused.push((record, RecordOutcome::Failed(failure)));
    }
    (fit, refused)
}
