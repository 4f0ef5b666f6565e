//! The pull scheduler: every tick, runs each declared pull that is due or asked for (one at a
//! time, in this process), and once an hour forgets old webhook events and runs. Stops on the
//! shutdown token; a run cut short keeps its position for the next one.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::{PullError, Puller, RunOutcome, store};
use crate::sources::webhooks::events;

const PRUNE_EVERY: Duration = Duration::from_secs(3600);

pub async fn run(puller: Puller, shutdown: CancellationToken) {
    let tick = puller.config().tick;
    if let Err(e) = puller.register().await {
        tracing::error!(error = %e, "could not register the pulls; retrying each tick");
    }
    tracing::info!(
        owner = puller.owner(),
        pulls = puller.config().sources.len(),
        "pull scheduler started"
    );
    let mut pruned: Option<Instant> = None;
    let mut registered = true;
    while !shutdown.is_cancelled() {
        if !registered {
            registered = puller.register().await.is_ok();
        }
        let sources: Vec<String> = puller
            .config()
            .sources
            .iter()
            .map(|p| p.source.clone())
            .collect();
        for source in sources {
            if shutdown.is_cancelled() {
                break;
            }
            match puller.run(&source, false, &shutdown).await {
                Ok(RunOutcome::NotDue | RunOutcome::Busy { .. } | RunOutcome::Ran(_)) => {}
                Err(PullError::Database(e)) => {
                    tracing::error!(source, error = %e, "pull: database error");
                }
                Err(e @ PullError::Unknown(_)) => tracing::error!(source, error = %e, "pull"),
            }
        }
        if pruned.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
            pruned = Some(Instant::now());
            match (
                events::prune(puller.pool()).await,
                store::prune_runs(puller.pool()).await,
            ) {
                (Ok(events), Ok(runs)) if events + runs > 0 => {
                    tracing::info!(events, runs, "forgot old webhook events and pull runs");
                }
                (Ok(_), Ok(_)) => {}
                (Err(e), _) | (_, Err(e)) => {
                    tracing::warn!(error = %e, "pruning sources' history failed")
                }
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(tick) => {}
        }
    }
    tracing::info!(owner = puller.owner(), "pull scheduler stopped");
}
