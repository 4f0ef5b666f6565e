//! `/__sim/…`: inspection and control for tests; no auth, not counted.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::faults::FaultConfig;
use super::{Simulator, schema};

pub fn routes() -> Router<Simulator> {
    Router::new()
        .route("/__sim/records/{object}", get(get_records))
        .route("/__sim/stats", get(get_stats))
        .route("/__sim/expire-tokens", post(post_expire_tokens))
        .route("/__sim/usage", post(post_usage))
        .route("/__sim/faults", get(get_faults).post(post_faults))
        .route("/__sim/reset", post(post_reset))
}

async fn get_records(State(sim): State<Simulator>, Path(object): Path<String>) -> Response {
    if schema::object(&object).is_none() {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "unknown object"})),
        )
            .into_response();
    }
    Json(sim.records(&object)).into_response()
}

async fn get_stats(State(sim): State<Simulator>) -> Response {
    let stats = sim.stats();
    let (used, max) = sim.api_usage();
    Json(json!({
        "calls_total": stats.total,
        "calls_by_kind": stats.by_kind,
        "max_concurrency": stats.max_concurrency,
        "max_calls_in_any_second": stats.per_second.values().copied().max().unwrap_or(0),
        "calls_per_second": stats.per_second,
        "api_usage": {"used": used, "max": max},
    }))
    .into_response()
}

async fn post_expire_tokens(State(sim): State<Simulator>) -> StatusCode {
    sim.expire_all_tokens();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Usage {
    used: u64,
    max: u64,
}

async fn post_usage(State(sim): State<Simulator>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<Usage>(&body) {
        Ok(u) => {
            sim.set_api_usage(u.used, u.max);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => bad_request(&e),
    }
}

async fn get_faults(State(sim): State<Simulator>) -> Json<FaultConfig> {
    Json(sim.faults())
}

/// Replaces the whole fault configuration; `{}` clears it.
async fn post_faults(State(sim): State<Simulator>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<FaultConfig>(&body) {
        Ok(f) => {
            sim.set_faults(f);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => bad_request(&e),
    }
}

async fn post_reset(State(sim): State<Simulator>) -> StatusCode {
    sim.reset();
    StatusCode::NO_CONTENT
}

fn bad_request(e: &serde_json::Error) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": e.to_string()})),
    )
        .into_response()
}
