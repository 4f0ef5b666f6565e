//! One unit of push work: plan, claim a batch of one object, send it, write the outcomes.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sqlx::PgPool;

use super::backoff;
use super::gate::{self, GateLimits, Permit};
use super::permits::{self, CallPermit};
use super::plan::{self, Operation, Plan, Via};
use super::records::{failure_of, is_configuration_problem, split_duplicates};
use super::store::{self, ClaimedRecord, RecordOutcome};
use crate::config::PushConfig;
use crate::describe::Describes;
use crate::objects::{Catalog, ObjectSpec};
use crate::salesforce::{FailureClass, MAX_COLLECTION_RECORDS, SalesforceClient, SalesforceError};

/// What one call of [`Pusher::push_next_batch`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing is due.
    Idle,
    /// A batch went to Salesforce (or was given back after a request-level failure). Deleted
    /// records count as synced.
    Pushed {
        object: String,
        records: usize,
        synced: usize,
        failed: usize,
        retrying: usize,
    },
    /// Not now: the call gate says wait (rate cap, concurrency cap, daily budget, or a pause
    /// after `REQUEST_LIMIT_EXCEEDED`), or the next batch is still gathering. Nothing was claimed.
    Wait(Duration),
}

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("database error in the push engine")]
    Database(#[from] sqlx::Error),
}

/// Longest wait on the gate while holding a claimed batch; longer waits give the batch back.
pub(super) const MAX_HELD_WAIT: Duration = Duration::from_secs(3);
/// How soon to look again when every concurrency slot is taken.
const SLOTS_BUSY_WAIT: Duration = Duration::from_millis(50);

/// Whether a call may go now.
pub(super) enum Admission {
    /// Go, holding this concurrency slot; give it back after the call.
    Go(CallPermit),
    Wait(Duration),
}

/// Pushes staged records of the catalog's objects, parents first.
#[derive(Clone)]
pub struct Pusher {
    pub(super) pool: PgPool,
    pub(super) client: SalesforceClient,
    catalog: Arc<Catalog>,
    pub(super) cfg: PushConfig,
    pub(super) owner: String,
    /// Salesforce's describes, to check rows that never went through ingest (see `preflight`).
    pub(super) describes: Describes,
    /// Put the records' fields in the `batch claimed` debug line (`SLUICE_LOG_PAYLOADS`).
    pub(super) log_payloads: bool,
}

impl Pusher {
    pub fn new(
        pool: PgPool,
        client: SalesforceClient,
        catalog: Arc<Catalog>,
        cfg: PushConfig,
        owner: String,
    ) -> Self {
        Self {
            pool,
            client,
            catalog,
            cfg,
            owner,
            describes: Describes::default(),
            log_payloads: false,
        }
    }

    /// Logs the fields of each batch it claims (debug level): personal data, for debugging only.
    pub fn with_payload_logging(mut self, on: bool) -> Self {
        self.log_payloads = on;
        self
    }

    /// Checks upserts against these describes before sending them (rows written with SQL).
    pub fn with_describes(mut self, describes: Describes) -> Self {
        self.describes = describes;
        self
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn config(&self) -> &PushConfig {
        &self.cfg
    }

    /// Plans the next batch (see [`plan`]), claims it and pushes it: up to 200 records with one
    /// sObject Collections call, or a backlog as one Bulk API 2.0 job. Writes each record's
    /// outcome back.
    pub async fn push_next_batch(&self) -> Result<Outcome, PushError> {
        let due = store::due_groups(&self.pool).await?;
        let (spec, operation, via) = match plan::plan(&self.catalog, &due, &self.cfg) {
            Plan::Idle => return Ok(Outcome::Idle),
            Plan::Gather(wait) => return Ok(Outcome::Wait(wait)),
            Plan::Push {
                object,
                operation,
                via,
            } => match self.catalog.get(&object) {
                Some(spec) => (spec, operation, via),
                None => return Ok(Outcome::Idle),
            },
        };
        let permit = match self.admit(MAX_HELD_WAIT).await? {
            Admission::Go(permit) => permit,
            Admission::Wait(wait) => return Ok(Outcome::Wait(wait)),
        };
        let limit = match via {
            Via::Collection => MAX_COLLECTION_RECORDS as i64,
            Via::Bulk => i64::from(self.cfg.bulk_max_records),
        };
        let claimed = store::claim(
            &self.pool,
            &spec.name,
            operation,
            &self.owner,
            limit,
            self.cfg.lease,
            self.cfg.batch_window.min(self.cfg.max_lag),
        )
        .await;
        let claimed = match claimed {
            Ok(claimed) if !claimed.is_empty() => claimed,
            other => {
                // Another scheduler took them between the look and the claim.
                self.give_back(&permit).await;
                return other.map(|_| Outcome::Idle).map_err(Into::into);
            }
        };
        let result = self
            .push_claimed(spec, operation, via, claimed, &permit)
            .await;
        if result.is_err() {
            // Given back already on every path that got this far without an error.
            self.give_back(&permit).await;
        }
        result
    }

    async fn push_claimed(
        &self,
        spec: &ObjectSpec,
        operation: Operation,
        via: Via,
        claimed: Vec<ClaimedRecord>,
        permit: &CallPermit,
    ) -> Result<Outcome, PushError> {
        let (claimed, later) = split_duplicates(claimed, operation);
        if !later.is_empty() {
            let ids: Vec<i64> = later.iter().map(|r| r.id).collect();
            store::release(&self.pool, &self.owner, &ids, Duration::ZERO).await?;
        }
        let permit = permit.clone();
        let claimed = match operation {
            Operation::Upsert => self.preflight(spec, claimed).await?,
            Operation::Delete => claimed,
        };
        if claimed.is_empty() {
            self.give_back(&permit).await;
            return Ok(Outcome::Idle);
        }
        match (via, operation) {
            (Via::Bulk, _) => self.push_bulk(spec, operation, claimed, permit).await,
            (Via::Collection, Operation::Upsert) => self.upsert(spec, claimed, permit).await,
            (Via::Collection, Operation::Delete) => self.delete(spec, claimed, permit).await,
        }
    }

    fn limits(&self) -> GateLimits {
        GateLimits {
            max_calls_per_second: self.cfg.max_calls_per_second,
            daily_budget_percent: self.cfg.daily_budget_percent,
            recheck_after: self.cfg.limit_pause,
        }
    }

    /// Takes a concurrency slot, then a place in the current second (in that order, so that the
    /// call goes in the second it was counted in), waiting at most about `patience`.
    pub(super) async fn admit(&self, patience: Duration) -> Result<Admission, PushError> {
        let deadline = tokio::time::Instant::now() + patience;
        let ttl = self.cfg.call_timeout + Duration::from_secs(30);
        let slot =
            permits::acquire(&self.pool, self.cfg.max_concurrent_calls, ttl, patience).await?;
        let Some(permit) = slot else {
            return Ok(Admission::Wait(SLOTS_BUSY_WAIT));
        };
        for _ in 0..8 {
            let step = match gate::acquire(&self.pool, self.limits()).await {
                Ok(step) => step,
                Err(e) => {
                    self.give_back(&permit).await;
                    return Err(e.into());
                }
            };
            match step {
                Permit::Granted => return Ok(Admission::Go(permit)),
                Permit::Wait(wait) if tokio::time::Instant::now() + wait > deadline => {
                    self.give_back(&permit).await;
                    return Ok(Admission::Wait(wait));
                }
                Permit::Wait(wait) => tokio::time::sleep(wait).await,
                Permit::Refresh => {
                    if let Err(e) = self.refresh_usage().await {
                        self.give_back(&permit).await;
                        return Err(e);
                    }
                }
            }
        }
        self.give_back(&permit).await;
        Ok(Admission::Wait(MAX_HELD_WAIT))
    }

    /// Gives a concurrency slot back; a failure only costs the slot until it expires.
    pub(super) async fn give_back(&self, permit: &CallPermit) {
        if let Err(e) = permits::release(&self.pool, permit).await {
            tracing::warn!(error = %e, "giving back a concurrency slot failed; it will expire");
        }
    }

    /// Reads the org's usage from `/limits` (one API call) and shares it with every dyno.
    pub async fn refresh_usage(&self) -> Result<(), PushError> {
        match self.client.limits().await {
            Ok(_) => self.note_usage().await?,
            Err(e) => {
                tracing::warn!(error = %e, "reading Salesforce limits failed");
                let until = Utc::now()
                    + chrono::Duration::from_std(self.cfg.limit_pause).unwrap_or_default();
                gate::pause_until(&self.pool, until).await?;
            }
        }
        Ok(())
    }

    /// Shares the last `Sforce-Limit-Info` seen with every dyno.
    pub(super) async fn note_usage(&self) -> Result<(), PushError> {
        if let Some(usage) = self.client.api_usage() {
            gate::record_usage(&self.pool, &usage).await?;
        }
        Ok(())
    }

    /// Writes the outcomes and says what the batch did.
    pub(super) async fn finish(
        &self,
        spec: &ObjectSpec,
        outcomes: Vec<(ClaimedRecord, RecordOutcome)>,
        started: std::time::Instant,
    ) -> Result<Outcome, PushError> {
        let count = |f: fn(&RecordOutcome) -> bool| outcomes.iter().filter(|(_, o)| f(o)).count();
        let outcome = Outcome::Pushed {
            object: spec.name.clone(),
            records: outcomes.len(),
            synced: count(|o| matches!(o, RecordOutcome::Synced { .. } | RecordOutcome::Deleted)),
            failed: count(|o| matches!(o, RecordOutcome::Failed(_))),
            retrying: count(|o| matches!(o, RecordOutcome::Retry { .. })),
        };
        store::record_outcomes(&self.pool, &self.owner, self.cfg.max_attempts, &outcomes).await?;
        tracing::info!(
            object = %spec.name,
            records = outcomes.len(),
            duration_ms = started.elapsed().as_millis() as u64,
            ?outcome,
            "batch pushed"
        );
        crate::observe::metrics::push_outcome(&outcome);
        Ok(outcome)
    }

    /// The call as a whole failed: no record was (knowingly) written.
    pub(super) async fn request_failed(
        &self,
        spec: &ObjectSpec,
        claimed: Vec<ClaimedRecord>,
        error: SalesforceError,
    ) -> Result<Outcome, PushError> {
        tracing::warn!(object = %spec.name, records = claimed.len(), error = %error, class = ?error.class(), "push request failed");
        crate::observe::metrics::push_request_failed(
            &spec.name,
            claimed.len(),
            if is_configuration_problem(&error) {
                FailureClass::Transient
            } else {
                error.class()
            },
        );
        let ids: Vec<i64> = claimed.iter().map(|r| r.id).collect();
        let failure = failure_of(&error);
        match error.class() {
            FailureClass::LimitExceeded => {
                let pause = if error.is_concurrency_limit() {
                    Duration::from_secs(5)
                } else {
                    self.cfg.limit_pause
                };
                let until = Utc::now() + chrono::Duration::from_std(pause).unwrap_or_default();
                gate::pause_until(&self.pool, until).await?;
                store::release(&self.pool, &self.owner, &ids, pause).await?;
            }
            FailureClass::Transient => {
                let outcomes: Vec<_> = claimed
                    .into_iter()
                    .map(|r| {
                        let delay = backoff::delay(r.attempts);
                        let error = failure.clone();
                        (r, RecordOutcome::Retry { delay, error })
                    })
                    .collect();
                store::record_outcomes(&self.pool, &self.owner, self.cfg.max_attempts, &outcomes)
                    .await?;
            }
            FailureClass::Fatal if is_configuration_problem(&error) => {
                // Not the records' fault: keep them pending and retry later, loudly.
                store::release(&self.pool, &self.owner, &ids, self.cfg.limit_pause).await?;
            }
            FailureClass::Fatal => {
                let outcomes: Vec<_> = claimed
                    .into_iter()
                    .map(|r| (r, RecordOutcome::Failed(failure.clone())))
                    .collect();
                store::record_outcomes(&self.pool, &self.owner, self.cfg.max_attempts, &outcomes)
                    .await?;
            }
        }
        Ok(Outcome::Pushed {
            object: spec.name.clone(),
            records: ids.len(),
            synced: 0,
            failed: 0,
            retrying: ids.len(),
        })
    }
}
