//! Fresh changes are not stuck behind a backlog (issue 12, item 7): while a Bulk job runs in the
//! scheduler's lane, changes committed after it claimed its rows go by Collections.

use std::time::Duration;

use sluice::push::{BulkLane, Outcome};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::helpers::{TestHub, config, contacts, count_rows, eventually, pusher_for};
use crate::push_support::assert_sent_once;

#[sqlx::test]
async fn fresh_changes_go_by_collections_while_a_bulk_job_runs(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    for batch in 0..15 {
        let backlog = contacts(&format!("B{batch}"), 200);
        assert_eq!(hub.post_records("Contact", &backlog).await.status(), 202);
    }
    let settings = config(
        &hub.sim.url,
        &[
            ("PUSH_BULK_THRESHOLD", "2000"),
            ("PUSH_BATCH_WINDOW_MS", "100"),
        ],
    );
    let pusher = pusher_for(&hub.pool, &settings, "test");
    // Merged and quiet for the window: the whole backlog goes as one job.
    crate::helpers::settle(&hub.pool).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(sluice::push::run(pusher, shutdown.clone()));
    let pool = hub.pool.clone();
    eventually(Duration::from_secs(10), || {
        let pool = pool.clone();
        async move { count_rows(&pool, "bulk_job_id IS NOT NULL").await == 3000 }
    })
    .await;

    // The job is polled at least twice (1 s, then 2 s) before its results: fresh records posted
    // now must not wait for it.
    hub.post_records("Contact", &contacts("F", 10)).await;
    eventually(Duration::from_secs(3), || {
        let pool = pool.clone();
        async move {
            count_rows(&pool, "external_id LIKE 'F-%' AND sync_status = 'synced'").await == 10
        }
    })
    .await;
    assert_eq!(
        count_rows(&hub.pool, "bulk_job_id IS NOT NULL").await,
        3000,
        "the fresh records went while the job still ran"
    );

    eventually(Duration::from_secs(30), || {
        let pool = pool.clone();
        async move { count_rows(&pool, "sync_status = 'synced'").await == 3010 }
    })
    .await;
    shutdown.cancel();
    running.await.unwrap();
    assert_eq!(hub.sim.sim.records("Contact").len(), 3010);
    assert_sent_once(&hub.sim.sim.upserted_external_ids("Contact"), 10);
    let stats = hub.sim.sim.stats();
    assert_eq!(
        stats.by_kind.get("collections_upsert"),
        Some(&1),
        "{stats:?}"
    );
    assert_eq!(stats.by_kind.get("bulk_create_job"), Some(&1), "{stats:?}");
}

/// While a Bulk job runs, a Collections call takes the changes of small transactions first, even
/// those committed before the job claimed its rows (a record posted just before and not taken by
/// the job), then the newest; a large transaction committed before the job waits for the next one.
#[sqlx::test]
async fn while_a_job_runs_small_transactions_go_before_an_import(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    // An import in requests of 100 rows is not small: it waits for the next job.
    for (prefix, n) in [("S", 5), ("L", 100)] {
        let body = contacts(prefix, n);
        assert_eq!(hub.post_records("Contact", &body).await.status(), 202);
        crate::helpers::settle(&hub.pool).await;
    }
    let job_claimed_at = chrono::Utc::now();
    let after = contacts("N", 300);
    assert_eq!(hub.post_records("Contact", &after).await.status(), 202);
    crate::helpers::settle(&hub.pool).await;
    let sizes: Vec<i32> =
        sqlx::query_scalar("SELECT changes FROM staging_commits ORDER BY changes")
            .fetch_all(&hub.pool)
            .await
            .unwrap();
    assert_eq!(
        sizes,
        [5, 100, 300],
        "each transaction counts the rows it changed"
    );

    let contact = sluice::staging::ObjectName::parse("Contact").unwrap();
    let claim = sluice::staging::Claim {
        committed_after: Some(job_claimed_at),
        fresh_first: true,
        ..crate::push_support::test_claim(&contact)
    };
    let claimed = sluice::staging::claim(&hub.pool, claim).await.unwrap();
    let from = |prefix: &str| {
        claimed
            .iter()
            .filter(|r| r.external_id.as_str().starts_with(prefix))
            .count()
    };
    assert_eq!(claimed.len(), 200);
    assert_eq!(from("S-"), 5, "the small transaction's rows go first");
    assert_eq!(from("N-"), 195, "then the changes since the job's claim");
    assert_eq!(
        from("L-"),
        0,
        "the import before the job waits for the next job"
    );
}

/// The step only starts a job: the job claims its rows in the lane's task, and the lane is busy
/// from the start, so the next step, taken at once, plans no part of the backlog for anything else.
#[sqlx::test]
async fn a_job_claims_its_backlog_in_the_lane_and_the_next_step_leaves_it_alone(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    for batch in 0..15 {
        let backlog = contacts(&format!("B{batch}"), 200);
        assert_eq!(hub.post_records("Contact", &backlog).await.status(), 202);
    }
    let settings = config(
        &hub.sim.url,
        &[
            ("PUSH_BULK_THRESHOLD", "2000"),
            ("PUSH_BATCH_WINDOW_MS", "100"),
        ],
    );
    let pusher = pusher_for(&hub.pool, &settings, "test");
    crate::helpers::settle(&hub.pool).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut lane = BulkLane::spawned();
    let started = pusher.push_next(&mut lane).await.unwrap();
    assert!(
        matches!(started, Outcome::BulkStarted { .. }),
        "{started:?}"
    );
    let next = pusher.push_next(&mut lane).await.unwrap();
    assert_eq!(
        next,
        Outcome::Idle,
        "the backlog is the job's, claimed or not yet"
    );

    tokio::time::timeout(Duration::from_secs(30), lane.finished())
        .await
        .expect("the job ends");
    assert_eq!(count_rows(&hub.pool, "sync_status = 'synced'").await, 3000);
    assert_eq!(hub.sim.sim.records("Contact").len(), 3000);
    assert!(
        hub.sim.sim.upserted_external_ids("Contact").is_empty(),
        "no record went by Collections"
    );
    let stats = hub.sim.sim.stats();
    assert_eq!(stats.by_kind.get("collections_upsert"), None, "{stats:?}");
    assert_eq!(stats.by_kind.get("bulk_create_job"), Some(&1), "{stats:?}");
}
