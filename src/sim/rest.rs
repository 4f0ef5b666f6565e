//! Everything under `/services/data/vXX.X/`: version check, auth, limits, call counting, routing.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::bulk_query::{self, QueryJobRoute};
use super::error::ApiError;
use super::events::Origin;
use super::faults::{FaultConfig, Injected};
use super::query::{self, QueryRoute};
use super::replication::{self, Replication};
use super::{Simulator, bulk, collections, meta};

/// The oldest supported REST version: v21–30 are retired and v31–40 deprecated (docs/salesforce.md §2.1).
pub const MIN_VERSION: u32 = 41;
/// Summer '26 (doc header).
pub const LATEST_VERSION: &str = "67.0";
const MAX_VERSION: u32 = 67;

/// A parsed REST resource.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    Resources,
    Limits,
    Describe(String),
    GetRecord(String, String),
    CollectionsUpsert(String, String),
    CollectionsDelete,
    Bulk(bulk::BulkRoute),
    Query(QueryRoute),
    Replication(String, Replication),
    BulkQuery(QueryJobRoute),
    NotFound,
}

impl Route {
    fn parse(method: &Method, segs: &[&str]) -> Self {
        let m = method.clone();
        match (m, segs) {
            (Method::GET, []) => Self::Resources,
            (Method::GET, ["limits"]) => Self::Limits,
            (Method::GET, ["sobjects", obj, "describe"]) => Self::Describe(obj.to_string()),
            (Method::GET, ["sobjects", obj, "updated"]) => {
                Self::Replication(obj.to_string(), Replication::Updated)
            }
            (Method::GET, ["sobjects", obj, "deleted"]) => {
                Self::Replication(obj.to_string(), Replication::Deleted)
            }
            (Method::GET, ["query"]) => Self::Query(QueryRoute::Run { all_rows: false }),
            (Method::GET, ["queryAll"]) => Self::Query(QueryRoute::Run { all_rows: true }),
            (Method::GET, ["query" | "queryAll", locator]) => {
                Self::Query(QueryRoute::More(locator.to_string()))
            }
            (m, ["jobs", "query", rest @ ..]) => {
                QueryJobRoute::parse(&m, rest).map_or(Self::NotFound, Self::BulkQuery)
            }
            (Method::GET, ["sobjects", obj, id]) => {
                Self::GetRecord(obj.to_string(), id.to_string())
            }
            (Method::PATCH, ["composite", "sobjects", obj, field]) => {
                Self::CollectionsUpsert(obj.to_string(), field.to_string())
            }
            (Method::DELETE, ["composite", "sobjects"]) => Self::CollectionsDelete,
            (m, ["jobs", "ingest", rest @ ..]) => {
                bulk::BulkRoute::parse(&m, rest).map_or(Self::NotFound, Self::Bulk)
            }
            _ => Self::NotFound,
        }
    }

    /// The label [`Simulator::calls_by_kind`] reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Resources => "resources",
            Self::Limits => "limits",
            Self::Describe(_) => "describe",
            Self::GetRecord(..) => "sobject_get",
            Self::CollectionsUpsert(..) => "collections_upsert",
            Self::CollectionsDelete => "collections_delete",
            Self::Bulk(b) => b.kind(),
            Self::Query(q) => q.kind(),
            Self::Replication(_, r) => r.kind(),
            Self::BulkQuery(b) => b.kind(),
            Self::NotFound => "not_found",
        }
    }
}

/// Parses `vNN.N`; `Err` carries the rejection (docs/salesforce.md §2.1: retired versions answer 410).
fn check_version(seg: &str) -> Result<u32, ApiError> {
    let parsed = seg
        .strip_prefix('v')
        .and_then(|v| v.split_once('.'))
        .filter(|(major, minor)| {
            *minor == "0" && !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit())
        })
        .and_then(|(major, _)| major.parse::<u32>().ok());
    match parsed {
        Some(v) if (MIN_VERSION..=MAX_VERSION).contains(&v) => Ok(v),
        // [UNVERIFIED] body of the 410; the doc only gives the status.
        Some(v) if v < MIN_VERSION => Err(ApiError::new(
            StatusCode::GONE,
            "API_VERSION_RETIRED",
            format!("Version v{v}.0 of the API is no longer supported"),
        )),
        _ => Err(ApiError::not_found()),
    }
}

pub fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let invalid = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_AUTH_HEADER",
            "INVALID_HEADER_TYPE: use an HTTP authorization header with the format: Authorization: Bearer Access_Token",
        )
    };
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(invalid)?
        .to_str()
        .map_err(|_| invalid())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(invalid)?;
    // Salesforce accepts the legacy `OAuth` scheme as well as `Bearer`.
    let token = token.trim();
    if !(scheme.eq_ignore_ascii_case("Bearer") || scheme.eq_ignore_ascii_case("OAuth"))
        || token.is_empty()
    {
        return Err(invalid());
    }
    Ok(token)
}

pub struct Call<'a> {
    pub version: u32,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: Bytes,
}

/// Salesforce finishes a request whose client has gone (docs/salesforce.md §7.2: after a
/// timeout or a reset "the write may have been applied"): each call is handled in a task of its
/// own, which a dropped connection does not cancel.
pub async fn entry(
    State(sim): State<Simulator>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    tokio::spawn(handle(sim, method, uri, headers, body))
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "simulator call panicked");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "UNKNOWN_EXCEPTION",
                "An unexpected error occurred.",
            )
            .into_response()
        })
}

async fn handle(
    sim: Simulator,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let _guard = sim.enter();
    if let Err(refused) = sim.lock().rate.arrive(Instant::now()) {
        return refused.into_response();
    }
    let latency = sim.lock().faults.latency_ms;
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let injected = {
        let mut state = sim.lock();
        let mut seen = state.calls_seen;
        let fault = state.faults.next_call(&mut seen);
        state.calls_seen = seen;
        fault
    };
    if let Some(fault) = injected {
        return fault.into_response();
    }
    let path = uri.path().strip_prefix("/services/data/").unwrap_or("");
    let mut segs: Vec<&str> = path.split('/').collect();
    if segs.last() == Some(&"") {
        segs.pop();
    }
    let Some((version_seg, rest)) = segs.split_first() else {
        return ApiError::not_found().into_response();
    };
    let version = match check_version(version_seg) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let route = Route::parse(&method, rest);
    let kind = route.kind();
    if FaultConfig::take(&mut sim.lock().faults.fail_next_of, kind) {
        return Injected::ServerError.into_response();
    }
    if matches!(
        route,
        Route::CollectionsUpsert(..) | Route::CollectionsDelete
    ) {
        let late = sim.lock().faults.next_collections_delay();
        if let Some(late) = late {
            tokio::time::sleep(late).await;
        }
    }
    let origin = origin(&route, version, &headers);
    let mut res = match authorize_and_count(&sim, &headers, route.kind()) {
        Ok(()) => {
            let call = Call {
                version,
                query: uri.query(),
                headers: &headers,
                body,
            };
            dispatch(&sim, route, call).unwrap_or_else(IntoResponse::into_response)
        }
        Err(e) => e.into_response(),
    };
    sim.publish_changes(&origin);
    if FaultConfig::take(&mut sim.lock().faults.drop_answer_of, kind) {
        return Injected::Drop.into_response();
    }
    let (used, max) = sim.api_usage();
    if let Ok(v) = HeaderValue::from_str(&format!("api-usage={used}/{max}")) {
        res.headers_mut().insert("Sforce-Limit-Info", v);
    }
    res
}

/// Who the change events of this call's writes name: the integration user, and the API in
/// `changeOrigin` with the client id of `Sforce-Call-Options: client=…` when sent
/// (<https://developer.salesforce.com/docs/platform/apex-ref/references/apex-ref/apex-class-eventbus-changeeventheader.html>,
/// `changeorigin`).
fn origin(route: &Route, version: u32, headers: &HeaderMap) -> Origin {
    let api = if matches!(route, Route::Bulk(_)) {
        "bulkapi"
    } else {
        "rest"
    };
    let client = headers
        .get("sforce-call-options")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',')
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("client"))
                .map(|(_, c)| c.trim().to_string())
        });
    let mut change_origin = format!("com/salesforce/api/{api}/{version}.0");
    if let Some(client) = client {
        change_origin.push_str(&format!(";client={client}"));
    }
    Origin {
        user: super::token::USER_ID.to_string(),
        change_origin,
    }
}

/// Checks the session, then the daily allocation, then counts the call.
/// A call refused with 401 or 403 isn't counted [UNVERIFIED: a choice; Salesforce doesn't say].
fn authorize_and_count(sim: &Simulator, headers: &HeaderMap, kind: &str) -> Result<(), ApiError> {
    let token = bearer(headers)?;
    let ttl = sim.cfg().token_ttl;
    let mut state = sim.lock();
    let now = Instant::now();
    match state.tokens.get_mut(token) {
        // Doc §1.1: a successful call extends the session.
        Some(expiry) if *expiry > now => *expiry = now + ttl,
        _ => return Err(ApiError::invalid_session()),
    }
    // Doc §6.3: 403 REQUEST_LIMIT_EXCEEDED, never 429.
    if state.used >= state.max {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
        ));
    }
    state.count(kind);
    Ok(())
}

fn dispatch(sim: &Simulator, route: Route, call: Call<'_>) -> Result<Response, ApiError> {
    match route {
        Route::Resources => Ok(meta::resources(call.version)),
        Route::Limits => Ok(meta::limits(sim)),
        Route::Describe(obj) => meta::describe(sim, &obj),
        Route::GetRecord(obj, id) => collections::get_record(sim, &obj, &id, call.query),
        // Doc §3: collections upsert exists from v46.0.
        Route::CollectionsUpsert(..) if call.version < 46 => Err(ApiError::not_found()),
        Route::CollectionsUpsert(obj, field) => collections::upsert(sim, &obj, &field, &call.body),
        Route::CollectionsDelete => collections::delete(sim, call.query),
        Route::Bulk(b) => bulk::handle(sim, b, &call),
        Route::Query(q) => query::handle(sim, q, &call),
        Route::Replication(obj, r) => replication::handle(sim, &obj, r, call.query),
        Route::BulkQuery(b) => bulk_query::handle(sim, b, &call),
        Route::NotFound => Err(ApiError::not_found()),
    }
}
