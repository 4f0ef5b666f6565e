//! A finished Bulk job's results, matched to the records by key: row order is not the upload
//! order (salesforce-api.md §5.3).

use std::collections::{HashMap, HashSet};

use super::backoff;
use super::batch::{PushError, Pusher};
use super::bulk::Stop;
use super::bulk_csv;
use super::jobs::JobCounts;
use super::plan::Operation;
use super::records::outcome_of_error;
use super::store::{ClaimedRecord, PushFailure, RecordOutcome};
use crate::objects::ObjectSpec;
use crate::salesforce::{JobInfo, JobState};

impl Pusher {
    /// Reads the result CSVs the job's state calls for and correlates them with the records by
    /// key: row order is not the upload order (§5.3).
    pub(super) async fn job_outcomes(
        &self,
        spec: &ObjectSpec,
        operation: Operation,
        info: &JobInfo,
        ids: &[i64],
        records: &[ClaimedRecord],
        keys: &[String],
    ) -> Result<Result<(Vec<RecordOutcome>, JobCounts), Stop>, PushError> {
        let job_id = info.id.as_str();
        let complete = info.state == JobState::JobComplete;
        let failed_count = info.number_records_failed.unwrap_or(u64::MAX);
        let mut succeeded: HashMap<String, String> = HashMap::new();
        let all_deleted = operation == Operation::Delete
            && complete
            && failed_count == 0
            && info.number_records_processed == Some(records.len() as u64);
        if !all_deleted {
            let rows = match self
                .gated(ids, || self.client.successful_results(job_id))
                .await?
            {
                Ok(Ok(rows)) => rows,
                Ok(Err(e)) => return Ok(Err(Stop::Failed(e))),
                Err(stop) => return Ok(Err(stop)),
            };
            for row in rows {
                if let Some(key) = bulk_csv::row_key(spec, operation, Some(&row.id), &row.fields) {
                    succeeded.insert(key, row.id);
                }
            }
        }
        let mut failed = HashMap::new();
        if failed_count > 0 {
            let rows = match self
                .gated(ids, || self.client.failed_results(job_id))
                .await?
            {
                Ok(Ok(rows)) => rows,
                Ok(Err(e)) => return Ok(Err(Stop::Failed(e))),
                Err(stop) => return Ok(Err(stop)),
            };
            for row in rows {
                if let Some(key) =
                    bulk_csv::row_key(spec, operation, row.id.as_deref(), &row.fields)
                {
                    failed.insert(key, row.error);
                }
            }
        }
        let mut unprocessed = HashSet::new();
        if !complete {
            let rows = match self
                .gated(ids, || self.client.unprocessed_records(job_id))
                .await?
            {
                Ok(Ok(rows)) => rows,
                Ok(Err(e)) => return Ok(Err(Stop::Failed(e))),
                Err(stop) => return Ok(Err(stop)),
            };
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
                        Operation::Upsert => RecordOutcome::Synced {
                            salesforce_id: id.clone(),
                        },
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
        Ok(Ok((outcomes, counts)))
    }
}
