//! `/__sim/…` endpoints that act on the org from outside the API: edits "as a user in
//! Salesforce" (published as change events, not counted as API calls), seeding, picklist values
//! changed in Setup, the clock, the event-delivery allocation and the CometD clients.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::Simulator;
use super::org::EditError;
use super::setup::SetupError;

pub fn routes() -> Router<Simulator> {
    Router::new()
        .route("/__sim/edit/{object}", post(post_edit))
        .route("/__sim/delete/{object}", post(post_delete))
        .route("/__sim/seed/{object}", post(post_seed))
        .route(
            "/__sim/setup/picklist/{object}/{field}",
            post(post_picklist_value),
        )
        .route("/__sim/clock", get(get_clock).post(post_clock))
        .route(
            "/__sim/event-usage",
            get(get_event_usage).post(post_event_usage),
        )
        .route("/__sim/events", get(get_events))
        .route("/__sim/streaming/expire-clients", post(post_expire_clients))
}

fn bad_request(message: impl std::fmt::Display) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": message.to_string()})),
    )
        .into_response()
}

fn edit_error(e: &EditError) -> Response {
    let status = match e {
        EditError::UnknownObject(_) | EditError::NotFound { .. } => StatusCode::NOT_FOUND,
        EditError::BadValue { .. } | EditError::Invalid(_) => StatusCode::BAD_REQUEST,
    };
    (status, Json(json!({"error": e.to_string()}))).into_response()
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, serde_json::Error> {
    serde_json::from_slice(body)
}

/// Body: the record's fields; with `Id` it updates that record, without it creates one.
async fn post_edit(
    State(sim): State<Simulator>,
    Path(object): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let values: Map<String, Value> = match parse(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(e),
    };
    match sim.edit_as_user(&object, &values) {
        Ok((id, created)) => Json(json!({"id": id, "created": created})).into_response(),
        Err(e) => edit_error(&e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Ids {
    ids: Vec<String>,
}

/// Body: `{"ids": [...]}`, deleted in one transaction.
async fn post_delete(
    State(sim): State<Simulator>,
    Path(object): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let ids: Ids = match parse(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(e),
    };
    match sim.delete_as_user(&object, &ids.ids) {
        Ok(n) => Json(json!({"deleted": n})).into_response(),
        Err(e) => edit_error(&e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Seed {
    records: Vec<Map<String, Value>>,
}

/// Body: `{"records": [...]}`, created without change events (see [`Simulator::seed`]).
async fn post_seed(
    State(sim): State<Simulator>,
    Path(object): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let seed: Seed = match parse(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(e),
    };
    match sim.seed(&object, &seed.records) {
        Ok(ids) => Json(json!({"created": ids.len()})).into_response(),
        Err(e) => edit_error(&e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PicklistValue {
    value: String,
    active: bool,
}

/// Body: `{"value": "Cancelled", "active": true}`: the value is added to the field's picklist,
/// or (de)activated, as an admin would in Setup.
async fn post_picklist_value(
    State(sim): State<Simulator>,
    Path((object, field)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let change: PicklistValue = match parse(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(e),
    };
    match sim.set_picklist_value(&object, &field, &change.value, change.active) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e @ SetupError::NotPicklist { .. }) => bad_request(e),
        Err(e) => (StatusCode::NOT_FOUND, Json(json!({"error": e.to_string()}))).into_response(),
    }
}

async fn get_clock(State(sim): State<Simulator>) -> Json<Value> {
    Json(json!({"now": super::clock::format(sim.now())}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    advance_secs: u64,
}

/// Body: `{"advance_secs": N}`: the org's clock moves N seconds ahead.
async fn post_clock(State(sim): State<Simulator>, body: axum::body::Bytes) -> Response {
    let advance: Advance = match parse(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(e),
    };
    sim.advance_clock(std::time::Duration::from_secs(advance.advance_secs));
    get_clock(State(sim)).await.into_response()
}

async fn get_event_usage(State(sim): State<Simulator>) -> Json<Value> {
    let (used, max) = sim.event_usage();
    Json(json!({"used": used, "max": max}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Usage {
    used: u64,
    max: u64,
}

async fn post_event_usage(State(sim): State<Simulator>, body: axum::body::Bytes) -> Response {
    let usage: Usage = match parse(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(e),
    };
    sim.set_event_usage(usage.used, usage.max);
    StatusCode::NO_CONTENT.into_response()
}

async fn get_events(State(sim): State<Simulator>) -> Json<Value> {
    Json(json!({
        "retained": sim.retained_events(),
        "latest_replay_id": sim.latest_replay_id(),
        "delivered": sim.events_delivered(),
    }))
}

async fn post_expire_clients(State(sim): State<Simulator>) -> StatusCode {
    sim.expire_streaming_clients();
    StatusCode::NO_CONTENT
}
