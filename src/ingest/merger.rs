//! The task that merges the ingest inbox into `staging_records` as records come
//! (`staging::inbox`). Every process runs one; merges of several processes take turns. Records
//! left at shutdown are durable and merged by the next process to run.

use std::time::Duration;

use metrics::describe_counter;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::staging::inbox;

/// How often the merger looks for records when it found none.
const IDLE: Duration = Duration::from_millis(100);

pub fn describe() {
    describe_counter!(
        "sluice_inbox_merged_total",
        "Records merged from the ingest inbox into staging."
    );
}

/// Merges the inbox until `shutdown`; a failing merge is retried, backing off to 6.4 s.
pub async fn run(pool: PgPool, shutdown: CancellationToken) {
    let mut failures: u32 = 0;
    loop {
        let merged = match inbox::merge_all(&pool, 1).await {
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
