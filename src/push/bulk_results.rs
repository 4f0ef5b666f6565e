//! A finished Bulk job's results, matched to the records by key: row order is not the upload
//! order (docs/salesforce.md §5.3).
//!
//! Each result row is matched as it is read and only its outcome kept: a job's result CSVs,
//! as large as its upload, are never held.

use super::backoff;
use super::bulk::{Halt, JobRun};
use super::bulk_csv;
use super::jobs::JobCounts;
use super::results::{outcome_of_error, synced};
use crate::objects::ObjectSpec;
use crate::salesforce::{CsvRow, FailedRow, JobInfo, JobState, SuccessfulRow};
use crate::staging::{ClaimedRecord, Operation, PushFailure, RecordOutcome};

/// What the results said of one record.
#[derive(Clone)]
enum Found {
    Nothing,
    /// In `unprocessedrecords`.
    Unprocessed,
    Succeeded(RecordOutcome),
    Failed(RecordOutcome),
}

/// Reads the result CSVs the job's state calls for and correlates them with the records by
/// their keys in `index` (built from the records as uploaded): row order is not the upload order
/// (§5.3).
pub(super) async fn outcomes(
    run: &JobRun<'_>,
    spec: &ObjectSpec,
    operation: Operation,
    info: &JobInfo,
    records: &[ClaimedRecord],
    index: &KeyIndex,
) -> Result<(Vec<RecordOutcome>, JobCounts), Halt> {
    let client = run.client();
    let job_id = run.job_id;
    let complete = info.state == JobState::JobComplete;
    let failed_count = info.number_records_failed.unwrap_or(u64::MAX);
    let all_deleted = operation == Operation::Delete
        && complete
        && failed_count == 0
        && info.number_records_processed == Some(records.len() as u64);
    let mut found = vec![Found::Nothing; records.len()];
    if !all_deleted {
        let on_row = |row: SuccessfulRow<'_>| {
            let key = bulk_csv::row_key(spec, operation, Some(row.id), &row.fields);
            for i in index.find(key.as_deref()) {
                found[i] = Found::Succeeded(match operation {
                    Operation::Upsert => synced(&records[i], Some(row.id)),
                    Operation::Delete => RecordOutcome::Deleted,
                });
            }
        };
        run.gated(|| client.successful_results(job_id, on_row))
            .await?;
    }
    if failed_count > 0 {
        let on_row = |row: FailedRow<'_>| {
            let key = bulk_csv::row_key(spec, operation, row.id, &row.fields);
            for i in index.find(key.as_deref()) {
                if !matches!(found[i], Found::Succeeded(_)) {
                    let transient = row.error.is_transient();
                    let outcome =
                        outcome_of_error(&records[i], Some(&row.error), transient, operation);
                    found[i] = Found::Failed(outcome);
                }
            }
        };
        run.gated(|| client.failed_results(job_id, on_row)).await?;
    }
    if !complete {
        let on_row = |fields: CsvRow<'_>| {
            let key = bulk_csv::row_key(spec, operation, None, &fields);
            for i in index.find(key.as_deref()) {
                if matches!(found[i], Found::Nothing) {
                    found[i] = Found::Unprocessed;
                }
            }
        };
        run.gated(|| client.unprocessed_records(job_id, on_row))
            .await?;
    }
    let mut counts = JobCounts::default();
    let outcomes = records
        .iter()
        .zip(found)
        .map(|(record, found)| {
            if all_deleted {
                counts.succeeded += 1;
                return RecordOutcome::Deleted;
            }
            let message = match found {
                Found::Succeeded(outcome) => {
                    counts.succeeded += 1;
                    return outcome;
                }
                Found::Failed(outcome) => {
                    counts.failed += 1;
                    return outcome;
                }
                Found::Unprocessed => format!("not processed: the Bulk job ended {:?}", info.state),
                Found::Nothing => "missing from the Bulk job's results".to_owned(),
            };
            counts.unprocessed += 1;
            RecordOutcome::Retry {
                delay: backoff::delay(record.attempts),
                error: PushFailure {
                    code: "BULK_UNPROCESSED".into(),
                    message,
                    fields: Vec::new(),
                },
            }
        })
        .collect();
    Ok((outcomes, counts))
}

/// The records' keys in the job's CSV, sorted, to find a result row's records by its key
/// (a job's keys are unique, but nothing here depends on it).
pub(super) struct KeyIndex {
    keys: Vec<(String, usize)>,
}

impl KeyIndex {
    pub(super) fn new(spec: &ObjectSpec, operation: Operation, records: &[ClaimedRecord]) -> Self {
        let mut keys: Vec<(String, usize)> = records
            .iter()
            .enumerate()
            .map(|(i, r)| (bulk_csv::record_key(spec, operation, r), i))
            .collect();
        keys.sort_unstable();
        Self { keys }
    }

    /// The records whose key is `key` (none for a row without one).
    fn find(&self, key: Option<&str>) -> impl Iterator<Item = usize> + '_ {
        let (from, to) = match key {
            Some(key) => (
                self.keys.partition_point(|(k, _)| k.as_str() < key),
                self.keys.partition_point(|(k, _)| k.as_str() <= key),
            ),
            None => (0, 0),
        };
        self.keys[from..to].iter().map(|(_, i)| *i)
    }
}
