//! One read of one object, under its lease: the first load by a Bulk API 2.0 query job, then
//! incremental reads by `SystemModstamp` with `queryAll` (live and deleted rows in one query).
//! Every call goes through the client, so through the same gate and budget as the push.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::rows::Batch;
use super::store::{self, Leased, Progress};
use crate::config::ReadConfig;
use crate::config::reads::{ReadObject, SYSTEM_FIELDS};
use crate::describe::Describes;
use crate::salesforce::{
    JobState, QueryOperation, QueryOptions, SalesforceClient, SalesforceError, soql_datetime,
};
use crate::staging;

/// Rows per SOQL page (the most Salesforce gives).
const PAGE_ROWS: u32 = 2000;
/// Rows per page of a Bulk query job's results.
const BULK_PAGE_ROWS: u32 = 50_000;
/// Pages of one incremental read at most (40 million rows): a bound on a runaway read.
const MAX_PAGES: usize = 20_000;
/// How long a first load's job may take before the read gives up for now (the job is kept and
/// resumed by the next read).
const MAX_JOB_WAIT: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("Salesforce: {0}")]
    Salesforce(#[from] SalesforceError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("another process took the read over")]
    LeaseLost,
    #[error("the first load's Bulk query job {job} ended {state:?}: {message}")]
    JobFailed {
        job: String,
        state: JobState,
        message: String,
    },
    #[error("the first load's Bulk query job {0} is still running")]
    JobPending(String),
}

/// What one read did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReadOutcome {
    pub calls: u64,
    pub rows: u64,
    pub stored: u64,
    pub deleted: u64,
    /// Records with no external id the hub knows: not stored (the hub keys records by it).
    pub unkeyed: u64,
}

/// Runs reads for one process.
#[derive(Clone)]
pub struct Reader {
    pub(super) pool: PgPool,
    pub(super) client: SalesforceClient,
    pub(super) describes: Describes,
    pub(super) config: ReadConfig,
    pub(super) owner: String,
}

impl Reader {
    pub fn new(
        pool: PgPool,
        client: SalesforceClient,
        describes: Describes,
        config: ReadConfig,
        owner: String,
    ) -> Self {
        Self {
            pool,
            client,
            describes,
            config,
            owner,
        }
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// One read of `read.object`, the lease already taken. Gives the lease back, with the error
    /// if any.
    pub async fn run(&self, read: &ReadObject, leased: Leased) -> Result<ReadOutcome, ReadError> {
        let result = match leased.first_load_done {
            false => self.first_load(read, &leased).await,
            true => self.incremental(read, &leased).await,
        };
        let error = result.as_ref().err().map(ToString::to_string);
        store::finish(
            &self.pool,
            &read.object,
            &self.owner,
            leased.started_at,
            error.as_deref(),
        )
        .await?;
        result
    }

    fn select(read: &ReadObject, deleted: bool) -> String {
        let system = if deleted {
            &SYSTEM_FIELDS[..]
        } else {
            &SYSTEM_FIELDS[..2]
        };
        let columns: Vec<&str> = system
            .iter()
            .copied()
            .chain(read.fields.iter().map(String::as_str))
            .collect();
        format!("SELECT {} FROM {}", columns.join(", "), read.object)
    }

    async fn incremental(
        &self,
        read: &ReadObject,
        leased: &Leased,
    ) -> Result<ReadOutcome, ReadError> {
        let mut soql = Self::select(read, true);
        if let Some(mark) = leased.watermark {
            let since = mark - chrono::Duration::from_std(self.config.overlap).unwrap_or_default();
            soql.push_str(&format!(
                " WHERE SystemModstamp >= {}",
                soql_datetime(since)
            ));
        }
        soql.push_str(" ORDER BY SystemModstamp, Id");
        let options = QueryOptions {
            include_deleted: true,
            batch_size: Some(PAGE_ROWS),
        };
        let mut outcome = ReadOutcome::default();
        let mut page = self.client.query_with(&soql, options).await?;
        for _ in 0..MAX_PAGES {
            let batch = Batch::from_query(read, std::mem::take(&mut page.records));
            self.store(read, leased.started_at, batch, &mut outcome, None)
                .await?;
            let Some(next) = page.next_records_url.take() else {
                break;
            };
            page = self.client.query_more(&next).await?;
        }
        Ok(outcome)
    }

    async fn first_load(
        &self,
        read: &ReadObject,
        leased: &Leased,
    ) -> Result<ReadOutcome, ReadError> {
        let mut outcome = ReadOutcome::default();
        let job = match &leased.first_load_job {
            Some(job) => job.clone(),
            None => {
                let info = self
                    .client
                    .create_query_job(&Self::select(read, false), QueryOperation::Query)
                    .await?;
                self.progress(read, 1, 0, None, Some(info.id.clone()), false)
                    .await?;
                outcome.calls += 1;
                info.id
            }
        };
        let waited = tokio::time::Instant::now();
        let mut pause = Duration::from_millis(250);
        loop {
            let info = self.client.query_job_info(&job).await?;
            outcome.calls += 1;
            self.progress(read, 1, 0, None, Some(job.clone()), false)
                .await?;
            match info.state {
                JobState::JobComplete => break,
                JobState::Failed | JobState::Aborted => {
                    self.progress(read, 0, 0, None, None, false).await?;
                    return Err(ReadError::JobFailed {
                        job,
                        state: info.state,
                        message: info.error_message.unwrap_or_default(),
                    });
                }
                _ if waited.elapsed() > MAX_JOB_WAIT => return Err(ReadError::JobPending(job)),
                _ => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(10));
                }
            }
        }
        let describe = self.describes.get(read.object.as_str());
        let mut results = self.client.query_results(&job, Some(BULK_PAGE_ROWS));
        let mut newest: Option<DateTime<Utc>> = None;
        while let Some(page) = results.next().await? {
            let batch = Batch::from_csv(read, &page.columns, &page.rows, describe.as_deref());
            newest = newest.max(batch.newest);
            self.store(read, leased.started_at, batch, &mut outcome, Some(&job))
                .await?;
        }
        // An empty object starts its incremental reads from when this load began.
        let mark = newest.unwrap_or(leased.started_at);
        if let Err(e) = self.client.delete_query_job(&job).await {
            tracing::info!(object = %read.object, job = %job, error = %e, "could not delete the first load's job");
        }
        outcome.calls += 1;
        self.progress(read, 1, 0, Some(mark), None, true).await?;
        tracing::info!(object = %read.object, rows = outcome.rows, calls = outcome.calls, "first load done");
        Ok(outcome)
    }

    /// Stores one page and records it (one call) with the page's newest `SystemModstamp`.
    async fn store(
        &self,
        read: &ReadObject,
        started_at: DateTime<Utc>,
        batch: Batch,
        outcome: &mut ReadOutcome,
        job: Option<&str>,
    ) -> Result<(), ReadError> {
        let rows = batch.live.len() + batch.deleted.len();
        if !batch.live.is_empty() {
            let stamp = Batch::stamp(started_at, &batch.live_stamps);
            let stored = staging::store_read(&self.pool, &read.object, &batch.live, &stamp).await?;
            outcome.stored += stored.iter().filter(|s| s.written).count() as u64;
            outcome.unkeyed += stored.iter().filter(|s| s.external_id.is_none()).count() as u64;
        }
        if !batch.deleted.is_empty() {
            let stamp = Batch::stamp(started_at, &batch.deleted_stamps);
            outcome.deleted +=
                staging::store_deletions(&self.pool, &read.object, &batch.deleted, &stamp).await?;
        }
        outcome.rows += rows as u64;
        outcome.calls += 1;
        self.progress(
            read,
            1,
            rows as i64,
            batch.newest,
            job.map(str::to_owned),
            false,
        )
        .await
    }

    async fn progress(
        &self,
        read: &ReadObject,
        calls: i64,
        rows: i64,
        watermark: Option<DateTime<Utc>>,
        first_load_job: Option<String>,
        first_load_done: bool,
    ) -> Result<(), ReadError> {
        let progress = Progress {
            watermark,
            rows,
            calls,
            first_load_job,
            first_load_done,
        };
        match store::record_progress(
            &self.pool,
            &read.object,
            &self.owner,
            self.config.lease,
            &progress,
        )
        .await?
        {
            true => Ok(()),
            false => Err(ReadError::LeaseLost),
        }
    }
}
