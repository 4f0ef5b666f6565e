//! Taking over a Bulk job that its scheduler could not follow to its end (it died, was stopped,
//! or set the job aside after polls or results kept failing): the job is polled again by its id
//! and its results written, so that no record of it is sent twice (docs/salesforce.md §5.5).

use std::time::Duration;

use super::bulk::{self, BulkContext, BulkEnd, JobRun};
use super::bulk_results::KeyIndex;
use super::jobs::{self, Unfinished};
use crate::objects::ObjectSpec;
use crate::staging::{self, JobRow};

/// What resuming a job did.
pub(super) enum Resumed {
    /// The job ended: outcomes to write for the rows sent as they are now, and rows that
    /// changed since they were sent, to push again now that the job can no longer write them.
    Ended(Box<Ended>),
    /// Nothing to write: the job's object is not in this process's catalog (left for a process
    /// that has it), or no record was tied to the job.
    Unknown,
}

pub(super) struct Ended {
    pub job_id: String,
    pub spec: ObjectSpec,
    pub end: BulkEnd,
    pub changed: Vec<i64>,
}

/// Takes over the oldest unfinished job whose lease expired, if any.
pub(super) async fn next(
    ctx: &BulkContext<'_>,
    spec_of: impl Fn(&str) -> Option<ObjectSpec>,
) -> Result<Option<Resumed>, sqlx::Error> {
    let Some(Unfinished {
        job_id,
        object,
        operation,
    }) = jobs::adopt(ctx.pool, ctx.owner, ctx.lease).await?
    else {
        return Ok(None);
    };
    let Some(spec) = spec_of(object.as_str()) else {
        jobs::set_aside(ctx.pool, &job_id, ctx.owner, Duration::from_secs(60)).await?;
        return Ok(Some(Resumed::Unknown));
    };
    let rows = staging::adopt_job_rows(ctx.pool, ctx.owner, &job_id, ctx.lease).await?;
    if rows.is_empty() {
        // Its scheduler died between creating it and tying rows to it: nothing was uploaded.
        if let Err(e) = ctx.client.abort_job(&job_id).await {
            tracing::info!(job_id, error = %e, "aborting an empty job failed; Salesforce drops it after 24 h");
        }
        jobs::abandoned(ctx.pool, &job_id, "no record was tied to it").await?;
        return Ok(Some(Resumed::Unknown));
    }
    tracing::warn!(job_id, object = %object, records = rows.len(), "resuming a bulk job another run could not follow");
    let changed: Vec<i64> = rows
        .iter()
        .filter(|r| r.changed)
        .map(|r| r.record.id)
        .collect();
    let records: Vec<_> = rows
        .into_iter()
        .map(|JobRow { record, .. }| record)
        .collect();
    // As when the job was sent: the keys from the records, then the records without their fields.
    let keys = KeyIndex::new(&spec, operation, &records);
    let records: Vec<_> = records.iter().map(|r| r.without_fields()).collect();
    let ids: Vec<i64> = records.iter().map(|r| r.id).collect();
    let run = JobRun {
        ctx,
        job_id: &job_id,
        ids: &ids,
    };
    let end = bulk::follow(&run, &spec, operation, records, &keys).await?;
    Ok(Some(Resumed::Ended(Box::new(Ended {
        job_id,
        spec,
        end,
        changed,
    }))))
}
