//! A finished Bulk job's results, matched to the records by key: row order is not the upload
//! order (docs/salesforce.md §5.3).

use std::collections::{HashMap, HashSet};

use super::backoff;
use super::bulk::{Halt, JobRun};
use super::bulk_csv;
use super::jobs::JobCounts;
use super::results::{outcome_of_error, synced};
use crate::objects::ObjectSpec;
use crate::salesforce::{JobInfo, JobState};
use crate::staging::{ClaimedRecord, Operation, PushFailure, RecordOutcome};

/// Reads the result CSVs the job's state calls for and correlates them with the records by key:
/// row order is not the upload order (§5.3). `keys[i]` is the key of `records[i]` in the upload.
pub(super) async fn outcomes(
    run: &JobRun<'_>,
    spec: &ObjectSpec,
    operation: Operation,
    info: &JobInfo,
    records: &[ClaimedRecord],
    keys: &[String],
) -> Result<(Vec<RecordOutcome>, JobCounts), Halt> {
    let client = run.client();
    let job_id = run.job_id;
    let complete = info.state == JobState::JobComplete;
    let failed_count = info.number_records_failed.unwrap_or(u64::MAX);
    let mut succeeded: HashMap<String, String> = HashMap::new();
    let all_deleted = operation == Operation::Delete
        && complete
        && failed_count == 0
        && info.number_records_processed == Some(records.len() as u64);
    if !all_deleted {
        let rows = run.gated(|| client.successful_results(job_id)).await?;
        for row in rows {
            if let Some(key) = bulk_csv::row_key(spec, operation, Some(&row.id), &row.fields) {
                succeeded.insert(key, row.id);
            }
        }
    }
    let mut failed = HashMap::new();
    if failed_count > 0 {
        let rows = run.gated(|| client.failed_results(job_id)).await?;
        for row in rows {
            if let Some(key) = bulk_csv::row_key(spec, operation, row.id.as_deref(), &row.fields) {
                failed.insert(key, row.error);
            }
        }
    }
    let mut unprocessed = HashSet::new();
    if !complete {
        let rows = run.gated(|| client.unprocessed_records(job_id)).await?;
        unprocessed.extend(
            rows.iter()
                .filter_map(|fields| bulk_csv::row_key(spec, operation, None, fields)),
        );
    }
    let mut counts = JobCounts::default();
    let outcomes = records
        .iter()
        .zip(keys)
        .map(|(record, key)| {
            if all_deleted {
                counts.succeeded += 1;
                return RecordOutcome::Deleted;
            }
            if let Some(id) = succeeded.get(key) {
                counts.succeeded += 1;
                return match operation {
                    Operation::Upsert => synced(record, Some(id)),
                    Operation::Delete => RecordOutcome::Deleted,
                };
            }
            if let Some(error) = failed.get(key) {
                counts.failed += 1;
                return outcome_of_error(record, Some(error), error.is_transient(), operation);
            }
            counts.unprocessed += 1;
            let message = if unprocessed.contains(key) {
                format!("not processed: the Bulk job ended {:?}", info.state)
            } else {
                "missing from the Bulk job's results".to_owned()
            };
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
