//! `Idempotency-Key`: a retried ingest request gets the first answer and stages nothing twice.

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use crate::error::ApiError;

pub const HEADER: &str = "idempotency-key";

/// A key as sent by a caller, checked.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<Self>, ApiError> {
        let Some(value) = headers.get(HEADER) else {
            return Ok(None);
        };
        let bad = || {
            ApiError::bad_request(
                "Idempotency-Key",
                "format",
                "must be 1 to 255 visible ASCII characters",
            )
        };
        let key = value.to_str().map_err(|_| bad())?.trim();
        if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad());
        }
        Ok(Some(Self(key.to_owned())))
    }
}

/// The answer stored for a key.
pub struct StoredAnswer {
    pub status: u16,
    pub body: serde_json::Value,
}

pub fn request_hash(object: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(object.as_bytes());
    hasher.update([0]);
    hasher.update(body);
    format!("{:x}", hasher.finalize())
}

/// The stored answer for this caller and key, or None. A key reused with another body is a conflict.
pub async fn lookup(
    conn: &mut PgConnection,
    caller: &str,
    key: &IdempotencyKey,
    hash: &str,
) -> Result<Option<StoredAnswer>, ApiError> {
    let row = sqlx::query!(
        "SELECT request_hash, status_code, response FROM ingest_requests \
         WHERE caller = $1 AND idempotency_key = $2",
        caller,
        key.0,
    )
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        None => Ok(None),
        Some(row) if row.request_hash != hash => Err(ApiError::Conflict(
            "this Idempotency-Key was used before with a different request".into(),
        )),
        Some(row) => Ok(Some(StoredAnswer {
            status: u16::try_from(row.status_code).unwrap_or(500),
            body: row.response,
        })),
    }
}

/// Stores the answer in the caller's transaction, so it commits with the staged records.
/// Returns false when a concurrent request with the same key stored its answer first.
pub async fn store(
    conn: &mut PgConnection,
    caller: &str,
    key: &IdempotencyKey,
    hash: &str,
    answer: &StoredAnswer,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query!(
        "INSERT INTO ingest_requests (caller, idempotency_key, request_hash, status_code, response) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT ON CONSTRAINT ingest_requests_pkey DO NOTHING",
        caller,
        key.0,
        hash,
        i16::try_from(answer.status).unwrap_or(500),
        answer.body,
    )
    .execute(&mut *conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}
