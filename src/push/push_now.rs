//! `POST /v1/objects/{object}/push`: Apex asks for records to go to Salesforce now, instead of at
//! their next attempt (after a backoff, or after it fixed what made them fail).
//!
//! Scope: `records:write` for the object (`sluice_objects`), not `sync:admin`. A caller that may
//! write a record may already make it pending by writing it; `sync:admin` would also let an Apex
//! Named Credential list and discard every failure of every object. The call gate still applies:
//! records made due now are pushed as soon as Salesforce's limits allow.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Caller, Scope};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath};
use crate::staging::{self, Requeue, SyncStatus};
use crate::state::AppState;

/// The most external ids one push-now request may name: one sObject Collections call's worth.
pub const MAX_PUSH_NOW_IDS: usize = 200;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushNowRequest {
    /// External ids of the object's records, at most 200.
    pub external_ids: Vec<String>,
}

/// A record that was not queued, and why: its status.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotQueued {
    pub external_id: String,
    /// `synced` (nothing to push), `in_flight` (being pushed now) or `discarded`.
    pub sync_status: SyncStatus,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PushNowResponse {
    /// Pending or failed records now due; failed ones start again with fresh attempts.
    pub queued: Vec<String>,
    /// Records in another state, left alone.
    pub not_queued: Vec<NotQueued>,
    /// External ids the hub has no record for.
    pub unknown: Vec<String>,
}

/// Push these records now.
///
/// Pending records become due now; failed records become pending with fresh attempts. The push
/// scheduler is woken and sends them as soon as Salesforce's limits allow. Records already in
/// Salesforce (`synced`), being pushed, or discarded are left alone and listed in `not_queued`.
#[utoipa::path(
    post,
    path = "/v1/objects/{object}/push",
    tag = "salesforce",
    params(("object" = String, Path, description = "Salesforce object API name, e.g. `Contact`")),
    request_body(content = PushNowRequest, example = json!({"external_ids": ["C-1001", "C-1002", "C-9999"]})),
    responses(
        (status = 202, description = "What was queued, left alone, or unknown", body = PushNowResponse,
            example = json!({"queued": ["C-1001"],
                "not_queued": [{"external_id": "C-1002", "sync_status": "synced"}],
                "unknown": ["C-9999"]})),
        (status = 400, description = "`external_ids` missing, empty, too many or blank", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks records:write or may not write this object", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown object", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable; retry", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn push_records_now(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(object): ApiPath<String>,
    ApiJson(request): ApiJson<PushNowRequest>,
) -> Result<(StatusCode, Json<PushNowResponse>), ApiError> {
    caller.require(Scope::RecordsWrite)?;
    let object = &state.object(&object)?.name;
    caller.may_write_object(object.as_str())?;
    check(&request.external_ids)?;
    // Pending and failed records are the ones sent again; the answer says so of each id.
    let known = staging::statuses(&state.pool, object, &request.external_ids).await?;
    staging::requeue(
        &state.pool,
        Requeue::Now {
            object,
            external_ids: &request.external_ids,
        },
    )
    .await?;
    let mut answer = PushNowResponse {
        queued: Vec::new(),
        not_queued: Vec::new(),
        unknown: Vec::new(),
    };
    for row in known {
        match row.sync_status {
            Some(SyncStatus::Pending | SyncStatus::Failed) => answer.queued.push(row.external_id),
            Some(sync_status) => answer.not_queued.push(NotQueued {
                external_id: row.external_id,
                sync_status,
            }),
            None => answer.unknown.push(row.external_id),
        }
    }
    tracing::info!(%object, queued = answer.queued.len(), unknown = answer.unknown.len(), "push now");
    Ok((StatusCode::ACCEPTED, Json(answer)))
}

fn check(external_ids: &[String]) -> Result<(), ApiError> {
    if external_ids.is_empty() {
        return Err(ApiError::bad_request(
            "external_ids",
            "empty",
            "name at least one external id",
        ));
    }
    if external_ids.len() > MAX_PUSH_NOW_IDS {
        return Err(ApiError::bad_request(
            "external_ids",
            "too_many",
            format!(
                "{} ids; at most {MAX_PUSH_NOW_IDS} per request",
                external_ids.len()
            ),
        ));
    }
    match external_ids.iter().position(|id| id.trim().is_empty()) {
        Some(i) => Err(ApiError::bad_request(
            &format!("external_ids[{i}]"),
            "required",
            "blank external id",
        )),
        None => Ok(()),
    }
}
