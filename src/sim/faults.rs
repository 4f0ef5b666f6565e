//! Fault injection: transport failures, latency, outages and per-record lock errors.

use axum::body::{Body, Bytes, HttpBody};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::error::{ApiError, RecordError};

/// What to break. Request-level faults hit REST calls under `/services/data/vXX.X/` and CometD
/// requests under `/cometd/`, are answered before authentication, and don't count as API calls
/// [UNVERIFIED: a choice].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// The next N calls answer 503 `SERVER_UNAVAILABLE`.
    pub unavailable_next: u32,
    /// The next N calls answer 500 `UNKNOWN_EXCEPTION`.
    pub server_error_next: u32,
    /// The next N calls get their connection closed without a response.
    pub drop_next: u32,
    /// Added to every REST call before it is handled.
    pub latency_ms: u64,
    /// The next N sObject Collections calls (upserts, deletions) are handled `late_ms` late:
    /// Salesforce goes on with a call whose client timed out and writes its records when it
    /// finishes (docs/salesforce.md §7.2).
    pub late_collections_next: u32,
    /// How late those calls are handled and answered.
    pub late_ms: u64,
    /// Each entry, a call kind as `/__sim/stats` names it (`bulk_set_job_state`,
    /// `bulk_get_job`, …): the next call of that kind is handled, its effects kept, but its
    /// connection is closed without an answer. Used up; list a kind twice to hit it twice.
    pub drop_answer_of: Vec<String>,
    /// Each entry, a call kind: the next call of that kind answers 500 `UNKNOWN_EXCEPTION`
    /// without being handled. Used up.
    pub fail_next_of: Vec<String>,
    /// Every K-th call answers 500 `UNKNOWN_EXCEPTION`; 0 is off.
    pub fail_one_in: u32,
    /// Each entry makes one write of the record with that external id fail `UNABLE_TO_LOCK_ROW`,
    /// then is used up (list a value twice to fail it twice).
    pub lock_external_ids: Vec<String>,
    /// The fraction of written records (0.0–1.0) that fail `UNABLE_TO_LOCK_ROW`.
    pub lock_fraction: f64,
    /// Every REST call answers 503 until then.
    pub outage_until: Option<DateTime<Utc>>,
    /// The next N CometD requests (a connect, say) get their connection closed; REST calls are
    /// untouched.
    pub cometd_drop_next: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injected {
    Drop,
    Unavailable,
    ServerError,
}

impl FaultConfig {
    /// Uses up an entry of `list` naming `kind`; whether there was one.
    pub fn take(list: &mut Vec<String>, kind: &str) -> bool {
        match list.iter().position(|k| k == kind) {
            Some(at) => {
                list.remove(at);
                true
            }
            None => false,
        }
    }

    /// How long to wait before handling a sObject Collections call, using one late call up.
    pub fn next_collections_delay(&mut self) -> Option<std::time::Duration> {
        if self.late_collections_next == 0 {
            return None;
        }
        self.late_collections_next -= 1;
        Some(std::time::Duration::from_millis(self.late_ms))
    }

    /// Decides the fate of one REST call; `seen` counts calls for `fail_one_in`.
    pub fn next_call(&mut self, seen: &mut u64) -> Option<Injected> {
        *seen += 1;
        if self.drop_next > 0 {
            self.drop_next -= 1;
            return Some(Injected::Drop);
        }
        if self.outage_until.is_some_and(|until| Utc::now() < until) {
            return Some(Injected::Unavailable);
        }
        if self.unavailable_next > 0 {
            self.unavailable_next -= 1;
            return Some(Injected::Unavailable);
        }
        if self.server_error_next > 0 {
            self.server_error_next -= 1;
            return Some(Injected::ServerError);
        }
        if self.fail_one_in > 0 && (*seen).is_multiple_of(u64::from(self.fail_one_in)) {
            return Some(Injected::ServerError);
        }
        None
    }

    /// Doc §7.2: `UNABLE_TO_LOCK_ROW` for a record about to be written.
    pub fn lock_error(
        &mut self,
        external_id: Option<&str>,
        id: Option<&str>,
    ) -> Option<RecordError> {
        let listed = external_id.and_then(|v| {
            self.lock_external_ids
                .iter()
                .position(|x| x.eq_ignore_ascii_case(v))
        });
        let hit = match listed {
            Some(pos) => {
                self.lock_external_ids.remove(pos);
                true
            }
            None => self.lock_fraction > 0.0 && rand::random::<f64>() < self.lock_fraction,
        };
        hit.then(|| {
            RecordError::new(
                "UNABLE_TO_LOCK_ROW",
                format!(
                    "unable to obtain exclusive access to this record or 1 records: {}",
                    id.unwrap_or("")
                ),
                vec![],
            )
        })
    }
}

impl Injected {
    pub fn into_response(self) -> Response {
        match self {
            Self::Drop => Response::new(Body::new(FailingBody)),
            // Doc §7.2: 503 SERVER_UNAVAILABLE and 500 UNKNOWN_EXCEPTION bodies.
            Self::Unavailable => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVER_UNAVAILABLE",
                "Server temporarily unavailable",
            )
            .into_response(),
            Self::ServerError => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "UNKNOWN_EXCEPTION",
                format!(
                    "An unexpected error occurred. Please include this ErrorId if you contact support: {}-{} (-{})",
                    rand::random_range(1_000_000_000u64..2_000_000_000),
                    rand::random_range(10_000u32..999_999),
                    rand::random_range(100_000_000u32..999_999_999),
                ),
            )
            .into_response(),
        }
    }
}

/// A body whose first read fails, so the server aborts the connection instead of answering.
struct FailingBody;

impl HttpBody for FailingBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "simulated connection drop",
        ))))
    }
}
