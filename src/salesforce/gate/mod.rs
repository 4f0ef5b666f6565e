//! The call gate: every API call to Salesforce passes here, from the very first one at start-up
//! (describes, `/limits`, a call re-sent after re-authentication, the push's calls alike), so
//! that all dynos together stay under the concurrency cap ([`permits`]), the per-second cap
//! ([`rate`]) and the daily budget, and honour a shared pause ([`pause`], [`outage`]). The
//! shared state lives in Postgres (`salesforce_call_permits`, `salesforce_call_log`,
//! `salesforce_usage`) and uses the database's clock.
//!
//! [`SalesforceClient`](super::SalesforceClient) goes through it in its single request path:
//! [`CallGate::enter`] before the token is read (the pause, the budget, a concurrency slot),
//! [`CallGate::go`] right before the request goes out (a place in the last second), and
//! [`CallGate::leave`] once the answer is read (the usage it reports, whether Salesforce
//! answered at all). Streaming API exchanges don't pass: they are not API calls (see
//! [`counts_against_api_limit`](super::counts_against_api_limit)).

pub mod outage;
pub mod pause;
pub mod permits;
mod rate;
mod usage;

use std::time::Duration;

use chrono::Utc;
use sqlx::PgPool;

pub use pause::{DAILY_WINDOW, Hold, PauseReason, pause_until};
pub use permits::CallPermit;
pub use rate::{WINDOW_MARGIN, prune};
pub use usage::{Usage, UsageSample, record_usage, usage, usage_history};

use super::ApiUsage;

/// Past this share of the budget, calls slow to one a second, so that the last of the budget
/// lasts instead of going in a burst.
const SLOW_ZONE_PERCENT: i64 = 90;

/// The caps every dyno shares.
#[derive(Debug, Clone, Copy)]
pub struct GateSettings {
    pub max_calls_per_second: u32,
    pub max_concurrent_calls: u32,
    /// Share of the org's daily allowance Sluice may use, in percent.
    pub daily_budget_percent: u8,
    /// The whole-request timeout of a call: a concurrency slot outlives it a little, so that a
    /// dead process's slot comes back, and a call waits about as long for its places.
    pub call_timeout: Duration,
}

impl GateSettings {
    fn slot_ttl(&self) -> Duration {
        self.call_timeout + Duration::from_secs(30)
    }
}

/// Why the gate did not let a call go.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error("calls to Salesforce are paused until {} ({})", .0.until, .0.reason.describe())]
    Held(Hold),
    #[error("no concurrency slot or place in the second freed within {0:?}")]
    Busy(Duration),
    #[error("the call gate's database")]
    Database(#[from] sqlx::Error),
}

/// A call admitted by [`CallGate::enter`]: it holds a concurrency slot until [`CallGate::leave`].
#[derive(Debug)]
pub struct Seat {
    permit: CallPermit,
    per_second: u32,
    /// This call probes whether an outage is over.
    probe: bool,
}

/// How a call ended, for outage detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallEnd {
    /// Salesforce answered (any status but 5xx): it is up.
    Answered,
    /// No usable answer: 5xx, a refused or dropped connection, a timeout.
    Unreachable,
}

/// The gate over one database; cheap to clone.
#[derive(Clone)]
pub struct CallGate {
    pool: PgPool,
    settings: GateSettings,
}

impl std::fmt::Debug for CallGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallGate")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl CallGate {
    pub fn new(pool: PgPool, settings: GateSettings) -> Self {
        Self { pool, settings }
    }

    pub fn settings(&self) -> GateSettings {
        self.settings
    }

    /// The pause in force now, the daily budget included, without taking anything: the push
    /// asks before it claims a batch.
    pub async fn hold(&self) -> Result<Option<Hold>, sqlx::Error> {
        Ok(match self.check().await? {
            Check::Held(hold) => Some(hold),
            Check::Open(_) | Check::ProbeDue => None,
        })
    }

    /// Before the token is read: a shared pause, the budget, then a concurrency slot (waiting
    /// for one at most about a call's timeout).
    pub async fn enter(&self) -> Result<Seat, GateError> {
        let (per_second, probe) = match self.check().await? {
            Check::Open(per_second) => (per_second, false),
            Check::ProbeDue => {
                let probe_time = self.settings.call_timeout + Duration::from_secs(5);
                if !outage::claim_probe(&self.pool, probe_time).await? {
                    // Another call probes: wait for its answer.
                    let hold = pause::current(&self.pool).await?.unwrap_or(Hold {
                        reason: PauseReason::Outage,
                        until: Utc::now(),
                    });
                    return Err(GateError::Held(hold));
                }
                tracing::info!("probing whether Salesforce is back");
                (1, true)
            }
            Check::Held(hold) => return Err(GateError::Held(hold)),
        };
        let patience = self.settings.call_timeout;
        let permit = permits::acquire(
            &self.pool,
            self.settings.max_concurrent_calls,
            self.settings.slot_ttl(),
            patience,
        )
        .await?
        .ok_or(GateError::Busy(patience))?;
        Ok(Seat {
            permit,
            per_second,
            probe,
        })
    }

    /// Right before the request goes out: a place among the last second's calls (all dynos).
    /// On an error the seat's slot is still held: give it back with [`leave`](Self::leave).
    pub async fn go(&self, seat: &Seat) -> Result<(), GateError> {
        let patience = self.settings.call_timeout;
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            match rate::take(&self.pool, seat.per_second).await? {
                rate::Slot::Granted => return Ok(()),
                rate::Slot::Wait(wait) if tokio::time::Instant::now() + wait > deadline => {
                    return Err(GateError::Busy(patience));
                }
                rate::Slot::Wait(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// After the call: records the usage its answer reported, counts it for outage detection
    /// and gives the slot back. Returns the outage pause in force when the call failed in one.
    pub async fn leave(
        &self,
        seat: Seat,
        end: Option<CallEnd>,
        reported: Option<&ApiUsage>,
    ) -> Result<Option<Hold>, sqlx::Error> {
        let result = self.settle(&seat, end, reported).await;
        if let Err(e) = permits::release(&self.pool, &seat.permit).await {
            tracing::warn!(error = %e, "giving back a concurrency slot failed; it will expire");
        }
        result
    }

    async fn settle(
        &self,
        seat: &Seat,
        end: Option<CallEnd>,
        reported: Option<&ApiUsage>,
    ) -> Result<Option<Hold>, sqlx::Error> {
        if let Some(reported) = reported {
            record_usage(&self.pool, reported, Some(seat.permit.holder())).await?;
        }
        match end {
            Some(CallEnd::Answered) => outage::answered(&self.pool).await.map(|()| None),
            Some(CallEnd::Unreachable) => outage::failed(&self.pool, seat.probe).await,
            None => Ok(None),
        }
    }

    /// Whether calls may go now, and at what rate.
    async fn check(&self) -> Result<Check, sqlx::Error> {
        let state = usage(&self.pool).await?;
        let now = Utc::now();
        let budget = budget_spent(&state, self.settings.daily_budget_percent, now);
        let outage = state.pause_reason.as_deref() == Some(PauseReason::Outage.as_str());
        match (state.hold_at(now), budget) {
            (Some(hold), _) if hold.reason != PauseReason::Budget => return Ok(Check::Held(hold)),
            (_, Some(hold)) => {
                if state.hold_at(now) != Some(hold) {
                    pause_until(&self.pool, hold.reason, hold.until).await?;
                    tracing::warn!(
                        until = %hold.until,
                        used = state.used,
                        max = state.max,
                        budget_percent = self.settings.daily_budget_percent,
                        "push paused for the daily API budget"
                    );
                }
                return Ok(Check::Held(hold));
            }
            (None, None) if outage => return Ok(Check::ProbeDue),
            // The budget or its setting changed since the pause was written.
            (Some(_), None) => pause::lift_budget_pause(&self.pool).await?,
            (None, None) => {}
        }
        let per_second = match budget_of(&state, self.settings.daily_budget_percent) {
            Some(budget) if state.used * 100 >= budget * SLOW_ZONE_PERCENT => 1,
            _ => self.settings.max_calls_per_second,
        };
        Ok(Check::Open(per_second))
    }
}

/// What [`CallGate::check`] found.
enum Check {
    /// Calls may go, this many a second.
    Open(u32),
    Held(Hold),
    /// An outage pause ran out: one call may probe.
    ProbeDue,
}

/// Calls Sluice may use of the org's daily allowance; `None` before Salesforce reported it.
fn budget_of(state: &Usage, percent: u8) -> Option<i64> {
    (state.max > 0).then(|| state.max * i64::from(percent) / 100)
}

/// The budget pause when the budget is spent: until the report that found it spent is a day
/// old (see [`pause`] for why). A report older than that no longer says anything.
fn budget_spent(state: &Usage, percent: u8, now: chrono::DateTime<Utc>) -> Option<Hold> {
    let budget = budget_of(state, percent)?;
    let observed = state.observed_at?;
    let until = observed + chrono::Duration::from_std(DAILY_WINDOW).unwrap_or_default();
    (state.used >= budget && until > now).then_some(Hold {
        reason: PauseReason::Budget,
        until,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(used: i64, max: i64, hours_ago: i64) -> Usage {
        Usage {
            used,
            max,
            observed_at: Some(Utc::now() - chrono::Duration::hours(hours_ago)),
            ..Usage::default()
        }
    }

    #[test]
    fn a_spent_budget_holds_until_its_report_is_a_day_old() {
        let now = Utc::now();
        let spent = state(8_000, 10_000, 2);
        let hold = budget_spent(&spent, 80, now).expect("spent");
        assert_eq!(hold.reason, PauseReason::Budget);
        assert_eq!(
            hold.until,
            spent.observed_at.unwrap() + chrono::Duration::hours(24)
        );
        assert_eq!(budget_spent(&state(7_999, 10_000, 2), 80, now), None);
        assert_eq!(
            budget_spent(&state(8_000, 10_000, 25), 80, now),
            None,
            "the window rolled"
        );
        assert_eq!(
            budget_spent(&state(8_000, 10_000, 2), 90, now),
            None,
            "a bigger share"
        );
        assert_eq!(
            budget_spent(&Usage::default(), 80, now),
            None,
            "never reported"
        );
    }
}
