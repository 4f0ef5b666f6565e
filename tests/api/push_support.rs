//! Helpers of the push engine's tests: several schedulers with their own pools, and driving them
//! until the queue has settled.

use std::time::{Duration, Instant};

use sluice::push::Pusher;
use sluice::staging::{Claim, ObjectName, Operation};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{count_rows, drain};

/// A claim of up to 200 upserts of `object` for the owner "test", taken at once (no settle, no
/// unanswered hold), oldest first: tests change what they look at.
pub fn test_claim(object: &ObjectName) -> Claim<'_> {
    Claim {
        object,
        operation: Operation::Upsert,
        owner: "test",
        limit: 200,
        lease: Duration::from_secs(60),
        settle: Duration::ZERO,
        unanswered_hold: None,
        committed_after: None,
        fresh_first: false,
    }
}

/// A pool of its own, as another dyno would have.
pub async fn separate_pool(conn: &PgConnectOptions) -> PgPool {
    PgPoolOptions::new()
        .max_connections(4)
        .connect_with(conn.clone())
        .await
        .expect("a pool of its own")
}

/// Drives every pusher at once until no row is pending or in flight (retries in backoff
/// included), for at most `timeout`.
pub async fn settle(pushers: &[Pusher], pool: &PgPool, timeout: Duration) {
    let started = Instant::now();
    while started.elapsed() < timeout {
        let tasks: Vec<_> = pushers
            .iter()
            .cloned()
            .map(|p| tokio::spawn(async move { drain(&p).await }))
            .collect();
        for task in tasks {
            task.await.expect("pusher task");
        }
        if count_rows(pool, "sync_status IN ('pending', 'in_flight')").await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the queue did not settle within {timeout:?}");
}

/// Every external id sent to Salesforce exactly once.
pub fn assert_sent_once(sent: &[String], expected: usize) {
    let distinct: std::collections::HashSet<_> = sent.iter().collect();
    assert_eq!(distinct.len(), expected, "every record reached Salesforce");
    assert_eq!(sent.len(), expected, "no record was sent twice");
}
