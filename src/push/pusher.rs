//! One unit of push work: plan, claim a batch of one object, send it, write the outcomes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::PgPool;

use super::admission::{Admission, Gatekeeper};
use super::bulk::{self, BulkContext, BulkEnd};
use super::lane::BulkLane;
use super::plan::{self, Plan, Via};
use super::results::{
    failure_of, is_configuration_problem, may_have_been_applied, split_duplicates,
};
use super::resume::{self, Resumed};
use super::{backoff, collections, jobs, metrics, preflight};
use crate::config::PushConfig;
use crate::describe::Describes;
use crate::objects::{Catalog, ObjectSpec};
use crate::salesforce::{FailureClass, MAX_COLLECTION_RECORDS, SalesforceClient, SalesforceError};
use crate::staging::{self, Claim, ClaimedRecord, Operation, RecordOutcome};

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
    /// A Bulk API 2.0 job of at most this many records started in the scheduler's lane, where it
    /// claims its rows; what it does to them is written when it ends.
    BulkStarted { object: String, up_to: usize },
    /// Not now: the call gate says wait (rate cap, concurrency cap, daily budget, or a pause
    /// after `REQUEST_LIMIT_EXCEEDED`), or the next batch is still gathering. Nothing was claimed.
    Wait(Duration),
}

impl Outcome {
    /// A batch that went back to the queue whole, to be tried again.
    fn retrying(spec: &ObjectSpec, records: usize) -> Self {
        Self::Pushed {
            object: spec.name.to_string(),
            records,
            synced: 0,
            failed: 0,
            retrying: records,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("database error in the push engine")]
    Database(#[from] sqlx::Error),
}

/// Longest a Bulk job that could not be followed waits before a scheduler resumes it (at most
/// the lease).
const SET_ASIDE: Duration = Duration::from_secs(30);

/// How long a due backlog may wait for the rest of it to be merged from the ingest inbox before
/// its Bulk job starts anyway.
const INBOX_HOLD_MAX: Duration = Duration::from_secs(30);

/// Added to the window when asking whether a merge is recent: a merge notes its time just before
/// its commit is stamped.
const INBOX_QUIET_MARGIN: Duration = Duration::from_millis(100);

/// How soon the planner looks again while a backlog is being merged and nothing else is due.
const INBOX_RECHECK: Duration = Duration::from_millis(100);

/// Longest wait on the gate while holding a claimed batch; longer waits give the batch back.
pub(super) const MAX_HELD_WAIT: Duration = Duration::from_secs(3);

/// Pushes staged records of the catalog's objects, parents first.
#[derive(Clone)]
pub struct Pusher {
    pool: PgPool,
    client: SalesforceClient,
    catalog: Arc<Catalog>,
    cfg: PushConfig,
    /// Names this scheduler in leases.
    owner: String,
    gate: Gatekeeper,
    /// Salesforce's describes, to check rows that never went through ingest (see `preflight`).
    describes: Describes,
    /// Put the records' fields in the `batch claimed` debug line (`SLUICE_LOG_PAYLOADS`).
    log_payloads: bool,
}

impl Pusher {
    pub fn new(
        pool: PgPool,
        client: SalesforceClient,
        catalog: Arc<Catalog>,
        cfg: PushConfig,
        owner: String,
    ) -> Self {
        let client = Gatekeeper::gated(&pool, client, &cfg);
        let gate = Gatekeeper::new(pool.clone(), client.clone(), &cfg);
        Self {
            pool,
            client,
            catalog,
            cfg,
            owner,
            gate,
            describes: Describes::default(),
            log_payloads: false,
        }
    }

    /// Checks upserts against these describes before sending them (rows written with SQL).
    pub fn with_describes(mut self, describes: Describes) -> Self {
        self.describes = describes;
        self
    }

    /// Logs the fields of each batch it claims (debug level): personal data, for debugging only.
    pub fn with_payload_logging(mut self, on: bool) -> Self {
        self.log_payloads = on;
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

    /// Reads the org's usage from `/limits` (one API call) and shares it with every dyno.
    pub async fn refresh_usage(&self) -> Result<(), PushError> {
        Ok(self.gate.refresh_usage().await?)
    }

    /// Gives back every lease this scheduler still holds (a push cut short by shutdown, or by
    /// the database going away mid-batch).
    pub async fn release_all(&self) -> Result<u64, sqlx::Error> {
        jobs::release_owned(&self.pool, &self.owner).await?;
        staging::release_owned(&self.pool, &self.owner).await
    }

    /// Plans the next batch (see [`plan`]), claims it and pushes it: up to 200 records with one
    /// sObject Collections call, or a backlog as one Bulk API 2.0 job. Writes each record's
    /// outcome back.
    ///
    /// The ingest inbox is merged first, so that every record accepted so far is seen. A Bulk job
    /// is followed to its end inside this call. The scheduler uses [`push_next`](Self::push_next)
    /// with a lane of its own instead, beside the process's inbox merger (`ingest::merger`).
    pub async fn push_next_batch(&self) -> Result<Outcome, PushError> {
        staging::inbox::merge_all(&self.pool, staging::inbox::FLUSH_MAX_ROUNDS).await?;
        self.push_next(&mut BulkLane::inline()).await
    }

    /// As [`push_next_batch`](Self::push_next_batch), but a Bulk job goes to `lane`, where it
    /// claims its rows and runs; while it runs there, only changes committed after its claim (and
    /// those of small transactions) are pushed, by Collections.
    pub async fn push_next(&self, lane: &mut BulkLane) -> Result<Outcome, PushError> {
        let busy_since = lane.busy_since();
        // With room in the lane the whole queue is planned (a backlog left by the running job
        // goes as the next one); without, only what came after it.
        let mut fresh_since = busy_since.filter(|_| !lane.has_room());
        if busy_since.is_none()
            && let Some(outcome) = self.resume_bulk_job().await?
        {
            return Ok(outcome);
        }
        let mut due =
            staging::due_groups(&self.pool, MAX_COLLECTION_RECORDS as i64, fresh_since).await?;
        let mut planned = plan::plan(&self.catalog, &due, &self.cfg);
        if matches!(planned, Plan::Push { .. })
            && fresh_since.is_none()
            && lane.has_room()
            && self.backlog_arriving(&due).await?
        {
            // A backlog still coming through the ingest inbox: its job waits until it is merged,
            // so that it takes all of it; meanwhile small transactions go as while a job runs.
            // (An inline lane's caller merges the inbox itself first: `push_next_batch`.)
            fresh_since = Some(chrono::Utc::now());
            due =
                staging::due_groups(&self.pool, MAX_COLLECTION_RECORDS as i64, fresh_since).await?;
            planned = match plan::plan(&self.catalog, &due, &self.cfg) {
                Plan::Idle => Plan::Gather(INBOX_RECHECK),
                planned => planned,
            };
        }
        let (spec, operation, via) = match planned {
            Plan::Idle => return Ok(Outcome::Idle),
            Plan::Gather(wait) => return Ok(Outcome::Wait(wait)),
            Plan::Push {
                object,
                operation,
                via,
            } => match self.catalog.get(object.as_str()) {
                // A backlog again while a job runs: another job if the lane has room, else
                // Collections (see `lane`).
                Some(spec) if via == Via::Bulk && fresh_since.is_some() => {
                    (spec, operation, Via::Collection)
                }
                Some(spec) => (spec, operation, via),
                None => return Ok(Outcome::Idle),
            },
        };
        let apart = via == Via::Bulk && lane.has_room();
        if apart && let Some(wait) = lane.held_for() {
            return Ok(Outcome::Wait(wait));
        }
        if let Admission::Wait(wait) = self.gate.admit(MAX_HELD_WAIT).await? {
            return Ok(Outcome::Wait(wait));
        }
        let limit = match via {
            Via::Collection => MAX_COLLECTION_RECORDS as i64,
            Via::Bulk => self.bulk_limit(&due, &spec.name, operation, lane),
        };
        if apart {
            // The job claims its rows in its own task (a claim of 50,000 rows takes seconds); the
            // lane is busy from now on, with this moment as its cutoff: what was committed before
            // it is the backlog this job takes (or the next job will, planned once the lane has
            // room again).
            let settle = chrono::Duration::from_std(claim_settle(&self.cfg)).unwrap_or_default();
            let since = chrono::Utc::now() - settle;
            let object = spec.name.to_string();
            let (pusher, spec) = (self.clone(), spec.clone());
            let rest = self.cfg.batch_window;
            lane.start(since, async move {
                let outcome = pusher
                    .claim_and_push(&spec, operation, via, limit, fresh_since, false, &due)
                    .await?;
                // Nothing to claim (another scheduler is taking the rows): the job ends, and the
                // lane rests for the window rather than start the same job again at once.
                Ok(match outcome {
                    Outcome::Idle => Outcome::Wait(rest),
                    outcome => outcome,
                })
            });
            return Ok(Outcome::BulkStarted {
                object,
                up_to: limit as usize,
            });
        }
        // While a job runs, what goes by Collections is the freshest first (small transactions,
        // then the newest): the tail of a backlog waits for the next job rather than delay a
        // record just posted.
        let fresh_first = fresh_since.is_some() && via == Via::Collection;
        self.claim_and_push(spec, operation, via, limit, fresh_since, fresh_first, &due)
            .await
    }

    /// Whether records are still being merged from the ingest inbox (or were within the window)
    /// while a backlog (a Bulk job's worth) is due: pushed now, it would go by Collections while
    /// merges keep it from looking quiet, or as a job that takes only its settled part, the rest
    /// (committed after the job's cutoff) going by Collections, 200 a call. Not when the backlog
    /// has waited [`INBOX_HOLD_MAX`] already (a stream that never lets the inbox empty still gets
    /// its jobs).
    async fn backlog_arriving(&self, due: &[staging::DueGroup]) -> Result<bool, PushError> {
        let backlog = due
            .iter()
            .any(|g| g.count >= u64::from(self.cfg.bulk_threshold) && g.oldest < INBOX_HOLD_MAX);
        Ok(backlog
            && staging::inbox::arriving(&self.pool, claim_settle(&self.cfg) + INBOX_QUIET_MARGIN)
                .await?)
    }

    /// Claims up to `limit` rows of the group and pushes them.
    #[expect(
        clippy::too_many_arguments,
        reason = "the claim's terms, each named at the call"
    )]
    async fn claim_and_push(
        &self,
        spec: &ObjectSpec,
        operation: Operation,
        via: Via,
        limit: i64,
        committed_after: Option<chrono::DateTime<chrono::Utc>>,
        fresh_first: bool,
        due: &[staging::DueGroup],
    ) -> Result<Outcome, PushError> {
        let claim = Claim {
            object: &spec.name,
            operation,
            owner: &self.owner,
            limit,
            lease: self.cfg.lease,
            settle: claim_settle(&self.cfg),
            unanswered_hold: (via == Via::Collection).then_some(self.cfg.unanswered_hold),
            committed_after,
            fresh_first,
        };
        let claimed = match staging::claim(&self.pool, claim).await {
            Ok(claimed) if !claimed.is_empty() => claimed,
            other => {
                // Another scheduler took them between the look and the claim.
                return Ok(other.map(|_| Outcome::Idle)?);
            }
        };
        if via == Via::Bulk && self.mid_write(due, &spec.name, operation, limit, claimed.len()) {
            // Most of the group is locked by a transaction writing it now (the claim skips
            // locked rows): its commit restarts the window, so wait for it rather than send now
            // what it is about to change. In the lane, the wait holds the lane (see `lane`).
            let ids: Vec<i64> = claimed.iter().map(|r| r.id).collect();
            staging::release(&self.pool, &self.owner, &ids, Duration::ZERO).await?;
            return Ok(Outcome::Wait(self.cfg.batch_window));
        }
        self.push_claimed(spec, operation, via, claimed).await
    }

    /// Records for a Bulk job of this group: up to `PUSH_BULK_MAX_RECORDS`, but while changes
    /// keep coming (the group is not quiet) and jobs run apart, the newest Collections call's
    /// worth is left out: those are most likely records just posted, which go by Collections
    /// within the window rather than wait for a job (see `lane`).
    fn bulk_limit(
        &self,
        due: &[staging::DueGroup],
        object: &staging::ObjectName,
        operation: Operation,
        lane: &BulkLane,
    ) -> i64 {
        let most = i64::from(self.cfg.bulk_max_records);
        let group = due
            .iter()
            .find(|g| &g.object == object && g.operation == operation);
        match group {
            Some(g) if lane.has_room() && g.newest < self.cfg.batch_window => {
                let keep = MAX_COLLECTION_RECORDS as i64;
                most.min((g.count as i64 - keep).max(1))
            }
            _ => most,
        }
    }

    /// Whether a Bulk claim got less than half the rows it planned while the group is not
    /// overdue: the rest are being written by an open transaction.
    fn mid_write(
        &self,
        due: &[staging::DueGroup],
        object: &staging::ObjectName,
        operation: Operation,
        limit: i64,
        claimed: usize,
    ) -> bool {
        due.iter()
            .find(|g| &g.object == object && g.operation == operation)
            .is_some_and(|g| {
                let planned = (g.count as i64).min(limit);
                g.oldest < self.cfg.max_lag && (claimed as i64) * 2 < planned
            })
    }

    async fn push_claimed(
        &self,
        spec: &ObjectSpec,
        operation: Operation,
        via: Via,
        claimed: Vec<ClaimedRecord>,
    ) -> Result<Outcome, PushError> {
        let started = Instant::now();
        let (claimed, later) = split_duplicates(claimed, operation);
        if !later.is_empty() {
            let ids: Vec<i64> = later.iter().map(|r| r.id).collect();
            staging::release(&self.pool, &self.owner, &ids, Duration::ZERO).await?;
        }
        let mut done = Vec::new();
        let claimed = match operation {
            Operation::Upsert => {
                let (fit, refused) = preflight::check(&self.describes, spec, claimed);
                if !refused.is_empty() {
                    tracing::warn!(object = %spec.name, records = refused.len(), "rows refused before sending: they do not fit Salesforce's describe");
                }
                done.extend(refused);
                fit
            }
            // A record never synced has nothing to delete in Salesforce: it is only marked.
            Operation::Delete => {
                let (remote, local): (Vec<_>, Vec<_>) =
                    claimed.into_iter().partition(|r| r.salesforce_id.is_some());
                done.extend(local.into_iter().map(|r| (r, RecordOutcome::Deleted)));
                remote
            }
        };
        if claimed.is_empty() {
            return self.finish(spec, done, started).await;
        }
        let sent = match via {
            Via::Collection => self.send_collection(spec, operation, &claimed).await,
            Via::Bulk => {
                let end = bulk::push(&self.bulk_context(), spec, operation, claimed).await?;
                return self.bulk_ended(spec, done, end, started).await;
            }
        };
        match sent {
            Ok(outcomes) => {
                done.extend(claimed.into_iter().zip(outcomes));
                self.finish(spec, done, started).await
            }
            Err(error) => {
                self.finish(spec, done, started).await?;
                self.request_failed(spec, claimed, error).await
            }
        }
    }

    /// One sObject Collections call (the client takes its places at the gate).
    async fn send_collection(
        &self,
        spec: &ObjectSpec,
        operation: Operation,
        claimed: &[ClaimedRecord],
    ) -> Result<Vec<RecordOutcome>, SalesforceError> {
        let started = Instant::now();
        let sent = match operation {
            Operation::Upsert => {
                collections::upsert(&self.client, spec, claimed, self.log_payloads).await
            }
            Operation::Delete => collections::delete(&self.client, spec, claimed).await,
        };
        metrics::call(spec.name.as_str(), claimed.len(), started.elapsed());
        sent
    }

    fn bulk_context(&self) -> BulkContext<'_> {
        BulkContext {
            client: &self.client,
            gate: &self.gate,
            pool: &self.pool,
            owner: &self.owner,
            lease: self.cfg.lease,
        }
    }

    /// Takes over a Bulk job no scheduler follows any more, and follows it to its end.
    async fn resume_bulk_job(&self) -> Result<Option<Outcome>, PushError> {
        let spec_of = |name: &str| self.catalog.get(name).cloned();
        let resumed = resume::next(&self.bulk_context(), spec_of).await?;
        let (job_id, spec, end, changed) = match resumed {
            None => return Ok(None),
            Some(Resumed::Unknown) => return Ok(Some(Outcome::Idle)),
            Some(Resumed::Ended(ended)) => {
                let resume::Ended {
                    job_id,
                    spec,
                    end,
                    changed,
                } = *ended;
                (job_id, spec, end, changed)
            }
        };
        if matches!(&end, BulkEnd::Finished { outcomes, .. } if outcomes.is_empty()) {
            jobs::finished(&self.pool, &job_id, Default::default()).await?;
            return Ok(Some(Outcome::Idle));
        }
        let end = match end {
            // Rows changed since they were sent go again now, with their newer version; what
            // the job did to them is superseded.
            BulkEnd::Finished {
                job_id,
                outcomes,
                counts,
            } if !changed.is_empty() => {
                staging::release(&self.pool, &self.owner, &changed, Duration::ZERO).await?;
                let outcomes = outcomes
                    .into_iter()
                    .filter(|(r, _)| !changed.contains(&r.id))
                    .collect();
                BulkEnd::Finished {
                    job_id,
                    outcomes,
                    counts,
                }
            }
            other => other,
        };
        Ok(Some(
            self.bulk_ended(&spec, Vec::new(), end, Instant::now())
                .await?,
        ))
    }

    /// What a Bulk job's end means for its records.
    async fn bulk_ended(
        &self,
        spec: &ObjectSpec,
        mut done: Vec<(ClaimedRecord, RecordOutcome)>,
        end: BulkEnd,
        started: Instant,
    ) -> Result<Outcome, PushError> {
        match end {
            BulkEnd::Finished {
                job_id,
                outcomes,
                counts,
            } => {
                done.extend(outcomes);
                let outcome = self.finish(spec, done, started).await?;
                jobs::finished(&self.pool, &job_id, counts).await?;
                Ok(outcome)
            }
            BulkEnd::SetAside {
                job_id,
                records,
                why,
            } => {
                self.finish(spec, done, started).await?;
                tracing::warn!(
                    job_id,
                    why,
                    records,
                    "bulk job set aside; it is followed again later by its id, nothing is sent twice"
                );
                let after = SET_ASIDE.min(self.cfg.lease);
                jobs::set_aside(&self.pool, &job_id, &self.owner, after).await?;
                Ok(Outcome::retrying(spec, records))
            }
            BulkEnd::Refused {
                job_id,
                records,
                error,
            } => {
                self.finish(spec, done, started).await?;
                let failure = failure_of(&error);
                if job_id.is_none()
                    || error.class() != FailureClass::Fatal
                    || is_configuration_problem(&error)
                {
                    return self.request_failed(spec, records, error).await;
                }
                // A job-level refusal names no record: try again later, and after the last
                // attempt the records are parked with the error for an operator to see.
                tracing::warn!(job_id, error = %error, "bulk job refused; its records will be retried");
                let outcomes = records
                    .into_iter()
                    .map(|r| {
                        let delay = backoff::delay(r.attempts);
                        let error = failure.clone();
                        (r, RecordOutcome::Retry { delay, error })
                    })
                    .collect();
                self.finish(spec, outcomes, Instant::now()).await
            }
        }
    }

    /// Writes the outcomes and says what the batch did.
    async fn finish(
        &self,
        spec: &ObjectSpec,
        outcomes: Vec<(ClaimedRecord, RecordOutcome)>,
        started: Instant,
    ) -> Result<Outcome, PushError> {
        if outcomes.is_empty() {
            return Ok(Outcome::Idle);
        }
        let count = |f: fn(&RecordOutcome) -> bool| outcomes.iter().filter(|(_, o)| f(o)).count();
        let outcome = Outcome::Pushed {
            object: spec.name.to_string(),
            records: outcomes.len(),
            synced: count(|o| matches!(o, RecordOutcome::Synced { .. } | RecordOutcome::Deleted)),
            failed: count(|o| matches!(o, RecordOutcome::Failed(_))),
            retrying: count(|o| {
                matches!(
                    o,
                    RecordOutcome::Retry { .. } | RecordOutcome::Unanswered { .. }
                )
            }),
        };
        staging::record_outcomes(&self.pool, &self.owner, self.cfg.max_attempts, &outcomes).await?;
        tracing::info!(
            object = %spec.name,
            records = outcomes.len(),
            duration_ms = started.elapsed().as_millis() as u64,
            ?outcome,
            "batch pushed"
        );
        metrics::outcome(&outcome);
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
        let class = match is_configuration_problem(&error) {
            true => FailureClass::Transient,
            false => error.class(),
        };
        metrics::request_failed(spec.name.as_str(), claimed.len(), class);
        let ids: Vec<i64> = claimed.iter().map(|r| r.id).collect();
        if let Some(wait) = error.held_for() {
            // The gate held the call (a pause, an outage): not the records' fault.
            staging::release(&self.pool, &self.owner, &ids, wait).await?;
            return Ok(Outcome::retrying(spec, ids.len()));
        }
        let failure = failure_of(&error);
        match error.class() {
            FailureClass::LimitExceeded => {
                let pause = if error.is_concurrency_limit() {
                    Duration::from_secs(5)
                } else {
                    self.cfg.limit_pause
                };
                self.gate.pause(pause).await?;
                staging::release(&self.pool, &self.owner, &ids, pause).await?;
            }
            FailureClass::Fatal if is_configuration_problem(&error) => {
                // Not the records' fault: keep them pending and retry later, loudly.
                staging::release(&self.pool, &self.owner, &ids, self.cfg.limit_pause).await?;
            }
            FailureClass::Transient | FailureClass::Fatal => {
                let unanswered = may_have_been_applied(&error);
                if unanswered {
                    tracing::warn!(object = %spec.name, records = claimed.len(), hold_secs = self.cfg.unanswered_hold.as_secs(), "call unanswered: Salesforce may still write these records, so none of them is sent again before the hold ends");
                }
                let transient = error.class() == FailureClass::Transient;
                let outcomes: Vec<_> = claimed
                    .into_iter()
                    .map(|r| {
                        let error = failure.clone();
                        let outcome = match (unanswered, transient) {
                            (true, _) => RecordOutcome::Unanswered { error },
                            (false, true) => RecordOutcome::Retry {
                                delay: backoff::delay(r.attempts),
                                error,
                            },
                            (false, false) => RecordOutcome::Failed(error),
                        };
                        (r, outcome)
                    })
                    .collect();
                staging::record_outcomes(&self.pool, &self.owner, self.cfg.max_attempts, &outcomes)
                    .await?;
            }
        }
        Ok(Outcome::retrying(spec, ids.len()))
    }
}

/// How long after its commit a change may be claimed: the window, at most the maximum lag.
fn claim_settle(cfg: &PushConfig) -> Duration {
    cfg.batch_window.min(cfg.max_lag)
}
