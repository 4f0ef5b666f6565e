//! Bulk API 2.0 ingest jobs: create, upload once, close or abort, poll, results, delete (docs/salesforce.md §5).

use axum::Json;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::bulk_csv;
pub use super::bulk_job::{Job, JobState, Operation};
use super::error::ApiError;
use super::rest::Call;
use super::schema;
use super::state::State;
use super::store::timestamp;
use super::{Simulator, ids};

#[derive(Debug, Clone, PartialEq)]
pub enum BulkRoute {
    Create,
    List,
    Get(String),
    SetState(String),
    Delete(String),
    Upload(String),
    Successful(String),
    Failed(String),
    Unprocessed(String),
}

impl BulkRoute {
    /// Doc §12.8: `unprocessedrecords` is lower-case while the other two are camelCase.
    pub fn parse(method: &Method, rest: &[&str]) -> Option<Self> {
        let route = match (method.clone(), rest) {
            (Method::POST, []) => Self::Create,
            (Method::GET, []) => Self::List,
            (Method::GET, [id]) => Self::Get(id.to_string()),
            (Method::PATCH, [id]) => Self::SetState(id.to_string()),
            (Method::DELETE, [id]) => Self::Delete(id.to_string()),
            (Method::PUT, [id, "batches"]) => Self::Upload(id.to_string()),
            (Method::GET, [id, "successfulResults"]) => Self::Successful(id.to_string()),
            (Method::GET, [id, "failedResults"]) => Self::Failed(id.to_string()),
            (Method::GET, [id, "unprocessedrecords"]) => Self::Unprocessed(id.to_string()),
            _ => return None,
        };
        Some(route)
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Create => "bulk_create_job",
            Self::List => "bulk_list_jobs",
            Self::Get(_) => "bulk_get_job",
            Self::SetState(_) => "bulk_set_job_state",
            Self::Delete(_) => "bulk_delete_job",
            Self::Upload(_) => "bulk_upload",
            Self::Successful(_) => "bulk_successful_results",
            Self::Failed(_) => "bulk_failed_results",
            Self::Unprocessed(_) => "bulk_unprocessed_records",
        }
    }
}

/// [UNVERIFIED] JSON spelling of the Bulk job-level codes; the doc lists them as `InvalidJobState` etc.
fn job_error(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateJob {
    object: Option<String>,
    operation: Option<String>,
    external_id_field_name: Option<String>,
    content_type: Option<String>,
    line_ending: Option<String>,
    column_delimiter: Option<String>,
    /// Accepted (Case/Lead only in Salesforce) but has no effect here.
    #[serde(rename = "assignmentRuleId")]
    _assignment_rule_id: Option<String>,
}

const DELIMITERS: [(&str, u8); 6] = [
    ("COMMA", b','),
    ("BACKQUOTE", b'`'),
    ("CARET", b'^'),
    ("PIPE", b'|'),
    ("SEMICOLON", b';'),
    ("TAB", b'\t'),
];

pub fn handle(sim: &Simulator, route: BulkRoute, call: &Call<'_>) -> Result<Response, ApiError> {
    match route {
        BulkRoute::Create => create(sim, call),
        BulkRoute::List => {
            let records: Vec<Value> = sim.lock().jobs.values().map(|j| j.info(true)).collect();
            Ok(
                Json(json!({"done": true, "records": records, "nextRecordsUrl": null}))
                    .into_response(),
            )
        }
        BulkRoute::Get(id) => with_job(sim, &id, |job, state| {
            advance(job, state);
            Ok(Json(job.info(true)).into_response())
        }),
        BulkRoute::SetState(id) => set_state(sim, &id, &call.body),
        BulkRoute::Delete(id) => {
            let mut state = sim.lock();
            let job = state.jobs.get(&id).ok_or_else(ApiError::not_found)?;
            if matches!(job.state, JobState::Open | JobState::InProgress) {
                return Err(job_error(
                    "InvalidJobState",
                    format!("Job {id} can't be deleted in state {}", job.state.name()),
                ));
            }
            state.jobs.remove(&id);
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        BulkRoute::Upload(id) => upload(sim, &id, call),
        BulkRoute::Successful(id) => results(sim, &id, bulk_csv::Kind::Successful),
        BulkRoute::Failed(id) => results(sim, &id, bulk_csv::Kind::Failed),
        BulkRoute::Unprocessed(id) => results(sim, &id, bulk_csv::Kind::Unprocessed),
    }
}

fn with_job<T>(
    sim: &Simulator,
    id: &str,
    f: impl FnOnce(&mut Job, &mut State) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let mut state = sim.lock();
    let mut job = state.jobs.remove(id).ok_or_else(ApiError::not_found)?;
    let result = f(&mut job, &mut state);
    state.jobs.insert(id.to_string(), job);
    result
}

/// Doc §5.1: processing happens after close; the first poll reports InProgress, the next one
/// processes the job, so clients have to poll.
fn advance(job: &mut Job, state: &mut State) {
    match job.state {
        JobState::UploadComplete => job.state = JobState::InProgress,
        JobState::InProgress => {
            let State {
                store,
                faults,
                bulk_batches,
                ..
            } = state;
            let (outcome, error) = bulk_csv::process(store, faults, job, bulk_batches);
            job.state = if error.is_some() {
                JobState::Failed
            } else {
                JobState::JobComplete
            };
            job.outcome = Some(outcome);
            job.error_message = error;
        }
        _ => return,
    }
    job.modstamp = timestamp();
}

fn create(sim: &Simulator, call: &Call<'_>) -> Result<Response, ApiError> {
    let req: CreateJob =
        serde_json::from_slice(&call.body).map_err(|e| ApiError::json_parser(e.to_string()))?;
    let object_name = req
        .object
        .ok_or_else(|| job_error("InvalidJob", "sObject type is required"))?;
    let object = schema::object(&object_name).ok_or_else(|| {
        job_error(
            "InvalidJob",
            format!("sObject type '{object_name}' is not supported."),
        )
    })?;
    let operation = match req.operation.as_deref() {
        Some("insert") => Operation::Insert,
        Some("update") => Operation::Update,
        Some("upsert") => Operation::Upsert,
        Some("delete") => Operation::Delete,
        // Doc §5.1: hardDelete needs a permission that is off by default.
        Some("hardDelete") => {
            return Err(job_error(
                "InvalidUser",
                "User doesn't have the Bulk API Hard Delete permission",
            ));
        }
        Some(other) => {
            return Err(job_error(
                "InvalidJob",
                format!("Invalid operation: {other}"),
            ));
        }
        None => return Err(job_error("InvalidJob", "operation is required")),
    };
    let ext_field = match (operation, req.external_id_field_name.as_deref()) {
        (Operation::Upsert, None | Some("")) => {
            return Err(job_error(
                "InvalidJob",
                format!(
                    "External ID was blank for {}. An External ID must be specified for upsert.",
                    object.name
                ),
            ));
        }
        (Operation::Upsert, Some(name)) => Some(
            object
                .field(name)
                .filter(|f| f.external_id || f.id_lookup)
                .ok_or_else(|| {
                    job_error(
                        "InvalidJob",
                        format!(
                            "The field {name} is not an External ID or indexed field for {}",
                            object.name
                        ),
                    )
                })?,
        ),
        _ => None,
    };
    if req.content_type.as_deref().is_some_and(|c| c != "CSV") {
        return Err(job_error("InvalidJob", "contentType must be CSV"));
    }
    let crlf = match req.line_ending.as_deref() {
        None | Some("LF") => false,
        Some("CRLF") => true,
        Some(other) => {
            return Err(job_error(
                "InvalidJob",
                format!("Invalid lineEnding: {other}"),
            ));
        }
    };
    let delimiter = match req.column_delimiter.as_deref() {
        None => DELIMITERS[0],
        Some(name) => *DELIMITERS
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| job_error("InvalidJob", format!("Invalid columnDelimiter: {name}")))?,
    };
    let mut state = sim.lock();
    state.jobs_created += 1;
    let now = timestamp();
    let job = Job {
        id: ids::generate("750", state.jobs_created),
        object,
        operation,
        ext_field,
        crlf,
        delimiter,
        state: JobState::Open,
        created: now.clone(),
        modstamp: now,
        api_version: call.version,
        data: None,
        outcome: None,
        error_message: None,
    };
    let info = job.info(false);
    state.jobs.insert(job.id.clone(), job);
    Ok(Json(info).into_response())
}

fn upload(sim: &Simulator, id: &str, call: &Call<'_>) -> Result<Response, ApiError> {
    let content_type = call
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    with_job(sim, id, |job, _| {
        if job.state != JobState::Open {
            return Err(job_error(
                "InvalidJobState",
                format!("Job {id} is not in Open state"),
            ));
        }
        // [OBS] docs/salesforce.md §5.1: one upload per job; a second PUT is refused with this message.
        if job.data.is_some() {
            return Err(job_error(
                "BULK_API_ERROR",
                format!(
                    "Found multiple contents for job: <{id}>, please 'Close' / 'Abort' / 'Delete' the current Job then create a new Job and make sure you only do 'PUT' once on a given Job."
                ),
            ));
        }
        if !content_type.to_ascii_lowercase().starts_with("text/csv") {
            return Err(job_error(
                "ClientInputError",
                "Content-Type must be text/csv",
            ));
        }
        job.data = Some(call.body.to_vec());
        Ok(StatusCode::CREATED.into_response())
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StateChange {
    state: String,
}

fn set_state(sim: &Simulator, id: &str, body: &[u8]) -> Result<Response, ApiError> {
    let change: StateChange =
        serde_json::from_slice(body).map_err(|e| ApiError::json_parser(e.to_string()))?;
    with_job(sim, id, |job, _| {
        match (change.state.as_str(), job.state) {
            ("UploadComplete", JobState::Open) => job.state = JobState::UploadComplete,
            ("Aborted", s) if !s.terminal() => {
                job.state = JobState::Aborted;
                job.outcome = Some(bulk_csv::unprocessed_only(job));
            }
            ("UploadComplete" | "Aborted", s) => {
                return Err(job_error(
                    "InvalidJobState",
                    format!("Job {id} can't move from {} to {}", s.name(), change.state),
                ));
            }
            (other, _) => {
                return Err(job_error(
                    "InvalidJobState",
                    format!("Invalid state: {other}"),
                ));
            }
        }
        job.modstamp = timestamp();
        Ok(Json(job.info(false)).into_response())
    })
}

fn results(sim: &Simulator, id: &str, kind: bulk_csv::Kind) -> Result<Response, ApiError> {
    with_job(sim, id, |job, _| {
        let Some(outcome) = job.outcome.as_ref().filter(|_| job.state.terminal()) else {
            // [UNVERIFIED] results asked for before the job finished.
            return Err(job_error(
                "InvalidJobState",
                format!("Job {id} has not finished processing"),
            ));
        };
        let body = outcome.render(kind, job.delimiter.1);
        let mut res = (StatusCode::OK, body).into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv"));
        Ok(res)
    })
}
