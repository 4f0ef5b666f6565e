//! Trying a mapping before using it: `POST /v1/mappings/{source}/{object}/preview` answers, for
//! a sample of records, each one as Salesforce would receive it or every reason it would be
//! refused, exactly as ingest would decide, spending no API call and storing nothing.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::decode::DecodedBody;
use super::ndjson::NdjsonReader;
use super::pipeline::check_chunk;
use super::records::{MAX_RECORDS_PER_REQUEST, ParsedBatch, parse_array};
use super::routes::{
    Format, authorized_mapping, body_encoding, body_format, decode_error, decoded, stream_error,
};
use super::strict_json::Item;
use crate::auth::{Caller, Scope};
use crate::error::{ApiError, FieldProblem, Problem};
use crate::extract::ApiPath;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PreviewStatus {
    /// Ingest would stage it, and Salesforce would receive `record`.
    Accepted,
    /// Ingest would refuse it; see `errors`.
    Refused,
}

/// What would become of one record of the sample.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PreviewRecord {
    /// Position of the record in the sample.
    pub index: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub status: PreviewStatus,
    /// The fields Sluice would send, by Salesforce name; a parent is
    /// `{"Relationship__r": {"Key__c": "…"}}`. Records with the same external id are merged,
    /// later fields winning, as ingest merges them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub record: Option<Map<String, Value>>,
    /// Every problem, each naming the sender's field and the Salesforce field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

/// The preview of a sample through one mapping.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PreviewResponse {
    pub source: String,
    pub object: String,
    pub accepted: usize,
    pub refused: usize,
    /// Whether the records were checked against Salesforce's describe of the object, as ingest
    /// checks them (false until the hub has read it).
    pub describe_checked: bool,
    /// One entry per record, in sample order.
    pub records: Vec<PreviewRecord>,
}

impl PreviewResponse {
    /// The answer for a checked batch.
    pub fn new(source: &str, object: &str, batch: ParsedBatch, describe_checked: bool) -> Self {
        let mut records: Vec<PreviewRecord> = Vec::with_capacity(batch.total);
        for (row, indexes) in batch.rows {
            for index in indexes {
                records.push(PreviewRecord {
                    index,
                    external_id: Some(row.external_id.to_string()),
                    status: PreviewStatus::Accepted,
                    record: Some(row.fields.clone()),
                    errors: Vec::new(),
                });
            }
        }
        let mut refused: HashMap<usize, usize> = HashMap::new();
        for problem in batch.problems {
            let index = problem.index.unwrap_or_default();
            match refused.get(&index) {
                Some(&at) => records[at].errors.push(problem),
                None => {
                    refused.insert(index, records.len());
                    records.push(PreviewRecord {
                        index,
                        external_id: problem.external_id.clone(),
                        status: PreviewStatus::Refused,
                        record: None,
                        errors: vec![problem],
                    });
                }
            }
        }
        records.sort_by_key(|r| r.index);
        Self {
            source: source.to_owned(),
            object: object.to_owned(),
            accepted: records.len() - refused.len(),
            refused: refused.len(),
            describe_checked,
            records,
        }
    }
}

/// Preview a mapping on sample records.
///
/// The body is what `POST /v1/objects/{object}/records?source={source}` would take: a JSON array
/// (`application/json`) or one record per line (`application/x-ndjson`), at most 10,000 records.
/// Each record goes through the source's mapping and the describe check exactly as ingest would
/// (records already staged are checked as updates), and the answer shows, for each, the fields
/// Salesforce would receive or every problem found. Nothing is staged and no Salesforce API call
/// is made. Needs `records:write` for that source and object.
#[utoipa::path(
    post,
    path = "/v1/mappings/{source}/{object}/preview",
    tag = "records",
    params(
        ("source" = String, Path, description = "The sender whose mapping is tried, e.g. `erp-fr`"),
        ("object" = String, Path, description = "Salesforce object API name, e.g. `Invoice__c`"),
    ),
    request_body(
        content(
            (Vec<Object> = "application/json", example = json!([{"numero_facture": "F-1", "montant_ttc": "1 234,56 €", "date_facture": "1er mars 2026", "statut": "Payée"}])),
            (Object = "application/x-ndjson"),
        )
    ),
    responses(
        (status = 200, description = "Each record as Salesforce would receive it, or why it would be refused", body = PreviewResponse),
        (status = 400, description = "Not a batch of records (bad JSON, not an array, empty, too many)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token may not write this object or source", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown object, or no mapping for this source and object", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither application/json nor application/x-ndjson", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable; retry", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn preview_records(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((source, object)): ApiPath<(String, String)>,
    headers: HeaderMap,
    request: Request,
) -> Result<Json<PreviewResponse>, ApiError> {
    caller.require(Scope::RecordsWrite)?;
    let (spec, mapping) = authorized_mapping(&state, &caller, &object, Some(&source))?;
    let body = request.into_body();
    let format = body_format(&headers)?;
    let body = decoded(&state, body, body_encoding(&headers)?, state.max_body_bytes);
    let items = match format {
        Format::JsonArray => {
            let bytes = body.read_all().await.map_err(decode_error)?;
            parse_array(&bytes).map_err(|e| ApiError::bad_request("body", e.rule, e.message))?
        }
        Format::Ndjson => ndjson_sample(body).await?,
    };
    let describe = state.describes.get(spec.name.as_str());
    let mut conn = state.pool.acquire().await?;
    let batch = check_chunk(&mut conn, &spec.name, mapping, describe.as_deref(), items).await?;
    Ok(Json(PreviewResponse::new(
        mapping.source(),
        mapping.object(),
        batch,
        describe.is_some(),
    )))
}

/// An NDJSON sample, bounded like a JSON array: its bytes by the body limit, its records by
/// [`MAX_RECORDS_PER_REQUEST`].
async fn ndjson_sample(body: DecodedBody) -> Result<Vec<Item>, ApiError> {
    let mut reader = NdjsonReader::new(body, None);
    let items = reader
        .next_chunk(MAX_RECORDS_PER_REQUEST + 1)
        .await
        .map_err(stream_error)?;
    if items.is_empty() {
        return Err(ApiError::bad_request(
            "body",
            "empty",
            "the stream holds no records",
        ));
    }
    if items.len() > MAX_RECORDS_PER_REQUEST {
        return Err(ApiError::bad_request(
            "body",
            "too_many",
            format!("more than {MAX_RECORDS_PER_REQUEST} records; preview a sample"),
        ));
    }
    Ok(items)
}
