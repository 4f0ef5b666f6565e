//! Versions, the resource list, `/limits` and describe (docs/salesforce.md §2.1, §6.2, §9).

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::rest::MIN_VERSION;
use super::{Simulator, schema};

/// `GET /services/data/`: no auth, not counted, no `Sforce-Limit-Info` (docs/salesforce.md §2.1, §6.2).
pub async fn versions() -> Response {
    let max: u32 = super::rest::LATEST_VERSION
        .trim_end_matches(".0")
        .parse()
        .unwrap_or(MIN_VERSION);
    let list: Vec<Value> = (MIN_VERSION..=max)
        .map(|v| {
            let label = format!("Version {v}.0");
            json!({"label": label, "url": format!("/services/data/v{v}.0"), "version": format!("{v}.0")})
        })
        .collect();
    Json(list).into_response()
}

pub fn resources(version: u32) -> Response {
    let base = format!("/services/data/v{version}.0");
    Json(json!({
        "limits": format!("{base}/limits"),
        "sobjects": format!("{base}/sobjects"),
        "composite": format!("{base}/composite"),
        "jobs": format!("{base}/jobs"),
    }))
    .into_response()
}

/// Every key is `{Max, Remaining}` (docs/salesforce.md §6.2). Besides the API, Bulk and event allocations the
/// values are static.
pub fn limits(sim: &Simulator) -> Response {
    let (used, max) = sim.api_usage();
    let (batches_used, query_jobs) = {
        let state = sim.lock();
        (state.bulk_batches, state.query_jobs_created)
    };
    let (events_used, events_max) = sim.event_usage();
    let entry = |max: u64, remaining: u64| json!({"Max": max, "Remaining": remaining});
    let mut body = Map::new();
    body.insert(
        "DailyApiRequests".into(),
        entry(max, max.saturating_sub(used)),
    );
    body.insert(
        "DailyBulkApiBatches".into(),
        entry(15_000, 15_000u64.saturating_sub(batches_used)),
    );
    body.insert(
        "DailyBulkV2QueryJobs".into(),
        entry(10_000, 10_000u64.saturating_sub(query_jobs)),
    );
    // [UNVERIFIED] the key that reports change-event deliveries to CometD clients.
    body.insert(
        "DailyDeliveredPlatformEvents".into(),
        entry(events_max, events_max.saturating_sub(events_used)),
    );
    body.insert(
        "DailyBulkV2QueryFileStorageMB".into(),
        entry(1_048_576, 1_048_576),
    );
    body.insert("DailyAsyncApexExecutions".into(), entry(250_000, 250_000));
    body.insert("DataStorageMB".into(), entry(5, 5));
    body.insert("FileStorageMB".into(), entry(20, 20));
    Json(Value::Object(body)).into_response()
}

pub fn describe(sim: &Simulator, object: &str) -> Result<Response, ApiError> {
    let obj = schema::object(object).ok_or_else(ApiError::not_found)?;
    let describe = obj.describe(&sim.lock().store.setup);
    Ok(Json(describe).into_response())
}
