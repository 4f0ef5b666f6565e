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
        .route("/__sim/arrivals/{object}", get(get_arrivals))
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

/// When each live record of `object` was created and last written, in unix milliseconds, by
/// its external id: what a lag benchmark needs, without every record's fields.
async fn get_arrivals(State(sim): State<Simulator>, Path(object): Path<String>) -> Response {
    let Some(obj) = schema::object(&object) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "unknown object"})),
        )
            .into_response();
    };
    let Some(field) = obj.fields.iter().find(|f| f.external_id) else {
        return Json(json!({})).into_response();
    };
    let millis = |record: &serde_json::Map<String, serde_json::Value>, name: &str| {
        record
            .get(name)
            .and_then(|v| v.as_str())
            .and_then(|s| chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.3f%z").ok())
            .map(|t| t.timestamp_millis())
    };
    let arrivals: serde_json::Map<String, serde_json::Value> = sim
        .records(obj.name)
        .iter()
        .filter_map(|r| {
            let ext = r.get(field.name)?.as_str()?.to_string();
            let times = json!({
                "created_ms": millis(r, "CreatedDate"),
                "modified_ms": millis(r, "LastModifiedDate"),
            });
            Some((ext, times))
        })
        .collect();
    Json(arrivals).into_response()
}

async fn get_stats(State(sim): State<Simulator>) -> Response {
    let stats = sim.stats();
    let (used, max) = sim.api_usage();
    let (events_used, events_max) = sim.event_usage();
    Json(json!({
        "calls_total": stats.total,
        "calls_by_kind": stats.by_kind,
        "calls_by_family": stats.families(),
        "streaming_by_kind": stats.streaming_by_kind,
        "event_usage": {"used": events_used, "max": events_max},
        "max_concurrency": stats.max_concurrency,
        "max_calls_in_any_second": sim.max_calls_in_any_second(),
        "calls_refused_per_second": sim.calls_refused_per_second(),
        "requests_received": stats.requests_received,
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
