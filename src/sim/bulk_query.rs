//! Bulk API 2.0 query jobs under `/jobs/query`: create, list, poll, abort, delete, and results
//! read page by page with `locator` and `maxRecords`. Every request is one API call.
//!
//! <https://developer.salesforce.com/docs/platform/api-asynch/guide/query-create-job.html>,
//! <https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/query_get_job_results.htm>.

use axum::Json;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::bulk_job::JobState;
use super::bulk_query_job::{QueryJob, QueryOperation, decode_locator};
use super::error::ApiError;
use super::rest::Call;
use super::store::timestamp;
use super::{Simulator, ids, soql};

/// Rows per result page when the caller gives no `maxRecords`: the docs leave it to the server
/// ("the server uses a default value based on the service") [UNVERIFIED: the simulator's pick].
pub const DEFAULT_MAX_RECORDS: usize = 50_000;

#[derive(Debug, Clone, PartialEq)]
pub enum QueryJobRoute {
    Create,
    List,
    Get(String),
    SetState(String),
    Delete(String),
    Results(String),
}

impl QueryJobRoute {
    pub fn parse(method: &Method, rest: &[&str]) -> Option<Self> {
        Some(match (method.clone(), rest) {
            (Method::POST, []) => Self::Create,
            (Method::GET, []) => Self::List,
            (Method::GET, [id]) => Self::Get(id.to_string()),
            (Method::PATCH, [id]) => Self::SetState(id.to_string()),
            (Method::DELETE, [id]) => Self::Delete(id.to_string()),
            (Method::GET, [id, "results"]) => Self::Results(id.to_string()),
            _ => return None,
        })
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Create => "bulk_query_create",
            Self::List => "bulk_query_list",
            Self::Get(_) => "bulk_query_get",
            Self::SetState(_) => "bulk_query_set_state",
            Self::Delete(_) => "bulk_query_delete",
            Self::Results(_) => "bulk_query_results",
        }
    }
}

/// [UNVERIFIED] JSON spelling of Bulk job-level codes, as the ingest side of this simulator.
fn job_error(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateQueryJob {
    operation: Option<String>,
    query: Option<String>,
    content_type: Option<String>,
    column_delimiter: Option<String>,
    line_ending: Option<String>,
}

const DELIMITERS: [(&str, u8); 6] = [
    ("COMMA", b','),
    ("BACKQUOTE", b'`'),
    ("CARET", b'^'),
    ("PIPE", b'|'),
    ("SEMICOLON", b';'),
    ("TAB", b'\t'),
];

pub fn handle(
    sim: &Simulator,
    route: QueryJobRoute,
    call: &Call<'_>,
) -> Result<Response, ApiError> {
    match route {
        QueryJobRoute::Create => create(sim, call),
        QueryJobRoute::List => {
            let records: Vec<_> = sim
                .lock()
                .query_jobs
                .values()
                .map(|j| j.info(true))
                .collect();
            Ok(
                Json(json!({"done": true, "records": records, "nextRecordsUrl": null}))
                    .into_response(),
            )
        }
        QueryJobRoute::Get(id) => with_job(sim, &id, |job, state| {
            advance(job, state);
            Ok(Json(job.info(true)).into_response())
        }),
        QueryJobRoute::SetState(id) => abort(sim, &id, &call.body),
        QueryJobRoute::Delete(id) => {
            let mut state = sim.lock();
            let job = state.query_jobs.get(&id).ok_or_else(ApiError::not_found)?;
            if matches!(job.state, JobState::UploadComplete | JobState::InProgress) {
                return Err(job_error(
                    "InvalidJobState",
                    format!("Job {id} can't be deleted in state {}", job.state.name()),
                ));
            }
            state.query_jobs.remove(&id);
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        QueryJobRoute::Results(id) => results(sim, &id, call),
    }
}

fn with_job<T>(
    sim: &Simulator,
    id: &str,
    f: impl FnOnce(&mut QueryJob, &mut super::state::State) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let mut state = sim.lock();
    let mut job = state
        .query_jobs
        .remove(id)
        .ok_or_else(ApiError::not_found)?;
    let result = f(&mut job, &mut state);
    state.query_jobs.insert(id.to_string(), job);
    result
}

/// Like ingest jobs here, a query job moves one step per poll (UploadComplete → InProgress →
/// JobComplete), so clients must poll; the query runs when the job completes.
fn advance(job: &mut QueryJob, state: &mut super::state::State) {
    match job.state {
        JobState::UploadComplete => job.state = JobState::InProgress,
        JobState::InProgress => {
            state.store.purge_recycle_bin();
            let table = state.store.table(job.bound.object);
            let mut rows: Vec<&super::store::Record> = table.records().collect();
            if job.operation == QueryOperation::QueryAll {
                rows.extend(table.recycled().map(|r| &r.record));
            }
            let rows = soql::run(&job.bound, rows.into_iter())
                .into_iter()
                .map(|r| soql::cells(&job.bound, r))
                .collect();
            job.rows = Some(rows);
            job.state = JobState::JobComplete;
        }
        _ => return,
    }
    job.modstamp = timestamp();
}

fn create(sim: &Simulator, call: &Call<'_>) -> Result<Response, ApiError> {
    let req: CreateQueryJob =
        serde_json::from_slice(&call.body).map_err(|e| ApiError::json_parser(e.to_string()))?;
    let operation = match req.operation.as_deref() {
        Some("query") => QueryOperation::Query,
        Some("queryAll") => QueryOperation::QueryAll,
        Some(other) => {
            return Err(job_error(
                "InvalidJob",
                format!("Invalid operation: {other}"),
            ));
        }
        None => return Err(job_error("InvalidJob", "operation is required")),
    };
    let query = req
        .query
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| job_error("InvalidJob", "query is required"))?;
    // [UNVERIFIED] the wrapping of a SOQL error at job creation.
    let bound = soql::compile(&query).map_err(|e| {
        job_error(
            "InvalidJob",
            format!("Failed to process query: {}: {}", e.code, e.message),
        )
    })?;
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
    state.query_jobs_created += 1;
    let now = timestamp();
    let job = QueryJob {
        id: ids::generate("750", state.jobs_created),
        operation,
        bound,
        state: JobState::UploadComplete,
        created: now.clone(),
        modstamp: now,
        api_version: call.version,
        crlf,
        delimiter,
        rows: None,
    };
    let info = job.info(false);
    state.query_jobs.insert(job.id.clone(), job);
    Ok(Json(info).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StateChange {
    state: String,
}

fn abort(sim: &Simulator, id: &str, body: &[u8]) -> Result<Response, ApiError> {
    let change: StateChange =
        serde_json::from_slice(body).map_err(|e| ApiError::json_parser(e.to_string()))?;
    with_job(sim, id, |job, _| {
        if change.state != "Aborted" {
            return Err(job_error(
                "InvalidJobState",
                format!("Invalid state: {}", change.state),
            ));
        }
        if job.state.terminal() {
            return Err(job_error(
                "InvalidJobState",
                format!("Job {id} can't move from {} to Aborted", job.state.name()),
            ));
        }
        job.state = JobState::Aborted;
        job.modstamp = timestamp();
        Ok(Json(job.info(false)).into_response())
    })
}

fn results(sim: &Simulator, id: &str, call: &Call<'_>) -> Result<Response, ApiError> {
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(call.query.unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    // [UNVERIFIED] codes for a bad maxRecords or locator.
    let max = match param("maxRecords") {
        None => DEFAULT_MAX_RECORDS,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| job_error("ClientInputError", format!("Invalid maxRecords: {raw}")))?,
    };
    let offset = match param("locator") {
        None => 0,
        Some(raw) => decode_locator(raw)
            .ok_or_else(|| job_error("ClientInputError", format!("Invalid locator: {raw}")))?,
    };
    let state = sim.lock();
    let job = state.query_jobs.get(id).ok_or_else(ApiError::not_found)?;
    // "Use the same API version to get query results that you used to create the query.
    // Otherwise, the call returns a 409 error." [UNVERIFIED: the code in the body].
    if job.api_version != call.version {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "API_VERSION_MISMATCH",
            format!(
                "Job {id} was created with API version {}.0",
                job.api_version
            ),
        ));
    }
    if job.state != JobState::JobComplete {
        // The 412 and wording are from the v47 Bulk API 2.0 guide's example.
        return Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "JOB_NOT_COMPLETE",
            format!(
                "can only download query results of successfully completed bulk job with status: JOB_COMPLETE. Current status: {}",
                screaming(job.state.name())
            ),
        ));
    }
    let total = job.rows.as_ref().map_or(0, Vec::len);
    if offset > total {
        return Err(job_error("ClientInputError", "Invalid locator"));
    }
    let (body, count, next) = job.page(offset, max);
    let mut res = (StatusCode::OK, body).into_response();
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv"));
    // "If there are no more sets of query results, the value is the string null."
    let locator = next.unwrap_or_else(|| "null".into());
    if let Ok(v) = HeaderValue::from_str(&locator) {
        headers.insert("Sforce-Locator", v);
    }
    headers.insert("Sforce-NumberOfRecords", HeaderValue::from(count));
    Ok(res)
}

/// `InProgress` → `IN_PROGRESS`.
fn screaming(state: &str) -> String {
    let mut out = String::new();
    for (i, c) in state.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}
