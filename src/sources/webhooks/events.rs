//! `webhook_events`: one row per event accepted, the dedupe key and the raw body.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};

use crate::error::FieldProblem;
use crate::sources::Intake;

/// How long events are kept, hence deduplicated: far past any sender's retries.
pub const RETENTION_DAYS: i32 = 30;

/// Claims `(source, event_id)` in the caller's transaction. False when the event was accepted
/// before: a concurrent delivery of the same event waits here for the first one's transaction,
/// then sees it.
pub async fn claim(
    conn: &mut PgConnection,
    source: &str,
    event_id: &str,
    event_type: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let claimed = sqlx::query_scalar!(
        "INSERT INTO webhook_events (source, event_id, event_type, status) \
         VALUES ($1, $2, $3, 'processed') \
         ON CONFLICT ON CONSTRAINT webhook_events_pkey DO NOTHING RETURNING true",
        source,
        event_id,
        event_type,
    )
    .fetch_optional(conn)
    .await?;
    Ok(claimed.is_some())
}

/// Records what the event made, with its raw body; `None`: no object takes its type (ignored,
/// and its body is not kept).
pub async fn finish(
    conn: &mut PgConnection,
    source: &str,
    event_id: &str,
    body: &[u8],
    intake: Option<&Intake>,
) -> Result<(), sqlx::Error> {
    let (status, body, staged, unchanged, rejected, problems) = match intake {
        None => ("ignored", None, 0, 0, 0, None),
        Some(i) => (
            "processed",
            Some(body),
            i.staged as i32,
            i.unchanged as i32,
            i.rejected as i32,
            (!i.errors.is_empty()).then_some(Json(&i.errors)),
        ),
    };
    sqlx::query!(
        "UPDATE webhook_events SET status = $3, body = $4, staged = $5, unchanged = $6, \
         rejected = $7, problems = $8 WHERE source = $1 AND event_id = $2",
        source,
        event_id,
        status,
        body,
        staged,
        unchanged,
        rejected,
        problems as Option<Json<&Vec<FieldProblem>>>,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// One source's events over the last day, for operators.
#[derive(Debug, Clone)]
pub struct SourceEvents {
    pub source: String,
    pub processed: i64,
    pub ignored: i64,
    pub records_rejected: i64,
    pub last_received_at: Option<DateTime<Utc>>,
}

pub async fn last_day(pool: &PgPool) -> Result<Vec<SourceEvents>, sqlx::Error> {
    sqlx::query_as!(
        SourceEvents,
        r#"SELECT source AS "source!",
                  count(*) FILTER (WHERE status = 'processed') AS "processed!",
                  count(*) FILTER (WHERE status = 'ignored') AS "ignored!",
                  coalesce(sum(rejected), 0)::bigint AS "records_rejected!",
                  max(received_at) AS last_received_at
           FROM webhook_events WHERE received_at > now() - interval '1 day'
           GROUP BY source ORDER BY source"#
    )
    .fetch_all(pool)
    .await
}

/// Forgets events older than [`RETENTION_DAYS`].
pub async fn prune(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "DELETE FROM webhook_events WHERE received_at < now() - make_interval(days => $1)",
        RETENTION_DAYS,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
