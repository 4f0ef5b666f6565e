//! The org's daily API usage as Salesforce last reported it (`Sforce-Limit-Info` or `/limits`),
//! shared by every dyno in `salesforce_usage`, with a pause every dyno honours, and its history
//! (`salesforce_usage_samples`, kept by a trigger) for the status page.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::pause::{Hold, PauseReason};
use crate::salesforce::ApiUsage;

/// The org's daily API usage as last reported, and the shared pause.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    pub used: i64,
    pub max: i64,
    pub observed_at: Option<DateTime<Utc>>,
    /// Every dyno stops calling until then, for `pause_reason`.
    pub paused_until: Option<DateTime<Utc>>,
    pub pause_reason: Option<String>,
}

impl Usage {
    pub fn left(&self) -> i64 {
        (self.max - self.used).max(0)
    }

    /// Share of the allowance used, in percent; `None` before Salesforce reported it.
    pub fn percent_used(&self) -> Option<f64> {
        (self.max > 0).then(|| self.used as f64 * 100.0 / self.max as f64)
    }

    /// The pause in force at `now`, with its reason.
    pub fn hold_at(&self, now: DateTime<Utc>) -> Option<Hold> {
        let until = self.paused_until.filter(|t| *t > now)?;
        Some(Hold {
            reason: PauseReason::parse(self.pause_reason.as_deref()),
            until,
        })
    }
}

pub async fn usage(pool: &PgPool) -> Result<Usage, sqlx::Error> {
    sqlx::query_as!(
        Usage,
        "SELECT used, max, observed_at, paused_until, pause_reason FROM salesforce_usage WHERE id"
    )
    .fetch_optional(pool)
    .await
    .map(Option::unwrap_or_default)
}

/// Records the org's usage as Salesforce reported it, keeping the newest report. Calls still in
/// flight (other holders of a concurrency slot than `holder`, the call that brought the report)
/// are added: the org may not have counted them yet, and the budget must not be overshot.
pub async fn record_usage(
    pool: &PgPool,
    usage: &ApiUsage,
    holder: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE salesforce_usage SET \
             used = $1 + (SELECT count(*) FROM salesforce_call_permits \
                          WHERE expires_at > clock_timestamp() AND holder IS DISTINCT FROM $4), \
             max = $2, observed_at = $3 \
         WHERE id AND (observed_at IS NULL OR observed_at <= $3)",
        usage.used as i64,
        usage.max as i64,
        usage.observed_at,
        holder,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// One sample of the usage history (the highest seen in that minute).
#[derive(Debug, Clone, PartialEq)]
pub struct UsageSample {
    pub minute: DateTime<Utc>,
    pub used: i64,
    pub max: i64,
}

/// The last 24 hours of usage samples, oldest first.
pub async fn usage_history(pool: &PgPool) -> Result<Vec<UsageSample>, sqlx::Error> {
    sqlx::query_as!(
        UsageSample,
        "SELECT minute, used, max FROM salesforce_usage_samples \
         WHERE minute > now() - interval '24 hours' ORDER BY minute"
    )
    .fetch_all(pool)
    .await
}
