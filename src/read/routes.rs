//! `GET /v1/objects/{object}/changes?since=<cursor>`: what changed in an object's records, for
//! internal apps that would rather poll over HTTP than `LISTEN` (channel
//! `sluice_changes_<object in lower case>`) and read the table.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Caller, Scope};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiPath, ApiQuery};
use crate::staging::{self, ChangeCursor, ChangedRecord, SyncStatus};
use crate::state::AppState;

const DEFAULT_LIMIT: i64 = 500;
const MAX_LIMIT: i64 = 1000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesParams {
    /// The `next` cursor of the previous page; absent: from the beginning. Cursors stay valid
    /// across restarts: store the last one and resume from it.
    pub since: Option<String>,
    /// Records per page (default 500, at most 1000).
    pub limit: Option<i64>,
}

/// A record as it is after its latest change.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Change {
    /// Resume after this record.
    pub cursor: String,
    pub external_id: String,
    pub salesforce_id: Option<String>,
    /// `upsert`, or `delete` for a record deleted (in Salesforce or through the hub).
    pub operation: String,
    /// `salesforce` when the change was read from Salesforce, `hub` when it came into the hub.
    pub origin: String,
    pub sync_status: SyncStatus,
    pub version: i64,
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
    pub changed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChangesPage {
    pub changes: Vec<Change>,
    /// Pass as `since` for the next page (the same cursor when nothing changed).
    pub next: String,
    /// More changes are waiting: ask again at once.
    pub more: bool,
}

fn encode(cursor: ChangeCursor) -> String {
    format!("{}-{}", cursor.xid, cursor.id)
}

fn decode(raw: &str) -> Option<ChangeCursor> {
    let (xid, id) = raw.split_once('-')?;
    let cursor = ChangeCursor {
        xid: xid.parse().ok()?,
        id: id.parse().ok()?,
    };
    (cursor.xid >= 0 && cursor.id >= 0).then_some(cursor)
}

impl From<ChangedRecord> for Change {
    fn from(r: ChangedRecord) -> Self {
        Self {
            cursor: encode(r.cursor),
            external_id: r.external_id.to_string(),
            salesforce_id: r.salesforce_id.map(|id| id.to_string()),
            operation: r.operation.as_str().to_owned(),
            origin: r.origin,
            sync_status: r.sync_status,
            version: r.version,
            fields: r.fields,
            changed_at: r.updated_at,
        }
    }
}

/// Records of an object changed since a cursor, oldest change first.
///
/// Each record appears once, as it is after its latest change; a record changed again moves to
/// the end of the feed. A change shows here once its transaction and every older one have
/// committed, so a caller that resumes from its last `next` misses nothing, even across restarts
/// of either side. SQL listeners get `NOTIFY sluice_changes_<object in lower case>` (payload: the
/// origin) on every change.
#[utoipa::path(
    get,
    path = "/v1/objects/{object}/changes",
    tag = "records",
    params(("object" = String, Path, description = "Salesforce object API name, e.g. `Contact`"), ChangesParams),
    responses(
        (status = 200, description = "A page of changed records", body = ChangesPage,
            example = json!({"changes": [{"cursor": "7514-42", "external_id": "C-1001",
                "salesforce_id": "0035g00000AbCdEAAV", "operation": "upsert", "origin": "salesforce",
                "sync_status": "synced", "version": 3,
                "fields": {"External_Id__c": "C-1001", "LastName": "Durand"},
                "changed_at": "2026-12-05T10:00:01Z"}], "next": "7514-42", "more": false})),
        (status = 400, description = "Bad cursor or limit", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks records:read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown object", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable; retry", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_changes(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(object): ApiPath<String>,
    ApiQuery(params): ApiQuery<ChangesParams>,
) -> Result<Json<ChangesPage>, ApiError> {
    caller.require(Scope::RecordsRead)?;
    let object = &state.object(&object)?.name;
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(
            "limit",
            "range",
            format!("must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let since = match params.since.as_deref() {
        None | Some("") => ChangeCursor::default(),
        Some(raw) => decode(raw).ok_or_else(|| {
            ApiError::bad_request(
                "since",
                "cursor",
                "not a cursor this API gave (use the `next` of a previous page)",
            )
        })?,
    };
    let rows = staging::changes_after(&state.pool, object, since, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    let changes: Vec<Change> = rows
        .into_iter()
        .take(limit as usize)
        .map(Change::from)
        .collect();
    let next = changes
        .last()
        .map_or_else(|| encode(since), |c| c.cursor.clone());
    Ok(Json(ChangesPage {
        changes,
        next,
        more,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        let c = ChangeCursor { xid: 7514, id: 42 };
        assert_eq!(decode(&encode(c)), Some(c));
        for bad in ["", "7514", "a-b", "-1-2", "1-", "1-2-3"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }
}
