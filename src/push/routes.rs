//! `DELETE /v1/objects/{object}/records/{external_id}`: stage a deletion for the push engine.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use sqlx::PgPool;

use crate::auth::{Caller, Scope};
use crate::error::{ApiError, Problem};
use crate::extract::ApiPath;
use crate::staging::{self, StagedRecord};
use crate::state::AppState;

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
    state.object(&object)?;
    caller.may_write_object(&object)?;
    if !stage_deletion(&state.pool, &object, &external_id).await? {
        return Err(ApiError::NotFound(format!(
            "no {object} with external id {external_id:?}"
        )));
    }
    let record = staging::find_record(&state.pool, &object, &external_id)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!("no {object} with external id {external_id:?}"))
        })?;
    tracing::info!(object, "deletion staged");
    Ok((StatusCode::ACCEPTED, Json(record)))
}

/// Marks the row for deletion; the staging trigger bumps its version and queues it (a row in
/// flight is pushed again after, as a deletion). False when there is no such row.
pub async fn stage_deletion(
    pool: &PgPool,
    object: &str,
    external_id: &str,
) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar(
        "UPDATE staging_records SET operation = 'delete', origin = 'hub' \
         WHERE object = $1 AND external_id = $2 RETURNING id",
    )
    .bind(object)
    .bind(external_id)
    .fetch_optional(pool)
    .await?;
    Ok(found.is_some())
}
