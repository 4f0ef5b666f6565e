//! The HTTP API: one route table that builds both the router and the OpenAPI document.

mod error;
mod extract;
mod health;
mod middleware;
pub mod openapi;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::routing::get;
use sqlx::PgPool;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::{ApiError, FailureCause, FieldProblem, PROBLEM_JSON, Problem};
pub use extract::{ApiJson, RawBody};

use crate::auth::Authenticator;
use crate::objects::Catalog;
use crate::{failures, ingest};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub catalog: Arc<Catalog>,
    pub authenticator: Authenticator,
    pub max_body_bytes: usize,
}

impl FromRef<AppState> for Authenticator {
    fn from_ref(state: &AppState) -> Self {
        state.authenticator.clone()
    }
}

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub request_timeout: std::time::Duration,
}

/// The route table. Every route is listed once, here; the OpenAPI document is derived from it.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(health::get_health))
        .routes(routes!(health::get_ready))
        .routes(routes!(ingest::routes::post_records))
        .routes(routes!(ingest::routes::get_record))
        .routes(routes!(failures::routes::list_failures))
        .routes(routes!(failures::routes::retry_failures))
        .routes(routes!(failures::routes::discard_failures))
}

/// The application's router, with its middleware. Tests call it in-process or serve it on port 0.
pub fn router(state: AppState, settings: &HttpSettings) -> Router {
    let (router, _) = routes().split_for_parts();
    let openapi_json = openapi::document_json();
    let body_limit = state.max_body_bytes;
    let router = router
        .route(
            "/openapi.json",
            get(move || async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    openapi_json,
                )
            }),
        )
        .fallback(middleware::not_found)
        .with_state(state)
        .layer(DefaultBodyLimit::max(body_limit));
    middleware::stack(router, settings)
}
