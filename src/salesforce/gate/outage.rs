//! An outage pauses the push, not the records. When calls in a row fail at the request level
//! (5xx, refused connections, timeouts), every dyno stops calling and one call at a time probes
//! at growing intervals; the first answer ends the pause, and the push drains at full speed.
//! The records of the calls held meanwhile keep their attempts for record-level errors.

use std::time::Duration;

use sqlx::PgPool;

use super::pause::{Hold, PauseReason};

/// Request-level failures in a row (all dynos together) that make an outage.
pub const FAILURES_FOR_OUTAGE: i32 = 3;
/// The first wait before a probe, doubled after each failed probe up to [`LONGEST_PROBE_WAIT`].
pub const FIRST_PROBE_WAIT: Duration = Duration::from_millis(500);
pub const LONGEST_PROBE_WAIT: Duration = Duration::from_secs(15);

/// Counts a request-level failure; returns the outage pause in force after it (this failure
/// started it, it was a failed probe, or the outage was already on).
pub(super) async fn failed(pool: &PgPool, probe: bool) -> Result<Option<Hold>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        r#"SELECT failures_in_a_row, outage_backoff_ms, pause_reason,
                  coalesce(paused_until > clock_timestamp(), false) AS "paused!"
           FROM salesforce_usage WHERE id FOR UPDATE"#
    )
    .fetch_one(&mut *tx)
    .await?;
    let in_outage = row.pause_reason.as_deref() == Some("outage");
    let failures = row.failures_in_a_row.saturating_add(1);
    let first = FIRST_PROBE_WAIT.as_millis() as i32;
    let longest = LONGEST_PROBE_WAIT.as_millis() as i32;
    // A failed probe waits twice as long; a new outage starts at the first wait; a longer pause
    // of another reason (the budget, a limit) is left alone.
    let backoff = if probe && in_outage {
        Some(
            row.outage_backoff_ms
                .saturating_mul(2)
                .clamp(first, longest),
        )
    } else if !in_outage && !row.paused && failures >= FAILURES_FOR_OUTAGE {
        Some(first)
    } else {
        None
    };
    let hold = sqlx::query!(
        r#"UPDATE salesforce_usage SET
               failures_in_a_row = $1,
               outage_backoff_ms = coalesce($2, outage_backoff_ms),
               pause_reason = CASE WHEN $2::int IS NULL THEN pause_reason ELSE 'outage' END,
               paused_until = CASE WHEN $2::int IS NULL THEN paused_until
                              ELSE clock_timestamp() + make_interval(secs => $2::int / 1000.0) END
           WHERE id
           RETURNING pause_reason, paused_until"#,
        failures,
        backoff,
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    if backoff.is_some() {
        tracing::warn!(
            failures_in_a_row = failures,
            wait_ms = backoff.unwrap_or_default(),
            "push paused: Salesforce is unreachable (calls in a row failed); a probe follows"
        );
    }
    Ok(match (hold.pause_reason.as_deref(), hold.paused_until) {
        (Some("outage"), Some(until)) => Some(Hold {
            reason: PauseReason::Outage,
            until,
        }),
        _ => None,
    })
}

/// Any answer from Salesforce: the failures in a row end, and so does an outage pause.
pub(super) async fn answered(pool: &PgPool) -> Result<(), sqlx::Error> {
    let ended = sqlx::query_scalar!(
        r#"
        UPDATE salesforce_usage AS u SET
            failures_in_a_row = 0,
            outage_backoff_ms = 0,
            pause_reason = CASE WHEN u.pause_reason = 'outage' THEN NULL ELSE u.pause_reason END,
            paused_until = CASE WHEN u.pause_reason = 'outage' THEN NULL ELSE u.paused_until END
        FROM (SELECT pause_reason FROM salesforce_usage WHERE id) AS before
        WHERE u.id AND (u.failures_in_a_row > 0 OR u.pause_reason = 'outage')
        RETURNING before.pause_reason IS NOT DISTINCT FROM 'outage' AS "ended!"
        "#
    )
    .fetch_optional(pool)
    .await?;
    if ended == Some(true) {
        tracing::info!("Salesforce answers again: the outage pause is over");
    }
    Ok(())
}

/// When the outage pause has run out, makes this call the probe: every other call stays held
/// until the probe answers (or its time runs out).
pub(super) async fn claim_probe(pool: &PgPool, probe_time: Duration) -> Result<bool, sqlx::Error> {
    let claimed = sqlx::query_scalar!(
        r#"UPDATE salesforce_usage
           SET paused_until = clock_timestamp() + make_interval(secs => $1)
           WHERE id AND pause_reason = 'outage' AND paused_until <= clock_timestamp()
           RETURNING true AS "claimed!""#,
        probe_time.as_secs_f64(),
    )
    .fetch_optional(pool)
    .await?;
    Ok(claimed.is_some())
}
