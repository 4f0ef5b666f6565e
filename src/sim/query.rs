//! `GET /query?q=`, `/queryAll?q=` and `/query/{locator}`: SOQL over REST, paged.
//!
//! "up to 2,000 records can be returned at a time … the response contains the first batch of
//! records, a false value for done, and a query locator"
//! (<https://developer.salesforce.com/docs/platform/api-rest/guide/resources-query.html>). A
//! queryAll's `nextRecordsUrl` says `query` and either resource pages it
//! (<https://developer.salesforce.com/docs/platform/api-rest/guide/resources-queryall-more-results.html>).
//! Every page is one API call.

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Simulator;
use super::error::ApiError;
use super::rest::Call;
use super::soql;

/// "The default is 2,000; the minimum is 200, and the maximum is 2,000"
/// (<https://developer.salesforce.com/docs/platform/api-rest/guide/headers-queryoptions.html>).
pub const DEFAULT_BATCH: usize = 2000;
const MIN_BATCH: usize = 200;

#[derive(Debug, Clone, PartialEq)]
pub enum QueryRoute {
    /// `query` (false) or `queryAll` (true).
    Run {
        all_rows: bool,
    },
    More(String),
}

impl QueryRoute {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Run { all_rows: false } => "query",
            Self::Run { all_rows: true } => "query_all",
            Self::More(_) => "query_more",
        }
    }
}

pub fn handle(sim: &Simulator, route: QueryRoute, call: &Call<'_>) -> Result<Response, ApiError> {
    let batch = batch_size(call.headers)?;
    match route {
        QueryRoute::Run { all_rows } => run(sim, all_rows, batch, call),
        QueryRoute::More(locator) => more(sim, &locator, batch, call.version),
    }
}

/// Reads `Sforce-Query-Options: batchSize=N`. The docs give the range but not what happens
/// outside it; the simulator refuses rather than silently clamping, so a client bug shows
/// [UNVERIFIED: Salesforce may clamp instead].
fn batch_size(headers: &HeaderMap) -> Result<Option<usize>, ApiError> {
    let Some(raw) = headers.get("sforce-query-options") else {
        return Ok(None);
    };
    let invalid = |detail: &str| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_BATCH_SIZE",
            format!(
                "Invalid batch size: {detail}. The batch size must be between {MIN_BATCH} and {DEFAULT_BATCH}."
            ),
        )
    };
    let text = raw.to_str().map_err(|_| invalid("unreadable header"))?;
    let value = text
        .split([',', ';'])
        .filter_map(|part| part.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("batchSize"))
        .map(|(_, v)| v.trim())
        .ok_or_else(|| invalid(text))?;
    match value.parse::<usize>() {
        Ok(n) if (MIN_BATCH..=DEFAULT_BATCH).contains(&n) => Ok(Some(n)),
        _ => Err(invalid(value)),
    }
}

fn run(
    sim: &Simulator,
    all_rows: bool,
    batch: Option<usize>,
    call: &Call<'_>,
) -> Result<Response, ApiError> {
    let q = url::form_urlencoded::parse(call.query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.into_owned())
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| {
            // [UNVERIFIED] wording for a missing `q`.
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "MALFORMED_QUERY",
                "A query string has to be specified",
            )
        })?;
    let bound = soql::compile(&q)?;
    let version = format!("{}.0", call.version);
    let mut guard = sim.lock();
    let state = &mut *guard;
    state.store.purge_recycle_bin();
    let table = state.store.table(bound.object);
    let rows: Box<dyn Iterator<Item = &super::store::Record>> = if all_rows {
        let mut all: Vec<_> = table
            .records()
            .chain(table.recycled().map(|r| &r.record))
            .collect();
        all.sort_by(|a, b| {
            a.get("Id")
                .and_then(Value::as_str)
                .cmp(&b.get("Id").and_then(Value::as_str))
        });
        Box::new(all.into_iter())
    } else {
        Box::new(table.records())
    };
    let rows: Vec<Value> = soql::run(&bound, rows)
        .into_iter()
        .map(|r| soql::project(&bound, r, &version))
        .collect();
    let batch = batch.unwrap_or(DEFAULT_BATCH);
    if rows.len() <= batch {
        return Ok(page(rows.len(), rows, None));
    }
    let now = state.store.clock.now();
    let total = rows.len();
    let first: Vec<Value> = rows[..batch].to_vec();
    let id = state.cursors.open(rows, batch, now);
    let next = format!("/services/data/v{version}/query/{id}-{batch}");
    Ok(page(total, first, Some(next)))
}

fn more(
    sim: &Simulator,
    locator: &str,
    batch: Option<usize>,
    version: u32,
) -> Result<Response, ApiError> {
    let mut state = sim.lock();
    let now = state.store.clock.now();
    let (cursor, offset, id) = state.cursors.find(locator, now).ok_or_else(|| {
        // [UNVERIFIED] the status; the code is documented for invalid or expired locators:
        // <https://help.salesforce.com/s/articleView?id=000384958&type=1>.
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY_LOCATOR",
            "invalid query locator",
        )
    })?;
    let batch = batch.unwrap_or(cursor.batch);
    let total = cursor.rows.len();
    let end = (offset + batch).min(total);
    let rows = cursor.rows[offset..end].to_vec();
    let next = (end < total).then(|| format!("/services/data/v{version}.0/query/{id}-{end}"));
    Ok(page(total, rows, next))
}

fn page(total: usize, records: Vec<Value>, next: Option<String>) -> Response {
    let mut body = json!({"totalSize": total, "done": next.is_none(), "records": records});
    if let Some(next) = next {
        body["nextRecordsUrl"] = json!(next);
    }
    Json(body).into_response()
}
