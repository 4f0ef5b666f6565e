//! A Bulk API 2.0 ingest job and its JobInfo (docs/salesforce.md §5.1).

use serde_json::{Value, json};

use super::bulk_csv::Outcome;
use super::schema::{Field, Object};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Open,
    UploadComplete,
    InProgress,
    JobComplete,
    Failed,
    Aborted,
}

impl JobState {
    pub fn name(self) -> &'static str {
        match self {
            Self::Open => "Open",
            Self::UploadComplete => "UploadComplete",
            Self::InProgress => "InProgress",
            Self::JobComplete => "JobComplete",
            Self::Failed => "Failed",
            Self::Aborted => "Aborted",
        }
    }

    pub fn terminal(self) -> bool {
        matches!(self, Self::JobComplete | Self::Failed | Self::Aborted)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Insert,
    Update,
    Upsert,
    Delete,
}

impl Operation {
    pub fn name(self) -> &'static str {
        match self {
            Self::Insert => "insert",
            Self::Update => "update",
            Self::Upsert => "upsert",
            Self::Delete => "delete",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub object: &'static Object,
    pub operation: Operation,
    pub ext_field: Option<&'static Field>,
    pub crlf: bool,
    pub delimiter: (&'static str, u8),
    pub state: JobState,
    pub created: String,
    pub modstamp: String,
    pub api_version: u32,
    pub data: Option<Vec<u8>>,
    pub outcome: Option<Outcome>,
    pub error_message: Option<String>,
}

impl Job {
    pub fn info(&self, full: bool) -> Value {
        let mut v = json!({
            "id": self.id, "operation": self.operation.name(), "object": self.object.name,
            "createdById": "0055g00000SiMuLAAV", "createdDate": self.created,
            "systemModstamp": self.modstamp, "state": self.state.name(),
            "concurrencyMode": "Parallel", "contentType": "CSV",
            "apiVersion": f64::from(self.api_version), "jobType": "V2Ingest",
            "lineEnding": if self.crlf { "CRLF" } else { "LF" }, "columnDelimiter": self.delimiter.0,
        });
        if self.state == JobState::Open {
            v["contentUrl"] = json!(format!(
                "services/data/v{}.0/jobs/ingest/{}/batches",
                self.api_version, self.id
            ));
        }
        if let Some(f) = self.ext_field {
            v["externalIdFieldName"] = json!(f.name);
        }
        if full {
            let (processed, failed) = self.outcome.as_ref().map_or((0, 0), Outcome::counts);
            v["numberRecordsProcessed"] = json!(processed);
            v["numberRecordsFailed"] = json!(failed);
            v["retries"] = json!(0);
            v["totalProcessingTime"] = json!(0);
            v["apiActiveProcessingTime"] = json!(0);
            v["apexProcessingTime"] = json!(0);
            if let Some(msg) = &self.error_message {
                v["errorMessage"] = json!(msg);
            }
        }
        v
    }
}
