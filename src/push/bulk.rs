//! A backlog as one Bulk API 2.0 ingest job: create, upload the CSV once, close, poll with
//! backoff, read the results and write each record's outcome back (salesforce-api.md §5).
//!
//! Every step is an API call through the call gate; a job costs about seven whatever its size.
//! The claimed rows stay leased to this scheduler while the job runs (the lease is extended at
//! every poll), so no other scheduler sends them meanwhile.

use std::future::Future;
use std::time::{Duration, Instant};

use super::backoff;
use super::batch::{Admission, MAX_HELD_WAIT, Outcome, PushError, Pusher};
use super::bulk_csv::{self, BulkCsv};
use super::jobs;
use super::permits::CallPermit;
use super::plan::Operation;
use super::records::{failure_of, is_configuration_problem};
use super::store::{self, ClaimedRecord, RecordOutcome};
use crate::objects::ObjectSpec;
use crate::salesforce::{
    BulkOperation, FailureClass, JobInfo, JobState, MAX_UPLOAD_BYTES, SalesforceError,
};

/// First pause between polls; each poll is an API call, so the pause grows to [`POLL_MAX`].
const POLL_FIRST: Duration = Duration::from_secs(1);
const POLL_MAX: Duration = Duration::from_secs(20);
/// How long a job is followed before its records are given back (Salesforce retries a stuck
/// internal batch for up to 20 × 5 min, §5.4; the rows are pushed again rather than held).
const JOB_PATIENCE: Duration = Duration::from_secs(30 * 60);
/// How long one step waits for the call gate before the job is given up.
const GATE_PATIENCE: Duration = Duration::from_secs(120);
const MAX_POLL_ERRORS: u32 = 10;

/// Why a job stopped short of its results.
pub(super) enum Stop {
    /// Salesforce refused a step: the records get the request's outcome.
    Failed(SalesforceError),
    /// The gate stayed closed, or the job ran too long: the records are given back.
    GiveUp(&'static str),
}

impl Pusher {
    pub(super) async fn push_bulk(
        &self,
        spec: &ObjectSpec,
        operation: Operation,
        claimed: Vec<ClaimedRecord>,
        permit: CallPermit,
    ) -> Result<Outcome, PushError> {
        let started = Instant::now();
        let (records, mut outcomes) = match operation {
            Operation::Upsert => (claimed, Vec::new()),
            Operation::Delete => {
                let (remote, local): (Vec<_>, Vec<_>) =
                    claimed.into_iter().partition(|r| r.salesforce_id.is_some());
                let local = local.into_iter().map(|r| (r, RecordOutcome::Deleted));
                (remote, local.collect())
            }
        };
        let (records, csv) = self.fit_upload(spec, operation, records).await?;
        if records.is_empty() {
            self.give_back(&permit).await;
            return self.finish(spec, outcomes, started).await;
        }
        let ids: Vec<i64> = records.iter().map(|r| r.id).collect();
        let (bulk_op, external_id) = match operation {
            Operation::Upsert => (BulkOperation::Upsert, Some(spec.external_id_field.as_str())),
            Operation::Delete => (BulkOperation::Delete, None),
        };
        let created = self
            .client
            .create_ingest_job(&spec.name, bulk_op, external_id)
            .await;
        self.give_back(&permit).await;
        self.note_usage().await?;
        let job = match created {
            Ok(job) => job,
            Err(error) => {
                self.finish(spec, outcomes, started).await?;
                return self.request_failed(spec, records, error).await;
            }
        };
        jobs::created(
            &self.pool,
            &job.id,
            &spec.name,
            operation,
            records.len(),
            &self.owner,
        )
        .await?;
        tracing::info!(job_id = %job.id, object = %spec.name, records = records.len(), "bulk job created");
        let BulkCsv { body, keys } = csv;
        let info = match self.run_job(&job.id, &ids, body).await? {
            Ok(info) => info,
            Err(stop) => {
                self.finish(spec, outcomes, started).await?;
                return self.job_stopped(spec, &job.id, records, stop).await;
            }
        };
        match self
            .job_outcomes(spec, operation, &info, &ids, &records, &keys)
            .await?
        {
            Ok((job_outcomes, counts)) => {
                jobs::finished(&self.pool, &job.id, counts).await?;
                outcomes.extend(records.into_iter().zip(job_outcomes));
                self.finish(spec, outcomes, started).await
            }
            Err(stop) => {
                self.finish(spec, outcomes, started).await?;
                self.job_stopped(spec, &job.id, records, stop).await
            }
        }
    }

    /// Keeps the CSV under the upload limit (§5.4) by giving the last records back.
    async fn fit_upload(
        &self,
        spec: &ObjectSpec,
        operation: Operation,
        mut records: Vec<ClaimedRecord>,
    ) -> Result<(Vec<ClaimedRecord>, BulkCsv), PushError> {
        loop {
            let csv = bulk_csv::build(spec, operation, &records);
            if csv.body.len() <= MAX_UPLOAD_BYTES || records.len() <= 1 {
                return Ok((records, csv));
            }
            let later = records.split_off(records.len() / 2);
            let ids: Vec<i64> = later.iter().map(|r| r.id).collect();
            store::release(&self.pool, &self.owner, &ids, Duration::ZERO).await?;
        }
    }

    /// Upload, close, poll until the job ends.
    async fn run_job(
        &self,
        job_id: &str,
        ids: &[i64],
        body: String,
    ) -> Result<Result<JobInfo, Stop>, PushError> {
        match self
            .gated(ids, || self.client.upload_job_data(job_id, body))
            .await?
        {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Ok(Err(Stop::Failed(e))),
            Err(stop) => return Ok(Err(stop)),
        }
        match self.gated(ids, || self.client.close_job(job_id)).await? {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Ok(Err(Stop::Failed(e))),
            Err(stop) => return Ok(Err(stop)),
        }
        jobs::state(&self.pool, job_id, "UploadComplete", None).await?;
        let started = Instant::now();
        let mut pause = POLL_FIRST;
        let mut errors = 0;
        let mut last_state = JobState::UploadComplete;
        while started.elapsed() < JOB_PATIENCE {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(POLL_MAX);
            store::extend_lease(&self.pool, &self.owner, ids, self.cfg.lease).await?;
            let info = match self.gated(ids, || self.client.job_info(job_id)).await? {
                Ok(Ok(info)) => info,
                Ok(Err(e)) if e.class() == FailureClass::Fatal => {
                    return Ok(Err(Stop::Failed(e)));
                }
                Ok(Err(e)) => {
                    errors += 1;
                    tracing::warn!(job_id, error = %e, errors, "polling a bulk job failed");
                    if errors >= MAX_POLL_ERRORS {
                        return Ok(Err(Stop::GiveUp("polling kept failing")));
                    }
                    continue;
                }
                Err(stop) => return Ok(Err(stop)),
            };
            errors = 0;
            if info.state != last_state {
                last_state = info.state;
                let state = format!("{:?}", info.state);
                jobs::state(&self.pool, job_id, &state, info.error_message.as_deref()).await?;
            }
            if info.state.is_terminal() {
                return Ok(Ok(info));
            }
        }
        Ok(Err(Stop::GiveUp("the job ran past its time")))
    }

    /// A job that stopped short: the records take the failed request's outcome, or are given back.
    async fn job_stopped(
        &self,
        spec: &ObjectSpec,
        job_id: &str,
        records: Vec<ClaimedRecord>,
        stop: Stop,
    ) -> Result<Outcome, PushError> {
        match stop {
            Stop::Failed(error) => {
                let failure = failure_of(&error);
                jobs::state(&self.pool, job_id, "Abandoned", Some(&failure.message)).await?;
                if error.class() != FailureClass::Fatal || is_configuration_problem(&error) {
                    return self.request_failed(spec, records, error).await;
                }
                // A job-level refusal names no record: try again later, and after the last
                // attempt the records are parked with the error for an operator to see.
                tracing::warn!(job_id, error = %error, "bulk job refused; its records will be retried");
                let outcomes: Vec<_> = records
                    .into_iter()
                    .map(|r| {
                        let delay = backoff::delay(r.attempts);
                        let error = failure.clone();
                        (r, RecordOutcome::Retry { delay, error })
                    })
                    .collect();
                self.finish(spec, outcomes, Instant::now()).await
            }
            Stop::GiveUp(why) => {
                tracing::warn!(
                    job_id,
                    why,
                    "bulk job abandoned; its records go back to the queue"
                );
                jobs::state(&self.pool, job_id, "Abandoned", Some(why)).await?;
                let ids: Vec<i64> = records.iter().map(|r| r.id).collect();
                store::release(&self.pool, &self.owner, &ids, self.cfg.limit_pause).await?;
                Ok(Outcome::Pushed {
                    object: spec.name.clone(),
                    records: ids.len(),
                    synced: 0,
                    failed: 0,
                    retrying: ids.len(),
                })
            }
        }
    }

    /// Makes one call of a running job through the gate, waiting as long as it takes (within
    /// [`GATE_PATIENCE`]) while keeping the job's rows leased.
    pub(super) async fn gated<T, F, Fut>(
        &self,
        ids: &[i64],
        call: F,
    ) -> Result<Result<Result<T, SalesforceError>, Stop>, PushError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, SalesforceError>>,
    {
        let started = Instant::now();
        let permit = loop {
            match self.admit(MAX_HELD_WAIT).await? {
                Admission::Go(permit) => break permit,
                Admission::Wait(_) if started.elapsed() > GATE_PATIENCE => {
                    return Ok(Err(Stop::GiveUp("the call gate stayed closed")));
                }
                Admission::Wait(wait) => {
                    store::extend_lease(&self.pool, &self.owner, ids, self.cfg.lease).await?;
                    tokio::time::sleep(wait.min(MAX_HELD_WAIT)).await;
                }
            }
        };
        let result = call().await;
        self.give_back(&permit).await;
        self.note_usage().await?;
        Ok(Ok(result))
    }
}
