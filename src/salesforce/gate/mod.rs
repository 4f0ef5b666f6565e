//! The call gate: every API call to Salesforce passes here first, so that all dynos together stay
//! under the concurrency cap ([`permits`]), the per-second cap and the daily budget. The shared
//! state lives in Postgres (`salesforce_call_permits`, `salesforce_call_log`,
//! `salesforce_usage`) and uses the database's clock.

pub mod permits;
mod usage;

use std::time::Duration;

use sqlx::PgPool;

pub use permits::CallPermit;
pub use usage::{Usage, UsageSample, pause_until, record_usage, usage, usage_history};

/// Whether a call may go now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    Granted,
    /// Not now: try again after this long.
    Wait(Duration),
    /// The daily budget looked spent when last observed, long enough ago that the rolling
    /// window may have freed room: read the usage again (`/limits`) before deciding.
    Refresh,
}

#[derive(Debug, Clone, Copy)]
pub struct GateLimits {
    pub max_calls_per_second: u32,
    /// Share of the org's daily allowance Sluice may use, in percent.
    pub daily_budget_percent: u8,
    /// How long a spent budget is believed before the usage is read again. The allowance is a
    /// rolling 24 h window, so room comes back gradually.
    pub recheck_after: Duration,
}

/// Past this share of the budget, calls slow to one a second, so that the last of the budget
/// lasts instead of going in a burst.
const SLOW_ZONE_PERCENT: i64 = 90;

/// Asks for one call. Checks, in order: a pause set after `REQUEST_LIMIT_EXCEEDED`, the daily
/// budget, then takes a place among the last second's calls (all dynos share the count).
pub async fn acquire(pool: &PgPool, limits: GateLimits) -> Result<Permit, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT used, max,
                  extract(epoch FROM paused_until - clock_timestamp())::float8 AS paused_for,
                  extract(epoch FROM clock_timestamp() - observed_at)::float8 AS observed_secs_ago
           FROM salesforce_usage WHERE id"#
    )
    .fetch_one(pool)
    .await?;
    let (used, max) = (row.used, row.max);
    if let Some(secs) = row.paused_for.filter(|s| *s > 0.0) {
        return Ok(Permit::Wait(Duration::from_secs_f64(secs)));
    }
    let mut per_second = limits.max_calls_per_second;
    if max > 0 {
        let budget = max * i64::from(limits.daily_budget_percent) / 100;
        if used >= budget {
            let age = Duration::from_secs_f64(row.observed_secs_ago.unwrap_or(0.0).max(0.0));
            return Ok(match limits.recheck_after.checked_sub(age) {
                Some(left) if !left.is_zero() => Permit::Wait(left),
                _ => Permit::Refresh,
            });
        }
        if used * 100 >= budget * SLOW_ZONE_PERCENT {
            per_second = 1;
        }
    }
    take_slot(pool, per_second).await
}

/// Takes a place among the calls of the last second (a sliding window, all dynos together).
/// Callers queue on the `salesforce_usage` row lock (a transaction-level lock, which a pooler in
/// transaction mode keeps) so that the count and the insert are one decision.
async fn take_slot(pool: &PgPool, per_second: u32) -> Result<Permit, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query!("SELECT 1 AS locked FROM salesforce_usage WHERE id FOR UPDATE")
        .fetch_optional(&mut *tx)
        .await?;
    // A statement of its own, so that its snapshot sees what the previous lock holder wrote.
    let window = sqlx::query!(
        r#"SELECT count(*) AS "recent!",
                  extract(epoch FROM min(at) + interval '1 second' - clock_timestamp())::float8
                      AS free_in
           FROM salesforce_call_log WHERE at > clock_timestamp() - interval '1 second'"#
    )
    .fetch_one(&mut *tx)
    .await?;
    let permit = if window.recent < i64::from(per_second) {
        sqlx::query!("INSERT INTO salesforce_call_log (at) VALUES (clock_timestamp())")
            .execute(&mut *tx)
            .await?;
        Permit::Granted
    } else {
        let secs = window.free_in.unwrap_or(0.0).max(0.0) + 0.001;
        Permit::Wait(Duration::from_secs_f64(secs))
    };
    tx.commit().await?;
    Ok(permit)
}

/// Drops call records older than a minute; cheap, called now and then.
pub async fn prune(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM salesforce_call_log WHERE at < now() - interval '1 minute'")
        .execute(pool)
        .await?;
    Ok(())
}
