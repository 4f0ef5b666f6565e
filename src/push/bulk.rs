//! A backlog as one Bulk API 2.0 ingest job: create, upload the CSV once, close, poll with
//! backoff, read the results (docs/salesforce.md §5).
//!
//! Every step is an API call through the call gate; a job costs about seven whatever its size.
//! The claimed rows stay leased to this scheduler while the job runs (the lease is extended at
//! every poll), so no other scheduler sends them meanwhile.

use std::future::Future;
use std::time::{Duration, Instant};

use sqlx::PgPool;

use super::admission::{Admission, Gatekeeper};
use super::bulk_csv::{self, BulkCsv};
use super::bulk_results;
use super::jobs;
use super::pusher::MAX_HELD_WAIT;
use crate::objects::ObjectSpec;
use crate::salesforce::gate::CallPermit;
use crate::salesforce::{
    BulkOperation, FailureClass, JobInfo, JobState, MAX_UPLOAD_BYTES, SalesforceClient,
    SalesforceError,
};
use crate::staging::{self, ClaimedRecord, Operation, RecordOutcome};

/// First pause between polls; each poll is an API call, so the pause grows to [`POLL_MAX`].
const POLL_FIRST: Duration = Duration::from_secs(1);
const POLL_MAX: Duration = Duration::from_secs(20);
/// How long a job is followed before its records are given back (Salesforce retries a stuck
/// internal batch for up to 20 × 5 min, §5.4; the rows are pushed again rather than held).
const JOB_PATIENCE: Duration = Duration::from_secs(30 * 60);
/// How long one step waits for the call gate before the job is given up.
const GATE_PATIENCE: Duration = Duration::from_secs(120);
const MAX_POLL_ERRORS: u32 = 10;

/// What a job needs from the scheduler that runs it.
pub struct BulkContext<'a> {
    pub client: &'a SalesforceClient,
    pub gate: &'a Gatekeeper,
    pub pool: &'a PgPool,
    /// The lease holder of the job's rows.
    pub owner: &'a str,
    pub lease: Duration,
}

/// How a job ended for its records.
pub enum BulkEnd {
    /// Salesforce gave a result (or none) for every record.
    Finished(Vec<(ClaimedRecord, RecordOutcome)>),
    /// Salesforce refused a step of the job, or its creation (no job id).
    Refused {
        job_id: Option<String>,
        records: Vec<ClaimedRecord>,
        error: SalesforceError,
    },
    /// The gate stayed closed or the job ran too long: the records go back to the queue.
    GaveUp {
        job_id: String,
        records: Vec<ClaimedRecord>,
        why: &'static str,
    },
}

/// Why a job stopped short of its results.
pub(super) enum Halt {
    Refused(SalesforceError),
    GiveUp(&'static str),
    Database(sqlx::Error),
}

impl From<sqlx::Error> for Halt {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(e)
    }
}

/// Sends `records` (each deletion with its Salesforce Id) as one job. `permit` is the slot the
/// job's creation goes through; it is given back once the job exists.
pub async fn push(
    ctx: &BulkContext<'_>,
    spec: &ObjectSpec,
    operation: Operation,
    records: Vec<ClaimedRecord>,
    permit: &CallPermit,
) -> Result<BulkEnd, sqlx::Error> {
    let (records, csv) = fit_upload(ctx, spec, operation, records).await?;
    let (bulk_op, external_id) = match operation {
        Operation::Upsert => (BulkOperation::Upsert, Some(spec.external_id_field.as_str())),
        Operation::Delete => (BulkOperation::Delete, None),
    };
    let created = ctx
        .client
        .create_ingest_job(spec.name.as_str(), bulk_op, external_id)
        .await;
    ctx.gate.give_back(permit).await;
    ctx.gate.note_usage().await?;
    let job = match created {
        Ok(job) => job,
        Err(error) => {
            return Ok(BulkEnd::Refused {
                job_id: None,
                records,
                error,
            });
        }
    };
    jobs::created(
        ctx.pool,
        &job.id,
        &spec.name,
        operation,
        records.len(),
        ctx.owner,
    )
    .await?;
    tracing::info!(job_id = %job.id, object = %spec.name, records = records.len(), "bulk job created");
    let ids: Vec<i64> = records.iter().map(|r| r.id).collect();
    let run = JobRun {
        ctx,
        job_id: &job.id,
        ids: &ids,
    };
    let BulkCsv { body, keys } = csv;
    let result = match run.run(body).await {
        Ok(info) => bulk_results::outcomes(&run, spec, operation, &info, &records, &keys).await,
        Err(halt) => Err(halt),
    };
    let job_id = job.id;
    Ok(match result {
        Ok((outcomes, counts)) => {
            jobs::finished(ctx.pool, &job_id, counts).await?;
            BulkEnd::Finished(records.into_iter().zip(outcomes).collect())
        }
        Err(Halt::Database(e)) => return Err(e),
        Err(Halt::Refused(error)) => BulkEnd::Refused {
            job_id: Some(job_id),
            records,
            error,
        },
        Err(Halt::GiveUp(why)) => BulkEnd::GaveUp {
            job_id,
            records,
            why,
        },
    })
}

/// Keeps the CSV under the upload limit (§5.4) by giving the last records back.
async fn fit_upload(
    ctx: &BulkContext<'_>,
    spec: &ObjectSpec,
    operation: Operation,
    mut records: Vec<ClaimedRecord>,
) -> Result<(Vec<ClaimedRecord>, BulkCsv), sqlx::Error> {
    loop {
        let csv = bulk_csv::build(spec, operation, &records);
        if csv.body.len() <= MAX_UPLOAD_BYTES || records.len() <= 1 {
            return Ok((records, csv));
        }
        let later = records.split_off(records.len() / 2);
        let ids: Vec<i64> = later.iter().map(|r| r.id).collect();
        staging::release(ctx.pool, ctx.owner, &ids, Duration::ZERO).await?;
    }
}

/// One job being run: its calls go through the gate while its rows stay leased.
pub(super) struct JobRun<'a> {
    ctx: &'a BulkContext<'a>,
    pub(super) job_id: &'a str,
    ids: &'a [i64],
}

impl JobRun<'_> {
    pub(super) fn client(&self) -> &SalesforceClient {
        self.ctx.client
    }

    /// Upload, close, poll until the job ends.
    async fn run(&self, body: String) -> Result<JobInfo, Halt> {
        let client = self.ctx.client;
        self.gated(|| client.upload_job_data(self.job_id, body))
            .await?;
        self.gated(|| client.close_job(self.job_id)).await?;
        jobs::state(self.ctx.pool, self.job_id, "UploadComplete", None).await?;
        let started = Instant::now();
        let mut pause = POLL_FIRST;
        let mut errors = 0;
        let mut last_state = JobState::UploadComplete;
        while started.elapsed() < JOB_PATIENCE {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(POLL_MAX);
            self.keep_leased().await?;
            let info = match self.gated(|| client.job_info(self.job_id)).await {
                Ok(info) => info,
                Err(Halt::Refused(e)) if e.class() != FailureClass::Fatal => {
                    errors += 1;
                    tracing::warn!(job_id = self.job_id, error = %e, errors, "polling a bulk job failed");
                    if errors >= MAX_POLL_ERRORS {
                        return Err(Halt::GiveUp("polling kept failing"));
                    }
                    continue;
                }
                Err(halt) => return Err(halt),
            };
            errors = 0;
            if info.state != last_state {
                last_state = info.state;
                let state = format!("{:?}", info.state);
                jobs::state(
                    self.ctx.pool,
                    self.job_id,
                    &state,
                    info.error_message.as_deref(),
                )
                .await?;
            }
            if info.state.is_terminal() {
                return Ok(info);
            }
        }
        Err(Halt::GiveUp("the job ran past its time"))
    }

    /// Makes one call of the job through the gate, waiting as long as it takes (within
    /// [`GATE_PATIENCE`]) while keeping the job's rows leased.
    pub(super) async fn gated<T, F, Fut>(&self, call: F) -> Result<T, Halt>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, SalesforceError>>,
    {
        let started = Instant::now();
        let permit = loop {
            match self.ctx.gate.admit(MAX_HELD_WAIT).await? {
                Admission::Go(permit) => break permit,
                Admission::Wait(_) if started.elapsed() > GATE_PATIENCE => {
                    return Err(Halt::GiveUp("the call gate stayed closed"));
                }
                Admission::Wait(wait) => {
                    self.keep_leased().await?;
                    tokio::time::sleep(wait.min(MAX_HELD_WAIT)).await;
                }
            }
        };
        let result = call().await;
        self.ctx.gate.give_back(&permit).await;
        self.ctx.gate.note_usage().await?;
        result.map_err(Halt::Refused)
    }

    async fn keep_leased(&self) -> Result<(), sqlx::Error> {
        staging::extend_lease(self.ctx.pool, self.ctx.owner, self.ids, self.ctx.lease).await?;
        Ok(())
    }
}
