//! One record at a time, by its keys: read it by external id or by Salesforce Id (Apex knows a
//! record by its Id, from a trigger or a button on the record page), or stage its deletion.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::auth::{Caller, Scope};
use crate::error::{ApiError, Problem};
use crate::extract::ApiPath;
use crate::staging::{self, ExternalId, ObjectName, SalesforceId, StagedRecord};
use crate::state::AppState;

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
    ApiPath((object, external_id)): ApiPath<(String, String)>,
) -> Result<Json<StagedRecord>, ApiError> {
    caller.require(Scope::RecordsRead)?;
    let object = &state.object(&object)?.name;
    let external_id = external_id_in_path(&external_id)?;
    staging::find_record(&state.pool, object, &external_id)
        .await?
        .map(Json)
        .ok_or_else(|| no_such_record(object, &external_id))
}

/// A staged record's fields and sync status, found by its Salesforce Id.
///
/// The Id may be given in its 15-character form (as Apex and the UI show it) or its
/// 18-character form (as the API returns it).
#[utoipa::path(
    get,
    path = "/v1/objects/{object}/records/by-salesforce-id/{id}",
    tag = "salesforce",
    params(
        ("object" = String, Path, description = "Salesforce object API name, e.g. `Contact`"),
        ("id" = String, Path, description = "The record's Salesforce Id, 15 or 18 characters", example = "0035g00000AbCdEAAV"),
    ),
    responses(
        (status = 200, description = "The record and its sync state", body = StagedRecord,
            example = json!({"object": "Contact", "external_id": "C-1001",
                "fields": {"External_Id__c": "C-1001", "LastName": "Durand"},
                "salesforce_id": "0035g00000AbCdEAAV", "sync_status": "synced", "version": 2,
                "attempts": 0, "last_error_code": null, "last_error_message": null,
                "received_at": "2026-11-28T10:00:00Z", "updated_at": "2026-11-28T10:00:01Z",
                "synced_at": "2026-11-28T10:00:01Z"})),
        (status = 400, description = "`id` is not a Salesforce Id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks records:read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown object, or no record with this Id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable; retry", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_record_by_salesforce_id(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((object, id)): ApiPath<(String, String)>,
) -> Result<Json<StagedRecord>, ApiError> {
    caller.require(Scope::RecordsRead)?;
    let id = SalesforceId::parse(&id)
        .map_err(|e| ApiError::bad_request("id", "salesforce_id", e.to_string()))?;
    let object = &state.object(&object)?.name;
    staging::find_by_salesforce_id(&state.pool, object, &id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no {object} with Salesforce Id {id}")))
}

/// Stages the deletion of a record: the scheduler deletes it in Salesforce by its Salesforce Id
/// (a record never synced is only marked deleted). Answers with the record as staged now; its
/// `sync_status` becomes `deleted` once done. Posting the record again later re-creates it.
#[utoipa::path(
    delete,
    path = "/v1/objects/{object}/records/{external_id}",
    tag = "records",
    params(
        ("object" = String, Path, description = "Salesforce object API name"),
        ("external_id" = String, Path, description = "The record's external id"),
    ),
    responses(
        (status = 202, description = "Deletion staged", body = StagedRecord),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token may not write this object", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown object or record", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn delete_record(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((object, external_id)): ApiPath<(String, String)>,
) -> Result<(StatusCode, Json<StagedRecord>), ApiError> {
    caller.require(Scope::RecordsWrite)?;
    let object = &state.object(&object)?.name;
    caller.may_write_object(object.as_str())?;
    let external_id = external_id_in_path(&external_id)?;
    if !staging::stage_deletion(&state.pool, object, &external_id).await? {
        return Err(no_such_record(object, &external_id));
    }
    let record = staging::find_record(&state.pool, object, &external_id)
        .await?
        .ok_or_else(|| no_such_record(object, &external_id))?;
    tracing::info!(%object, "deletion staged");
    Ok((StatusCode::ACCEPTED, Json(record)))
}

fn external_id_in_path(raw: &str) -> Result<ExternalId, ApiError> {
    ExternalId::parse(raw)
        .map_err(|e| ApiError::bad_request("external_id", "external_id", e.to_string()))
}

fn no_such_record(object: &ObjectName, external_id: &ExternalId) -> ApiError {
    ApiError::NotFound(format!(
        "no {object} with external id {:?}",
        external_id.as_str()
    ))
}
