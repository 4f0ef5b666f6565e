//! Why calls are held, shared by every dyno in `salesforce_usage`: a pause for the daily budget,
//! an outage, or Salesforce's `REQUEST_LIMIT_EXCEEDED`, with the time it ends.
//!
//! The daily budget is a hard stop. The allowance is a rolling 24 h window (docs/salesforce.md
//! §6.1: calls made at 05:00 yesterday free up at 05:00 today), and Sluice sees how much of it is
//! used only in the answers to its own calls (`Sforce-Limit-Info`). With the budget spent it
//! makes no call at all, so it assumes the worst: every call counted when the budget was last
//! seen spent was made just before, and room comes back only when that observation is 24 hours
//! old. The first call after that reads the usage again from its answer.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// The rolling window of the daily allowance (docs/salesforce.md §6.1).
pub const DAILY_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// Why every dyno holds its calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PauseReason {
    /// Sluice's share of the org's daily allowance is spent.
    Budget,
    /// Every call failed the same way (5xx, refused connections, timeouts): one probe at a time.
    Outage,
    /// Salesforce answered `REQUEST_LIMIT_EXCEEDED`.
    Limit,
}

impl PauseReason {
    pub const ALL: [PauseReason; 3] = [Self::Budget, Self::Outage, Self::Limit];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Budget => "budget",
            Self::Outage => "outage",
            Self::Limit => "limit",
        }
    }

    /// A stored reason; a pause written before reasons were kept was a limit pause.
    pub fn parse(stored: Option<&str>) -> Self {
        match stored {
            Some("budget") => Self::Budget,
            Some("outage") => Self::Outage,
            _ => Self::Limit,
        }
    }

    /// How an operator reads it.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Budget => "the daily API budget is spent",
            Self::Outage => "Salesforce is unreachable; probing",
            Self::Limit => "Salesforce answered REQUEST_LIMIT_EXCEEDED",
        }
    }
}

impl std::fmt::Display for PauseReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A pause in force: no call goes before `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold {
    pub reason: PauseReason,
    pub until: DateTime<Utc>,
}

impl Hold {
    /// How long from now.
    pub fn remaining(&self) -> Duration {
        (self.until - Utc::now()).to_std().unwrap_or_default()
    }
}

/// The pause in force now, if any.
pub async fn current(pool: &PgPool) -> Result<Option<Hold>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT pause_reason, paused_until AS "paused_until!"
           FROM salesforce_usage WHERE id AND paused_until > clock_timestamp()"#
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| Hold {
        reason: PauseReason::parse(r.pause_reason.as_deref()),
        until: r.paused_until,
    }))
}

/// Stops every dyno's calls until `until` for `reason`; a longer pause in force is kept.
pub async fn pause_until(
    pool: &PgPool,
    reason: PauseReason,
    until: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE salesforce_usage SET paused_until = $1, pause_reason = $2 \
         WHERE id AND (paused_until IS NULL OR paused_until < $1)",
        until,
        reason.as_str(),
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Lifts a budget pause that the current usage or settings no longer justify.
pub(super) async fn lift_budget_pause(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE salesforce_usage SET paused_until = NULL, pause_reason = NULL \
         WHERE id AND pause_reason = 'budget'"
    )
    .execute(pool)
    .await?;
    Ok(())
}
