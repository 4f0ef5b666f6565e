//! One unit of push work: claim a batch of one object, send it in one API call, write outcomes.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sqlx::PgPool;
use tracing::Instrument;

use super::backoff;
use super::gate::{self, GateLimits, Permit};
use super::store::{self, ClaimedRecord, PushFailure, RecordOutcome};
use crate::config::PushConfig;
use crate::objects::{Catalog, ObjectSpec};
use crate::salesforce::{
    FailureClass, MAX_COLLECTION_RECORDS, RecordResult, SalesforceClient, SalesforceError,
};

/// What one call of [`Pusher::push_next_batch`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing is due.
    Idle,
    /// A batch went to Salesforce (or was given back after a request-level failure).
    Pushed {
        object: String,
        records: usize,
        synced: usize,
        failed: usize,
        retrying: usize,
    },
    /// The call gate says not now (rate cap, daily budget, or a pause after
    /// `REQUEST_LIMIT_EXCEEDED`): nothing was claimed.
    Wait(Duration),
}

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("database error in the push engine")]
    Database(#[from] sqlx::Error),
}

/// Longest wait on the gate while holding a claimed batch; longer waits give the batch back.
const MAX_HELD_WAIT: Duration = Duration::from_secs(3);

/// Pushes staged records of the catalog's objects, parents first.
#[derive(Clone)]
pub struct Pusher {
    pool: PgPool,
    client: SalesforceClient,
    catalog: Arc<Catalog>,
    cfg: PushConfig,
    owner: String,
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
        }
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

    /// Claims the next batch (the first object in catalog order with due rows), pushes it with
    /// one sObject Collections upsert and writes each record's outcome back.
    pub async fn push_next_batch(&self) -> Result<Outcome, PushError> {
        let due = store::objects_with_due_work(&self.pool).await?;
        let Some(spec) = self.catalog.iter().find(|o| due.contains(&o.name)) else {
            return Ok(Outcome::Idle);
        };
        if let Some(wait) = self.pass_gate().await? {
            return Ok(Outcome::Wait(wait));
        }
        let claimed = store::claim(
            &self.pool,
            &spec.name,
            &self.owner,
            MAX_COLLECTION_RECORDS as i64,
            self.cfg.lease,
        )
        .await?;
        if claimed.is_empty() {
            // Another scheduler took them between the look and the claim.
            return Ok(Outcome::Idle);
        }
        self.push(spec, claimed).await
    }

    fn limits(&self) -> GateLimits {
        GateLimits {
            max_calls_per_second: self.cfg.max_calls_per_second,
            daily_budget_percent: self.cfg.daily_budget_percent,
            recheck_after: self.cfg.limit_pause,
        }
    }

    /// Waits for the call gate (briefly) and returns None, or returns how long to wait.
    async fn pass_gate(&self) -> Result<Option<Duration>, PushError> {
        for _ in 0..3 {
            match gate::acquire(&self.pool, self.limits()).await? {
                Permit::Granted => return Ok(None),
                Permit::Wait(wait) if wait > MAX_HELD_WAIT => return Ok(Some(wait)),
                Permit::Wait(wait) => tokio::time::sleep(wait).await,
                Permit::Refresh => self.refresh_usage().await?,
            }
        }
        Ok(Some(MAX_HELD_WAIT))
    }

    /// Reads the org's usage from `/limits` (one API call) and shares it with every dyno.
    pub async fn refresh_usage(&self) -> Result<(), PushError> {
        match self.client.limits().await {
            Ok(_) => {
                if let Some(usage) = self.client.api_usage() {
                    gate::record_usage(&self.pool, &usage).await?;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading Salesforce limits failed");
                let until = Utc::now()
                    + chrono::Duration::from_std(self.cfg.limit_pause).unwrap_or_default();
                gate::pause_until(&self.pool, until).await?;
            }
        }
        Ok(())
    }

    async fn push(
        &self,
        spec: &ObjectSpec,
        claimed: Vec<ClaimedRecord>,
    ) -> Result<Outcome, PushError> {
        let span = tracing::info_span!("push_batch", object = %spec.name, records = claimed.len());
        let records = claimed.iter().map(|r| r.fields.clone()).collect();
        let started = std::time::Instant::now();
        let result = self
            .client
            .upsert_collection(&spec.name, &spec.external_id_field, records)
            .instrument(span)
            .await;
        if let Some(usage) = self.client.api_usage() {
            gate::record_usage(&self.pool, &usage).await?;
        }
        let outcomes = match result {
            Ok(results) if results.len() == claimed.len() => record_outcomes(&claimed, results),
            Ok(results) => {
                let error = SalesforceError::Protocol(format!(
                    "{} results for {} records",
                    results.len(),
                    claimed.len()
                ));
                return self.request_failed(spec, claimed, error).await;
            }
            Err(error) => return self.request_failed(spec, claimed, error).await,
        };
        let count = |f: fn(&RecordOutcome) -> bool| outcomes.iter().filter(|(_, o)| f(o)).count();
        let outcome = Outcome::Pushed {
            object: spec.name.clone(),
            records: outcomes.len(),
            synced: count(|o| matches!(o, RecordOutcome::Synced { .. })),
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
        Ok(outcome)
    }

    /// The call as a whole failed: no record was (knowingly) written.
    async fn request_failed(
        &self,
        spec: &ObjectSpec,
        claimed: Vec<ClaimedRecord>,
        error: SalesforceError,
    ) -> Result<Outcome, PushError> {
        tracing::warn!(object = %spec.name, records = claimed.len(), error = %error, class = ?error.class(), "push request failed");
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
                        (
                            r,
                            RecordOutcome::Retry {
                                delay,
                                error: failure.clone(),
                            },
                        )
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

/// Auth and session failures are about Sluice's credentials, not the data.
fn is_configuration_problem(error: &SalesforceError) -> bool {
    matches!(
        error,
        SalesforceError::Auth { .. }
            | SalesforceError::SessionInvalid { .. }
            | SalesforceError::InvalidKey(_)
    )
}

fn record_outcomes(
    claimed: &[ClaimedRecord],
    results: Vec<RecordResult>,
) -> Vec<(ClaimedRecord, RecordOutcome)> {
    claimed
        .iter()
        .cloned()
        .zip(results)
        .map(|(record, result)| {
            let outcome = match (&result.id, result.success) {
                (Some(id), true) => RecordOutcome::Synced {
                    salesforce_id: id.clone(),
                },
                _ => {
                    let failure = result
                        .errors
                        .iter()
                        .find(|e| !e.is_collateral())
                        .or(result.errors.first())
                        .map(|e| PushFailure {
                            code: e.status_code.clone(),
                            message: e.message.clone(),
                            fields: e.fields.clone(),
                        })
                        .unwrap_or_else(|| PushFailure {
                            code: "UNKNOWN".into(),
                            message: "Salesforce reported a failure without an error".into(),
                            fields: Vec::new(),
                        });
                    if result.is_retryable_failure() {
                        RecordOutcome::Retry {
                            delay: backoff::delay(record.attempts),
                            error: failure,
                        }
                    } else {
                        RecordOutcome::Failed(failure)
                    }
                }
            };
            (record, outcome)
        })
        .collect()
}

fn failure_of(error: &SalesforceError) -> PushFailure {
    let (code, message) = match error {
        SalesforceError::Unavailable { code, message, .. }
        | SalesforceError::Rejected { code, message, .. } => (code.clone(), message.clone()),
        SalesforceError::LimitExceeded { message } => {
            ("REQUEST_LIMIT_EXCEEDED".into(), message.clone())
        }
        SalesforceError::Network(_) => ("NETWORK_ERROR".into(), error.to_string()),
        other => ("SLUICE_ERROR".into(), other.to_string()),
    };
    PushFailure {
        code,
        message,
        fields: Vec::new(),
    }
}
