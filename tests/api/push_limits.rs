//! The call caps and the daily budget hold for several schedulers on one database.

use std::time::Duration;

use sluice::push::Outcome;
use sluice::sim::FaultConfig;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{TestHub, config, contacts, count_rows, pusher_for};
use crate::push_support::{assert_sent_once, separate_pool, settle};

#[sqlx::test]
async fn three_schedulers_together_stay_under_the_concurrency_and_per_second_caps(
    _opts: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let hub = TestHub::start_api_only(separate_pool(&conn).await).await;
    for batch in 0..10 {
        let response = hub
            .post_records("Contact", &contacts(&format!("B{batch}"), 200))
            .await;
        assert_eq!(response.status(), 202);
    }
    // Only the schedulers' calls count (ingest reads describes).
    hub.sim.sim.reset();
    hub.sim.sim.set_faults(FaultConfig {
        latency_ms: 200,
        ..FaultConfig::default()
    });
    let capped = config(
        &hub.sim.url,
        &[
            ("SALESFORCE_MAX_CONCURRENT_CALLS", "2"),
            ("SALESFORCE_MAX_CALLS_PER_SECOND", "4"),
            ("PUSH_BATCH_WINDOW_MS", "0"),
            ("PUSH_BULK_THRESHOLD", "100000"),
        ],
    );
    let mut pushers = Vec::new();
    for dyno in ["web.1", "web.2", "web.3"] {
        pushers.push(pusher_for(&separate_pool(&conn).await, &capped, dyno));
    }
    settle(&pushers, &hub.pool, Duration::from_secs(30)).await;

    assert_eq!(count_rows(&hub.pool, "sync_status = 'synced'").await, 2000);
    assert_sent_once(&hub.sim.sim.upserted_external_ids("Contact"), 2000);
    let stats = hub.sim.sim.stats();
    assert_eq!(
        stats.by_kind.get("collections_upsert"),
        Some(&10),
        "{stats:?}"
    );
    assert!(hub.sim.sim.max_concurrent_calls_seen() <= 2, "{stats:?}");
    assert!(hub.sim.sim.max_calls_in_any_second() <= 4, "{stats:?}");
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM salesforce_call_permits")
            .fetch_one(&hub.pool)
            .await
            .unwrap(),
        0,
        "every concurrency slot was given back"
    );
}

#[sqlx::test]
async fn the_daily_budget_stops_the_push_where_it_ends(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    hub.post_records("Contact", &contacts("C", 1000)).await;
    let pusher = pusher_for(
        &hub.pool,
        &config(
            &hub.sim.url,
            &[
                ("SALESFORCE_DAILY_BUDGET_PERCENT", "80"),
                ("PUSH_LIMIT_PAUSE_SECS", "60"),
                ("PUSH_BATCH_WINDOW_MS", "0"),
            ],
        ),
        "test",
    );
    // 8,000 of 10,000 is the budget; /limits itself is a call: 7,997 used after it.
    hub.sim.sim.set_api_usage(7_996, 10_000);
    pusher.refresh_usage().await.unwrap();

    let mut pushed = 0;
    for _ in 0..30 {
        match pusher.push_next_batch().await.unwrap() {
            Outcome::Pushed { synced, .. } => pushed += synced,
            Outcome::Wait(wait) if wait > Duration::from_secs(10) => break,
            Outcome::Wait(wait) => tokio::time::sleep(wait).await,
            Outcome::Idle => panic!("work is left"),
        }
    }
    assert_eq!(pushed, 600, "three calls of 200 fit in the budget");
    assert_eq!(hub.sim.sim.api_usage().0, 8_000);
    assert_eq!(count_rows(&hub.pool, "sync_status = 'pending'").await, 400);
}
