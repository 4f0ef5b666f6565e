//! The push's look at the call gate ([`crate::salesforce::gate`]) before it claims a batch:
//! while every dyno is paused (the daily budget, an outage, `REQUEST_LIMIT_EXCEEDED`) nothing is
//! claimed. The caps themselves (a concurrency slot, a place in the second) are taken by the
//! Salesforce client for each request, right before it goes out, so that a batch being built or
//! a Bulk job being polled never holds them.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::Utc;
use sqlx::PgPool;

use crate::config::PushConfig;
use crate::salesforce::SalesforceClient;
use crate::salesforce::gate::{self, CallGate, Hold, PauseReason};

/// The longest the scheduler sleeps on a pause before it looks again (a pause may be lifted
/// early: a new budget setting, a probe that succeeded on another dyno).
const LONGEST_PAUSED_WAIT: Duration = Duration::from_secs(30);
/// The shortest wait on a pause that is about to end.
const SHORTEST_PAUSED_WAIT: Duration = Duration::from_millis(20);

/// Whether a batch may be claimed now.
pub(super) enum Admission {
    /// Go: each call then takes its own places at the gate.
    Go,
    Wait(Duration),
}

/// The push's view of the gate, and of the pause it last reported.
#[derive(Clone)]
pub(super) struct Gatekeeper {
    pool: PgPool,
    client: SalesforceClient,
    gate: CallGate,
    /// The pause this process last logged, so that a pause is logged once, not every look.
    reported: Arc<Mutex<Option<PauseReason>>>,
}

impl Gatekeeper {
    /// The client whose every call passes the gate of this database and these caps (the one
    /// the client has already, when it has one).
    pub(super) fn gated(
        pool: &PgPool,
        client: SalesforceClient,
        cfg: &PushConfig,
    ) -> SalesforceClient {
        match client.gate() {
            Some(_) => client,
            None => {
                let settings = cfg.gate_settings(client.request_timeout());
                client.with_gate(CallGate::new(pool.clone(), settings))
            }
        }
    }

    pub(super) fn new(pool: PgPool, client: SalesforceClient, cfg: &PushConfig) -> Self {
        let client = Self::gated(&pool, client, cfg);
        let gate = client.gate().cloned().unwrap_or_else(|| {
            CallGate::new(pool.clone(), cfg.gate_settings(client.request_timeout()))
        });
        Self {
            pool,
            client,
            gate,
            reported: Arc::default(),
        }
    }

    /// `Go` unless every dyno is paused; then how long until it ends (at most
    /// [`LONGEST_PAUSED_WAIT`]). The caps are the client's business (see the module doc).
    pub(super) async fn admit(&self, _patience: Duration) -> Result<Admission, sqlx::Error> {
        let hold = self.gate.hold().await?;
        self.report(hold);
        Ok(match hold {
            None => Admission::Go,
            Some(hold) => Admission::Wait(
                hold.remaining()
                    .clamp(SHORTEST_PAUSED_WAIT, LONGEST_PAUSED_WAIT),
            ),
        })
    }

    /// Logs a pause when it starts or changes reason, and the end of it.
    fn report(&self, hold: Option<Hold>) {
        let mut last = self.reported.lock().unwrap_or_else(PoisonError::into_inner);
        let now = hold.map(|h| h.reason);
        if *last == now {
            return;
        }
        match hold {
            Some(hold) => tracing::warn!(
                reason = %hold.reason,
                until = %hold.until.format("%Y-%m-%dT%H:%M:%SZ"),
                "push paused: {}",
                hold.reason.describe()
            ),
            None => tracing::info!("push resumed"),
        }
        *last = now;
    }

    /// Reads the org's usage from `/limits` (one API call, through the gate: not past the
    /// budget); the gate records what its answer reports.
    pub(super) async fn refresh_usage(&self) -> Result<(), sqlx::Error> {
        match self.client.limits().await {
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "reading Salesforce limits failed"),
        }
        Ok(())
    }

    /// Stops every dyno's calls for `pause`, after Salesforce answered `REQUEST_LIMIT_EXCEEDED`.
    pub(super) async fn pause(&self, pause: Duration) -> Result<(), sqlx::Error> {
        let until = Utc::now() + chrono::Duration::from_std(pause).unwrap_or_default();
        gate::pause_until(&self.pool, PauseReason::Limit, until).await
    }
}
