//! Bulk API 2.0 ingest jobs (§5): create → upload once → close → poll → read results.
//!
//! Polling cadence is the caller's: each poll is an API call (§5.4). Uploads are written while
//! they are sent ([`CsvUpload`]) and results read row by row as they arrive ([`CsvRows`]): a
//! job of 50,000 records is never held whole as CSV on either side.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::bulk_upload::CsvUpload;
use super::client::{Payload, SalesforceClient, api_name};
use super::csv_rows::{CsvRow, CsvRows};
use super::error::SalesforceError;
use super::types::RecordError;

/// §5.4: 150 MB per job after base64 (+~50%), so at most 100 MB of raw CSV.
pub const MAX_UPLOAD_BYTES: usize = 100 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BulkOperation {
    Insert,
    Update,
    Upsert,
    Delete,
    HardDelete,
}

/// Job states (§5.1). `Unknown` keeps a new state from breaking the poll loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum JobState {
    Open,
    UploadComplete,
    InProgress,
    JobComplete,
    Failed,
    Aborted,
    #[serde(other)]
    Unknown,
}

impl JobState {
    /// `JobComplete` doesn't mean every row succeeded: check `number_records_failed` (§12 item 8).
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::JobComplete | Self::Failed | Self::Aborted)
    }
}

/// `GET /jobs/ingest/{id}` (§5.1). Optional fields may be missing from the create/close answers.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobInfo {
    pub id: String,
    pub state: JobState,
    #[serde(default)]
    pub object: Option<String>,
    #[serde(default)]
    pub operation: Option<BulkOperation>,
    #[serde(default)]
    pub external_id_field_name: Option<String>,
    #[serde(default)]
    pub number_records_processed: Option<u64>,
    #[serde(default)]
    pub number_records_failed: Option<u64>,
    /// Set on `Failed` jobs.
    #[serde(default)]
    pub error_message: Option<String>,
    #[serde(default)]
    pub created_date: Option<String>,
    #[serde(default)]
    pub retries: Option<u64>,
    #[serde(default)]
    pub total_processing_time: Option<u64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateJob<'a> {
    object: &'a str,
    operation: BulkOperation,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id_field_name: Option<&'a str>,
    content_type: &'static str,
    line_ending: &'static str,
    column_delimiter: &'static str,
}

#[derive(Serialize)]
struct SetState {
    state: &'static str,
}

/// A row of `successfulResults` (§5.3). Row order is not the upload order: correlate by key.
#[derive(Clone, Copy)]
pub struct SuccessfulRow<'a> {
    pub id: &'a str,
    pub created: bool,
    /// The uploaded columns, by header name (`sf__` columns too).
    pub fields: CsvRow<'a>,
}

/// A row of `failedResults` (§5.3). `id` is `None` for failed inserts.
#[derive(Clone)]
pub struct FailedRow<'a> {
    pub id: Option<&'a str>,
    pub error: RecordError,
    pub fields: CsvRow<'a>,
}

impl SalesforceClient {
    /// `POST /jobs/ingest` with CSV, LF, COMMA. `external_id_field` is required for upserts.
    pub async fn create_ingest_job(
        &self,
        object: &str,
        operation: BulkOperation,
        external_id_field: Option<&str>,
    ) -> Result<JobInfo, SalesforceError> {
        let object = api_name(object)?;
        let external_id_field = external_id_field.map(api_name).transpose()?;
        if operation == BulkOperation::Upsert && external_id_field.is_none() {
            return Err(SalesforceError::InvalidInput(
                "a bulk upsert needs an external id field".into(),
            ));
        }
        let body = CreateJob {
            object,
            operation,
            external_id_field_name: external_id_field,
            content_type: "CSV",
            line_ending: "LF",
            column_delimiter: "COMMA",
        };
        let answer = self
            .call(
                Method::POST,
                &["jobs", "ingest"],
                &[],
                Payload::json(&body)?,
            )
            .await?;
        answer.json("create job")
    }

    /// `PUT /jobs/ingest/{id}/batches` with the whole CSV (LF line endings), in one request
    /// with its `Content-Length`, written as it is sent if it is [`CsvUpload::streamed`].
    /// Upload once per job (§5.1).
    pub async fn upload_job_data(
        &self,
        job_id: &str,
        csv: impl Into<CsvUpload>,
    ) -> Result<(), SalesforceError> {
        let job_id = api_name(job_id)?;
        let csv = csv.into();
        if csv.len() > MAX_UPLOAD_BYTES as u64 {
            return Err(SalesforceError::InvalidInput(format!(
                "{} bytes of CSV exceed the {MAX_UPLOAD_BYTES}-byte job limit; split into several jobs",
                csv.len()
            )));
        }
        let path = ["jobs", "ingest", job_id, "batches"];
        self.call(Method::PUT, &path, &[], Payload::Csv(csv))
            .await?;
        Ok(())
    }

    /// `PATCH /jobs/ingest/{id}` `{"state":"UploadComplete"}`: without it processing never starts.
    pub async fn close_job(&self, job_id: &str) -> Result<JobInfo, SalesforceError> {
        self.set_job_state(job_id, "UploadComplete").await
    }

    /// `PATCH /jobs/ingest/{id}` `{"state":"Aborted"}`.
    pub async fn abort_job(&self, job_id: &str) -> Result<JobInfo, SalesforceError> {
        self.set_job_state(job_id, "Aborted").await
    }

    /// `GET /jobs/ingest/{id}`.
    pub async fn job_info(&self, job_id: &str) -> Result<JobInfo, SalesforceError> {
        let job_id = api_name(job_id)?;
        let answer = self
            .call(
                Method::GET,
                &["jobs", "ingest", job_id],
                &[],
                Payload::Empty,
            )
            .await?;
        answer.json("job info")
    }

    /// `DELETE /jobs/ingest/{id}`: only for terminal or `UploadComplete` jobs (§5.1).
    pub async fn delete_job(&self, job_id: &str) -> Result<(), SalesforceError> {
        let job_id = api_name(job_id)?;
        self.call(
            Method::DELETE,
            &["jobs", "ingest", job_id],
            &[],
            Payload::Empty,
        )
        .await?;
        Ok(())
    }

    /// `GET …/successfulResults/` (camelCase, §5.3): `each` row as it arrives; the number of
    /// rows. A job's results are as large as its upload: they are never held whole.
    pub async fn successful_results(
        &self,
        job_id: &str,
        mut each: impl FnMut(SuccessfulRow<'_>) + Send,
    ) -> Result<u64, SalesforceError> {
        self.result_rows(job_id, "successfulResults", &mut |fields| {
            each(SuccessfulRow {
                id: fields.get("sf__Id").unwrap_or_default(),
                created: fields
                    .get("sf__Created")
                    .is_some_and(|c| c.eq_ignore_ascii_case("true")),
                fields,
            });
        })
        .await
    }

    /// `GET …/failedResults/` (camelCase, §5.3), `each` row as it arrives. `sf__Error` is parsed
    /// into a [`RecordError`] so [`RecordError::is_transient`] applies to bulk rows too.
    pub async fn failed_results(
        &self,
        job_id: &str,
        mut each: impl FnMut(FailedRow<'_>) + Send,
    ) -> Result<u64, SalesforceError> {
        self.result_rows(job_id, "failedResults", &mut |fields| {
            each(FailedRow {
                id: fields.get("sf__Id").filter(|id| !id.is_empty()),
                error: RecordError::from_bulk_error(fields.get("sf__Error").unwrap_or_default()),
                fields,
            });
        })
        .await
    }

    /// `GET …/unprocessedrecords/`: all lower-case, unlike the other two (§5.3, §12 item 8);
    /// `each` row (the uploaded columns) as it arrives.
    pub async fn unprocessed_records(
        &self,
        job_id: &str,
        mut each: impl FnMut(CsvRow<'_>) + Send,
    ) -> Result<u64, SalesforceError> {
        self.result_rows(job_id, "unprocessedrecords", &mut each)
            .await
    }

    async fn set_job_state(
        &self,
        job_id: &str,
        state: &'static str,
    ) -> Result<JobInfo, SalesforceError> {
        let job_id = api_name(job_id)?;
        let payload = Payload::json(&SetState { state })?;
        let answer = self
            .call(Method::PATCH, &["jobs", "ingest", job_id], &[], payload)
            .await?;
        answer.json("job state change")
    }

    /// Reads a result CSV as it arrives, parsing it row by row into `each`.
    async fn result_rows(
        &self,
        job_id: &str,
        kind: &str,
        each: &mut (dyn FnMut(CsvRow<'_>) + Send),
    ) -> Result<u64, SalesforceError> {
        let job_id = api_name(job_id)?;
        let protocol = |e| SalesforceError::Protocol(format!("{kind} CSV: {e}"));
        let mut rows = CsvRows::new();
        let mut sink = |chunk: &[u8]| rows.feed(chunk, each).map_err(protocol);
        self.call_streaming(
            "text/csv",
            Method::GET,
            &["jobs", "ingest", job_id, kind],
            Payload::Empty,
            &mut sink,
        )
        .await?;
        rows.finish(each).map_err(protocol)?;
        Ok(rows.rows())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_info_tolerates_unknown_states_and_missing_fields() {
        let info: JobInfo =
            serde_json::from_str(r#"{"id":"750x","state":"Paused","operation":"upsert"}"#).unwrap();
        assert_eq!(info.state, JobState::Unknown);
        assert_eq!(info.operation, Some(BulkOperation::Upsert));
        assert!(!info.state.is_terminal());
        let body = serde_json::to_value(BulkOperation::HardDelete).unwrap();
        assert_eq!(body, "hardDelete");
    }
}
