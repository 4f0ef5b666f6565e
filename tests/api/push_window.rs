//! The batch window counts from the moment a change is committed (issue 12, item 3): a slow
//! transaction's rows do not look quiet the moment they commit.

use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::helpers::{TestHub, config, contacts, count_rows, drain, eventually, pusher_for};

#[sqlx::test]
async fn the_window_counts_from_the_commit_not_from_the_transactions_start(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    hub.post_records("Contact", &contacts("W", 100)).await;
    let window = Duration::from_millis(1000);
    let settings = config(
        &hub.sim.url,
        &[
            ("PUSH_BATCH_WINDOW_MS", "1000"),
            ("PUSH_MAX_LAG_MS", "10000"),
        ],
    );
    let pusher = pusher_for(&hub.pool, &settings, "test");
    drain(&pusher).await;
    let upserts = || {
        hub.sim
            .sim
            .stats()
            .by_kind
            .get("collections_upsert")
            .copied()
            .unwrap_or(0)
    };
    let before = upserts();

    // A transaction that changes the records and stays open twice the window (a big ingest, an
    // app's long SQL transaction), with the scheduler already running.
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(sluice::push::run(pusher.clone(), shutdown.clone()));
    let mut slow = hub.pool.begin().await.unwrap();
    sqlx::query("UPDATE staging_records SET fields = fields || '{\"LastName\": \"First\"}'")
        .execute(&mut *slow)
        .await
        .unwrap();
    tokio::time::sleep(window * 2).await;
    slow.commit().await.unwrap();
    // The next update of the same records, well inside the window after that commit.
    tokio::time::sleep(window / 4).await;
    sqlx::query("UPDATE staging_records SET fields = fields || '{\"LastName\": \"Second\"}'")
        .execute(&hub.pool)
        .await
        .unwrap();

    let pool = hub.pool.clone();
    eventually(Duration::from_secs(15), || {
        let pool = pool.clone();
        async move { count_rows(&pool, "sync_status = 'synced'").await == 100 }
    })
    .await;
    shutdown.cancel();
    running.await.unwrap();
    assert_eq!(
        upserts() - before,
        1,
        "both updates went in one call: the window ran from the first one's commit"
    );
    let names: Vec<_> = hub
        .sim
        .sim
        .records("Contact")
        .iter()
        .map(|r| r["LastName"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(names.len(), 100);
    assert!(names.iter().all(|n| n == "Second"), "{names:?}");
}

#[sqlx::test]
async fn a_transaction_that_rolls_back_leaves_no_commit_stamp(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    hub.post_records("Contact", &contacts("R", 3)).await;
    let stamps = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM staging_commits WHERE committed_at IS NOT NULL",
        )
        .fetch_one(&hub.pool)
        .await
        .unwrap()
    };
    assert_eq!(
        stamps().await,
        1,
        "the ingest's transaction is stamped once"
    );
    let mut tx = hub.pool.begin().await.unwrap();
    sqlx::query("UPDATE staging_records SET fields = fields || '{\"LastName\": \"Gone\"}'")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(stamps().await, 1);
    let unstamped: i64 = sqlx::query_scalar("SELECT count(*) FROM staging_commits")
        .fetch_one(&hub.pool)
        .await
        .unwrap();
    assert_eq!(
        unstamped, 1,
        "nothing is left of the rolled-back transaction"
    );
}
