//! One run of one pull: claim its lease, read pages from where it stands, stage each page with
//! its new position, end it.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use serde::Serialize;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use super::fetch::{self, FetchError, Page, Position};
use super::store::{self, Ending, PageCounts, Resume, RunStatus};
use super::watermark;
use crate::config::PullConfig;
use crate::config::pulls::PullSource;
use crate::describe::Describes;
use crate::normalize::MappingSet;
use crate::sources::metrics;
use crate::sources::stage_payloads;

/// Tries of one page before the run fails (the first and three retries).
const PAGE_ATTEMPTS: u32 = 4;
/// The first retry waits about this long; each next one twice as long.
const RETRY_BASE: Duration = Duration::from_millis(500);
/// A failed run is tried again after 30 s, doubling, and never later than the pull's interval.
const FAILED_RUN_BASE: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("no pull is declared for source {0:?}")]
    Unknown(String),
    #[error("the database")]
    Database(#[from] sqlx::Error),
}

/// What a run did.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub source: String,
    pub run_id: i64,
    pub status: RunStatus,
    pub pages: u32,
    pub records_read: usize,
    pub staged: usize,
    pub unchanged: usize,
    pub rejected: usize,
    pub page_retries: u32,
    pub watermark: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub enum RunOutcome {
    /// Not due, nor asked for.
    NotDue,
    /// Another process holds it until then.
    Busy {
        owner: String,
        until: chrono::DateTime<chrono::Utc>,
    },
    Ran(RunReport),
}

/// Runs pulls for one process (its `owner` name goes in the leases).
#[derive(Clone)]
pub struct Puller {
    pool: PgPool,
    mappings: Arc<MappingSet>,
    describes: Describes,
    config: Arc<PullConfig>,
    owner: String,
    http: reqwest::Client,
}

impl Puller {
    pub fn new(
        pool: PgPool,
        mappings: Arc<MappingSet>,
        describes: Describes,
        config: PullConfig,
        owner: String,
    ) -> Self {
        Self {
            pool,
            mappings,
            describes,
            config: Arc::new(config),
            owner,
            http: reqwest::Client::new(),
        }
    }

    pub fn config(&self) -> &PullConfig {
        &self.config
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Registers the declared pulls (a new one is due at once).
    pub async fn register(&self) -> Result<(), sqlx::Error> {
        let sources: Vec<String> = self
            .config
            .sources
            .iter()
            .map(|p| p.source.clone())
            .collect();
        store::register(&self.pool, &sources).await
    }

    /// Runs the pull of `source` if it is due (or `force`d) and no other process holds it.
    pub async fn run(
        &self,
        source: &str,
        force: bool,
        shutdown: &CancellationToken,
    ) -> Result<RunOutcome, PullError> {
        let pull = self
            .config
            .get(source)
            .ok_or_else(|| PullError::Unknown(source.to_owned()))?;
        let lease = self.config.lease;
        let Some(claimed) = store::claim(&self.pool, source, &self.owner, lease, force).await?
        else {
            return Ok(match store::holder(&self.pool, source).await? {
                Some((owner, until)) => RunOutcome::Busy { owner, until },
                None => RunOutcome::NotDue,
            });
        };
        let resume = claimed.resume.clone().unwrap_or_else(|| Resume {
            next: Position::First,
            watermark_from: claimed
                .watermark
                .clone()
                .or_else(|| pull.watermark.as_ref().and_then(|w| w.initial.clone())),
            max_seen: claimed.watermark.clone(),
        });
        tracing::info!(
            source,
            run_id = claimed.run_id,
            resumed = claimed.resume.is_some(),
            watermark = resume.watermark_from.as_deref().unwrap_or(""),
            "pull started"
        );
        let mut report = RunReport {
            source: source.to_owned(),
            run_id: claimed.run_id,
            status: RunStatus::Running,
            pages: 0,
            records_read: 0,
            staged: 0,
            unchanged: 0,
            rejected: 0,
            page_retries: 0,
            watermark: resume.max_seen.clone(),
            error: None,
        };
        let end = self.pages(pull, resume, &mut report, shutdown).await?;
        let (status, label) = match end {
            End::Done => (RunStatus::Succeeded, "succeeded"),
            End::Failed => (RunStatus::Failed, "failed"),
            End::Interrupted => (RunStatus::Interrupted, "interrupted"),
        };
        let ending = match end {
            End::Done => Ending::Succeeded {
                watermark: report.watermark.as_deref(),
            },
            End::Failed => Ending::Failed {
                error: report.error.as_deref().unwrap_or("failed"),
                retry_in: retry_in(claimed.failures, pull.every),
            },
            End::Interrupted => Ending::Interrupted,
        };
        store::finish(
            &self.pool,
            source,
            &self.owner,
            claimed.run_id,
            pull.every,
            report.page_retries as i32,
            ending,
        )
        .await?;
        report.status = status;
        metrics::pull_run(source, label);
        tracing::info!(
            source,
            run_id = report.run_id,
            status = label,
            pages = report.pages,
            records_read = report.records_read,
            staged = report.staged,
            rejected = report.rejected,
            page_retries = report.page_retries,
            error = report.error.as_deref().unwrap_or(""),
            "pull finished"
        );
        Ok(RunOutcome::Ran(report))
    }

    /// Reads and stages pages until the last one, a failure, or shutdown.
    async fn pages(
        &self,
        pull: &PullSource,
        mut resume: Resume,
        report: &mut RunReport,
        shutdown: &CancellationToken,
    ) -> Result<End, PullError> {
        for _ in 0..pull.max_pages {
            if shutdown.is_cancelled() {
                return Ok(End::Interrupted);
            }
            let page = match self
                .page_with_retries(pull, &resume, report, shutdown)
                .await?
            {
                Ok(page) => page,
                Err(Stop::Interrupted) => return Ok(End::Interrupted),
                Err(Stop::Failed(error)) => {
                    report.error = Some(error);
                    return Ok(End::Failed);
                }
            };
            let seen = pull.watermark.as_ref().and_then(|w| {
                page.items
                    .iter()
                    .filter_map(|item| watermark::value_of(item, &w.field))
                    .reduce(|a, b| watermark::max(Some(a), Some(b)).unwrap_or_default())
            });
            resume.max_seen = watermark::max(resume.max_seen.take(), seen);
            let Page { items, next } = page;
            let mut tx = self.pool.begin().await?;
            let intake = stage_payloads(
                &mut tx,
                &self.mappings,
                &self.describes,
                &pull.source,
                None,
                &items,
            )
            .await?
            .unwrap_or_default();
            let counts = PageCounts {
                read: items.len() as i32,
                staged: intake.staged as i32,
                unchanged: intake.unchanged as i32,
                rejected: intake.rejected as i32,
            };
            let saved = Resume {
                next: next.clone().unwrap_or(Position::First),
                ..resume.clone()
            };
            let held = store::save_page(
                &mut tx,
                &pull.source,
                &self.owner,
                self.config.lease,
                report.run_id,
                &saved,
                counts,
            )
            .await?;
            if !held {
                tx.rollback().await?;
                report.error =
                    Some("the lease passed to another process; this page was not kept".into());
                return Ok(End::Failed);
            }
            tx.commit().await?;
            metrics::pull_page(&pull.source);
            report.pages += 1;
            report.records_read += items.len();
            report.staged += intake.staged;
            report.unchanged += intake.unchanged;
            report.rejected += intake.rejected;
            report.watermark = resume.max_seen.clone();
            match next {
                Some(next) => resume.next = next,
                None => return Ok(End::Done),
            }
        }
        report.error = Some(format!(
            "stopped after max_pages = {} pages; the next run goes on from there",
            pull.max_pages
        ));
        Ok(End::Failed)
    }

    /// One page, retried with backoff while its failure is transient; the lease is renewed
    /// before each wait so that a slow API does not hand the pull to another dyno.
    async fn page_with_retries(
        &self,
        pull: &PullSource,
        resume: &Resume,
        report: &mut RunReport,
        shutdown: &CancellationToken,
    ) -> Result<Result<Page, Stop>, PullError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let fetched = tokio::select! {
                () = shutdown.cancelled() => return Ok(Err(Stop::Interrupted)),
                fetched = fetch::page(&self.http, pull, &resume.next, resume.watermark_from.as_deref()) => fetched,
            };
            let error = match fetched {
                Ok(page) => return Ok(Ok(page)),
                Err(FetchError::Fatal(e)) => return Ok(Err(Stop::Failed(e))),
                Err(FetchError::Transient(e)) if attempt >= PAGE_ATTEMPTS => {
                    return Ok(Err(Stop::Failed(format!("{e} (after {attempt} tries)"))));
                }
                Err(FetchError::Transient(e)) => e,
            };
            let wait = backoff(attempt);
            tracing::warn!(source = %pull.source, attempt, wait_ms = wait.as_millis() as u64, error, "pull page failed; retrying");
            report.page_retries += 1;
            metrics::pull_retry(&pull.source);
            if !store::extend_lease(&self.pool, &pull.source, &self.owner, self.config.lease)
                .await?
            {
                return Ok(Err(Stop::Failed(
                    "the lease passed to another process".into(),
                )));
            }
            tokio::select! {
                () = shutdown.cancelled() => return Ok(Err(Stop::Interrupted)),
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}

enum Stop {
    Interrupted,
    Failed(String),
}

/// How the pages of a run ended (the error, if any, is on the report).
enum End {
    Done,
    Failed,
    Interrupted,
}

/// Before retry `attempt` of a page: 0.5 s, 1 s, 2 s… each drawn from its upper half, so that
/// pulls that failed together do not retry together.
fn backoff(attempt: u32) -> Duration {
    let ceiling = RETRY_BASE.saturating_mul(1 << attempt.clamp(1, 10).saturating_sub(1));
    ceiling.mul_f64(rand::rng().random_range(0.5..=1.0))
}

/// When a failed run is tried again: 30 s, 1 min, 2 min… never past the pull's interval.
fn retry_in(failures_before: i32, every: Duration) -> Duration {
    let doublings = failures_before.clamp(0, 16) as u32;
    FAILED_RUN_BASE.saturating_mul(1 << doublings).min(every)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_and_failed_runs_never_past_the_interval() {
        for (attempt, ceiling_ms) in [(1, 500), (2, 1000), (3, 2000)] {
            let d = backoff(attempt).as_millis() as u64;
            assert!(d >= ceiling_ms / 2 && d <= ceiling_ms, "{attempt}: {d}");
        }
        assert_eq!(
            retry_in(0, Duration::from_secs(3600)),
            Duration::from_secs(30)
        );
        assert_eq!(
            retry_in(2, Duration::from_secs(3600)),
            Duration::from_secs(120)
        );
        assert_eq!(
            retry_in(9, Duration::from_secs(600)),
            Duration::from_secs(600)
        );
    }
}
