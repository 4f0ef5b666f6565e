//! `/v1/failures`: records Salesforce refused, listed, retried after the data is fixed, or
//! discarded. The `sluice retry` / `sluice discard` commands and the status page do the same
//! through [`crate::staging`].

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Caller, Scope};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::staging::{self, FailedRecord, FailureFilter, Requeue};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only this object.
    pub object: Option<String>,
    /// Only this Salesforce error code.
    pub code: Option<String>,
    /// At most this many (default 100, at most 1000), newest first.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FailureList {
    pub failures: Vec<FailedRecord>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Affected {
    /// How many records the operation changed.
    pub records: u64,
}

/// Records Salesforce refused, with its error code and message.
#[utoipa::path(get, path = "/v1/failures", tag = "failures", params(ListParams),
    responses(
        (status = 200, description = "Failed records, newest first", body = FailureList),
        (status = 400, description = "Bad query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks sync:admin", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list_failures(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<FailureList>, ApiError> {
    caller.require(Scope::SyncAdmin)?;
    let limit = params.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request(
            "limit",
            "range",
            "must be between 1 and 1000",
        ));
    }
    let filter = FailureFilter {
        object: params.object,
        code: params.code,
        external_ids: None,
    };
    let failures = staging::list_failed(&state.pool, &filter, limit).await?;
    Ok(Json(FailureList { failures }))
}

/// Puts failed records back in the queue (after the data or the org was fixed).
#[utoipa::path(post, path = "/v1/failures/retry", tag = "failures",
    request_body(content = FailureFilter, example = json!({"object": "Contact", "code": "INVALID_EMAIL_ADDRESS"})),
    responses(
        (status = 200, description = "Records re-queued", body = Affected),
        (status = 400, description = "Bad filter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks sync:admin", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn retry_failures(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(filter): ApiJson<FailureFilter>,
) -> Result<Json<Affected>, ApiError> {
    caller.require(Scope::SyncAdmin)?;
    check(&filter)?;
    let records = staging::requeue(&state.pool, Requeue::Failed(&filter)).await?;
    tracing::info!(records, ?filter, "failed records re-queued");
    Ok(Json(Affected { records }))
}

/// Gives up on failed records; they stay visible as `discarded` until their data changes.
#[utoipa::path(post, path = "/v1/failures/discard", tag = "failures",
    request_body(content = FailureFilter, example = json!({"object": "Contact", "external_ids": ["C-2"]})),
    responses(
        (status = 200, description = "Records discarded", body = Affected),
        (status = 400, description = "Bad filter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks sync:admin", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn discard_failures(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(filter): ApiJson<FailureFilter>,
) -> Result<Json<Affected>, ApiError> {
    caller.require(Scope::SyncAdmin)?;
    check(&filter)?;
    let records = staging::discard(&state.pool, &filter).await?;
    tracing::info!(records, ?filter, "failed records discarded");
    Ok(Json(Affected { records }))
}

fn check(filter: &FailureFilter) -> Result<(), ApiError> {
    if filter.external_ids.is_some() && filter.object.is_none() {
        return Err(ApiError::bad_request(
            "object",
            "required",
            "external_ids need an object: the same external id may exist for several objects",
        ));
    }
    Ok(())
}
