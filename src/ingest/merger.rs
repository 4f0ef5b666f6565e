//! The task that merges the ingest inbox into `staging_records` as records come
//! (`staging::inbox`). Every process runs one; merges of several processes take turns. Records
//! left at shutdown are durable and merged by the next process to run.
//!
//! A burst is answered before it is merged: while records keep arriving, merging waits, for at
//! most [`BURST_MAX`] after the oldest record was accepted. A merge costs the database several
//! times what accepting the same records did (`staging_records` has its indexes and triggers), so
//! merging during a burst takes from the senders what it gives to nobody: the push holds a backlog
//! back until it has stopped arriving anyway (`push::planner`). A stream longer than that is
//! merged as it comes, sharing the database with the requests.

use std::time::Duration;

use metrics::describe_counter;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::staging::inbox::{self, Front};

/// How often the merger looks at the inbox when it is not merging.
const IDLE: Duration = Duration::from_millis(100);

/// The longest a record waits in the inbox for a burst to end before merging starts.
pub const BURST_MAX: Duration = Duration::from_secs(2);

pub fn describe() {
    describe_counter!(
        "sluice_inbox_merged_total",
        "Records merged from the ingest inbox into staging."
    );
}

/// What the merger does next.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// The inbox is empty.
    Idle,
    /// Records are still arriving (the newest changed since the last look), and the oldest has
    /// waited less than [`BURST_MAX`].
    Wait,
    Merge,
}

/// The step for the inbox's `front` now, given the newest record at the last look.
fn next_step(front: Option<Front>, newest_before: Option<i64>) -> Step {
    match front {
        None => Step::Idle,
        Some(front)
            if Some(front.newest) != newest_before
                && front.oldest_wait_secs < BURST_MAX.as_secs_f64() =>
        {
            Step::Wait
        }
        Some(_) => Step::Merge,
    }
}

/// Merges the inbox until `shutdown`; a failing merge is retried, backing off to 6.4 s.
pub async fn run(pool: PgPool, shutdown: CancellationToken) {
    let mut failures: u32 = 0;
    let mut newest_before = None;
    loop {
        let merged = match look_and_merge(&pool, &mut newest_before).await {
            Ok(taken) => {
                failures = 0;
                metrics::counter!("sluice_inbox_merged_total").increment(taken);
                taken > 0
            }
            Err(e) => {
                failures += 1;
                tracing::warn!(error = %e, failures, "inbox merge failed; retrying");
                false
            }
        };
        if merged {
            continue;
        }
        let pause = IDLE * 2u32.pow(failures.min(6));
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// Looks at the inbox and merges one transaction's worth if its [`Step`] says so. Returns how
/// many records it merged.
async fn look_and_merge(
    pool: &PgPool,
    newest_before: &mut Option<i64>,
) -> Result<u64, sqlx::Error> {
    let front = inbox::front(pool).await?;
    let step = next_step(front, *newest_before);
    *newest_before = front.map(|f| f.newest);
    match step {
        Step::Idle | Step::Wait => Ok(0),
        Step::Merge => inbox::merge(pool, inbox::MERGE_MAX_RECORDS).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn front(newest: i64, oldest_wait_secs: f64) -> Option<Front> {
        Some(Front {
            newest,
            oldest_wait_secs,
        })
    }

    #[test]
    fn an_empty_inbox_is_left_alone() {
        assert_eq!(next_step(None, Some(7)), Step::Idle);
        assert_eq!(next_step(None, None), Step::Idle);
    }

    #[test]
    fn records_still_arriving_wait_for_the_end_of_their_burst() {
        assert_eq!(next_step(front(12, 0.3), Some(7)), Step::Wait);
        assert_eq!(next_step(front(12, 0.0), None), Step::Wait);
    }

    #[test]
    fn an_inbox_that_stopped_growing_is_merged() {
        assert_eq!(next_step(front(12, 0.3), Some(12)), Step::Merge);
    }

    #[test]
    fn a_burst_longer_than_the_limit_is_merged_as_it_comes() {
        let limit = BURST_MAX.as_secs_f64();
        assert_eq!(next_step(front(12, limit), Some(7)), Step::Merge);
        assert_eq!(next_step(front(12, limit - 0.01), Some(7)), Step::Wait);
    }
}
