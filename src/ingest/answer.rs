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
    /// New or changed: staged and queued for Salesforce. In a request of more than 50 records,
    /// accepted into the ingest inbox: whether it changes anything is found when it is merged,
    /// moments later.
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
        let listed = if only_rejections { 0 } else { batch.total };
        let mut results: Vec<RecordResult> = Vec::with_capacity(listed);
        for ((row, indexes), outcome) in batch.rows.into_iter().zip(outcomes) {
            let status = match outcome {
                StageOutcome::Queued => RecordStatus::Staged,
                StageOutcome::Unchanged => RecordStatus::Unchanged,
            };
            match status {
                RecordStatus::Staged => self.staged += indexes.len(),
                RecordStatus::Unchanged => self.unchanged += indexes.len(),
                RecordStatus::Rejected => {}
            }
            if only_rejections {
                continue;
            }
            // The row's own id goes to its last record; merged ones before it get copies.
            let ids = std::iter::repeat_n(String::from(row.external_id), indexes.len());
            results.extend(
                indexes
                    .into_iter()
                    .zip(ids)
                    .map(|(index, id)| RecordResult {
                        index,
                        external_id: Some(id),
                        status,
                        errors: Vec::new(),
                    }),
            );
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
        self.rejected += rejected.len();
        if only_rejections {
            let room = MAX_LISTED_REJECTIONS.saturating_sub(self.results.len());
            self.truncated |= rejected.len() > room;
            self.results.extend(rejected.into_iter().take(room));
        } else {
            results.extend(rejected);
            if self.results.is_empty() {
                self.results = results;
            } else {
                self.results.extend(results);
            }
            if !self.results.is_sorted_by_key(|r| r.index) {
                self.results.sort_by_key(|r| r.index);
            }
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

/// The answer as made, written straight from the results: what [`replay`] answers for it once
/// stored, without building the `Value` that storing needs.
pub fn respond(answer: IngestResponse) -> Response {
    let status = answer.status();
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        let errors = answer.results.into_iter().flat_map(|r| r.errors).collect();
        return ApiError::AllRejected { errors }.into_response();
    }
    (status, Json(answer)).into_response()
}

/// The answer stored for an `Idempotency-Key`, answered again as it was first made.
pub fn replay(answer: StoredAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::ACCEPTED);
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        return respond(serde_json::from_value(answer.body).unwrap_or_default());
    }
    (status, Json(answer.body)).into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::to_bytes;
    use serde_json::Value;

    use super::*;

    async fn read(response: Response) -> (StatusCode, Option<String>, Value) {
        let status = response.status();
        let content_type = response
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (
            status,
            content_type,
            serde_json::from_slice(&bytes).unwrap(),
        )
    }

    fn result(index: usize, status: RecordStatus, errors: Vec<FieldProblem>) -> RecordResult {
        RecordResult {
            index,
            external_id: Some(format!("C-{index}")),
            status,
            errors,
        }
    }

    fn rejection(index: usize) -> RecordResult {
        let problem = FieldProblem {
            index: Some(index),
            external_id: Some(format!("C-{index}")),
            salesforce_field: Some("Email".into()),
            ..FieldProblem::new("email", "email", "not an address")
        };
        result(index, RecordStatus::Rejected, vec![problem])
    }

    fn batch() -> ParsedBatch {
        let row = |id: &str| crate::staging::StageRow {
            external_id: crate::staging::ExternalId::parse(id).unwrap(),
            fields: serde_json::Map::new(),
        };
        let problem = |index| FieldProblem {
            index: Some(index),
            ..FieldProblem::new("Email", "email", "not an address")
        };
        ParsedBatch {
            rows: vec![(row("C-1"), vec![0, 3]), (row("C-2"), vec![1])],
            refused: Vec::new(),
            problems: vec![problem(2), problem(4), problem(2)],
            total: 5,
        }
    }

    #[test]
    fn every_record_is_listed_in_order_with_its_row_s_outcome() {
        let outcomes = [StageOutcome::Queued, StageOutcome::Unchanged];
        let mut answer = IngestResponse::default();
        answer.add(batch(), &outcomes, false);
        let listed: Vec<_> = answer
            .results
            .iter()
            .map(|r| (r.index, r.external_id.as_deref(), r.status, r.errors.len()))
            .collect();
        use RecordStatus::*;
        assert_eq!(
            listed,
            [
                (0, Some("C-1"), Staged, 0),
                (1, Some("C-2"), Unchanged, 0),
                (2, None, Rejected, 2),
                (3, Some("C-1"), Staged, 0),
                (4, None, Rejected, 1),
            ]
        );
        assert_eq!(
            (answer.staged, answer.unchanged, answer.rejected),
            (2, 1, 2)
        );
        let mut only = IngestResponse::default();
        only.add(batch(), &outcomes, true);
        assert_eq!((only.staged, only.unchanged, only.rejected), (2, 1, 2));
        let indexes: Vec<usize> = only.results.iter().map(|r| r.index).collect();
        assert_eq!(indexes, [2, 4]);
    }

    #[tokio::test]
    async fn an_answer_as_made_reads_as_its_replay() {
        let accepted = IngestResponse {
            staged: 1,
            unchanged: 1,
            rejected: 1,
            results: vec![
                result(0, RecordStatus::Staged, Vec::new()),
                rejection(1),
                result(2, RecordStatus::Unchanged, Vec::new()),
            ],
            truncated: true,
        };
        let refused = IngestResponse {
            rejected: 2,
            results: vec![rejection(0), rejection(1)],
            ..IngestResponse::default()
        };
        for answer in [accepted, refused] {
            let stored = StoredAnswer {
                status: answer.status().as_u16(),
                body: serde_json::to_value(&answer).unwrap(),
            };
            let made = read(respond(answer)).await;
            assert_eq!(made, read(replay(stored)).await);
        }
    }
}
