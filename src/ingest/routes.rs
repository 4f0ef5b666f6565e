use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;

use super::answer::{IngestResponse, replay, respond};
use super::decode::{DecodeError, DecodedBody, Encoding};
use super::idempotency::{self, IdempotencyKey, StoredAnswer};
use super::ndjson::{NdjsonReader, StreamError};
use super::pipeline::check_for_staging;
use super::records::{ParsedBatch, parse_array};
use super::strict_json::Item;
use crate::auth::{Caller, Scope};
use crate::error::{ApiError, FieldProblem, Problem};
use crate::extract::{ApiPath, ApiQuery};
use crate::normalize::Mapping;
use crate::objects::ObjectSpec;
use crate::salesforce::SObjectDescribe;
use crate::staging::{ObjectName, StageOutcome};
use crate::state::AppState;

/// NDJSON records are normalized and staged this many at a time.
const NDJSON_CHUNK: usize = 2000;
/// The sender whose mapping applies when the request names none.
pub const DEFAULT_SOURCE: &str = "default";

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IngestParams {
    /// The sender, whose mapping turns its records into Salesforce fields (default: `default`,
    /// Salesforce field names in, light normalization).
    pub source: Option<String>,
}

/// The body's format.
pub(super) enum Format {
    JsonArray,
    Ndjson,
}

/// Stage records of one Salesforce object.
///
/// The body is a JSON array of records (`application/json`, at most 10,000) or one record per
/// line (`application/x-ndjson`, streamed, for large loads), plain or `Content-Encoding: gzip`.
/// A record holding a key twice is refused, as is an external id that is not text free of
/// control characters or an integer JSON holds exactly. Each record is normalized through
/// the sender's mapping (`source`) and checked against Salesforce's describe of the object; valid
/// records are staged and pushed to Salesforce by the scheduler, invalid ones are reported one by
/// one with the field, the rule and why. Two records with the same external id are merged (later
/// fields win). Nothing is staged from a request that fails as a whole.
#[utoipa::path(
    post,
    path = "/v1/objects/{object}/records",
    tag = "records",
    params(
        ("object" = String, Path, description = "Salesforce object API name, e.g. `Contact`"),
        IngestParams,
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request return the first answer and stage nothing twice"),
    ),
    request_body(
        content(
            (Vec<Object> = "application/json", example = json!([{"External_Id__c": "C-1001", "LastName": "Durand", "Email": "marie.durand@example.com"}])),
            (Object = "application/x-ndjson", example = "{\"External_Id__c\": \"C-1001\", \"LastName\": \"Durand\"}\n{\"External_Id__c\": \"C-1002\", \"LastName\": \"Martin\"}\n"),
        )
    ),
    responses(
        (status = 202, description = "At least one record staged or unchanged; per-record results", body = IngestResponse),
        (status = 400, description = "Not a batch of records (bad JSON, not an array, empty, too many)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token may not write this object or source", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown object, or no mapping for this source and object", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Idempotency-Key reused with another body", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither application/json nor application/x-ndjson, or a Content-Encoding other than gzip", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every record was rejected", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable, or the ingest inbox is over SLUICE_INBOX_MAX_RECORDS; nothing stored; retry after Retry-After", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn post_records(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(object): ApiPath<String>,
    ApiQuery(params): ApiQuery<IngestParams>,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, ApiError> {
    caller.require(Scope::RecordsWrite)?;
    let (spec, mapping) = authorized_mapping(&state, &caller, &object, params.source.as_deref())?;
    let format = body_format(&headers)?;
    let encoding = body_encoding(&headers)?;
    let key = IdempotencyKey::from_headers(&headers)?;
    let caller_id = format!("{}|{}", caller.issuer, caller.subject);
    let body = request.into_body();
    let Staged {
        hash,
        mut tx,
        answer,
    } = match format {
        Format::JsonArray => {
            let body = decoded(&state, body, encoding, state.max_body_bytes);
            json_array(&state, &spec.name, mapping, body, key.is_some()).await?
        }
        Format::Ndjson => {
            let body = decoded(&state, body, encoding, state.max_stream_bytes);
            ndjson(&state, &spec.name, mapping, body, key.is_some()).await?
        }
    };
    if let (Some(key), Some(hash)) = (&key, &hash) {
        let stored = StoredAnswer {
            status: answer.status().as_u16(),
            body: serde_json::to_value(&answer).map_err(|e| ApiError::Internal(e.into()))?,
        };
        if let Some(earlier) = idempotency::lookup(&mut tx, &caller_id, key, hash).await? {
            tx.rollback().await?;
            return Ok(replay(earlier));
        }
        if !idempotency::store(&mut tx, &caller_id, key, hash, &stored).await? {
            // A concurrent request with this key committed first: answer as it did.
            tx.rollback().await?;
            let mut conn = state.pool.acquire().await?;
            return match idempotency::lookup(&mut conn, &caller_id, key, hash).await? {
                Some(earlier) => Ok(replay(earlier)),
                None => Err(ApiError::Conflict(
                    "a request with this key is in progress".into(),
                )),
            };
        }
        tx.commit().await?;
        log_answer(&spec.name, mapping, &answer);
        return Ok(replay(stored));
    }
    tx.commit().await?;
    log_answer(&spec.name, mapping, &answer);
    Ok(respond(answer))
}

fn log_answer(object: &ObjectName, mapping: &Mapping, answer: &IngestResponse) {
    let spec_name = object.as_str();
    tracing::info!(object = %spec_name, source = mapping.source(), staged = answer.staged, unchanged = answer.unchanged, rejected = answer.rejected, "records ingested");
    super::metrics::records(
        spec_name,
        answer.staged + answer.unchanged + answer.rejected,
        answer.rejected,
        answer.staged,
    );
    let staged_ids = answer
        .results
        .iter()
        .filter(|r| r.status == super::RecordStatus::Staged)
        .filter_map(|r| r.external_id.as_deref());
    tracing::debug!(object = %spec_name, external_ids = %crate::telemetry::id_list(staged_ids), "records staged");
}

/// Records staged in a transaction not yet committed, with the request's hash (only with an
/// `Idempotency-Key`) and answer.
struct Staged {
    hash: Option<String>,
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
    answer: IngestResponse,
}

/// A JSON array, read whole (it is bounded by the body limit).
async fn json_array(
    state: &AppState,
    object: &ObjectName,
    mapping: &Mapping,
    body: DecodedBody,
    hashed: bool,
) -> Result<Staged, ApiError> {
    let bytes = body.read_all().await.map_err(decode_error)?;
    let hash = hashed.then(|| idempotency::request_hash(object.as_str(), &bytes));
    let items =
        parse_array(&bytes).map_err(|e| ApiError::bad_request("body", e.rule, e.message))?;
    drop(bytes);
    let describe = state.describes.get(object.as_str());
    let mut tx = state.pool.begin().await?;
    let (batch, outcomes) =
        stage(state, &mut tx, object, mapping, describe.as_deref(), items).await?;
    let mut answer = IngestResponse::default();
    answer.add(batch, &outcomes, false);
    Ok(Staged { hash, tx, answer })
}

/// Checks and stages one chunk in the request's transaction, unless its records would go through
/// an inbox deeper than `SLUICE_INBOX_MAX_RECORDS`: then the request is refused, and its
/// transaction, rolled back, has written nothing.
async fn stage(
    state: &AppState,
    tx: &mut sqlx::PgConnection,
    object: &ObjectName,
    mapping: &Mapping,
    describe: Option<&SObjectDescribe>,
    items: Vec<Item>,
) -> Result<(ParsedBatch, Vec<StageOutcome>), ApiError> {
    let checked = check_for_staging(tx, object, mapping, describe, items).await?;
    if let Some(depth) = checked.inbox_depth()
        && u64::try_from(depth).unwrap_or(0) > state.inbox_max_records
    {
        return Err(ApiError::InboxFull {
            depth,
            max: state.inbox_max_records,
        });
    }
    Ok(checked.stage(tx, object).await?)
}

/// An NDJSON stream, read and staged a chunk at a time in one transaction: a broken stream
/// stages nothing.
async fn ndjson(
    state: &AppState,
    object: &ObjectName,
    mapping: &Mapping,
    body: DecodedBody,
    hashed: bool,
) -> Result<Staged, ApiError> {
    let mut reader = NdjsonReader::new(body, hashed.then_some(object.as_str()));
    let describe = state.describes.get(object.as_str());
    let mut tx = state.pool.begin().await?;
    let mut answer = IngestResponse::default();
    loop {
        let chunk = reader
            .next_chunk(NDJSON_CHUNK)
            .await
            .map_err(stream_error)?;
        if chunk.is_empty() {
            break;
        }
        let (batch, outcomes) =
            stage(state, &mut tx, object, mapping, describe.as_deref(), chunk).await?;
        answer.add(batch, &outcomes, true);
    }
    if answer.staged + answer.unchanged + answer.rejected == 0 {
        return Err(ApiError::bad_request(
            "body",
            "empty",
            "the stream holds no records",
        ));
    }
    Ok(Staged {
        hash: reader.digest(),
        tx,
        answer,
    })
}

pub(super) fn stream_error(e: StreamError) -> ApiError {
    match e {
        StreamError::Body(e) => decode_error(e),
        StreamError::LineTooLong { index, .. } => {
            let message = e.to_string();
            ApiError::BadRequest {
                detail: format!("body: {message}"),
                errors: vec![FieldProblem {
                    index: Some(index),
                    ..FieldProblem::new("body", "line_too_long", message)
                }],
            }
        }
    }
}

pub(super) fn decode_error(e: DecodeError) -> ApiError {
    match e {
        DecodeError::TooLarge { limit } => ApiError::PayloadTooLarge { limit },
        DecodeError::Ratio { .. } => {
            ApiError::bad_request("body", "compression_ratio", e.to_string())
        }
        DecodeError::Corrupt(_) => ApiError::bad_request("body", "encoding", e.to_string()),
        DecodeError::Read(_) => ApiError::bad_request("body", "unreadable", e.to_string()),
    }
}

/// A request body decoded by its `Content-Encoding`, within `limit` decoded bytes.
pub(super) fn decoded(
    state: &AppState,
    body: axum::body::Body,
    encoding: Encoding,
    limit: usize,
) -> DecodedBody {
    DecodedBody::new(body, encoding, limit, state.max_decompression_ratio)
}

/// The body's `Content-Encoding`: 415 for one the hub does not decode.
pub(super) fn body_encoding(headers: &HeaderMap) -> Result<Encoding, ApiError> {
    Encoding::from_headers(headers).map_err(|e| ApiError::UnsupportedMediaType(e.to_string()))
}

/// The object and the sender's mapping for it, once the caller may write both.
pub(super) fn authorized_mapping<'a>(
    state: &'a AppState,
    caller: &Caller,
    object: &str,
    source: Option<&str>,
) -> Result<(&'a ObjectSpec, &'a Mapping), ApiError> {
    let spec = state.object(object)?;
    caller.may_write_object(object)?;
    let source = source.unwrap_or(DEFAULT_SOURCE);
    caller.may_write_source(source)?;
    let mapping = state.mappings.get(source, object).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no mapping for source {source:?} and object {object:?}"
        ))
    })?;
    Ok((spec, mapping))
}

pub(super) fn body_format(headers: &HeaderMap) -> Result<Format, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Ok(Format::JsonArray)
    } else if essence.eq_ignore_ascii_case("application/x-ndjson") {
        Ok(Format::Ndjson)
    } else {
        Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type must be application/json or application/x-ndjson, got {content_type:?}"
        )))
    }
}
