//! The Bulk lane: Bulk API 2.0 jobs run in tasks of their own while the scheduler goes on with
//! sObject Collections calls, so that fresh changes are not stuck behind a backlog (issue 12,
//! item 7). While the lane has room ([`MAX_JOBS`]) the whole queue is planned, and a backlog goes
//! as the next job, oldest rows first. When it is full, the scheduler plans the changes committed
//! after the newest job claimed its rows, and those of small transactions (50 rows or fewer: a
//! record saved in an app, a short request) whenever they came, and sends them by
//! Collections, small transactions first, then the newest. So a record just posted does not queue
//! behind the tail of a backlog, whether it came just before the job or during it; the part of an
//! import in large requests that the job did not take waits for the next job.
//!
//! The job claims its rows in its own task too: a claim of 50,000 rows takes seconds, and the
//! scheduler goes on with Collections meanwhile. The lane is busy from the moment the job is
//! started, with the moment of its claim as its cutoff, so the scheduler never plans the backlog
//! for Collections while the job is claiming it. A job that finds nothing to claim ends, and one
//! that finds most of its rows being written by an open transaction gives them back and ends;
//! either holds the lane for the window (see [`BulkLane::held_for`]), as the step used to wait,
//! so that the same job is not started again at once.
//!
//! Tests and tools that drive [`Pusher::push_next_batch`](super::Pusher::push_next_batch) step by
//! step get an inline lane: the job is claimed and followed to its end inside the step, as before.

use std::future::Future;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::task::JoinSet;

use super::{Outcome, PushError};

/// Jobs one process follows at once. Each holds its records (up to `PUSH_BULK_MAX_RECORDS`) in
/// memory while it runs. Two drained a 100,000 backlog no faster here (the job's polls set the
/// pace) and raised the peak memory by half; one keeps the hub under 150 MB.
pub const MAX_JOBS: usize = 1;

/// Where a Bulk job runs.
pub struct BulkLane {
    /// `None`: inline, in the step that claimed it.
    tasks: Option<JoinSet<Result<Outcome, PushError>>>,
    /// When the newest running job claimed its rows.
    since: Option<DateTime<Utc>>,
    /// No job starts before this: the last one found nothing to claim, or its rows being
    /// written (it ended with [`Outcome::Wait`]).
    held_until: Option<Instant>,
}

impl BulkLane {
    /// Jobs run inside the step that starts them.
    pub fn inline() -> Self {
        Self {
            tasks: None,
            since: None,
            held_until: None,
        }
    }

    /// Jobs run in tasks of their own, up to [`MAX_JOBS`] at once. Dropping the lane aborts the
    /// jobs still running: their rows stay tied to them, and a scheduler resumes them by id.
    pub fn spawned() -> Self {
        Self {
            tasks: Some(JoinSet::new()),
            since: None,
            held_until: None,
        }
    }

    /// Whether a job may start now without waiting for it: the lane runs jobs apart and has room.
    pub(super) fn has_room(&self) -> bool {
        self.tasks.as_ref().is_some_and(|t| t.len() < MAX_JOBS)
    }

    /// When the newest running job claimed its rows; `None` when the lane is free (finished
    /// jobs are reaped here).
    pub(super) fn busy_since(&mut self) -> Option<DateTime<Utc>> {
        let tasks = self.tasks.as_mut()?;
        while let Some(done) = tasks.try_join_next() {
            self.held_until = held_until(self.held_until, done);
        }
        if self.tasks.as_ref().is_some_and(JoinSet::is_empty) {
            self.since = None;
        }
        self.since
    }

    /// How long before the next job may start, when the last one claimed nothing or gave its
    /// rows back because an open transaction was writing them (its commit restarts their window).
    pub(super) fn held_for(&self) -> Option<Duration> {
        let left = self.held_until?.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }

    /// Runs `job` apart; from now on the lane is busy, with `since` (the moment of the job's claim)
    /// as its cutoff.
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

    /// Resolves when a running job ends (never when the lane is free), so that the scheduler
    /// looks for the next job at once.
    pub async fn finished(&mut self) {
        match self.tasks.as_mut() {
            Some(tasks) if !tasks.is_empty() => {
                if let Some(done) = tasks.join_next().await {
                    self.held_until = held_until(self.held_until, done);
                }
                if self.tasks.as_ref().is_some_and(JoinSet::is_empty) {
                    self.since = None;
                }
            }
            _ => std::future::pending().await,
        }
    }

    /// Waits for the running jobs, if any (a scheduler stopping within its grace period).
    pub async fn wait(&mut self) {
        if let Some(tasks) = self.tasks.as_mut() {
            while let Some(done) = tasks.join_next().await {
                report(done);
            }
        }
        self.since = None;
    }
}

/// The lane's hold after a job ended: a job that answered `Wait` claimed nothing, or found its
/// rows mid-write.
fn held_until(
    held: Option<Instant>,
    done: Result<Result<Outcome, PushError>, tokio::task::JoinError>,
) -> Option<Instant> {
    match done {
        Ok(Ok(Outcome::Wait(wait))) => Some(Instant::now() + wait),
        done => {
            report(done);
            held
        }
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
