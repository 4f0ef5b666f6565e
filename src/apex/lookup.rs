//! `GET /v1/objects/{object}/records/by-salesforce-id/{id}`: what the hub holds for a record Apex
//! knows by its Id (a trigger or a button on the record page).

use axum::Json;
use axum::extract::State;

use super::{SalesforceId, store};
use crate::auth::{Caller, Scope};
use crate::error::{ApiError, Problem};
use crate::extract::ApiPath;
use crate::staging::StagedRecord;
use crate::state::AppState;

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
    state.object(&object)?;
    store::find_by_salesforce_id(&state.pool, &object, &id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no {object} with Salesforce Id {id}")))
}
