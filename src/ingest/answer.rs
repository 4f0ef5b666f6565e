//! The answer to an ingest request, and its replay for a retried `Idempotency-Key`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::idempotency::StoredAnswer;
use super::records::ParsedBatch;
use crate::error::{ApiError, FieldProblem};
use crate::staging::StageOutcome;

/// At most this many rejected records are listed in the answer to an NDJSON stream.
pub const MAX_LISTED_REJECTIONS: usize = 1000;

/// What happened to one record of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    /// New or changed: staged and queued for Salesforce.
    Staged,
    /// Equal to what is staged or already in Salesforce: nothing to do.
    Unchanged,
    /// Not accepted; see `errors`.
    Rejected,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecordResult {
    /// Position of the record in the request's array (or its line among the NDJSON records).
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub status: RecordStatus,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub errors: Vec<FieldProblem>,
}

/// The answer to an ingest request. For a JSON array: one result per record, in request order.
/// For an NDJSON stream: the counts, and the rejected records only (at most 1000; `truncated`
/// says when more were rejected).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct IngestResponse {
    pub staged: usize,
    pub unchanged: usize,
    pub rejected: usize,
    pub results: Vec<RecordResult>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

impl IngestResponse {
    /// Adds a chunk's results. With `only_rejections`, staged and unchanged records are counted
    /// but not listed.
    pub fn add(&mut self, batch: ParsedBatch, outcomes: &[StageOutcome], only_rejections: bool) {
        let mut results: Vec<RecordResult> = Vec::with_capacity(batch.total);
        for ((row, indexes), outcome) in batch.rows.iter().zip(outcomes) {
            let status = match outcome {
                StageOutcome::Queued => RecordStatus::Staged,
                StageOutcome::Unchanged => RecordStatus::Unchanged,
            };
            for &index in indexes {
                results.push(RecordResult {
                    index,
                    external_id: Some(row.external_id.to_string()),
                    status,
                    errors: Vec::new(),
                });
            }
        }
        let mut rejected: Vec<RecordResult> = Vec::new();
        let mut slot_of: std::collections::HashMap<usize, usize> = Default::default();
        for problem in batch.problems {
            let Some(index) = problem.index else { continue };
            match slot_of.get(&index) {
                Some(&slot) => rejected[slot].errors.push(problem),
                None => {
                    slot_of.insert(index, rejected.len());
                    rejected.push(RecordResult {
                        index,
                        external_id: problem.external_id.clone(),
                        status: RecordStatus::Rejected,
                        errors: vec![problem],
                    });
                }
            }
        }
        for r in &results {
            match r.status {
                RecordStatus::Staged => self.staged += 1,
                RecordStatus::Unchanged => self.unchanged += 1,
                RecordStatus::Rejected => {}
            }
        }
        self.rejected += rejected.len();
        if only_rejections {
            let room = MAX_LISTED_REJECTIONS.saturating_sub(self.results.len());
            self.truncated |= rejected.len() > room;
            self.results.extend(rejected.into_iter().take(room));
        } else {
            results.extend(rejected);
            self.results.extend(results);
            self.results.sort_by_key(|r| r.index);
        }
    }

    /// 202 when anything was accepted, 422 when every record was rejected.
    pub fn status(&self) -> StatusCode {
        if self.staged + self.unchanged == 0 {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::ACCEPTED
        }
    }
}

pub fn replay(answer: StoredAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::ACCEPTED);
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        let errors = serde_json::from_value::<IngestResponse>(answer.body)
            .map(|r| r.results.into_iter().flat_map(|r| r.errors).collect())
            .unwrap_or_default();
        return ApiError::AllRejected { errors }.into_response();
    }
    (status, Json(answer.body)).into_response()
}
