//! The call caps and the daily budget hold for several schedulers on one database.

use std::time::Duration;

use sluice::push::Outcome;
use sluice::sim::FaultConfig;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio_util::sync::CancellationToken;

use crate::helpers::{TestHub, config, contacts, count_rows, pusher_for};
use crate::push_support::{assert_sent_once, separate_pool, settle};
use crate::status_page::admin_page;

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
            Outcome::Idle | Outcome::BulkStarted { .. } => panic!("work is left, by Collections"),
        }
    }
    assert_eq!(pushed, 600, "three calls of 200 fit in the budget");
    assert_eq!(hub.sim.sim.api_usage().0, 8_000);
    assert_eq!(count_rows(&hub.pool, "sync_status = 'pending'").await, 400);

    // A hard stop: the scheduler running (with its start-up /limits read) sends nothing at all,
    // and says why and until when.
    let requests = hub.sim.sim.requests_received();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(sluice::push::run(pusher.clone(), shutdown.clone()));
    pusher.refresh_usage().await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    shutdown.cancel();
    running.await.unwrap();
    assert_eq!(
        hub.sim.sim.requests_received(),
        requests,
        "no request once the budget is spent"
    );
    assert_eq!(count_rows(&hub.pool, "sync_status = 'pending'").await, 400);
    let metrics = hub.get("/metrics").await.text().await.unwrap();
    for (reason, on) in [("budget", 1), ("outage", 0), ("limit", 0)] {
        let line = format!("sluice_push_paused{{reason=\"{reason}\"}} {on}\n");
        assert!(metrics.contains(&line), "{line} missing in:\n{metrics}");
    }
    let status = sluice::ops::status_text(&hub.pool, 5).await.unwrap();
    assert!(
        status.contains("push paused (budget): the daily API budget is spent, until "),
        "{status}"
    );
    let page = admin_page(&hub).await;
    assert!(
        page.contains("data-reason=\"budget\">The push is paused until "),
        "the status page says why the push is paused"
    );
}

/// `sluice serve` in this process against `sim_url`, with a pool of its own (another dyno).
async fn serve_dyno(
    conn: &PgConnectOptions,
    sim_url: &str,
    overrides: &[(&str, &str)],
    shutdown: &tokio_util::sync::CancellationToken,
) -> tokio::task::JoinHandle<anyhow::Result<()>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    tokio::spawn(sluice::serve::run(
        config(sim_url, overrides),
        separate_pool(conn).await,
        listener,
        shutdown.clone(),
    ))
}

#[sqlx::test]
async fn three_hubs_starting_together_never_exceed_the_per_second_cap(
    _opts: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let pool = separate_pool(&conn).await;
    sqlx::query(
        "INSERT INTO staging_records (object, external_id, fields) \
         SELECT 'Contact', 'K-' || i, jsonb_build_object('External_Id__c', 'K-' || i, 'LastName', 'N' || i) \
         FROM generate_series(1, 1200) AS i",
    )
    .execute(&pool)
    .await
    .unwrap();
    let sim = crate::helpers::spawn_sim().await;
    // The org refuses what goes over 3 a second: a call refused would show as one too many.
    sim.sim.set_max_calls_per_second(Some(3));
    let capped = [
        ("SALESFORCE_MAX_CALLS_PER_SECOND", "3"),
        ("SALESFORCE_MAX_CONCURRENT_CALLS", "2"),
        ("PUSH_BATCH_WINDOW_MS", "0"),
        ("PUSH_BULK_THRESHOLD", "100000"),
    ];
    let shutdown = tokio_util::sync::CancellationToken::new();
    let mut hubs = Vec::new();
    for _ in 0..3 {
        hubs.push(serve_dyno(&conn, &sim.url, &capped, &shutdown).await);
    }
    let watched = pool.clone();
    crate::helpers::eventually(Duration::from_secs(40), || {
        let pool = watched.clone();
        async move { count_rows(&pool, "sync_status = 'synced'").await == 1200 }
    })
    .await;
    shutdown.cancel();
    for hub in hubs {
        hub.await.unwrap().unwrap();
    }

    let stats = sim.sim.stats();
    // Start-up's describes and `/limits` of three hubs, then the collection calls.
    assert!(stats.by_kind.contains_key("describe"), "{stats:?}");
    // Six full calls, or seven when two hubs' claims met on the same rows (SKIP LOCKED leaves
    // one short); never a record twice.
    let upserts = stats.by_kind.get("collections_upsert").copied();
    assert!(matches!(upserts, Some(6 | 7)), "{stats:?}");
    assert_sent_once(&sim.sim.upserted_external_ids("Contact"), 1200);
    assert_eq!(sim.sim.calls_refused_per_second(), 0, "{stats:?}");
    assert!(sim.sim.max_calls_in_any_second() <= 3, "{stats:?}");
    assert!(sim.sim.max_concurrent_calls_seen() <= 2, "{stats:?}");
}
