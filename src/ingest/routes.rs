use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::idempotency::{self, IdempotencyKey, StoredAnswer};
use super::records::parse_batch;
use crate::auth::{Caller, Scope};
use crate::http::{ApiError, AppState, FieldProblem, Problem, RawBody};
use crate::objects::ObjectSpec;
use crate::staging::{self, StageOutcome, StagedRecord};

/// What happened to one record of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    /// New or changed: staged and queued for Salesforce.
    Staged,
    /// Equal to what is staged or already in Salesforce: nothing to do.
    Unchanged,
    /// Not accepted; see `errors`.
    Rejected,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecordResult {
    /// Position of the record in the request's array.
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub status: RecordStatus,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub errors: Vec<FieldProblem>,
}

/// The answer to an ingest request: one result per record, in request order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IngestResponse {
    pub staged: usize,
    pub unchanged: usize,
    pub rejected: usize,
    pub results: Vec<RecordResult>,
}

/// Stage records of one Salesforce object.
///
/// The body is a JSON array of records, each a JSON object of Salesforce field API names, with the
/// object's external id field set. Valid records are staged in one statement and pushed to
/// Salesforce by the scheduler; invalid ones are reported one by one. Two records with the same
/// external id are merged (later fields win).
#[utoipa::path(
    post,
    path = "/v1/objects/{object}/records",
    tag = "records",
    params(
        ("object" = String, Path, description = "Salesforce object API name, e.g. `Contact`"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request return the first answer and stage nothing twice"),
    ),
    request_body(content = Vec<Object>, content_type = "application/json",
        example = json!([{"External_Id__c": "C-1001", "LastName": "Durand", "Email": "marie.durand@example.com"}])),
    responses(
        (status = 202, description = "At least one record staged or unchanged; per-record results", body = IngestResponse),
        (status = 400, description = "Not a JSON array of records", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token may not write this object", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown object", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Idempotency-Key reused with another body", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every record was rejected", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable; retry", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn post_records(
    State(state): State<AppState>,
    caller: Caller,
    Path(object): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    caller.require(Scope::RecordsWrite)?;
    let spec = authorized_object(&state, &caller, &object)?;
    require_json(&headers)?;
    let key = IdempotencyKey::from_headers(&headers)?;
    let caller_id = format!("{}|{}", caller.issuer, caller.subject);
    let hash = idempotency::request_hash(&object, &body);

    let mut tx = state.pool.begin().await?;
    if let Some(key) = &key
        && let Some(answer) = idempotency::lookup(&mut tx, &caller_id, key, &hash).await?
    {
        return Ok(replay(answer));
    }
    let batch =
        parse_batch(&body, spec).map_err(|e| ApiError::bad_request("body", e.rule, e.message))?;
    let rows: Vec<_> = batch.rows.iter().map(|(row, _)| row.clone()).collect();
    let outcomes = if rows.is_empty() {
        Vec::new()
    } else {
        staging::stage_records(&mut tx, &spec.name, &rows).await?
    };
    let (status, answer) = answer(batch, &outcomes);
    let stored = StoredAnswer {
        status: status.as_u16(),
        body: serde_json::to_value(&answer).map_err(|e| ApiError::Internal(e.into()))?,
    };
    if let Some(key) = &key
        && !idempotency::store(&mut tx, &caller_id, key, &hash, &stored).await?
    {
        // A concurrent request with this key committed first: answer as it did.
        tx.rollback().await?;
        let mut conn = state.pool.acquire().await?;
        return match idempotency::lookup(&mut conn, &caller_id, key, &hash).await? {
            Some(answer) => Ok(replay(answer)),
            None => Err(ApiError::Conflict(
                "a request with this key is in progress".into(),
            )),
        };
    }
    tx.commit().await?;
    tracing::info!(object = %spec.name, records = answer.results.len(), staged = answer.staged, rejected = answer.rejected, "records ingested");
    Ok(replay(stored))
}

fn answer(batch: super::ParsedBatch, outcomes: &[StageOutcome]) -> (StatusCode, IngestResponse) {
    let mut results: Vec<Option<RecordResult>> = vec![None; batch.total];
    for ((row, indexes), outcome) in batch.rows.iter().zip(outcomes) {
        let status = match outcome {
            StageOutcome::Queued => RecordStatus::Staged,
            StageOutcome::Unchanged => RecordStatus::Unchanged,
        };
        for &index in indexes {
            results[index] = Some(RecordResult {
                index,
                external_id: Some(row.external_id.clone()),
                status,
                errors: Vec::new(),
            });
        }
    }
    for problem in batch.problems {
        let Some(index) = problem.index else { continue };
        let slot = results[index].get_or_insert_with(|| RecordResult {
            index,
            external_id: problem.external_id.clone(),
            status: RecordStatus::Rejected,
            errors: Vec::new(),
        });
        slot.errors.push(problem);
    }
    let results: Vec<RecordResult> = results.into_iter().flatten().collect();
    let count = |s| results.iter().filter(|r| r.status == s).count();
    let response = IngestResponse {
        staged: count(RecordStatus::Staged),
        unchanged: count(RecordStatus::Unchanged),
        rejected: count(RecordStatus::Rejected),
        results,
    };
    let status = if response.rejected == response.results.len() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::ACCEPTED
    };
    (status, response)
}

fn replay(answer: StoredAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::ACCEPTED);
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        let errors = serde_json::from_value::<IngestResponse>(answer.body)
            .map(|r| r.results.into_iter().flat_map(|r| r.errors).collect())
            .unwrap_or_default();
        return ApiError::AllRejected { errors }.into_response();
    }
    (status, Json(answer.body)).into_response()
}

fn authorized_object<'a>(
    state: &'a AppState,
    caller: &Caller,
    object: &str,
) -> Result<&'a ObjectSpec, ApiError> {
    let spec = state.catalog.get(object).ok_or_else(|| {
        ApiError::NotFound(format!("object {object:?} is not configured in this hub"))
    })?;
    caller.may_write_object(object)?;
    Ok(spec)
}

fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type must be application/json, got {:?}",
            content_type
        )))
    }
}

/// A staged record's fields and sync status.
#[utoipa::path(
    get,
    path = "/v1/objects/{object}/records/{external_id}",
    tag = "records",
    params(
        ("object" = String, Path, description = "Salesforce object API name"),
        ("external_id" = String, Path, description = "The record's external id"),
    ),
    responses(
        (status = 200, description = "The record and its sync state", body = StagedRecord),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token may not read records", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown object or record", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_record(
    State(state): State<AppState>,
    caller: Caller,
    Path((object, external_id)): Path<(String, String)>,
) -> Result<Json<StagedRecord>, ApiError> {
    caller.require(Scope::RecordsRead)?;
    if state.catalog.get(&object).is_none() {
        return Err(ApiError::NotFound(format!(
            "object {object:?} is not configured in this hub"
        )));
    }
    staging::find_record(&state.pool, &object, &external_id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no {object} with external id {external_id:?}")))
}
