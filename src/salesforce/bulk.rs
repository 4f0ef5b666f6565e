//! Bulk API 2.0 ingest jobs (§5): create → upload once → close → poll → read results.
//!
//! Polling cadence is the caller's: each poll is an API call (§5.4).

use std::collections::HashMap;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::client::{CallOptions, Payload, SalesforceClient, api_name};
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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuccessfulRow {
    pub id: String,
    pub created: bool,
    /// The uploaded columns, by header name.
    pub fields: HashMap<String, String>,
}

/// A row of `failedResults` (§5.3). `id` is empty for failed inserts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedRow {
    pub id: Option<String>,
    pub error: RecordError,
    pub fields: HashMap<String, String>,
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

    /// `PUT /jobs/ingest/{id}/batches` with the whole CSV (LF line endings). Upload once per job (§5.1).
    pub async fn upload_job_data(&self, job_id: &str, csv: String) -> Result<(), SalesforceError> {
        let job_id = api_name(job_id)?;
        if csv.len() > MAX_UPLOAD_BYTES {
            return Err(SalesforceError::InvalidInput(format!(
                "{} bytes of CSV exceed the {MAX_UPLOAD_BYTES}-byte job limit; split into several jobs",
                csv.len()
            )));
        }
        let path = ["jobs", "ingest", job_id, "batches"];
        self.call(Method::PUT, &path, &[], Payload::Csv(csv.into_bytes()))
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

    /// `GET …/successfulResults/` (camelCase, §5.3).
    pub async fn successful_results(
        &self,
        job_id: &str,
    ) -> Result<Vec<SuccessfulRow>, SalesforceError> {
        let rows = self.result_csv(job_id, "successfulResults").await?;
        rows.into_iter()
            .map(|mut fields| {
                let id = fields.remove("sf__Id").unwrap_or_default();
                let created = fields
                    .remove("sf__Created")
                    .is_some_and(|c| c.eq_ignore_ascii_case("true"));
                Ok(SuccessfulRow {
                    id,
                    created,
                    fields,
                })
            })
            .collect()
    }

    /// `GET …/failedResults/` (camelCase, §5.3). `sf__Error` is parsed into a [`RecordError`]
    /// so [`RecordError::is_transient`] applies to bulk rows too.
    pub async fn failed_results(&self, job_id: &str) -> Result<Vec<FailedRow>, SalesforceError> {
        let rows = self.result_csv(job_id, "failedResults").await?;
        Ok(rows
            .into_iter()
            .map(|mut fields| {
                let id = fields.remove("sf__Id").filter(|id| !id.is_empty());
                let error =
                    RecordError::from_bulk_error(&fields.remove("sf__Error").unwrap_or_default());
                FailedRow { id, error, fields }
            })
            .collect())
    }

    /// `GET …/unprocessedrecords/`: all lower-case, unlike the other two (§5.3, §12 item 8).
    pub async fn unprocessed_records(
        &self,
        job_id: &str,
    ) -> Result<Vec<HashMap<String, String>>, SalesforceError> {
        self.result_csv(job_id, "unprocessedrecords").await
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

    async fn result_csv(
        &self,
        job_id: &str,
        kind: &str,
    ) -> Result<Vec<HashMap<String, String>>, SalesforceError> {
        let job_id = api_name(job_id)?;
        let answer = self
            .call_accepting(
                "text/csv",
                Method::GET,
                &["jobs", "ingest", job_id, kind],
                &[],
                Payload::Empty,
                &CallOptions::default(),
            )
            .await?;
        parse_csv(&answer.body).map_err(|e| SalesforceError::Protocol(format!("{kind} CSV: {e}")))
    }
}

fn parse_csv(body: &[u8]) -> Result<Vec<HashMap<String, String>>, csv::Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(body);
    let headers = reader.headers()?.clone();
    reader
        .records()
        .map(|row| {
            let row = row?;
            Ok(headers
                .iter()
                .zip(row.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_csv_parses_quoted_rows() {
        let body = b"\"sf__Id\",\"sf__Error\",\"LastName\",\"Ext__c\"\n\"\",\"REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --\",\"\",\"E1\"\n";
        let rows = parse_csv(body).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["Ext__c"], "E1");
        assert!(parse_csv(b"").unwrap().is_empty());
    }

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
