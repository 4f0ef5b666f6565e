//! `GET /sobjects/{Object}/updated/?start=&end=` and `/deleted/`: the replication resources.
//!
//! Documented rules (<https://developer.salesforce.com/docs/platform/api-rest/guide/resources-getupdated.html>,
//! <https://developer.salesforce.com/docs/platform/api-rest/guide/resources-getdeleted.html>):
//! seconds of `start`/`end` are dropped; `start` must precede `end`; getUpdated looks back at most
//! 30 days and getDeleted 15; more than 600,000 ids is `EXCEEDED_ID_LIMIT`; the change date is
//! `SystemModstamp`. `latestDateCovered` is at most `end`, and callers resume from it.
//!
//! Choices where the docs are silent [UNVERIFIED]: the window is `[start, latestDateCovered)`;
//! `latestDateCovered` is `end` or, if `end` is later, the start of the current minute (changes in
//! a minute still under way are left to the next call); bad dates answer 400
//! `INVALID_REPLICATION_DATE`, the code of the SOAP API's replication calls.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::clock::{self, truncate_to_minute};
use super::error::ApiError;
use super::{Simulator, schema};

const MAX_IDS: usize = 600_000;
const UPDATED_DAYS: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replication {
    Updated,
    Deleted,
}

impl Replication {
    pub fn kind(self) -> &'static str {
        match self {
            Self::Updated => "sobject_updated",
            Self::Deleted => "sobject_deleted",
        }
    }

    fn lookback_days(self) -> i64 {
        match self {
            Self::Updated => UPDATED_DAYS,
            Self::Deleted => super::store::RECYCLE_DAYS,
        }
    }
}

fn replication_date(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "INVALID_REPLICATION_DATE", message)
}

/// The `[start, latestDateCovered)` window a call asks for, checked.
struct Window {
    start: DateTime<Utc>,
    covered: DateTime<Utc>,
}

fn window(query: Option<&str>, now: DateTime<Utc>, which: Replication) -> Result<Window, ApiError> {
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let param = |name: &str| -> Result<DateTime<Utc>, ApiError> {
        let raw = params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "MISSING_ARGUMENT",
                    format!("{name} parameter is required"),
                )
            })?;
        clock::parse_param(raw)
            .map(truncate_to_minute)
            .ok_or_else(|| replication_date(format!("Invalid {name} date: {raw}")))
    };
    let start = param("start")?;
    let end = param("end")?;
    if start >= end {
        return Err(replication_date(
            "startDate must chronologically precede endDate",
        ));
    }
    let days = which.lookback_days();
    if start < now - Duration::days(days) {
        return Err(replication_date(format!(
            "startDate cannot be more than {days} days ago"
        )));
    }
    Ok(Window {
        start,
        covered: end.min(truncate_to_minute(now)),
    })
}

pub fn handle(
    sim: &Simulator,
    object: &str,
    which: Replication,
    query: Option<&str>,
) -> Result<Response, ApiError> {
    let obj = schema::object(object).ok_or_else(ApiError::not_found)?;
    let mut guard = sim.lock();
    let state = &mut *guard;
    state.store.purge_recycle_bin();
    let now = state.store.clock.now();
    let w = window(query, now, which)?;
    let inside =
        |stamp: Option<DateTime<Utc>>| stamp.is_some_and(|t| t >= w.start && t < w.covered);
    let table = state.store.table(obj);
    let body = match which {
        Replication::Updated => {
            let ids: Vec<&str> = table
                .records()
                .filter(|r| {
                    inside(
                        r.get("SystemModstamp")
                            .and_then(Value::as_str)
                            .and_then(clock::parse_stored),
                    )
                })
                .filter_map(|r| r.get("Id").and_then(Value::as_str))
                .collect();
            too_many(ids.len())?;
            json!({"ids": ids, "latestDateCovered": clock::format(w.covered)})
        }
        Replication::Deleted => {
            let deleted: Vec<Value> = table
                .recycled()
                .filter(|r| inside(Some(r.deleted_at)))
                .map(|r| json!({"id": r.record.get("Id"), "deletedDate": clock::format(r.deleted_at)}))
                .collect();
            too_many(deleted.len())?;
            let earliest = table.purged_through().unwrap_or(state.created_at);
            json!({
                "deletedRecords": deleted,
                "earliestDateAvailable": clock::format(truncate_to_minute(earliest)),
                "latestDateCovered": clock::format(w.covered),
            })
        }
    };
    Ok(Json(body).into_response())
}

fn too_many(count: usize) -> Result<(), ApiError> {
    if count > MAX_IDS {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "EXCEEDED_ID_LIMIT",
            format!(
                "{count} ids found; the limit is {MAX_IDS}. Choose start and end dates closer together."
            ),
        ));
    }
    Ok(())
}
