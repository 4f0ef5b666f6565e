//! Turning Salesforce's answers into per-record outcomes, and keeping one record out of a call
//! twice.

use std::collections::HashSet;

use super::backoff;
use crate::salesforce::{RecordError, RecordResult, SalesforceError};
use crate::staging::{ClaimedRecord, Operation, PushFailure, RecordOutcome, SalesforceId};

/// Splits off rows that would repeat a key already in the batch: external ids match
/// case-insensitively in Salesforce, and two rows with one key in one request both fail
/// (docs/salesforce.md §3, "Duplicates in collection/bulk upserts"). For deletions the key is the
/// Salesforce Id. The rows set aside go in a later batch.
pub fn split_duplicates(
    claimed: Vec<ClaimedRecord>,
    operation: Operation,
) -> (Vec<ClaimedRecord>, Vec<ClaimedRecord>) {
    let mut seen = HashSet::with_capacity(claimed.len());
    claimed.into_iter().partition(|r| {
        let key = match (operation, &r.salesforce_id) {
            (Operation::Delete, Some(id)) => id.as_str().to_ascii_lowercase(),
            _ => format!("ext:{}", r.external_id.as_str().to_lowercase()),
        };
        seen.insert(key)
    })
}

/// The outcome of one record from its collection result.
pub fn outcome_of(
    record: &ClaimedRecord,
    result: &RecordResult,
    operation: Operation,
) -> RecordOutcome {
    if result.success {
        return match operation {
            Operation::Delete => RecordOutcome::Deleted,
            Operation::Upsert => synced(record, result.id.as_deref()),
        };
    }
    let error = result
        .errors
        .iter()
        .find(|e| !e.is_collateral())
        .or(result.errors.first());
    outcome_of_error(record, error, result.is_retryable_failure(), operation)
}

/// A record Salesforce accepted, with the Id it answered. An answer without a valid Id is
/// Salesforce's protocol broken: the record is tried again rather than trusted.
pub fn synced(record: &ClaimedRecord, id: Option<&str>) -> RecordOutcome {
    match id.map(SalesforceId::parse) {
        Some(Ok(salesforce_id)) => RecordOutcome::Synced { salesforce_id },
        _ => RecordOutcome::Retry {
            delay: backoff::delay(record.attempts),
            error: PushFailure {
                code: "SLUICE_PROTOCOL".into(),
                message: format!("Salesforce reported success without a valid Id ({id:?})"),
                fields: Vec::new(),
            },
        },
    }
}

/// The outcome of a record Salesforce refused with `error` (None: it gave no reason).
pub fn outcome_of_error(
    record: &ClaimedRecord,
    error: Option<&RecordError>,
    transient: bool,
    operation: Operation,
) -> RecordOutcome {
    if operation == Operation::Delete && error.is_some_and(already_gone) {
        return RecordOutcome::Deleted;
    }
    let failure = error
        .map(|e| PushFailure {
            code: e.status_code.clone(),
            message: e.message.clone(),
            fields: e.fields.clone(),
        })
        .unwrap_or_else(|| PushFailure {
            code: "UNKNOWN".into(),
            message: "Salesforce reported a failure without an error".into(),
            fields: Vec::new(),
        });
    if transient {
        RecordOutcome::Retry {
            delay: backoff::delay(record.attempts),
            error: failure,
        }
    } else {
        RecordOutcome::Failed(failure)
    }
}

/// A deletion whose record is no longer there has done its job: deleted before (by a cascade, or
/// by someone in Salesforce) or never there (docs/salesforce.md §0: `ENTITY_IS_DELETED`, `NOT_FOUND`).
fn already_gone(error: &RecordError) -> bool {
    matches!(
        error.status_code.as_str(),
        "ENTITY_IS_DELETED" | "NOT_FOUND"
    )
}

/// The error a whole request failed with, as it is kept on each of its records.
pub fn failure_of(error: &SalesforceError) -> PushFailure {
    let (code, message) = match error {
        SalesforceError::Unavailable { code, message, .. }
        | SalesforceError::Rejected { code, message, .. } => (code.clone(), message.clone()),
        SalesforceError::LimitExceeded { message } => {
            ("REQUEST_LIMIT_EXCEEDED".into(), message.clone())
        }
        SalesforceError::Network(_) => ("NETWORK_ERROR".into(), error.to_string()),
        other => ("SLUICE_ERROR".into(), other.to_string()),
    };
    PushFailure {
        code,
        message,
        fields: Vec::new(),
    }
}

/// Whether Salesforce may have written (or may still write) the records of a call that failed
/// this way: the request was sent but no answer came (a timeout, a connection lost after
/// sending), Salesforce's edge gave up waiting for it (502, 504), or the answer could not be read
/// (docs/salesforce.md §7.2: "the write may have been applied"). A connection never made sent
/// nothing; any other answer says the request was not applied.
pub fn may_have_been_applied(error: &SalesforceError) -> bool {
    match error {
        SalesforceError::Network(e) => !e.is_connect(),
        SalesforceError::Unavailable { status, .. } => matches!(status, 502 | 504),
        SalesforceError::Protocol(_) => true,
        _ => false,
    }
}

/// Auth and session failures are about Sluice's credentials, not the data.
pub fn is_configuration_problem(error: &SalesforceError) -> bool {
    matches!(
        error,
        SalesforceError::Auth { .. }
            | SalesforceError::SessionInvalid { .. }
            | SalesforceError::InvalidKey(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staging::ExternalId;
    use serde_json::Map;

    fn row(id: i64, external_id: &str, salesforce_id: Option<&str>) -> ClaimedRecord {
        ClaimedRecord {
            id,
            external_id: ExternalId::parse(external_id).unwrap(),
            fields: Map::new(),
            version: 1,
            attempts: 1,
            salesforce_id: salesforce_id.map(|id| SalesforceId::parse(id).unwrap()),
        }
    }

    #[test]
    fn one_key_never_goes_twice_in_one_call() {
        let claimed = vec![
            row(1, "A-1", None),
            row(2, "a-1", None),
            row(3, "A-2", None),
        ];
        let (batch, later) = split_duplicates(claimed, Operation::Upsert);
        assert_eq!(batch.iter().map(|r| r.id).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(later.iter().map(|r| r.id).collect::<Vec<_>>(), [2]);

        let claimed = vec![
            row(1, "A-1", Some("001000000000001AAA")),
            row(2, "A-2", Some("001000000000001AAA")),
            row(3, "A-3", None),
        ];
        let (batch, later) = split_duplicates(claimed, Operation::Delete);
        assert_eq!(batch.len(), 2);
        assert_eq!(later[0].id, 2);
    }

    #[test]
    fn a_deletion_of_a_record_already_gone_counts_as_done() {
        let error = RecordError::from_bulk_error("ENTITY_IS_DELETED:entity is deleted:--");
        let outcome = outcome_of_error(&row(1, "A", None), Some(&error), false, Operation::Delete);
        assert!(matches!(outcome, RecordOutcome::Deleted));
        let outcome = outcome_of_error(&row(1, "A", None), Some(&error), false, Operation::Upsert);
        assert!(matches!(outcome, RecordOutcome::Failed(f) if f.code == "ENTITY_IS_DELETED"));
    }
}
