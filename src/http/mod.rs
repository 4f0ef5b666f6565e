//! The HTTP API: one route table that builds both the router and the OpenAPI document.

mod health;
mod limits;
mod middleware;
pub mod openapi;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;
use crate::{failures, ingest, observe, push, records, sources};

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub request_timeout: std::time::Duration,
    pub rate_limit: crate::config::RateLimitConfig,
    /// Empty: no CORS headers at all.
    pub cors_origins: Vec<String>,
}

impl HttpSettings {
    pub fn from_config(cfg: &crate::config::Config) -> Self {
        Self {
            request_timeout: cfg.request_timeout,
            rate_limit: cfg.rate_limit,
            cors_origins: cfg.cors_origins.clone(),
        }
    }
}

/// The route table. Every route is listed once, here; the OpenAPI document is derived from it.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(health::get_health))
        .routes(routes!(health::get_ready))
        .routes(routes!(ingest::routes::post_records))
        .routes(routes!(records::get_record))
        .routes(routes!(ingest::preview::preview_records))
        .routes(routes!(records::delete_record))
        .routes(routes!(failures::list_failures))
        .routes(routes!(failures::retry_failures))
        .routes(routes!(failures::discard_failures))
        .routes(routes!(observe::metrics::get_metrics))
        .routes(routes!(records::get_record_by_salesforce_id))
        .routes(routes!(crate::read::routes::get_changes))
        .routes(routes!(push::push_now::push_records_now))
        .routes(routes!(ingest::from_salesforce::post_salesforce_records))
        .routes(routes!(sources::webhooks::receive::receive_webhook))
}

/// The application's router, with its middleware. Tests call it in-process or serve it on port 0.
pub fn router(state: AppState, settings: &HttpSettings) -> Router {
    let (router, _) = routes().split_for_parts();
    let openapi_json = openapi::document_json();
    let body_limit = state.max_body_bytes;
    let caller_limits = limits::CallerLimits::new(state.authenticator.clone(), settings.rate_limit);
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
        .merge(crate::status_page::router())
        .fallback(middleware::not_found)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(
            caller_limits,
            limits::limit_callers,
        ));
    // Outside the caller limits and auth, so preflights are answered before them, but inside the
    // common stack, so preflight answers carry the same security headers and request id.
    let router = match limits::cors(&settings.cors_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    };
    middleware::stack(router, settings)
}
