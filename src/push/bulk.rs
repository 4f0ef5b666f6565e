//! A backlog as one Bulk API 2.0 ingest job: create, upload the CSV once, close, poll with
//! backoff, read the results (docs/salesforce.md §5).
//!
//! Every step is an API call through the call gate; a job costs about seven whatever its size.
//! The job is recorded (`push_bulk_jobs`) and its rows tied to it before the upload; the job and
//! its rows stay leased to this scheduler while it follows the job (extended at every poll). A job
//! that cannot be followed now is set aside and resumed by its id, by this scheduler or another
//! ([`super::resume`]): its rows are never sent again while it may still process them.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::PgPool;

use super::admission::{Admission, Gatekeeper};
use super::backoff;
use super::bulk_csv::{CsvLayout, JobCsv};
use super::bulk_results::{self, KeyIndex};
use super::jobs::{self, JobCounts};
use super::pusher::MAX_HELD_WAIT;
use crate::objects::ObjectSpec;
use crate::salesforce::{
    BulkOperation, CsvUpload, FailureClass, JobInfo, JobState, MAX_UPLOAD_BYTES, SalesforceClient,
    SalesforceError,
};
use crate::staging::{self, ClaimedRecord, Operation, PushFailure, RecordOutcome};

/// First pause between polls; each poll is an API call, so the pause grows to [`POLL_MAX`].
const POLL_FIRST: Duration = Duration::from_secs(1);
const POLL_MAX: Duration = Duration::from_secs(20);
/// How long a job is followed before its records are given back (Salesforce retries a stuck
/// internal batch for up to 20 × 5 min, §5.4; the rows are pushed again rather than held).
const JOB_PATIENCE: Duration = Duration::from_secs(30 * 60);
/// How long one step waits for the call gate before the job is given up.
const GATE_PATIENCE: Duration = Duration::from_secs(120);
/// Failed polls in a row after which the job is set aside, to be resumed later by its id.
const MAX_POLL_ERRORS: u32 = 3;
/// Closes tried on a job that polls still show `Open` before it is given up.
const MAX_CLOSES: u32 = 3;

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
    Finished {
        job_id: String,
        outcomes: Vec<(ClaimedRecord, RecordOutcome)>,
        counts: JobCounts,
    },
    /// Salesforce refused the job's creation (no job id) or its upload: the job was never
    /// closed, so Salesforce processes none of it, and its records may go again.
    Refused {
        job_id: Option<String>,
        records: Vec<ClaimedRecord>,
        error: SalesforceError,
    },
    /// The job was closed (or may have been) but could not be followed to its results now (polls
    /// or results failing, the gate closed, the job running long). Its records stay tied to it;
    /// a scheduler resumes it later by its id (see [`jobs::adopt`]). Nothing is sent again.
    SetAside {
        job_id: String,
        records: usize,
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

/// Sends `records` (each deletion with its Salesforce Id) as one job.
///
/// The job id is recorded, and the records tied to it, before anything is uploaded: from the
/// close on, the job is only ever followed by its id, never sent again (docs/salesforce.md §5.5).
pub async fn push(
    ctx: &BulkContext<'_>,
    spec: &ObjectSpec,
    operation: Operation,
    records: Vec<ClaimedRecord>,
) -> Result<BulkEnd, sqlx::Error> {
    let (records, layout, size) = fit_upload(ctx, spec, operation, records).await?;
    let (bulk_op, external_id) = match operation {
        Operation::Upsert => (BulkOperation::Upsert, Some(spec.external_id_field.as_str())),
        Operation::Delete => (BulkOperation::Delete, None),
    };
    let created = ctx
        .client
        .create_ingest_job(spec.name.as_str(), bulk_op, external_id)
        .await;
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
        ctx.lease,
    )
    .await?;
    staging::tie_to_job(ctx.pool, ctx.owner, &job.id, &records).await?;
    tracing::info!(job_id = %job.id, object = %spec.name, records = records.len(), "bulk job created");
    let ids: Vec<i64> = records.iter().map(|r| r.id).collect();
    let run = JobRun {
        ctx,
        job_id: &job.id,
        ids: &ids,
    };
    let client = ctx.client;
    // The CSV is written from the records while it is sent, and the upload takes them: what
    // follows needs only their rows, versions and keys (the fields would be most of the job's
    // memory while it runs).
    let keys = KeyIndex::new(spec, operation, &records);
    let sent: Vec<ClaimedRecord> = records.iter().map(ClaimedRecord::without_fields).collect();
    let csv = JobCsv::new(layout, Arc::new(records), size);
    let upload = CsvUpload::streamed(Arc::new(csv));
    let uploaded = run.gated(|| client.upload_job_data(&job.id, upload)).await;
    let records = sent;
    if let Err(halt) = uploaded {
        // Never closed: Salesforce processes nothing of it (§5.1).
        let error = match halt {
            Halt::Database(e) => return Err(e),
            Halt::Refused(error) => error,
            Halt::GiveUp(why) => SalesforceError::Protocol(why.to_owned()),
        };
        if let Err(e) = client.abort_job(&job.id).await {
            tracing::info!(job_id = %job.id, error = %e, "aborting a job never closed failed; Salesforce drops it after 24 h");
        }
        jobs::abandoned(ctx.pool, &job.id, &error.to_string()).await?;
        return Ok(BulkEnd::Refused {
            job_id: Some(job.id),
            records,
            error,
        });
    }
    // Whatever the close answers (or if its answer is lost), the job is followed by its id: a
    // poll tells whether the close landed.
    match run.gated(|| client.close_job(&job.id)).await {
        Ok(_) => jobs::state(ctx.pool, &job.id, "UploadComplete", None).await?,
        Err(Halt::Database(e)) => return Err(e),
        Err(Halt::Refused(e)) => {
            tracing::warn!(job_id = %job.id, error = %e, "closing the bulk job got no answer; polling it to see");
        }
        Err(Halt::GiveUp(why)) => {
            tracing::warn!(job_id = %job.id, why, "closing the bulk job waited too long; polling it to see");
        }
    }
    follow(&run, spec, operation, records, &keys).await
}

/// Follows a closed job (or one whose close went unanswered) to its results: polls it, closes
/// it again while it is still `Open`, and reads the results, finding each result row's record
/// by its key in the job's CSV.
pub(super) async fn follow(
    run: &JobRun<'_>,
    spec: &ObjectSpec,
    operation: Operation,
    records: Vec<ClaimedRecord>,
    keys: &KeyIndex,
) -> Result<BulkEnd, sqlx::Error> {
    let job_id = run.job_id.to_owned();
    let result = match run.poll().await {
        Ok(info) => bulk_results::outcomes(run, spec, operation, &info, &records, keys).await,
        Err(halt) => Err(halt),
    };
    Ok(match result {
        Ok((outcomes, counts)) => BulkEnd::Finished {
            job_id,
            outcomes: records.into_iter().zip(outcomes).collect(),
            counts,
        },
        Err(Halt::Database(e)) => return Err(e),
        Err(Halt::Refused(error)) if error.class() == FailureClass::Fatal => {
            // Salesforce will not tell what became of the job (it is gone, or refuses us): its
            // rows go again rather than stay unknown forever.
            tracing::error!(job_id, error = %error, "bulk job can no longer be followed; its records go again");
            let outcomes = records
                .into_iter()
                .map(|r| {
                    let error = PushFailure {
                        code: "BULK_JOB_LOST".into(),
                        message: format!("the Bulk job {job_id} could not be followed: {error}"),
                        fields: Vec::new(),
                    };
                    let delay = backoff::delay(r.attempts);
                    (r, RecordOutcome::Retry { delay, error })
                })
                .collect();
            BulkEnd::Finished {
                job_id,
                outcomes,
                counts: JobCounts::default(),
            }
        }
        Err(Halt::Refused(_)) => BulkEnd::SetAside {
            job_id,
            records: records.len(),
            why: "reading the job's results kept failing",
        },
        Err(Halt::GiveUp(why)) => BulkEnd::SetAside {
            job_id,
            records: records.len(),
            why,
        },
    })
}

/// Keeps the CSV under the upload limit (§5.4) by giving the last records back. Its size is
/// counted, not built, before the job is created; a single record too large for a job is
/// refused by the upload.
async fn fit_upload(
    ctx: &BulkContext<'_>,
    spec: &ObjectSpec,
    operation: Operation,
    mut records: Vec<ClaimedRecord>,
) -> Result<(Vec<ClaimedRecord>, CsvLayout, u64), sqlx::Error> {
    loop {
        let layout = CsvLayout::new(spec, operation, &records);
        let size = layout.size(&records);
        if size <= MAX_UPLOAD_BYTES as u64 || records.len() <= 1 {
            return Ok((records, layout, size));
        }
        let later = records.split_off(records.len() / 2);
        let ids: Vec<i64> = later.iter().map(|r| r.id).collect();
        staging::release(ctx.pool, ctx.owner, &ids, Duration::ZERO).await?;
    }
}

/// One job being run: its calls go through the gate while it and its rows stay leased.
pub(super) struct JobRun<'a> {
    pub(super) ctx: &'a BulkContext<'a>,
    pub(super) job_id: &'a str,
    pub(super) ids: &'a [i64],
}

impl JobRun<'_> {
    pub(super) fn client(&self) -> &SalesforceClient {
        self.ctx.client
    }

    /// Polls until the job ends, closing it again while it is still `Open` (a close whose
    /// answer was lost may not have landed).
    async fn poll(&self) -> Result<JobInfo, Halt> {
        let client = self.ctx.client;
        let started = Instant::now();
        let mut pause = POLL_FIRST;
        let mut errors = 0;
        let mut closes = 0;
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
            if info.state == JobState::Open {
                if closes >= MAX_CLOSES {
                    return Err(Halt::GiveUp("the job would not close"));
                }
                closes += 1;
                if let Err(Halt::Database(e)) = self.gated(|| client.close_job(self.job_id)).await {
                    return Err(Halt::Database(e));
                }
                continue;
            }
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
        loop {
            match self.ctx.gate.admit(MAX_HELD_WAIT).await? {
                Admission::Go => break,
                Admission::Wait(_) if started.elapsed() > GATE_PATIENCE => {
                    return Err(Halt::GiveUp("the call gate stayed closed"));
                }
                Admission::Wait(wait) => {
                    self.keep_leased().await?;
                    tokio::time::sleep(wait.min(MAX_HELD_WAIT)).await;
                }
            }
        }
        call().await.map_err(Halt::Refused)
    }

    /// Keeps the job and its rows leased; a job taken over by another scheduler (this one
    /// stalled past its lease) is left to it.
    async fn keep_leased(&self) -> Result<(), Halt> {
        let ctx = self.ctx;
        if !jobs::extend(ctx.pool, self.job_id, ctx.owner, ctx.lease).await? {
            return Err(Halt::GiveUp("another scheduler took the job over"));
        }
        staging::extend_lease(ctx.pool, ctx.owner, self.ids, ctx.lease).await?;
        Ok(())
    }
}
