//! The push's seat at the call gate ([`crate::salesforce::gate`]): a concurrency slot, then a
//! place in the current second, within the daily budget, honouring a shared pause.

use std::time::Duration;

use chrono::Utc;
use sqlx::PgPool;

use crate::config::PushConfig;
use crate::salesforce::SalesforceClient;
use crate::salesforce::gate::{self, CallPermit, GateLimits, Permit, permits};

/// How soon to look again when every concurrency slot is taken.
const SLOTS_BUSY_WAIT: Duration = Duration::from_millis(50);
/// Rounds of the gate one admission may go through before it gives up for now.
const MAX_ROUNDS: usize = 8;

/// Whether a call may go now.
pub(super) enum Admission {
    /// Go, holding this concurrency slot; give it back after the call.
    Go(CallPermit),
    Wait(Duration),
}

/// Admits the push's calls through the gate, and keeps the org's usage the gate decides on.
#[derive(Clone)]
pub(super) struct Gatekeeper {
    pool: PgPool,
    client: SalesforceClient,
    limits: GateLimits,
    max_concurrent_calls: u32,
    /// A concurrency slot outlives the call timeout a little, so a dead process's slot returns.
    permit_ttl: Duration,
    /// How long every dyno pauses when `/limits` cannot be read.
    limit_pause: Duration,
}

impl Gatekeeper {
    pub(super) fn new(pool: PgPool, client: SalesforceClient, cfg: &PushConfig) -> Self {
        Self {
            pool,
            client,
            limits: GateLimits {
                max_calls_per_second: cfg.max_calls_per_second,
                daily_budget_percent: cfg.daily_budget_percent,
                recheck_after: cfg.limit_pause,
            },
            max_concurrent_calls: cfg.max_concurrent_calls,
            permit_ttl: cfg.call_timeout + Duration::from_secs(30),
            limit_pause: cfg.limit_pause,
        }
    }

    /// Takes a concurrency slot, then a place in the current second (in that order, so that the
    /// call goes in the second it was counted in), waiting at most about `patience`.
    pub(super) async fn admit(&self, patience: Duration) -> Result<Admission, sqlx::Error> {
        let deadline = tokio::time::Instant::now() + patience;
        let slot = permits::acquire(
            &self.pool,
            self.max_concurrent_calls,
            self.permit_ttl,
            patience,
        )
        .await?;
        let Some(permit) = slot else {
            return Ok(Admission::Wait(SLOTS_BUSY_WAIT));
        };
        match self.pass_gate(deadline).await {
            Ok(None) => Ok(Admission::Go(permit)),
            Ok(Some(wait)) => {
                self.give_back(&permit).await;
                Ok(Admission::Wait(wait))
            }
            Err(e) => {
                self.give_back(&permit).await;
                Err(e)
            }
        }
    }

    /// `None` once the gate grants a call; `Some(wait)` when it would not before `deadline`.
    async fn pass_gate(
        &self,
        deadline: tokio::time::Instant,
    ) -> Result<Option<Duration>, sqlx::Error> {
        for _ in 0..MAX_ROUNDS {
            match gate::acquire(&self.pool, self.limits).await? {
                Permit::Granted => return Ok(None),
                Permit::Wait(wait) if tokio::time::Instant::now() + wait > deadline => {
                    return Ok(Some(wait));
                }
                Permit::Wait(wait) => tokio::time::sleep(wait).await,
                Permit::Refresh => self.refresh_usage().await?,
            }
        }
        Ok(Some(super::pusher::MAX_HELD_WAIT))
    }

    /// Gives a concurrency slot back; a failure only costs the slot until it expires.
    pub(super) async fn give_back(&self, permit: &CallPermit) {
        if let Err(e) = permits::release(&self.pool, permit).await {
            tracing::warn!(error = %e, "giving back a concurrency slot failed; it will expire");
        }
    }

    /// Reads the org's usage from `/limits` (one API call) and shares it with every dyno; when
    /// that fails, every dyno pauses for a while.
    pub(super) async fn refresh_usage(&self) -> Result<(), sqlx::Error> {
        match self.client.limits().await {
            Ok(_) => self.note_usage().await,
            Err(e) => {
                tracing::warn!(error = %e, "reading Salesforce limits failed");
                self.pause(self.limit_pause).await
            }
        }
    }

    /// Shares the last `Sforce-Limit-Info` seen with every dyno.
    pub(super) async fn note_usage(&self) -> Result<(), sqlx::Error> {
        match self.client.api_usage() {
            Some(usage) => gate::record_usage(&self.pool, &usage).await,
            None => Ok(()),
        }
    }

    /// Stops every dyno's calls for `pause`.
    pub(super) async fn pause(&self, pause: Duration) -> Result<(), sqlx::Error> {
        let until = Utc::now() + chrono::Duration::from_std(pause).unwrap_or_default();
        gate::pause_until(&self.pool, until).await
    }
}
