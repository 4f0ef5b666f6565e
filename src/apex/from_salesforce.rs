//! `POST /v1/salesforce/objects/{object}/records`: records changed in Salesforce, sent by an Apex
//! trigger (through `@future(callout=true)` or a Queueable: no callout may follow DML in the same
//! transaction). They are stored for internal apps, which read them with the records routes or
//! SQL, and are never pushed back to Salesforce.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::incoming::{self, IncomingBatch};
use super::store::{self, StoredRow};
use crate::auth::{Caller, Scope};
use crate::http::{ApiError, ApiJson, AppState, FieldProblem, Problem};
use crate::staging::SyncStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StoredStatus {
    /// New or changed: stored.
    Stored,
    /// The hub already held these values.
    Unchanged,
    /// Not stored; see `errors`.
    Rejected,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SalesforceRecordResult {
    /// Position of the record in the request's array.
    pub index: usize,
    /// The record's external id in the hub.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub status: StoredStatus,
    /// `synced` unless the hub holds a change of its own still to push (then `pending`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_status: Option<SyncStatus>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub errors: Vec<FieldProblem>,
}

/// One result per record, in request order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SalesforceRecordsResponse {
    pub stored: usize,
    pub unchanged: usize,
    pub rejected: usize,
    pub results: Vec<SalesforceRecordResult>,
}

/// Store records Salesforce changed.
///
/// The body is a JSON array of records, each with its `Id` and the fields to store (API names;
/// `attributes` from `JSON.serialize` is accepted and dropped; system audit fields are dropped).
/// A record is matched by the object's external id field when set, else by its Salesforce Id; a
/// record with neither an external id nor a known Id is rejected. Stored records are marked as
/// synced (`origin = 'salesforce'`), so they are not sent back; a later change from the hub's side
/// is pushed as usual.
#[utoipa::path(
    post,
    path = "/v1/salesforce/objects/{object}/records",
    tag = "salesforce",
    params(("object" = String, Path, description = "Salesforce object API name, e.g. `Contact`")),
    request_body(content = Vec<Object>, content_type = "application/json",
        example = json!([{"Id": "0035g00000AbCdEAAV", "External_Id__c": "C-1001", "LastName": "Durand", "Email": "marie.durand@example.com"}])),
    responses(
        (status = 202, description = "At least one record stored or unchanged; per-record results", body = SalesforceRecordsResponse,
            example = json!({"stored": 1, "unchanged": 0, "rejected": 0, "results": [
                {"index": 0, "external_id": "C-1001", "status": "stored", "sync_status": "synced"}]})),
        (status = 400, description = "Not a JSON array of records", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks records:write or may not write this object", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown object", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every record was rejected", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable; retry", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn post_salesforce_records(
    State(state): State<AppState>,
    caller: Caller,
    Path(object): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    caller.require(Scope::RecordsWrite)?;
    let spec = state.object(&object)?;
    caller.may_write_object(&object)?;
    let batch = incoming::parse(body, spec)
        .map_err(|(rule, message)| ApiError::bad_request("body", rule, message))?;
    let rows: Vec<_> = batch.rows.iter().map(|(row, _)| row.clone()).collect();
    let stored = match rows.is_empty() {
        true => Vec::new(),
        false => store::store_from_salesforce(&state.pool, &spec.name, &rows).await?,
    };
    let answer = answer(batch, stored, &spec.external_id_field);
    tracing::info!(object = %spec.name, records = answer.results.len(), stored = answer.stored, rejected = answer.rejected, "records from Salesforce");
    if answer.rejected == answer.results.len() {
        let errors = answer.results.into_iter().flat_map(|r| r.errors).collect();
        return Err(ApiError::AllRejected { errors });
    }
    Ok((StatusCode::ACCEPTED, Json(answer)).into_response())
}

fn answer(
    batch: IncomingBatch,
    stored: Vec<StoredRow>,
    external_id_field: &str,
) -> SalesforceRecordsResponse {
    let mut results: Vec<Option<SalesforceRecordResult>> = vec![None; batch.total];
    for ((row, indexes), outcome) in batch.rows.iter().zip(stored) {
        let (status, errors) = match (&outcome.external_id, outcome.written) {
            (None, _) => (
                StoredStatus::Rejected,
                vec![FieldProblem {
                    index: None,
                    external_id: None,
                    field: external_id_field.into(),
                    salesforce_field: None,
                    rule: "unknown_record".into(),
                    message: format!(
                        "no external id, and the hub has no record with Id {}",
                        row.salesforce_id
                    ),
                }],
            ),
            (Some(_), true) => (StoredStatus::Stored, Vec::new()),
            (Some(_), false) => (StoredStatus::Unchanged, Vec::new()),
        };
        for &index in indexes {
            let errors = errors
                .iter()
                .cloned()
                .map(|e| FieldProblem {
                    index: Some(index),
                    ..e
                })
                .collect();
            results[index] = Some(SalesforceRecordResult {
                index,
                external_id: outcome.external_id.clone(),
                status,
                sync_status: outcome
                    .sync_status
                    .filter(|_| status != StoredStatus::Rejected),
                errors,
            });
        }
    }
    for problem in batch.problems {
        let Some(index) = problem.index else { continue };
        let slot = results[index].get_or_insert_with(|| SalesforceRecordResult {
            index,
            external_id: problem.external_id.clone(),
            status: StoredStatus::Rejected,
            sync_status: None,
            errors: Vec::new(),
        });
        slot.errors.push(problem);
    }
    let results: Vec<_> = results.into_iter().flatten().collect();
    let count = |s| results.iter().filter(|r| r.status == s).count();
    SalesforceRecordsResponse {
        stored: count(StoredStatus::Stored),
        unchanged: count(StoredStatus::Unchanged),
        rejected: count(StoredStatus::Rejected),
        results,
    }
}
