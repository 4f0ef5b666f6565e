//! One poller per read object in each process: it reads when a change event woke it (no sooner
//! than the object's `every`), or when the safety interval has passed, and only while it holds
//! the object's lease, so one dyno reads an object at a time.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::reader::Reader;
use super::store::{self, Trigger};
use super::wake::Wakers;
use crate::config::reads::ReadObject;

/// How the poller of one object is paced.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    pub safety: Duration,
    /// Calls the reads may spend today, all objects together; past it, events no longer wake
    /// reads (the safety poll goes on).
    pub daily_calls: u64,
}

/// Runs the object's reads until `shutdown`.
pub async fn run(
    reader: Reader,
    read: ReadObject,
    pace: Pace,
    wakers: Wakers,
    shutdown: CancellationToken,
) {
    let object = read.object.as_str().to_owned();
    // A change heard of and not yet read past.
    let mut pending: Option<DateTime<Utc>> = None;
    let mut next_safety = Instant::now();
    let mut retry_at: Option<Instant> = None;
    let mut over_budget_logged = false;
    loop {
        let deadline = retry_at.map_or(next_safety, |r| r.min(next_safety));
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep_until(deadline) => {}
            _ = wakers.notified(&object) => {}
        }
        if let Some(at) = wakers.take(&object) {
            pending = pending.max(Some(at));
        }
        let now = Instant::now();
        let trigger = match pending {
            Some(at) if retry_at.is_none_or(|r| r <= now) => {
                if within_budget(&reader, pace, &mut over_budget_logged).await {
                    Trigger::Change {
                        committed_at: at,
                        every: read.every,
                    }
                } else {
                    pending = None;
                    continue;
                }
            }
            _ if now >= next_safety => Trigger::Safety(pace.safety),
            _ => continue,
        };
        let leased = match store::try_lease(
            &reader.pool,
            &read.object,
            &reader.owner,
            reader.config.lease,
            trigger,
        )
        .await
        {
            Ok(leased) => leased,
            Err(e) => {
                tracing::warn!(object = %object, error = %e, "could not take the read's lease");
                retry_at = Some(now + read.every);
                continue;
            }
        };
        let Some(leased) = leased else {
            // Not due, already read past, or another dyno reads it now.
            match (trigger, pending) {
                (Trigger::Change { .. }, Some(at)) => {
                    if store::read_past(&reader.pool, &read.object, at)
                        .await
                        .unwrap_or(false)
                    {
                        pending = None;
                        retry_at = None;
                    } else {
                        retry_at = Some(now + read.every);
                    }
                }
                _ => next_safety = now + (pace.safety / 4).max(read.every),
            }
            continue;
        };
        let started = Instant::now();
        match reader.run(&read, leased).await {
            Ok(o) => {
                pending = None;
                retry_at = None;
                tracing::info!(
                    object = %object, trigger = trigger.name(), rows = o.rows, stored = o.stored,
                    deleted = o.deleted, unkeyed = o.unkeyed, calls = o.calls,
                    elapsed_ms = started.elapsed().as_millis() as u64, "read"
                );
            }
            Err(e) => {
                tracing::warn!(object = %object, trigger = trigger.name(), error = %e, "read failed");
                retry_at = Some(Instant::now() + read.every.max(Duration::from_secs(5)));
            }
        }
        next_safety = Instant::now() + pace.safety;
    }
}

async fn within_budget(reader: &Reader, pace: Pace, logged: &mut bool) -> bool {
    let spent = store::calls_today(&reader.pool).await.unwrap_or(0);
    let ok = u64::try_from(spent).unwrap_or(0) < pace.daily_calls;
    if !ok && !*logged {
        tracing::warn!(
            spent,
            share = pace.daily_calls,
            "the reads' daily share is spent: change events no longer wake reads today, the safety poll goes on"
        );
    }
    *logged = !ok;
    ok
}

impl Trigger {
    fn name(self) -> &'static str {
        match self {
            Trigger::Safety(_) => "safety",
            Trigger::Change { .. } => "change",
        }
    }
}
