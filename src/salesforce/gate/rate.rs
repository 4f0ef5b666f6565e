//! The per-second cap: a place among the calls of the last second, all dynos together, taken
//! right before the request goes out.
//!
//! The window is a little longer than a second ([`WINDOW_MARGIN`]): between the place being
//! granted and the request reaching Salesforce lie a commit, a token lookup and the network,
//! and that delay varies from call to call. Counted over a bare second, two calls granted
//! 1.0 s apart can arrive 0.9 s apart and be one too many in the org's second.

use std::time::Duration;

use sqlx::PgPool;

/// Added to the one-second window.
pub const WINDOW_MARGIN: Duration = Duration::from_millis(200);

/// A place in the window, or how long until one frees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    Granted,
    Wait(Duration),
}

/// Takes a place among the calls of the last second and its margin, and counts the call in the
/// shared usage so that dynos calling at once cannot overshoot the budget between two usage
/// reports. Callers queue on the `salesforce_usage` row lock (a transaction-level lock, which a
/// pooler in transaction mode keeps) so that the count and the insert are one decision.
pub(super) async fn take(pool: &PgPool, per_second: u32) -> Result<Slot, sqlx::Error> {
    let window = Duration::from_secs(1) + WINDOW_MARGIN;
    let mut tx = pool.begin().await?;
    sqlx::query!("SELECT 1 AS locked FROM salesforce_usage WHERE id FOR UPDATE")
        .fetch_optional(&mut *tx)
        .await?;
    // A statement of its own, so that its snapshot sees what the previous lock holder wrote.
    let recent = sqlx::query!(
        r#"SELECT count(*) AS "recent!",
                  extract(epoch FROM min(at) + make_interval(secs => $1) - clock_timestamp())::float8
                      AS free_in
           FROM salesforce_call_log WHERE at > clock_timestamp() - make_interval(secs => $1)"#,
        window.as_secs_f64(),
    )
    .fetch_one(&mut *tx)
    .await?;
    let slot = if recent.recent < i64::from(per_second) {
        sqlx::query!("INSERT INTO salesforce_call_log (at) VALUES (clock_timestamp())")
            .execute(&mut *tx)
            .await?;
        sqlx::query!("UPDATE salesforce_usage SET used = used + 1 WHERE id AND max > 0")
            .execute(&mut *tx)
            .await?;
        Slot::Granted
    } else {
        let secs = recent.free_in.unwrap_or(0.0).max(0.0) + 0.001;
        Slot::Wait(Duration::from_secs_f64(secs))
    };
    tx.commit().await?;
    Ok(slot)
}

/// Drops call records older than a minute; cheap, called now and then.
pub async fn prune(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM salesforce_call_log WHERE at < now() - interval '1 minute'")
        .execute(pool)
        .await?;
    Ok(())
}
