//! The scheduler loop: wakes on `LISTEN sluice_pending` (the staging triggers' notification) or on
//! a periodic sweep, then drains due work. When a batch goes (the window, the maximum lag, a full
//! batch) is the planner's decision ([`super::plan`]); a gathering batch answers `Wait`.
//!
//! Notifications only make the push prompt; correctness never depends on them, so a connection
//! pooler in transaction mode (which breaks LISTEN) only costs latency: the sweep still runs.

use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;

use super::lane::BulkLane;
use super::{Outcome, Pusher};
use crate::salesforce::gate;
use crate::staging;

const CHANNEL: &str = "sluice_pending";
/// Pause after an unexpected error (database down) before trying again.
const ERROR_PAUSE: Duration = Duration::from_secs(2);

/// Runs until `shutdown` is cancelled. The batch being pushed when it is cancelled is finished;
/// no new batch is claimed after.
pub async fn run(pusher: Pusher, shutdown: CancellationToken) {
    let cfg = pusher.config().clone();
    let mut listener = listen(&pusher).await;
    tracing::info!(
        owner = pusher.owner(),
        notifications = listener.is_some(),
        "push scheduler started"
    );
    let mut sweeps: u64 = 0;
    let mut lane = BulkLane::spawned();
    loop {
        drain(&pusher, &mut lane, &shutdown).await;
        if shutdown.is_cancelled() {
            break;
        }
        sweeps += 1;
        if listener.is_none() && sweeps.is_multiple_of(30) {
            listener = listen(&pusher).await;
        }
        if sweeps.is_multiple_of(500) {
            prune(&pusher).await;
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(cfg.sweep_interval) => {}
            _ = recv(&mut listener) => {}
            () = lane.finished() => {}
        }
    }
    // A Bulk job still running is followed to its end within the grace period; past it the task
    // is aborted and the job resumed later by its id.
    lane.wait().await;
    tracing::info!(owner = pusher.owner(), "push scheduler stopped");
}

/// Pushes until nothing is due, the gate says wait, or shutdown.
async fn drain(pusher: &Pusher, lane: &mut BulkLane, shutdown: &CancellationToken) {
    while !shutdown.is_cancelled() {
        match pusher.push_next(lane).await {
            Ok(Outcome::Idle) => return,
            Ok(Outcome::Pushed { .. } | Outcome::BulkStarted { .. }) => {}
            Ok(Outcome::Wait(wait)) => {
                tracing::debug!(
                    wait_ms = wait.as_millis() as u64,
                    "waiting: call gate or gathering batch"
                );
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(wait) => {}
                    // The lane freed: the rest of a backlog may go now.
                    () = lane.finished() => {}
                }
            }
            Err(e) => {
                tracing::error!(error = %e, cause = ?std::error::Error::source(&e), "push failed");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(ERROR_PAUSE) => {}
                }
                // The batch may have been claimed, or pushed, without its outcome written (the
                // database went away mid-way): give it back now rather than after the lease. This
                // scheduler pushes one batch at a time, so nothing else of its owner is in flight;
                // a repeat is an upsert by external id, harmless. Not while a Bulk job runs in
                // the lane: its rows are its own until it ends (or their lease does).
                if lane.busy_since().is_some() {
                    continue;
                }
                match pusher.release_all().await {
                    Ok(0) => {}
                    Ok(released) => tracing::warn!(released, "gave back a batch cut short"),
                    Err(e) => {
                        tracing::warn!(error = %e, "giving back a batch failed; its lease will expire")
                    }
                }
            }
        }
    }
}

/// Bookkeeping that only grows: the call log and the commit stamps.
async fn prune(pusher: &Pusher) {
    if let Err(e) = gate::prune(pusher.pool()).await {
        tracing::warn!(error = %e, "pruning call counters failed");
    }
    if let Err(e) = staging::prune_commits(pusher.pool()).await {
        tracing::warn!(error = %e, "pruning commit stamps failed");
    }
}

async fn listen(pusher: &Pusher) -> Option<PgListener> {
    let attempt = async {
        let mut listener = PgListener::connect_with(pusher.pool()).await?;
        listener.listen(CHANNEL).await?;
        Ok::<_, sqlx::Error>(listener)
    };
    match attempt.await {
        Ok(listener) => Some(listener),
        Err(e) => {
            tracing::warn!(error = %e, "LISTEN unavailable; falling back to polling");
            None
        }
    }
}

/// Waits for a notification; without a listener (or after it broke) waits forever, leaving the
/// sweep timer in charge.
async fn recv(listener: &mut Option<PgListener>) -> bool {
    let Some(l) = listener.as_mut() else {
        return std::future::pending().await;
    };
    match l.recv().await {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(error = %e, "LISTEN connection lost; polling until it is back");
            *listener = None;
            false
        }
    }
}
