//! Writing what Salesforce said about each pushed row back on it, in one statement per batch.
//!
//! The statement records facts (the version Salesforce now has, the version it refused, the
//! error, when to try again); the row's status follows from them (see [`super`]).

use std::time::Duration;

use serde_json::Value;
use sqlx::PgPool;

use super::{ClaimedRecord, SalesforceId};

/// What to write back for one pushed row.
#[derive(Debug, Clone)]
pub enum RecordOutcome {
    /// Salesforce has the pushed version.
    Synced { salesforce_id: SalesforceId },
    /// Salesforce no longer has the record (deleted now, already gone, or never sent).
    Deleted,
    /// Try again after `delay` (transient error); parked as failed after the last attempt.
    Retry { delay: Duration, error: PushFailure },
    /// The call went unanswered (timeout, connection lost after sending): Salesforce may still
    /// write this version until the row's `unanswered_until`, so no version of the record is sent
    /// before then. Otherwise as [`RecordOutcome::Retry`].
    Unanswered { error: PushFailure },
    /// Salesforce refused this version; kept until the data changes or someone retries it.
    Failed(PushFailure),
}

impl RecordOutcome {
    fn kind(&self) -> &'static str {
        match self {
            Self::Synced { .. } => "synced",
            Self::Deleted => "deleted",
            Self::Retry { .. } => "retry",
            Self::Unanswered { .. } => "unanswered",
            Self::Failed(_) => "failed",
        }
    }
}

/// Salesforce's own error for a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushFailure {
    pub code: String,
    pub message: String,
    pub fields: Vec<String>,
}

/// Rows written by one statement of [`record_outcomes`]: a Bulk job's 50,000 outcomes in one
/// statement held a copy of every record's fields and their encoding at once (tens of MB).
const OUTCOMES_PER_STATEMENT: usize = 2_000;

/// Writes the outcome of a push, for rows still leased to `owner`, and gives the leases back: a
/// statement per [`OUTCOMES_PER_STATEMENT`] rows (a row is written whole or not at all; a row not
/// yet written when the process dies keeps its lease, or its tie to a Bulk job, and is taken over
/// as any other). A row that changed while in flight is pending again, so its newer version is
/// pushed too; a transient failure on the last of `max_attempts` parks the row as failed. An
/// answered row's hold (`unanswered_until`) ends; an unanswered one keeps it.
pub async fn record_outcomes(
    pool: &PgPool,
    owner: &str,
    max_attempts: i32,
    pushed: &[(ClaimedRecord, RecordOutcome)],
) -> Result<u64, sqlx::Error> {
    let mut written = 0;
    for chunk in pushed.chunks(OUTCOMES_PER_STATEMENT) {
        written += record_chunk(pool, owner, max_attempts, chunk).await?;
    }
    Ok(written)
}

async fn record_chunk(
    pool: &PgPool,
    owner: &str,
    max_attempts: i32,
    pushed: &[(ClaimedRecord, RecordOutcome)],
) -> Result<u64, sqlx::Error> {
    if pushed.is_empty() {
        return Ok(0);
    }
    let n = pushed.len();
    let mut ids = Vec::with_capacity(n);
    let mut versions = Vec::with_capacity(n);
    let mut kinds = Vec::with_capacity(n);
    let mut sf_ids: Vec<Option<&str>> = Vec::with_capacity(n);
    let mut codes: Vec<Option<&str>> = Vec::with_capacity(n);
    let mut messages: Vec<Option<&str>> = Vec::with_capacity(n);
    let mut error_fields: Vec<Value> = Vec::with_capacity(n);
    let mut pushed_fields = Vec::with_capacity(n);
    let mut delays = Vec::with_capacity(n);
    for (record, outcome) in pushed {
        ids.push(record.id);
        versions.push(record.version);
        // A Bulk job's records hand their fields to the upload (see `ClaimedRecord::without_fields`):
        // what was pushed is then the row's fields at the pushed version.
        pushed_fields
            .push((!record.fields.is_empty()).then(|| Value::Object(record.fields.clone())));
        let (sf_id, failure, delay) = match outcome {
            RecordOutcome::Synced { salesforce_id } => (Some(salesforce_id.as_str()), None, 0.0),
            RecordOutcome::Deleted => (None, None, 0.0),
            RecordOutcome::Retry { delay, error } => (None, Some(error), delay.as_secs_f64()),
            RecordOutcome::Unanswered { error } => (None, Some(error), 0.0),
            RecordOutcome::Failed(error) => (None, Some(error), 0.0),
        };
        kinds.push(outcome.kind());
        sf_ids.push(sf_id);
        codes.push(failure.map(|f| f.code.as_str()));
        messages.push(failure.map(|f| f.message.as_str()));
        error_fields.push(Value::from(
            failure.map(|f| f.fields.clone()).unwrap_or_default(),
        ));
        delays.push(delay);
    }
    // A deletion is done whatever changed since: the Salesforce record is gone, so the Id and
    // what it last held are forgotten (a later upsert creates the record again). An upsert whose
    // row changed in flight but back to what was pushed counts as that row's version. Without
    // the pushed fields, a row still at the pushed version holds them; of a row changed since,
    // what Salesforce holds is not known field by field (NULL: its next change is pushed).
    let result = sqlx::query!(
        r#"
        UPDATE staging_records s SET
            synced_version = CASE
                WHEN o.kind = 'synced' AND s.operation = 'upsert' AND s.fields = o.pushed_fields
                    THEN s.version
                WHEN o.kind IN ('synced', 'deleted') THEN o.version
                ELSE s.synced_version END,
            failed_version = CASE
                WHEN o.kind = 'failed' THEN o.version
                WHEN o.kind IN ('retry', 'unanswered') AND s.attempts >= $10 THEN o.version
                ELSE s.failed_version END,
            salesforce_id = CASE WHEN o.kind = 'deleted' THEN NULL
                ELSE COALESCE(o.salesforce_id, s.salesforce_id) END,
            synced_fields = CASE WHEN o.kind = 'synced' THEN coalesce(o.pushed_fields,
                    CASE WHEN s.version = o.version THEN s.fields END)
                WHEN o.kind = 'deleted' THEN NULL ELSE s.synced_fields END,
            synced_at = CASE WHEN o.kind IN ('synced', 'deleted') THEN now() ELSE s.synced_at END,
            attempts = CASE WHEN o.kind IN ('synced', 'deleted') OR s.version <> o.version
                THEN 0 ELSE s.attempts END,
            next_attempt_at = CASE WHEN o.kind = 'retry' AND s.version = o.version
                THEN now() + make_interval(secs => o.delay) ELSE now() END,
            unanswered_until = CASE WHEN o.kind = 'unanswered' THEN s.unanswered_until END,
            last_error_code = CASE WHEN s.version = o.version THEN o.code END,
            last_error_message = CASE WHEN s.version = o.version THEN o.message END,
            last_error_fields = CASE WHEN s.version = o.version AND o.code IS NOT NULL
                THEN ARRAY(SELECT jsonb_array_elements_text(o.error_fields)) END,
            lease_owner = NULL,
            lease_expires_at = NULL,
            bulk_job_id = NULL,
            bulk_version = NULL
        FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
                    $7::jsonb[], $8::jsonb[], $9::float8[])
             AS o(id, version, kind, salesforce_id, code, message, error_fields, pushed_fields, delay)
        WHERE s.id = o.id AND s.lease_owner = $11
        "#,
        &ids,
        &versions,
        &kinds as &[&str],
        &sf_ids as &[Option<&str>],
        &codes as &[Option<&str>],
        &messages as &[Option<&str>],
        &error_fields,
        &pushed_fields as _,
        &delays,
        max_attempts,
        owner,
    )
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}
