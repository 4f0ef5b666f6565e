//! The Bulk lane: a Bulk API 2.0 job runs in a task of its own while the scheduler goes on with
//! sObject Collections calls, so that fresh changes are not stuck behind a backlog (issue 12,
//! item 7). While a job runs, the scheduler pushes only changes committed after the job claimed
//! its rows: the rest of the backlog waits for the lane (one job at a time per process keeps the
//! memory bounded), and everything newer goes by Collections within the usual window.
//!
//! Tests and tools that drive [`Pusher::push_next_batch`](super::Pusher::push_next_batch) step by
//! step get an inline lane: the job is followed to its end inside the step, as before.

use std::future::Future;

use chrono::{DateTime, Utc};
use tokio::task::JoinSet;

use super::{Outcome, PushError};

/// Where a Bulk job runs.
pub struct BulkLane {
    /// `None`: inline, in the step that claimed it.
    tasks: Option<JoinSet<Result<Outcome, PushError>>>,
    /// When the running job claimed its rows.
    since: Option<DateTime<Utc>>,
}

impl BulkLane {
    /// Jobs run inside the step that starts them.
    pub fn inline() -> Self {
        Self {
            tasks: None,
            since: None,
        }
    }

    /// Jobs run in a task of their own, one at a time. Dropping the lane aborts a job still
    /// running: its rows stay tied to the job, which a scheduler resumes by its id.
    pub fn spawned() -> Self {
        Self {
            tasks: Some(JoinSet::new()),
            since: None,
        }
    }

    pub(super) fn runs_apart(&self) -> bool {
        self.tasks.is_some()
    }

    /// When the running job claimed its rows; `None` when the lane is free (a finished job is
    /// reaped here).
    pub(super) fn busy_since(&mut self) -> Option<DateTime<Utc>> {
        let tasks = self.tasks.as_mut()?;
        while let Some(done) = tasks.try_join_next() {
            report(done);
        }
        if tasks.is_empty() {
            self.since = None;
        }
        self.since
    }

    pub(super) fn start(
        &mut self,
        since: DateTime<Utc>,
        job: impl Future<Output = Result<Outcome, PushError>> + Send + 'static,
    ) {
        if let Some(tasks) = self.tasks.as_mut() {
            tasks.spawn(job);
            self.since = Some(since);
        }
    }

    /// Resolves when the running job ends (never when the lane is free), so that the scheduler
    /// looks for the next job at once.
    pub async fn finished(&mut self) {
        match self.tasks.as_mut() {
            Some(tasks) if !tasks.is_empty() => {
                if let Some(done) = tasks.join_next().await {
                    report(done);
                }
                self.since = None;
            }
            _ => std::future::pending().await,
        }
    }

    /// Waits for the running job, if any (a scheduler stopping within its grace period).
    pub async fn wait(&mut self) {
        if let Some(tasks) = self.tasks.as_mut() {
            while let Some(done) = tasks.join_next().await {
                report(done);
            }
        }
        self.since = None;
    }
}

/// The job's own lines say what it did; only a failure of the task is said here.
fn report(done: Result<Result<Outcome, PushError>, tokio::task::JoinError>) {
    match done {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            tracing::error!(error = %e, cause = ?std::error::Error::source(&e), "bulk job failed; its rows are resumed or given back when their lease ends");
        }
        Err(e) if e.is_cancelled() => {}
        Err(e) => tracing::error!(error = %e, "bulk job task panicked"),
    }
}
