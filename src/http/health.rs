use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`
    pub status: &'static str,
}

/// The process is up. No authentication, no database access: for the platform's checks.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, description = "Up", body = Health)))]
pub async fn get_health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The database is reachable and every migration is applied.
#[utoipa::path(get, path = "/ready", tag = "health",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Database unreachable or not migrated", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_ready(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    match crate::db::is_migrated(&state.pool).await {
        Ok(true) => Ok(Json(Health { status: "ok" })),
        Ok(false) => Err(ApiError::Unavailable(sqlx::Error::Protocol(
            "migrations are not applied; run `sluice migrate`".into(),
        ))),
        Err(e) => Err(ApiError::Unavailable(e)),
    }
}
