//! Reading Salesforce's changes into `staging_records`: per declared object (`reads.toml`,
//! [`crate::config::reads`]), a first load by a Bulk API 2.0 query job, then incremental reads by
//! `SystemModstamp` from a persisted watermark less an overlap window, deletions included
//! (`queryAll`). Reads are woken by Change Data Capture events ([`listen`]) and otherwise run at
//! a safety interval that keeps them within their share of the daily budget ([`budget`]). One
//! dyno reads an object at a time (a lease row, [`store`]). What a read stores never goes back to
//! Salesforce (`origin = 'salesforce'`), and never overwrites a newer hub change
//! ([`crate::staging::store_read`]).

pub mod budget;
pub mod listen;
pub mod metrics;
pub mod poller;
pub mod reader;
pub mod routes;
pub mod rows;
pub mod store;
pub mod wake;

use tokio_util::sync::CancellationToken;

pub use reader::{ReadError, ReadOutcome, Reader};
pub use wake::Wakers;

use crate::salesforce::gate;

/// The org's daily allowance: as last observed by any dyno, else read from `/limits` (one call),
/// else the configured assumption.
async fn daily_allowance(reader: &Reader) -> u64 {
    if let Ok(usage) = gate::usage(&reader.pool).await
        && usage.max > 0
    {
        return usage.max as u64;
    }
    match reader.client.limits().await {
        Ok(limits) => limits
            .daily_api_requests()
            .map(|l| l.max.max(0) as u64)
            .filter(|m| *m > 0)
            .unwrap_or(reader.config.assumed_daily_allowance),
        Err(e) => {
            tracing::warn!(error = %e, "could not read the org's limits; assuming the smallest allowance");
            reader.config.assumed_daily_allowance
        }
    }
}

/// Runs every declared read until `shutdown`, then gives this process's leases back.
pub async fn run(reader: Reader, shutdown: CancellationToken) {
    let reads = reader.config.objects.clone();
    if reads.is_empty() {
        return;
    }
    let objects: Vec<_> = reads.iter().map(|r| r.object.clone()).collect();
    if let Err(e) = store::declare(&reader.pool, &objects).await {
        tracing::error!(error = %e, "could not declare the reads; none will run");
        return;
    }
    let allowance = daily_allowance(&reader).await;
    let percent = reader.config.budget_percent;
    let wakers = Wakers::new(objects.iter().map(|o| o.as_str()));
    let mut tasks = tokio::task::JoinSet::new();
    for read in reads.iter().cloned() {
        let pace = poller::Pace {
            safety: budget::safety_interval(allowance, percent, reads.len(), &read),
            daily_calls: budget::daily_calls(allowance, percent),
        };
        tracing::info!(
            object = %read.object, safety_interval_s = pace.safety.as_secs(), every_s = read.every.as_secs(),
            daily_allowance = allowance, budget_percent = percent,
            notifications = reader.config.notifications, "read scheduled"
        );
        tasks.spawn(poller::run(
            reader.clone(),
            read,
            pace,
            wakers.clone(),
            shutdown.clone(),
        ));
    }
    if reader.config.notifications {
        tasks.spawn(listen::run(
            reader.client.clone(),
            objects,
            wakers,
            shutdown.clone(),
        ));
    }
    while tasks.join_next().await.is_some() {}
    match store::release_all(&reader.pool, &reader.owner).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(released = n, "read leases given back"),
        Err(e) => tracing::warn!(error = %e, "could not give the read leases back"),
    }
}
